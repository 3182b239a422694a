package ui

import (
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are the lipgloss styles for one stream. They render plain text when
// colour is off for that stream, so callers never check the colour rules
// themselves.
type Styles struct {
	Bold    lipgloss.Style
	Dim     lipgloss.Style
	Header  lipgloss.Style
	Success lipgloss.Style
	Warning lipgloss.Style
	Error   lipgloss.Style
	Accent  lipgloss.Style
}

// Styles returns the styles for Out.
func (s *IOStreams) Styles() Styles { return s.stylesFor(s.Out, s.ColorEnabled()) }

// ErrStyles returns the styles for ErrOut.
func (s *IOStreams) ErrStyles() Styles { return s.stylesFor(s.ErrOut, s.ErrColorEnabled()) }

func (s *IOStreams) stylesFor(w io.Writer, color bool) Styles {
	r := lipgloss.NewRenderer(w)
	// Never let lipgloss query the terminal (it would write escape sequences
	// and read the answer from stdin).
	r.SetHasDarkBackground(true)
	r.SetColorProfile(s.profile(color))
	return Styles{
		Bold:    r.NewStyle().Bold(true),
		Dim:     r.NewStyle().Faint(true),
		Header:  r.NewStyle().Bold(true).Underline(true),
		Success: r.NewStyle().Foreground(lipgloss.Color("2")),
		Warning: r.NewStyle().Foreground(lipgloss.Color("3")),
		Error:   r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		Accent:  r.NewStyle().Foreground(lipgloss.Color("6")),
	}
}

// profile picks the colour profile from the environment instead of probing the
// writer, so a pretend-TTY test stream renders like a real terminal.
func (s *IOStreams) profile(color bool) termenv.Profile {
	switch {
	case !color:
		return termenv.Ascii
	case s.colorTerm == "truecolor" || s.colorTerm == "24bit":
		return termenv.TrueColor
	case strings.Contains(s.termName, "256color"):
		return termenv.ANSI256
	default:
		return termenv.ANSI
	}
}
