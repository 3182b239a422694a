package configure

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// ListOptions are the inputs of `tharsis configure list`.
type ListOptions struct {
	IO     *ui.IOStreams
	Store  func() (*config.Store, error)
	JSON   bool
	Active string // the profile commands would use now
}

// NewCmdList builds `tharsis configure list`; runF replaces the real run in
// tests.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO}
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the profiles",
		Long: `List the profiles of the settings file with their endpoint, TLS setting and
whether a token is stored (tokens themselves are never shown). The profile that
commands would use now is marked with "*".`,
		Example: `  tharsis configure list
  tharsis configure list -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Store = f.ConfigStore
			opts.JSON = f.JSON()
			opts.Active, _ = config.ResolveProfileName(f.Getenv, f.Global.Profile)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runList(cmd.Context(), opts)
		},
	}
}

func runList(_ context.Context, opts *ListOptions) error {
	store, err := opts.Store()
	if err != nil {
		return err
	}
	settings, err := store.LoadSettings()
	if err != nil {
		return err
	}
	creds, err := store.LoadCredentials()
	if err != nil {
		return err
	}
	views := []ProfileView{}
	for _, name := range settings.ProfileNames() {
		p, _ := settings.Profile(name)
		views = append(views, ProfileView{
			Name: name, Endpoint: p.Endpoint, TLSSkipVerify: p.TLSSkipVerify, CACertFile: p.CACertFile,
			HasToken: creds.StateTokens[name] != "", Active: name == opts.Active,
		})
	}
	if opts.JSON {
		return opts.IO.PrintJSON(views)
	}
	if len(views) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No profiles configured. Create one with 'tharsis configure'.")
		return nil
	}
	t := opts.IO.NewTable("CURRENT", "PROFILE", "ENDPOINT", "TLS SKIP VERIFY", "TOKEN")
	for _, v := range views {
		cur, tok := "", "none"
		if v.Active {
			cur = "*"
		}
		if v.HasToken {
			tok = "stored"
		}
		t.AddRow(cur, v.Name, v.Endpoint, fmt.Sprint(v.TLSSkipVerify), tok)
	}
	return t.Render()
}
