package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/Khan/genqlient/graphql"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/tharsis-cli/tharsis/internal/build"
)

// TokenSource supplies the bearer token for each request (renewing tokens is
// its job). It is called once per HTTP attempt, so a retried request picks up
// a renewed token. An empty token sends the request without credentials.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// TokenSourceFunc adapts a function to a TokenSource.
type TokenSourceFunc func(ctx context.Context) (string, error)

// Token calls f.
func (f TokenSourceFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

// StaticTokenSource returns a fixed token; an empty one is an *Error of
// KindUnauthenticated telling how to log in.
type StaticTokenSource string

// Token returns the token, or an error when it is empty.
func (s StaticTokenSource) Token(context.Context) (string, error) {
	if strings.TrimSpace(string(s)) == "" {
		return "", &Error{
			Kind:    KindUnauthenticated,
			Message: "no access token is configured",
			Hint:    hintLogin,
		}
	}
	return string(s), nil
}

// RetryPolicy bounds the retries of failed requests. The zero value means
// the defaults: 4 retries, waits growing from about 1s to at most 30s with
// jitter. A negative Max disables retries.
type RetryPolicy struct {
	Max              int
	WaitMin, WaitMax time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	switch {
	case p.Max < 0:
		p.Max = 0
	case p.Max == 0:
		p.Max = 4
	}
	if p.WaitMin <= 0 {
		p.WaitMin = time.Second
	}
	if p.WaitMax <= 0 {
		p.WaitMax = 30 * time.Second
	}
	if p.WaitMax < p.WaitMin {
		p.WaitMax = p.WaitMin
	}
	return p
}

// Config configures a Client.
type Config struct {
	Endpoint      string       // normalised API URL, e.g. https://tharsis.example.com (see NormalizeEndpoint)
	TokenSource   TokenSource  // nil = anonymous
	TLSSkipVerify bool         // do not verify the server's certificate (testing only)
	CACertFile    string       // extra PEM bundle added to the system roots
	UserAgent     string       // build.UserAgent() by default
	Logger        *slog.Logger // nil = discard; debug logs never include tokens, auth headers or variables
	// RequestTimeout bounds each HTTP attempt of GraphQL and discovery
	// requests, the wait for response headers of REST calls and uploads, and
	// the websocket handshake up to connection_ack; default 60s.
	RequestTimeout time.Duration
	Retry          RetryPolicy
	// KeepAlive is how often a subscription connection sends "ka" and checks
	// the connection with a ping; default 30s, negative disables.
	KeepAlive time.Duration
}

// Client talks to one Tharsis API. It is safe for concurrent use.
type Client struct {
	endpoint  string
	host      string
	tokens    TokenSource
	userAgent string
	log       *slog.Logger
	timeout   time.Duration
	keepAlive time.Duration

	transport *http.Transport // shared pool: TLS, proxy, response-header timeout
	auth      *authTransport
	wsHTTP    *http.Client // websocket handshakes (HTTP/1.1 only)
	gqlRetry  *retryablehttp.Client
	restRetry *retryablehttp.Client

	discoveryMu sync.Mutex
	tfeV2       string
}

// New builds a client. It fails when the endpoint is invalid or the CA bundle
// cannot be used.
func New(cfg Config) (*Client, error) {
	endpoint, err := NormalizeEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, &Error{Kind: KindBadRequest, Op: "configure API client", Message: err.Error(), Hint: "Set the endpoint with `tharsis configure`."}
	}
	u, _ := url.Parse(endpoint)
	c := &Client{
		endpoint:  endpoint,
		host:      u.Host,
		tokens:    cfg.TokenSource,
		userAgent: cfg.UserAgent,
		log:       cfg.Logger,
		timeout:   cfg.RequestTimeout,
		keepAlive: cfg.KeepAlive,
	}
	if c.userAgent == "" {
		c.userAgent = build.UserAgent()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.timeout <= 0 {
		c.timeout = 60 * time.Second
	}
	if c.keepAlive == 0 {
		c.keepAlive = 30 * time.Second
	}

	tlsConf, err := tlsConfig(cfg.TLSSkipVerify, cfg.CACertFile)
	if err != nil {
		return nil, err
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = http.ProxyFromEnvironment
	base.ResponseHeaderTimeout = c.timeout
	base.TLSClientConfig = tlsConf
	base.ForceAttemptHTTP2 = true
	// The websocket dialer gets its own HTTP/1.1-only copy, made before the
	// shared transport adds "h2" to its TLS config on first use.
	ws := base.Clone()
	ws.ForceAttemptHTTP2 = false
	ws.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	ws.TLSClientConfig = tlsConf.Clone()
	ws.TLSClientConfig.NextProtos = []string{"http/1.1"}
	ws.ResponseHeaderTimeout = 0
	c.transport = base
	c.wsHTTP = &http.Client{Transport: ws}
	c.auth = &authTransport{c: c, base: base}

	policy := cfg.Retry.withDefaults()
	newRetry := func(timeout time.Duration) *retryablehttp.Client {
		return &retryablehttp.Client{
			HTTPClient:   &http.Client{Transport: c.auth, Timeout: timeout},
			RetryMax:     policy.Max,
			RetryWaitMin: policy.WaitMin,
			RetryWaitMax: policy.WaitMax,
			CheckRetry:   c.checkRetry,
			Backoff:      backoff,
			ErrorHandler: passthroughError,
		}
	}
	c.gqlRetry = newRetry(c.timeout)
	c.restRetry = newRetry(0)
	return c, nil
}

func tlsConfig(skipVerify bool, caFile string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: skipVerify} //nolint:gosec // opt-in setting of the profile
	if caFile == "" {
		return conf, nil
	}
	op := "load CA bundle"
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, &Error{Kind: KindBadRequest, Op: op, Message: err.Error(), Hint: "Check the CA bundle file (caCertFile) of the profile.", Err: err}
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &Error{Kind: KindBadRequest, Op: op, Message: fmt.Sprintf("%s holds no PEM certificate", caFile), Hint: "The CA bundle (caCertFile) must be a PEM file with one or more CERTIFICATE blocks."}
	}
	conf.RootCAs = pool
	return conf, nil
}

