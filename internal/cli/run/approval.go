package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/runflow"
)

// approve decides what happens to a planned run. It returns true when the
// apply was started; false (with a nil error) when the run was left for
// approval elsewhere.
func (s *session) approve(run *runflow.Run) (bool, error) {
	o := s.o
	s.result.Outcome = "planned"
	approveCmd := fmt.Sprintf("tharsis run approve %s", run.Id)

	switch {
	case o.AutoApprove:
	case !o.Input:
		s.view.Printf("The run is planned and waits for approval. Approve it with:\n  %s\n", approveCmd)
		if o.DetailedExitcode {
			return false, &cmdutil.ExitError{Code: cmdutil.ExitChanges}
		}
		return false, nil
	default:
		answer, err := s.ask(run)
		switch {
		case errors.Is(err, io.EOF):
			return false, cmdutil.WithHint(
				fmt.Errorf("run %s is planned but there was no answer to the approval question (standard input is not a terminal and gave no line)", run.Id),
				fmt.Sprintf("pass --auto-approve to apply without asking, or --input=false to leave the run for approval (%s)", approveCmd))
		case err != nil && s.interrupted() && s.detach:
			// run watch: Ctrl-C detached from someone else's run; it keeps
			// waiting for approval.
			return false, s.contextError(err)
		case err != nil && s.interrupted():
			return false, s.discard(run, "interrupted at the approval prompt")
		case err != nil:
			return false, err
		}
		if answer != "yes" {
			if o.Kind == kindWatch {
				// Not our run: leave the decision to whoever started it.
				s.view.Printf("Not approved; run %s still waits for approval (%s).\n", run.Id, approveCmd)
				return false, nil
			}
			return false, s.discard(run, "approval declined")
		}
	}

	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 2*time.Minute)
	defer cancel()
	r, err := s.eng.Apply(ctx, run.Id, o.Comment)
	if err != nil {
		switch api.KindOf(err) {
		case api.KindTransient, api.KindRateLimited, api.KindServiceUnavailable, api.KindInternal, api.KindUnknown:
			// The run may still wait for approval, holding the workspace:
			// name it and how to finish it rather than leave it behind.
			err = cmdutil.WithHint(err, fmt.Sprintf("run %s may still wait for approval, holding the workspace: check it with `tharsis run get %s`, then `%s` or `tharsis run discard %s`",
				run.Id, run.Id, approveCmd, run.Id))
		}
		return false, err
	}
	s.setRun(r)
	return true, nil
}

// ask shows the approval question and reads one line: from the terminal, or
// from piped standard input.
func (s *session) ask(run *runflow.Run) (string, error) {
	streams := s.o.F.IO
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	s.mu.Lock()
	s.atPrompt = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.atPrompt = nil
		s.mu.Unlock()
	}()

	verb := "apply"
	if run.IsDestroy {
		verb = "destroy"
	}
	otherwise := "discards the run"
	if s.o.Kind == kindWatch {
		otherwise = "leaves the run waiting for approval"
	}
	s.view.Printf("\nDo you want to %s these changes on workspace %s?\n"+
		"  Only 'yes' will be accepted; anything else %s.\n\n  Enter a value: ", verb, run.Workspace.FullPath, otherwise)
	line, err := streams.ReadLine(ctx)
	if err != nil {
		if errors.Is(err, io.EOF) && strings.TrimSpace(line) == "" {
			if !streams.IsStdinTTY() {
				s.view.Printf("\n")
			}
			return "", io.EOF
		}
		return "", err
	}
	if !streams.IsStdinTTY() {
		s.view.Printf("%s\n", line) // echo what was read, so logs show the answer
	}
	return strings.TrimSpace(line), nil
}

// discard frees the workspace after a decline or an interrupt at the prompt.
func (s *session) discard(run *runflow.Run, why string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 30*time.Second)
	defer cancel()
	r, err := s.eng.Discard(ctx, run.Id)
	if err != nil {
		return fmt.Errorf("%s, but discarding run %s failed: %w", why, run.Id, err)
	}
	s.setRun(r)
	s.result.Outcome = "discarded"
	s.view.Printf("Apply canceled (%s): run %s was discarded, the workspace is free.\n", why, run.Id)
	return &cmdutil.ExitError{Code: cmdutil.ExitCanceled}
}
