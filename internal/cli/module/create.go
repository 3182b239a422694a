package module

import (
	"context"
	"fmt"
	"maps"
	"slices"
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

// CreateOptions are the inputs of `tharsis module create`.
type CreateOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	// Path is <group>/<name>/<system>, or <name>/<system> with Group.
	Path          string
	Group         string
	Private       bool
	RepositoryURL string
	Labels        []string
	IfNotExists   bool
}

// NewCmdCreate builds `tharsis module create`; runF replaces the real run
// in tests.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IO, Private: true}
	cmd := &cobra.Command{
		Use:   "create (GROUP/NAME/SYSTEM | NAME/SYSTEM --group GROUP)",
		Short: "Create a module",
		Long: `Create a module in a group. NAME is the module's name and SYSTEM the remote
system it targets (aws, azurerm, google, ...), as in Terraform registry
addresses. The name and system must be unique within the top-level group.
Modules are private by default: only members of the top-level group see
them; --private=false publishes the module to every user.

Needs the owner, deployer or publisher role on the group. Publish versions
with 'tharsis module upload-version'.

With -o json the module is printed as by 'tharsis module get -o json'.`,
		Example: `  tharsis module create ops/vpc/aws
  tharsis module create vpc/aws --group ops --private=false --repository-url https://github.com/acme/vpc
  tharsis module create ops/vpc/aws --label team=net --if-not-exists`,
		Args: cmdutil.ExactArgs("PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
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
	fs.StringVar(&opts.Group, "group", "", "Group of the module (path, TRN or ID) when PATH is NAME/SYSTEM")
	admincmd.Alias(fs, "group", "group-id", "")
	fs.BoolVar(&opts.Private, "private", true, "Only members of the top-level group see the module (--private=false: everybody)")
	fs.StringVar(&opts.RepositoryURL, "repository-url", "", "URL of the module's source repository")
	fs.StringArrayVar(&opts.Labels, "label", nil, "Label as key=value (repeatable)")
	fs.BoolVar(&opts.IfNotExists, "if-not-exists", false, "Succeed without change when the module exists")
	admincmd.AddJSONFlag(cmd, f)
	_ = cmd.RegisterFlagCompletionFunc("group", complete.GroupFlag(f))
	return cmd
}

// labelInputs parses key=value flags into the API's labels, sorted by key
// (a repeated key keeps its last value).
func labelInputs(flags []string) ([]gql.TerraformModuleLabelInput, error) {
	m := map[string]string{}
	for _, l := range flags {
		k, v, err := admincmd.ParseKeyValue("label", l)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	out := []gql.TerraformModuleLabelInput{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, gql.TerraformModuleLabelInput{Key: k, Value: m[k]})
	}
	return out, nil
}

// target works out the group (as an API id and a path for messages), name
// and system to create.
func (o *CreateOptions) target(ctx context.Context, client func() (*api.Client, error)) (groupID, groupPath, name, system string, err error) {
	p := strings.Trim(strings.TrimSpace(o.Path), "/")
	if o.Group == "" {
		gp, n, s, ok := splitModulePath(p)
		if !ok {
			return "", "", "", "", cmdutil.UsageErrorf("invalid module %q: expected <group>/<name>/<system> (e.g. ops/vpc/aws), or <name>/<system> with --group", o.Path)
		}
		return "trn:group:" + gp, gp, n, s, nil
	}
	parts := strings.Split(p, "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", "", "", cmdutil.UsageErrorf("with --group, give the module as <name>/<system> (e.g. vpc/aws), not %q", o.Path)
	}
	g := strings.TrimSpace(o.Group)
	if g == "" {
		return "", "", "", "", cmdutil.UsageErrorf("--group is empty")
	}
	if api.IsGID(g) {
		// A group ID: read the group for its path.
		c, err := client()
		if err != nil {
			return "", "", "", "", err
		}
		resp, err := gql.GetGroupDetail(ctx, c.GraphQL(), g)
		if err != nil {
			return "", "", "", "", api.WithOp(err, "get group")
		}
		if resp.Node != nil && *resp.Node != nil {
			if gr, ok := (*resp.Node).(*gql.GetGroupDetailNodeGroup); ok {
				return g, gr.FullPath, parts[0], parts[1], nil
			}
		}
		return "", "", "", "", admincmd.NotFound("create module", "group", g)
	}
	return api.NormalizeID("group", g), admincmd.PathOf(g), parts[0], parts[1], nil
}

func runCreate(ctx context.Context, opts *CreateOptions) error {
	const op = "create module"
	labels, err := labelInputs(opts.Labels)
	if err != nil {
		return err
	}
	groupID, groupPath, name, system, err := opts.target(ctx, opts.APIClient)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	path := groupPath + "/" + name + "/" + system
	if opts.IfNotExists {
		if m, err := fetchModule(ctx, client, op, path); err == nil {
			fmt.Fprintf(opts.IO.ErrOut, "Module %s already exists.\n", m.ResourcePath)
			return printModule(opts.IO, opts.JSON, moduleFromGQL(m), opts.Now())
		} else if api.KindOf(err) != api.KindNotFound {
			return err
		}
	}
	in := gql.CreateTerraformModuleInput{GroupId: &groupID, Name: name, System: system, Private: &opts.Private}
	if opts.RepositoryURL != "" {
		in.RepositoryUrl = &opts.RepositoryURL
	}
	if len(labels) > 0 {
		in.Labels = labels
	}
	resp, err := gql.CreateTerraformModule(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.CreateTerraformModule.Problems)
	}
	if err != nil {
		err = api.WithOp(err, op+" "+path)
		if api.KindOf(err) == api.KindConflict && !opts.IfNotExists {
			return cmdutil.WithHint(err, "A module with this name and system exists in the top-level group; --if-not-exists accepts an existing module.")
		}
		return explain(err, groupPath)
	}
	if resp.CreateTerraformModule.Module == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no module"}
	}
	m := moduleFromGQL(&resp.CreateTerraformModule.Module.TerraformModuleDetail)
	if !opts.JSON {
		fmt.Fprintf(opts.IO.Out, "Created module %s.\n\n", m.ResourcePath)
	}
	return printModule(opts.IO, opts.JSON, m, opts.Now())
}
