package sandbox

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verifying external OIDC tokens for serviceAccountCreateToken, as the real
// API does: the token's issuer must match a trust policy of the service
// account (ignoring a trailing "/"), its signature must verify against the
// issuer's keys (found through <iss>/.well-known/openid-configuration), and
// every bound claim of that policy must match. One satisfied policy is
// enough.

// LoopbackHTTPClient returns the HTTP client the sandbox fetches OIDC
// discovery documents and keys with by default: it connects to loopback
// addresses only, so a token naming any other issuer can never make the
// sandbox reach out to the network.
func LoopbackHTTPClient() *http.Client {
	d := &net.Dialer{
		Timeout: 10 * time.Second,
		// Control sees the resolved address: the last word on loopback.
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("the sandbox only fetches OIDC keys from loopback addresses, not %s", host)
			}
			return nil
		},
	}
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		// Refuse other names before they are even looked up.
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("the sandbox only fetches OIDC keys from loopback addresses, not %s", host)
		}
		return d.DialContext(ctx, network, address)
	}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DialContext: dial, Proxy: nil},
	}
}

func normalizeIssuer(s string) string { return strings.TrimRight(s, "/") }

// genericExchangeError is the real API's catch-all refusal; it lists the
// token's private claims so the caller can compare them with the policy.
func genericExchangeError(saID string, claims jwt.MapClaims) error {
	msg := fmt.Sprintf("failed to create service account token for service account %q due to one of the following reasons: "+
		"the service account does not exist; the JWT token used as input is invalid; the issuer "+
		"for the token is not a valid issuer; the claims in the token do not satisfy the trust policy requirements", saID)
	private := map[string]any{}
	for k, v := range claims {
		switch k {
		case "iss", "sub", "aud", "exp", "nbf", "iat", "jti":
			continue
		}
		private[k] = v
	}
	if b, err := json.Marshal(private); err == nil {
		msg += "; token claims provided: " + string(b)
	}
	return newErr(codeUnauthorized, "%s", msg)
}

// errBadSignature stops the policy loop: the real API refuses at once when
// the signature does not verify.
var errBadSignature = errors.New("failed to verify token: could not verify message using any of the signatures or keys")

// verifyTrustPolicy checks raw against one policy: the issuer's keys and
// the bound claims.
func (s *Server) verifyTrustPolicy(ctx context.Context, raw string, p TrustPolicy) error {
	keys, err := s.issuerKeys(ctx, p.Issuer)
	if err != nil {
		return err
	}
	var claims jwt.MapClaims
	_, err = jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		if kid == "" && len(keys) == 1 {
			for _, k := range keys {
				return k, nil
			}
		}
		return nil, fmt.Errorf("no key %q in the issuer's key set", kid)
	}, jwt.WithValidMethods([]string{"RS256", "RS384", "RS512"}), jwt.WithTimeFunc(s.now))
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return errBadSignature
	default:
		return fmt.Errorf("failed to verify token: %w", err)
	}
	for _, c := range p.BoundClaims {
		if err := checkClaim(claims, c, p.BoundClaimsType == "GLOB"); err != nil {
			return err
		}
	}
	return nil
}

// checkClaim compares one bound claim with the token's value: exactly, or
// with "*" wildcards for GLOB policies. A single-valued aud is compared as a
// string; other lists as their JSON.
func checkClaim(claims jwt.MapClaims, want JWTClaim, useGlob bool) error {
	v, ok := claims[want.Name]
	if !ok {
		return fmt.Errorf("claim %q not satisfied: claim %q does not exist", want.Name, want.Name)
	}
	var got string
	switch x := v.(type) {
	case string:
		got = x
	case bool:
		got = fmt.Sprint(x)
	case float64:
		if x != float64(int64(x)) {
			return fmt.Errorf("claim %q not satisfied: unsupported claim value type: %T", want.Name, x)
		}
		got = fmt.Sprint(int64(x))
	case []any:
		if want.Name == "aud" && len(x) == 1 {
			if s, ok := x[0].(string); ok {
				got = s
				break
			}
		}
		b, _ := json.Marshal(x)
		got = string(b)
	default:
		return fmt.Errorf("claim %q not satisfied: unsupported claim value type: %T", want.Name, x)
	}
	match := got == want.Value
	if useGlob {
		match = globMatch(want.Value, got)
	}
	if !match {
		return fmt.Errorf("claim %q not satisfied: values do not match: %q != %q", want.Name, want.Value, got)
	}
	return nil
}

