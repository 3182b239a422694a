// Package auth decides which credential a command uses and turns it into an
// api.TokenSource.
//
// Order (first match wins):
//  1. THARSIS_STATIC_TOKEN: a literal Tharsis token;
//  2. the token stored for the active profile in credentials.json (written by
//     `tharsis sso login`), re-read on every request so a token refreshed by
//     another process is picked up.
//
// Service accounts (THARSIS_SERVICE_ACCOUNT_ID + THARSIS_SERVICE_ACCOUNT_TOKEN)
// and client credentials belong before 1 and are added separately.
package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/tharsis-cli/tharsis/internal/api"
)

// Environment variables read by Resolve.
const (
	EnvStaticToken = "THARSIS_STATIC_TOKEN"
)

// Kind names the kind of credential in use.
type Kind string

// Credential kinds.
const (
	KindStaticToken  Kind = "static_token"
	KindProfileToken Kind = "profile_token"
)

// Description says which credential is in use, for `whoami` and debug logs.
// It never contains the token.
type Description struct {
	Kind    Kind   `json:"kind"`
	Source  string `json:"source"`            // e.g. "THARSIS_STATIC_TOKEN" or the credentials file path
	Profile string `json:"profile,omitempty"` // for stored tokens
}

// String is a human-readable description.
func (d Description) String() string {
	switch d.Kind {
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

// Resolve picks the credential for profile. It fails with an
// unauthenticated *api.Error, whose hint says how to log in, when there is
// none.
func Resolve(getenv func(string) string, profile string, store TokenStore) (api.TokenSource, Description, error) {
	if tok := strings.TrimSpace(getenv(EnvStaticToken)); tok != "" {
		return api.StaticTokenSource(tok), Description{Kind: KindStaticToken, Source: EnvStaticToken}, nil
	}
	if store != nil {
		tok, err := store.Token(profile)
		if err != nil {
			return nil, Description{}, err
		}
		if tok != "" {
			d := Description{Kind: KindProfileToken, Source: store.CredentialsPath(), Profile: profile}
			return &storedTokenSource{store: store, profile: profile}, d, nil
		}
	}
	return nil, Description{}, NoCredentialsError(profile)
}

// NoCredentialsError is the error for "nothing to authenticate with".
func NoCredentialsError(profile string) error {
	login := "tharsis sso login"
	if profile != "" && profile != "default" {
		login += " -p " + profile
	}
	return &api.Error{
		Kind:    api.KindUnauthenticated,
		Op:      "authenticate",
		Message: fmt.Sprintf("no credentials for profile %q", profile),
		Hint: fmt.Sprintf("run '%s', or set %s, or set THARSIS_SERVICE_ACCOUNT_ID and THARSIS_SERVICE_ACCOUNT_TOKEN to log in as a service account",
			login, EnvStaticToken),
	}
}

// storedTokenSource reads the profile's token from the credentials file on
// every call.
type storedTokenSource struct {
	store   TokenStore
	profile string
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
	return tok, nil
}
