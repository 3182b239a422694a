package module

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

// ListOptions are the inputs of `tharsis module list`.
type ListOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	Group            string
	IncludeInherited bool
	Search           string
	Labels           []string
	Sort             string
	Page             admincmd.PageFlags
}

// NewCmdList builds `tharsis module list`; runF replaces the real run in
// tests.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List modules",
		Long: `List the modules you can see: every public module, and the private modules of
the top-level groups you are a member of. --group lists the modules of one
group (with --include-inherited, those of its parent groups too).

--search matches "<top-level group>/<name>/<system>"; --label keeps modules
with every given label.

` + admincmd.ListDoc,
		Example: `  tharsis module list
  tharsis module list --group ops/network --include-inherited
  tharsis module list --search vpc --label team=net -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Page.Validate(); err != nil {
				return err
			}
			if opts.IncludeInherited && opts.Group == "" {
				return cmdutil.UsageErrorf("--include-inherited needs --group")
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
	fs.StringVar(&opts.Group, "group", "", "Only the modules of this group (path, TRN or ID)")
	admincmd.Alias(fs, "group", "group-id", "")
	fs.BoolVar(&opts.IncludeInherited, "include-inherited", false, "With --group: also the modules of its parent groups")
	fs.StringVar(&opts.Search, "search", "", `Only modules whose "<top-level group>/<name>/<system>" contains this text`)
	fs.StringArrayVar(&opts.Labels, "label", nil, "Only modules with this label, key=value (repeatable)")
	admincmd.SortFlag(cmd, &opts.Sort, string(gql.TerraformModuleSortNameAsc), enumStrings(gql.AllTerraformModuleSort))
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
	const op = "list modules"
	var search *string
	if opts.Search != "" {
		search = &opts.Search
	}
	labels, err := labelInputs(opts.Labels)
	if err != nil {
		return err
	}
	var filter *gql.TerraformModuleLabelsFilter
	if len(labels) > 0 {
		filter = &gql.TerraformModuleLabelsFilter{Labels: labels}
	}
	sort := gql.TerraformModuleSort(opts.Sort)
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	groupID := ""
	if opts.Group != "" {
		if groupID = api.NormalizeID("group", opts.Group); groupID == "" {
			return cmdutil.UsageErrorf("--group is empty")
		}
	}
	inherit := opts.IncludeInherited
	pg, err := admincmd.Collect(ctx, opts.Page, func(ctx context.Context, first int, after *string) (admincmd.Page[Module], error) {
		var out admincmd.Page[Module]
		if groupID == "" {
			resp, err := gql.ListTerraformModules(ctx, client.GraphQL(), first, after, search, &sort, filter)
			if err != nil {
				return out, api.WithOp(err, op)
			}
			c := resp.TerraformModules
			out.TotalCount, out.HasNextPage, out.EndCursor = c.TotalCount, c.PageInfo.HasNextPage, deref(c.PageInfo.EndCursor)
			for _, e := range c.Edges {
				if e != nil && e.Node != nil {
					out.Items = append(out.Items, moduleFromGQL(&e.Node.TerraformModuleDetail))
				}
			}
			return out, nil
		}
		resp, err := gql.ListGroupTerraformModules(ctx, client.GraphQL(), groupID, first, after, search, &inherit, &sort, filter)
		if err != nil {
			return out, api.WithOp(err, op)
		}
		if resp.Node == nil || *resp.Node == nil {
			return out, admincmd.NotFound(op, "group", opts.Group)
		}
		g, ok := (*resp.Node).(*gql.ListGroupTerraformModulesNodeGroup)
		if !ok {
			return out, admincmd.KindMismatch(op, "group", opts.Group, deref((*resp.Node).GetTypename()))
		}
		c := g.TerraformModules
		out.TotalCount, out.HasNextPage, out.EndCursor = c.TotalCount, c.PageInfo.HasNextPage, deref(c.PageInfo.EndCursor)
		for _, e := range c.Edges {
			if e != nil && e.Node != nil {
				out.Items = append(out.Items, moduleFromGQL(&e.Node.TerraformModuleDetail))
			}
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	return admincmd.PrintList(opts.IO, opts.JSON, pg, admincmd.Table[Module]{
		Plural: "modules",
		Header: []string{"PATH", "PRIVATE", "LATEST", "SOURCE"},
		Row: func(m Module) []string {
			latest := "-"
			if m.LatestVersion != nil {
				latest = m.LatestVersion.Version
			}
			return []string{m.ResourcePath, admincmd.YesNo(m.Private), latest, m.Source}
		},
	})
}
