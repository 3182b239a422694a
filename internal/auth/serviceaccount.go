package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
)

// OIDCToken supplies the external OIDC token a service account logs in
// with. It is called once per exchange, so a projected token file or a
// freshly minted CI token is used for every renewal.
type OIDCToken struct {
	// Source names where the token comes from, for messages (never the
	// token itself).
	Source string
	Get    func(ctx context.Context) (string, error)
}

// StaticOIDCToken is a token given literally (an environment variable or a
// flag).
func StaticOIDCToken(source, token string) OIDCToken {
	token = strings.TrimSpace(token)
	return OIDCToken{Source: source, Get: func(context.Context) (string, error) {
		if token == "" {
			return "", fmt.Errorf("%s is empty", source)
		}
		return token, nil
	}}
}

// FileOIDCToken reads the token from path on every exchange (Kubernetes
// projected tokens and similar are rotated in place).
func FileOIDCToken(source, path string) OIDCToken {
	return OIDCToken{Source: source, Get: func(context.Context) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", &api.Error{Kind: api.KindUnauthenticated, Op: "read OIDC token", Message: err.Error(),
				Hint: fmt.Sprintf("Check the file named by %s.", source), Err: err}
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", &api.Error{Kind: api.KindUnauthenticated, Op: "read OIDC token", Message: fmt.Sprintf("%s is empty", path),
				Hint: fmt.Sprintf("The file named by %s must hold the OIDC token (a JWT).", source)}
		}
		return tok, nil
	}}
}

// GitHubOIDCToken asks GitHub Actions for an ID token with the given
// audience: GET <requestURL>&audience=<aud> with the request token as bearer.
func GitHubOIDCToken(hc *http.Client, requestURL, requestToken, audience string) OIDCToken {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}
	}
	source := fmt.Sprintf("GitHub Actions (audience %q)", audience)
	return OIDCToken{Source: source, Get: func(ctx context.Context) (string, error) {
		const op = "get GitHub Actions OIDC token"
		u, err := url.Parse(requestURL)
		if err != nil {
			return "", &api.Error{Kind: api.KindUnauthenticated, Op: op, Message: EnvGitHubTokenRequestURL + " is not a URL"}
		}
		q := u.Query()
		q.Set("audience", audience)
		u.RawQuery = q.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+requestToken)
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", &api.Error{Kind: api.KindTransient, Op: op, Message: innermostMessage(err),
				Hint: "GitHub's token service did not answer; re-run the job."}
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			return "", &api.Error{Kind: api.KindUnauthenticated, Op: op, StatusCode: resp.StatusCode,
				Message: fmt.Sprintf("GitHub answered %s", resp.Status),
				Hint:    "The job needs `permissions: id-token: write` to request OIDC tokens."}
		}
		var out struct {
			Value string `json:"value"`
		}
		if err := json.Unmarshal(body, &out); err != nil || out.Value == "" {
			return "", &api.Error{Kind: api.KindUnauthenticated, Op: op, Message: "GitHub's answer holds no token"}
		}
		return out.Value, nil
	}}
}