// Endpoint returns the normalised API URL.
func (c *Client) Endpoint() string { return c.endpoint }

// GraphQL returns the genqlient client for POST <endpoint>/graphql. Its
// errors are *Error: top-level GraphQL errors, HTTP failures and transport
// failures alike. Partial data is still decoded into the response.
func (c *Client) GraphQL() graphql.Client { return gqlClient{c: c} }

// HTTPClient returns an *http.Client with the same TLS, proxy, User-Agent,
// bearer token and retry behaviour, for REST routes. GET, HEAD, PUT, DELETE
// and OPTIONS are retried like queries; other methods only when the request
// never reached the server; requests with a body that cannot be replayed
// (no GetBody) are sent once. An Authorization header set by the caller is
// kept. Map failed responses with CheckResponse.
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{Transport: &retryTransport{c: c}}
}

// --- request state and retry policy ---

type reqMode int

const (
	modeIdempotent reqMode = iota // queries, GET, uploads: retried on errors, 429, 5xx
	modeMutation                  // retried only when provably not sent or rate-limited (429)
)

// reqState travels in the request context so that CheckRetry knows the
// request kind and the caller learns whether retries ran out.
type reqState struct {
	mode      reqMode
	attempts  int
	lastRetry bool // the last CheckRetry wanted another attempt
}

type stateKey struct{}

// gaveUp reports that the request was retried and the budget ran out while
// the last failure still looked retryable.
func (st *reqState) gaveUp() bool { return st.lastRetry && st.attempts > 1 }

func withState(ctx context.Context, st *reqState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := stateFrom(ctx)
	if st == nil {
		st = &reqState{}
	}
	st.attempts++
	st.lastRetry = false
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	retry := shouldRetry(st.mode, resp, err)
	st.lastRetry = retry
	if retry {
		reason := ""
		if err != nil {
			reason = innermost(err)
		} else {
			reason = resp.Status
		}
		c.log.Debug("api: retrying request", "attempt", st.attempts, "reason", reason)
	}
	return retry, nil
}

func shouldRetry(mode reqMode, resp *http.Response, err error) bool {
	if err != nil {
		if isPermanentTransportError(err) {
			return false
		}
		if mode == modeMutation {
			_, notSent := errors.AsType[*notSentError](err)
			return notSent
		}
		return true
	}
	s := resp.StatusCode
	if mode == modeMutation {
		// A 429 comes from the rate limiter, which answers before any
		// resolver runs (the last middleware on the API, and what gateways
		// do): the mutation provably did nothing, so it may be sent again.
		return s == http.StatusTooManyRequests
	}
	return s == http.StatusTooManyRequests || s == 0 || (s >= 500 && s != http.StatusNotImplemented)
}

