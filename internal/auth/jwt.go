package auth

import (
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the few claims of a JWT this package looks at. They are read
// without verifying the signature: only the server can verify a token, the
// CLI reads them to tell when a token expires and to explain a failed
// exchange.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string
	ExpiresAt time.Time // zero when the token has no exp claim
	Type      string    // Tharsis tokens: "user_session_access", "service_account", ...
	// Other holds the claims that are neither registered nor Tharsis's own,
	// e.g. GitHub's repository or ref, for error messages.
	Other map[string]any
}

// ParseClaims decodes a JWT's claims without verifying it.
func ParseClaims(token string) (*Claims, error) {
	var mc jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(token), &mc); err != nil {
		return nil, fmt.Errorf("not a JWT (a JWT has three dot-separated base64url parts)")
	}
	c := &Claims{Other: map[string]any{}}
	c.Issuer, _ = mc.GetIssuer()
	c.Subject, _ = mc.GetSubject()
	aud, _ := mc.GetAudience()
	c.Audience = []string(aud)
	if exp, err := mc.GetExpirationTime(); err == nil && exp != nil {
		c.ExpiresAt = exp.Time
	}
	c.Type, _ = mc["type"].(string)
	for k, v := range mc {
		switch k {
		case "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "type":
			continue
		}
		c.Other[k] = v
	}
	return c, nil
}

// tokenExpiry returns the exp claim of a JWT, or the zero time when the
// token is not a JWT or has none.
func tokenExpiry(token string) time.Time {
	c, err := ParseClaims(token)
	if err != nil {
		return time.Time{}
	}
	return c.ExpiresAt
}
