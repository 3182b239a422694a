package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/config"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeExchanger records exchanges and hands out numbered tokens.
type fakeExchanger struct {
	mu        sync.Mutex
	oidcCalls []string // "saID|oidcToken"
	ccCalls   []string // "clientID|secret"
	ttl       time.Duration
	err       error
	block     chan struct{} // when set, exchanges wait for it
	n         int
}

func (f *fakeExchanger) next() (Token, error) {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return Token{}, f.err
	}
	f.n++
	ttl := f.ttl
	if ttl == 0 {
		ttl = 15 * time.Minute
	}
	return Token{Value: fmt.Sprintf("tharsis-token-%d", f.n), ExpiresIn: ttl}, nil
}

func (f *fakeExchanger) CreateToken(ctx context.Context, saID, oidcToken string) (Token, error) {
	f.mu.Lock()
	f.oidcCalls = append(f.oidcCalls, saID+"|"+oidcToken)
	f.mu.Unlock()
	return f.next()
}

func (f *fakeExchanger) ClientCredentialsToken(ctx context.Context, clientID, secret string) (Token, error) {
	f.mu.Lock()
	f.ccCalls = append(f.ccCalls, clientID+"|"+secret)
	f.mu.Unlock()
	return f.next()
}

func (f *fakeExchanger) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.oidcCalls) + len(f.ccCalls)
}

