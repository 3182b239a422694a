package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// hinter is implemented by errors that carry advice for the user
// (config.Error, HintError, ...).
type hinter interface{ ErrorHint() string }

// Hints returns the hints found in err's chain, outermost first, without
// duplicates: ErrorHint() methods and api.Error's Hint field.
func Hints(err error) []string {
	var hints []string
	seen := map[string]bool{}
	add := func(h string) {
		h = strings.TrimSpace(h)
		if h != "" && !seen[h] {
			seen[h] = true
			hints = append(hints, h)
		}
	}
	var walk func(error)
	walk = func(e error) {
		for e != nil {
			if h, ok := e.(hinter); ok {
				add(h.ErrorHint())
			}
			if ae, ok := e.(*api.Error); ok {
				add(ae.Hint)
			}
			if j, ok := e.(interface{ Unwrap() []error }); ok {
				for _, x := range j.Unwrap() {
					walk(x)
				}
				return
			}
			e = errors.Unwrap(e)
		}
	}
	walk(err)
	return hints
}

// PrintError writes err to w as
//
//	Error: <what failed>: <why>
//	Hint: <what to do>
//
// commandPath (e.g. "tharsis run apply") is used for the usage hint of usage
// errors. An ExitError without an error prints nothing.
func PrintError(s *ui.IOStreams, err error, commandPath string) {
	if err == nil {
		return
	}
	if e, ok := errors.AsType[*ExitError](err); ok && e.Err == nil {
		return
	}
	st := s.ErrStyles()
	w := s.ErrOut
	// One "Error:" line; the lines of a multi-line message (several
	// diagnostics of one file, joined errors) are indented under it.
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	fmt.Fprintf(w, "%s %s\n", st.Error.Render("Error:"), lines[0])
	for _, l := range lines[1:] {
		if l = strings.TrimRight(l, " \t"); l != "" {
			fmt.Fprintf(w, "       %s\n", l)
		}
	}
	for _, h := range Hints(err) {
		printHint(w, st, h)
	}
	if _, ok := errors.AsType[*UsageError](err); ok && commandPath != "" {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", commandPath)
	}
}

func printHint(w io.Writer, st ui.Styles, h string) {
	lines := strings.Split(h, "\n")
	fmt.Fprintf(w, "%s %s\n", st.Accent.Render("Hint:"), lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(w, "      %s\n", l)
	}
}
