package runflow

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// Terminal reports whether a run status is final.
func Terminal(s gql.RunStatus) bool {
	switch s {
	case gql.RunStatusApplied, gql.RunStatusPlannedAndFinished, gql.RunStatusErrored,
		gql.RunStatusCanceled, gql.RunStatusDiscarded:
		return true
	}
	return false
}

// Queued reports whether a run status means it waits for the workspace or a runner.
func Queued(s gql.RunStatus) bool {
	switch s {
	case gql.RunStatusPending, gql.RunStatusQueuing, gql.RunStatusPlanQueued,
		gql.RunStatusQueuingApply, gql.RunStatusApplyQueued:
		return true
	}
	return false
}

// StopFunc decides when Follow returns; it sees every run snapshot.
type StopFunc func(r *Run) bool

// UntilPlanDone stops once the plan phase is over: the run is planned (waiting
// for approval), queued for apply (auto apply) or final.
func UntilPlanDone(r *Run) bool {
	switch r.Status {
	case gql.RunStatusPlanned, gql.RunStatusQueuingApply, gql.RunStatusApplyQueued,
		gql.RunStatusApplying:
		return true
	}
	return Terminal(r.Status)
}

// UntilFinal stops on a final status only.
func UntilFinal(r *Run) bool { return Terminal(r.Status) }

// Follow watches a run until stop returns true, reporting status changes,
// queue reasons and the logs of every job the run starts. Logs of a job that
// has begun are always streamed to their end before Follow returns, so no
// byte is lost when the status moves on first.
//
// Cancelling ctx stops following (the run itself is left as it is).
func (e *Engine) Follow(ctx context.Context, runID string, stop StopFunc) (*Run, error) {
	run, err := e.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	f := &follower{e: e, runID: run.Id, wsID: run.Workspace.Id, wsPath: run.Workspace.FullPath}
	return f.loop(ctx, run, stop)
}

type follower struct {
	e      *Engine
	runID  string
	wsID   string
	wsPath string

	subscribed atomic.Bool
	wake       chan *Run
	// resync asks the loop to read the run again and re-time its wait: the
	// subscription has just started (events before it were missed) or
	// ended (polling must take over at once).
	resync chan struct{}

	lastStatus, lastPlan, lastApply string
	queuedSince                     time.Time
	lastQueueMsg                    string

	logDone chan logResult
	active  int
}

type logResult struct {
	jobID string
	err   error
}

func (f *follower) loop(ctx context.Context, run *Run, stop StopFunc) (*Run, error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	f.wake = make(chan *Run, 1)
	f.resync = make(chan struct{}, 1)
	f.logDone = make(chan logResult, 4)

	if !f.e.DisableSubscriptions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.subscribeRuns(ctx)
		}()
	}

	delay := f.e.pollMin()
	var logErr error
	for {
		f.observe(run, f.e.pendingLog(run))
		f.startNextLog(ctx, run, &wg)
		if f.active == 0 && (stop(run) || Terminal(run.Status)) {
			if logErr != nil {
				return run, logErr
			}
			return run, nil
		}

		wait := delay
		if f.subscribed.Load() {
			wait = f.e.pollSubscribed()
		}
		if hint := f.queueHintDue(); hint > 0 && hint < wait {
			wait = hint
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return run, ctx.Err()
		case r := <-f.wake:
			timer.Stop()
			run = newer(run, r)
			delay = f.e.pollMin()
			continue
		case res := <-f.logDone:
			timer.Stop()
			f.active--
			if res.err != nil && logErr == nil && ctx.Err() == nil {
				logErr = res.err
			}
			// The job ended: read the run so its final status is current.
		case <-f.resync:
			timer.Stop()
		case <-timer.C:
			delay = min(delay*3/2, f.e.pollMax())
		}
		if f.queueHintDue() == 0 && Queued(run.Status) {
			f.explainQueue(ctx, run)
		}
		r, err := f.e.GetRun(ctx, f.runID)
		if err != nil {
			if ctx.Err() != nil {
				return run, ctx.Err()
			}
			// A transient read failure is not fatal while following; the
			// API client has already retried, so back off and carry on.
			if isTransient(err) {
				delay = f.e.pollMax()
				continue
			}
			return run, err
		}
		run = newer(run, r)
	}
}

// newer picks the more recent of two snapshots of the same run, so a late
// subscription event cannot roll the status back.
func newer(a, b *Run) *Run {
	if b == nil {
		return a
	}
	if a == nil || !b.Metadata.UpdatedAt.Before(a.Metadata.UpdatedAt) {
		return b
	}
	return a
}

// startNextLog starts streaming the log of the run's next job whose log has
// not been delivered, unless a stream is already active: one log at a time,
// plan before apply, so that logs never interleave even when following
// starts after both jobs ran.
func (f *follower) startNextLog(ctx context.Context, run *Run, wg *sync.WaitGroup) {
	if f.active > 0 {
		return
	}
	for _, j := range jobsOf(run) {
		if j.queued {
			// Nothing to read until a runner takes the job, and the run's
			// own updates tell when it does: streaming now would only add
			// a subscription, or a log poll per run poll, while it waits.
			return
		}
		if f.e.delivered(j.id) || !f.e.once(&f.e.streamed, j.id) {
			continue
		}
		f.active++
		wg.Add(1)
		go func(j jobRef) {
			defer wg.Done()
			err := f.e.streamLogs(ctx, j.id, j.phase, run.Id)
			f.e.once(&f.e.done, j.id)
			select {
			case f.logDone <- logResult{jobID: j.id, err: err}:
			case <-ctx.Done():
			}
		}(j)
		return
	}
}

