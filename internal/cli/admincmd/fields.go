package admincmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// Fields is the text form of one resource: "Key:  value" lines, values
// aligned, followed by optional titled sections (small tables or notes).
type Fields struct {
	rows     [][2]string
	sections []section
}

type section struct {
	title  string
	header []string
	rows   [][]string
	lines  []string
	empty  string
}

// Add adds a row, even with an empty value.
func (f *Fields) Add(key, value string) *Fields {
	f.rows = append(f.rows, [2]string{key, value})
	return f
}

// AddIf adds a row when value is not empty.
func (f *Fields) AddIf(key, value string) *Fields {
	if value != "" {
		f.Add(key, value)
	}
	return f
}

// Table adds a titled table; empty is printed instead when it has no rows.
func (f *Fields) Table(title string, header []string, rows [][]string, empty string) *Fields {
	f.sections = append(f.sections, section{title: title, header: header, rows: rows, empty: empty})
	return f
}

// Notes adds a titled list of lines (nothing when lines is empty).
func (f *Fields) Notes(title string, lines []string) *Fields {
	if len(lines) > 0 {
		f.sections = append(f.sections, section{title: title, lines: lines})
	}
	return f
}

// Print writes the block to io.Out.
func (f *Fields) Print(s *ui.IOStreams) error {
	st := s.Styles()
	return f.write(s.Out, func(t string) string { return st.Bold.Render(t) })
}

func (f *Fields) write(w io.Writer, bold func(string) string) error {
	width := 0
	for _, r := range f.rows {
		width = max(width, len(r[0]))
	}
	var b strings.Builder
	for _, r := range f.rows {
		pad := strings.Repeat(" ", width+3)
		v := strings.ReplaceAll(r[1], "\n", "\n"+pad)
		fmt.Fprintf(&b, "%-*s  %s\n", width+1, r[0]+":", v)
	}
	for _, sec := range f.sections {
		fmt.Fprintf(&b, "\n%s\n", bold(sec.title+":"))
		switch {
		case sec.lines != nil:
			for _, l := range sec.lines {
				fmt.Fprintf(&b, "  %s\n", l)
			}
		case len(sec.rows) == 0:
			fmt.Fprintf(&b, "  %s\n", sec.empty)
		default:
			tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "  %s\n", strings.Join(sec.header, "\t"))
			for _, r := range sec.rows {
				fmt.Fprintf(tw, "  %s\n", strings.Join(r, "\t"))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// YesNo renders a boolean for people.
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Time renders a timestamp for people: local time, and how long ago.
func Time(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05 MST") + " (" + Ago(t, now) + ")"
}

// TimePtr is Time for an optional timestamp.
func TimePtr(t *time.Time, now time.Time) string {
	if t == nil {
		return ""
	}
	return Time(*t, now)
}

// Ago renders the time since t coarsely ("just now", "5m ago", "in 2h").
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, ""
	}
	var s string
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		s = fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	if suffix == "" {
		return "in " + s
	}
	return s + suffix
}

// Confirm guards a destructive step. yes (--force/--yes) skips it; on a
// terminal the user is asked (default no) and a "no" ends the command with
// exit code 3; without a terminal it is a usage error that tells which flag
// to add. reason says why the step is dangerous.
func Confirm(ctx context.Context, s *ui.IOStreams, yes bool, reason, question, flag string) error {
	if yes {
		return nil
	}
	if !s.CanPrompt() {
		return cmdutil.UsageErrorf("%s; add %s to go ahead without a prompt", reason, flag)
	}
	fmt.Fprintln(s.ErrOut, reason+".")
	ok, err := s.Confirm(ctx, question, false)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(s.ErrOut, "Nothing was deleted.")
		return &cmdutil.ExitError{Code: cmdutil.ExitCanceled}
	}
	return nil
}
