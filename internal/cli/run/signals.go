package run

import (
	"context"
	"os"
	"time"

	"github.com/tharsis-cli/tharsis/internal/runflow"
)

// handleSignals implements Ctrl-C (and SIGTERM) for a run:
//
//   - before the run exists: stop packing/uploading, create nothing;
//   - at the approval prompt: discard the run so the workspace is free;
//   - first interrupt: ask Tharsis to cancel the run gracefully and keep
//     following it until it is canceled;
//   - second: force the cancel if the server allows it yet, else say when;
//   - third: detach, leaving the run as it is, with the command to finish
//     the job printed.
func (s *session) handleSignals(sigs <-chan os.Signal) {
	for {
		select {
		case <-s.sigDone:
			return
		case <-sigs:
		}
		s.mu.Lock()
		s.interrupts++
		n := s.interrupts
		run := s.run
		prompt := s.atPrompt
		s.mu.Unlock()

		switch {
		case run == nil:
			if n == 1 {
				if s.o.Kind == kindWatch || s.o.Kind == kindApprove {
					s.view.Printf("\nInterrupt received: stopping.\n") // the run is being read
				} else {
					s.view.Printf("\nInterrupt received: stopping before the run is created...\n")
				}
				s.prepCancel()
				continue
			}
			// The createRun call may be in flight; detaching now could
			// leave a run nobody knows about, so insist once more.
			if n >= 3 {
				s.view.Printf("\nDetaching.\n")
				s.cancel(errDetached)
			} else {
				s.view.Printf("\nStill finishing the request that creates the run; press Ctrl-C again to quit anyway.\n")
			}
		case s.detach:
			s.view.Printf("\nDetached from run %s; it goes on without this command.\n", run.Id)
			s.cancel(errDetached)
		case prompt != nil && n == 1:
			s.view.Printf("\nInterrupt received: discarding run %s so the workspace is not left blocked...\n", run.Id)
			prompt()
		case n == 1:
			s.view.Printf("\nInterrupt received: asking Tharsis to cancel run %s gracefully.\n"+
				"Press Ctrl-C again to force the cancel once the server allows it, a third time to detach.\n", run.Id)
			s.requestCancel(run.Id, false)
		case n == 2:
			s.forceOrExplain(run.Id)
		default:
			s.view.Printf("\nDetached from run %s; it goes on without this command.\n"+
				"Follow it: tharsis run watch %s\nForce the cancel: tharsis run cancel --force %s\n", run.Id, run.Id, run.Id)
			s.cancel(errDetached)
		}
	}
}

// requestCancel sends a cancel on its own context: the command context may
// be about to end, the request must still go out.
func (s *session) requestCancel(runID string, force bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 30*time.Second)
	defer cancel()
	r, err := s.eng.Cancel(ctx, runID, force)
	if err != nil {
		var early *runflow.ErrForceTooEarly
		if asForceTooEarly(err, &early) {
			s.view.Printf("%s. Press Ctrl-C again to detach.\n", early.Error())
			return
		}
		s.view.Printf("Could not cancel run %s: %v\n", runID, err)
		return
	}
	s.mu.Lock()
	s.cancelSent = true
	s.mu.Unlock()
	s.setRun(r)
}

// forceOrExplain forces the cancel when forceCancelAvailableAt has passed,
// else tells when it will be possible.
func (s *session) forceOrExplain(runID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 30*time.Second)
	defer cancel()
	r, err := s.eng.GetRun(ctx, runID)
	if err == nil && r.ForceCancelAvailableAt != nil {
		now := time.Now()
		if s.o.F.Now != nil {
			now = s.o.F.Now()
		}
		if wait := r.ForceCancelAvailableAt.Sub(now); wait > 0 {
			s.view.Printf("\nForce cancel is available in %s (at %s). Press Ctrl-C again to detach, or wait.\n",
				wait.Round(time.Second), r.ForceCancelAvailableAt.Local().Format(time.TimeOnly))
			return
		}
	}
	s.view.Printf("\nForcing the cancel of run %s: resources may be left inconsistent.\n", runID)
	s.requestCancel(runID, true)
}

func asForceTooEarly(err error, target **runflow.ErrForceTooEarly) bool {
	e, ok := err.(*runflow.ErrForceTooEarly)
	if ok {
		*target = e
	}
	return ok
}
