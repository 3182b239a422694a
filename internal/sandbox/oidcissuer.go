package sandbox

import (
	"context"
	"errors"
	"maps"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// OIDCIssuer is a stand-in for a CI system's OIDC token issuer (GitHub
// Actions, GitLab, Kubernetes): it serves a discovery document and a JWKS
// on 127.0.0.1 and mints RS256 ID tokens, including broken ones, to log in
// to service accounts whose trust policies name its URL.
//
//	iss, _ := sandbox.StartOIDCIssuer(ctx, nil)
//	srv.AddTrustPolicy("sandbox/ci", sandbox.TrustPolicy{Issuer: iss.URL(), BoundClaims: []sandbox.JWTClaim{{Name: "sub", Value: "repo:org/app"}}})
//	tok, _ := iss.Mint(map[string]any{"sub": "repo:org/app"}, 5*time.Minute)
type OIDCIssuer struct {
	signer *signer
	forger *signer // same kid, other key: tokens whose signature does not verify
	now    func() time.Time
	url    string
	srv    *http.Server
	wg     sync.WaitGroup

	mu       sync.Mutex
	requests int
}

// StartOIDCIssuer starts an issuer on 127.0.0.1 on a free port; it stops
// when ctx ends or on Close. now is its clock (time.Now when nil).
func StartOIDCIssuer(ctx context.Context, now func() time.Time) (*OIDCIssuer, error) {
	if now == nil {
		now = time.Now
	}
	sg, err := newSigner()
	if err != nil {
		return nil, err
	}
	forger, err := newSigner()
	if err != nil {
		return nil, err
	}
	forger.kid = sg.kid
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	i := &OIDCIssuer{signer: sg, forger: forger, now: now, url: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		i.count()
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer": i.url, "jwks_uri": i.url + "/keys",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		i.count()
		writeJSON(w, http.StatusOK, i.signer.jwks())
	})
	i.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	i.wg.Add(1)
	go func() {
		defer i.wg.Done()
		_ = i.srv.Serve(ln)
	}()
	context.AfterFunc(ctx, func() { _ = i.Close() })
	return i, nil
}

func (i *OIDCIssuer) count() {
	i.mu.Lock()
	i.requests++
	i.mu.Unlock()
}

// URL is the issuer URL (the iss claim of its tokens).
func (i *OIDCIssuer) URL() string { return i.url }

// Requests counts the discovery and key requests served.
func (i *OIDCIssuer) Requests() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.requests
}

// Close stops the issuer.
func (i *OIDCIssuer) Close() error {
	err := i.srv.Close()
	i.wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Mint returns a token with the given claims, valid for ttl from now (a
// negative ttl gives an expired token). iss defaults to URL() and aud to
// "tharsis"; claims may override both (e.g. another issuer's URL).
func (i *OIDCIssuer) Mint(claims map[string]any, ttl time.Duration) (string, error) {
	return i.mint(i.signer, claims, ttl)
}

// MintForged returns a token like Mint's whose signature does not verify
// against the issuer's keys (signed with another key under the same kid).
func (i *OIDCIssuer) MintForged(claims map[string]any, ttl time.Duration) (string, error) {
	return i.mint(i.forger, claims, ttl)
}

func (i *OIDCIssuer) mint(sg *signer, claims map[string]any, ttl time.Duration) (string, error) {
	now := i.now()
	c := jwt.MapClaims{
		"iss": i.url,
		"aud": "tharsis",
		"iat": now.Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(ttl).Unix(),
		"jti": newID(),
	}
	maps.Copy(c, claims)
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = sg.kid
	return tok.SignedString(sg.key)
}