// passthroughError keeps the last response so that it can be mapped, and
// never returns both a response and an error.
func passthroughError(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err != nil {
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// exhausted wraps the last failure once the retry budget is spent.
func exhausted(e *Error, attempts int) *Error {
	hint := e.Hint
	if hint == "" {
		hint = "Try again in a moment."
	}
	return &Error{
		Kind:       KindTransient,
		Op:         e.Op,
		Message:    fmt.Sprintf("%s (gave up after %d attempts; the failure is transient and safe to retry)", e.Message, attempts),
		Hint:       hint,
		StatusCode: e.StatusCode,
		Code:       e.Code,
		Err:        e,
	}
}

// failure maps an error returned by a retrying Do.
func (c *Client) failure(ctx context.Context, op string, st *reqState, err error, mutation bool) *Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		msg := "canceled"
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			msg = "timed out"
		}
		if mutation {
			msg += "; the server may or may not have applied the change"
		}
		return &Error{Kind: KindUnknown, Op: op, Message: msg, Err: ctxErr}
	}
	e := transportError(op, c.host, err, mutation)
	if st.gaveUp() {
		return exhausted(e, st.attempts)
	}
	return e
}

// --- transports ---

// authTransport sets the User-Agent and the bearer token on every attempt
// and records whether a connection was ever obtained.
type authTransport struct {
	c    *Client
	base http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, tok, err := t.roundTrip(req, "")
	if err != nil || resp.StatusCode != http.StatusUnauthorized || tok == "" {
		return resp, err
	}
	// A 401 means the server refused the token before doing anything, so
	// even a mutation may be sent again: once, with a renewed token, when
	// the token source can renew and the body can be replayed.
	inv, ok := t.c.tokens.(tokenInvalidator)
	if !ok || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		return resp, nil
	}
	inv.Invalidate(tok)
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		body, gerr := req.GetBody()
		if gerr != nil {
			return resp, nil
		}
		retry.Body = body
	}
	next, tok2, err := t.roundTrip(retry, tok)
	if err != nil || tok2 == tok {
		if next != nil {
			next.Body.Close()
		}
		return resp, nil // nothing better to offer: keep the first answer
	}
	drainClose(resp.Body)
	t.c.log.Debug("api: retried with a renewed token after 401", "method", req.Method, "url", redactURL(req.URL))
	return next, nil
}

// tokenInvalidator is a TokenSource that can drop a token the server
// refused, so the next Token call renews it (auth's caches implement it).
type tokenInvalidator interface{ Invalidate(token string) }

// drainClose discards what is left of a body so the connection is reused.
func drainClose(b io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(b, 64<<10))
	b.Close()
}

// roundTrip sends one attempt with the current token; it returns the token
// used ("" when none). prev, when set, is a token known to be refused: the
// attempt is not sent if the source still returns it.
func (t *authTransport) roundTrip(req *http.Request, prev string) (*http.Response, string, error) {
	ctx := req.Context()
	r := req.Clone(ctx)
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", t.c.userAgent)
	}
	tok := ""
	if t.c.tokens != nil && (r.Header.Get("Authorization") == "" || prev != "") {
		var err error
		tok, err = t.c.tokens.Token(ctx)
		if err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, "", &tokenError{err: err}
		}
		if prev != "" && tok == prev {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, tok, nil
		}
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	var gotConn atomic.Bool
	r = r.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) },
	}))
	attempt := 1
	if st := stateFrom(ctx); st != nil {
		attempt = st.attempts + 1
	}
	start := time.Now()
	t.c.log.Debug("api: request", "method", r.Method, "url", redactURL(r.URL), "attempt", attempt)
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		if !gotConn.Load() {
			err = &notSentError{err: err}
		}
		t.c.log.Debug("api: request failed", "method", r.Method, "url", redactURL(r.URL), "error", innermost(err), "sent", gotConn.Load())
		return nil, tok, err
	}
	t.c.log.Debug("api: response", "method", r.Method, "url", redactURL(r.URL), "status", resp.StatusCode, "duration", time.Since(start).Round(time.Millisecond))
	return resp, tok, nil
}

// redactURL drops the query string and user info, which may carry secrets.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	v := *u
	v.User = nil
	v.RawQuery = ""
	v.ForceQuery = false
	return v.String()
}

// retryTransport runs REST requests through the retrying client.
type retryTransport struct{ c *Client }

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	mode := modeMutation
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions, "":
		mode = modeIdempotent
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	if hasBody && req.GetBody == nil {
		// The body cannot be replayed: send it once, unbuffered.
		return t.c.auth.RoundTrip(req)
	}
	st := &reqState{mode: mode}
	ctx := withState(req.Context(), st)
	var raw any
	if hasBody {
		raw = retryablehttp.ReaderFunc(func() (io.Reader, error) { return req.GetBody() })
	}
	rreq, err := retryablehttp.NewRequestWithContext(ctx, req.Method, req.URL.String(), raw)
	if err != nil {
		return nil, err
	}
	rreq.Header = req.Header.Clone()
	if rreq.Header == nil {
		rreq.Header = http.Header{}
	}
	rreq.ContentLength = req.ContentLength
	rreq.Host = req.Host
	resp, err := t.c.restRetry.Do(rreq)
	if err != nil {
		// The outer http.Client wraps it in a *url.Error again.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	return resp, nil
}