// pendingLog returns the phase of the run's first job whose log has not
// been delivered yet ("" when none).
func (e *Engine) pendingLog(r *Run) string {
	for _, j := range jobsOf(r) {
		if !e.delivered(j.id) {
			return j.phase
		}
	}
	return ""
}

func (e *Engine) delivered(jobID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.done[jobID]
}

// pastPhase reports whether a run status comes after the given phase's job.
func pastPhase(s gql.RunStatus, phase string) bool {
	switch phase {
	case "plan":
		switch s {
		case gql.RunStatusPending, gql.RunStatusQueuing, gql.RunStatusPlanQueued, gql.RunStatusPlanning:
			return false
		}
		return true
	case "apply":
		switch s {
		case gql.RunStatusQueuingApply, gql.RunStatusApplyQueued, gql.RunStatusApplying:
			return false
		}
		return true
	}
	return false
}

// observe emits status changes and tracks how long the run has been queued.
// A status that comes after the job of phase hold (whose log is still being
// delivered) is told once the log is complete, and the plan summary once
// the plan log is, so that they follow the log instead of preceding it.
func (f *follower) observe(r *Run, hold string) {
	plan := string(r.Plan.Status)
	apply := ""
	if r.Apply != nil {
		apply = string(r.Apply.Status)
	}
	held := hold != "" && pastPhase(r.Status, hold)
	if !held && (string(r.Status) != f.lastStatus || plan != f.lastPlan || apply != f.lastApply) {
		f.e.emit(Event{Type: EventStatus, RunID: r.Id, WorkspacePath: f.wsPath,
			Status: string(r.Status), PlanStatus: plan, ApplyStatus: apply})
		if string(r.Status) != f.lastStatus {
			f.queuedSince = time.Time{}
			f.lastQueueMsg = ""
			if Queued(r.Status) {
				f.queuedSince = f.e.now()
			}
		}
		f.lastStatus, f.lastPlan, f.lastApply = string(r.Status), plan, apply
	}
	if r.Plan.Status == gql.PlanStatusFinished && hold != "plan" && f.e.once(&f.e.told, r.Id+"/summary") {
		s := SummaryOf(r)
		f.e.emit(Event{Type: EventPlanSummary, RunID: r.Id, Summary: &s})
	}
}

// queueHintDue returns how long until the queue reason should be looked up:
// 0 when it is due now, -1 when the run is not queued or it was already told.
func (f *follower) queueHintDue() time.Duration {
	if f.queuedSince.IsZero() || f.lastQueueMsg != "" {
		return -1
	}
	d := f.e.queueHintAfter() - f.e.now().Sub(f.queuedSince)
	if d <= 0 {
		return 0
	}
	return d
}

type jobRef struct {
	id, phase string
	queued    bool // no runner has taken the job yet
}

func jobsOf(r *Run) []jobRef {
	var out []jobRef
	if j := r.Plan.CurrentJob; j != nil && j.Id != "" {
		out = append(out, jobRef{j.Id, "plan", j.Status == gql.JobStatusQueued})
	}
	if r.Apply != nil {
		if j := r.Apply.CurrentJob; j != nil && j.Id != "" {
			out = append(out, jobRef{j.Id, "apply", j.Status == gql.JobStatusQueued})
		}
	}
	return out
}

// poke asks the loop to resync, without blocking.
func (f *follower) poke() {
	select {
	case f.resync <- struct{}{}:
	default:
	}
}

// subscribeRuns keeps a workspaceRunEvents subscription open as a wake-up
// source, reconnecting with capped backoff. Polling covers any gap.
func (f *follower) subscribeRuns(ctx context.Context) {
	backoff := newBackoff(500*time.Millisecond, 30*time.Second)
	for ctx.Err() == nil {
		err := f.subscribeOnce(ctx)
		f.subscribed.Store(false)
		f.poke()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			backoff.reset()
		}
		if sleep(ctx, backoff.next()) != nil {
			return
		}
	}
}

func (f *follower) subscribeOnce(ctx context.Context) error {
	ws := f.e.API.NewSubscriptionClient()
	errCh, err := ws.Start(ctx)
	if err != nil {
		return err
	}
	defer ws.Close()
	ch, _, err := gql.WorkspaceRunEvents(ctx, ws, gql.RunSubscriptionInput{WorkspaceId: &f.wsID, RunId: &f.runID})
	if err != nil {
		return err
	}
	f.subscribed.Store(true)
	f.poke()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err, ok := <-errCh:
			if !ok {
				return errClosed
			}
			return err
		case msg, ok := <-ch:
			if !ok {
				return errClosed
			}
			if len(msg.Errors) > 0 {
				return msg.Errors
			}
			if msg.Data == nil {
				continue
			}
			r := msg.Data.WorkspaceRunEvents.Run.RunFields
			if r.Id != f.runID {
				continue
			}
			select {
			case f.wake <- &r:
			default:
				// A wake-up is already pending; replace it with the newer snapshot.
				select {
				case <-f.wake:
				default:
				}
				select {
				case f.wake <- &r:
				default:
				}
			}
		}
	}
}
