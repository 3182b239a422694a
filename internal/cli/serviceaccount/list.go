package serviceaccount

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

// ListOptions are the inputs of `tharsis service-account list`.
type ListOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	Group            string
	Runner           string
	IncludeInherited bool
	Search           string
	Sort             string
	Page             admincmd.PageFlags
}

// NewCmdList builds `tharsis service-account list`; runF replaces the real
// run in tests.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "list (--group GROUP [--include-inherited] | --runner-agent RUNNER_AGENT)",
		Short: "List service accounts",
		Long: `List the service accounts of a group (with --include-inherited, also those of
its parent groups, which can be used in it too), or those assigned to a
runner agent.

` + admincmd.ListDoc,
		Example: `  tharsis service-account list --group ops
  tharsis service-account list --group ops/prod --include-inherited --search ci
  tharsis service-account list --runner-agent ops/gpu-runner -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Page.Validate(); err != nil {
				return err
			}
			switch {
			case opts.Group == "" && opts.Runner == "":
				return cmdutil.UsageErrorf("give --group GROUP, or --runner-agent RUNNER_AGENT")
			case opts.Runner != "" && (opts.IncludeInherited || opts.Search != "" || cmd.Flags().Changed("sort")):
				return cmdutil.UsageErrorf("--include-inherited, --search and --sort apply to --group only")
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
	fs.StringVar(&opts.Group, "group", "", "Group whose service accounts to list (path, TRN or ID)")
	admincmd.Alias(fs, "group", "namespace-path", "")
	admincmd.Alias(fs, "group", "group-id", "")
	fs.StringVar(&opts.Runner, "runner-agent", "", "List the service accounts assigned to this runner agent")
	admincmd.Alias(fs, "runner-agent", "runner-id", "")
	cmd.MarkFlagsMutuallyExclusive("group", "runner-agent")
	fs.BoolVar(&opts.IncludeInherited, "include-inherited", false, "Also list those of the parent groups")
	fs.StringVar(&opts.Search, "search", "", "Only service accounts whose name contains this text")
	admincmd.SortFlag(cmd, &opts.Sort, string(gql.ServiceAccountSortGroupLevelAsc), enumStrings(gql.AllServiceAccountSort))
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
	const op = "list service accounts"
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	var fetchPage admincmd.Fetch[ServiceAccount]
	if opts.Runner != "" {
		runnerID := api.NormalizeID("runner", opts.Runner)
		fetchPage = func(ctx context.Context, first int, after *string) (admincmd.Page[ServiceAccount], error) {
			resp, err := gql.ListRunnerServiceAccounts(ctx, client.GraphQL(), runnerID, first, after)
			if err != nil {
				return admincmd.Page[ServiceAccount]{}, api.WithOp(err, op)
			}
			if resp.Node == nil || *resp.Node == nil {
				return admincmd.Page[ServiceAccount]{}, admincmd.NotFound(op, "runner agent", opts.Runner)
			}
			n, ok := (*resp.Node).(*gql.ListRunnerServiceAccountsNodeRunner)
			if !ok {
				return admincmd.Page[ServiceAccount]{}, admincmd.KindMismatch(op, "runner agent", opts.Runner, deref((*resp.Node).GetTypename()))
			}
			c := n.AssignedServiceAccounts
			out := admincmd.Page[ServiceAccount]{TotalCount: c.TotalCount, HasNextPage: c.PageInfo.HasNextPage, EndCursor: deref(c.PageInfo.EndCursor)}
			for _, e := range c.Edges {
				if e != nil && e.Node != nil {
					out.Items = append(out.Items, fromGQL(&e.Node.ServiceAccountDetail))
				}
			}
			return out, nil
		}
	} else {
		groupID := api.NormalizeID("group", opts.Group)
		sort := gql.ServiceAccountSort(opts.Sort)
		inherit := opts.IncludeInherited
		var search *string
		if opts.Search != "" {
			search = &opts.Search
		}
		fetchPage = func(ctx context.Context, first int, after *string) (admincmd.Page[ServiceAccount], error) {
			resp, err := gql.ListServiceAccounts(ctx, client.GraphQL(), groupID, first, after, &inherit, search, &sort)
			if err != nil {
				return admincmd.Page[ServiceAccount]{}, admincmd.Explain(api.WithOp(err, op), admincmd.RoleViewer, admincmd.PathOf(groupID))
			}
			if resp.Node == nil || *resp.Node == nil {
				return admincmd.Page[ServiceAccount]{}, admincmd.NotFound(op, "group", opts.Group)
			}
			n, ok := (*resp.Node).(*gql.ListServiceAccountsNodeGroup)
			if !ok {
				return admincmd.Page[ServiceAccount]{}, admincmd.KindMismatch(op, "group", opts.Group, deref((*resp.Node).GetTypename()))
			}
			c := n.ServiceAccounts
			out := admincmd.Page[ServiceAccount]{TotalCount: c.TotalCount, HasNextPage: c.PageInfo.HasNextPage, EndCursor: deref(c.PageInfo.EndCursor)}
			for _, e := range c.Edges {
				if e != nil && e.Node != nil {
					out.Items = append(out.Items, fromGQL(&e.Node.ServiceAccountDetail))
				}
			}
			return out, nil
		}
	}
	pg, err := admincmd.Collect(ctx, opts.Page, fetchPage)
	if err != nil {
		return err
	}
	return admincmd.PrintList(opts.IO, opts.JSON, pg, admincmd.Table[ServiceAccount]{
		Plural: "service accounts",
		Header: []string{"PATH", "CLIENT CREDENTIALS", "TRUST POLICY ISSUERS", "DESCRIPTION"},
		Row: func(sa ServiceAccount) []string {
			issuers := make([]string, len(sa.OIDCTrustPolicies))
			for i, p := range sa.OIDCTrustPolicies {
				issuers[i] = p.Issuer
			}
			return []string{sa.Path, strconv.FormatBool(sa.ClientCredentialsEnabled), strings.Join(issuers, ","), sa.Description}
		},
	})
}