// signedJWT makes an RS256 JWT with the given claims.
func signedJWT(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // test key
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPrecedence(t *testing.T) {
	clock := newClock()
	store := config.NewStore(t.TempDir(), nil)
	if err := store.SetToken("default", "stored-default"); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("oidc-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gh-request-token" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"value":"oidc-from-github-%s"}`, r.URL.Query().Get("audience"))
	}))
	t.Cleanup(gh.Close)

	sa := map[string]string{"THARSIS_SERVICE_ACCOUNT_ID": "ops/deployer", "THARSIS_SERVICE_ACCOUNT_TOKEN": "oidc-env"}
	cc := map[string]string{"THARSIS_CLIENT_ID": "ops/deployer", "THARSIS_CLIENT_SECRET": "s3cret"}
	static := map[string]string{"THARSIS_STATIC_TOKEN": "static-tok"}
	merge := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name     string
		env      map[string]string
		wantKind Kind
		wantTok  string
		wantCall string // the exchange call, "" for none
		wantSrc  string // in the description
		wantErr  string
	}{
		{name: "service account beats everything", env: merge(sa, cc, static), wantKind: KindServiceAccount,
			wantTok: "tharsis-token-1", wantCall: "trn:service_account:ops/deployer|oidc-env", wantSrc: "THARSIS_SERVICE_ACCOUNT_TOKEN"},
		{name: "client credentials beat static", env: merge(cc, static), wantKind: KindClientCredentials,
			wantTok: "tharsis-token-1", wantCall: "trn:service_account:ops/deployer|s3cret", wantSrc: "THARSIS_CLIENT_ID"},
		{name: "static beats stored", env: static, wantKind: KindStaticToken, wantTok: "static-tok"},
		{name: "stored", env: nil, wantKind: KindProfileToken, wantTok: "stored-default"},
		{name: "deprecated path alias", env: map[string]string{"THARSIS_SERVICE_ACCOUNT_PATH": "ops/deployer", "THARSIS_SERVICE_ACCOUNT_TOKEN": "oidc-env"},
			wantKind: KindServiceAccount, wantTok: "tharsis-token-1", wantCall: "trn:service_account:ops/deployer|oidc-env"},
		{name: "id wins over the deprecated path", env: map[string]string{"THARSIS_SERVICE_ACCOUNT_ID": "trn:service_account:a/b",
			"THARSIS_SERVICE_ACCOUNT_PATH": "ops/deployer", "THARSIS_SERVICE_ACCOUNT_TOKEN": "oidc-env"},
			wantKind: KindServiceAccount, wantTok: "tharsis-token-1", wantCall: "trn:service_account:a/b|oidc-env"},
		{name: "token file", env: map[string]string{"THARSIS_SERVICE_ACCOUNT_ID": "U0FfMQ", "THARSIS_SERVICE_ACCOUNT_TOKEN_FILE": tokenFile},
			wantKind: KindServiceAccount, wantTok: "tharsis-token-1", wantCall: "trn:service_account:U0FfMQ|oidc-from-file", wantSrc: tokenFile},
		{name: "github actions with default audience", env: map[string]string{"THARSIS_SERVICE_ACCOUNT_ID": "ops/deployer",
			"ACTIONS_ID_TOKEN_REQUEST_URL": gh.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request-token"},
			wantKind: KindServiceAccount, wantTok: "tharsis-token-1", wantCall: "trn:service_account:ops/deployer|oidc-from-github-tharsis", wantSrc: "GitHub Actions"},
		{name: "github actions with audience", env: map[string]string{"THARSIS_SERVICE_ACCOUNT_ID": "ops/deployer", "THARSIS_OIDC_AUDIENCE": "https://tharsis.example.com",
			"ACTIONS_ID_TOKEN_REQUEST_URL": gh.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request-token"},
			wantKind: KindServiceAccount, wantTok: "tharsis-token-1", wantCall: "trn:service_account:ops/deployer|oidc-from-github-https://tharsis.example.com"},
		{name: "an explicit token beats github actions", env: map[string]string{"THARSIS_SERVICE_ACCOUNT_ID": "ops/deployer", "THARSIS_SERVICE_ACCOUNT_TOKEN": "oidc-env",
			"ACTIONS_ID_TOKEN_REQUEST_URL": gh.URL + "/token", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request-token"},
			wantKind: KindServiceAccount, wantTok: "tharsis-token-1", wantCall: "trn:service_account:ops/deployer|oidc-env"},
		{name: "id without token", env: map[string]string{"THARSIS_SERVICE_ACCOUNT_ID": "ops/deployer"}, wantErr: "no OIDC token"},
		{name: "token without id", env: map[string]string{"THARSIS_SERVICE_ACCOUNT_TOKEN": "x"}, wantErr: "THARSIS_SERVICE_ACCOUNT_ID is not"},
		{name: "token and file", env: map[string]string{"THARSIS_SERVICE_ACCOUNT_ID": "a/b", "THARSIS_SERVICE_ACCOUNT_TOKEN": "x", "THARSIS_SERVICE_ACCOUNT_TOKEN_FILE": tokenFile}, wantErr: "both"},
		{name: "client id without secret", env: map[string]string{"THARSIS_CLIENT_ID": "a/b"}, wantErr: "THARSIS_CLIENT_SECRET is not"},
		{name: "client secret without id", env: map[string]string{"THARSIS_CLIENT_SECRET": "zzz"}, wantErr: "THARSIS_CLIENT_ID is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := &fakeExchanger{}
			var warnings []string
			ts, d, err := New(Options{
				Getenv:       envOf(tt.env),
				Profile:      "default",
				Store:        store,
				NewExchanger: func() (Exchanger, error) { return ex, nil },
				HTTPClient:   gh.Client(),
				Now:          clock.Now,
				Warn:         func(m string) { warnings = append(warnings, m) },
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if api.KindOf(err) != api.KindUnauthenticated {
					t.Errorf("kind = %v", api.KindOf(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Kind != tt.wantKind {
				t.Errorf("kind = %v, want %v", d.Kind, tt.wantKind)
			}
			if !strings.Contains(d.String(), tt.wantSrc) {
				t.Errorf("description %q does not name %q", d.String(), tt.wantSrc)
			}
			if ex.calls() != 0 {
				t.Errorf("exchanged before the first request")
			}
			tok, err := ts.Token(context.Background())
			if err != nil || tok != tt.wantTok {
				t.Fatalf("Token() = %q, %v; want %q", tok, err, tt.wantTok)
			}
			var calls []string
			calls = append(calls, ex.oidcCalls...)
			calls = append(calls, ex.ccCalls...)
			if tt.wantCall == "" && len(calls) != 0 || tt.wantCall != "" && (len(calls) != 1 || calls[0] != tt.wantCall) {
				t.Errorf("exchanges = %q, want %q", calls, tt.wantCall)
			}
			for _, secret := range []string{"oidc-env", "s3cret", "static-tok", "stored-default", "gh-request-token", tok} {
				if strings.Contains(d.String(), secret) || strings.Contains(fmt.Sprint(d), secret) {
					t.Errorf("description leaks %q: %q", secret, d.String())
				}
			}
			if _, deprecated := tt.env["THARSIS_SERVICE_ACCOUNT_PATH"]; deprecated && tt.env["THARSIS_SERVICE_ACCOUNT_ID"] == "" {
				if len(warnings) != 1 || !strings.Contains(warnings[0], "deprecated") {
					t.Errorf("warnings = %q", warnings)
				}
			} else if len(warnings) != 0 {
				t.Errorf("unexpected warnings %q", warnings)
			}
		})
	}
}

func TestRenewalWithFakeClock(t *testing.T) {
	tests := []struct {
		name       string
		ttl        time.Duration
		stillValid time.Duration // a call this long after the exchange reuses the token
		renewed    time.Duration // a call this long after it renews
	}{
		{name: "15 minutes renews 60s before", ttl: 15 * time.Minute, stillValid: 13*time.Minute + 59*time.Second, renewed: 14 * time.Minute},
		{name: "short tokens renew at three quarters", ttl: 4 * time.Second, stillValid: 2900 * time.Millisecond, renewed: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			ex := &fakeExchanger{ttl: tt.ttl}
			ts, _, err := New(Options{
				Getenv:       envOf(map[string]string{"THARSIS_CLIENT_ID": "a/b", "THARSIS_CLIENT_SECRET": "x"}),
				NewExchanger: func() (Exchanger, error) { return ex, nil },
				Now:          clock.Now,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			first, _ := ts.Token(ctx)
			clock.Add(tt.stillValid)
			if tok, _ := ts.Token(ctx); tok != first || ex.calls() != 1 {
				t.Fatalf("token renewed too early: %q after %d exchanges", tok, ex.calls())
			}
			clock.Add(tt.renewed - tt.stillValid)
			second, err := ts.Token(ctx)
			if err != nil || second == first || ex.calls() != 2 {
				t.Fatalf("token not renewed: %q, %v after %d exchanges", second, err, ex.calls())
			}
			exp, ok := ExpiresAt(ts)
			if !ok || !exp.Equal(clock.Now().Add(tt.ttl)) {
				t.Errorf("ExpiresAt = %v, %v", exp, ok)
			}
			// A 401 drops the token once: the next call renews.
			ts.(Invalidator).Invalidate("not-the-current-token")
			if tok, _ := ts.Token(ctx); tok != second {
				t.Errorf("invalidating another token dropped the current one")
			}
			ts.(Invalidator).Invalidate(second)
			if tok, _ := ts.Token(ctx); tok == second || ex.calls() != 3 {
				t.Errorf("Invalidate did not force a renewal: %q, %d exchanges", tok, ex.calls())
			}
		})
	}
}

func TestExpiryFromJWTWhenExpiresInIsMissing(t *testing.T) {
	clock := newClock()
	tok := signedJWT(t, jwt.MapClaims{"exp": clock.Now().Add(10 * time.Minute).Unix()})
	ex := exchangerFunc(func() (Token, error) { return Token{Value: tok}, nil })
	ts := newRenewingSource("test", func(ctx context.Context) (Token, error) { return ex() }, clock.Now, nil)
	if _, err := ts.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	exp, ok := ts.ExpiresAt()
	if !ok || !exp.Equal(clock.Now().Add(10*time.Minute)) {
		t.Errorf("ExpiresAt = %v", exp)
	}
}

type exchangerFunc func() (Token, error)

func TestConcurrentCallersShareOneExchange(t *testing.T) {
	ex := &fakeExchanger{block: make(chan struct{})}
	ts, _, err := New(Options{
		Getenv:       envOf(map[string]string{"THARSIS_SERVICE_ACCOUNT_ID": "a/b", "THARSIS_SERVICE_ACCOUNT_TOKEN": "oidc"}),
		NewExchanger: func() (Exchanger, error) { return ex, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	toks := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], _ = ts.Token(context.Background())
		}()
	}
	// Callers arriving while the exchange is blocked wait for it; late
	// ones find the cached token. Either way there is one exchange.
	close(ex.block)
	wg.Wait()
	if ex.calls() != 1 {
		t.Errorf("%d exchanges, want 1", ex.calls())
	}
	for _, tok := range toks {
		if tok != "tharsis-token-1" {
			t.Errorf("token %q", tok)
		}
	}
}

func TestCanceledLeaderDoesNotFailOthers(t *testing.T) {
	var calls atomic.Int32
	release, entered := make(chan struct{}), make(chan struct{})
	ts := newRenewingSource("test", func(ctx context.Context) (Token, error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-ctx.Done() // the first caller gives up mid-exchange
			return Token{}, ctx.Err()
		}
		<-release
		return Token{Value: "ok", ExpiresIn: time.Minute}, nil
	}, nil, nil)
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := ts.Token(leaderCtx)
		leaderErr <- err
	}()
	<-entered
	follower := make(chan string, 1)
	go func() {
		tok, _ := ts.Token(context.Background())
		follower <- tok
	}()
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Errorf("leader err = %v", err)
	}
	close(release)
	if tok := <-follower; tok != "ok" {
		t.Errorf("follower token = %q", tok)
	}
}

func TestTokenFileIsReReadOnEachExchange(t *testing.T) {
	clock := newClock()
	file := filepath.Join(t.TempDir(), "token")
	_ = os.WriteFile(file, []byte("projected-1"), 0o600)
	ex := &fakeExchanger{ttl: 15 * time.Minute}
	ts, _, err := New(Options{
		Getenv:       envOf(map[string]string{"THARSIS_SERVICE_ACCOUNT_ID": "a/b", "THARSIS_SERVICE_ACCOUNT_TOKEN_FILE": file}),
		NewExchanger: func() (Exchanger, error) { return ex, nil },
		Now:          clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = ts.Token(context.Background())
	_ = os.WriteFile(file, []byte("projected-2\n"), 0o600)
	clock.Add(15 * time.Minute)
	_, _ = ts.Token(context.Background())
	want := []string{"trn:service_account:a/b|projected-1", "trn:service_account:a/b|projected-2"}
	if fmt.Sprint(ex.oidcCalls) != fmt.Sprint(want) {
		t.Errorf("exchanges = %q, want %q", ex.oidcCalls, want)
	}
	_ = os.WriteFile(file, nil, 0o600)
	clock.Add(15 * time.Minute)
	if _, err := ts.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty file: err = %v", err)
	}
}

func TestGitHubActionsFailure(t *testing.T) {
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable"}`, http.StatusForbidden)
	}))
	t.Cleanup(gh.Close)
	ts, _, err := New(Options{
		Getenv: envOf(map[string]string{"THARSIS_SERVICE_ACCOUNT_ID": "a/b",
			"ACTIONS_ID_TOKEN_REQUEST_URL": gh.URL + "/x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request-token"}),
		NewExchanger: func() (Exchanger, error) { return &fakeExchanger{}, nil },
		HTTPClient:   gh.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Token(context.Background())
	if api.KindOf(err) != api.KindUnauthenticated || !strings.Contains(err.Error(), "403") {
		t.Fatalf("err = %v", err)
	}
	if ae := err.(*api.Error); !strings.Contains(ae.Hint, "id-token: write") {
		t.Errorf("hint = %q", ae.Hint)
	}
	if strings.Contains(err.Error(), "gh-request-token") {
		t.Error("request token leaked")
	}
}

func TestExchangeFailureExplainsWithoutTheToken(t *testing.T) {
	clock := newClock()
	good := signedJWT(t, jwt.MapClaims{"iss": "https://token.actions.githubusercontent.com", "aud": "tharsis",
		"sub": "repo:org/app:ref:refs/heads/main", "repository": "org/app", "exp": clock.Now().Add(5 * time.Minute).Unix()})
	expired := signedJWT(t, jwt.MapClaims{"iss": "https://issuer.example", "exp": clock.Now().Add(-time.Minute).Unix()})
	noIss := signedJWT(t, jwt.MapClaims{"sub": "x", "exp": clock.Now().Add(time.Minute).Unix()})
	refused := func(oidc string) error {
		return &api.Error{Kind: api.KindUnauthenticated, StatusCode: 401, Code: "UNAUTHENTICATED",
			Message: "failed to create service account token for service account \"x\": echo " + oidc}
	}
	tests := []struct {
		name      string
		oidc      string
		err       func(string) error
		wantKind  api.Kind
		wantHints []string
	}{
		{name: "claims do not match", oidc: good, err: refused, wantKind: api.KindUnauthenticated,
			wantHints: []string{"issued by https://token.actions.githubusercontent.com", `audience "tharsis"`, `subject "repo:org/app:ref:refs/heads/main"`,
				"trust policies has the issuer", "bound claims", `repository="org/app"`}},
		{name: "expired", oidc: expired, err: refused, wantKind: api.KindUnauthenticated, wantHints: []string{"expired at", "THARSIS_SERVICE_ACCOUNT_TOKEN_FILE"}},
		{name: "no issuer", oidc: noIss, err: refused, wantKind: api.KindUnauthenticated, wantHints: []string{"no issuer"}},
		{name: "not a JWT", oidc: "definitely-not-a-jwt", err: refused, wantKind: api.KindUnauthenticated, wantHints: []string{"not a JWT"}},
		{name: "transient failures pass through", oidc: good, err: func(string) error {
			return &api.Error{Kind: api.KindTransient, Message: "gave up"}
		}, wantKind: api.KindTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := &fakeExchanger{err: tt.err(tt.oidc)}
			_, err := ExchangeOIDC(context.Background(), ex, "trn:service_account:ops/deployer", StaticOIDCToken("THARSIS_SERVICE_ACCOUNT_TOKEN", tt.oidc), clock.Now)
			if api.KindOf(err) != tt.wantKind {
				t.Fatalf("err = %v (kind %v)", err, api.KindOf(err))
			}
			var ae *api.Error
			errors.As(err, &ae)
			for _, h := range tt.wantHints {
				if !strings.Contains(ae.Hint, h) {
					t.Errorf("hint lacks %q:\n%s", h, ae.Hint)
				}
			}
			if tt.wantKind == api.KindUnauthenticated {
				if strings.Contains(err.Error(), tt.oidc) || strings.Contains(ae.Hint, tt.oidc) {
					t.Errorf("the OIDC token appears in the error: %v / %s", err, ae.Hint)
				}
				if !strings.Contains(err.Error(), "trn:service_account:ops/deployer") {
					t.Errorf("error does not name the service account: %v", err)
				}
			}
		})
	}
}

