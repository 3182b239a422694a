// Package auth decides which credential a command uses and turns it into an
// api.TokenSource.
//
// Order (first match wins; docs/authentication.md):
//  1. a service account through an OIDC token exchange:
//     THARSIS_SERVICE_ACCOUNT_ID (GID, TRN or path; THARSIS_SERVICE_ACCOUNT_PATH
//     is the reference CLI's deprecated alias) with THARSIS_SERVICE_ACCOUNT_TOKEN,
//     THARSIS_SERVICE_ACCOUNT_TOKEN_FILE (re-read on every exchange) or, in a
//     GitHub Actions job allowed to mint OIDC tokens, a token fetched from
//     GitHub with audience THARSIS_OIDC_AUDIENCE (default "tharsis");
//  2. a service account's client credentials: THARSIS_CLIENT_ID and
//     THARSIS_CLIENT_SECRET;
//  3. THARSIS_STATIC_TOKEN: a literal Tharsis token;
//  4. the token stored for the active profile in credentials.json (written by
//     `tharsis sso login`), re-read on every request so a token refreshed by
//     another process is picked up.
//
// Exchanged tokens (1 and 2) live 15 minutes on a real installation; the
// token source caches one and renews it before it expires, so every request
// and every websocket (re)connection of a long command carries a valid one.
// Tokens never appear in errors, descriptions or logs.
package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
)

