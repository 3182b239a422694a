package group

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// GetOptions are the inputs of `tharsis group get`.
type GetOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	Group string
}

// NewCmdGet builds `tharsis group get`; runF replaces the real run in tests.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "get GROUP",
		Short: "Show a group",
		Long: `Show a group: parent, runner tags and how many subgroups and workspaces it
directly holds.

With -o json: {"id", "trn", "name", "full_path", "parent_path" ("" at the top),
"description", "runner_tags" {"tags", "inherited", "namespace_path"},
"subgroup_count", "workspace_count", "created_by", "created_at",
"updated_at", "version"}; list items have the same fields without the
counts.`,
		Example: `  tharsis group get ops
  tharsis group get trn:group:ops/teams -o json`,
		Args: cmdutil.ExactArgs("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Group = args[0]
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			opts.Now = f.Now
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runGet(cmd.Context(), opts)
		},
	}
	admincmd.AddJSONFlag(cmd, f)
	cmd.ValidArgsFunction = complete.Groups(f)
	return cmd
}

func runGet(ctx context.Context, opts *GetOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	g, err := mustFetch(ctx, client, "get group", opts.Group)
	if err != nil {
		return err
	}
	return printGroup(opts.IO, opts.JSON, *g, opts.Now())
}
