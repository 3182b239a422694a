package sandbox

import (
	"context"
	"slices"
	"sync"
)

// The run engine. Every function here expects s.mu held; job goroutines
// (jobs.go) take the lock for each step.

// jobControl lets cancel requests reach a job goroutine.
type jobControl struct {
	ctx      context.Context
	cancel   context.CancelFunc // force cancel, second graceful cancel, Close
	graceful chan struct{}
	once     sync.Once
}

func (c *jobControl) requestGraceful() { c.once.Do(func() { close(c.graceful) }) }

func (s *Server) publishRun(r *Run, action string) {
	snap := r.clone()
	s.broker.publish(event{action: action, run: &snap})
}

func (s *Server) publishJob(j *Job, action string) {
	snap := *j
	s.broker.publish(event{action: action, job: &snap})
}

// touchRun records a change of r and publishes it.
func (s *Server) touchRun(r *Run) {
	now := s.now()
	touch(&r.Meta, now)
	r.Plan.UpdatedAt = now
	if r.Apply != nil {
		r.Apply.UpdatedAt = now
	}
	s.publishRun(r, "UPDATE")
}

func (s *Server) touchJob(j *Job) {
	touch(&j.Meta, s.now())
	s.publishJob(j, "UPDATE")
}

// insertRun stores a new run and moves it to queuing, then tries to admit it.
func (s *Server) insertRun(r *Run) error {
	s.st.Runs[r.ID] = r
	s.publishRun(r, "INSERT")
	if err := setRunStatus(r, runQueuing); err != nil {
		return err
	}
	s.touchRun(r)
	s.admit(r.WorkspaceID)
	return nil
}

// workspaceAvailableFor reports whether run r may take the workspace: it is
// not locked and no other non-speculative run holds it.
func workspaceAvailableFor(w *Workspace, r *Run) bool {
	return !w.Locked && (w.CurrentApplyRunID == "" || w.CurrentApplyRunID == r.ID)
}

// admit moves the workspace's queuing runs on, oldest first: speculative
// plans always, other plans and applies when the workspace is free.
func (s *Server) admit(wsID string) {
	w := s.st.Workspaces[wsID]
	if w == nil {
		return
	}
	for _, r := range s.st.workspaceRuns(wsID) {
		if r.Status != runQueuing && r.Status != runQueuingApply {
			continue
		}
		if r.Plan.Status == nodePending && (r.speculative() || workspaceAvailableFor(w, r)) {
			if !r.speculative() {
				w.CurrentApplyRunID = r.ID
			}
			if err := setPlanStatus(r, nodeQueued); err != nil {
				s.log.Error("admit plan", "run", r.ID, "err", err)
				continue
			}
			s.touchRun(r)
			s.createJob(r, "plan")
			continue
		}
		if r.Apply != nil && r.Apply.Status == nodePending && r.Plan.Status == nodeFinished && r.Plan.HasChanges &&
			workspaceAvailableFor(w, r) {
			w.CurrentApplyRunID = r.ID
			if err := setApplyStatus(r, nodeQueued); err != nil {
				s.log.Error("admit apply", "run", r.ID, "err", err)
				continue
			}
			s.touchRun(r)
			s.createJob(r, "apply")
		}
	}
}

// createJob adds a queued job to the run's current node and offers it to
// the runners.
func (s *Server) createJob(r *Run, typ string) {
	w := s.st.Workspaces[r.WorkspaceID]
	tags, _, _ := s.st.effectiveRunnerTags(w.FullPath)
	now := s.now()
	j := &Job{
		Meta: s.st.newMeta(now), RunID: r.ID, WorkspaceID: r.WorkspaceID, Type: typ, Status: jobQueued,
		Tags: tags, MaxJobDuration: w.MaxJobDuration, Log: newLogBuffer(s.Knobs().MaxLogBytes),
	}
	j.Timestamps.QueuedAt = &now
	s.st.Jobs[j.ID] = j
	if typ == "plan" {
		r.Plan.JobIDs = append(slices.Clone(r.Plan.JobIDs), j.ID)
	} else {
		r.Apply.JobIDs = append(slices.Clone(r.Apply.JobIDs), j.ID)
	}
	s.publishJob(j, "INSERT")
	s.touchRun(r)
	s.dispatch()
}

