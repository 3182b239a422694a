package sandbox

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"

	"github.com/tharsis-cli/tharsis/internal/sandbox/graphqlws"
)

// maxGraphQLBody is the real API's default request body limit.
const maxGraphQLBody = 64 << 20

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	ws := graphqlws.NewHandler(countingSubscriber{s}, s.wsAuth, graphqlws.Options{
		DropAfterBytes: func() int64 { return s.Knobs().DropWebsocketAfterBytes },
		Logger:         s.log,
	})
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		if graphqlws.IsUpgrade(r) {
			s.count("websocket")
			// Hijacked connections are invisible to http.Server.Shutdown:
			// track them so Close waits until they have ended.
			if !s.enter() {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "sandbox is shutting down"})
				return
			}
			defer s.wg.Done()
			ws.ServeHTTP(w, r)
			return
		}
		s.serveGraphQL(w, r)
	})
	// {rest...} so an id with slashes (a TRN) still reaches the handler and
	// gets the real API's 400.
	mux.HandleFunc("PUT /tfe/v2/workspaces/{ws}/configuration-versions/{rest...}", s.serveUpload)
	mux.HandleFunc("PUT /v1/module-registry/versions/{id}/upload", s.serveModuleUpload)
	mux.HandleFunc("GET /.well-known/terraform.json", s.serveDiscovery)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer": s.url, "jwks_uri": s.url + "/oauth/discovery/keys",
			"authorization_endpoint": s.url + "/oauth/authorize", "token_endpoint": s.url + "/oauth/token",
			"response_types_supported": []string{"code"}, "grant_types_supported": []string{"authorization_code"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /oauth/discovery/keys", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.signer.jwks())
	})
	s.identityRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "not found"})
	})
	faulty := s.faults(mux)

	top := http.NewServeMux()
	top.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	top.Handle("/_sandbox/", s.adminOnly(s.adminRoutes()))
	top.Handle("/", faulty)
	return top
}

// faults applies the latency and HTTP failure knobs and sets the rate-limit
// headers the real API sends.
func (s *Server) faults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := s.Knobs().Latency; d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		w.Header().Set("X-Ratelimit-Limit", "60")
		w.Header().Set("X-Ratelimit-Remaining", "59")
		w.Header().Set("X-Ratelimit-Reset", "1")
		if st := s.nextHTTPFailure(); st != 0 {
			s.count("http_failure")
			msg := fmt.Sprintf("simulated failure with status %d (HTTPFailures knob)", st)
			if st == http.StatusTooManyRequests {
				msg = "request rate limit exceeded"
				w.Header().Set("Retry-After", "1")
			}
			writeJSON(w, st, map[string]string{"detail": msg})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) count(name string) {
	s.reqMu.Lock()
	s.reqCounts[name]++
	s.reqMu.Unlock()
}

// RequestCount returns how many requests the sandbox served for a GraphQL
// operation name ("<anonymous>" for unnamed operations), or for "upload",
// "websocket" and "http_failure".
func (s *Server) RequestCount(name string) int {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return s.reqCounts[name]
}

func (s *Server) requestCounts() map[string]int {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	out := make(map[string]int, len(s.reqCounts))
	for k, v := range s.reqCounts {
		out[k] = v
	}
	return out
}

// countingSubscriber counts subscriptions by operation name.
type countingSubscriber struct{ s *Server }

func (c countingSubscriber) Subscribe(ctx context.Context, query, op string, vars map[string]interface{}) (<-chan interface{}, error) {
	c.s.count(requestName(gqlRequest{Query: query, OperationName: op}))
	return c.s.schema.Subscribe(ctx, query, op, vars)
}

var namedOpRE = regexp.MustCompile(`(?:^|[\s}])(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)`)

// requestName is the operation name of a request: the one given, else the
// name of a document's only named operation.
func requestName(q gqlRequest) string {
	if q.OperationName != "" {
		return q.OperationName
	}
	if m := namedOpRE.FindAllStringSubmatch(q.Query, 2); len(m) == 1 {
		return m[0][1]
	}
	return "<anonymous>"
}

