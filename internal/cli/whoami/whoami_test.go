package whoami_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/config"
)

const (
	userResp = `{"data":{"me":{"__typename":"User","id":"VVNFUl8x","username":"alice","email":"alice@example.com",
		"admin":true,"active":true,"adminModeEnabled":false,"adminModeExpiration":null,"metadata":{"trn":"trn:user:alice"}}}}`
	saResp = `{"data":{"me":{"__typename":"ServiceAccount","id":"U0FfMQ","name":"deployer","groupPath":"ops/prod",
		"resourcePath":"ops/prod/deployer","metadata":{"trn":"trn:service_account:ops/prod/deployer"}}}}`
	unauthResp = `{"data":{"me":null},"errors":[{"message":"token is expired","path":["me"],"extensions":{"code":"UNAUTHENTICATED"}}]}`
)

// server answers the Me query with body and status and records requests.
type server struct {
	*httptest.Server
	mu      sync.Mutex
	auth    []string
	ua      []string
	queries []string
}

func newServer(t *testing.T, status int, body string) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var req struct{ OperationName, Query string }
		_ = json.Unmarshal(b, &req)
		s.mu.Lock()
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.ua = append(s.ua, r.Header.Get("User-Agent"))
		s.queries = append(s.queries, req.OperationName)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestWhoamiUserFromEnvironmentOnly(t *testing.T) {
	// A CI job: no settings file, endpoint and token from the environment.
	srv := newServer(t, http.StatusOK, userResp)
	env := map[string]string{"THARSIS_ENDPOINT": srv.URL, "THARSIS_STATIC_TOKEN": "tok-123", "NO_COLOR": "1"}
	r := clitest.Run(t, clitest.Options{Env: env}, "whoami")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	want := "" +
		"User:        alice <alice@example.com>\n" +
		"Admin:       yes\n" +
		"Endpoint:    " + srv.URL + " (from THARSIS_ENDPOINT)\n" +
		"Profile:     default\n" +
		"Credential:  static token from THARSIS_STATIC_TOKEN\n"
	if r.Stdout != want {
		t.Errorf("stdout:\n%s\nwant\n%s", r.Stdout, want)
	}
	if strings.Contains(r.Stdout+r.Stderr, "tok-123") {
		t.Error("token printed")
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.auth) != 1 || srv.auth[0] != "Bearer tok-123" || srv.queries[0] != "Me" {
		t.Errorf("requests: auth %v queries %v", srv.auth, srv.queries)
	}
	if !strings.HasPrefix(srv.ua[0], "tharsis-cli/") {
		t.Errorf("User-Agent = %q", srv.ua[0])
	}
}

func TestWhoamiServiceAccountJSONWithStoredToken(t *testing.T) {
	srv := newServer(t, http.StatusOK, saResp)
	dir := t.TempDir()
	store := config.NewStore(dir, nil)
	st := &config.Settings{}
	st.SetProfile("ci", &config.Profile{Endpoint: srv.URL})
	if err := store.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	if err := store.SetToken("ci", "stored-tok"); err != nil {
		t.Fatal(err)
	}
	r := clitest.Run(t, clitest.Options{Env: map[string]string{"THARSIS_CONFIG_DIR": dir}}, "-p", "ci", "whoami", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatalf("json: %v: %q", err, r.Stdout)
	}
	checks := map[string]any{
		"type": "service_account", "id": "U0FfMQ", "resource_path": "ops/prod/deployer", "group_path": "ops/prod",
		"name": "deployer", "trn": "trn:service_account:ops/prod/deployer", "endpoint": srv.URL,
		"endpoint_source": "profile", "profile": "ci",
	}
	for k, v := range checks {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	cred, _ := got["credential"].(map[string]any)
	if cred["kind"] != "profile_token" || cred["profile"] != "ci" || cred["source"] != store.CredentialsPath() {
		t.Errorf("credential = %v", cred)
	}
	if _, ok := got["admin"]; ok {
		t.Errorf("service account JSON has user fields: %v", got)
	}
	if strings.Contains(r.Stdout, "stored-tok") {
		t.Error("token printed")
	}
	srv.mu.Lock()
	if srv.auth[0] != "Bearer stored-tok" {
		t.Errorf("auth = %v", srv.auth)
	}
	srv.mu.Unlock()

	// Text form names the service account by its resource path.
	r = clitest.Run(t, clitest.Options{Env: map[string]string{"THARSIS_CONFIG_DIR": dir}}, "whoami", "--profile", "ci")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "Service account:  ops/prod/deployer\n") ||
		!strings.Contains(r.Stdout, `Credential:       token stored for profile "ci" in `+store.CredentialsPath()) {
		t.Errorf("text: %d %q", r.Code, r.Stdout)
	}
}

func TestWhoamiUnauthenticated(t *testing.T) {
	srv := newServer(t, http.StatusUnauthorized, unauthResp)
	env := map[string]string{"THARSIS_ENDPOINT": srv.URL, "THARSIS_STATIC_TOKEN": "expired"}
	r := clitest.Run(t, clitest.Options{Env: env}, "whoami")
	if r.Code != cmdutil.ExitAuth {
		t.Errorf("exit %d, want 4", r.Code)
	}
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	if len(lines) < 2 || lines[0] != "Error: get caller identity: token is expired" ||
		!strings.HasPrefix(lines[1], "Hint: ") || !strings.Contains(lines[1], "sso login") {
		t.Errorf("stderr = %q", r.Stderr)
	}
	if r.Stdout != "" {
		t.Errorf("stdout = %q", r.Stdout)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.queries) != 1 {
		t.Errorf("401 retried: %d requests", len(srv.queries))
	}
}

func TestWhoamiNoCredentials(t *testing.T) {
	srv := newServer(t, http.StatusOK, userResp)
	r := clitest.Run(t, clitest.Options{Env: map[string]string{"THARSIS_ENDPOINT": srv.URL}}, "whoami")
	if r.Code != cmdutil.ExitAuth {
		t.Errorf("exit %d, want 4", r.Code)
	}
	for _, want := range []string{`no credentials for profile "default"`, "tharsis sso login", "THARSIS_STATIC_TOKEN", "THARSIS_SERVICE_ACCOUNT_ID"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q: %q", want, r.Stderr)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.queries) != 0 {
		t.Errorf("request sent without credentials")
	}
}

func TestWhoamiNoEndpoint(t *testing.T) {
	r := clitest.Run(t, clitest.Options{Env: map[string]string{"THARSIS_STATIC_TOKEN": "x"}}, "whoami")
	if r.Code != 1 || !strings.Contains(r.Stderr, "Error: no Tharsis endpoint configured") ||
		!strings.Contains(r.Stderr, "Hint: run 'tharsis configure'") || !strings.Contains(r.Stderr, "THARSIS_ENDPOINT") {
		t.Errorf("exit %d, stderr %q", r.Code, r.Stderr)
	}
}

func TestWhoamiDebugLogRedactsToken(t *testing.T) {
	srv := newServer(t, http.StatusOK, userResp)
	env := map[string]string{"THARSIS_ENDPOINT": srv.URL, "THARSIS_STATIC_TOKEN": "tok-secret-999", "THARSIS_CLI_LOG": "trace"}
	r := clitest.Run(t, clitest.Options{Env: env}, "whoami")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "level=DEBUG") || !strings.Contains(r.Stderr, "endpoint_from=env") {
		t.Errorf("no debug logs: %q", r.Stderr)
	}
	if strings.Contains(r.Stderr, "tok-secret-999") {
		t.Errorf("token in logs: %q", r.Stderr)
	}
}
