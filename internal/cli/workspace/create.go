package workspace

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
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

// CreateOptions are the inputs of `tharsis workspace create`.
type CreateOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	// Name is the workspace's name, or its full path without Group.
	Name               string
	Group              string
	Description        string
	TerraformVersion   string
	MaxJobDuration     string
	PreventDestroyPlan bool
	Labels             []string
	RunnerTags         admincmd.RunnerTagFlags
	IfNotExists        bool
}

// NewCmdCreate builds `tharsis workspace create`; runF replaces the real run
// in tests.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "create (GROUP/NAME | NAME --group GROUP)",
		Short: "Create a workspace",
		Long: `Create a workspace in a group. Runner tags send its jobs only to runner
agents that have all of them. Needs the deployer role on the group.

With -o json the workspace is printed as by 'tharsis workspace get -o json'.`,
		Example: `  tharsis workspace create ops/network
  tharsis workspace create network --group ops --terraform-version 1.11.4 \
      --label team=net --label env=prod --runner-tag gpu --max-job-duration 2h
  tharsis workspace create ops/network --if-not-exists -o json`,
		Args: cmdutil.ExactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
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
	fs.StringVar(&opts.Group, "group", "", "Group to create the workspace in (path, TRN or ID)")
	admincmd.Alias(fs, "group", "parent-group-id", "")
	fs.StringVar(&opts.Description, "description", "", "Description (at most 100 characters)")
	fs.StringVar(&opts.TerraformVersion, "terraform-version", "", "Terraform version of its runs (default: the server's)")
	fs.StringVar(&opts.MaxJobDuration, "max-job-duration", "", "Longest a plan or apply may run: minutes, or a duration such as 2h (1m-24h; default 12h)")
	fs.BoolVar(&opts.PreventDestroyPlan, "prevent-destroy-plan", false, "Refuse destroy runs")
	fs.StringArrayVar(&opts.Labels, "label", nil, "Label as key=value (repeatable, at most 10)")
	opts.RunnerTags.Register(cmd, false)
	fs.BoolVar(&opts.IfNotExists, "if-not-exists", false, "Succeed without change when the workspace exists")
	admincmd.AddJSONFlag(cmd, f)
	_ = cmd.RegisterFlagCompletionFunc("group", complete.GroupFlag(f))
	return cmd
}

func runCreate(ctx context.Context, opts *CreateOptions) error {
	const op = "create workspace"
	parent, name := opts.Group, strings.TrimSpace(opts.Name)
	switch {
	case parent == "":
		parent, name = admincmd.SplitPath(name)
		if parent == "" {
			return cmdutil.UsageErrorf("a workspace lives in a group: give GROUP/%s, or --group GROUP", name)
		}
	case strings.Contains(strings.Trim(name, "/"), "/"):
		return cmdutil.UsageErrorf("give either a full path or a name with --group, not both (%q)", opts.Name)
	}
	labels, err := parseLabels(opts.Labels, nil)
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
	groupID := api.NormalizeID("group", parent)
	groupPath := admincmd.PathOf(parent)
	if opts.IfNotExists {
		if api.IsGID(groupID) {
			if groupPath, err = groupPathOf(ctx, client, groupID); err != nil {
				return err
			}
		}
		w, err := fetch(ctx, client, "trn:workspace:"+groupPath+"/"+name)
		if err != nil {
			return api.WithOp(err, op)
		}
		if w != nil {
			fmt.Fprintf(opts.IO.ErrOut, "Workspace %s already exists.\n", w.FullPath)
			return printWorkspace(opts.IO, opts.JSON, fromGQL(w), opts.Now())
		}
	}
	in := gql.CreateWorkspaceInput{
		Name: name, Description: opts.Description, GroupId: &groupID,
		MaxJobDuration: maxJob, RunnerTags: tags, Labels: labels,
	}
	if opts.TerraformVersion != "" {
		in.TerraformVersion = &opts.TerraformVersion
	}
	if opts.PreventDestroyPlan {
		in.PreventDestroyPlan = &opts.PreventDestroyPlan
	}
	resp, err := gql.CreateWorkspace(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.CreateWorkspace.Problems)
	}
	if err != nil {
		err = admincmd.Explain(api.WithOp(err, op), admincmd.RoleDeployer, groupPath)
		return explainTerraformVersion(ctx, client, err)
	}
	if resp.CreateWorkspace.Workspace == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no workspace"}
	}
	w := fromGQL(&resp.CreateWorkspace.Workspace.WorkspaceDetail)
	if !opts.JSON {
		fmt.Fprintf(opts.IO.Out, "Created workspace %s.\n\n", w.FullPath)
	}
	return printWorkspace(opts.IO, opts.JSON, w, opts.Now())
}

// groupPathOf reads a group's path.
func groupPathOf(ctx context.Context, client *api.Client, id string) (string, error) {
	resp, err := gql.GetGroupDetail(ctx, client.GraphQL(), id)
	if err != nil {
		return "", api.WithOp(err, "get group")
	}
	if resp.Node != nil && *resp.Node != nil {
		if g, ok := (*resp.Node).(*gql.GetGroupDetailNodeGroup); ok {
			return g.FullPath, nil
		}
	}
	return "", admincmd.NotFound("get group", "group", id)
}

// parseLabels applies key=value flags to base (nil for none) and returns
// the label set sorted by key.
func parseLabels(flags []string, base map[string]string) ([]gql.WorkspaceLabelInput, error) {
	m := maps.Clone(base)
	if m == nil {
		m = map[string]string{}
	}
	for _, l := range flags {
		k, v, err := admincmd.ParseKeyValue("label", l)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	if len(m) == 0 && base == nil {
		return nil, nil
	}
	return labelInputs(m), nil
}

func labelInputs(m map[string]string) []gql.WorkspaceLabelInput {
	out := []gql.WorkspaceLabelInput{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, gql.WorkspaceLabelInput{Key: k, Value: m[k]})
	}
	return out
}

// parseMinutes reads --max-job-duration: whole minutes, or a Go duration
// of whole minutes.
func parseMinutes(s string) (*int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		return &n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d%time.Minute != 0 || d <= 0 {
		return nil, cmdutil.UsageErrorf("invalid --max-job-duration %q: give minutes (90) or whole minutes as a duration (1h30m)", s)
	}
	n := int(d / time.Minute)
	return &n, nil
}

// explainTerraformVersion lists the supported versions when the server
// rejected one.
func explainTerraformVersion(ctx context.Context, client *api.Client, err error) error {
	ae, ok := err.(*api.Error)
	if !ok || ae.Kind != api.KindBadRequest || !strings.Contains(strings.ToLower(ae.Message), "terraform version") {
		return err
	}
	resp, verr := gql.TerraformVersions(ctx, client.GraphQL())
	if verr != nil || resp.TerraformCLIVersions == nil || len(resp.TerraformCLIVersions.Versions) == 0 {
		return err
	}
	c := *ae
	c.Hint = "Supported Terraform versions: " + strings.Join(resp.TerraformCLIVersions.Versions, ", ")
	return &c
}
