package sso

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/auth"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// LogoutOptions are the inputs of `tharsis sso logout`.
type LogoutOptions struct {
	IO          *ui.IOStreams
	JSON        bool
	Getenv      func(string) string
	Profile     func() string
	ConfigStore func() (*config.Store, error)
}

// LogoutResult is what `sso logout -o json` prints.
type LogoutResult struct {
	Profile    string `json:"profile"`
	LoggedOut  bool   `json:"logged_out"` // false: there was no stored token
	StillInUse string `json:"still_in_use,omitempty"`
}

// NewCmdLogout builds `tharsis sso logout`; runF replaces the real run in
// tests.
func NewCmdLogout(f *cmdutil.Factory, runF func(context.Context, *LogoutOptions) error) *cobra.Command {
	opts := &LogoutOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "logout",
		Short: "Remove the profile's stored session token",
		Long: `Remove the token 'tharsis sso login' stored for the profile. Tharsis has no
way to revoke it: it stays valid until it expires, but this machine no
longer holds it. Environment credentials (THARSIS_STATIC_TOKEN, service
accounts) are not affected.`,
		Example: `  tharsis sso logout
  tharsis -p prod sso logout`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.JSON = f.JSON()
			opts.Getenv = f.Getenv
			opts.ConfigStore = f.ConfigStore
			opts.Profile = func() string {
				// Logging out needs no endpoint: resolve the profile only.
				p, _ := config.ResolveProfileName(f.Getenv, f.Global.Profile)
				return p
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLogout(cmd.Context(), opts)
		},
	}
}

func runLogout(_ context.Context, opts *LogoutOptions) error {
	store, err := opts.ConfigStore()
	if err != nil {
		return err
	}
	profile := opts.Profile()
	tok, err := store.Token(profile)
	if err != nil {
		return err
	}
	res := LogoutResult{Profile: profile, LoggedOut: tok != ""}
	if tok != "" {
		if err := store.SetToken(profile, ""); err != nil {
			return fmt.Errorf("remove the token: %w", err)
		}
	}
	var inUse []string
	for _, v := range []string{auth.EnvServiceAccountID, auth.EnvServiceAccountPath, auth.EnvClientID, auth.EnvStaticToken} {
		if strings.TrimSpace(opts.Getenv(v)) != "" {
			inUse = append(inUse, v)
		}
	}
	res.StillInUse = strings.Join(inUse, ", ")
	if opts.JSON {
		return opts.IO.PrintJSON(res)
	}
	w := opts.IO.ErrOut
	if res.LoggedOut {
		fmt.Fprintf(w, "%s\n", opts.IO.ErrStyles().Success.Render(fmt.Sprintf("Logged out of profile %q: its token was removed from %s.", profile, store.CredentialsPath())))
	} else {
		fmt.Fprintf(w, "Profile %q has no stored token: nothing to do.\n", profile)
	}
	if res.StillInUse != "" {
		fmt.Fprintf(w, "Note: %s is set in the environment and still authenticates commands.\n", res.StillInUse)
	}
	return nil
}
