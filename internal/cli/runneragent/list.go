package runneragent

import (
	"context"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// ListOptions are the inputs of `tharsis runner-agent list`.
type ListOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	Group            string
	IncludeInherited bool
	Sort             string
	Page             admincmd.PageFlags
}

// NewCmdList builds `tharsis runner-agent list`; runF replaces the real run
// in tests.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "list [--group GROUP [--include-inherited]]",
		Short: "List runner agents",
		Long: `List the runner agents of a group (with --include-inherited, also those of
its parent groups, which serve it too), or without --group the shared
runner agents of the installation.

` + admincmd.ListDoc,
		Example: `  tharsis runner-agent list --group ops/prod --include-inherited
  tharsis runner-agent list
  tharsis runner-agent list --group ops --all -o json`,
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
	fs.StringVar(&opts.Group, "group", "", "List this group's runner agents (path, TRN or ID); shared ones without it")
	admincmd.Alias(fs, "group", "namespace-path", "")
	admincmd.Alias(fs, "group", "group-id", "")
	fs.BoolVar(&opts.IncludeInherited, "include-inherited", false, "Also list the runner agents of the parent groups")
	admincmd.SortFlag(cmd, &opts.Sort, string(gql.RunnerSortGroupLevelAsc), enumStrings(gql.AllRunnerSort))
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
	const op = "list runner agents"
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	var fetch admincmd.Fetch[Runner]
	if opts.Group == "" {
		sort := gql.ServiceAccountSort(opts.Sort)
		fetch = func(ctx context.Context, first int, after *string) (admincmd.Page[Runner], error) {
			resp, err := gql.ListSharedRunners(ctx, client.GraphQL(), first, after, &sort)
			if err != nil {
				return admincmd.Page[Runner]{}, api.WithOp(err, op)
			}
			c := resp.SharedRunners
			out := admincmd.Page[Runner]{TotalCount: c.TotalCount, HasNextPage: c.PageInfo.HasNextPage, EndCursor: deref(c.PageInfo.EndCursor)}
			for _, e := range c.Edges {
				if e != nil && e.Node != nil {
					out.Items = append(out.Items, fromGQL(&e.Node.RunnerDetail))
				}
			}
			return out, nil
		}
	} else {
		groupID := api.NormalizeID("group", opts.Group)
		sort := gql.RunnerSort(opts.Sort)
		inherit := opts.IncludeInherited
		fetch = func(ctx context.Context, first int, after *string) (admincmd.Page[Runner], error) {
			resp, err := gql.ListGroupRunners(ctx, client.GraphQL(), groupID, first, after, &inherit, &sort)
			if err != nil {
				return admincmd.Page[Runner]{}, admincmd.Explain(api.WithOp(err, op), admincmd.RoleViewer, admincmd.PathOf(groupID))
			}
			if resp.Node == nil || *resp.Node == nil {
				return admincmd.Page[Runner]{}, admincmd.NotFound(op, "group", opts.Group)
			}
			g, ok := (*resp.Node).(*gql.ListGroupRunnersNodeGroup)
			if !ok {
				return admincmd.Page[Runner]{}, admincmd.KindMismatch(op, "group", opts.Group, deref((*resp.Node).GetTypename()))
			}
			c := g.Runners
			out := admincmd.Page[Runner]{TotalCount: c.TotalCount, HasNextPage: c.PageInfo.HasNextPage, EndCursor: deref(c.PageInfo.EndCursor)}
			for _, e := range c.Edges {
				if e != nil && e.Node != nil {
					out.Items = append(out.Items, fromGQL(&e.Node.RunnerDetail))
				}
			}
			return out, nil
		}
	}
	pg, err := admincmd.Collect(ctx, opts.Page, fetch)
	if err != nil {
		return err
	}
	return admincmd.PrintList(opts.IO, opts.JSON, pg, admincmd.Table[Runner]{
		Plural: "runner agents",
		Header: []string{"PATH", "TYPE", "TAGS", "UNTAGGED JOBS", "DISABLED"},
		Row: func(r Runner) []string {
			return []string{r.Path, r.Type, strings.Join(r.Tags, ","), strconv.FormatBool(r.RunUntaggedJobs), strconv.FormatBool(r.Disabled)}
		},
	})
}
