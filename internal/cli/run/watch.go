package run

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/runflow"
)

// NewCmdWatch attaches to an existing run and follows it to the end.
func NewCmdWatch(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{F: f, Kind: kindWatch, Input: true}
	cmd := &cobra.Command{
		Use:   "watch <run>",
		Short: "Follow a run someone else started, to its end",
		Long: `Attach to an existing run: stream its logs and status changes until it ends,
with the same output and exit codes as 'tharsis run apply'.

When the run waits for approval, you are asked on a terminal (only "yes"
approves; anything else leaves the run waiting); --auto-approve applies it;
without a terminal the command stops there (exit 0) with the command to
approve it. Ctrl-C detaches: the run goes on.`,
		Example: `  tharsis run watch Ul8xMjM0...
  tharsis run watch Ul8xMjM0... -o json`,
		Args: cmdutil.ExactArgs("run"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Workspace = args[0] // the run, for watch
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runAttach(c.Context(), opts, nil)
		},
		ValidArgsFunction: complete.Runs(f),
	}
	fs := cmd.Flags()
	fs.BoolVar(&opts.AutoApprove, "auto-approve", false, "approve the run without asking when it waits for approval")
	fs.DurationVar(&opts.Timeout, "timeout", 0, "give up after this `duration` (exit 124; the run is left as it is)")
	fs.BoolVar(&opts.Events, "events", false, "write line-delimited JSON events to stdout as the run progresses")
	fs.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only the job logs and errors")
	fs.StringVar(&opts.DotenvFile, "dotenv", "", "also write the result as KEY=value lines to this `file`")
	fs.BoolVar(&opts.DetailedExitcode, "detailed-exitcode", false, "exit 2 when the plan succeeded with changes and nothing was applied")
	return cmd
}

// runAttach follows an existing run (watch), or approves it first
// (approve: act is called with the session once the run is read).
func runAttach(ctx context.Context, o *CreateOptions, act func(*session) error) error {
	client, err := o.F.APIClient()
	if err != nil {
		return err
	}
	s := newSession(ctx, o, client)
	defer s.close()
	s.detach = o.Kind == kindWatch
	// prepCtx: the first interrupt stops the read, and nothing is done.
	run, err := s.eng.GetRun(s.prepCtx, runRef(o.Workspace))
	if err == nil && !s.attach(run) {
		err = context.Canceled // interrupted as the read ended
	}
	if err != nil && s.interrupted() && errors.Is(err, context.Canceled) {
		s.view.Printf("Interrupted before anything was done.\n")
		return s.finish(&cmdutil.ExitError{Code: cmdutil.ExitInterrupted})
	}
	if err != nil {
		return s.finish(err)
	}
	if o.Kind == kindWatch && !o.AutoApprove && !o.F.IO.CanPrompt() {
		// Nobody can answer: stop at approval, as --input=false does.
		o.Input = false
	}
	if act != nil {
		if err := act(s); err != nil {
			return s.finish(err)
		}
	}
	return s.drive(run)
}

// attach records the run unless an interrupt came while it was read (the
// signal handler then had no run to act on): under the lock, so that each
// interrupt is handled by exactly one of them.
func (s *session) attach(run *runflow.Run) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.interrupts > 0 {
		return false
	}
	s.run = run
	s.result.update(run)
	return true
}
