package auth_test

// End-to-end tests: the whole CLI (clitest.Run) against the sandbox, with
// a test OIDC issuer playing the CI platform.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

const subject = "repo:org/app:ref:refs/heads/main"

type world struct {
	srv    *sandbox.Server
	iss    *sandbox.OIDCIssuer
	sa     string // group/name
	secret string // client secret
}

func newWorld(t *testing.T, opts ...sandboxtest.Option) *world {
	t.Helper()
	srv := sandboxtest.Start(t, opts...)
	iss := sandboxtest.StartIssuer(t)
	sa, err := srv.CreateServiceAccount(sandbox.SeedGroup, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddTrustPolicy(sa, sandbox.TrustPolicy{Issuer: iss.URL(), BoundClaims: []sandbox.JWTClaim{{Name: "sub", Value: subject}}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddMembership(sandbox.SeedGroup, "service_account", sa, "deployer"); err != nil {
		t.Fatal(err)
	}
	secret, err := srv.ResetServiceAccountClientSecret(sa)
	if err != nil {
		t.Fatal(err)
	}
	return &world{srv: srv, iss: iss, sa: sa, secret: secret}
}

func (w *world) mint(t *testing.T, claims map[string]any, ttl time.Duration) string {
	t.Helper()
	c := map[string]any{"sub": subject}
	for k, v := range claims {
		c[k] = v
	}
	tok, err := w.iss.Mint(c, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (w *world) env(kv ...string) map[string]string {
	m := map[string]string{"THARSIS_ENDPOINT": w.srv.URL(), "NO_COLOR": "1"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// whoami runs `whoami -o json` and decodes it.
func whoami(t *testing.T, env map[string]string) (map[string]any, clitest.Result) {
	t.Helper()
	r := runCLI(t, clitest.Options{Env: env}, "whoami", "-o", "json")
	var out map[string]any
	if r.Code == 0 {
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
			t.Fatalf("whoami json: %v: %q", err, r.Stdout)
		}
	}
	return out, r
}

// fakeGitHub serves GitHub Actions' token request: it checks the request
// token and mints an ID token for the requested audience.
func fakeGitHub(t *testing.T, w *world, requestToken string) *httptest.Server {
	gh := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+requestToken || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(rw, `{"message":"bad request token"}`, http.StatusUnauthorized)
			return
		}
		tok, err := w.iss.Mint(map[string]any{"sub": subject, "aud": r.URL.Query().Get("audience")}, 5*time.Minute)
		if err != nil {
			http.Error(rw, err.Error(), 500)
			return
		}
		fmt.Fprintf(rw, `{"count":1,"value":%q}`, tok)
	}))
	t.Cleanup(gh.Close)
	return gh
}

func TestEverySource(t *testing.T) {
	w := newWorld(t)
	oidc := w.mint(t, nil, 10*time.Minute)
	tokenFile := filepath.Join(t.TempDir(), "oidc-token")
	if err := os.WriteFile(tokenFile, []byte(oidc+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gh := fakeGitHub(t, w, "gh-request-token-123")
	// The aud of GitHub's tokens is the requested audience: bind it.
	ghSA, _ := w.srv.CreateServiceAccount(sandbox.SeedGroup, "gha")
	_ = w.srv.AddTrustPolicy(ghSA, sandbox.TrustPolicy{Issuer: w.iss.URL(), BoundClaims: []sandbox.JWTClaim{{Name: "sub", Value: subject}, {Name: "aud", Value: "https://tharsis.example.com"}}})
	_ = w.srv.AddMembership(sandbox.SeedGroup, "service_account", ghSA, "viewer")
	admin := w.srv.AdminToken()

	// A settings directory with a stored token for profile "default".
	cfgDir := t.TempDir()
	store := config.NewStore(cfgDir, nil)
	st := &config.Settings{}
	st.SetProfile("default", &config.Profile{Endpoint: w.srv.URL()})
	if err := store.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	if err := store.SetToken("default", admin); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		env      map[string]string
		wantType string // user or service_account
		wantKind string
		wantPath string // service account path
	}{
		{"service account, token", w.env("THARSIS_SERVICE_ACCOUNT_ID", w.sa, "THARSIS_SERVICE_ACCOUNT_TOKEN", oidc), "service_account", "service_account", w.sa},
		{"service account, TRN and token file", w.env("THARSIS_SERVICE_ACCOUNT_ID", "trn:service_account:"+w.sa, "THARSIS_SERVICE_ACCOUNT_TOKEN_FILE", tokenFile), "service_account", "service_account", w.sa},
		{"service account, deprecated path", w.env("THARSIS_SERVICE_ACCOUNT_PATH", w.sa, "THARSIS_SERVICE_ACCOUNT_TOKEN", oidc), "service_account", "service_account", w.sa},
		{"service account, GitHub Actions", w.env("THARSIS_SERVICE_ACCOUNT_ID", ghSA, "THARSIS_OIDC_AUDIENCE", "https://tharsis.example.com",
			"ACTIONS_ID_TOKEN_REQUEST_URL", gh.URL+"/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request-token-123"), "service_account", "service_account", ghSA},
		{"client credentials", w.env("THARSIS_CLIENT_ID", w.sa, "THARSIS_CLIENT_SECRET", w.secret), "service_account", "client_credentials", w.sa},
		{"static token", w.env("THARSIS_STATIC_TOKEN", admin), "user", "static_token", ""},
		{"stored token", map[string]string{"THARSIS_CONFIG_DIR": cfgDir}, "user", "profile_token", ""},
		// Precedence: service account > client credentials > static > stored.
		{"service account beats the rest", w.env("THARSIS_CONFIG_DIR", cfgDir, "THARSIS_SERVICE_ACCOUNT_ID", w.sa, "THARSIS_SERVICE_ACCOUNT_TOKEN", oidc,
			"THARSIS_CLIENT_ID", ghSA, "THARSIS_CLIENT_SECRET", "wrong", "THARSIS_STATIC_TOKEN", admin), "service_account", "service_account", w.sa},
		{"client credentials beat static and stored", w.env("THARSIS_CONFIG_DIR", cfgDir, "THARSIS_CLIENT_ID", w.sa, "THARSIS_CLIENT_SECRET", w.secret,
			"THARSIS_STATIC_TOKEN", "not-a-valid-token"), "service_account", "client_credentials", w.sa},
		{"static beats stored", w.env("THARSIS_CONFIG_DIR", cfgDir, "THARSIS_STATIC_TOKEN", admin), "user", "static_token", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, r := whoami(t, tt.env)
			if r.Code != 0 {
				t.Fatalf("exit %d: %s", r.Code, r.Stderr)
			}
			cred, _ := out["credential"].(map[string]any)
			if out["type"] != tt.wantType || cred["kind"] != tt.wantKind {
				t.Fatalf("type %v, credential %v", out["type"], cred)
			}
			if tt.wantPath != "" && out["resource_path"] != tt.wantPath {
				t.Errorf("resource_path = %v", out["resource_path"])
			}
			exp, _ := out["credential_expires_at"].(string)
			at, err := time.Parse(time.RFC3339, exp)
			if err != nil || !at.After(time.Now()) {
				t.Errorf("credential_expires_at = %q", exp)
			}
			if strings.Contains(tt.name, "deprecated") && !strings.Contains(r.Stderr, "THARSIS_SERVICE_ACCOUNT_PATH is deprecated") {
				t.Errorf("no deprecation warning: %q", r.Stderr)
			}
			assertNoSecrets(t, r, oidc, w.secret, admin, "gh-request-token-123")
		})
	}
	// The text form names the credential and its expiry.
	r := runCLI(t, clitest.Options{Env: w.env("THARSIS_SERVICE_ACCOUNT_ID", w.sa, "THARSIS_SERVICE_ACCOUNT_TOKEN", oidc)}, "whoami")
	for _, want := range []string{"Service account:  " + w.sa, "via OIDC token exchange (OIDC token from THARSIS_SERVICE_ACCOUNT_TOKEN)", "Expires:", "renewed automatically"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("whoami text lacks %q:\n%s", want, r.Stdout)
		}
	}
}

func TestOneExchangePerCommand(t *testing.T) {
	w := newWorld(t)
	oidc := w.mint(t, nil, 10*time.Minute)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte("resource \"terraform_data\" \"a\" { input = \"x\" }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := w.srv.RequestCount("ServiceAccountCreateToken")
	r := runCLI(t, clitest.Options{Env: w.env("THARSIS_SERVICE_ACCOUNT_ID", w.sa, "THARSIS_SERVICE_ACCOUNT_TOKEN", oidc)},
		"apply", sandbox.SeedWorkspace, "--directory-path", dir, "--auto-approve")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if n := w.srv.RequestCount("ServiceAccountCreateToken") - before; n != 1 {
		t.Errorf("%d exchanges for one command, want 1", n)
	}
	if w.srv.RequestCount("upload") == 0 {
		t.Error("the configuration was not uploaded")
	}
}

func TestFailures(t *testing.T) {
	w := newWorld(t)
	other := sandboxtest.StartIssuer(t)
	otherTok, _ := other.Mint(map[string]any{"sub": subject}, time.Minute)
	forged, _ := w.iss.MintForged(map[string]any{"sub": subject}, time.Minute)
	expiredOIDC := w.mint(t, nil, -time.Minute)
	wrongClaim := w.mint(t, map[string]any{"sub": "repo:org/other:ref:refs/heads/main"}, time.Minute)
	expiredSession, _ := w.srv.IssueToken(sandbox.SeedAdmin, -time.Minute)

	cfgDir := t.TempDir()
	store := config.NewStore(cfgDir, nil)
	st := &config.Settings{}
	st.SetProfile("prod", &config.Profile{Endpoint: w.srv.URL()})
	_ = store.SaveSettings(st)
	_ = store.SetToken("prod", expiredSession)

	sa := func(tok string) map[string]string {
		return w.env("THARSIS_SERVICE_ACCOUNT_ID", w.sa, "THARSIS_SERVICE_ACCOUNT_TOKEN", tok)
	}
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		want  []string
		token string // must not appear anywhere
	}{
		{name: "expired OIDC token", env: sa(expiredOIDC), want: []string{"token is expired", "expired at", "THARSIS_SERVICE_ACCOUNT_TOKEN_FILE"}, token: expiredOIDC},
		{name: "wrong issuer", env: sa(otherTok), want: []string{"refused the OIDC token", "issued by " + other.URL(), "trust policies has the issuer " + other.URL()}, token: otherTok},
		{name: "wrong claim", env: sa(wrongClaim), want: []string{"refused the OIDC token", `subject "repo:org/other:ref:refs/heads/main"`, "bound claims"}, token: wrongClaim},
		{name: "bad signature", env: sa(forged), want: []string{"refused the OIDC token", "issued by " + w.iss.URL()}, token: forged},
		{name: "not a JWT", env: sa("not-a-jwt-at-all"), want: []string{"not a valid JWT", "not a JWT"}, token: "not-a-jwt-at-all"},
		{name: "unknown service account", env: w.env("THARSIS_SERVICE_ACCOUNT_ID", "sandbox/nope", "THARSIS_SERVICE_ACCOUNT_TOKEN", w.mint(t, nil, time.Minute)),
			want: []string{"trn:service_account:sandbox/nope", "exists"}},
		{name: "token file missing", env: w.env("THARSIS_SERVICE_ACCOUNT_ID", w.sa, "THARSIS_SERVICE_ACCOUNT_TOKEN_FILE", filepath.Join(t.TempDir(), "nope")),
			want: []string{"no such file", "THARSIS_SERVICE_ACCOUNT_TOKEN_FILE"}},
		{name: "id without token", env: w.env("THARSIS_SERVICE_ACCOUNT_ID", w.sa), want: []string{"no OIDC token to log in with", "id-token: write"}},
		{name: "wrong client secret", env: w.env("THARSIS_CLIENT_ID", w.sa, "THARSIS_CLIENT_SECRET", "wrong-secret-value"),
			want: []string{"refused the client credentials", "client credentials are enabled"}, token: "wrong-secret-value"},
		{name: "client id without secret", env: w.env("THARSIS_CLIENT_ID", w.sa), want: []string{"THARSIS_CLIENT_SECRET is not"}},
		{name: "expired static token", env: w.env("THARSIS_STATIC_TOKEN", expiredSession), want: []string{"THARSIS_STATIC_TOKEN expired at"}, token: expiredSession},
		{name: "expired stored token", env: map[string]string{"THARSIS_CONFIG_DIR": cfgDir}, args: []string{"-p", "prod"},
			want: []string{"your session expired at", "run `tharsis sso login -p prod`"}, token: expiredSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := totalRequests(t, w.srv)
			r := runCLI(t, clitest.Options{Env: tt.env}, append(tt.args, "whoami")...)
			if r.Code != cmdutil.ExitAuth {
				t.Fatalf("exit %d, want 4: %s", r.Code, r.Stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
				}
			}
			if r.Stdout != "" {
				t.Errorf("stdout = %q", r.Stdout)
			}
			assertNoSecrets(t, r, tt.token, w.secret)
			if strings.Contains(tt.name, "expired st") || strings.Contains(tt.name, "without") {
				// Refused before any request reached the API.
				if n := totalRequests(t, w.srv) - before; n != 0 {
					t.Errorf("%d requests sent with a credential known to be unusable", n)
				}
			}
		})
	}
}

