package module

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// DeleteOptions are the inputs of `tharsis module delete`.
type DeleteOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	Module string
	// Force deletes a module that has versions without a prompt.
	Force bool
}

// Deleted is what the delete commands print with -o json.
type Deleted struct {
	Deleted bool   `json:"deleted"`
	ID      string `json:"id"`
	Path    string `json:"path"`
}

// NewCmdDelete builds `tharsis module delete`; runF replaces the real run
// in tests.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IO}
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete MODULE",
		Short: "Delete a module with all its versions",
		Long: `Delete a module and every version of it. Runs can no longer use it: a
workspace whose state came from it cannot be destroyed with 'tharsis
workspace destroy' afterwards. A module with versions is deleted only after
a prompt on a terminal, or with --force (or --yes).

Needs the owner, deployer or publisher role on the module's group.

With -o json: {"deleted": true, "id", "path"}.`,
		Example: `  tharsis module delete ops/old/aws
  tharsis module delete ops/old/aws --force`,
		Args: cmdutil.ExactArgs("MODULE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Module = args[0]
			opts.Force = opts.Force || yes
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDelete(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.BoolVarP(&opts.Force, "force", "f", false, "Delete a module with versions without asking")
	fs.BoolVarP(&yes, "yes", "y", false, "Do not ask (same as --force)")
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runDelete(ctx context.Context, opts *DeleteOptions) error {
	const op = "delete module"
	if _, err := ModuleID(opts.Module); err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	m, err := fetchModule(ctx, client, op, opts.Module)
	if err != nil {
		return err
	}
	if m.LatestVersion != nil {
		reason := fmt.Sprintf("Module %s has published versions (latest %s), which would be deleted with it", m.ResourcePath, m.LatestVersion.Version)
		if err := admincmd.Confirm(ctx, opts.IO, opts.Force, reason, "Delete the module and all its versions?", "--force"); err != nil {
			return err
		}
	}
	resp, err := gql.DeleteTerraformModule(ctx, client.GraphQL(), gql.DeleteTerraformModuleInput{Id: m.Id})
	if err == nil {
		err = api.ProblemsOf(op, resp.DeleteTerraformModule.Problems)
	}
	if err != nil {
		return explain(api.WithOp(err, op+" "+m.ResourcePath), m.GroupPath)
	}
	if opts.JSON {
		return opts.IO.PrintJSON(Deleted{Deleted: true, ID: m.Id, Path: m.ResourcePath})
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Deleted module %s.\n", m.ResourcePath)
	return err
}
