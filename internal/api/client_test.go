package api

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(Config{Endpoint: "ftp://x"}); KindOf(err) != KindBadRequest {
		t.Fatalf("bad endpoint: err = %v", err)
	}
	if _, err := New(Config{Endpoint: "https://x", CACertFile: filepath.Join(t.TempDir(), "missing.pem")}); err == nil || !strings.Contains(err.Error(), "load CA bundle") {
		t.Fatalf("missing CA file: err = %v", err)
	}
	notPEM := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Endpoint: "https://x", CACertFile: notPEM}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("bad CA file: err = %v", err)
	}
	c, err := New(Config{Endpoint: "tharsis.example.com/"})
	if err != nil || c.Endpoint() != "https://tharsis.example.com" {
		t.Fatalf("Endpoint() = %q, %v", c.Endpoint(), err)
	}
}

func TestStaticTokenSource(t *testing.T) {
	if tok, err := StaticTokenSource("abc").Token(context.Background()); tok != "abc" || err != nil {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	_, err := StaticTokenSource("").Token(context.Background())
	e := asAPIError(t, err)
	if e.Kind != KindUnauthenticated || !strings.Contains(e.Hint, "tharsis sso login") {
		t.Fatalf("empty token: %+v", e)
	}
}

// TestHeadersAndLogs checks the request shape and that debug logs never
// carry the token or variable values.
func TestHeadersAndLogs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/graphql" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.Header.Get("User-Agent"); got != "tharsis-test/1.0" {
			t.Errorf("User-Agent = %q", got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q", got)
		}
		b := readGQL(t, r)
		if b.OperationName != "GetRun" || !strings.Contains(string(b.Variables), "secret-variable-value") {
			t.Errorf("body = %+v", b)
		}
		writeJSON(w, 200, `{"data":{"node":null}}`)
	}))
	defer srv.Close()
	var logs syncBuffer
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Logger = debugLogger(&logs) })
	resp, err := gql.GetRun(context.Background(), c.GraphQL(), "secret-variable-value")
	if err != nil || resp.Node != nil {
		t.Fatalf("GetRun = %+v, %v", resp, err)
	}
	out := logs.String()
	if !strings.Contains(out, "api: request") || !strings.Contains(out, "GetRun") {
		t.Fatalf("expected debug logs of the request, got:\n%s", out)
	}
	for _, secret := range []string{testToken, "Bearer", "secret-variable-value"} {
		if strings.Contains(out, secret) {
			t.Fatalf("debug log contains %q:\n%s", secret, out)
		}
	}
}

func TestAnonymousAndUserAgentDefault(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "" {
			t.Errorf("anonymous request has Authorization %q", got)
		}
		if got := r.Header.Get("User-Agent"); !strings.HasPrefix(got, "tharsis-cli/") {
			t.Errorf("User-Agent = %q", got)
		}
		writeJSON(w, 200, `{"data":{"version":{"version":"0.99.0"}}}`)
	}))
	defer srv.Close()
	c, err := New(Config{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := gql.ServerVersion(context.Background(), c.GraphQL())
	if err != nil || resp.Version.Version != "0.99.0" {
		t.Fatalf("ServerVersion = %+v, %v", resp, err)
	}
}

// TestTokenPerAttempt checks that a retry asks the token source again, so a
// renewed token is used.
func TestTokenPerAttempt(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		want := map[int32]string{1: "Bearer tok-1", 2: "Bearer tok-2"}[n]
		if got := r.Header.Get("Authorization"); got != want {
			t.Errorf("attempt %d: Authorization = %q, want %q", n, got, want)
		}
		if n == 1 {
			writeJSON(w, 503, `{"detail":"unavailable"}`)
			return
		}
		writeJSON(w, 200, `{"data":{"version":{"version":"1"}}}`)
	}))
	defer srv.Close()
	tokens := &countingTokens{tok: func(n int32) string { return map[int32]string{1: "tok-1", 2: "tok-2"}[n] }}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.TokenSource = tokens })
	if _, err := gql.ServerVersion(context.Background(), c.GraphQL()); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 2 || tokens.n.Load() != 2 {
		t.Fatalf("hits = %d, token calls = %d; want 2 and 2", hits.Load(), tokens.n.Load())
	}
}

