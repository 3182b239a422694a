package ui

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/briandowns/spinner"
)

// Progress shows that something is happening. On a terminal (and not in CI)
// it is a spinner on stderr; otherwise each label is printed once as a plain
// status line on stderr, which reads well in CI logs.
type Progress struct {
	mu      sync.Mutex
	s       *IOStreams
	spin    *spinner.Spinner
	label   string
	stopped bool
}

// StartProgress starts a spinner (or prints a status line) with the label.
func (s *IOStreams) StartProgress(label string) *Progress {
	p := &Progress{s: s, label: label}
	if s.SpinnerEnabled() {
		opts := []spinner.Option{spinner.WithSuffix(" " + label), spinner.WithHiddenCursor(true)}
		// The spinner checks the file it writes to for a terminal itself;
		// give it the real file when there is one.
		if f, ok := s.ErrOut.(*os.File); ok {
			opts = append(opts, spinner.WithWriterFile(f))
		} else {
			opts = append(opts, spinner.WithWriter(s.ErrOut))
		}
		p.spin = spinner.New(spinner.CharSets[11], 120*time.Millisecond, opts...)
		if s.ErrColorEnabled() {
			_ = p.spin.Color("cyan")
		} else {
			_ = p.spin.Color()
		}
		p.spin.Start()
		return p
	}
	fmt.Fprintf(s.ErrOut, "%s...\n", label)
	return p
}

// Update changes the label.
func (p *Progress) Update(label string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || label == p.label {
		return
	}
	p.label = label
	if p.spin != nil {
		p.spin.Lock()
		p.spin.Suffix = " " + label
		p.spin.Unlock()
		return
	}
	fmt.Fprintf(p.s.ErrOut, "%s...\n", label)
}

// Stop removes the spinner. It is safe to call more than once.
func (p *Progress) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	if p.spin != nil {
		p.spin.Stop()
	}
}