// afterRunChange releases the workspace when the run no longer needs it,
// admits waiting runs and discards stale planned runs after an apply.
func (s *Server) afterRunChange(r *Run) {
	w := s.st.Workspaces[r.WorkspaceID]
	if w == nil {
		return
	}
	if !r.speculative() && (runIsComplete(r.Status) || (r.Status == runPlanned && !r.AutoApply)) &&
		w.CurrentApplyRunID == r.ID {
		w.CurrentApplyRunID = ""
		touch(&w.Meta, s.now())
	}
	if r.Status == runApplied {
		for _, other := range s.st.workspaceRuns(w.ID) {
			if other.ID != r.ID && other.Status == runPlanned {
				if err := setRunStatus(other, runDiscarded); err == nil {
					s.touchRun(other)
				}
			}
		}
	}
	s.admit(w.ID)
}

// latestJob returns the newest job of a node, or nil.
func (s *Server) latestJob(ids []string) *Job {
	if len(ids) == 0 {
		return nil
	}
	return s.st.Jobs[ids[len(ids)-1]]
}

// cancelRun cancels a run gracefully or by force (contract §2.4).
func (s *Server) cancelRun(c *caller, r *Run, force bool) error {
	switch r.Status {
	case runPlannedAndFinished:
		return errInvalid("run has been planned and finished, so it cannot be canceled")
	case runApplied:
		return errInvalid("run has been applied, so it cannot be canceled")
	case runErrored:
		return errInvalid("run has errored, so it cannot be canceled")
	case runCanceled:
		return errInvalid("run has already been canceled")
	case runDiscarded:
		return errInvalid("run has been discarded, so it cannot be canceled")
	}
	now := s.now()
	if force {
		if r.ForceCancelAvailableAt == nil {
			return errInvalid("run has not already received a graceful request to cancel")
		}
		if now.Before(*r.ForceCancelAvailableAt) {
			return errInvalid("insufficient time has elapsed since graceful cancel request; force cancel will be available at %s", *r.ForceCancelAvailableAt)
		}
		r.ForceCanceled = true
		by := s.subject(c)
		r.ForceCanceledBy = &by
	} else if r.ForceCancelAvailableAt == nil {
		at := now.Add(s.Knobs().ForceCancelDelay)
		r.ForceCancelAvailableAt = &at
	}
	var err error
	switch {
	case !nodeIsFinal(r.Plan.Status):
		if s.cancelJob(s.latestJob(r.Plan.JobIDs), force) {
			err = setPlanStatus(r, nodeCanceled)
		}
	case r.Apply != nil && !nodeIsFinal(r.Apply.Status):
		if s.cancelJob(s.latestJob(r.Apply.JobIDs), force) {
			err = setApplyStatus(r, nodeCanceled)
			if err == nil && force {
				// A force-canceled apply may have left resources half made.
				if w := s.st.Workspaces[r.WorkspaceID]; w != nil {
					w.DirtyState = true
				}
			}
		}
	}
	if err != nil {
		return err
	}
	s.touchRun(r)
	s.afterRunChange(r)
	return nil
}

// cancelJob cancels a node's job and reports whether the node can be
// canceled now: a running job is only asked to stop (canceling) on a
// graceful cancel, and the node follows when the job confirms.
func (s *Server) cancelJob(j *Job, force bool) bool {
	if j == nil || jobIsFinal(j.Status) {
		return true
	}
	now := s.now()
	ctl := s.ctl[j.ID]
	switch {
	case force:
		_ = setJobStatus(j, jobCanceled, now)
		j.ForceCanceled = true
	case j.Status == jobRunning:
		_ = setJobStatus(j, jobCanceling, now)
		s.touchJob(j)
		if ctl != nil {
			ctl.requestGraceful()
		}
		return false
	default: // queued, pending, or a second graceful cancel while canceling
		_ = setJobStatus(j, jobCanceled, now)
	}
	j.Log.complete()
	s.touchJob(j)
	if ctl != nil {
		ctl.cancel()
	}
	return true
}