func TestTokenSourceError(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.TokenSource = StaticTokenSource("") })
	_, err := gql.ServerVersion(context.Background(), c.GraphQL())
	e := asAPIError(t, err)
	if e.Kind != KindUnauthenticated || e.Op != "server version" || !strings.Contains(e.Hint, "sso login") {
		t.Fatalf("err = %+v", e)
	}
	if hits.Load() != 0 {
		t.Fatalf("the request was sent without a token")
	}
	c = newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.TokenSource = TokenSourceFunc(func(context.Context) (string, error) { return "", errors.New("exchange failed") })
	})
	_, err = gql.ServerVersion(context.Background(), c.GraphQL())
	if e := asAPIError(t, err); e.Kind != KindUnauthenticated || !strings.Contains(e.Message, "exchange failed") {
		t.Fatalf("err = %+v", e)
	}
}

func TestGraphQLErrorMapping(t *testing.T) {
	gqlErr := func(code, msg string) string {
		return `{"data":null,"errors":[{"message":"` + msg + `","path":["node"],"extensions":{"code":"` + code + `"}}]}`
	}
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		kind        Kind
		code        string
		msg         string
		hint        string
	}{
		{"401 graphql", 401, "application/json", gqlErr("UNAUTHENTICATED", "token is expired"), KindUnauthenticated, "UNAUTHENTICATED", "token is expired", "tharsis sso login"},
		{"forbidden", 200, "application/json", gqlErr("FORBIDDEN", "not authorized to perform"), KindForbidden, "FORBIDDEN", "not authorized", "role"},
		{"not found", 200, "application/json", gqlErr("NOT_FOUND", "run not found"), KindNotFound, "NOT_FOUND", "run not found", "Check the path or ID"},
		{"bad request", 200, "application/json", gqlErr("BAD_REQUEST", "invalid identifier format"), KindBadRequest, "BAD_REQUEST", "invalid identifier", ""},
		{"conflict", 200, "application/json", gqlErr("CONFLICT", "already started"), KindConflict, "CONFLICT", "already started", ""},
		{"optimistic lock", 200, "application/json", gqlErr("OPTIMISTIC_LOCK", "resource version does not match"), KindConflict, "OPTIMISTIC_LOCK", "version", "read it again"},
		{"rate limited", 200, "application/json", gqlErr("RATE_LIMIT_EXCEEDED", "max query complexity exceeded"), KindRateLimited, "RATE_LIMIT_EXCEEDED", "complexity", "wait"},
		{"maintenance", 200, "application/json", gqlErr("SERVICE_UNAVAILABLE", "System is currently in maintenance mode"), KindServiceUnavailable, "SERVICE_UNAVAILABLE", "maintenance", "maintenance"},
		{"internal", 200, "application/json", gqlErr("INTERNAL_SERVER_ERROR", "An internal error has occurred."), KindInternal, "INTERNAL_SERVER_ERROR", "internal error", "administrators"},
		{"not implemented", 200, "application/json", gqlErr("NOT_IMPLEMENTED", "Cannot query field"), KindBadRequest, "NOT_IMPLEMENTED", "Cannot query field", "older Tharsis"},
		{"no code", 200, "application/json", `{"errors":[{"message":"something odd"}]}`, KindUnknown, "", "something odd", ""},
		{"several errors", 200, "application/json", `{"errors":[{"message":"a"},{"message":"b","extensions":{"code":"FORBIDDEN"}}]}`, KindForbidden, "FORBIDDEN", "b; a", ""},
		{"400 error body", 400, "application/json", `{"error":"no queries to execute"}`, KindBadRequest, "", "no queries to execute", ""},
		{"403 detail", 403, "application/json", `{"detail":"forbidden by policy"}`, KindForbidden, "", "forbidden by policy", "role"},
		{"404 plain", 404, "text/plain; charset=utf-8", "404 page not found\n", KindNotFound, "", "did not answer like a Tharsis API (HTTP 404 Not Found, content type text/plain)", "endpoint"},
		{"413", 413, "application/json", `{"error":"unable to read request body"}`, KindBadRequest, "", "unable to read", "larger than"},
		{"501", 501, "application/json", `{"detail":"not implemented"}`, KindInternal, "", "not implemented", ""},
		{"502 html", 502, "text/html", "<html><body>Bad Gateway</body></html>", KindServiceUnavailable, "", "did not answer like a Tharsis API (HTTP 502 Bad Gateway, content type text/html)", "proxy"},
		{"200 html", 200, "text/html; charset=utf-8", "<!doctype html><html></html>", KindUnknown, "", "did not answer like a Tharsis API (HTTP 200 OK, content type text/html)", "not the web UI"},
		{"empty 500", 500, "", "", KindInternal, "", "empty body", ""},
		{"json api errors", 404, "application/vnd.api+json", `{"errors":[{"status":"404","title":"not found","detail":"no such thing"}]}`, KindNotFound, "", "not found: no such thing", "Check the path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Retry = RetryPolicy{Max: -1} })
			_, err := gql.GetRun(context.Background(), c.GraphQL(), "trn:run:a/b")
			e := asAPIError(t, err)
			if e.Kind != tt.kind || e.Code != tt.code || !strings.Contains(e.Message, tt.msg) || !strings.Contains(e.Hint, tt.hint) {
				t.Fatalf("got kind=%s code=%q msg=%q hint=%q status=%d; want kind=%s code=%q msg~%q hint~%q",
					e.Kind, e.Code, e.Message, e.Hint, e.StatusCode, tt.kind, tt.code, tt.msg, tt.hint)
			}
			if e.Op != "get run" || !strings.HasPrefix(e.Error(), "get run: ") {
				t.Fatalf("op = %q, Error() = %q", e.Op, e.Error())
			}
			if tt.status != 200 && e.StatusCode != tt.status {
				t.Fatalf("StatusCode = %d, want %d", e.StatusCode, tt.status)
			}
			if KindOf(err) != tt.kind {
				t.Fatalf("KindOf = %s", KindOf(err))
			}
		})
	}
}