// wsAuth authenticates a graphql-ws connection from the upgrade request's
// Authorization header, or else the connection_init payload.
func (s *Server) wsAuth(ctx context.Context, r *http.Request, init map[string]interface{}) (context.Context, error) {
	if h := bearer(r); h != "" {
		if c := s.withAuth(ctx, h); c.Value(callerKey) != nil {
			return c, nil
		}
	}
	var tok string
	for k, v := range init {
		if strings.EqualFold(k, "Authorization") {
			tok, _ = v.(string)
		}
	}
	if tok == "" {
		return nil, errors.New("missing authorization token in connection params")
	}
	c := s.withAuth(ctx, tok)
	if err, ok := c.Value(authErrKey).(error); ok {
		return nil, fmt.Errorf("unauthorized: %s", err.Error())
	}
	return c, nil
}

// ---------------------------------------------------------------- GraphQL over HTTP

type gqlRequest struct {
	Query         string                 `json:"query"`
	OperationName string                 `json:"operationName"`
	Variables     map[string]interface{} `json:"variables"`
}

// marshalResponse is json.Marshal(r) without encoding r.Data again: it is
// graphql-go's own compact JSON, which json.Marshal would compact and
// HTML-escape once more, about 35 ms per MiB (a Job.logs page is 1 MiB).
func marshalResponse(r *graphql.Response) ([]byte, error) {
	if len(r.Data) == 0 {
		return json.Marshal(r)
	}
	b := make([]byte, 0, len(r.Data)+256)
	b = append(b, '{')
	if len(r.Errors) > 0 {
		e, err := json.Marshal(r.Errors)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, `"errors":`...), e...), ',')
	}
	b = append(append(b, `"data":`...), r.Data...)
	if len(r.Extensions) > 0 {
		x, err := json.Marshal(r.Extensions)
		if err != nil {
			return nil, err
		}
		b = append(append(b, `,"extensions":`...), x...)
	}
	return append(b, '}'), nil
}

func errorJSON(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		errorJSON(w, http.StatusMethodNotAllowed, "only POST or GET requests are supported")
		return
	}
	reqs, batch, err := parseGraphQLRequest(w, r)
	if err != nil {
		errorJSON(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(reqs) == 0 {
		errorJSON(w, http.StatusBadRequest, "no queries to execute")
		return
	}
	ctx := s.withAuth(r.Context(), bearer(r))
	status := http.StatusOK
	responses := make([]*graphql.Response, len(reqs))
	for i, q := range reqs {
		s.count(requestName(q))
		res := s.schema.Exec(ctx, q.Query, q.OperationName, q.Variables)
		parsed := true
		for _, e := range res.Errors {
			c := classify(e)
			if errors.Is(e.Err, gqlerrors.ErrSyntax) {
				parsed = false
				e.Message = "invalid graphql query: " + strings.TrimPrefix(e.Message, "syntax error: ")
			}
			switch c {
			case codeInternal, codeTooLarge:
				s.log.Error("internal error", "err", e.Err)
				e.Message = "An internal error has occurred."
				c = codeInternal
			case codeUnauthorized:
				status = http.StatusUnauthorized
			}
			e.Extensions = map[string]any{"code": string(c)}
		}
		if parsed {
			res.Extensions = map[string]any{"cost": map[string]any{
				"throttled": false, "requestedQueryCost": strings.Count(q.Query, "{"), "maxQueryCost": 0, "remaining": 0,
			}}
		}
		responses[i] = res
	}
	var body []byte
	if batch {
		body = []byte{'['}
		for i, r := range responses {
			if i > 0 {
				body = append(body, ',')
			}
			var one []byte
			if one, err = marshalResponse(r); err != nil {
				break
			}
			body = append(body, one...)
		}
		body = append(body, ']')
	} else {
		body, err = marshalResponse(responses[0])
	}
	if err != nil {
		errorJSON(w, http.StatusInternalServerError, "server error")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// classify maps a GraphQL error to the real API's code: resolver errors by
// their class, query errors (syntax, validation, variables) as BAD_REQUEST.
func classify(e *gqlerrors.QueryError) code {
	var ae *apiError
	switch {
	case errors.As(e.Err, &ae):
		return ae.code
	case e.Rule != "" || errors.Is(e.Err, gqlerrors.ErrSyntax):
		return codeInvalid
	case e.Err == nil && e.ResolverError == nil:
		return codeInvalid
	}
	return codeInternal
}

func parseGraphQLRequest(w http.ResponseWriter, r *http.Request) ([]gqlRequest, bool, error) {
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		req := gqlRequest{Query: q.Get("query"), OperationName: q.Get("operationName")}
		if v := q.Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &req.Variables); err != nil {
				return nil, false, errors.New("unable to parse variables")
			}
		}
		if req.Query == "" {
			return nil, false, nil
		}
		return []gqlRequest{req}, false, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/graphql") {
			return nil, false, fmt.Errorf("invalid content type: %s", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxGraphQLBody))
	if err != nil {
		return nil, false, errors.New("unable to read request body")
	}
	body = []byte(strings.TrimSpace(string(body)))
	if len(body) == 0 {
		return nil, false, nil
	}
	switch body[0] {
	case '{':
		var req gqlRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, false, errors.New("unable to parse request body")
		}
		return []gqlRequest{req}, false, nil
	case '[':
		var reqs []gqlRequest
		if err := json.Unmarshal(body, &reqs); err != nil {
			return nil, false, errors.New("unable to parse request body")
		}
		return reqs, true, nil
	}
	return nil, false, errors.New("unable to parse request body")
}