func TestClientCredentialsFailure(t *testing.T) {
	ex := &fakeExchanger{err: &api.Error{Kind: api.KindUnauthenticated, StatusCode: 401, Message: "failed to create service account token due to one of the following reasons"}}
	ts, _, err := New(Options{
		Getenv:       envOf(map[string]string{"THARSIS_CLIENT_ID": "ops/deployer", "THARSIS_CLIENT_SECRET": "hunter2-secret"}),
		NewExchanger: func() (Exchanger, error) { return ex, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Token(context.Background())
	if api.KindOf(err) != api.KindUnauthenticated || !strings.Contains(err.Error(), "client credentials") {
		t.Fatalf("err = %v", err)
	}
	if ae := err.(*api.Error); !strings.Contains(ae.Hint, "client credentials are enabled") || strings.Contains(ae.Hint+err.Error(), "hunter2-secret") {
		t.Errorf("hint = %q", ae.Hint)
	}
}

func TestExpiredTokens(t *testing.T) {
	clock := newClock()
	expired := signedJWT(t, jwt.MapClaims{"exp": clock.Now().Add(-time.Second).Unix(), "type": "user_session_access"})
	valid := signedJWT(t, jwt.MapClaims{"exp": clock.Now().Add(time.Hour).Unix()})
	store := config.NewStore(t.TempDir(), nil)
	_ = store.SetToken("prod", expired)
	_ = store.SetToken("default", valid)
	tests := []struct {
		name    string
		env     map[string]string
		profile string
		wantErr string
		wantExp time.Time
	}{
		{name: "expired session", profile: "prod", wantErr: "your session expired at " + formatTime(clock.Now().Add(-time.Second)) + ", run `tharsis sso login -p prod`"},
		{name: "valid session", profile: "default", wantExp: clock.Now().Add(time.Hour)},
		{name: "expired static token", env: map[string]string{"THARSIS_STATIC_TOKEN": expired}, wantErr: "THARSIS_STATIC_TOKEN expired at"},
		{name: "opaque static token", env: map[string]string{"THARSIS_STATIC_TOKEN": "opaque"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _, err := New(Options{Getenv: envOf(tt.env), Profile: tt.profile, Store: store, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := ts.Token(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || api.KindOf(err) != api.KindUnauthenticated {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), expired) {
					t.Error("token in the error")
				}
				return
			}
			if err != nil || tok == "" {
				t.Fatalf("Token() = %q, %v", tok, err)
			}
			exp, ok := ExpiresAt(ts)
			if ok != !tt.wantExp.IsZero() || !exp.Equal(tt.wantExp) {
				t.Errorf("ExpiresAt = %v, %v; want %v", exp, ok, tt.wantExp)
			}
		})
	}
}