// TestPartialData checks that data arrives together with the error.
func TestPartialData(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"data":{"version":{"version":"0.99.0"}},"errors":[{"message":"partial","path":["x"],"extensions":{"code":"NOT_FOUND"}}]}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	resp, err := gql.ServerVersion(context.Background(), c.GraphQL())
	if KindOf(err) != KindNotFound || resp == nil || resp.Version.Version != "0.99.0" {
		t.Fatalf("resp = %+v, err = %v", resp, err)
	}
}

func TestRetries(t *testing.T) {
	type step struct {
		status int
		body   string
	}
	ok := step{200, `{"data":{"version":{"version":"1"}}}`}
	tests := []struct {
		name     string
		steps    []step // the last one repeats
		wantHits int32
		wantKind Kind // "" = success
		wantMsg  string
	}{
		{"429 then success", []step{{429, `{"detail":"request rate limit exceeded"}`}, ok}, 2, "", ""},
		{"503 burst", []step{{503, `{"detail":"x"}`}, {503, `{"detail":"x"}`}, {502, "<html/>"}, ok}, 4, "", ""},
		{"5xx forever", []step{{503, `{"detail":"down for maintenance"}`}}, 4, KindTransient, "down for maintenance (gave up after 4 attempts; the failure is transient and safe to retry)"},
		{"429 forever", []step{{429, `{"detail":"request rate limit exceeded"}`}}, 4, KindTransient, "safe to retry"},
		{"501 not retried", []step{{501, `{"detail":"nope"}`}}, 1, KindInternal, "nope"},
		{"404 not retried", []step{{404, `{"detail":"nope"}`}}, 1, KindNotFound, "nope"},
		{"graphql error not retried", []step{{200, `{"errors":[{"message":"x","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`}}, 1, KindInternal, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(hits.Add(1))
				s := tt.steps[min(n, len(tt.steps))-1]
				writeJSON(w, s.status, s.body)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, nil)
			_, err := gql.ServerVersion(context.Background(), c.GraphQL())
			if hits.Load() != tt.wantHits {
				t.Fatalf("server hits = %d, want %d (err %v)", hits.Load(), tt.wantHits, err)
			}
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			e := asAPIError(t, err)
			if e.Kind != tt.wantKind || !strings.Contains(e.Message, tt.wantMsg) {
				t.Fatalf("err = kind %s %q", e.Kind, e.Message)
			}
			if e.Kind == KindTransient {
				var inner *Error
				if !errors.As(e.Err, &inner) || inner.StatusCode != e.StatusCode || e.StatusCode == 0 {
					t.Fatalf("transient error does not wrap the last failure: %+v", e)
				}
			}
		})
	}
}

