package group

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

// CreateOptions are the inputs of `tharsis group create`.
type CreateOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	// Name is the group's name, or its full path without Parent.
	Name        string
	Parent      string
	Description string
	RunnerTags  admincmd.RunnerTagFlags
	// Parents creates missing parent groups (like mkdir -p); an existing
	// group is then not an error.
	Parents     bool
	IfNotExists bool
}

// NewCmdCreate builds `tharsis group create`; runF replaces the real run in
// tests.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "create (PATH | NAME --parent GROUP)",
		Short: "Create a group",
		Long: `Create a group. A subgroup needs the deployer role on its parent. A
top-level group can only be created by a Tharsis administrator in admin mode
('tharsis admin-mode activate'); its creator becomes its owner.

--parents creates the missing groups along the path first and, like
mkdir -p, succeeds when the group exists.

With -o json the group is printed as by 'tharsis group get -o json'.`,
		Example: `  tharsis group create ops/teams
  tharsis group create teams --parent ops --description "Team groups"
  tharsis group create ops/teams/network/prod --parents`,
		Args: cmdutil.ExactArgs("PATH"),
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
	fs.StringVar(&opts.Parent, "parent", "", "Parent group (path, TRN or ID)")
	admincmd.Alias(fs, "parent", "parent-group-id", "")
	fs.StringVar(&opts.Description, "description", "", "Description (at most 100 characters)")
	opts.RunnerTags.Register(cmd, false)
	fs.BoolVar(&opts.Parents, "parents", false, "Create missing parent groups too; an existing group is not an error")
	fs.BoolVar(&opts.IfNotExists, "if-not-exists", false, "Succeed without change when the group exists")
	admincmd.AddJSONFlag(cmd, f)
	_ = cmd.RegisterFlagCompletionFunc("parent", complete.GroupFlag(f))
	return cmd
}

func runCreate(ctx context.Context, opts *CreateOptions) error {
	const op = "create group"
	name := strings.Trim(strings.TrimSpace(opts.Name), "/")
	if opts.Parent != "" && strings.Contains(name, "/") {
		return cmdutil.UsageErrorf("give either a full path or a name with --parent, not both (%q)", opts.Name)
	}
	tags, err := opts.RunnerTags.Input()
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	// The parent's path, needed to check what exists.
	parentPath := ""
	switch p := strings.TrimSpace(opts.Parent); {
	case p == "":
		parentPath, name = admincmd.SplitPath(name)
	case api.IsGID(p):
		g, err := mustFetch(ctx, client, op, p)
		if err != nil {
			return err
		}
		parentPath = g.FullPath
	default:
		parentPath = admincmd.PathOf(p)
	}
	if name == "" {
		return cmdutil.UsageErrorf("the group name is empty")
	}
	full := join(parentPath, name)

	if opts.IfNotExists || opts.Parents {
		g, err := fetch(ctx, client, "trn:group:"+full, op, full)
		if err != nil {
			return err
		}
		if g != nil {
			fmt.Fprintf(opts.IO.ErrOut, "Group %s already exists.\n", full)
			return printGroup(opts.IO, opts.JSON, *g, opts.Now())
		}
	}
	if opts.Parents && parentPath != "" {
		if err := createMissing(ctx, client, opts.IO, parentPath); err != nil {
			return err
		}
	}
	g, err := create(ctx, client, parentPath, name, opts.Description, tags)
	if err != nil {
		return err
	}
	if !opts.JSON {
		fmt.Fprintf(opts.IO.Out, "Created group %s.\n\n", g.FullPath)
	}
	return printGroup(opts.IO, opts.JSON, g, opts.Now())
}

// createMissing creates the groups along path that do not exist yet, top
// down, reporting each on stderr.
func createMissing(ctx context.Context, client *api.Client, io *ui.IOStreams, path string) error {
	segs := strings.Split(path, "/")
	// Find the deepest existing ancestor first, walking up.
	exists := 0
	for i := len(segs); i > 0; i-- {
		g, err := fetch(ctx, client, "trn:group:"+strings.Join(segs[:i], "/"), "create group", strings.Join(segs[:i], "/"))
		if err != nil {
			return err
		}
		if g != nil {
			exists = i
			break
		}
	}
	for i := exists; i < len(segs); i++ {
		g, err := create(ctx, client, strings.Join(segs[:i], "/"), segs[i], "", nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(io.ErrOut, "Created group %s.\n", g.FullPath)
	}
	return nil
}

// create creates one group under parentPath ("" for a top-level group).
func create(ctx context.Context, client *api.Client, parentPath, name, description string, tags *gql.NamespaceRunnerTagsInput) (Group, error) {
	const op = "create group"
	in := gql.CreateGroupInput{Name: name, Description: description, RunnerTags: tags}
	if parentPath != "" {
		id := "trn:group:" + parentPath
		in.ParentId = &id
	}
	resp, err := gql.CreateGroup(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.CreateGroup.Problems)
	}
	if err != nil {
		err = api.WithOp(err, op+" "+join(parentPath, name))
		if api.KindOf(err) == api.KindNotFound && parentPath != "" {
			ae := *(err.(*api.Error))
			ae.Hint = fmt.Sprintf("Check that group %s exists and that you are a member of it; --parents creates missing groups.", parentPath)
			return Group{}, &ae
		}
		return Group{}, admincmd.Explain(err, admincmd.RoleDeployer, parentPath)
	}
	if resp.CreateGroup.Group == nil {
		return Group{}, &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no group"}
	}
	return fromGQL(&resp.CreateGroup.Group.GroupDetail), nil
}

func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "/" + name
}
