package workspace

import (
	"context"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// ListOptions are the inputs of `tharsis workspace list`.
type ListOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	Group  string
	Search string
	Labels []string
	Sort   string
	Page   admincmd.PageFlags
}

// NewCmdList builds `tharsis workspace list`; runF replaces the real run in
// tests.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List workspaces",
		Long: `List the workspaces you can see, or those directly in one group, sorted by
path. Labels filter: every --label must match.

` + admincmd.ListDoc,
		Example: `  tharsis workspace list
  tharsis workspace list --group ops --label team=net --label env=prod
  tharsis workspace list --search network --all -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Page.Validate(); err != nil {
				return err
			}
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runList(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Group, "group", "", "Only workspaces directly in this group (path, TRN or ID)")
	admincmd.Alias(fs, "group", "group-id", "")
	admincmd.Alias(fs, "group", "group-path", "use --group")
	fs.StringVar(&opts.Search, "search", "", "Only workspaces whose path contains this text")
	fs.StringArrayVar(&opts.Labels, "label", nil, "Only workspaces with this label, as key=value (repeatable)")
	admincmd.SortFlag(cmd, &opts.Sort, string(gql.WorkspaceSortFullPathAsc), enumStrings(gql.AllWorkspaceSort))
	opts.Page.Register(cmd)
	admincmd.AddJSONFlag(cmd, f)
	_ = cmd.RegisterFlagCompletionFunc("group", complete.GroupFlag(f))
	return cmd
}

func enumStrings[T ~string](vals []T) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

func runList(ctx context.Context, opts *ListOptions) error {
	var filter *gql.WorkspaceLabelsFilter
	for _, l := range opts.Labels {
		k, v, err := admincmd.ParseKeyValue("label", l)
		if err != nil {
			return err
		}
		if filter == nil {
			filter = &gql.WorkspaceLabelsFilter{}
		}
		filter.Labels = append(filter.Labels, gql.WorkspaceLabelInput{Key: k, Value: v})
	}
	var groupID, search *string
	if opts.Group != "" {
		id := api.NormalizeID("group", opts.Group)
		groupID = &id
	}
	if opts.Search != "" {
		search = &opts.Search
	}
	sort := gql.WorkspaceSort(opts.Sort)
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	pg, err := admincmd.Collect(ctx, opts.Page, func(ctx context.Context, first int, after *string) (admincmd.Page[Workspace], error) {
		resp, err := gql.ListWorkspaces(ctx, client.GraphQL(), first, after, groupID, search, &sort, filter)
		if err != nil {
			return admincmd.Page[Workspace]{}, api.WithOp(err, "list workspaces")
		}
		c := resp.Workspaces
		out := admincmd.Page[Workspace]{TotalCount: c.TotalCount, HasNextPage: c.PageInfo.HasNextPage, EndCursor: deref(c.PageInfo.EndCursor)}
		for _, e := range c.Edges {
			if e != nil && e.Node != nil {
				out.Items = append(out.Items, fromGQL(&e.Node.WorkspaceDetail))
			}
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	return admincmd.PrintList(opts.IO, opts.JSON, pg, admincmd.Table[Workspace]{
		Plural: "workspaces",
		Header: []string{"PATH", "TERRAFORM", "LOCKED", "LABELS", "DESCRIPTION"},
		Row: func(w Workspace) []string {
			return []string{w.FullPath, w.TerraformVersion, strconv.FormatBool(w.Locked), labelsText(w.Labels, ","), w.Description}
		},
	})
}
