package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = "s3cr3t-t0ken-value"

// fastRetry keeps retried tests quick.
var fastRetry = RetryPolicy{Max: 3, WaitMin: time.Millisecond, WaitMax: 4 * time.Millisecond}

// newTestClient builds a client for a test server with a static token.
func newTestClient(t *testing.T, endpoint string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		Endpoint:       endpoint,
		TokenSource:    StaticTokenSource(testToken),
		UserAgent:      "tharsis-test/1.0",
		RequestTimeout: 10 * time.Second,
		Retry:          fastRetry,
		KeepAlive:      -1,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// countingTokens counts Token calls, i.e. HTTP attempts.
type countingTokens struct {
	n   atomic.Int32
	tok func(n int32) string
}

func (c *countingTokens) Token(context.Context) (string, error) {
	n := c.n.Add(1)
	if c.tok != nil {
		return c.tok(n), nil
	}
	return testToken, nil
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// gqlBody is what a GraphQL request carries.
type gqlBody struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
}

func readGQL(t *testing.T, r *http.Request) gqlBody {
	t.Helper()
	var b gqlBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		t.Errorf("decode request: %v", err)
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, v string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, v)
}

func asAPIError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *api.Error", err, err)
	}
	return e
}
