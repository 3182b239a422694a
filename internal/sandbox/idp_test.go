package sandbox

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func challengeOf(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func authorizeQuery(mod func(url.Values)) url.Values {
	q := url.Values{
		"client_id":             {"tharsis"},
		"redirect_uri":          {"http://localhost:21000/login"},
		"response_type":         {"code"},
		"state":                 {"st-1"},
		"scope":                 {"openid tharsis"},
		"code_challenge":        {challengeOf("verifier-0123456789-0123456789-0123456789")},
		"code_challenge_method": {"S256"},
	}
	if mod != nil {
		mod(q)
	}
	return q
}

type restResp struct {
	status   int
	location string
	body     map[string]any
}

func restCall(t *testing.T, req *http.Request) restResp {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := restResp{status: resp.StatusCode, location: resp.Header.Get("Location")}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func (h *harness) authorize(q url.Values) restResp {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.s.URL()+"/oauth/authorize?"+q.Encode(), nil)
	return restCall(h.t, req)
}

func (h *harness) form(path string, f url.Values) restResp {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.s.URL()+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return restCall(h.t, req)
}

func startIdP(t *testing.T, opts Options) *harness {
	t.Helper()
	clk := &testClock{}
	opts.Now = clk.Now
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &harness{t: t, s: s, clock: clk, token: s.AdminToken()}
}

func TestAuthorizeValidation(t *testing.T) {
	h := startIdP(t, Options{SSOUser: SeedAdmin})
	tests := []struct {
		name string
		mod  func(url.Values)
		want string
	}{
		{"no client_id", func(q url.Values) { q.Del("client_id") }, "client_id is required"},
		{"wrong client_id", func(q url.Values) { q.Set("client_id", "other") }, `invalid client_id, only "tharsis" is supported`},
		{"no redirect_uri", func(q url.Values) { q.Del("redirect_uri") }, "redirect_uri is required"},
		{"no response_type", func(q url.Values) { q.Del("response_type") }, "response_type is required"},
		{"token response_type", func(q url.Values) { q.Set("response_type", "token") }, "only 'code' is supported"},
		{"no state", func(q url.Values) { q.Del("state") }, "state is required"},
		{"no challenge", func(q url.Values) { q.Del("code_challenge") }, "code_challenge is required"},
		{"no method", func(q url.Values) { q.Del("code_challenge_method") }, "code_challenge_method is required"},
		{"plain method", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "only 'S256' is supported"},
		{"no scope", func(q url.Values) { q.Del("scope") }, "scope is required"},
		{"other scope", func(q url.Values) { q.Set("scope", "openid") }, "only 'openid tharsis' is supported"},
		{"remote redirect", func(q url.Values) { q.Set("redirect_uri", "http://evil.example/login") }, "only redirects to http://localhost are supported"},
		{"localhost lookalike", func(q url.Values) { q.Set("redirect_uri", "http://localhost.evil.example/login") }, "only redirects to http://localhost are supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.authorize(authorizeQuery(tt.mod))
			if r.status != http.StatusBadRequest || !strings.Contains(r.body["detail"].(string), tt.want) {
				t.Errorf("got %d %v, want 400 %q", r.status, r.body, tt.want)
			}
		})
	}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	h := startIdP(t, Options{SSOUser: SeedAdmin})
	const verifier = "verifier-0123456789-0123456789-0123456789"
	getCode := func() string {
		r := h.authorize(authorizeQuery(nil))
		if r.status != http.StatusFound {
			t.Fatalf("authorize: %d %v", r.status, r.body)
		}
		u, err := url.Parse(r.location)
		if err != nil || u.Host != "localhost:21000" || u.Path != "/login" || u.Query().Get("state") != "st-1" || u.Query().Get("code") == "" {
			t.Fatalf("redirect to %q", r.location)
		}
		return u.Query().Get("code")
	}
	tokenForm := func(code string, mod func(url.Values)) url.Values {
		f := url.Values{"grant_type": {"authorization_code"}, "client_id": {"tharsis"}, "code": {code},
			"code_verifier": {verifier}, "redirect_uri": {"http://localhost:21000/login"}}
		if mod != nil {
			mod(f)
		}
		return f
	}

	code := getCode()
	for _, tt := range []struct {
		name   string
		mod    func(url.Values)
		status int
		want   string
	}{
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", "another-verifier") }, 401, "code verifier does not match code challenge"},
		{"wrong redirect", func(f url.Values) { f.Set("redirect_uri", "http://localhost:21001/login") }, 401, "invalid redirect uri"},
		{"wrong client", func(f url.Values) { f.Set("client_id", "x") }, 400, "invalid client id"},
		{"password grant", func(f url.Values) { f.Set("grant_type", "password") }, 400, "unsupported grant_type"},
		{"no verifier", func(f url.Values) { f.Del("code_verifier") }, 400, "missing required fields"},
		{"unknown code", func(f url.Values) { f.Set("code", "nope") }, 401, "no user session found for auth code"},
	} {
		r := h.form("/oauth/token", tokenForm(code, tt.mod))
		if r.status != tt.status || !strings.Contains(r.body["detail"].(string), tt.want) {
			t.Errorf("%s: got %d %v, want %d %q", tt.name, r.status, r.body, tt.status, tt.want)
		}
	}
	// The failures above did not use the code up.
	r := h.form("/oauth/token", tokenForm(code, nil))
	tok, _ := r.body["access_token"].(string)
	if r.status != 200 || tok == "" || r.body["expires_in"] != float64(300) {
		t.Fatalf("token: %d %v", r.status, r.body)
	}
	me := h.ok(h.gqlAs(tok, `query { me { __typename ... on User { username } } }`, nil))
	if str(me, "me", "username") != SeedAdmin {
		t.Errorf("me = %v", me)
	}
	// Single use.
	if r := h.form("/oauth/token", tokenForm(code, nil)); r.status != 401 {
		t.Errorf("second use: %d %v", r.status, r.body)
	}
	// Valid for one minute.
	code = getCode()
	h.clock.Advance(61 * time.Second)
	if r := h.form("/oauth/token", tokenForm(code, nil)); r.status != 401 || r.body["detail"] != "auth code has expired" {
		t.Errorf("expired code: %d %v", r.status, r.body)
	}
}

