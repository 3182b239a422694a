package ui

import (
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Table prints rows to Out. On a terminal it prints a bold header and aligns
// the columns with two spaces between them; otherwise it prints one
// tab-separated line per row and no header, so the output can be fed to cut,
// awk or a spreadsheet.
type Table struct {
	s      *IOStreams
	header []string
	rows   [][]string
}

// NewTable starts a table with the given column names.
func (s *IOStreams) NewTable(header ...string) *Table {
	return &Table{s: s, header: header}
}

// AddRow adds one row; missing cells are printed empty.
func (t *Table) AddRow(cells ...string) { t.rows = append(t.rows, cells) }

// Len is the number of rows added.
func (t *Table) Len() int { return len(t.rows) }

// Render writes the table to Out.
func (t *Table) Render() error {
	if !t.s.IsStdoutTTY() {
		return t.renderPlain(t.s.Out)
	}
	return t.renderAligned(t.s.Out, t.s.Styles())
}

func (t *Table) renderPlain(w io.Writer) error {
	for _, row := range t.rows {
		cells := make([]string, len(row))
		for i, c := range row {
			// A tab or newline inside a cell would break the row format.
			cells[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(c)
		}
		if _, err := fmt.Fprintln(w, strings.Join(cells, "\t")); err != nil {
			return err
		}
	}
	return nil
}

func (t *Table) renderAligned(w io.Writer, st Styles) error {
	cols := len(t.header)
	for _, r := range t.rows {
		cols = max(cols, len(r))
	}
	widths := make([]int, cols)
	measure := func(row []string) {
		for i, c := range row {
			// lipgloss.Width ignores ANSI sequences and counts wide runes.
			widths[i] = max(widths[i], lipgloss.Width(c))
		}
	}
	measure(t.header)
	for _, r := range t.rows {
		measure(r)
	}
	line := func(row []string, style func(string) string) error {
		var b strings.Builder
		for i := range cols {
			c := ""
			if i < len(row) {
				c = row[i]
			}
			if i == cols-1 {
				b.WriteString(style(c))
				break
			}
			b.WriteString(style(c))
			b.WriteString(strings.Repeat(" ", widths[i]-lipgloss.Width(c)+2))
		}
		_, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		return err
	}
	if len(t.header) > 0 {
		if err := line(t.header, func(s string) string { return st.Bold.Render(s) }); err != nil {
			return err
		}
	}
	for _, r := range t.rows {
		if err := line(r, func(s string) string { return s }); err != nil {
			return err
		}
	}
	return nil
}