// backoff waits about WaitMin after a 429 (the server sends no usable
// Retry-After), honours Retry-After when present, and otherwise grows
// exponentially from WaitMin to WaitMax, each wait jittered.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			return min(d, maxWait)
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			return jitter(minWait, minWait+minWait/2)
		}
	}
	d := minWait
	for i := 0; i < attempt && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	return jitter(d/2, d)
}

func retryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var secs int
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// --- GraphQL ---

// maxGraphQLResponse bounds a GraphQL response body (a log page is at most
// 1 MiB of data, escaped).
const maxGraphQLResponse = 64 << 20

type gqlClient struct{ c *Client }

func (g gqlClient) MakeRequest(ctx context.Context, req *graphql.Request, resp *graphql.Response) error {
	c := g.c
	op := describeOp(req.OpName)
	kind := operationType(req.Query)
	if kind == "subscription" {
		return &Error{Kind: KindBadRequest, Op: op, Message: "subscriptions need the websocket client (NewSubscriptionClient)"}
	}
	mutation := kind == "mutation"
	body, err := json.Marshal(req)
	if err != nil {
		return &Error{Kind: KindBadRequest, Op: op, Message: "encode request: " + err.Error(), Err: err}
	}
	st := &reqState{mode: modeIdempotent}
	if mutation {
		st.mode = modeMutation
	}
	rreq, err := retryablehttp.NewRequestWithContext(withState(ctx, st), http.MethodPost, c.endpoint+"/graphql", body)
	if err != nil {
		return &Error{Kind: KindBadRequest, Op: op, Message: err.Error(), Err: err}
	}
	rreq.Header.Set("Content-Type", "application/json")
	rreq.Header.Set("Accept", "application/json")
	c.log.Debug("api: graphql", "operation", req.OpName, "type", kind)

	hresp, err := c.gqlRetry.Do(rreq)
	if err != nil {
		return c.failure(ctx, op, st, err, mutation)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxGraphQLResponse))
	if err != nil {
		return c.failure(ctx, op, &reqState{}, err, mutation)
	}
	ct := hresp.Header.Get("Content-Type")
	status := hresp.StatusCode

	if status == http.StatusOK {
		if !looksLikeJSONObject(data) {
			return notAPIError(op, status, ct)
		}
		if err := json.Unmarshal(data, resp); err != nil {
			return &Error{Kind: KindUnknown, Op: op, Message: "could not decode the server's response: " + err.Error(), StatusCode: status, Err: err,
				Hint: "The server may run a different Tharsis version than this CLI expects."}
		}
		if len(resp.Errors) > 0 {
			e := graphQLError(op, status, resp.Errors)
			c.log.Debug("api: graphql errors", "operation", req.OpName, "code", e.Code, "kind", e.Kind)
			return e
		}
		return nil
	}

	// A 401 still carries a GraphQL body; decode it so partial data is kept.
	if looksLikeJSONObject(data) && bytes.Contains(data, []byte(`"errors"`)) {
		_ = json.Unmarshal(data, resp)
	}
	e := responseError(op, status, ct, data)
	if st.gaveUp() {
		return exhausted(e, st.attempts)
	}
	if mutation && (status == http.StatusBadGateway || status == http.StatusGatewayTimeout) {
		e.Kind = KindUnknown
		e.Message += "; the server may or may not have applied the change"
		e.Hint = "Check the current state (for example list the runs) before trying again."
	}
	return e
}

// operationType returns "query", "mutation" or "subscription" for a GraphQL
// document, skipping whitespace and comments.
func operationType(q string) string {
	s := q
	for {
		s = strings.TrimLeftFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == '\ufeff' })
		if strings.HasPrefix(s, "#") {
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
				continue
			}
			s = ""
		}
		break
	}
	for _, t := range []string{"mutation", "subscription", "query"} {
		if strings.HasPrefix(s, t) {
			rest := s[len(t):]
			if rest == "" || !isNameRune(rune(rest[0])) {
				return t
			}
		}
	}
	return "query"
}

func isNameRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// describeOp turns an operation name such as "CreateRun" into "create run".
func describeOp(name string) string {
	if name == "" {
		return "graphql request"
	}
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// jitter returns a random duration in [lo, hi].
func jitter(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + rand.N(hi-lo+1)
}
