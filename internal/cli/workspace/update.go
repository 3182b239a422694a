package workspace

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// UpdateOptions are the inputs of `tharsis workspace update`.
type UpdateOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	Workspace          string
	Description        admincmd.OptString
	TerraformVersion   string
	MaxJobDuration     string
	PreventDestroyPlan admincmd.OptBool
	Labels             []string
	RemoveLabels       []string
	ClearLabels        bool
	RunnerTags         admincmd.RunnerTagFlags
	Version            string
}

// NewCmdUpdate builds `tharsis workspace update`; runF replaces the real run
// in tests.
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "update WORKSPACE",
		Short: "Change a workspace's settings",
		Long: `Change the settings given; the others stay as they are. --label adds or
changes one label and --remove-label removes one, keeping the other labels.
Needs the deployer role.

With -o json the workspace is printed as by 'tharsis workspace get -o json'.`,
		Example: `  tharsis workspace update ops/network --terraform-version 1.11.4
  tharsis workspace update ops/network --label env=staging --remove-label owner
  tharsis workspace update ops/network --runner-tag gpu --prevent-destroy-plan`,
		Args: cmdutil.ExactArgs("WORKSPACE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Workspace = args[0]
			if !opts.Description.Given && opts.TerraformVersion == "" && opts.MaxJobDuration == "" &&
				!opts.PreventDestroyPlan.Given && len(opts.Labels) == 0 && len(opts.RemoveLabels) == 0 &&
				!opts.ClearLabels && !opts.RunnerTags.Given() {
				return cmdutil.UsageErrorf("nothing to update: give at least one setting (see --help)")
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
	fs.StringVar(&opts.TerraformVersion, "terraform-version", "", "Terraform version of its runs")
	fs.StringVar(&opts.MaxJobDuration, "max-job-duration", "", "Longest a plan or apply may run: minutes, or a duration such as 2h")
	admincmd.BoolVar(fs, &opts.PreventDestroyPlan, "prevent-destroy-plan", "Refuse destroy runs (--prevent-destroy-plan=false allows them)")
	fs.StringArrayVar(&opts.Labels, "label", nil, "Add or change a label, as key=value (repeatable)")
	fs.StringArrayVar(&opts.RemoveLabels, "remove-label", nil, "Remove the label with this key (repeatable)")
	fs.BoolVar(&opts.ClearLabels, "clear-labels", false, "Remove every label (before --label is applied)")
	opts.RunnerTags.Register(cmd, true)
	fs.StringVar(&opts.Version, "version", "", "Fail if the workspace changed since this version (optimistic locking)")
	admincmd.AddJSONFlag(cmd, f)
	cmd.ValidArgsFunction = complete.Workspaces(f)
	return cmd
}

func runUpdate(ctx context.Context, opts *UpdateOptions) error {
	const op = "update workspace"
	version, err := admincmd.Version(opts.Version)
	if err != nil {
		return err
	}
	maxJob, err := parseMinutes(opts.MaxJobDuration)
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
	cur, err := mustFetch(ctx, client, op, opts.Workspace)
	if err != nil {
		return err
	}
	// Labels are read, changed and written back whole; the version check
	// keeps a concurrent change from being lost.
	if version == nil {
		version = &cur.Metadata.Version
	}
	in := gql.UpdateWorkspaceInput{
		Id: &cur.Id, Metadata: &gql.ResourceMetadataInput{Version: *version},
		Description: opts.Description.Ptr(), MaxJobDuration: maxJob,
		PreventDestroyPlan: opts.PreventDestroyPlan.Ptr(), RunnerTags: tags,
	}
	if opts.TerraformVersion != "" {
		in.TerraformVersion = &opts.TerraformVersion
	}
	if len(opts.Labels) > 0 || len(opts.RemoveLabels) > 0 || opts.ClearLabels {
		base := map[string]string{}
		if !opts.ClearLabels {
			base = maps.Clone(fromGQL(cur).Labels)
		}
		for _, k := range opts.RemoveLabels {
			delete(base, k)
		}
		if in.Labels, err = parseLabels(opts.Labels, base); err != nil {
			return err
		}
	}
	resp, err := gql.UpdateWorkspace(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.UpdateWorkspace.Problems)
	}
	if err != nil {
		err = admincmd.ExplainWorkspace(api.WithOp(err, op), admincmd.RoleDeployer, cur.FullPath)
		return explainTerraformVersion(ctx, client, err)
	}
	if resp.UpdateWorkspace.Workspace == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no workspace"}
	}
	w := fromGQL(&resp.UpdateWorkspace.Workspace.WorkspaceDetail)
	if !opts.JSON {
		fmt.Fprintf(opts.IO.Out, "Updated workspace %s.\n\n", w.FullPath)
	}
	return printWorkspace(opts.IO, opts.JSON, w, opts.Now())
}
