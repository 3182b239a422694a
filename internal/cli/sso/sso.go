// Package sso implements `tharsis sso login` and `tharsis sso logout`:
// logging people in with their browser (authorization code with PKCE
// against Tharsis's own identity provider or the OIDC provider it is
// configured with) and storing the token in the profile.
package sso

import (
	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
)

// NewCmdSSO builds the `sso` noun with its verbs.
func NewCmdSSO(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sso <command>",
		Short: "Log in and out with single sign-on",
		Long: `Log in with your browser and keep the session token in the profile, or
remove it. Service accounts (CI) log in with environment variables instead:
see docs/authentication.md.`,
		Example: `  tharsis sso login
  tharsis -p prod sso login --no-browser
  tharsis sso logout`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(NewCmdLogin(f, nil), NewCmdLogout(f, nil))
	return cmd
}
