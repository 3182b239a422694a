package ui

import "bytes"

// Test returns streams backed by buffers, for tests: stdin, stdout and stderr
// are not terminals, no environment variable is set, and the width is
// DefaultWidth. Use the setters to pretend otherwise.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	s = &IOStreams{In: in, Out: out, ErrOut: errOut}
	return s, in, out, errOut
}

// SetStdinTTY pretends stdin is (or is not) a terminal.
func (s *IOStreams) SetStdinTTY(v bool) { s.inTTY = v }

// SetStdoutTTY pretends stdout is (or is not) a terminal.
func (s *IOStreams) SetStdoutTTY(v bool) { s.outTTY = v }

// SetStderrTTY pretends stderr is (or is not) a terminal.
func (s *IOStreams) SetStderrTTY(v bool) { s.errTTY = v }

// SetTTY pretends all three streams are (or are not) terminals.
func (s *IOStreams) SetTTY(v bool) { s.inTTY, s.outTTY, s.errTTY = v, v, v }

// SetTerminalWidth fixes the reported terminal width.
func (s *IOStreams) SetTerminalWidth(w int) { s.width = func() int { return w } }
