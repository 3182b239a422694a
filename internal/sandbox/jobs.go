package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tharsis-cli/tharsis/internal/sandbox/executor"
)

// jobInput is what a job needs, copied under the lock when it starts.
type jobInput struct {
	jobGID      string
	typ         string
	tfVersion   string
	source      string // what the configuration came from, for the log
	files       map[string][]byte
	filesErr    string
	prior       executor.State
	vars        map[string]string
	destroy     bool
	refreshOnly bool
	refresh     bool
	targets     []string
	plan        *executor.Plan
}

// jobResult is the outcome of the simulated Terraform command.
type jobResult struct {
	chunks  []string
	outcome jobOutcome
	errMsg  string
	plan    *executor.Plan
	state   *executor.State
}

// runJob drives one claimed job: running, log output over JobDuration, then
// finished, failed or canceled. It stops early on a force cancel or Close.
func (s *Server) runJob(id string, ctl *jobControl) {
	defer func() {
		s.mu.Lock()
		if s.ctl[id] == ctl {
			delete(s.ctl, id)
		}
		s.mu.Unlock()
		ctl.cancel()
	}()
	knobs := s.Knobs()

	s.mu.Lock()
	j := s.st.Jobs[id]
	if j == nil || j.Status != jobPending || ctl.ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	r := s.st.Runs[j.RunID]
	if err := setJobStatus(j, jobRunning, s.now()); err != nil {
		s.mu.Unlock()
		return
	}
	var err error
	if j.Type == "plan" {
		err = setPlanStatus(r, nodeRunning)
	} else {
		err = setApplyStatus(r, nodeRunning)
	}
	if err != nil {
		s.log.Error("job start", "job", id, "err", err)
	}
	s.touchJob(j)
	s.touchRun(r)
	in := s.jobInput(j, r)
	s.mu.Unlock()

	res := execute(in, knobs)
	switch s.writeJobLog(ctl, id, res.chunks, knobs.JobDuration) {
	case logStopped:
		return
	case logInterrupted:
		if s.Knobs().IgnoreGracefulCancel {
			// Like a Terraform that cannot be interrupted: stay canceling
			// until a force cancel (or a second cancel) stops the job.
			<-ctl.ctx.Done()
			return
		}
		s.appendLog(id, "\nInterrupt received.\nPlease wait for Terraform to exit or data loss may occur.\nGracefully shutting down...\n\nStopping operation...\n\nOperation cancelled.\n")
		res = jobResult{outcome: outcomeCanceled}
	}
	s.finishJob(id, res)
}

func (s *Server) jobInput(j *Job, r *Run) jobInput {
	in := jobInput{
		jobGID: toGID(gidJob, j.ID), typ: j.Type, tfVersion: r.TerraformVersion,
		destroy: r.IsDestroy, refreshOnly: r.RefreshOnly, refresh: r.Refresh,
		targets: r.TargetAddresses, plan: r.PlanResult, vars: map[string]string{},
	}
	for _, v := range r.Variables {
		if v.Category == "terraform" {
			in.vars[v.Key] = v.Value
		}
	}
	if w := s.st.Workspaces[r.WorkspaceID]; w != nil {
		if sv := s.st.StateVersions[w.CurrentStateVersionID]; sv != nil {
			in.prior = sv.State
		}
	}
	switch {
	case r.ModuleSource != nil:
		ver := ""
		if r.ModuleVersion != nil {
			ver = *r.ModuleVersion
		}
		in.source = fmt.Sprintf("module %s %s", *r.ModuleSource, ver)
		files, ok := s.mods.files(*r.ModuleSource, ver)
		if !ok {
			in.filesErr = fmt.Sprintf("module %s version %s is no longer available", *r.ModuleSource, ver)
		}
		in.files = files
	default:
		cv := s.st.ConfigVersions[r.ConfigurationVersionID]
		in.source = "configuration version " + toGID(gidConfigVersion, r.ConfigurationVersionID)
		switch {
		case cv == nil:
			in.filesErr = "configuration version not found"
		case cv.Status != "uploaded":
			in.filesErr = "configuration version has not been uploaded"
		default:
			files, err := executor.ReadSlug(bytes.NewReader(cv.Data))
			if err != nil {
				in.filesErr = "failed to read the configuration version: " + err.Error()
			}
			in.files = files
		}
	}
	return in
}

const (
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiReset = "\x1b[0m"
)

// execute runs the simulated Terraform command and lays out the job log.
func execute(in jobInput, k Knobs) jobResult {
	var head strings.Builder
	fmt.Fprintf(&head, "Job executor version sandbox\n")
	fmt.Fprintf(&head, "Starting job %s (%s)\n", in.jobGID, in.typ)
	fmt.Fprintf(&head, "Using %s\n", in.source)
	fmt.Fprintf(&head, "Terraform v%s (simulated by tharsis-sandbox)\n\n", in.tfVersion)
	res := jobResult{chunks: splitLines(head.String())}
	res.chunks = append(res.chunks, filler(k.LogVolumeBytes)...)

	fail := func(msg string, log []byte) jobResult {
		if len(log) == 0 {
			log = []byte(ansiRed + ansiBold + "Error: " + ansiReset + ansiBold + msg + ansiReset + "\n")
		}
		res.chunks = append(res.chunks, splitLines(string(log))...)
		res.outcome, res.errMsg = outcomeFailed, msg
		return res
	}
	if in.typ == "plan" {
		if in.filesErr != "" {
			return fail(in.filesErr, nil)
		}
		if k.FailPlan {
			return fail("simulated plan failure (FailPlan knob)", nil)
		}
		p, err := executor.MakePlan(executor.PlanRequest{
			Files: in.files, Prior: in.prior, Variables: in.vars, Destroy: in.destroy,
			RefreshOnly: in.refreshOnly, Refresh: in.refresh, Targets: in.targets, Color: true,
		})
		if err != nil {
			if pe, ok := err.(*executor.PlanError); ok {
				return fail(pe.Msg, pe.Log)
			}
			return fail(err.Error(), nil)
		}
		res.chunks = append(res.chunks, splitLines(string(p.Log))...)
		res.plan = p
		return res
	}
	if in.plan == nil {
		return fail("the run has no plan to apply", nil)
	}
	if k.FailApply {
		return fail("simulated apply failure (FailApply knob)", nil)
	}
	st, log := executor.Apply(in.plan, true)
	res.chunks = append(res.chunks, splitLines(string(log))...)
	res.state = &st
	return res
}