// ---------------------------------------------------------------- REST

func restError(w http.ResponseWriter, err error) {
	writeJSON(w, restStatus(err), map[string]string{"detail": err.Error()})
}

// serveUpload stores a configuration version's tar.gz (contract §2.2).
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	s.count("upload")
	ctx := s.withAuth(r.Context(), bearer(r))
	c, err := authorize(ctx)
	if err != nil {
		restError(w, err)
		return
	}
	cvID, ok := strings.CutSuffix(r.PathValue("rest"), "/upload")
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "not found"})
		return
	}
	code, id, err := parseGID(cvID)
	if err != nil || code != gidConfigVersion {
		restError(w, errInvalid("the id must be a valid uuid"))
		return
	}
	s.mu.Lock()
	cv := s.st.ConfigVersions[id]
	if cv == nil || !s.visible(c, cv) {
		s.mu.Unlock()
		restError(w, errNotFound("configuration version with ID %s not found", cvID))
		return
	}
	if err := s.requirePerm(c, permCVUpdate, s.st.Workspaces[cv.WorkspaceID].FullPath); err != nil {
		s.mu.Unlock()
		restError(w, err)
		return
	}
	if cv.Status != "pending" {
		s.mu.Unlock()
		restError(w, errConflict("configuration version is already uploaded"))
		return
	}
	s.mu.Unlock()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxUploadBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			restError(w, newErr(codeTooLarge, "configuration version upload exceeds the maximum size of %d bytes", s.opts.MaxUploadBytes))
			return
		}
		restError(w, errInvalid("failed to read the request body: %v", err))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cv = s.st.ConfigVersions[id]; cv == nil {
		restError(w, errNotFound("configuration version with ID %s not found", cvID))
		return
	}
	if cv.Status != "pending" {
		restError(w, errConflict("configuration version is already uploaded"))
		return
	}
	cv.Data, cv.Status = body, "uploaded"
	touch(&cv.Meta, s.now())
	w.WriteHeader(http.StatusOK)
}

func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	tfe := s.url + "/tfe/v2/"
	writeJSON(w, http.StatusOK, map[string]any{
		"modules.v1":   s.url + "/v1/module-registry/modules/",
		"providers.v1": s.url + "/v1/provider-registry/providers/",
		"state.v2":     tfe, "tfe.v2": tfe, "tfe.v2.1": tfe, "tfe.v2.2": tfe,
		"login.v1": map[string]any{
			"client": "tharsis", "grant_types": []string{"authz_code"}, "scopes": []string{"openid", "tharsis"},
			"authz": s.url + "/oauth/authorize", "token": s.url + "/oauth/token",
		},
	})
}

// ---------------------------------------------------------------- admin

// AdminKeyHeader carries the admin key on /_sandbox/ requests.
const AdminKeyHeader = "X-Sandbox-Admin-Key"

func (s *Server) adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(AdminKeyHeader)), []byte(s.adminKey)) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "missing or wrong " + AdminKeyHeader + " header"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) adminRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_sandbox/knobs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Knobs())
	})
	mux.HandleFunc("PUT /_sandbox/knobs", func(w http.ResponseWriter, r *http.Request) {
		k := s.Knobs()
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err == nil {
			err = json.Unmarshal(body, &k)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "invalid knobs: " + err.Error()})
			return
		}
		s.SetKnobs(k)
		writeJSON(w, http.StatusOK, s.Knobs())
	})
	mux.HandleFunc("GET /_sandbox/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.requestCounts())
	})
	return mux
}
