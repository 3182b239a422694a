package serviceaccount

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/auth"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// LoginOptions are the inputs of `tharsis service-account login`.
type LoginOptions struct {
	IO                 *ui.IOStreams
	JSON               bool
	Getenv             func(string) string
	Now                func() time.Time
	AnonymousAPIClient func() (*api.Client, error)

	ServiceAccount string
	Token          string
	TokenFile      string
}

// LoginResult is what `service-account login -o json` prints.
type LoginResult struct {
	Token     string    `json:"token"`
	ExpiresIn int       `json:"expires_in"` // seconds
	ExpiresAt time.Time `json:"expires_at"`
}

// NewCmdLogin builds `tharsis service-account login`; runF replaces the
// real run in tests.
func NewCmdLogin(f *cmdutil.Factory, runF func(context.Context, *LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:     "login SERVICE_ACCOUNT (--token TOKEN | --token-file FILE)",
		Aliases: []string{"create-token"}, // the reference CLI's name
		Short:   "Exchange an OIDC token for a Tharsis token and print it",
		Long: `Log in as a service account with an OIDC token from your CI platform
(serviceAccountCreateToken) and print the Tharsis token on stdout, for
scripts and tools that need a bearer token. The token lives 15 minutes on a
real installation and is not renewed: tharsis commands themselves should
rather use THARSIS_SERVICE_ACCOUNT_ID with THARSIS_SERVICE_ACCOUNT_TOKEN (or
_TOKEN_FILE), which renew it as long as they run.

Without --token and --token-file, the OIDC token comes from
THARSIS_SERVICE_ACCOUNT_TOKEN, THARSIS_SERVICE_ACCOUNT_TOKEN_FILE or, in a
GitHub Actions job with 'id-token: write', from GitHub (audience
THARSIS_OIDC_AUDIENCE, default "tharsis"). --token-file - reads standard
input.

With -o json: {"token", "expires_in" (seconds), "expires_at"}.`,
		Example: `  tharsis service-account login ops/ci --token "$CI_JOB_JWT"
  TOKEN=$(tharsis service-account login ops/ci --token-file /var/run/secrets/tharsis/token)
  tharsis service-account login trn:service_account:ops/ci -o json`,
		Args: cmdutil.ExactArgs("SERVICE_ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ServiceAccount = args[0]
			opts.JSON = f.JSON()
			opts.Getenv = f.Getenv
			opts.Now = f.Now
			opts.AnonymousAPIClient = f.AnonymousAPIClient
			if opts.Token != "" && opts.TokenFile != "" {
				return cmdutil.UsageErrorf("--token and --token-file cannot be used together")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLogin(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Token, "token", "", "The OIDC token (a JWT) issued by your CI platform")
	cmd.Flags().StringVar(&opts.TokenFile, "token-file", "", "Read the OIDC token from this file (- for standard input)")
	return cmd
}

func runLogin(ctx context.Context, opts *LoginOptions) error {
	saID := api.NormalizeID("service_account", opts.ServiceAccount)
	if saID == "" {
		return cmdutil.UsageErrorf("the service account is empty: give its path, TRN or ID")
	}
	oidc, err := oidcToken(opts)
	if err != nil {
		return err
	}
	client, err := opts.AnonymousAPIClient()
	if err != nil {
		return err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	tok, err := auth.ExchangeOIDC(ctx, auth.NewAPIExchanger(client), saID, oidc, now)
	if err != nil {
		return err
	}
	res := LoginResult{Token: tok.Value, ExpiresIn: int(tok.ExpiresIn / time.Second), ExpiresAt: start.Add(tok.ExpiresIn).UTC()}
	if tok.ExpiresIn == 0 {
		if c, err := auth.ParseClaims(tok.Value); err == nil && !c.ExpiresAt.IsZero() {
			res.ExpiresAt = c.ExpiresAt.UTC()
			res.ExpiresIn = int(c.ExpiresAt.Sub(start) / time.Second)
		}
	}
	if opts.JSON {
		return opts.IO.PrintJSON(res)
	}
	if _, err := fmt.Fprintln(opts.IO.Out, tok.Value); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Token for service account %s, valid until %s (%s).\n",
		saID, res.ExpiresAt.Local().Format("2006-01-02 15:04:05 MST"), time.Duration(res.ExpiresIn)*time.Second)
	return nil
}

// oidcToken picks the OIDC token: the flags, else the environment as the
// credential chain reads it.
func oidcToken(opts *LoginOptions) (auth.OIDCToken, error) {
	switch {
	case opts.Token != "":
		return auth.StaticOIDCToken("--token", opts.Token), nil
	case opts.TokenFile == "-":
		b, err := io.ReadAll(io.LimitReader(opts.IO.In, 1<<20))
		if err != nil {
			return auth.OIDCToken{}, fmt.Errorf("read the OIDC token from standard input: %w", err)
		}
		return auth.StaticOIDCToken("standard input", string(b)), nil
	case opts.TokenFile != "":
		return auth.FileOIDCToken("--token-file "+opts.TokenFile, opts.TokenFile), nil
	}
	get := func(k string) string { return strings.TrimSpace(opts.Getenv(k)) }
	switch {
	case get(auth.EnvServiceAccountToken) != "":
		return auth.StaticOIDCToken(auth.EnvServiceAccountToken, get(auth.EnvServiceAccountToken)), nil
	case get(auth.EnvServiceAccountTokenFile) != "":
		f := get(auth.EnvServiceAccountTokenFile)
		return auth.FileOIDCToken(auth.EnvServiceAccountTokenFile+" ("+f+")", f), nil
	case get(auth.EnvGitHubTokenRequestURL) != "" && get(auth.EnvGitHubTokenRequestToken) != "":
		aud := get(auth.EnvOIDCAudience)
		if aud == "" {
			aud = auth.DefaultOIDCAudience
		}
		return auth.GitHubOIDCToken(nil, get(auth.EnvGitHubTokenRequestURL), get(auth.EnvGitHubTokenRequestToken), aud), nil
	}
	return auth.OIDCToken{}, cmdutil.UsageErrorf("no OIDC token: give --token or --token-file, or set %s", auth.EnvServiceAccountToken)
}