// TestRenewalDuringLongApply: tokens live 3 s in the sandbox, the apply
// takes several times that, and websocket connections drop and reconnect
// along the way. The command must keep streaming and finish, renewing the
// token instead of exchanging it for every request.
func TestRenewalDuringLongApply(t *testing.T) {
	const ttl = 2 * time.Second
	for _, kind := range []string{"oidc", "client_credentials"} {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t,
				sandboxtest.WithOptions(func(o *sandbox.Options) { o.ServiceAccountTokenTTL = ttl }),
				sandboxtest.WithKnobs(func(k *sandbox.Knobs) {
					k.JobDuration = 3 * ttl / 2 // per job: plan and apply together last 3 token lifetimes
					k.LogVolumeBytes = 64 << 10
					k.DropWebsocketAfterBytes = 16 << 10 // reconnects long after the first token expired
				}))
			env := w.env("THARSIS_SERVICE_ACCOUNT_ID", w.sa, "THARSIS_SERVICE_ACCOUNT_TOKEN", w.mint(t, nil, time.Hour), "THARSIS_CLI_LOG", "debug")
			op := "ServiceAccountCreateToken"
			if kind == "client_credentials" {
				env = w.env("THARSIS_CLIENT_ID", w.sa, "THARSIS_CLIENT_SECRET", w.secret, "THARSIS_CLI_LOG", "debug")
				op = "client_credentials"
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte("resource \"terraform_data\" \"a\" { input = \"long\" }\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := runCLI(t, clitest.Options{Env: env}, "apply", sandbox.SeedWorkspace, "--directory-path", dir, "--auto-approve")
			elapsed := time.Since(start)
			if r.Code != 0 {
				t.Fatalf("exit %d after %s:\n%s", r.Code, elapsed, r.Stderr)
			}
			runs := w.srv.Runs(sandbox.SeedWorkspace)
			if len(runs) != 1 || runs[0].Status != "applied" {
				t.Fatalf("runs = %+v", runs)
			}
			if !strings.Contains(r.Stdout, "Apply complete") {
				t.Errorf("the apply log did not stream to the end:\n%s", tail(r.Stdout))
			}
			exchanges := w.srv.RequestCount(op)
			t.Logf("%s: %d exchanges, %d requests, %d websocket connections", elapsed, exchanges, totalRequests(t, w.srv), w.srv.RequestCount("websocket"))
			if exchanges < 2 {
				t.Errorf("%d exchanges in a run of %s with %s tokens: the token was not renewed", exchanges, elapsed, ttl)
			}
			if total := totalRequests(t, w.srv); exchanges*2 > total {
				t.Errorf("%d exchanges for %d requests: tokens are not cached", exchanges, total)
			}
			if w.srv.RequestCount("websocket") < 3 {
				t.Errorf("only %d websocket connections: the drops did not force reconnects", w.srv.RequestCount("websocket"))
			}
			if !strings.Contains(r.Stderr, "auth: obtained token") {
				t.Errorf("no renewal in the debug log")
			}
			assertNoSecrets(t, r, env["THARSIS_SERVICE_ACCOUNT_TOKEN"], w.secret)
		})
	}
}