// TestBackoff429 checks the ~1s (WaitMin) wait with jitter after a 429 and
// the exponential growth otherwise.
func TestBackoff(t *testing.T) {
	r429 := &http.Response{StatusCode: 429, Header: http.Header{}}
	for i := 0; i < 50; i++ {
		if d := backoff(time.Second, 30*time.Second, 3, r429); d < time.Second || d > 1500*time.Millisecond {
			t.Fatalf("429 backoff = %s", d)
		}
		if d := backoff(time.Second, 30*time.Second, 3, nil); d < 4*time.Second || d > 8*time.Second {
			t.Fatalf("attempt 3 backoff = %s", d)
		}
		if d := backoff(time.Second, 30*time.Second, 40, nil); d < 15*time.Second || d > 30*time.Second {
			t.Fatalf("capped backoff = %s", d)
		}
	}
	ra := &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"7"}}}
	if d := backoff(time.Second, 30*time.Second, 0, ra); d != 7*time.Second {
		t.Fatalf("Retry-After backoff = %s", d)
	}
	ra.Header.Set("Retry-After", "120")
	if d := backoff(time.Second, 30*time.Second, 0, ra); d != 30*time.Second {
		t.Fatalf("Retry-After capped = %s", d)
	}
}

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestConnectionRefused(t *testing.T) {
	addr := closedAddr(t)
	for _, mutation := range []bool{false, true} {
		tokens := &countingTokens{}
		c := newTestClient(t, "http://"+addr, func(cfg *Config) { cfg.TokenSource = tokens })
		var err error
		if mutation {
			_, err = gql.ApplyRun(context.Background(), c.GraphQL(), gql.ApplyRunInput{RunId: "r"})
		} else {
			_, err = gql.ServerVersion(context.Background(), c.GraphQL())
		}
		e := asAPIError(t, err)
		// A refused connection never reached the server: mutations retry too.
		if e.Kind != KindTransient || !strings.Contains(e.Message, "refused") || !strings.Contains(e.Message, "safe to retry") ||
			!strings.Contains(e.Hint, "endpoint") || tokens.n.Load() != 4 {
			t.Fatalf("mutation=%v: attempts=%d err=%+v", mutation, tokens.n.Load(), e)
		}
	}
}

func TestDNSFailureNotRetried(t *testing.T) {
	tokens := &countingTokens{}
	c := newTestClient(t, "http://no-such-host.invalid", func(cfg *Config) { cfg.TokenSource = tokens })
	_, err := gql.ServerVersion(context.Background(), c.GraphQL())
	e := asAPIError(t, err)
	if !strings.Contains(e.Message, "cannot resolve host") || !strings.Contains(e.Hint, "endpoint") {
		t.Fatalf("err = %+v", e)
	}
	// A name that does not exist is not retried; a temporary failure
	// (no resolver in a sandboxed build) may be.
	if e.Kind != KindTransient && tokens.n.Load() != 1 {
		t.Fatalf("attempts = %d", tokens.n.Load())
	}
}

