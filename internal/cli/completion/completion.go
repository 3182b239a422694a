// Package completion implements `tharsis completion`.
package completion

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// Shells are the supported shells.
func Shells() []string { return []string{"bash", "zsh", "fish", "powershell"} }

// CompletionOptions are the inputs of `tharsis completion`.
type CompletionOptions struct {
	IO    *ui.IOStreams
	Shell string
	Root  *cobra.Command
}

// NewCmdCompletion builds `tharsis completion SHELL`; runF replaces the real
// run in tests.
func NewCmdCompletion(f *cmdutil.Factory, runF func(context.Context, *CompletionOptions) error) *cobra.Command {
	opts := &CompletionOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "completion {bash|zsh|fish|powershell}",
		Short: "Print a shell completion script",
		Long: `Print the completion script for a shell. Load it in the current shell or
install it where your shell looks for completions.`,
		Example: `  # bash, current shell
  source <(tharsis completion bash)
  # bash, permanently (Linux)
  tharsis completion bash > ~/.local/share/bash-completion/completions/tharsis
  # zsh (a directory in $fpath; then restart the shell)
  tharsis completion zsh > "${fpath[1]}/_tharsis"
  # fish
  tharsis completion fish > ~/.config/fish/completions/tharsis.fish
  # PowerShell
  tharsis completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: Shells(),
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.ExactArgs("SHELL")(cmd, args); err != nil {
				return err
			}
			return cobra.OnlyValidArgs(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Shell = args[0]
			opts.Root = cmd.Root()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCompletion(cmd.Context(), opts)
		},
	}
}

func runCompletion(_ context.Context, opts *CompletionOptions) error {
	w := opts.IO.Out
	switch opts.Shell {
	case "bash":
		return opts.Root.GenBashCompletionV2(w, true)
	case "zsh":
		return opts.Root.GenZshCompletion(w)
	case "fish":
		return opts.Root.GenFishCompletion(w, true)
	case "powershell":
		return opts.Root.GenPowerShellCompletionWithDesc(w)
	}
	return cmdutil.UsageErrorf("unsupported shell %q: use one of bash, zsh, fish, powershell", opts.Shell)
}
