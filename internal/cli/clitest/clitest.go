// Package clitest runs the whole CLI in-process for tests: cli.Main with
// buffer streams, a fake environment and a private settings directory.
package clitest

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// Options of one invocation. The zero value runs without a terminal, with
// an empty environment and a fresh settings directory.
type Options struct {
	// Env is the whole environment. THARSIS_CONFIG_DIR and HOME default to
	// a temporary directory, so a test never reads the real ~/.tharsis.
	Env map[string]string
	// Stdin is the standard input.
	Stdin string
	// TTY pretends stdin, stdout and stderr are terminals.
	TTY bool
	// Streams, when set, are used instead of fresh ui.Test() streams (Stdin
	// and TTY are then ignored); Result then holds no output.
	Streams *ui.IOStreams
	// Setup adjusts the Factory before the command tree is built (e.g.
	// replace APIClient).
	Setup func(*cmdutil.Factory)
	// Interrupts lets the test deliver signals.
	Interrupts *cmdutil.Interrupts
	// Context defaults to context.Background().
	Context context.Context
}

// Result of one invocation.
type Result struct {
	Code   int
	Stdout string
	Stderr string
}

// Run runs `tharsis <args...>`.
func Run(t testing.TB, o Options, args ...string) Result {
	t.Helper()
	env := map[string]string{}
	for k, v := range o.Env {
		env[k] = v
	}
	if _, ok := env["THARSIS_CONFIG_DIR"]; !ok {
		env["THARSIS_CONFIG_DIR"] = t.TempDir()
	}
	if _, ok := env["HOME"]; !ok {
		env["HOME"] = t.TempDir()
	}
	s := o.Streams
	var res Result
	var outBuf, errBuf interface{ String() string }
	if s == nil {
		st, in, _, _ := ui.Test()
		in.WriteString(o.Stdin)
		st.SetTTY(o.TTY)
		// Locked buffers: the renderer and the debug logger write to stderr
		// from different goroutines, which is fine on a real stderr.
		out, errOut := &lockedBuffer{}, &lockedBuffer{}
		st.Out, st.ErrOut = out, errOut
		s, outBuf, errBuf = st, out, errOut
	}
	s.ApplyEnv(func(k string) string { return env[k] })
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	opts := []cli.Option{cli.WithEnviron(func() []string {
		out := make([]string, 0, len(env))
		for k, v := range env {
			out = append(out, k+"="+v)
		}
		return out
	})}
	if o.Interrupts != nil {
		opts = append(opts, cli.WithInterrupts(o.Interrupts))
	}
	if o.Setup != nil {
		opts = append(opts, cli.WithFactory(o.Setup))
	}
	res.Code = cli.Main(ctx, args, s, func(k string) string { return env[k] }, opts...)
	if outBuf != nil {
		res.Stdout, res.Stderr = outBuf.String(), errBuf.String()
	}
	return res
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