// TestNoDuplicateMutation: once the server received a mutation, no failure
// of the response makes the client send it again.
func TestNoDuplicateMutation(t *testing.T) {
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		kind    Kind
		msg     string
	}{
		{"502", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 502, `{"detail":"bad gateway"}`) }, KindUnknown, "may or may not have applied"},
		{"504 html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(504)
		}, KindUnknown, "may or may not have applied"},
		{"503", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 503, `{"detail":"unavailable"}`) }, KindServiceUnavailable, "unavailable"},
		{"500", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 500, `{"error":"server error"}`) }, KindInternal, "server error"},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done() // the client gives up first
		}, KindUnknown, "may or may not have applied"},
		{"connection dropped", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, KindUnknown, "may or may not have applied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				if b := readGQL(t, r); !strings.HasPrefix(strings.TrimSpace(b.Query), "mutation CreateRun") {
					t.Errorf("query = %q", b.Query)
				}
				tt.handler(w, r)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.RequestTimeout = 300 * time.Millisecond })
			ws := "trn:workspace:a/b"
			_, err := gql.CreateRun(context.Background(), c.GraphQL(), gql.CreateRunInput{WorkspaceId: &ws})
			if n := hits.Load(); n != 1 {
				t.Fatalf("server received the mutation %d times", n)
			}
			e := asAPIError(t, err)
			if e.Kind != tt.kind || !strings.Contains(e.Message, tt.msg) || e.Op != "create run" {
				t.Fatalf("err = %+v", e)
			}
		})
	}
}

// TestMutationRetriedAfter429: the rate limiter answers 429 before any
// resolver runs, so a rate-limited mutation did nothing and is sent again;
// when the limit persists the retries run out as for queries.
func TestMutationRetriedAfter429(t *testing.T) {
	const limited = `{"detail":"request rate limit exceeded"}`
	for _, tt := range []struct {
		name     string
		limited  int32 // 429 answers before the mutation goes through
		wantHits int32
		wantKind Kind
	}{
		{"burst", 2, 3, ""},
		{"forever", 100, 4, KindTransient},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if b := readGQL(t, r); !strings.HasPrefix(strings.TrimSpace(b.Query), "mutation CreateRun") {
					t.Errorf("query = %q", b.Query)
				}
				if hits.Add(1) <= tt.limited {
					writeJSON(w, 429, limited)
					return
				}
				writeJSON(w, 200, `{"data":{"createRun":{"run":null,"problems":[]}}}`)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, nil)
			ws := "trn:workspace:a/b"
			_, err := gql.CreateRun(context.Background(), c.GraphQL(), gql.CreateRunInput{WorkspaceId: &ws})
			if n := hits.Load(); n != tt.wantHits {
				t.Fatalf("server received the mutation %d times, want %d (err %v)", n, tt.wantHits, err)
			}
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if e := asAPIError(t, err); e.Kind != tt.wantKind || !strings.Contains(e.Message, "safe to retry") {
				t.Fatalf("err = %+v", e)
			}
		})
	}
}

