package group

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// UpdateOptions are the inputs of `tharsis group update`.
type UpdateOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	Group       string
	Description admincmd.OptString
	RunnerTags  admincmd.RunnerTagFlags
	Version     string
}

// NewCmdUpdate builds `tharsis group update`; runF replaces the real run in
// tests.
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "update GROUP",
		Short: "Change a group's description or runner tags",
		Long: `Change the settings given; the others stay as they are. Needs the deployer
role.

With -o json the group is printed as by 'tharsis group get -o json'.`,
		Example: `  tharsis group update ops --description "Operations"
  tharsis group update ops/gpu --runner-tag gpu`,
		Args: cmdutil.ExactArgs("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Group = args[0]
			if !opts.Description.Given && !opts.RunnerTags.Given() {
				return cmdutil.UsageErrorf("nothing to update: give --description or runner tag flags")
			}
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			opts.Now = f.Now
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runUpdate(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.Var(&opts.Description, "description", "New description")
	opts.RunnerTags.Register(cmd, true)
	fs.StringVar(&opts.Version, "version", "", "Fail if the group changed since this version (optimistic locking)")
	admincmd.AddJSONFlag(cmd, f)
	cmd.ValidArgsFunction = complete.Groups(f)
	return cmd
}

func runUpdate(ctx context.Context, opts *UpdateOptions) error {
	const op = "update group"
	version, err := admincmd.Version(opts.Version)
	if err != nil {
		return err
	}
	tags, err := opts.RunnerTags.Input()
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	cur, err := mustFetch(ctx, client, op, opts.Group)
	if err != nil {
		return err
	}
	in := gql.UpdateGroupInput{Id: &cur.ID, Description: opts.Description.Ptr(), RunnerTags: tags}
	if version != nil {
		in.Metadata = &gql.ResourceMetadataInput{Version: *version}
	}
	resp, err := gql.UpdateGroup(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.UpdateGroup.Problems)
	}
	if err != nil {
		return admincmd.Explain(api.WithOp(err, op), admincmd.RoleDeployer, cur.FullPath)
	}
	if resp.UpdateGroup.Group == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no group"}
	}
	g := fromGQL(&resp.UpdateGroup.Group.GroupDetail)
	if !opts.JSON {
		fmt.Fprintf(opts.IO.Out, "Updated group %s.\n\n", g.FullPath)
	}
	return printGroup(opts.IO, opts.JSON, g, opts.Now())
}
