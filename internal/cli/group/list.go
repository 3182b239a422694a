package group

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// ListOptions are the inputs of `tharsis group list`.
type ListOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	Parent string
	Search string
	Sort   string
	Page   admincmd.PageFlags
}

// NewCmdList builds `tharsis group list`; runF replaces the real run in
// tests.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List groups",
		Long: `List the groups you can see, or the direct subgroups of one group, sorted by
path.

` + admincmd.ListDoc,
		Example: `  tharsis group list
  tharsis group list --parent ops
  tharsis group list --search net --sort GROUP_LEVEL_ASC -o json`,
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
	fs.StringVar(&opts.Parent, "parent", "", "Only the direct subgroups of this group (path, TRN or ID)")
	admincmd.Alias(fs, "parent", "parent-id", "")
	admincmd.Alias(fs, "parent", "parent-path", "use --parent")
	fs.StringVar(&opts.Search, "search", "", "Only groups whose path contains this text")
	admincmd.SortFlag(cmd, &opts.Sort, string(gql.GroupSortFullPathAsc), enumStrings(gql.AllGroupSort))
	opts.Page.Register(cmd)
	admincmd.AddJSONFlag(cmd, f)
	_ = cmd.RegisterFlagCompletionFunc("parent", complete.GroupFlag(f))
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
	var parentID, search *string
	if opts.Parent != "" {
		id := api.NormalizeID("group", opts.Parent)
		parentID = &id
	}
	if opts.Search != "" {
		search = &opts.Search
	}
	sort := gql.GroupSort(opts.Sort)
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	pg, err := admincmd.Collect(ctx, opts.Page, func(ctx context.Context, first int, after *string) (admincmd.Page[Group], error) {
		resp, err := gql.ListGroups(ctx, client.GraphQL(), first, after, parentID, search, &sort)
		if err != nil {
			return admincmd.Page[Group]{}, api.WithOp(err, "list groups")
		}
		c := resp.Groups
		out := admincmd.Page[Group]{TotalCount: c.TotalCount, HasNextPage: c.PageInfo.HasNextPage, EndCursor: deref(c.PageInfo.EndCursor)}
		for _, e := range c.Edges {
			if e != nil && e.Node != nil {
				out.Items = append(out.Items, fromGQL(&e.Node.GroupDetail))
			}
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	return admincmd.PrintList(opts.IO, opts.JSON, pg, admincmd.Table[Group]{
		Plural: "groups",
		Header: []string{"PATH", "DESCRIPTION"},
		Row:    func(g Group) []string { return []string{g.FullPath, g.Description} },
	})
}