// applyRun approves the apply of a planned run.
func (s *Server) applyRun(c *caller, r *Run, comment *string) error {
	if r.Apply == nil {
		return errConflict("run does not have an apply node")
	}
	if r.Apply.Status != nodeCreated {
		return errConflict("the apply phase has already been started for this run")
	}
	if r.Status != runPlanned {
		return errConflict("run must be in planned state to start apply")
	}
	by := s.subject(c)
	r.Apply.TriggeredBy = &by
	if comment != nil {
		r.Apply.Comment = *comment
	}
	if err := setApplyStatus(r, nodePending); err != nil {
		return err
	}
	s.touchRun(r)
	s.admit(r.WorkspaceID)
	return nil
}

func (s *Server) discardRun(r *Run) error {
	if r.Status != runPlanned {
		return errConflict("run can only be discarded when it is in the planned state")
	}
	if err := setRunStatus(r, runDiscarded); err != nil {
		return err
	}
	s.touchRun(r)
	s.afterRunChange(r)
	return nil
}

// runnerMatches reports whether runner rn could take job j: enabled, in
// scope of the job's workspace, and with matching tags.
func (s *Server) runnerMatches(rn *Runner, j *Job) bool {
	if rn.Disabled {
		return false
	}
	if !rn.shared() {
		w := s.st.Workspaces[j.WorkspaceID]
		g := s.st.Groups[rn.GroupID]
		if w == nil || g == nil || !isWithin(w.FullPath, g.FullPath) {
			return false
		}
	}
	if len(j.Tags) == 0 {
		return rn.RunUntaggedJobs
	}
	for _, t := range j.Tags {
		if !slices.Contains(rn.Tags, t) {
			return false
		}
	}
	return true
}

// runnerUsable reports whether the runner's agent can work: with
// RequireRunnerServiceAccount a group runner needs an assigned service
// account to log in with.
func (s *Server) runnerUsable(rn *Runner) bool {
	if rn.shared() || !s.Knobs().RequireRunnerServiceAccount {
		return true
	}
	return len(rn.ServiceAccountIDs) > 0
}

// runnerAvailability is Job.runnerAvailabilityStatus.
func (s *Server) runnerAvailability(j *Job) string {
	if j.RunnerID != "" {
		return "ASSIGNED"
	}
	status := "NONE"
	for _, rn := range s.st.Runners {
		if s.runnerMatches(rn, j) {
			if s.runnerUsable(rn) {
				return "AVAILABLE"
			}
			status = "INACTIVE"
		}
	}
	return status
}

// dispatch hands queued jobs to usable runners, oldest job first; group
// runners are preferred over shared ones.
func (s *Server) dispatch() {
	if s.ctx.Err() != nil {
		return
	}
	runners := values(s.st.Runners, func(r *Runner) int64 { return r.Seq })
	slices.SortStableFunc(runners, func(a, b *Runner) int {
		switch {
		case !a.shared() && b.shared():
			return -1
		case a.shared() && !b.shared():
			return 1
		}
		return 0
	})
	for _, j := range values(s.st.Jobs, func(j *Job) int64 { return j.Seq }) {
		if j.Status != jobQueued {
			continue
		}
		for _, rn := range runners {
			if !s.runnerMatches(rn, j) || !s.runnerUsable(rn) {
				continue
			}
			s.claim(j, rn)
			break
		}
	}
}

// claim assigns job j to runner rn (job pending) and starts it.
func (s *Server) claim(j *Job, rn *Runner) {
	now := s.now()
	if err := setJobStatus(j, jobPending, now); err != nil {
		return
	}
	j.RunnerID = rn.ID
	p := s.st.runnerPath(rn)
	j.RunnerPath = &p
	sessions := slices.Clone(rn.Sessions)
	if len(sessions) == 0 {
		sessions = append(sessions, RunnerSession{ID: newID(), CreatedAt: now, Internal: !rn.shared()})
	}
	sessions[len(sessions)-1].LastContacted = now
	rn.Sessions = sessions
	s.touchJob(j)
	ctx, cancel := context.WithCancel(s.ctx)
	ctl := &jobControl{ctx: ctx, cancel: cancel, graceful: make(chan struct{})}
	s.ctl[j.ID] = ctl
	id := j.ID
	if !s.goTrack(func() { s.runJob(id, ctl) }) {
		delete(s.ctl, id)
		cancel()
	}
}

// finishRunning is used by jobs to record the end of their work.
type jobOutcome int

const (
	outcomeFinished jobOutcome = iota
	outcomeFailed
	outcomeCanceled
)