// TestQueryTimeoutRetried: queries are idempotent, so a timed-out attempt is
// retried.
func TestQueryTimeoutRetried(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
		if hits.Add(1) == 1 {
			<-r.Context().Done()
			return
		}
		writeJSON(w, 200, `{"data":{"version":{"version":"1"}}}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.RequestTimeout = 200 * time.Millisecond })
	if _, err := gql.ServerVersion(context.Background(), c.GraphQL()); err != nil || hits.Load() != 2 {
		t.Fatalf("hits = %d, err = %v", hits.Load(), err)
	}
}

func TestCanceledContext(t *testing.T) {
	hit := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 503, `{"detail":"x"}`)
		select {
		case hit <- struct{}{}:
		default:
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Retry = RetryPolicy{Max: 10, WaitMin: time.Hour, WaitMax: time.Hour} })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // cancel while the client waits an hour to retry
		<-hit
		cancel()
	}()
	_, err := gql.ServerVersion(ctx, c.GraphQL())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled in the chain", err)
	}
	asAPIError(t, err)
}

func TestOperationType(t *testing.T) {
	tests := map[string]string{
		"\nmutation CreateRun ($input: X) {}": "mutation",
		"query GetRun { x }":                  "query",
		"{ x }":                               "query",
		"# comment\n  mutation { x }":         "mutation",
		"subscription S { x }":                "subscription",
		"mutationish { x }":                   "query",
		gql.JobLogStreamEvents_Operation:      "subscription",
		gql.ApplyRun_Operation:                "mutation",
		gql.GetRun_Operation:                  "query",
	}
	for q, want := range tests {
		if got := operationType(q); got != want {
			t.Errorf("operationType(%q) = %q, want %q", q, got, want)
		}
	}
	for in, want := range map[string]string{"CreateRun": "create run", "GetRunVariables": "get run variables", "": "graphql request", "ServerVersion": "server version", "GetJSONDoc": "get json doc"} {
		if got := describeOp(in); got != want {
			t.Errorf("describeOp(%q) = %q, want %q", in, got, want)
		}
	}
}

// writeCA stores the test server's certificate as a PEM bundle.
func writeCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"data":{"version":{"version":"1"}}}`)
	}))
	defer srv.Close()
	ca := writeCA(t, srv)

	tokens := &countingTokens{}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.TokenSource = tokens })
	_, err := gql.ServerVersion(context.Background(), c.GraphQL())
	e := asAPIError(t, err)
	if !strings.Contains(e.Message, "not trusted") || !strings.Contains(e.Hint, "caCertFile") || !strings.Contains(e.Hint, "tlsSkipVerify") {
		t.Fatalf("untrusted: %+v", e)
	}
	if tokens.n.Load() != 1 {
		t.Fatalf("a certificate error was retried (%d attempts)", tokens.n.Load())
	}

	for name, mod := range map[string]func(*Config){
		"skip verify": func(cfg *Config) { cfg.TLSSkipVerify = true },
		"CA bundle":   func(cfg *Config) { cfg.CACertFile = ca },
	} {
		c := newTestClient(t, srv.URL, mod)
		if _, err := gql.ServerVersion(context.Background(), c.GraphQL()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp, err := c.HTTPClient().Get(srv.URL + "/health")
		if err != nil {
			t.Fatalf("%s: REST: %v", name, err)
		}
		resp.Body.Close()
	}
}

func TestPlainHTTPOnTLSClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := newTestClient(t, strings.Replace(srv.URL, "http://", "https://", 1), nil)
	_, err := gql.ServerVersion(context.Background(), c.GraphQL())
	if e := asAPIError(t, err); !strings.Contains(e.Message, "does not speak TLS") {
		t.Fatalf("err = %+v", e)
	}
}

