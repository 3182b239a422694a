package workspace

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/cli/run"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// GetOptions are the inputs of `tharsis workspace get`.
type GetOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	Workspace string
}

// NewCmdGet builds `tharsis workspace get`; runF replaces the real run in
// tests.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "get WORKSPACE",
		Short: "Show a workspace",
		Long: `Show a workspace: Terraform version, labels, runner tags, lock, current state
version and the run holding it.

With -o json: {"id", "trn", "name", "full_path", "group_path", "description",
"terraform_version", "max_job_duration" (minutes), "prevent_destroy_plan",
"locked", "dirty_state", "destroyed", "labels" {key: value}, "runner_tags"
{"tags", "inherited", "namespace_path"}, "current_state_version" {"id",
"run_id", "created_by", "created_at"} or null, "current_apply_run" {"id",
"status"} or null, "vcs_link" (when linked), "created_by", "created_at", "updated_at", "version"}.`,
		Example: `  tharsis workspace get ops/network
  tharsis workspace get trn:workspace:ops/network -o json`,
		Args: cmdutil.ExactArgs("WORKSPACE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Workspace = args[0]
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
	cmd.ValidArgsFunction = complete.Workspaces(f)
	return cmd
}

func runGet(ctx context.Context, opts *GetOptions) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	w, err := mustFetch(ctx, client, "get workspace", opts.Workspace)
	if err != nil {
		return err
	}
	out := fromGQL(w)
	if _, out.VCSLink, err = run.GetVCSLink(ctx, client, w.Id); err != nil {
		return api.WithOp(err, "get workspace")
	}
	return printWorkspace(opts.IO, opts.JSON, out, opts.Now())
}
