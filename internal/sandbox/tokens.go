package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/graph-gophers/graphql-go"
)

// Token kinds, the private claim "type" of the real API's JWTs.
const (
	tokenTypeUser           = "user_session_access"
	tokenTypeServiceAccount = "service_account"
)

// serviceAccountTokenLifetime is the lifetime of a service-account token on a
// real installation (expiresIn 900).
const serviceAccountTokenLifetime = 15 * time.Minute

// signer issues and verifies the sandbox's RS256 tokens. The OIDC token
// exchange and the identity-provider routes build on it.
type signer struct {
	key *rsa.PrivateKey
	kid string
}

func newSigner() (*signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key.N.Bytes())
	return &signer{key: key, kid: hex.EncodeToString(sum[:8])}, nil
}

// tokenClaims are the claims of a sandbox-issued token.
type tokenClaims struct {
	jwt.RegisteredClaims
	Type               string `json:"type"`
	ServiceAccountID   string `json:"service_account_id,omitempty"`
	ServiceAccountPath string `json:"service_account_path,omitempty"`
	ServiceAccountName string `json:"service_account_name,omitempty"`
	GrantType          string `json:"grant_type,omitempty"`
}

func (s *signer) issue(issuer string, c tokenClaims, now time.Time, ttl time.Duration) (string, error) {
	c.Issuer = issuer
	c.IssuedAt = jwt.NewNumericDate(now)
	c.NotBefore = jwt.NewNumericDate(now.Add(-time.Minute))
	c.ExpiresAt = jwt.NewNumericDate(now.Add(ttl))
	c.ID = newID()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = s.kid
	return tok.SignedString(s.key)
}

// verify checks a token's signature, issuer and expiry against now. Its
// errors carry the messages the real API gives (UNAUTHENTICATED).
func (s *signer) verify(issuer, raw string, now time.Time) (*tokenClaims, error) {
	var c tokenClaims
	_, err := jwt.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		return &s.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, newErr(codeUnauthorized, "token is expired")
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, newErr(codeUnauthorized, "failed to decode token: token is malformed")
	default:
		return nil, newErr(codeUnauthorized, "failed to verify token: %v", err)
	}
	if c.Issuer != issuer {
		return nil, newErr(codeUnauthorized, "token issuer %s is not allowed", c.Issuer)
	}
	return &c, nil
}

// jwks is the JSON Web Key Set of the sandbox's signing key.
func (s *signer) jwks() map[string]any {
	pub := s.key.PublicKey
	return map[string]any{"keys": []map[string]any{{
		"kty": "RSA",
		"use": "sig",
		"alg": "RS256",
		"kid": s.kid,
		"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// resetClientSecret gives sa a new client secret (returned once; only its
// hash is kept) expiring at exp (90 days by default).
func (s *Server) resetClientSecret(sa *ServiceAccount, exp *graphql.Time) (string, error) {
	at, err := s.secretExpiry(exp)
	if err != nil {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(secret))
	sa.ClientCredentialsEnabled, sa.ClientSecretHash, sa.ClientSecretExpiresAt = true, sum[:], &at
	return secret, nil
}

// serviceAccountTokenTTL is the lifetime of exchanged service-account
// tokens (Options.ServiceAccountTokenTTL, 15 minutes by default).
func (s *Server) serviceAccountTokenTTL() time.Duration {
	if s.opts.ServiceAccountTokenTTL > 0 {
		return s.opts.ServiceAccountTokenTTL
	}
	return serviceAccountTokenLifetime
}

// issueServiceAccountToken issues a service-account token as a successful
// exchange with grantType ("oidc_relying_party" or "client_credentials")
// would. Expects s.mu held.
func (s *Server) issueServiceAccountToken(sa *ServiceAccount, ttl time.Duration, grantType string) (string, error) {
	return s.signer.issue(s.url, tokenClaims{
		RegisteredClaims:   jwt.RegisteredClaims{Subject: s.st.saPath(sa)},
		Type:               tokenTypeServiceAccount,
		ServiceAccountID:   toGID(gidServiceAccount, sa.ID),
		ServiceAccountPath: s.st.saPath(sa),
		ServiceAccountName: sa.Name,
		GrantType:          grantType,
	}, s.now(), ttl)
}
