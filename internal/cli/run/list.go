package run

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui/runview"
)

// ListOptions are the options of `run list`.
type ListOptions struct {
	F         *cmdutil.Factory
	Workspace string
	Limit     int
	Cursor    string
	All       bool
	Status    []string
}

// NewCmdList lists the runs of a workspace, newest first.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{F: f}
	cmd := &cobra.Command{
		Use:   "list <workspace>",
		Short: "List the runs of a workspace, newest first",
		Long: `List the runs of a workspace, newest first, a page at a time.

--status keeps only runs in the given statuses (repeat it or separate with
commas), reading further pages until --limit runs match. --all reads every
page. The JSON output is {"items": [...], "page_info": {...}}.`,
		Example: `  tharsis run list my-group/my-workspace
  tharsis run list my-group/my-workspace --status planned --status applying
  tharsis run list my-group/my-workspace --limit 5 -o json`,
		Args: cmdutil.ExactArgs("workspace"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Workspace = args[0]
			if opts.Limit < 1 || opts.Limit > 100 {
				return cmdutil.UsageErrorf("--limit must be between 1 and 100")
			}
			for _, s := range opts.Status {
				if !slices.Contains(runStatuses, s) {
					return cmdutil.UsageErrorf("unknown run status %q; valid: %s", s, strings.Join(runStatuses, ", "))
				}
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runList(c.Context(), opts)
		},
		ValidArgsFunction: complete.Workspaces(f),
	}
	cmd.Flags().IntVar(&opts.Limit, "limit", 20, "how many runs to show (1-100)")
	cmd.Flags().StringVar(&opts.Cursor, "cursor", "", "continue from this cursor (printed after a page)")
	cmd.Flags().BoolVar(&opts.All, "all", false, "list every run")
	cmd.Flags().StringSliceVar(&opts.Status, "status", nil, "only runs in this `status` (repeatable)")
	_ = cmd.RegisterFlagCompletionFunc("status", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return runStatuses, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

var runStatuses = func() []string {
	out := make([]string, 0, len(gql.AllRunStatus))
	for _, s := range gql.AllRunStatus {
		out = append(out, string(s))
	}
	return out
}()

// pageInfo is the JSON page information of a list.
type pageInfo struct {
	TotalCount  int    `json:"total_count"`
	HasNextPage bool   `json:"has_next_page"`
	EndCursor   string `json:"end_cursor,omitempty"`
}

func runList(ctx context.Context, o *ListOptions) error {
	eng, err := engineFor(o.F)
	if err != nil {
		return err
	}
	ws, err := eng.GetWorkspace(ctx, o.Workspace)
	if err != nil {
		return err
	}
	client := eng.API.GraphQL()
	var items []*RunView
	var page pageInfo
	cursor := o.Cursor
	for {
		var after *string
		if cursor != "" {
			after = &cursor
		}
		resp, err := gql.ListRuns(ctx, client, ws.Id, 100, after)
		if err != nil {
			return err
		}
		rs := resp.Runs
		page = pageInfo{TotalCount: rs.TotalCount, HasNextPage: rs.PageInfo.HasNextPage, EndCursor: ptr(rs.PageInfo.EndCursor)}
		full := false
		for _, e := range rs.Edges {
			if e == nil || e.Node == nil {
				continue
			}
			if len(o.Status) > 0 && !slices.Contains(o.Status, string(e.Node.Status)) {
				continue
			}
			items = append(items, viewOf(&e.Node.RunFields))
			if !o.All && len(items) == o.Limit {
				// Resume right after this run next time.
				page.EndCursor = e.Cursor
				page.HasNextPage = true
				full = true
				break
			}
		}
		if full || !rs.PageInfo.HasNextPage {
			break
		}
		cursor = ptr(rs.PageInfo.EndCursor)
	}
	if !o.All && len(items) < o.Limit {
		page.HasNextPage = false
		page.EndCursor = ""
	}
	if o.F.JSON() {
		if items == nil {
			items = []*RunView{}
		}
		return o.F.PrintJSON(struct {
			Items    []*RunView `json:"items"`
			PageInfo pageInfo   `json:"page_info"`
		}{items, page})
	}
	if len(items) == 0 {
		fmt.Fprintf(o.F.IO.ErrOut, "No runs in workspace %s.\n", ws.FullPath)
		return nil
	}
	t := o.F.IO.NewTable("RUN", "STATUS", "KIND", "CHANGES", "CREATED BY", "CREATED")
	for _, v := range items {
		changes := ""
		if v.Summary != nil {
			changes = fmt.Sprintf("+%d ~%d -%d", v.Summary.Add, v.Summary.Change, v.Summary.Destroy)
		}
		t.AddRow(v.ID, runview.StatusLabel(v.Status), v.kindLabel(), changes, v.CreatedBy, fmtTime(&v.CreatedAt))
	}
	if err := t.Render(); err != nil {
		return err
	}
	if page.HasNextPage && page.EndCursor != "" {
		fmt.Fprintf(o.F.IO.ErrOut, "More runs: --cursor %s\n", page.EndCursor)
	}
	return nil
}