// innermostMessage is the message of the innermost error (without URLs,
// which may carry the request token in a query string).
func innermostMessage(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// serviceAccountSource is credential 1: an OIDC token exchange. ok reports
// that the service-account variables are set.
func serviceAccountSource(o Options, get func(string) string) (api.TokenSource, Description, bool, error) {
	id := get(EnvServiceAccountID)
	if path := get(EnvServiceAccountPath); path != "" {
		if id == "" {
			id = path
			if o.Warn != nil {
				o.Warn(fmt.Sprintf("%s is deprecated; set %s (a GID, TRN or path) instead", EnvServiceAccountPath, EnvServiceAccountID))
			}
		}
	}
	tok, file := get(EnvServiceAccountToken), get(EnvServiceAccountTokenFile)
	gitHub := get(EnvGitHubTokenRequestURL) != "" && get(EnvGitHubTokenRequestToken) != ""
	if id == "" {
		if tok != "" || file != "" {
			v := EnvServiceAccountToken
			if tok == "" {
				v = EnvServiceAccountTokenFile
			}
			return nil, Description{}, false, configError(
				fmt.Sprintf("%s is set but %s is not", v, EnvServiceAccountID),
				fmt.Sprintf("Set %s to the service account's GID, TRN or path (group/name), or unset %s.", EnvServiceAccountID, v))
		}
		return nil, Description{}, false, nil
	}
	var oidc OIDCToken
	switch {
	case tok != "" && file != "":
		return nil, Description{}, true, configError(
			fmt.Sprintf("both %s and %s are set", EnvServiceAccountToken, EnvServiceAccountTokenFile),
			"Set only one of them.")
	case tok != "":
		oidc = StaticOIDCToken(EnvServiceAccountToken, tok)
	case file != "":
		oidc = FileOIDCToken(fmt.Sprintf("%s (%s)", EnvServiceAccountTokenFile, file), file)
	case gitHub:
		aud := get(EnvOIDCAudience)
		if aud == "" {
			aud = DefaultOIDCAudience
		}
		oidc = GitHubOIDCToken(o.HTTPClient, get(EnvGitHubTokenRequestURL), get(EnvGitHubTokenRequestToken), aud)
	default:
		return nil, Description{}, true, configError(
			fmt.Sprintf("%s is set but there is no OIDC token to log in with", EnvServiceAccountID),
			fmt.Sprintf("Set %s (or %s) to an OIDC token your CI issues, or, on GitHub Actions, give the job `permissions: id-token: write`.",
				EnvServiceAccountToken, EnvServiceAccountTokenFile))
	}
	saID := api.NormalizeID("service_account", id)
	ex, err := newExchanger(o)
	if err != nil {
		return nil, Description{}, true, err
	}
	d := Description{Kind: KindServiceAccount, Source: oidc.Source, ServiceAccount: saID}
	ts := newRenewingSource("service account token exchange", func(ctx context.Context) (Token, error) {
		return ExchangeOIDC(ctx, ex, saID, oidc, o.Now)
	}, o.Now, o.Logger)
	return ts, d, true, nil
}

// clientCredentialsSource is credential 2.
func clientCredentialsSource(o Options, get func(string) string) (api.TokenSource, Description, bool, error) {
	id, secret := get(EnvClientID), get(EnvClientSecret)
	switch {
	case id == "" && secret == "":
		return nil, Description{}, false, nil
	case id == "":
		return nil, Description{}, true, configError(fmt.Sprintf("%s is set but %s is not", EnvClientSecret, EnvClientID),
			fmt.Sprintf("Set %s to the service account's GID, TRN or path.", EnvClientID))
	case secret == "":
		return nil, Description{}, true, configError(fmt.Sprintf("%s is set but %s is not", EnvClientID, EnvClientSecret),
			fmt.Sprintf("Set %s to the client secret returned when client credentials were enabled.", EnvClientSecret))
	}
	clientID := api.NormalizeID("service_account", id)
	ex, err := newExchanger(o)
	if err != nil {
		return nil, Description{}, true, err
	}
	d := Description{Kind: KindClientCredentials, Source: EnvClientID + " and " + EnvClientSecret, ServiceAccount: clientID}
	ts := newRenewingSource("client credentials", func(ctx context.Context) (Token, error) {
		tok, err := ex.ClientCredentialsToken(ctx, clientID, secret)
		if err != nil {
			return Token{}, explainClientCredentials(err, clientID, secret)
		}
		return tok, nil
	}, o.Now, o.Logger)
	return ts, d, true, nil
}

func newExchanger(o Options) (Exchanger, error) {
	if o.NewExchanger == nil {
		return nil, errors.New("service-account login is not available here (no exchanger)")
	}
	return o.NewExchanger()
}

// ExchangeOIDC gets an OIDC token from oidc and exchanges it for a Tharsis
// token of service account saID. A refused exchange becomes an
// unauthenticated *api.Error whose hint explains the likely cause from the
// token's claims; neither ever contains the token.
func ExchangeOIDC(ctx context.Context, ex Exchanger, saID string, oidc OIDCToken, now func() time.Time) (Token, error) {
	if now == nil {
		now = time.Now
	}
	jwtStr, err := oidc.Get(ctx)
	if err != nil {
		return Token{}, err
	}
	tok, err := ex.CreateToken(ctx, saID, jwtStr)
	if err != nil {
		return Token{}, explainExchange(err, saID, oidc.Source, jwtStr, now())
	}
	return tok, nil
}

// explainExchange turns a refused exchange into an error that says what to
// check. Other failures (network, server errors) pass through.
func explainExchange(err error, saID, source, oidcToken string, now time.Time) error {
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Kind != api.KindUnauthenticated {
		return err
	}
	msg := scrub(ae.Message, oidcToken)
	e := &api.Error{
		Kind:       api.KindUnauthenticated,
		Op:         "log in as service account " + saID,
		Message:    "the server refused the OIDC token: " + msg,
		StatusCode: ae.StatusCode,
		Code:       ae.Code,
	}
	var hint strings.Builder
	c, perr := ParseClaims(oidcToken)
	switch {
	case perr != nil:
		fmt.Fprintf(&hint, "The OIDC token from %s is %s: pass the ID token your CI issues, not an access token or a file path.", source, perr)
	case !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt):
		fmt.Fprintf(&hint, "The OIDC token from %s expired at %s. CI tokens are short-lived: get a fresh one for each job, or use %s so the token is re-read on each exchange.",
			source, formatTime(c.ExpiresAt), EnvServiceAccountTokenFile)
	case c.Issuer == "":
		fmt.Fprintf(&hint, "The OIDC token from %s has no issuer (iss) claim, so no trust policy can match it.", source)
	default:
		fmt.Fprintf(&hint, "The OIDC token from %s was issued by %s", source, c.Issuer)
		if len(c.Audience) > 0 {
			fmt.Fprintf(&hint, " for audience %s", strings.Join(quoteAll(c.Audience), ", "))
		}
		if c.Subject != "" {
			fmt.Fprintf(&hint, " with subject %q", c.Subject)
		}
		hint.WriteString(".\nCheck that:\n")
		fmt.Fprintf(&hint, "  - service account %s exists (GID, TRN or group/name path);\n", saID)
		fmt.Fprintf(&hint, "  - one of its trust policies has the issuer %s (a trailing / does not matter), and the server can reach the issuer's /.well-known/openid-configuration and keys;\n", c.Issuer)
		hint.WriteString("  - that policy's bound claims all match the token's claims (exact values, or * patterns with GLOB)")
		if ex := claimSummary(c); ex != "" {
			hint.WriteString("; the token has " + ex)
		}
		hint.WriteString(".")
	}
	e.Hint = scrub(hint.String(), oidcToken)
	return e
}

func explainClientCredentials(err error, clientID, secret string) error {
	var ae *api.Error
	if !errors.As(err, &ae) {
		return err
	}
	if ae.Kind != api.KindUnauthenticated && ae.Kind != api.KindBadRequest {
		return err
	}
	return &api.Error{
		Kind:       api.KindUnauthenticated,
		Op:         "log in as service account " + clientID + " with client credentials",
		Message:    "the server refused the client credentials: " + scrub(ae.Message, secret),
		StatusCode: ae.StatusCode,
		Hint: fmt.Sprintf("Check that %s names the service account (GID, TRN or path), that client credentials are enabled for it, "+
			"and that %s is its current secret and has not expired (resetting the credentials gives a new secret).",
			EnvClientID, EnvClientSecret),
	}
}

// scrub removes secret from s, should a server ever echo it.
func scrub(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[REDACTED]")
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// claimSummary lists a few of the token's other claims (at most 8, string
// values only) to compare with the bound claims.
func claimSummary(c *Claims) string {
	var keys []string
	for k, v := range c.Other {
		if _, ok := v.(string); ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > 8 {
		keys = keys[:8]
	}
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, c.Other[k]))
	}
	return strings.Join(parts, ", ")
}
