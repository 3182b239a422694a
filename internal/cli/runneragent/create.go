package runneragent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// CreateOptions are the inputs of `tharsis runner-agent create`.
type CreateOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	// Name is the runner agent's name, or its full path without Group.
	Name            string
	Group           string
	Description     string
	Tags            []string
	RunUntaggedJobs bool
	Disabled        bool
}

// NewCmdCreate builds `tharsis runner-agent create`; runF replaces the real
// run in tests.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IO}
	var nameFlag string
	cmd := &cobra.Command{
		Use:   "create (GROUP/NAME | NAME --group GROUP) (--tag TAG... | --run-untagged-jobs)",
		Short: "Create a group runner agent",
		Long: `Create a runner agent in a group; it serves the workspaces below the group.
It takes the jobs whose runner tags it all has, and with --run-untagged-jobs
also jobs without tags, so it needs at least one --tag or that flag.

Its agent process logs in with a service account: assign one next with
'tharsis runner-agent assign-service-account'. Needs the owner role.

With -o json the runner agent is printed as in 'tharsis runner-agent list
-o json'.`,
		Example: `  tharsis runner-agent create ops/gpu-runner --tag gpu --tag linux
  tharsis runner-agent create default --group ops --run-untagged-jobs --description "Any job"`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 1 && nameFlag != "":
				return cmdutil.UsageErrorf("the name is given twice: as an argument and with --runner-name")
			case len(args) == 1:
				opts.Name = args[0]
			case nameFlag != "":
				opts.Name = nameFlag
			default:
				return cmdutil.UsageErrorf("missing argument: NAME")
			}
			if len(opts.Tags) == 0 && !opts.RunUntaggedJobs {
				return cmdutil.UsageErrorf("a runner agent needs at least one --tag, or --run-untagged-jobs, or it would take no job")
			}
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			opts.Now = f.Now
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCreate(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Group, "group", "", "Group of the runner agent (path, TRN or ID)")
	admincmd.Alias(fs, "group", "group-id", "")
	admincmd.Alias(fs, "group", "group-path", "use --group")
	fs.StringVar(&nameFlag, "runner-name", "", "Name of the runner agent")
	admincmd.Deprecate(fs, "runner-name", "give the name as the argument")
	fs.StringVar(&opts.Description, "description", "", "Description")
	fs.StringSliceVar(&opts.Tags, "tag", nil, "Runner tag (repeatable, or comma-separated; at most 10)")
	fs.BoolVar(&opts.RunUntaggedJobs, "run-untagged-jobs", false, "Also take jobs without runner tags")
	fs.BoolVar(&opts.Disabled, "disabled", false, "Create it disabled (it takes no jobs)")
	admincmd.AddJSONFlag(cmd, f)
	_ = cmd.RegisterFlagCompletionFunc("group", complete.GroupFlag(f))
	return cmd
}

func runCreate(ctx context.Context, opts *CreateOptions) error {
	const op = "create runner agent"
	parent, name := opts.Group, strings.TrimSpace(opts.Name)
	switch {
	case parent == "":
		parent, name = admincmd.SplitPath(name)
		if parent == "" {
			return cmdutil.UsageErrorf("a runner agent belongs to a group: give GROUP/%s, or --group GROUP (shared runner agents cannot be created with the API)", name)
		}
	case strings.Contains(strings.Trim(name, "/"), "/"):
		return cmdutil.UsageErrorf("give either a full path or a name with --group, not both (%q)", opts.Name)
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	groupID := api.NormalizeID("group", parent)
	tags := opts.Tags
	if tags == nil {
		tags = []string{} // the API's tags list is non-null
	}
	in := gql.CreateRunnerInput{
		Name: name, Description: opts.Description, GroupId: &groupID,
		RunUntaggedJobs: opts.RunUntaggedJobs, Tags: tags,
	}
	if opts.Disabled {
		in.Disabled = &opts.Disabled
	}
	resp, err := gql.CreateRunner(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.CreateRunner.Problems)
	}
	if err != nil {
		return admincmd.Explain(api.WithOp(err, op), admincmd.RoleOwner, admincmd.PathOf(parent))
	}
	if resp.CreateRunner.Runner == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no runner"}
	}
	r := fromGQL(&resp.CreateRunner.Runner.RunnerDetail)
	if opts.JSON {
		return opts.IO.PrintJSON(r)
	}
	fmt.Fprintf(opts.IO.Out, "Created runner agent %s.\n\n", r.Path)
	if err := fields(r, opts.Now()).Print(opts.IO); err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "\nNext, assign it a service account to log in with:\n  tharsis runner-agent assign-service-account SERVICE_ACCOUNT %s\n", r.Path)
	return err
}