// Environment variables read by New.
const (
	EnvServiceAccountID        = "THARSIS_SERVICE_ACCOUNT_ID"
	EnvServiceAccountPath      = "THARSIS_SERVICE_ACCOUNT_PATH" // deprecated alias of the ID
	EnvServiceAccountToken     = "THARSIS_SERVICE_ACCOUNT_TOKEN"
	EnvServiceAccountTokenFile = "THARSIS_SERVICE_ACCOUNT_TOKEN_FILE"
	EnvOIDCAudience            = "THARSIS_OIDC_AUDIENCE"
	EnvClientID                = "THARSIS_CLIENT_ID"
	EnvClientSecret            = "THARSIS_CLIENT_SECRET"
	EnvStaticToken             = "THARSIS_STATIC_TOKEN"

	// Set by GitHub Actions in jobs with `permissions: id-token: write`.
	EnvGitHubTokenRequestURL   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvGitHubTokenRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// DefaultOIDCAudience is the audience requested from GitHub Actions when
// THARSIS_OIDC_AUDIENCE is not set.
const DefaultOIDCAudience = "tharsis"

// Kind names the kind of credential in use.
type Kind string

// Credential kinds.
const (
	KindServiceAccount    Kind = "service_account"    // OIDC token exchanged with serviceAccountCreateToken
	KindClientCredentials Kind = "client_credentials" // service account client id and secret
	KindStaticToken       Kind = "static_token"
	KindProfileToken      Kind = "profile_token" // stored by `tharsis sso login`
)

// Description says which credential is in use, for `whoami` and debug logs.
// It never contains the token or a secret.
type Description struct {
	Kind Kind `json:"kind"`
	// Source names where the credential came from: an environment variable,
	// a file, GitHub Actions or the credentials file.
	Source  string `json:"source"`
	Profile string `json:"profile,omitempty"` // for stored tokens
	// ServiceAccount is the service account's ID (GID or TRN) for
	// service-account credentials.
	ServiceAccount string `json:"service_account,omitempty"`
}

// String is a human-readable description.
func (d Description) String() string {
	switch d.Kind {
	case KindServiceAccount:
		return fmt.Sprintf("service account %s via OIDC token exchange (OIDC token from %s)", d.ServiceAccount, d.Source)
	case KindClientCredentials:
		return fmt.Sprintf("service account %s via client credentials (%s)", d.ServiceAccount, d.Source)
	case KindStaticToken:
		return "static token from " + d.Source
	case KindProfileToken:
		return fmt.Sprintf("token stored for profile %q in %s", d.Profile, d.Source)
	}
	return string(d.Kind)
}

// TokenStore reads stored tokens; *config.Store implements it.
type TokenStore interface {
	// Token returns the stored token of a profile, or "" when there is none.
	Token(profile string) (string, error)
	// CredentialsPath names the file tokens are stored in.
	CredentialsPath() string
}

// Exchanger obtains service-account tokens from the API. NewAPIExchanger
// implements it with an unauthenticated api.Client.
type Exchanger interface {
	// CreateToken exchanges an OIDC token for a service-account token
	// (serviceAccountCreateToken).
	CreateToken(ctx context.Context, serviceAccountID, oidcToken string) (Token, error)
	// ClientCredentialsToken trades a client id and secret for a
	// service-account token (POST /v1/serviceaccounts/token).
	ClientCredentialsToken(ctx context.Context, clientID, clientSecret string) (Token, error)
}

// Options configure New.
type Options struct {
	Getenv  func(string) string
	Profile string
	Store   TokenStore // nil: no stored tokens
	// NewExchanger builds the exchanger; it is only called when a service
	// account or client credentials are configured.
	NewExchanger func() (Exchanger, error)
	// HTTPClient fetches GitHub Actions OIDC tokens; nil uses a client with
	// a 30 s timeout that honours the proxy settings.
	HTTPClient *http.Client
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// Logger gets debug logs, never tokens; nil discards them.
	Logger *slog.Logger
	// Warn prints a warning for the user (deprecated variables); nil drops
	// them.
	Warn func(msg string)
}

// Resolve picks the credential for profile from the environment and the
// store. It cannot exchange tokens: use New with an exchanger for service
// accounts.
func Resolve(getenv func(string) string, profile string, store TokenStore) (api.TokenSource, Description, error) {
	return New(Options{Getenv: getenv, Profile: profile, Store: store})
}

// New picks the credential (see the package documentation for the order)
// and returns one token source for the whole command: exchanged tokens are
// cached and renewed, never exchanged twice. It fails with an
// unauthenticated *api.Error, whose hint says how to log in, when there is
// no credential, and with a usage-like unauthenticated error when a
// credential is only half configured.
func New(o Options) (api.TokenSource, Description, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	get := func(k string) string { return strings.TrimSpace(o.Getenv(k)) }

	if ts, d, ok, err := serviceAccountSource(o, get); ok || err != nil {
		return ts, d, err
	}
	if ts, d, ok, err := clientCredentialsSource(o, get); ok || err != nil {
		return ts, d, err
	}
	if tok := get(EnvStaticToken); tok != "" {
		d := Description{Kind: KindStaticToken, Source: EnvStaticToken}
		return &staticSource{token: tok, now: o.Now}, d, nil
	}
	if o.Store != nil {
		tok, err := o.Store.Token(o.Profile)
		if err != nil {
			return nil, Description{}, err
		}
		if tok != "" {
			d := Description{Kind: KindProfileToken, Source: o.Store.CredentialsPath(), Profile: o.Profile}
			return &storedTokenSource{store: o.Store, profile: o.Profile, now: o.Now}, d, nil
		}
	}
	return nil, Description{}, NoCredentialsError(o.Profile)
}

// LoginCommand is the command that logs in to profile.
func LoginCommand(profile string) string {
	login := "tharsis sso login"
	if profile != "" && profile != "default" {
		login += " -p " + profile
	}
	return login
}

// NoCredentialsError is the error for "nothing to authenticate with".
func NoCredentialsError(profile string) error {
	return &api.Error{
		Kind:    api.KindUnauthenticated,
		Op:      "authenticate",
		Message: fmt.Sprintf("no credentials for profile %q", profile),
		Hint: fmt.Sprintf("run '%s', or set %s, or set %s and %s to log in as a service account (see docs/authentication.md)",
			LoginCommand(profile), EnvStaticToken, EnvServiceAccountID, EnvServiceAccountToken),
	}
}

// configError is a credential configured wrongly (half of a pair, both of
// two exclusive variables).
func configError(msg, hint string) error {
	return &api.Error{Kind: api.KindUnauthenticated, Op: "authenticate", Message: msg, Hint: hint}
}

// staticSource is THARSIS_STATIC_TOKEN. An expired JWT is refused before
// any request is sent.
type staticSource struct {
	token string
	now   func() time.Time
}

func (s *staticSource) Token(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if exp := tokenExpiry(s.token); !exp.IsZero() && !s.now().Before(exp) {
		return "", &api.Error{
			Kind:    api.KindUnauthenticated,
			Op:      "authenticate",
			Message: fmt.Sprintf("the token in %s expired at %s", EnvStaticToken, formatTime(exp)),
			Hint:    fmt.Sprintf("Set %s to a fresh token, or use a service account (%s with %s) whose token is renewed automatically.", EnvStaticToken, EnvServiceAccountID, EnvServiceAccountToken),
		}
	}
	return s.token, nil
}

// ExpiresAt is the token's exp claim, when it is a JWT with one.
func (s *staticSource) ExpiresAt() (time.Time, bool) {
	exp := tokenExpiry(s.token)
	return exp, !exp.IsZero()
}

// storedTokenSource reads the profile's token from the credentials file on
// every call, and refuses an expired one with a message telling to log in
// again.
type storedTokenSource struct {
	store   TokenStore
	profile string
	now     func() time.Time
}

func (s *storedTokenSource) Token(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	tok, err := s.store.Token(s.profile)
	if err != nil {
		return "", err
	}
	if tok == "" {
		// Removed since the command started (e.g. by `sso logout`).
		return "", NoCredentialsError(s.profile)
	}
	if exp := tokenExpiry(tok); !exp.IsZero() && !s.now().Before(exp) {
		return "", SessionExpiredError(s.profile, exp)
	}
	return tok, nil
}

// ExpiresAt is the stored token's exp claim.
func (s *storedTokenSource) ExpiresAt() (time.Time, bool) {
	tok, err := s.store.Token(s.profile)
	if err != nil || tok == "" {
		return time.Time{}, false
	}
	exp := tokenExpiry(tok)
	return exp, !exp.IsZero()
}

// SessionExpiredError is the error for an expired stored token.
func SessionExpiredError(profile string, at time.Time) error {
	return &api.Error{
		Kind:    api.KindUnauthenticated,
		Op:      "authenticate",
		Message: fmt.Sprintf("your session expired at %s, run `%s`", formatTime(at), LoginCommand(profile)),
		Hint:    "For jobs that outlive a session (CI, long applies), use a service account: its token is renewed automatically (see docs/authentication.md).",
	}
}

func formatTime(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04:05 MST")
}
