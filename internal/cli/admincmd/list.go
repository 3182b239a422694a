package admincmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// MaxPageSize is the API's limit on first/last.
const MaxPageSize = 100

// PageFlags are the paging flags of every list: --limit, --cursor, --all.
type PageFlags struct {
	Limit  int
	Cursor string
	All    bool
}

// Register adds the flags to cmd.
func (p *PageFlags) Register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.IntVar(&p.Limit, "limit", MaxPageSize, "Items per page (1-100)")
	fs.StringVar(&p.Cursor, "cursor", "", `Start after this cursor (printed as "Next page: --cursor ..." or page_info.end_cursor)`)
	fs.BoolVar(&p.All, "all", false, "Fetch every page (pages of --limit items)")
}

// Validate checks --limit.
func (p *PageFlags) Validate() error {
	if p.Limit < 1 || p.Limit > MaxPageSize {
		return cmdutil.UsageErrorf("invalid --limit %d: it must be between 1 and %d", p.Limit, MaxPageSize)
	}
	return nil
}

// Page is one page of a list (or several, with --all).
type Page[T any] struct {
	Items       []T
	TotalCount  int
	HasNextPage bool
	EndCursor   string
}

// Fetch reads one page of first items after the cursor (nil: from the
// start).
type Fetch[T any] func(ctx context.Context, first int, after *string) (Page[T], error)

// Collect reads the page the flags ask for, or every page from there with
// --all.
func Collect[T any](ctx context.Context, p PageFlags, fetch Fetch[T]) (Page[T], error) {
	var after *string
	if p.Cursor != "" {
		c := p.Cursor
		after = &c
	}
	var out Page[T]
	for {
		pg, err := fetch(ctx, p.Limit, after)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, pg.Items...)
		out.TotalCount, out.HasNextPage, out.EndCursor = pg.TotalCount, pg.HasNextPage, pg.EndCursor
		if !p.All || !pg.HasNextPage || pg.EndCursor == "" || (after != nil && *after == pg.EndCursor) {
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		c := pg.EndCursor
		after = &c
	}
}

// ListJSON is what `list -o json` prints.
type ListJSON[T any] struct {
	Items    []T      `json:"items"`
	PageInfo PageInfo `json:"page_info"`
}

// PageInfo describes where a list stops: pass end_cursor to --cursor for
// the next page.
type PageInfo struct {
	TotalCount  int    `json:"total_count"`
	HasNextPage bool   `json:"has_next_page"`
	EndCursor   string `json:"end_cursor,omitempty"`
}

// ListDoc describes the JSON document of lists, for command help.
const ListDoc = `With -o json the list is one document:
  {"items": [...], "page_info": {"total_count": N, "has_next_page": true, "end_cursor": "..."}}
where each item has the same fields as the get command's JSON.`

// Table is how a list prints as text.
type Table[T any] struct {
	// Plural names the items in messages ("workspaces").
	Plural string
	Header []string
	Row    func(T) []string
}

// PrintList prints a page: one JSON document, or a table (aligned with a
// header on a terminal, tab-separated otherwise) with "No ... found" and
// the next page's cursor on stderr.
func PrintList[T any](io *ui.IOStreams, asJSON bool, pg Page[T], t Table[T]) error {
	if asJSON {
		items := pg.Items
		if items == nil {
			items = []T{}
		}
		return io.PrintJSON(ListJSON[T]{Items: items, PageInfo: PageInfo{
			TotalCount: pg.TotalCount, HasNextPage: pg.HasNextPage, EndCursor: pg.EndCursor,
		}})
	}
	if len(pg.Items) == 0 {
		fmt.Fprintf(io.ErrOut, "No %s found.\n", t.Plural)
		return nil
	}
	tbl := io.NewTable(t.Header...)
	clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	for _, it := range pg.Items {
		cells := t.Row(it)
		for i, c := range cells {
			// A tab or line break inside a cell would break the columns.
			cells[i] = clean.Replace(c)
		}
		tbl.AddRow(cells...)
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	if pg.HasNextPage && pg.EndCursor != "" {
		fmt.Fprintf(io.ErrOut, "Showing %d of %d %s. Next page: --cursor %s\n", len(pg.Items), pg.TotalCount, t.Plural, pg.EndCursor)
	}
	return nil
}
