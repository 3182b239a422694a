package configure

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// DeleteOptions are the inputs of `tharsis configure delete`.
type DeleteOptions struct {
	IO    *ui.IOStreams
	Store func() (*config.Store, error)
	JSON  bool
	Name  string
}

// NewCmdDelete builds `tharsis configure delete NAME`; runF replaces the real
// run in tests.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IO}
	return &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a profile and its stored token",
		Example: `  tharsis configure delete staging`,
		Args:    cmdutil.ExactArgs("NAME"),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return ProfileNames(f), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Store = f.ConfigStore
			opts.JSON = f.JSON()
			opts.Name = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDelete(cmd.Context(), opts)
		},
	}
}

// ProfileNames lists the configured profiles for shell completion; errors
// give no completions.
func ProfileNames(f *cmdutil.Factory) []string {
	store, err := f.ConfigStore()
	if err != nil {
		return nil
	}
	settings, err := config.NewStore(store.Dir(), nil).LoadSettings()
	if err != nil {
		return nil
	}
	return settings.ProfileNames()
}

func runDelete(_ context.Context, opts *DeleteOptions) error {
	store, err := opts.Store()
	if err != nil {
		return err
	}
	tok, err := store.Token(opts.Name)
	if err != nil {
		return err
	}
	ok, err := store.DeleteProfile(opts.Name)
	if err != nil {
		return err
	}
	if !ok {
		settings, err := store.LoadSettings()
		if err != nil {
			return err
		}
		hint := "no profiles are configured"
		if names := settings.ProfileNames(); len(names) > 0 {
			hint = "known profiles: " + strings.Join(names, ", ")
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitNotFound, Err: cmdutil.WithHint(
			fmt.Errorf("no profile named %q", opts.Name), hint)}
	}
	if opts.JSON {
		return opts.IO.PrintJSON(map[string]any{"deleted": opts.Name, "token_removed": tok != ""})
	}
	msg := fmt.Sprintf("Deleted profile %s", opts.Name)
	if tok != "" {
		msg += " and its stored token"
	}
	_, err = fmt.Fprintln(opts.IO.Out, msg+".")
	return err
}
