package run

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/runflow"
	"github.com/tharsis-cli/tharsis/internal/ui/runview"
)

// CancelOptions are the options of `run cancel`.
type CancelOptions struct {
	F      *cmdutil.Factory
	Run    string
	Force  bool
	NoWait bool
	Yes    bool
}

// NewCmdCancel cancels a run, gracefully or by force.
func NewCmdCancel(f *cmdutil.Factory, runF func(context.Context, *CancelOptions) error) *cobra.Command {
	opts := &CancelOptions{F: f}
	cmd := &cobra.Command{
		Use:   "cancel <run>",
		Short: "Cancel a run, gracefully or by force",
		Long: `Ask Tharsis to cancel a run gracefully (Terraform is interrupted and stops
cleanly) and wait until the run is canceled (exit 0), or says how it ended
instead (exit 1). --no-wait returns as soon as the request is accepted.

--force cancels at once, which may leave resources inconsistent. Tharsis only
allows it some time after a graceful cancel: a graceful cancel is sent first
if there was none, and the command waits until the force cancel is allowed
(with --no-wait it says when and stops). On a terminal it asks first; --yes
skips the question.`,
		Example: `  tharsis run cancel Ul8xMjM0...
  tharsis run cancel Ul8xMjM0... --force --yes`,
		Args: cmdutil.ExactArgs("run"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Run = args[0]
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runCancel(c.Context(), opts)
		},
		ValidArgsFunction: complete.Runs(f),
	}
	cmd.Flags().BoolVarP(&opts.Force, "force", "f", false, "force the cancel (may leave resources inconsistent)")
	cmd.Flags().BoolVar(&opts.NoWait, "no-wait", false, "return once the cancel is requested")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func runCancel(ctx context.Context, o *CancelOptions) error {
	eng, err := engineFor(o.F)
	if err != nil {
		return err
	}
	errOut := o.F.IO.ErrOut
	say := func(format string, args ...any) {
		if !o.F.JSON() {
			fmt.Fprintf(errOut, format, args...)
		}
	}
	run, err := eng.GetRun(ctx, runRef(o.Run))
	if err != nil {
		return err
	}
	if runflow.Terminal(run.Status) {
		return o.done(run, &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf(
			"run %s has already ended (%s): there is nothing to cancel", run.Id, runview.StatusLabel(string(run.Status)))})
	}

	if o.Force && !o.Yes && o.F.IO.CanPrompt() {
		fmt.Fprintln(errOut, "A force cancel stops the run at once, which may leave resources in an inconsistent state.")
		ok, err := o.F.IO.Confirm(ctx, "Force cancel run "+run.Id+"?", false)
		if err != nil {
			return err
		}
		if !ok {
			return &cmdutil.ExitError{Code: cmdutil.ExitCanceled, Err: errors.New("force cancel not confirmed; nothing was sent")}
		}
	}

	if run.ForceCancelAvailableAt == nil || !o.Force {
		r, err := eng.Cancel(ctx, run.Id, false)
		if err != nil {
			return err
		}
		run = r
		say("Cancel requested for run %s.\n", run.Id)
	}
	if runflow.Terminal(run.Status) {
		// Canceled at once (queued, or waiting for approval).
		return o.done(run, o.endError(run))
	}

	if o.Force {
		at := run.ForceCancelAvailableAt
		now := o.F.Now()
		if at != nil && at.After(now) {
			if o.NoWait {
				say("A force cancel is allowed from %s (in %s); run the command again then.\n",
					at.Local().Format(time.TimeOnly), at.Sub(now).Round(time.Second))
				return o.done(run, nil)
			}
			say("Waiting until %s (%s) for the force cancel to be allowed...\n",
				at.Local().Format(time.TimeOnly), at.Sub(now).Round(time.Second))
			// The run may end gracefully while we wait.
			wctx, cancel := context.WithDeadline(ctx, at.Add(250*time.Millisecond))
			r, err := eng.Follow(wctx, run.Id, runflow.UntilFinal)
			cancel()
			if err == nil {
				return o.done(r, o.endError(r))
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		r, err := eng.Cancel(ctx, run.Id, true)
		if err != nil {
			var early *runflow.ErrForceTooEarly
			if errors.As(err, &early) {
				return cmdutil.WithHint(err, "try again in a few seconds")
			}
			return err
		}
		run = r
		say("Force cancel sent for run %s.\n", run.Id)
	}
	if o.NoWait {
		return o.done(run, nil)
	}
	r, err := o.waitGraceful(ctx, eng, run)
	if err != nil {
		return err
	}
	if r.Status == gql.RunStatusPlanned {
		// The plan job finished before it saw the cancel: the run now
		// waits for approval, where a cancel takes effect at once.
		say("The plan of run %s finished before the cancel took effect; canceling the run, which now waits for approval.\n", r.Id)
		if r, err = eng.Cancel(ctx, r.Id, false); err != nil {
			return err
		}
		if !runflow.Terminal(r.Status) {
			if r, err = eng.Follow(ctx, r.Id, runflow.UntilFinal); err != nil {
				return err
			}
		}
	}
	return o.done(r, o.endError(r))
}

// waitGraceful follows the run until it stops. A job may ignore a graceful
// cancel: once a force cancel is allowed, say so (once) and keep waiting.
func (o *CancelOptions) waitGraceful(ctx context.Context, eng *runflow.Engine, run *runflow.Run) (*runflow.Run, error) {
	at := run.ForceCancelAvailableAt
	if o.Force || at == nil {
		return eng.Follow(ctx, run.Id, untilStopped)
	}
	wctx, cancel := context.WithDeadline(ctx, at.Add(250*time.Millisecond))
	r, err := eng.Follow(wctx, run.Id, untilStopped)
	expired := errors.Is(wctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	cancel()
	if err == nil || !expired {
		return r, err
	}
	if !o.F.JSON() {
		fmt.Fprintf(o.F.IO.ErrOut, "Run %s has not stopped yet. A force cancel is allowed now (it may leave resources inconsistent):\n  tharsis run cancel --force %s\n", run.Id, run.Id)
	}
	return eng.Follow(ctx, run.Id, untilStopped)
}

// untilStopped stops on a final status, or on planned: a job may finish
// despite a graceful cancel, and the run then waits for approval.
func untilStopped(r *runflow.Run) bool {
	return runflow.Terminal(r.Status) || r.Status == gql.RunStatusPlanned
}

func (o *CancelOptions) endError(r *runflow.Run) error {
	if r.Status == "canceled" {
		if !o.F.JSON() {
			fmt.Fprintf(o.F.IO.ErrOut, "Run %s canceled.\n", r.Id)
		}
		return nil
	}
	return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf(
		"run %s ended as %s before the cancel took effect", r.Id, runview.StatusLabel(string(r.Status)))}
}

// done prints the JSON document (when asked) and returns err.
func (o *CancelOptions) done(r *runflow.Run, err error) error {
	if o.F.JSON() {
		if perr := o.F.PrintJSON(viewOf(r)); perr != nil && err == nil {
			return perr
		}
	}
	return err
}
