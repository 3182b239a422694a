package runflow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// Apply approves a planned run.
func (e *Engine) Apply(ctx context.Context, runID, comment string) (*Run, error) {
	in := gql.ApplyRunInput{RunId: runID}
	if comment != "" {
		in.Comment = &comment
	}
	resp, err := gql.ApplyRun(ctx, e.API.GraphQL(), in)
	if err != nil {
		return nil, wrapErr("apply run", err)
	}
	if err := api.ProblemsOf("apply run", resp.ApplyRun.Problems); err != nil {
		return nil, explainApplyProblem(err)
	}
	if resp.ApplyRun.Run == nil {
		return nil, noRun("apply run")
	}
	return &resp.ApplyRun.Run.RunFields, nil
}

// explainApplyProblem turns the server's conflicts into plain words.
func explainApplyProblem(err error) error {
	ae, ok := err.(*api.Error)
	if !ok || ae.Kind != api.KindConflict {
		return err
	}
	cp := *ae
	switch {
	case strings.Contains(ae.Message, "already been started"):
		cp.Message = "there is nothing to apply: the apply has already started, or the plan had no changes"
	case strings.Contains(ae.Message, "does not have an apply node"):
		cp.Message = "this run is a speculative plan and cannot be applied"
		cp.Hint = "create an applicable run with `tharsis run apply`"
	case strings.Contains(ae.Message, "planned state"):
		cp.Message = "the run is not waiting for approval (it must be planned to be applied)"
		cp.Hint = "check its status with `tharsis run get <run>`"
	}
	return &cp
}

// Discard discards a planned run so the workspace is free again.
func (e *Engine) Discard(ctx context.Context, runID string) (*Run, error) {
	resp, err := gql.DiscardRun(ctx, e.API.GraphQL(), gql.DiscardRunInput{RunId: runID})
	if err != nil {
		return nil, wrapErr("discard run", err)
	}
	if err := api.ProblemsOf("discard run", resp.DiscardRun.Problems); err != nil {
		return nil, err
	}
	if resp.DiscardRun.Run == nil {
		return nil, noRun("discard run")
	}
	return &resp.DiscardRun.Run.RunFields, nil
}

// Cancel asks the server to cancel a run, gracefully or by force.
func (e *Engine) Cancel(ctx context.Context, runID string, force bool) (*Run, error) {
	in := gql.CancelRunInput{RunId: runID}
	if force {
		in.Force = &force
	}
	resp, err := gql.CancelRun(ctx, e.API.GraphQL(), in)
	if err != nil {
		return nil, wrapErr("cancel run", err)
	}
	if err := api.ProblemsOf("cancel run", resp.CancelRun.Problems); err != nil {
		return nil, explainCancelProblem(err)
	}
	if resp.CancelRun.Run == nil {
		return nil, noRun("cancel run")
	}
	run := &resp.CancelRun.Run.RunFields
	e.emit(Event{Type: EventCancelRequest, RunID: run.Id, Force: force, Status: string(run.Status), ForceAvailableAt: run.ForceCancelAvailableAt})
	return run, nil
}

// ErrForceTooEarly is returned by Cancel with force before the server allows it.
type ErrForceTooEarly struct{ At *time.Time }

func (e *ErrForceTooEarly) Error() string {
	if e.At == nil {
		return "force cancel is not available yet: a graceful cancel must be requested first"
	}
	return fmt.Sprintf("force cancel is not available until %s", e.At.Local().Format(time.TimeOnly))
}

func explainCancelProblem(err error) error {
	ae, ok := err.(*api.Error)
	if !ok {
		return err
	}
	cp := *ae
	m := ae.Message
	switch {
	case strings.Contains(m, "has not already received a graceful request"):
		return &ErrForceTooEarly{}
	case strings.Contains(m, "force cancel will be available at"):
		i := strings.LastIndex(m, "available at ")
		if t, perr := time.Parse(time.RFC3339, strings.TrimSpace(m[i+len("available at "):])); perr == nil {
			return &ErrForceTooEarly{At: &t}
		}
		return &ErrForceTooEarly{}
	case strings.Contains(m, "already been canceled"):
		cp.Message = "the run is already canceled"
	case strings.Contains(m, "applied"), strings.Contains(m, "planned_and_finished"),
		strings.Contains(m, "errored"), strings.Contains(m, "discarded"), strings.Contains(m, "cannot be canceled"):
		cp.Message = "the run has already finished and cannot be canceled (" + m + ")"
	}
	return &cp
}

func noRun(op string) error {
	return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no run"}
}
