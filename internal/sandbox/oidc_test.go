package sandbox

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

const createTokenQuery = `mutation($id: String, $token: String!) {
  serviceAccountCreateToken(input: {serviceAccountId: $id, token: $token}) { token expiresIn problems { message type } }
}`

func TestServiceAccountCreateToken(t *testing.T) {
	h := start(t)
	iss, err := StartOIDCIssuer(context.Background(), h.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = iss.Close() })
	other, err := StartOIDCIssuer(context.Background(), h.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })

	path, err := h.s.CreateServiceAccount(SeedGroup, "ci")
	if err != nil {
		t.Fatal(err)
	}
	// Two policies for the same issuer (written with a trailing slash): the
	// first never matches, the second does with a glob. One is enough.
	if err := h.s.AddTrustPolicy(path, TrustPolicy{Issuer: iss.URL() + "/", BoundClaims: []JWTClaim{{Name: "sub", Value: "never"}}}); err != nil {
		t.Fatal(err)
	}
	if err := h.s.AddTrustPolicy(path, TrustPolicy{Issuer: iss.URL() + "/", BoundClaimsType: "GLOB", BoundClaims: []JWTClaim{
		{Name: "repository", Value: "org/app"}, {Name: "ref", Value: "refs/heads/*"}, {Name: "aud", Value: "tharsis"},
	}}); err != nil {
		t.Fatal(err)
	}
	// A policy for an issuer off the loopback: the sandbox must not fetch it.
	if err := h.s.AddTrustPolicy(path, TrustPolicy{Issuer: "https://issuer.example.com", BoundClaims: []JWTClaim{{Name: "repository", Value: "org/app"}}}); err != nil {
		t.Fatal(err)
	}
	if err := h.s.AddMembership(SeedGroup, "service_account", path, "viewer"); err != nil {
		t.Fatal(err)
	}
	saGID := h.saGID(path)

	good := map[string]any{"sub": "repo:org/app:ref:refs/heads/main", "repository": "org/app", "ref": "refs/heads/main"}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for a, b := range good {
			c[a] = b
		}
		c[k] = v
		return c
	}
	mint := func(claims map[string]any, ttl time.Duration) string {
		tok, err := iss.Mint(claims, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	forged, err := iss.MintForged(good, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	otherTok, err := other.Mint(good, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		id      any
		token   string
		wantErr string
	}{
		{name: "good token, TRN", id: "trn:service_account:" + path, token: mint(good, time.Minute)},
		{name: "good token, GID", id: saGID, token: mint(good, time.Minute)},
		{name: "aud as a one-element list", id: saGID, token: mint(with("aud", []string{"tharsis"}), time.Minute)},
		{name: "expired", id: saGID, token: mint(good, -time.Second), wantErr: "token is expired"},
		{name: "wrong issuer", id: saGID, token: otherTok, wantErr: "due to one of the following reasons"},
		{name: "wrong claim", id: saGID, token: mint(with("repository", "org/other"), time.Minute), wantErr: `token claims provided: {"ref":"refs/heads/main","repository":"org/other"`},
		{name: "missing claim", id: saGID, token: mint(map[string]any{"repository": "org/app"}, time.Minute), wantErr: "due to one of the following reasons"},
		{name: "glob does not match", id: saGID, token: mint(with("ref", "refs/tags/v1"), time.Minute), wantErr: "due to one of the following reasons"},
		{name: "bad signature", id: saGID, token: forged, wantErr: "due to one of the following reasons"},
		{name: "not a JWT", id: saGID, token: "x.y.z", wantErr: "token is not a valid JWT"},
		{name: "no issuer", id: saGID, token: mint(with("iss", ""), time.Minute), wantErr: "issuer claim in token is empty"},
		{name: "issuer off the loopback", id: saGID, token: mint(with("iss", "https://issuer.example.com"), time.Minute), wantErr: "due to one of the following reasons"},
		{name: "unknown service account", id: "trn:service_account:sandbox/nope", token: mint(good, time.Minute), wantErr: `service account "trn:service_account:sandbox/nope"`},
		{name: "empty token", id: saGID, token: " ", wantErr: "service account token is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.gqlAs("", createTokenQuery, map[string]any{"id": tt.id, "token": tt.token})
			if tt.wantErr != "" {
				if r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" || !strings.Contains(r.Errors[0].Message, tt.wantErr) {
					t.Fatalf("got %d %s, want 401 with %q", r.Status, r.Raw, tt.wantErr)
				}
				if strings.Contains(string(r.Raw), tt.token) && strings.TrimSpace(tt.token) != "" {
					t.Errorf("the response echoes the token")
				}
				return
			}
			d := h.ok(r)
			tok := str(d, "serviceAccountCreateToken", "token")
			if tok == "" || dig(d, "serviceAccountCreateToken", "expiresIn") != float64(900) {
				t.Fatalf("payload = %v", d)
			}
			me := h.ok(h.gqlAs(tok, `query { me { __typename ... on ServiceAccount { resourcePath } } }`, nil))
			if str(me, "me", "resourcePath") != path {
				t.Errorf("me = %v", me)
			}
		})
	}
	if iss.Requests() == 0 {
		t.Error("the sandbox never fetched the issuer's keys")
	}
}

func TestServiceAccountTokenTTL(t *testing.T) {
	s, err := Start(t.Context(), Options{ServiceAccountTokenTTL: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := StartOIDCIssuer(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	path, _ := s.CreateServiceAccount(SeedGroup, "ci")
	if err := s.AddTrustPolicy(path, TrustPolicy{Issuer: iss.URL(), BoundClaims: []JWTClaim{{Name: "sub", Value: "me"}}}); err != nil {
		t.Fatal(err)
	}
	tok, _ := iss.Mint(map[string]any{"sub": "me"}, time.Minute)
	h := &harness{t: t, s: s}
	d := h.ok(h.gqlAs("", createTokenQuery, map[string]any{"id": "trn:service_account:" + path, "token": tok}))
	if dig(d, "serviceAccountCreateToken", "expiresIn") != float64(3) {
		t.Fatalf("payload = %v", d)
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"a*", "abc", true},
		{"*c", "abc", true},
		{"a*c", "abbbc", true},
		{"a*c", "abcd", false},
		{"repo:org/*:ref:refs/heads/*", "repo:org/app:ref:refs/heads/main", true},
		{"repo:org/*:ref:refs/heads/*", "repo:other/app:ref:refs/heads/main", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXcYb", false},
		{"a?c", "abc", false}, // only * is special
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v", tt.pattern, tt.s, got)
		}
	}
}

func TestLoopbackHTTPClientRefusesOtherHosts(t *testing.T) {
	for _, u := range []string{"http://192.0.2.1/x", "http://example.com/x"} {
		resp, err := LoopbackHTTPClient().Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s succeeded", u)
		}
		if !strings.Contains(err.Error(), "loopback") {
			t.Errorf("GET %s: %v", u, err)
		}
	}
}

// saGID returns the GID of the service account at path.
func (h *harness) saGID(path string) string {
	h.t.Helper()
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	sa := h.s.st.serviceAccountByPath(path)
	if sa == nil {
		h.t.Fatalf("no service account %s", path)
	}
	return toGID(gidServiceAccount, sa.ID)
}
