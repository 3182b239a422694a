package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// Option configures Main.
type Option func(*mainOptions)

type mainOptions struct {
	interrupts *cmdutil.Interrupts
	factory    func(*cmdutil.Factory)
	environ    func() []string
}

// WithInterrupts connects Main to a signal source (cmd/tharsis passes the
// process's SIGINT/SIGTERM; tests call Deliver).
func WithInterrupts(i *cmdutil.Interrupts) Option {
	return func(o *mainOptions) { o.interrupts = i }
}

// WithEnviron gives commands the whole environment (os.Environ), which
// they need to find TF_VAR_* variables.
func WithEnviron(fn func() []string) Option {
	return func(o *mainOptions) { o.environ = fn }
}

// WithFactory lets tests adjust the Factory (e.g. replace APIClient) before
// the command tree is built.
func WithFactory(fn func(*cmdutil.Factory)) Option {
	return func(o *mainOptions) { o.factory = fn }
}

// bugReportURL is where panics ask to be reported.
const bugReportURL = "https://github.com/tharsis-cli/tharsis/issues"

// Main runs the CLI with args (without the program name) and returns the
// process exit code. Errors are printed once, on stderr, as
// "Error: ..." plus "Hint: ..." lines; panics are reported as bugs (exit 1).
func Main(ctx context.Context, args []string, io *ui.IOStreams, getenv func(string) string, opts ...Option) int {
	var o mainOptions
	for _, opt := range opts {
		opt(&o)
	}
	f := cmdutil.NewFactory(io, getenv)
	if o.interrupts != nil {
		f.Interrupts = o.interrupts
	}
	f.Environ = o.environ
	if o.factory != nil {
		o.factory(f)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	force := make(chan struct{})
	var forceOnce sync.Once
	f.Interrupts.SetDefault(func(n int) {
		if n == 1 {
			cancel(cmdutil.ErrInterrupted)
			return
		}
		forceOnce.Do(func() { close(force) })
	})
	defer f.Interrupts.SetDefault(nil)

	type result struct {
		cmd  *cobra.Command
		err  error
		code int
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				reportPanic(f, p)
				done <- result{code: cmdutil.ExitFailure}
			}
		}()
		root := NewRootCmd(f)
		root.SetArgs(rewriteLegacyArgs(root, args, func(msg string) { fmt.Fprintln(io.ErrOut, msg) }))
		root.SetIn(io.In)
		root.SetOut(io.Out)
		root.SetErr(io.ErrOut)
		cmd, err := root.ExecuteContextC(ctx)
		done <- result{cmd: cmd, err: err, code: -1}
	}()

	var r result
	select {
	case r = <-done:
	case <-force:
		fmt.Fprintln(io.ErrOut, "Interrupted.")
		return cmdutil.ExitInterrupted
	}
	if r.code >= 0 {
		return r.code
	}
	err := normalizeCobraError(r.err)
	interrupted := errors.Is(context.Cause(ctx), cmdutil.ErrInterrupted)
	if err == nil {
		return cmdutil.ExitOK
	}
	if _, explicit := errors.AsType[*cmdutil.ExitError](err); interrupted && !explicit {
		fmt.Fprintln(io.ErrOut, "Interrupted.")
		return cmdutil.ExitInterrupted
	}
	path := "tharsis"
	if r.cmd != nil {
		path = r.cmd.CommandPath()
	}
	cmdutil.PrintError(io, err, path)
	return cmdutil.ExitCode(err)
}

// normalizeCobraError turns the errors cobra itself returns as plain errors
// into usage errors.
func normalizeCobraError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*cmdutil.UsageError](err); ok {
		return err
	}
	msg := err.Error()
	for _, prefix := range []string{"unknown command ", "required flag(s) ", "if any flags in the group ", "none of the others can be ", "at least one of the flags "} {
		if strings.HasPrefix(msg, prefix) {
			return &cmdutil.UsageError{Err: err}
		}
	}
	return err
}

// reportPanic prints a short bug report; the stack only with --log-level
// debug or trace.
func reportPanic(f *cmdutil.Factory, p any) {
	w := f.IO.ErrOut
	fmt.Fprintf(w, "Error: tharsis crashed (this is a bug): %v\n", p)
	fmt.Fprintf(w, "Please report it at %s with the command you ran and the output of 'tharsis version'.\n", bugReportURL)
	level, _, err := config.ResolveLogLevel(f.Getenv, f.Global.LogLevel)
	if err == nil && (level == "debug" || level == "trace") {
		fmt.Fprintf(w, "\n%s", debug.Stack())
	} else {
		fmt.Fprintln(w, "Run it again with --log-level debug to include the stack trace in the report.")
	}
}
