package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The internal identity provider (authorization code + PKCE, as the real
// API's /oauth routes) and the client-credentials token route.

const (
	// idpClientID is the internal identity provider's only client id.
	idpClientID = "tharsis"
	// idpScope is the only scope /oauth/authorize accepts.
	idpScope = "openid tharsis"
	// idpRedirectBase is what every redirect URI must be or start with
	// (followed by ":port...").
	idpRedirectBase = "http://localhost"
	// authCodeLifetime is how long an authorization code can be exchanged.
	authCodeLifetime = time.Minute
)

// authCode is a pending authorization code.
type authCode struct {
	userID      string
	challenge   string // base64url(SHA-256(verifier)), no padding
	redirectURI string
	expires     time.Time
}

func (s *Server) identityRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /oauth/authorize", s.serveAuthorize)
	mux.HandleFunc("POST /oauth/token", s.serveOAuthToken)
	mux.HandleFunc("GET /login", s.serveLoginPage)
	mux.HandleFunc("POST /v1/serviceaccounts/token", s.serveClientCredentials)
}

func idpError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"detail": msg})
}

// authorizeParams validates the query of /oauth/authorize like the real
// API, in the same order and with the same messages.
func authorizeParams(q url.Values) error {
	checks := []struct {
		bad bool
		msg string
	}{
		{q.Get("client_id") == "", "client_id is required"},
		{q.Get("client_id") != idpClientID, `invalid client_id, only "tharsis" is supported`},
		{q.Get("redirect_uri") == "", "redirect_uri is required"},
		{q.Get("response_type") == "", "response_type is required"},
		{q.Get("response_type") != "code", "invalid response_type, only 'code' is supported"},
		{q.Get("state") == "", "state is required"},
		{q.Get("code_challenge") == "", "code_challenge is required"},
		{q.Get("code_challenge_method") == "", "code_challenge_method is required"},
		{q.Get("code_challenge_method") != "S256", "invalid code_challenge_method, only 'S256' is supported"},
		{q.Get("scope") == "", "scope is required"},
		{q.Get("scope") != idpScope, "invalid scope, only 'openid tharsis' is supported"},
	}
	for _, c := range checks {
		if c.bad {
			return errors.New("invalid request parameters: " + c.msg)
		}
	}
	return nil
}

// serveAuthorize approves the request as Options.SSOUser (the sandbox's
// stand-in for a browser session) and redirects to the redirect URI with a
// one-minute, single-use code.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := authorizeParams(q); err != nil {
		idpError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.opts.SSOUser == "" {
		// No session: the real API sends the browser to the UI's login page.
		http.Redirect(w, r, s.url+"/login?"+q.Encode(), http.StatusFound)
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect != idpRedirectBase && !strings.HasPrefix(redirect, idpRedirectBase+":") {
		idpError(w, http.StatusBadRequest, "invalid redirect uri "+redirect+", only redirects to "+idpRedirectBase+" are supported")
		return
	}
	target, err := url.Parse(redirect)
	if err != nil {
		idpError(w, http.StatusBadRequest, "invalid redirect url")
		return
	}
	s.mu.Lock()
	u := s.st.userByName(s.opts.SSOUser)
	s.mu.Unlock()
	if u == nil || !u.Active {
		idpError(w, http.StatusUnauthorized, "user session not found or has expired")
		return
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		idpError(w, http.StatusInternalServerError, "failed to generate auth code")
		return
	}
	code := base64.RawURLEncoding.EncodeToString(b)
	s.idpMu.Lock()
	now := s.now()
	for c, ac := range s.codes { // forget codes nobody exchanged
		if now.After(ac.expires) {
			delete(s.codes, c)
		}
	}
	s.codes[code] = &authCode{userID: u.ID, challenge: q.Get("code_challenge"), redirectURI: redirect, expires: now.Add(authCodeLifetime)}
	s.idpMu.Unlock()
	s.count("oauth_authorize")
	target.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}, "client_id": {idpClientID}}.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// serveLoginPage stands in for the UI's login page, which the sandbox does
// not have.
func (s *Server) serveLoginPage(w http.ResponseWriter, r *http.Request) {
	idpError(w, http.StatusUnauthorized, "the sandbox has no browser sessions: start it with an SSO user "+
		"(Options.SSOUser, tharsis-sandbox --sso-user) to approve logins")
}

