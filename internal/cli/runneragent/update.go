package runneragent

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// UpdateOptions are the inputs of `tharsis runner-agent update`.
type UpdateOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	Runner          string
	Description     admincmd.OptString
	Tags            []string
	TagsGiven       bool
	ClearTags       bool
	RunUntaggedJobs admincmd.OptBool
	Disabled        admincmd.OptBool
	Version         string
}

// NewCmdUpdate builds `tharsis runner-agent update`; runF replaces the real
// run in tests.
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "update RUNNER_AGENT",
		Short: "Change a runner agent's tags, description or state",
		Long: `Change the settings given; the others stay as they are. --tag replaces the
whole tag list. Needs the owner role (shared runner agents: an
administrator in admin mode).

With -o json the runner agent is printed as in 'tharsis runner-agent list
-o json'.`,
		Example: `  tharsis runner-agent update ops/gpu-runner --tag gpu --tag cuda
  tharsis runner-agent update ops/gpu-runner --disabled
  tharsis runner-agent update ops/gpu-runner --disabled=false --run-untagged-jobs=false`,
		Args: cmdutil.ExactArgs("RUNNER_AGENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Runner = args[0]
			opts.TagsGiven = cmd.Flags().Changed("tag")
			if !opts.Description.Given && !opts.TagsGiven && !opts.ClearTags && !opts.RunUntaggedJobs.Given && !opts.Disabled.Given {
				return cmdutil.UsageErrorf("nothing to update: give --description, --tag, --clear-tags, --run-untagged-jobs or --disabled")
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
	fs.StringSliceVar(&opts.Tags, "tag", nil, "Runner tag (repeatable, or comma-separated); replaces the tag list")
	fs.BoolVar(&opts.ClearTags, "clear-tags", false, "Remove every tag (needs --run-untagged-jobs)")
	cmd.MarkFlagsMutuallyExclusive("tag", "clear-tags")
	admincmd.BoolVar(fs, &opts.RunUntaggedJobs, "run-untagged-jobs", "Also take jobs without runner tags (=false: only tagged jobs)")
	admincmd.BoolVar(fs, &opts.Disabled, "disabled", "Take no jobs (=false: enable it again)")
	fs.StringVar(&opts.Version, "version", "", "Fail if the runner agent changed since this version (optimistic locking)")
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runUpdate(ctx context.Context, opts *UpdateOptions) error {
	const op = "update runner agent"
	version, err := admincmd.Version(opts.Version)
	if err != nil {
		return err
	}
	id, err := normalizeID(opts.Runner)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	cur, err := fetch(ctx, client, id, op, opts.Runner)
	if err != nil {
		return err
	}
	// The description is required by the API: keep the current one.
	in := gql.UpdateRunnerInput{
		Id: cur.ID, Description: cur.Description,
		RunUntaggedJobs: opts.RunUntaggedJobs.Ptr(), Disabled: opts.Disabled.Ptr(),
	}
	if opts.Description.Given {
		in.Description = opts.Description.Value
	}
	switch {
	case opts.ClearTags:
		in.Tags = []string{}
	case opts.TagsGiven:
		in.Tags = opts.Tags
		if in.Tags == nil {
			in.Tags = []string{}
		}
	}
	if version == nil {
		version = &cur.Version
	}
	in.Metadata = &gql.ResourceMetadataInput{Version: *version}
	resp, err := gql.UpdateRunner(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.UpdateRunner.Problems)
	}
	if err != nil {
		return admincmd.Explain(api.WithOp(err, op), admincmd.RoleOwner, cur.GroupPath)
	}
	if resp.UpdateRunner.Runner == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no runner"}
	}
	r := fromGQL(&resp.UpdateRunner.Runner.RunnerDetail)
	if opts.JSON {
		return opts.IO.PrintJSON(r)
	}
	fmt.Fprintf(opts.IO.Out, "Updated runner agent %s.\n\n", r.Path)
	return fields(r, opts.Now()).Print(opts.IO)
}

// fetch reads a runner agent's settings.
func fetch(ctx context.Context, client *api.Client, id, op, given string) (*Runner, error) {
	resp, err := gql.GetRunnerDetail(ctx, client.GraphQL(), id, 0, 0)
	if err != nil {
		return nil, api.WithOp(err, op)
	}
	if resp.Node == nil || *resp.Node == nil {
		return nil, admincmd.NotFound(op, "runner agent", given)
	}
	n, ok := (*resp.Node).(*gql.GetRunnerDetailNodeRunner)
	if !ok {
		return nil, admincmd.KindMismatch(op, "runner agent", given, deref((*resp.Node).GetTypename()))
	}
	r := fromGQL(&n.RunnerDetail)
	return &r, nil
}
