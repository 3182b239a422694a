// Package ui holds the terminal plumbing shared by every command: the IO
// streams and what they are connected to (TTY or not, CI or not), the colour
// decision, lipgloss styles, a spinner, prompts, tables and JSON output.
//
// Rules it enforces (see docs/development.md, "Output"):
//   - data goes to Out (stdout); progress, prompts and errors go to ErrOut (stderr);
//   - colour is used on a stream only when that stream is a terminal, NO_COLOR is
//     unset or empty (https://no-color.org: "present and not an empty string"
//     disables colour), --no-color was not given, TERM is not "dumb" and we are
//     not running in CI;
//   - spinners and prompts only appear on a terminal and never in CI.
package ui

import (
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// DefaultWidth is the width assumed when the output is not a terminal or its
// size cannot be read.
const DefaultWidth = 80

// IOStreams are the standard streams of one CLI invocation plus what is known
// about them. Construct with System or Test.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inTTY, outTTY, errTTY bool

	noColorEnv  bool // NO_COLOR set to a non-empty value
	noColorFlag bool // --no-color
	dumbTerm    bool // TERM=dumb
	ci          bool // CI, GITHUB_ACTIONS or GITLAB_CI
	colorTerm   string
	termName    string

	width func() int

	lines *lineReader
}

// System returns streams bound to the process's stdin, stdout and stderr,
// with TTY and environment detection from the real process.
func System() *IOStreams {
	s := &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		inTTY:  isTerminal(os.Stdin),
		outTTY: isTerminal(os.Stdout),
		errTTY: isTerminal(os.Stderr),
	}
	s.width = func() int {
		for _, f := range []*os.File{os.Stdout, os.Stderr} {
			if isTerminal(f) {
				if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
					return w
				}
			}
		}
		return DefaultWidth
	}
	s.ApplyEnv(os.Getenv)
	return s
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// ApplyEnv reads the environment variables that affect the terminal
// behaviour: NO_COLOR, TERM, COLORTERM, CI, GITHUB_ACTIONS, GITLAB_CI.
func (s *IOStreams) ApplyEnv(getenv func(string) string) {
	s.noColorEnv = getenv("NO_COLOR") != ""
	s.termName = getenv("TERM")
	s.dumbTerm = s.termName == "dumb"
	s.colorTerm = getenv("COLORTERM")
	s.ci = IsCI(getenv)
}

// IsCI reports whether the environment looks like a CI job.
func IsCI(getenv func(string) string) bool {
	switch strings.ToLower(getenv("CI")) {
	case "", "0", "false", "no":
	default:
		return true
	}
	return getenv("GITHUB_ACTIONS") != "" || getenv("GITLAB_CI") != ""
}

// SetNoColor records --no-color.
func (s *IOStreams) SetNoColor(v bool) { s.noColorFlag = v }

// IsStdinTTY reports whether stdin is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.inTTY }

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether stderr is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// IsCI reports whether a CI environment was detected.
func (s *IOStreams) IsCI() bool { return s.ci }

func (s *IOStreams) colorAllowed() bool {
	return !s.noColorEnv && !s.noColorFlag && !s.dumbTerm && !s.ci
}

// ColorEnabled reports whether colour may be written to Out.
func (s *IOStreams) ColorEnabled() bool { return s.outTTY && s.colorAllowed() }

// ErrColorEnabled reports whether colour may be written to ErrOut.
func (s *IOStreams) ErrColorEnabled() bool { return s.errTTY && s.colorAllowed() }

// CanPrompt reports whether the user can be asked questions: stdin and
// stderr (where prompts are written) are terminals and this is not CI.
func (s *IOStreams) CanPrompt() bool { return s.inTTY && s.errTTY && !s.ci }

// SpinnerEnabled reports whether an animated spinner may be drawn on ErrOut.
func (s *IOStreams) SpinnerEnabled() bool { return s.errTTY && !s.ci }

// TerminalWidth is the width of the terminal, or DefaultWidth when there is
// none.
func (s *IOStreams) TerminalWidth() int {
	if s.width == nil {
		return DefaultWidth
	}
	return s.width()
}
