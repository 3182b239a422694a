package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// renewingTokens hands out "old" until told it was refused, then "new".
type renewingTokens struct {
	mu          sync.Mutex
	refused     bool
	invalidated []string
	stuck       bool // keeps returning "old" even after Invalidate
}

func (r *renewingTokens) Token(context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refused && !r.stuck {
		return "new", nil
	}
	return "old", nil
}

func (r *renewingTokens) Invalidate(tok string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refused = true
	r.invalidated = append(r.invalidated, tok)
}

func TestRetryWithRenewedTokenAfter401(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stuck    bool
		wantReqs int32
		wantErr  bool
	}{
		{"renewed token is accepted", false, 2, false},
		{"source cannot renew: no second request", true, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reqs atomic.Int32
			var bodies []string
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reqs.Add(1)
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if r.Header.Get("Authorization") != "Bearer new" {
					w.WriteHeader(http.StatusUnauthorized)
					_, _ = io.WriteString(w, `{"errors":[{"message":"token is expired","extensions":{"code":"UNAUTHENTICATED"}}],"data":null}`)
					return
				}
				_, _ = io.WriteString(w, `{"data":{"discardRun":{"run":null,"problems":[]}}}`)
			}))
			defer srv.Close()
			toks := &renewingTokens{stuck: tc.stuck}
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.TokenSource = toks })
			// A mutation: a 401 proves it was never executed, so it is re-sent.
			_, err := gql.DiscardRun(context.Background(), c.GraphQL(), gql.DiscardRunInput{RunId: "R"})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr && KindOf(err) != KindUnauthenticated {
				t.Errorf("kind = %s, want unauthenticated", KindOf(err))
			}
			if got := reqs.Load(); got != tc.wantReqs {
				t.Errorf("server saw %d requests, want %d", got, tc.wantReqs)
			}
			if len(toks.invalidated) != 1 || toks.invalidated[0] != "old" {
				t.Errorf("invalidated %v, want [old]", toks.invalidated)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, b := range bodies {
				if !strings.Contains(b, "DiscardRun") {
					t.Errorf("a request was sent without its body: %q", b)
				}
			}
		})
	}
}