// TestNoSecretsInOutputOrDebugLogs runs the flows with trace logging and
// JSON output and looks for every token and secret in stdout, stderr and
// every file the CLI wrote.
func TestNoSecretsInOutputOrDebugLogs(t *testing.T) {
	w := newWorld(t)
	oidc := w.mint(t, nil, 10*time.Minute)
	gh := fakeGitHub(t, w, "gh-request-token-xyz")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte("resource \"terraform_data\" \"a\" { input = \"x\" }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []map[string]string{
		w.env("THARSIS_SERVICE_ACCOUNT_ID", w.sa, "THARSIS_SERVICE_ACCOUNT_TOKEN", oidc),
		w.env("THARSIS_CLIENT_ID", w.sa, "THARSIS_CLIENT_SECRET", w.secret),
		w.env("THARSIS_SERVICE_ACCOUNT_ID", w.sa, "ACTIONS_ID_TOKEN_REQUEST_URL", gh.URL+"/t?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request-token-xyz"),
		w.env("THARSIS_STATIC_TOKEN", w.srv.AdminToken()),
	}
	for i, env := range cases {
		cfgDir, home := t.TempDir(), t.TempDir()
		env["THARSIS_CONFIG_DIR"], env["HOME"] = cfgDir, home
		for _, args := range [][]string{
			{"--log-level", "trace", "-o", "json", "whoami"},
			{"--log-level", "trace", "apply", sandbox.SeedWorkspace, "--directory-path", dir, "--auto-approve"},
			{"--log-level", "debug", "-o", "json", "apply", sandbox.SeedWorkspace, "--directory-path", dir, "--auto-approve"},
		} {
			r := runCLI(t, clitest.Options{Env: env}, args...)
			if r.Code != 0 {
				t.Fatalf("case %d %v: exit %d: %s", i, args, r.Code, r.Stderr)
			}
			if !strings.Contains(r.Stderr, "level=DEBUG") {
				t.Fatalf("case %d: no debug log", i)
			}
			secrets := []string{oidc, w.secret, "gh-request-token-xyz", w.srv.AdminToken()}
			// The Tharsis tokens the CLI obtained: every JWT the sandbox
			// issued is signed by it, so look for any JWT at all.
			assertNoSecrets(t, r, secrets...)
			if strings.Contains(r.Stdout+r.Stderr, "eyJ") {
				t.Errorf("case %d %v: a JWT appears in the output", i, args)
			}
			for _, d := range []string{cfgDir, home} {
				_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
					if err != nil || e.IsDir() {
						return err
					}
					b, _ := os.ReadFile(p)
					if strings.Contains(string(b), "eyJ") || containsAny(string(b), secrets) {
						t.Errorf("case %d: %s holds a token", i, p)
					}
					return nil
				})
			}
		}
	}
}

func assertNoSecrets(t *testing.T, r clitest.Result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(r.Stdout, s) {
			t.Errorf("stdout holds a secret (%.12s...)", s)
		}
		if strings.Contains(r.Stderr, s) {
			t.Errorf("stderr holds a secret (%.12s...)", s)
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if x != "" && strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// totalRequests sums the sandbox's request counters.
func totalRequests(t *testing.T, srv *sandbox.Server) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/_sandbox/requests", nil)
	req.Header.Set(sandbox.AdminKeyHeader, srv.AdminKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var counts map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&counts); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// syncBuffer is a buffer safe for concurrent writes: with debug logging,
// the logger and the run renderer write to stderr from different
// goroutines (fine on a real stderr, a data race on a bytes.Buffer).
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

// runCLI is clitest.Run with streams safe for concurrent writers.
func runCLI(t *testing.T, o clitest.Options, args ...string) clitest.Result {
	t.Helper()
	st, in, _, _ := ui.Test()
	in.WriteString(o.Stdin)
	out, errOut := &syncBuffer{}, &syncBuffer{}
	st.Out, st.ErrOut = out, errOut
	o.Streams = st
	r := clitest.Run(t, o, args...)
	r.Stdout, r.Stderr = out.String(), errOut.String()
	return r
}
