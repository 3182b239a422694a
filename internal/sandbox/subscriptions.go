package sandbox

import (
	"context"
)

type runEventResolver struct {
	Action string
	Run    *runResolver
}

type runSubInput struct {
	WorkspaceID     *string
	RunID           *string
	AncestorGroupID *string
}

// WorkspaceRunEvents sends every insert and update of the runs it selects,
// each with the run as it was after that change.
func (q *root) WorkspaceRunEvents(ctx context.Context, args struct{ Input runSubInput }) (<-chan *runEventResolver, error) {
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	in := args.Input
	s := q.s
	var wsID, runID, groupPath string
	err = func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if in.WorkspaceID != nil {
			w, err := find[*Workspace](s, c, *in.WorkspaceID, "workspace")
			if err != nil {
				return err
			}
			if err := s.requirePerm(c, permRunView, w.FullPath); err != nil {
				return err
			}
			wsID = w.ID
		} else if c.userID == "" {
			return errForbidden("only users can subscribe to run events without a WorkspaceID filter")
		}
		if in.RunID != nil {
			r, err := find[*Run](s, c, *in.RunID, "run")
			if err != nil {
				return err
			}
			runID = r.ID
		}
		if in.AncestorGroupID != nil {
			g, err := find[*Group](s, c, *in.AncestorGroupID, "group")
			if err != nil {
				return err
			}
			groupPath = g.FullPath
		}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	events := s.broker.subscribeWith(ctx, func(ev event) bool {
		return ev.run != nil && (wsID == "" || ev.run.WorkspaceID == wsID) && (runID == "" || ev.run.ID == runID)
	}, s.goTrack)
	out := make(chan *runEventResolver)
	s.trackOrClose(func() {
		defer close(out)
		for ev := range events {
			var res *runResolver
			s.locked(func() {
				w := s.st.Workspaces[ev.run.WorkspaceID]
				if w == nil || !s.canView(c, w.FullPath) || (groupPath != "" && !isWithin(w.FullPath, groupPath)) {
					return
				}
				res = s.runRes(ev.run)
			})
			if res == nil {
				continue
			}
			select {
			case out <- &runEventResolver{Action: ev.action, Run: res}:
			case <-ctx.Done():
				return
			}
		}
	}, func() { close(out) })
	return out, nil
}

type jobEventResolver struct {
	Action string
	Job    *jobResolver
}

type jobSubInput struct {
	RunnerID    *string
	WorkspaceID *string
}

// JobEvents sends every insert and update of the jobs of a workspace or a
// runner (all jobs for admins in admin mode).
func (q *root) JobEvents(ctx context.Context, args struct{ Input jobSubInput }) (<-chan *jobEventResolver, error) {
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	in := args.Input
	s := q.s
	var wsID, runnerID string
	err = func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if in.WorkspaceID != nil {
			w, err := find[*Workspace](s, c, *in.WorkspaceID, "workspace")
			if err != nil {
				return err
			}
			wsID = w.ID
		}
		if in.RunnerID != nil {
			r, err := find[*Runner](s, c, *in.RunnerID, "runner")
			if err != nil {
				return err
			}
			runnerID = r.ID
		}
		if wsID == "" && runnerID == "" && !s.adminMode(c) {
			return errForbidden("only admins with admin mode activated can subscribe to job events without a workspace or runner filter")
		}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	events := s.broker.subscribeWith(ctx, func(ev event) bool {
		return ev.job != nil && (wsID == "" || ev.job.WorkspaceID == wsID) && (runnerID == "" || ev.job.RunnerID == runnerID)
	}, s.goTrack)
	out := make(chan *jobEventResolver)
	s.trackOrClose(func() {
		defer close(out)
		for ev := range events {
			var res *jobResolver
			s.locked(func() { res = s.jobRes(ev.job) })
			select {
			case out <- &jobEventResolver{Action: ev.action, Job: res}:
			case <-ctx.Done():
				return
			}
		}
	}, func() { close(out) })
	return out, nil
}

type logStreamInput struct {
	JobID           string
	LastSeenLogSize *int32
}

type logEventDataResolver struct {
	Offset int32
	Logs   string
}

type logEventResolver struct {
	Completed bool
	Truncated bool
	Size      int32
	Data      *logEventDataResolver
}

// JobLogStreamEvents replays the job's log from lastSeenLogSize (from the
// current size when omitted), then streams new data, then sends a completed
// event and ends.
func (q *root) JobLogStreamEvents(ctx context.Context, args struct{ Input logStreamInput }) (<-chan *logEventResolver, error) {
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	s := q.s
	var jobID string
	err = func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		j, err := find[*Job](s, c, args.Input.JobID, "job")
		if err != nil {
			return err
		}
		jobID = j.ID
		return s.requirePerm(c, permJobView, s.st.Workspaces[j.WorkspaceID].FullPath)
	}()
	if err != nil {
		return nil, err
	}
	var from *int
	if args.Input.LastSeenLogSize != nil {
		if *args.Input.LastSeenLogSize < 0 {
			return nil, errInvalid("lastSeenLogSize cannot be negative")
		}
		v := int(*args.Input.LastSeenLogSize)
		from = &v
	}
	raw := make(chan logEvent)
	if !s.goTrack(func() { s.streamLogs(ctx, jobID, from, raw) }) {
		close(raw)
	}
	out := make(chan *logEventResolver)
	s.trackOrClose(func() {
		defer close(out)
		for ev := range raw {
			res := &logEventResolver{Completed: ev.completed, Truncated: ev.truncated, Size: int32(ev.size)}
			if ev.logs != nil {
				res.Data = &logEventDataResolver{Offset: int32(ev.offset), Logs: *ev.logs}
			}
			select {
			case out <- res:
			case <-ctx.Done():
				return
			}
		}
	}, func() { close(out) })
	return out, nil
}

// trackOrClose runs f as a tracked goroutine, or runs closeFn when the
// server is closing.
func (s *Server) trackOrClose(f, closeFn func()) {
	if !s.goTrack(f) {
		closeFn()
	}
}
