package runflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// explainQueue finds out why a run is still waiting and reports it once.
func (f *follower) explainQueue(ctx context.Context, run *Run) {
	msg, hint := f.queueReason(ctx, run)
	if msg == "" {
		msg = fmt.Sprintf("the run is still %s", run.Status)
	}
	f.lastQueueMsg = msg
	f.e.emit(Event{Type: EventQueued, RunID: run.Id, WorkspacePath: f.wsPath, Status: string(run.Status), Message: msg, Hint: hint})
}

func (f *follower) queueReason(ctx context.Context, run *Run) (msg, hint string) {
	switch run.Status {
	case gql.RunStatusPending, gql.RunStatusQueuing, gql.RunStatusQueuingApply:
		ws, err := f.e.GetWorkspace(ctx, f.wsID)
		if err != nil {
			return "", ""
		}
		if ws.Locked {
			return fmt.Sprintf("workspace %s is locked", ws.FullPath),
				fmt.Sprintf("unlock it with `tharsis workspace unlock %s` once whoever locked it is done", ws.FullPath)
		}
		if cur := ws.CurrentApplyRun; cur != nil && cur.Id != run.Id {
			return fmt.Sprintf("waiting for run %s (%s), which holds workspace %s", cur.Id, cur.Status, ws.FullPath),
				fmt.Sprintf("follow it with `tharsis run watch %s`", cur.Id)
		}
		return fmt.Sprintf("waiting for workspace %s to admit the run", ws.FullPath), ""
	case gql.RunStatusPlanQueued, gql.RunStatusApplyQueued:
		job := currentJob(run)
		if job == nil {
			return "waiting for the job to be created", ""
		}
		tags := "untagged"
		if len(job.Tags) > 0 {
			tags = "tags " + strings.Join(job.Tags, ", ")
		}
		switch job.RunnerAvailabilityStatus {
		case gql.RunnerAvailabilityStatusNone:
			return fmt.Sprintf("no runner agent can take job %s (%s)", job.Id, tags),
				"a runner agent must match the workspace's runner tags, be enabled and have a service account assigned: check `tharsis runner-agent list --group <group> --include-inherited`"
		case gql.RunnerAvailabilityStatusInactive:
			return fmt.Sprintf("the runner agents for job %s (%s) are not running", job.Id, tags),
				"start a runner agent, or ask your Tharsis administrator"
		default:
			return fmt.Sprintf("job %s is waiting for a runner agent to pick it up (%s)", job.Id, tags),
				"if it never starts, the runner agent may have no service account assigned: `tharsis runner-agent get <runner-agent>`"
		}
	}
	return "", ""
}

func currentJob(r *Run) *gql.JobFields {
	if r.Apply != nil && r.Apply.CurrentJob != nil && (r.Status == gql.RunStatusApplyQueued || r.Status == gql.RunStatusApplying) {
		return &r.Apply.CurrentJob.JobFields
	}
	if r.Plan.CurrentJob != nil {
		return &r.Plan.CurrentJob.JobFields
	}
	return nil
}