func TestAuthorizeWithoutSSOUser(t *testing.T) {
	h := startIdP(t, Options{})
	r := h.authorize(authorizeQuery(nil))
	if r.status != http.StatusFound || !strings.HasPrefix(r.location, h.s.URL()+"/login?") {
		t.Fatalf("got %d %q", r.status, r.location)
	}
	req, _ := http.NewRequest(http.MethodGet, r.location, nil)
	if r := restCall(t, req); r.status != http.StatusUnauthorized || !strings.Contains(r.body["detail"].(string), "SSO user") {
		t.Errorf("login page: %d %v", r.status, r.body)
	}
}

func TestSessionTokenTTL(t *testing.T) {
	h := startIdP(t, Options{SSOUser: SeedAdmin, SessionTokenTTL: 2 * time.Second})
	r := h.authorize(authorizeQuery(nil))
	u, _ := url.Parse(r.location)
	tr := h.form("/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"tharsis"}, "code": {u.Query().Get("code")},
		"code_verifier": {"verifier-0123456789-0123456789-0123456789"}, "redirect_uri": {"http://localhost:21000/login"}})
	if tr.body["expires_in"] != float64(2) {
		t.Errorf("expires_in = %v", tr.body)
	}
}

func TestClientCredentials(t *testing.T) {
	h := startIdP(t, Options{ServiceAccountTokenTTL: 42 * time.Second})
	path, err := h.s.CreateServiceAccount(SeedGroup, "cc")
	if err != nil {
		t.Fatal(err)
	}
	secret, err := h.s.ResetServiceAccountClientSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.s.AddMembership(SeedGroup, "service_account", path, "viewer"); err != nil {
		t.Fatal(err)
	}
	gid := h.saGID(path)
	form := func(id, secret, grant string) url.Values {
		return url.Values{"grant_type": {grant}, "client_id": {id}, "client_secret": {secret}}
	}
	tests := []struct {
		name   string
		f      url.Values
		status int
	}{
		{"by TRN", form("trn:service_account:"+path, secret, "client_credentials"), 200},
		{"by GID", form(gid, secret, "client_credentials"), 200},
		{"wrong secret", form(gid, secret+"x", "client_credentials"), 401},
		{"no secret", form(gid, "", "client_credentials"), 401},
		{"unknown account", form("trn:service_account:sandbox/nope", secret, "client_credentials"), 401},
		{"wrong grant", form(gid, secret, "password"), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.form("/v1/serviceaccounts/token", tt.f)
			if r.status != tt.status {
				t.Fatalf("got %d %v", r.status, r.body)
			}
			if tt.status == 401 && r.body["detail"] != clientCredentialsRefusal {
				t.Errorf("detail = %v", r.body["detail"])
			}
			if tt.status != 200 {
				return
			}
			tok, _ := r.body["access_token"].(string)
			if r.body["token_type"] != "Bearer" || r.body["expires_in"] != float64(42) || tok == "" {
				t.Fatalf("body = %v", r.body)
			}
			me := h.ok(h.gqlAs(tok, `query { me { __typename ... on ServiceAccount { resourcePath } } }`, nil))
			if str(me, "me", "resourcePath") != path {
				t.Errorf("me = %v", me)
			}
		})
	}
	// Secrets expire after 90 days.
	h.clock.Advance(91 * 24 * time.Hour)
	if r := h.form("/v1/serviceaccounts/token", form(gid, secret, "client_credentials")); r.status != 401 {
		t.Errorf("expired secret: %d", r.status)
	}
}