func TestHTTPClient(t *testing.T) {
	var gets, posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "tharsis-test/1.0" {
			t.Errorf("User-Agent = %q", r.Header.Get("User-Agent"))
		}
		switch r.URL.Path {
		case "/get":
			if r.Header.Get("Authorization") != "Bearer "+testToken {
				t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
			}
			if gets.Add(1) == 1 {
				writeJSON(w, 503, `{"detail":"busy"}`)
				return
			}
			writeJSON(w, 200, `{"ok":true}`)
		case "/post":
			posts.Add(1)
			if r.Header.Get("Authorization") != "Bearer caller" {
				t.Errorf("caller's Authorization replaced: %q", r.Header.Get("Authorization"))
			}
			body, _ := io.ReadAll(r.Body)
			if string(body) != "a=b" {
				t.Errorf("body = %q", body)
			}
			writeJSON(w, 503, `{"detail":"busy"}`)
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	hc := c.HTTPClient()

	resp, err := hc.Get(srv.URL + "/get")
	if err != nil || resp.StatusCode != 200 || gets.Load() != 2 {
		t.Fatalf("GET: %v, gets = %d", err, gets.Load())
	}
	if err := CheckResponse("get", resp); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/post", strings.NewReader("a=b"))
	req.Header.Set("Authorization", "Bearer caller")
	resp, err = hc.Do(req)
	if err != nil || resp.StatusCode != 503 || posts.Load() != 1 {
		t.Fatalf("POST: %v, posts = %d", err, posts.Load())
	}
	err = CheckResponse("create token", resp)
	if e := asAPIError(t, err); e.Kind != KindServiceUnavailable || e.Message != "busy" || e.Error() != "create token: busy" {
		t.Fatalf("CheckResponse = %+v", e)
	}

	// A body without GetBody is sent once.
	req, _ = http.NewRequest(http.MethodPut, srv.URL+"/get", io.NopCloser(strings.NewReader("x")))
	req.GetBody = nil
	before := gets.Load()
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if gets.Load() != before+1 {
		t.Fatalf("non-replayable body sent %d times", gets.Load()-before)
	}
}

func TestErrorHelpers(t *testing.T) {
	if KindOf(errors.New("x")) != KindUnknown || KindOf(nil) != KindUnknown {
		t.Fatal("KindOf of a plain error")
	}
	e := &Error{Kind: KindNotFound, Op: "get run", Message: "gone"}
	wrapped := WithOp(e, "show run")
	if wrapped.Error() != "show run: gone" || e.Op != "get run" || KindOf(wrapped) != KindNotFound {
		t.Fatalf("WithOp = %v (original %v)", wrapped, e)
	}
	if WithOp(nil, "x") != nil {
		t.Fatal("WithOp(nil)")
	}
	if got := WithOp(io.EOF, "read"); !errors.Is(got, io.EOF) || got.Error() != "read: EOF" {
		t.Fatalf("WithOp(EOF) = %v", got)
	}
	nf := NotFoundError("get workspace", "workspace", "a/b")
	if KindOf(nf) != KindNotFound || nf.Error() != "get workspace: workspace a/b not found" {
		t.Fatalf("NotFoundError = %v", nf)
	}
	if (&Error{Kind: KindServiceUnavailable}).Error() != "service unavailable" {
		t.Fatal("Error() without message")
	}
}

func TestProblems(t *testing.T) {
	if ProblemsError("x", nil) != nil {
		t.Fatal("no problems must be nil")
	}
	tests := []struct {
		typ  gql.ProblemType
		kind Kind
	}{
		{gql.ProblemTypeConflict, KindConflict},
		{gql.ProblemTypeBadRequest, KindBadRequest},
		{gql.ProblemTypeNotFound, KindNotFound},
		{gql.ProblemTypeForbidden, KindForbidden},
		{gql.ProblemTypeServiceUnavailable, KindServiceUnavailable},
		{"SOMETHING_NEW", KindUnknown},
	}
	for _, tt := range tests {
		err := ProblemsError("create run", []gql.ProblemFields{{Message: "boom", Type: tt.typ, Field: []string{}}})
		e := asAPIError(t, err)
		if e.Kind != tt.kind || e.Code != string(tt.typ) || e.Error() != "create run: boom" {
			t.Fatalf("%s: %+v", tt.typ, e)
		}
	}
	err := ProblemsError("create run", []gql.ProblemFields{{Message: "a", Type: gql.ProblemTypeBadRequest, Field: []string{"input", "name"}}, {Message: "b", Type: gql.ProblemTypeConflict}})
	if e := asAPIError(t, err); e.Message != "a (field input.name); b" || e.Kind != KindBadRequest {
		t.Fatalf("%+v", e)
	}

	// The generic form takes the generated per-mutation problem types.
	var resp gql.CreateRunResponse
	resp.CreateRun.Problems = []gql.CreateRunCreateRunRunMutationPayloadProblemsProblem{
		{ProblemFields: gql.ProblemFields{Message: "Workspace does not allow destroy plan", Type: gql.ProblemTypeForbidden}},
	}
	err = ProblemsOf("create run", resp.CreateRun.Problems)
	if e := asAPIError(t, err); e.Kind != KindForbidden || !strings.Contains(e.Hint, "role") {
		t.Fatalf("ProblemsOf = %+v", e)
	}
	if ProblemsOf("create run", []gql.CreateRunCreateRunRunMutationPayloadProblemsProblem{}) != nil {
		t.Fatal("ProblemsOf(empty) must be nil")
	}
}