// serveOAuthToken exchanges an authorization code (with its PKCE verifier)
// for a user-session token.
func (s *Server) serveOAuthToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		idpError(w, http.StatusBadRequest, "invalid form")
		return
	}
	if r.Form.Get("client_id") != idpClientID {
		idpError(w, http.StatusBadRequest, "invalid client id")
		return
	}
	if gt := r.Form.Get("grant_type"); gt != "authorization_code" {
		idpError(w, http.StatusBadRequest, `unsupported grant_type "`+gt+`"`)
		return
	}
	code, verifier, redirect := r.Form.Get("code"), r.Form.Get("code_verifier"), r.Form.Get("redirect_uri")
	if code == "" || verifier == "" || redirect == "" {
		idpError(w, http.StatusBadRequest, "missing required fields in input")
		return
	}
	s.idpMu.Lock()
	ac := s.codes[code]
	var msg string
	switch {
	case ac == nil:
		msg = "no user session found for auth code"
	case ac.redirectURI != redirect:
		msg = "invalid redirect uri"
	case s.now().After(ac.expires):
		msg = "auth code has expired"
	default:
		sum := sha256.Sum256([]byte(verifier))
		if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(ac.challenge)) != 1 {
			msg = "code verifier does not match code challenge"
		} else {
			delete(s.codes, code) // single use
		}
	}
	s.idpMu.Unlock()
	if msg != "" {
		idpError(w, http.StatusUnauthorized, msg)
		return
	}
	s.count("oauth_token")
	tok, err := s.signer.issue(s.url, tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: toGID(gidUser, ac.userID)},
		Type:             tokenTypeUser,
	}, s.now(), s.opts.SessionTokenTTL)
	if err != nil {
		idpError(w, http.StatusInternalServerError, "error generating access token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": int(s.opts.SessionTokenTTL / time.Second)})
}

// clientCredentialsRefusal is the real API's one message for every
// credential failure, so it reveals nothing about which part was wrong.
const clientCredentialsRefusal = "failed to create service account token due to one of the following reasons: " +
	"the client credentials are missing; the service account does not exist; " +
	"Client credentials are not enabled for the service account; the client secret is invalid or expired."

// serveClientCredentials is POST /v1/serviceaccounts/token.
func (s *Server) serveClientCredentials(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		idpError(w, http.StatusBadRequest, "invalid form")
		return
	}
	if r.Form.Get("grant_type") != "client_credentials" {
		idpError(w, http.StatusBadRequest, "unsupported grant_type, only client_credentials is supported")
		return
	}
	id, secret := r.Form.Get("client_id"), r.Form.Get("client_secret")
	s.count("client_credentials")
	s.mu.Lock()
	defer s.mu.Unlock()
	var sa *ServiceAccount
	if id != "" && secret != "" {
		if obj, err := s.lookup(id); err == nil {
			sa, _ = obj.(*ServiceAccount)
		}
	}
	if sa == nil || !sa.ClientCredentialsEnabled || sa.ClientSecretExpiresAt == nil || !s.now().Before(*sa.ClientSecretExpiresAt) {
		idpError(w, http.StatusUnauthorized, clientCredentialsRefusal)
		return
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], sa.ClientSecretHash) != 1 {
		idpError(w, http.StatusUnauthorized, clientCredentialsRefusal)
		return
	}
	ttl := s.serviceAccountTokenTTL()
	tok, err := s.issueServiceAccountToken(sa, ttl, "client_credentials")
	if err != nil {
		idpError(w, http.StatusInternalServerError, "failed to generate token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(ttl / time.Second)})
}

// ResetServiceAccountClientSecret enables client credentials for the
// service account at path ("group/name") and returns its new secret,
// valid for 90 days.
func (s *Server) ResetServiceAccountClientSecret(path string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sa := s.st.serviceAccountByPath(path)
	if sa == nil {
		return "", errors.New("no service account " + path)
	}
	return s.resetClientSecret(sa, nil)
}

// AddTrustPolicy adds an OIDC trust policy to the service account at path.
// BoundClaimsType is "STRING" (the default when empty) or "GLOB".
func (s *Server) AddTrustPolicy(path string, p TrustPolicy) error {
	if p.BoundClaimsType == "" {
		p.BoundClaimsType = "STRING"
	}
	if _, err := trustPolicies([]trustPolicyInput{toPolicyInput(p)}, false); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sa := s.st.serviceAccountByPath(path)
	if sa == nil {
		return errors.New("no service account " + path)
	}
	sa.TrustPolicies = append(append([]TrustPolicy(nil), sa.TrustPolicies...), p)
	return nil
}

func toPolicyInput(p TrustPolicy) trustPolicyInput {
	typ := p.BoundClaimsType
	in := trustPolicyInput{Issuer: p.Issuer, BoundClaimsType: &typ}
	for _, c := range p.BoundClaims {
		in.BoundClaims = append(in.BoundClaims, jwtClaimInput(c))
	}
	return in
}