// globMatch reports whether s matches pattern, where "*" matches any run of
// characters and every other character only itself.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// issuerKeys fetches the issuer's discovery document and its RSA keys by
// kid.
func (s *Server) issuerKeys(ctx context.Context, issuer string) (map[string]*rsa.PublicKey, error) {
	iss := normalizeIssuer(issuer)
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := s.fetchJSON(ctx, iss+"/.well-known/openid-configuration", &disc); err != nil {
		return nil, fmt.Errorf("failed to get OIDC config for issuer url %s: %w", iss, err)
	}
	if normalizeIssuer(disc.Issuer) != iss {
		return nil, fmt.Errorf("OIDC issuer does not match the issuer returned by the OIDC discovery document, expected %q got %q", issuer, disc.Issuer)
	}
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := s.fetchJSON(ctx, disc.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("failed to load key set for issuer %s", issuer)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("failed to load key set for issuer %s: no RSA keys", issuer)
	}
	return keys, nil
}

func (s *Server) fetchJSON(ctx context.Context, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := s.oidcHTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("received invalid response %s", resp.Status)
	}
	return json.Unmarshal(body, v)
}

// exchangeOIDCToken is serviceAccountCreateToken: it checks an external OIDC
// token against the service account's trust policies and issues a
// service-account token valid for Options.ServiceAccountTokenTTL.
func (s *Server) exchangeOIDCToken(ctx context.Context, saID, token string) (string, time.Duration, error) {
	saID = strings.TrimSpace(saID)
	var problems []string
	if saID == "" {
		problems = append(problems, "service account ID is empty")
	}
	if strings.TrimSpace(token) == "" {
		problems = append(problems, "service account token is empty")
	}
	if len(problems) > 0 {
		return "", 0, newErr(codeUnauthorized, "%s", strings.Join(problems, "; "))
	}

	var claims jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err != nil {
		return "", 0, newErr(codeUnauthorized, "failed to create token for service account %s - token is not a valid JWT: %v", saID, err)
	}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil && !s.now().Before(exp.Time) {
		return "", 0, newErr(codeUnauthorized, "failed to create token for service account %s - token is expired", saID)
	}
	issuer, _ := claims.GetIssuer()
	if issuer == "" {
		return "", 0, newErr(codeUnauthorized, "failed to create token for service account %s - issuer claim in token is empty", saID)
	}

	s.mu.Lock()
	obj, err := s.lookup(saID)
	sa, ok := obj.(*ServiceAccount)
	var policies []TrustPolicy
	if err == nil && ok {
		for _, p := range sa.TrustPolicies {
			if normalizeIssuer(p.Issuer) == normalizeIssuer(issuer) {
				policies = append(policies, p)
			}
		}
	}
	s.mu.Unlock()
	if err != nil || !ok || len(policies) == 0 {
		return "", 0, genericExchangeError(saID, claims)
	}

	var mismatches []string
	for _, p := range policies {
		err := s.verifyTrustPolicy(ctx, token, p)
		if err == nil {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.st.ServiceAccounts[sa.ID] == nil { // deleted meanwhile
				return "", 0, genericExchangeError(saID, claims)
			}
			ttl := s.serviceAccountTokenTTL()
			tok, err := s.issueServiceAccountToken(sa, ttl, "oidc_relying_party")
			return tok, ttl, err
		}
		if errors.Is(err, errBadSignature) {
			s.log.Info("service account token exchange refused: bad signature", "service_account", saID)
			return "", 0, genericExchangeError(saID, claims)
		}
		mismatches = append(mismatches, err.Error())
	}
	sort.Strings(mismatches)
	s.log.Info("service account token exchange refused", "service_account", saID, "issuer", issuer, "mismatches", strings.Join(mismatches, "; "))
	return "", 0, genericExchangeError(saID, claims)
}
