package sandbox

import (
	"context"
	"time"
)

// maxLogReadBytes is the most Job.logs returns per call and the largest
// chunk of a log stream event (MaxLogPatchSizeBytes on the real API).
const maxLogReadBytes = 1024 * 1024

// defaultMaxLogBytes is the real API's default cap on a job's log.
const defaultMaxLogBytes = 10 * 1024 * 1024

// logBuffer is a job's log. It is guarded by the server lock; changed is
// closed (and replaced) on every write so stream readers can wait on it.
type logBuffer struct {
	data        []byte
	max         int64
	truncated   bool
	completed   bool
	lastUpdated *time.Time
	changed     chan struct{}
}

func newLogBuffer(max int64) *logBuffer {
	if max <= 0 {
		max = defaultMaxLogBytes
	}
	return &logBuffer{max: max, changed: make(chan struct{})}
}

func (l *logBuffer) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// write appends p, dropping what goes past the cap and marking the log
// truncated, as the real log stream does.
func (l *logBuffer) write(p []byte, now time.Time) {
	if l.completed || len(p) == 0 {
		return
	}
	room := l.max - int64(len(l.data))
	if room <= 0 {
		l.truncated = true
		l.notify()
		return
	}
	if int64(len(p)) > room {
		p = p[:room]
		l.truncated = true
	}
	l.data = append(l.data, p...)
	l.lastUpdated = &now
	l.notify()
}

func (l *logBuffer) complete() {
	if !l.completed {
		l.completed = true
		l.notify()
	}
}

// read returns [start, start+limit) of the log with the real API's checks.
func (l *logBuffer) read(start, limit int) (string, error) {
	if limit > maxLogReadBytes {
		return "", errInvalid("log read limit of %d bytes exceeds the maximum of %d bytes", limit, maxLogReadBytes)
	}
	if start < 0 || limit < 0 {
		return "", errInvalid("limit and offset cannot be negative")
	}
	if limit == 0 || start >= len(l.data) {
		return "", nil
	}
	end := min(start+limit, len(l.data))
	return string(l.data[start:end]), nil
}

// logEvent is one jobLogStreamEvents event.
type logEvent struct {
	completed bool
	truncated bool
	size      int
	offset    int
	logs      *string
}

// streamLogs sends the log of job from offset on (replaying what is already
// stored in windows of at most 1 MiB), then live data, then the completion
// event, then closes out. It ends early when ctx ends.
func (s *Server) streamLogs(ctx context.Context, jobID string, offset *int, out chan<- logEvent) {
	defer close(out)
	s.mu.Lock()
	job := s.st.Jobs[jobID]
	if job == nil {
		s.mu.Unlock()
		return
	}
	lb := job.Log
	pos := len(lb.data)
	if offset != nil {
		pos = min(max(*offset, 0), len(lb.data))
	}
	s.mu.Unlock()
	for {
		s.mu.Lock()
		size, done, trunc, changed := len(lb.data), lb.completed, lb.truncated, lb.changed
		var ev *logEvent
		if pos < size {
			end := min(pos+maxLogReadBytes, size)
			chunk := string(lb.data[pos:end])
			ev = &logEvent{truncated: trunc, size: end, offset: pos, logs: &chunk}
			pos = end
		} else if done {
			ev = &logEvent{completed: true, truncated: trunc, size: size}
		}
		s.mu.Unlock()
		if ev != nil {
			select {
			case out <- *ev:
			case <-ctx.Done():
				return
			}
			if ev.completed {
				return
			}
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}
