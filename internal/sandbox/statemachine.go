package sandbox

import (
	"fmt"
	"slices"
	"time"
)

// Status names of the real API (contract §2.5).
const (
	runPending            = "pending"
	runQueuing            = "queuing"
	runPlanQueued         = "plan_queued"
	runPlanning           = "planning"
	runPlanned            = "planned"
	runPlannedAndFinished = "planned_and_finished"
	runQueuingApply       = "queuing_apply"
	runApplyQueued        = "apply_queued"
	runApplying           = "applying"
	runApplied            = "applied"
	runErrored            = "errored"
	runCanceled           = "canceled"
	runDiscarded          = "discarded"

	nodeCreated  = "created"
	nodePending  = "pending"
	nodeQueued   = "queued"
	nodeRunning  = "running"
	nodeFinished = "finished"
	nodeErrored  = "errored"
	nodeCanceled = "canceled"
	nodeSkipped  = "skipped"

	jobQueued    = "queued"
	jobPending   = "pending"
	jobRunning   = "running"
	jobCanceling = "canceling"
	jobFinished  = "finished"
	jobFailed    = "failed"
	jobCanceled  = "canceled"
)

var runTransitions = map[string][]string{
	runPending:      {runQueuing, runCanceled},
	runQueuing:      {runPlanQueued, runCanceled},
	runPlanQueued:   {runPlanning, runErrored, runCanceled},
	runPlanning:     {runPlanned, runPlannedAndFinished, runErrored, runCanceled},
	runPlanned:      {runQueuingApply, runCanceled, runDiscarded},
	runQueuingApply: {runApplyQueued, runCanceled},
	runApplyQueued:  {runApplying, runErrored, runCanceled},
	runApplying:     {runApplied, runErrored, runCanceled},
	runErrored:      {runQueuing, runQueuingApply},
	runCanceled:     {runQueuing, runQueuingApply},
	runDiscarded:    {runPlanned},
}

var planTransitions = map[string][]string{
	nodeCreated:  {nodePending, nodeCanceled},
	nodePending:  {nodeQueued, nodeCanceled},
	nodeQueued:   {nodeRunning, nodeErrored, nodeCanceled},
	nodeRunning:  {nodeFinished, nodeErrored, nodeCanceled},
	nodeErrored:  {nodePending},
	nodeCanceled: {nodePending},
}

var applyTransitions = map[string][]string{
	nodeCreated:  {nodePending, nodeCanceled, nodeSkipped},
	nodePending:  {nodeQueued, nodeCanceled},
	nodeQueued:   {nodeRunning, nodeErrored, nodeCanceled},
	nodeRunning:  {nodeFinished, nodeErrored, nodeCanceled},
	nodeErrored:  {nodePending},
	nodeCanceled: {nodePending},
	nodeSkipped:  {nodeCreated},
}

var jobTransitions = map[string][]string{
	jobQueued:    {jobPending, jobCanceled},
	jobPending:   {jobRunning, jobCanceled},
	jobRunning:   {jobFinished, jobFailed, jobCanceled, jobCanceling},
	jobCanceling: {jobCanceled, jobFinished, jobFailed},
}

func checkTransition(kind string, table map[string][]string, from, to string) error {
	if !slices.Contains(table[from], to) {
		return fmt.Errorf("invalid %s status transition from %q to %q", kind, from, to)
	}
	return nil
}

func runIsComplete(status string) bool {
	switch status {
	case runApplied, runPlannedAndFinished, runErrored, runCanceled, runDiscarded:
		return true
	}
	return false
}

func nodeIsFinal(status string) bool {
	switch status {
	case nodeFinished, nodeErrored, nodeCanceled, nodeSkipped:
		return true
	}
	return false
}

func jobIsFinal(status string) bool {
	return status == jobFinished || status == jobFailed || status == jobCanceled
}

// setRunStatus moves the run and applies the side effects the real state
// machine attaches to run statuses.
func setRunStatus(r *Run, to string) error {
	if r.Status == to {
		return nil
	}
	if err := checkTransition("run", runTransitions, r.Status, to); err != nil {
		return err
	}
	r.Status = to
	switch to {
	case runPlannedAndFinished, runErrored, runCanceled, runDiscarded:
		// A run that ends before its apply started skips the apply.
		if r.Apply != nil && r.Apply.Status == nodeCreated {
			r.Apply.Status = nodeSkipped
		}
	case runQueuing:
		if r.Plan.Status == nodeCreated {
			r.Plan.Status = nodePending
		}
		unskipApply(r)
	case runPlanned:
		unskipApply(r)
	}
	return nil
}

func unskipApply(r *Run) {
	if r.Apply != nil && r.Apply.Status == nodeSkipped {
		r.Apply.Status = nodeCreated
	}
}

// setPlanStatus moves the plan node; the run status follows it.
func setPlanStatus(r *Run, to string) error {
	if err := checkTransition("plan", planTransitions, r.Plan.Status, to); err != nil {
		return err
	}
	r.Plan.Status = to
	switch to {
	case nodePending:
		return setRunStatus(r, runQueuing)
	case nodeQueued:
		return setRunStatus(r, runPlanQueued)
	case nodeRunning:
		return setRunStatus(r, runPlanning)
	case nodeErrored:
		return setRunStatus(r, runErrored)
	case nodeCanceled:
		return setRunStatus(r, runCanceled)
	case nodeFinished:
		if r.Apply == nil || !r.Plan.HasChanges {
			return setRunStatus(r, runPlannedAndFinished)
		}
		if r.AutoApply {
			r.Apply.Status = nodePending
			if err := setRunStatus(r, runPlanned); err != nil {
				return err
			}
			return setRunStatus(r, runQueuingApply)
		}
		return setRunStatus(r, runPlanned)
	}
	return nil
}

// setApplyStatus moves the apply node; the run status follows it.
func setApplyStatus(r *Run, to string) error {
	if r.Apply == nil {
		return fmt.Errorf("run does not have an apply node")
	}
	if err := checkTransition("apply", applyTransitions, r.Apply.Status, to); err != nil {
		return err
	}
	r.Apply.Status = to
	switch to {
	case nodePending:
		return setRunStatus(r, runQueuingApply)
	case nodeQueued:
		return setRunStatus(r, runApplyQueued)
	case nodeRunning:
		return setRunStatus(r, runApplying)
	case nodeFinished:
		return setRunStatus(r, runApplied)
	case nodeErrored:
		return setRunStatus(r, runErrored)
	case nodeCanceled:
		return setRunStatus(r, runCanceled)
	}
	return nil
}

// setJobStatus moves a job, recording when it entered the state.
func setJobStatus(j *Job, to string, now time.Time) error {
	if err := checkTransition("job", jobTransitions, j.Status, to); err != nil {
		return err
	}
	j.Status = to
	t := now
	switch to {
	case jobPending:
		j.Timestamps.PendingAt = &t
	case jobRunning:
		j.Timestamps.RunningAt = &t
	case jobFinished, jobFailed, jobCanceled:
		j.Timestamps.FinishedAt = &t
	}
	j.CancelRequested = to == jobCanceling
	return nil
}
