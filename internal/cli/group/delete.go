package group

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

// DeleteOptions are the inputs of `tharsis group delete`.
type DeleteOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	Group string
	// Force deletes a group with subgroups or workspaces, without a prompt
	// (--force or --yes).
	Force   bool
	Version string
}

// Deleted is what `group delete -o json` prints.
type Deleted struct {
	Deleted  bool   `json:"deleted"`
	ID       string `json:"id"`
	FullPath string `json:"full_path"`
}

// NewCmdDelete builds `tharsis group delete`; runF replaces the real run in
// tests.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IO}
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete GROUP",
		Short: "Delete a group",
		Long: `Delete a group with its service accounts, runner agents, variables and
memberships. A group that holds subgroups or workspaces is deleted with all
of them: on a terminal you are asked first; otherwise --force (or --yes) is
needed. Needs the deployer role.

With -o json: {"deleted": true, "id", "full_path"}.`,
		Example: `  tharsis group delete ops/old
  tharsis group delete ops/old --force`,
		Args: cmdutil.ExactArgs("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Group = args[0]
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
	fs.BoolVarP(&opts.Force, "force", "f", false, "Delete even a group with subgroups or workspaces, without asking")
	fs.BoolVarP(&yes, "yes", "y", false, "Do not ask (same as --force)")
	fs.StringVar(&opts.Version, "version", "", "Fail if the group changed since this version (optimistic locking)")
	admincmd.AddJSONFlag(cmd, f)
	cmd.ValidArgsFunction = complete.Groups(f)
	return cmd
}

func runDelete(ctx context.Context, opts *DeleteOptions) error {
	const op = "delete group"
	version, err := admincmd.Version(opts.Version)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	g, err := mustFetch(ctx, client, op, opts.Group)
	if err != nil {
		return err
	}
	force := opts.Force
	subs, wss := deref(g.Subgroups), deref(g.Workspaces)
	if !force && subs+wss > 0 {
		reason := fmt.Sprintf("Group %s is not empty: it holds %s and %s, which would be deleted with it",
			g.FullPath, admincmd.Plural(subs, "subgroup", "subgroups"), admincmd.Plural(wss, "workspace", "workspaces"))
		if err := admincmd.Confirm(ctx, opts.IO, false, reason, "Delete it with everything in it?", "--force"); err != nil {
			return err
		}
		force = true
	}
	in := gql.DeleteGroupInput{Id: &g.ID, Force: &force}
	if version != nil {
		in.Metadata = &gql.ResourceMetadataInput{Version: *version}
	}
	resp, err := gql.DeleteGroup(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.DeleteGroup.Problems)
	}
	if err != nil {
		err = admincmd.Explain(api.WithOp(err, op), admincmd.RoleDeployer, g.FullPath)
		if api.KindOf(err) == api.KindConflict && !force {
			// Something was added since the group was read.
			return cmdutil.WithHint(err, "Add --force to delete it with everything in it.")
		}
		return err
	}
	if opts.JSON {
		return opts.IO.PrintJSON(Deleted{Deleted: true, ID: g.ID, FullPath: g.FullPath})
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Deleted group %s.\n", g.FullPath)
	return err
}