// splitLines cuts s after each newline, keeping the newlines.
func splitLines(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// filler returns about n bytes of log lines with multi-byte characters.
func filler(n int) []string {
	var out []string
	for i, total := 0, 0; total < n; i++ {
		l := fmt.Sprintf("sandbox filler %06d: ünïcødé ✓ 日本語 ✓ emoji 🚀 — log volume knob\n", i)
		out = append(out, l)
		total += len(l)
	}
	return out
}

type logResult int

const (
	logDone logResult = iota
	logInterrupted
	logStopped
)

// writeJobLog writes chunks to the job's log spread over d, returning early
// when a graceful cancel arrives (interrupted) or the job is stopped.
func (s *Server) writeJobLog(ctl *jobControl, id string, chunks []string, d time.Duration) logResult {
	start := time.Now()
	n := len(chunks)
	wait := func(until time.Time) logResult {
		delay := time.Until(until)
		if delay <= 0 {
			select {
			case <-ctl.ctx.Done():
				return logStopped
			case <-ctl.graceful:
				return logInterrupted
			default:
				return logDone
			}
		}
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-ctl.ctx.Done():
			return logStopped
		case <-ctl.graceful:
			return logInterrupted
		case <-t.C:
			return logDone
		}
	}
	for i, c := range chunks {
		if r := wait(start.Add(d * time.Duration(i) / time.Duration(max(n, 1)))); r != logDone {
			return r
		}
		if !s.appendLog(id, c) {
			return logStopped
		}
	}
	return wait(start.Add(d))
}

// appendLog writes to a running job's log; false when the job has stopped.
func (s *Server) appendLog(id, text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.st.Jobs[id]
	if j == nil || (j.Status != jobRunning && j.Status != jobCanceling) {
		return false
	}
	j.Log.write([]byte(text), s.now())
	return true
}

// finishJob records the end of a job and moves its node and run on.
func (s *Server) finishJob(id string, res jobResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.st.Jobs[id]
	if j == nil || (j.Status != jobRunning && j.Status != jobCanceling) {
		return
	}
	r := s.st.Runs[j.RunID]
	now := s.now()
	isPlan := j.Type == "plan"
	var err error
	switch res.outcome {
	case outcomeCanceled:
		_ = setJobStatus(j, jobCanceled, now)
		if isPlan {
			err = setPlanStatus(r, nodeCanceled)
		} else {
			err = setApplyStatus(r, nodeCanceled)
		}
	case outcomeFailed:
		_ = setJobStatus(j, jobFailed, now)
		msg := res.errMsg
		if isPlan {
			r.Plan.ErrorMessage = &msg
			err = setPlanStatus(r, nodeErrored)
		} else {
			r.Apply.ErrorMessage = &msg
			err = setApplyStatus(r, nodeErrored)
		}
	default:
		_ = setJobStatus(j, jobFinished, now)
		if isPlan {
			p := res.plan
			r.PlanResult = p
			r.Plan.HasChanges = p.HasChanges
			r.Plan.Summary = PlanSummary{
				Add: int32(p.Summary.Add), Change: int32(p.Summary.Change), Destroy: int32(p.Summary.Destroy),
				Import: int32(p.Summary.Import), Drift: int32(p.Summary.Drift), OutputAdd: int32(p.Summary.OutputAdd),
				OutputChange: int32(p.Summary.OutputChange), OutputDestroy: int32(p.Summary.OutputDestroy),
			}
			if b, jerr := json.Marshal(p.Changes); jerr == nil {
				r.Plan.DiffSize = int32(len(b))
			}
			err = setPlanStatus(r, nodeFinished)
		} else {
			s.recordState(r, *res.state)
			err = setApplyStatus(r, nodeFinished)
		}
	}
	if err != nil {
		s.log.Error("job finish", "job", id, "err", err)
	}
	j.Log.complete()
	s.touchJob(j)
	s.touchRun(r)
	s.afterRunChange(r)
}

// recordState stores the state an apply produced as the workspace's current
// state version.
func (s *Server) recordState(r *Run, st executor.State) {
	w := s.st.Workspaces[r.WorkspaceID]
	if w == nil {
		return
	}
	sv := &StateVersion{Meta: s.st.newMeta(s.now()), WorkspaceID: w.ID, RunID: r.ID, CreatedBy: r.CreatedBy, State: st}
	for _, o := range st.Outputs {
		sv.Outputs = append(sv.Outputs, StateOutput{
			ID: newID(), Name: o.Name, Value: string(o.Value), Type: string(o.Type), Sensitive: o.Sensitive,
		})
	}
	s.st.StateVersions[sv.ID] = sv
	r.StateVersionID = sv.ID
	w.CurrentStateVersionID = sv.ID
	w.DirtyState = false
	w.Destroyed = r.IsDestroy && (len(r.TargetAddresses) == 0 || len(st.Resources) == 0)
	touch(&w.Meta, s.now())
}
