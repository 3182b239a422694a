package workspace

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// DeleteOptions are the inputs of `tharsis workspace delete`.
type DeleteOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	Workspace string
	// Force deletes a workspace that still manages resources, without a
	// prompt (--force or --yes).
	Force   bool
	Version string
}

// Deleted is what delete commands print with -o json.
type Deleted struct {
	Deleted  bool   `json:"deleted"`
	ID       string `json:"id"`
	FullPath string `json:"full_path"`
}

// NewCmdDelete builds `tharsis workspace delete`; runF replaces the real run
// in tests.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IO}
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete WORKSPACE",
		Short: "Delete a workspace",
		Long: `Delete a workspace with its runs, state versions, variables and memberships.

A workspace whose state still holds resources (its current state was not
written by a destroy run) is not empty: deleting it leaves those resources
running but unmanaged. On a terminal you are asked first; otherwise --force
(or --yes) is needed. Destroy the resources first with 'tharsis destroy'.
Needs the deployer role.

With -o json: {"deleted": true, "id", "full_path"}.`,
		Example: `  tharsis workspace delete ops/old-network
  tharsis workspace delete ops/old-network --force`,
		Args: cmdutil.ExactArgs("WORKSPACE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Workspace = args[0]
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
	fs.BoolVarP(&opts.Force, "force", "f", false, "Delete even if the workspace still manages resources, without asking")
	fs.BoolVarP(&yes, "yes", "y", false, "Do not ask (same as --force)")
	fs.StringVar(&opts.Version, "version", "", "Fail if the workspace changed since this version (optimistic locking)")
	admincmd.AddJSONFlag(cmd, f)
	cmd.ValidArgsFunction = complete.Workspaces(f)
	return cmd
}

func runDelete(ctx context.Context, opts *DeleteOptions) error {
	const op = "delete workspace"
	version, err := admincmd.Version(opts.Version)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	w, err := mustFetch(ctx, client, op, opts.Workspace)
	if err != nil {
		return err
	}
	del := func(force bool) error {
		in := gql.DeleteWorkspaceInput{Id: &w.Id, Force: &force}
		if version != nil {
			in.Metadata = &gql.ResourceMetadataInput{Version: *version}
		}
		resp, err := gql.DeleteWorkspace(ctx, client.GraphQL(), in)
		if err == nil {
			err = api.ProblemsOf(op, resp.DeleteWorkspace.Problems)
		}
		return err
	}
	err = del(opts.Force)
	if api.KindOf(err) == api.KindConflict && !opts.Force {
		// The server refuses to delete a workspace whose state was not
		// written by a destroy run.
		reason := fmt.Sprintf("Workspace %s still manages resources (its current state was not written by a destroy run); deleting it leaves them unmanaged", w.FullPath)
		if cerr := admincmd.Confirm(ctx, opts.IO, false, reason, "Delete it anyway?", "--force"); cerr != nil {
			return cerr
		}
		err = del(true)
	}
	if err != nil {
		return admincmd.ExplainWorkspace(api.WithOp(err, op), admincmd.RoleDeployer, w.FullPath)
	}
	if opts.JSON {
		return opts.IO.PrintJSON(Deleted{Deleted: true, ID: w.Id, FullPath: w.FullPath})
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Deleted workspace %s.\n", w.FullPath)
	return err
}
