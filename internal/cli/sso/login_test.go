package sso_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
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

// watchWriter is a stderr that is safe for concurrent writes and hands the
// first login URL it sees to the simulated browser.
type watchWriter struct {
	mu   sync.Mutex
	b    bytes.Buffer
	re   *regexp.Regexp
	urls chan string
	sent bool
}

func newWatch(re string) *watchWriter {
	return &watchWriter{re: regexp.MustCompile(re), urls: make(chan string, 1)}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.b.Write(p)
	if !w.sent {
		if m := w.re.FindString(w.b.String()); m != "" {
			w.sent = true
			w.urls <- m
		}
	}
	return n, err
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

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

// browser is what the simulated browser did.
type browser struct {
	status int
	body   string
	final  *url.URL
	err    error
}

// login runs `tharsis <args>` and, when the login URL shows up on
// stderr, lets act play the browser with it.
func login(t *testing.T, env map[string]string, urlRe string, act func(string) browser, args ...string) (clitest.Result, browser) {
	t.Helper()
	st, _, _, _ := ui.Test()
	out, errOut := &syncBuffer{}, newWatch(urlRe)
	st.Out, st.ErrOut = out, errOut
	done := make(chan browser, 1)
	go func() {
		select {
		case u := <-errOut.urls:
			done <- act(u)
		case <-time.After(time.Minute):
			done <- browser{err: fmt.Errorf("no login URL printed")}
		}
	}()
	r := clitest.Run(t, clitest.Options{Env: env, Streams: st}, args...)
	r.Stdout, r.Stderr = out.String(), errOut.String()
	return r, <-done
}

// follow is a browser: it opens u and follows the redirects.
func follow(u string) browser {
	resp, err := http.Get(u)
	if err != nil {
		return browser{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return browser{status: resp.StatusCode, body: string(b), final: resp.Request.URL}
}

const sandboxURL = `http://127\.0\.0\.1:\d+/oauth/authorize\?\S+`

func TestSSOLoginWithSimulatedBrowser(t *testing.T) {
	srv := sandboxtest.Start(t, sandboxtest.WithOptions(func(o *sandbox.Options) { o.SSOUser = sandbox.SeedAdmin }))
	cfgDir := t.TempDir()
	env := map[string]string{"THARSIS_ENDPOINT": srv.URL(), "THARSIS_CONFIG_DIR": cfgDir, "THARSIS_NO_BROWSER": "1", "NO_COLOR": "1"}
	before := srv.RequestCount("oauth_token")
	r, b := login(t, env, sandboxURL, follow, "sso", "login", "-o", "json")
	if r.Code != 0 || b.err != nil {
		t.Fatalf("exit %d, browser %v:\n%s", r.Code, b.err, r.Stderr)
	}
	if b.status != 200 || !strings.Contains(b.body, "You are logged in") {
		t.Errorf("browser got %d %q", b.status, b.body)
	}
	// The callback is http://localhost:<port>/login with a port of the
	// reference CLI's range.
	if b.final.Hostname() != "localhost" || b.final.Path != "/login" || b.final.Port() < "21000" || b.final.Port() > "21199" {
		t.Errorf("callback URL %s", b.final)
	}
	if !strings.Contains(r.Stderr, "Open this URL in a browser") {
		t.Errorf("stderr = %q", r.Stderr)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil {
		t.Fatalf("stdout: %v: %q", err, r.Stdout)
	}
	if res["profile"] != "default" || res["username"] != sandbox.SeedAdmin || res["auth_type"] != "BASIC" || res["expires_at"] == nil {
		t.Errorf("result = %v", res)
	}
	if n := srv.RequestCount("oauth_token") - before; n != 1 {
		t.Errorf("%d code exchanges", n)
	}

	// The token is stored in the profile, readable by the user only, and
	// appears nowhere else.
	store := config.NewStore(cfgDir, nil)
	tok, err := store.Token("default")
	if err != nil || !strings.HasPrefix(tok, "eyJ") {
		t.Fatalf("stored token %q, %v", tok, err)
	}
	fi, err := os.Stat(store.CredentialsPath())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v, %v", fi.Mode(), err)
	}
	if strings.Contains(r.Stdout+r.Stderr, tok) {
		t.Error("the token was printed")
	}

	// whoami uses it and says so.
	w := clitest.Run(t, clitest.Options{Env: env}, "whoami")
	if w.Code != 0 || !strings.Contains(w.Stdout, "User:        admin") || !strings.Contains(w.Stdout, "token stored for profile \"default\"") ||
		!strings.Contains(w.Stdout, "Expires:") {
		t.Errorf("whoami: %d\n%s%s", w.Code, w.Stdout, w.Stderr)
	}

	// Logout removes it; a second logout has nothing to do.
	lo := clitest.Run(t, clitest.Options{Env: env}, "sso", "logout")
	if lo.Code != 0 || !strings.Contains(lo.Stderr, `Logged out of profile "default"`) {
		t.Errorf("logout: %d %q", lo.Code, lo.Stderr)
	}
	if tok, _ := store.Token("default"); tok != "" {
		t.Error("token still stored")
	}
	lo = clitest.Run(t, clitest.Options{Env: env}, "sso", "logout", "-o", "json")
	if lo.Code != 0 || strings.TrimSpace(lo.Stdout) != "{\n  \"profile\": \"default\",\n  \"logged_out\": false\n}" {
		t.Errorf("second logout: %d %q", lo.Code, lo.Stdout)
	}
	w = clitest.Run(t, clitest.Options{Env: env}, "whoami")
	if w.Code != cmdutil.ExitAuth || !strings.Contains(w.Stderr, "tharsis sso login") {
		t.Errorf("whoami after logout: %d %q", w.Code, w.Stderr)
	}
}

func TestSSOLoginKeepsWaitingWhenTheBrowserCannotOpen(t *testing.T) {
	srv := sandboxtest.Start(t, sandboxtest.WithOptions(func(o *sandbox.Options) { o.SSOUser = sandbox.SeedAdmin }))
	env := map[string]string{"THARSIS_ENDPOINT": srv.URL(), "BROWSER": "/nonexistent/browser", "NO_COLOR": "1"}
	r, b := login(t, env, sandboxURL, follow, "-p", "work", "sso", "login")
	if r.Code != 0 || b.status != 200 {
		t.Fatalf("exit %d, browser %d %v:\n%s", r.Code, b.status, b.err, r.Stderr)
	}
	for _, want := range []string{"Could not open a browser", "Open this URL in a browser", `Logged in to ` + srv.URL() + ` as admin (profile "work")`, "The session expires at"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
}

func TestSSOLoginStrayCallbacksAndFailures(t *testing.T) {
	srv := sandboxtest.Start(t, sandboxtest.WithOptions(func(o *sandbox.Options) { o.SSOUser = sandbox.SeedAdmin }))
	env := map[string]string{"THARSIS_ENDPOINT": srv.URL(), "THARSIS_NO_BROWSER": "true"}
	callback := func(u string, q url.Values) browser {
		// What the sandbox would redirect to, with another query.
		au, _ := url.Parse(u)
		cb, _ := url.Parse(au.Query().Get("redirect_uri"))
		cb.RawQuery = q.Encode()
		return follow(cb.String())
	}
	t.Run("wrong state, then the real login", func(t *testing.T) {
		var stray browser
		r, b := login(t, env, sandboxURL, func(u string) browser {
			stray = callback(u, url.Values{"state": {"forged"}, "code": {"x"}})
			return follow(u)
		}, "sso", "login")
		if stray.status != http.StatusBadRequest {
			t.Errorf("stray callback: %d", stray.status)
		}
		if r.Code != 0 || b.status != 200 {
			t.Errorf("exit %d, browser %d: %s", r.Code, b.status, r.Stderr)
		}
	})
	t.Run("provider refuses", func(t *testing.T) {
		r, _ := login(t, env, sandboxURL, func(u string) browser {
			au, _ := url.Parse(u)
			return callback(u, url.Values{"state": {au.Query().Get("state")}, "error": {"access_denied"}, "error_description": {"the user said no"}})
		}, "sso", "login")
		if r.Code != 1 || !strings.Contains(r.Stderr, "refused the login: access_denied: the user said no") {
			t.Errorf("exit %d: %s", r.Code, r.Stderr)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		r, _ := login(t, env, sandboxURL, func(string) browser { return browser{} }, "sso", "login", "--timeout", "1s")
		if r.Code != 1 || !strings.Contains(r.Stderr, "no login completed within 1s") {
			t.Errorf("exit %d: %s", r.Code, r.Stderr)
		}
	})
	t.Run("sandbox without a session", func(t *testing.T) {
		bare := sandboxtest.Start(t)
		r, b := login(t, map[string]string{"THARSIS_ENDPOINT": bare.URL(), "THARSIS_NO_BROWSER": "1"}, sandboxURL, follow, "sso", "login", "--timeout", "2s")
		if b.status != http.StatusUnauthorized || r.Code != 1 {
			t.Errorf("browser %d, exit %d: %s", b.status, r.Code, r.Stderr)
		}
	})
}

// TestExpiredSession: a stored token that has expired is refused before
// any request, with the time and the command to run.
func TestExpiredSession(t *testing.T) {
	// The sandbox's clock runs an hour behind: it issues a 5-minute token
	// that, for the CLI, expired 55 minutes ago.
	srv := sandboxtest.Start(t, sandboxtest.WithOptions(func(o *sandbox.Options) {
		o.SSOUser = sandbox.SeedAdmin
		o.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	}))
	cfgDir := t.TempDir()
	env := map[string]string{"THARSIS_ENDPOINT": srv.URL(), "THARSIS_CONFIG_DIR": cfgDir, "THARSIS_NO_BROWSER": "1"}
	if r, _ := login(t, env, sandboxURL, follow, "-p", "ci", "sso", "login"); r.Code != 0 {
		t.Fatalf("login: %d %s", r.Code, r.Stderr)
	}
	before := srv.RequestCount("Me")
	w := clitest.Run(t, clitest.Options{Env: env}, "-p", "ci", "whoami")
	if w.Code != cmdutil.ExitAuth || !regexp.MustCompile("your session expired at .*, run `tharsis sso login -p ci`").MatchString(w.Stderr) {
		t.Errorf("exit %d: %q", w.Code, w.Stderr)
	}
	if srv.RequestCount("Me") != before {
		t.Error("a request was sent with the expired token")
	}
}

// TestSSOLoginWithExternalOIDCProvider: when the API delegates to an OIDC
// provider, login uses its client id and scopes and stores the ID token.
func TestSSOLoginWithExternalOIDCProvider(t *testing.T) {
	const idToken = "eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDAsInN1YiI6ImFsaWNlIn0.sig"
	var mu sync.Mutex
	var gotAuth url.Values
	var gotToken url.Values
	var gotOrigin string
	var idp *httptest.Server
	idp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q,"scopes_supported":["openid","email"]}`, idp.URL, idp.URL+"/authorize", idp.URL+"/token")
		case "/authorize":
			mu.Lock()
			gotAuth = r.URL.Query()
			mu.Unlock()
			cb, _ := url.Parse(r.URL.Query().Get("redirect_uri"))
			cb.RawQuery = url.Values{"code": {"idp-code"}, "state": {r.URL.Query().Get("state")}}.Encode()
			http.Redirect(w, r, cb.String(), http.StatusFound)
		case "/token":
			_ = r.ParseForm()
			mu.Lock()
			gotToken, gotOrigin = r.PostForm, r.Header.Get("Origin")
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"idp-access-token","token_type":"Bearer","expires_in":3600,"id_token":%q}`, idToken)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(idp.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case bytes.Contains(body, []byte("authSettings")):
			fmt.Fprintf(w, `{"data":{"authSettings":{"authType":"OIDC","oidc":{"issuerUrl":%q,"clientId":"tharsis-ui","scope":"openid profile"}}}}`, idp.URL+"/")
		case bytes.Contains(body, []byte("me")) && r.Header.Get("Authorization") == "Bearer "+idToken:
			fmt.Fprint(w, `{"data":{"me":{"__typename":"User","id":"VVNFUl8x","username":"alice","email":"alice@example.com","admin":false,"active":true,"adminModeEnabled":false,"adminModeExpiration":null,"metadata":{"trn":"trn:user:alice"}}}}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"message":"Unauthorized","extensions":{"code":"UNAUTHENTICATED"}}]}`)
		}
	}))
	t.Cleanup(api.Close)
	cfgDir := t.TempDir()
	env := map[string]string{"THARSIS_ENDPOINT": api.URL, "THARSIS_CONFIG_DIR": cfgDir, "THARSIS_NO_BROWSER": "1"}
	r, b := login(t, env, regexp.QuoteMeta(idp.URL)+`/authorize\?\S+`, follow, "sso", "login")
	if r.Code != 0 || b.status != 200 {
		t.Fatalf("exit %d, browser %d %v: %s", r.Code, b.status, b.err, r.Stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if gotAuth.Get("client_id") != "tharsis-ui" || gotAuth.Get("scope") != "openid profile" || gotAuth.Get("code_challenge_method") != "S256" || gotAuth.Get("code_challenge") == "" {
		t.Errorf("authorize query = %v", gotAuth)
	}
	if gotToken.Get("code") != "idp-code" || gotToken.Get("code_verifier") == "" || gotToken.Get("client_id") != "tharsis-ui" || gotOrigin != "http://localhost" {
		t.Errorf("token request = %v, Origin %q", gotToken, gotOrigin)
	}
	if tok, _ := config.NewStore(cfgDir, nil).Token("default"); tok != idToken {
		t.Errorf("stored %q, want the ID token", tok)
	}
	if !strings.Contains(r.Stderr, "as alice") {
		t.Errorf("stderr = %q", r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(cfgDir, "credentials.json")); err != nil {
		t.Error(err)
	}
}
