package runflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/Khan/genqlient/graphql"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// MaxLogRead is the largest Job.logs read the server allows (1 MiB).
const MaxLogRead = 1 << 20

var errClosed = errors.New("subscription closed by the server")

// logCursor hands out each byte of a job log exactly once, in order, whatever
// mix of stream events and paged reads delivers it.
type logCursor struct {
	offset int64
	emit   func(offset int64, b []byte)
}

// chunk accepts bytes [start, end) of the log, where b holds them. It returns
// false when the chunk starts past the cursor (a gap the caller must fill).
func (c *logCursor) chunk(start, end int64, b []byte) bool {
	if end <= c.offset {
		return true // already seen
	}
	if start > c.offset {
		return false
	}
	skip := c.offset - start
	if skip > int64(len(b)) {
		skip = int64(len(b))
	}
	if rest := b[skip:]; len(rest) > 0 {
		c.emit(c.offset, rest)
	}
	c.offset = end
	return true
}

// exactPrefix returns the part of text, the decoded form of a log window
// the server sized at n bytes, that is byte-exact, and how many raw bytes
// it covers. Logs travel as JSON strings, which replace each byte of an
// incomplete UTF-8 sequence with U+FFFD: a window whose edge cuts a
// character does not decode to its bytes. Such a cut at the end is left
// out, to be read again with the rest of the character. Text without any
// U+FFFD is its own bytes, whatever n says: logSize and logs are resolved
// apart, so the log may have grown (or not yet) between the two. When
// U+FFFD appears elsewhere the log itself holds invalid UTF-8 (or real
// U+FFFD characters), which JSON cannot tell apart: text is then taken as
// it is, as n bytes.
func exactPrefix(text string, n int64) (string, int64) {
	if !strings.ContainsRune(text, utf8.RuneError) {
		return text, int64(len(text))
	}
	if int64(len(text)) == n {
		return text, n
	}
	cut := text
	for i := 0; i < utf8.UTFMax-1 && strings.HasSuffix(cut, string(utf8.RuneError)); i++ {
		cut = cut[:len(cut)-len(string(utf8.RuneError))]
	}
	if len(cut) < len(text) && !strings.ContainsRune(cut, utf8.RuneError) {
		return cut, int64(len(cut))
	}
	return text, n
}

// readAt reads up to limit bytes of the log at the cursor with Job.logs and
// hands the exact ones to it. A character cut at the end of the stored log
// is held back until more is stored, unless the log is final (the job is
// complete, or final is set): then it is passed on as decoded. moved reports
// whether the cursor advanced.
func (e *Engine) readAt(ctx context.Context, jobID string, cur *logCursor, limit int64, final bool) (job *gql.GetJobLogsNodeJob, moved bool, err error) {
	job, err = e.readLogs(ctx, jobID, cur.offset, limit)
	if err != nil {
		return nil, false, err
	}
	stored := min(limit, int64(job.LogSize)-cur.offset)
	if stored <= 0 {
		return job, false, nil
	}
	text, n := exactPrefix(job.Logs, stored)
	if n == 0 {
		if !final && !job.Completed {
			return job, false, nil
		}
		text, n = job.Logs, stored
	}
	cur.chunk(cur.offset, cur.offset+n, []byte(text))
	return job, true, nil
}

// StreamJobLogs delivers a job's log, from byte 0 to the end of the job, as
// EventLog events (see streamLogs).
func (e *Engine) StreamJobLogs(ctx context.Context, jobID, phase, runID string) error {
	return e.streamLogs(ctx, jobID, phase, runID)
}

// ReadJobLogs delivers the log of a job as it is now (stored bytes only) as
// EventLog events, paging Job.logs. It reports whether the job is complete.
func (e *Engine) ReadJobLogs(ctx context.Context, jobID, phase, runID string) (complete bool, err error) {
	cur := &logCursor{emit: func(off int64, b []byte) {
		e.emit(Event{Type: EventLog, RunID: runID, Phase: phase, JobID: jobID, Offset: off, Data: b, Text: string(b)})
	}}
	for {
		first := cur.offset == 0
		job, moved, err := e.readAt(ctx, jobID, cur, MaxLogRead, false)
		if err != nil {
			return false, err
		}
		if job.LogTruncated && first {
			defer e.emit(Event{Type: EventLogTruncated, RunID: runID, Phase: phase, JobID: jobID,
				Message: "the server truncated this job's log; the rest is not stored"})
		}
		if !moved {
			return job.Completed, nil
		}
	}
}

// streamLogs delivers a job's log from byte 0 to its end through the engine's
// sink. It prefers the jobLogStreamEvents subscription and falls back to
// paging Job.logs when the subscription cannot be kept up. It returns when
// the job is complete and every byte has been delivered.
func (e *Engine) streamLogs(ctx context.Context, jobID, phase, runID string) error {
	cur := &logCursor{emit: func(off int64, b []byte) {
		e.emit(Event{Type: EventLog, RunID: runID, Phase: phase, JobID: jobID, Offset: off, Data: b, Text: string(b)})
	}}
	// The truncation is told after the log, where the missing part would be.
	wasTruncated := false
	truncated := func(t bool) { wasTruncated = wasTruncated || t }
	defer func() {
		if wasTruncated {
			e.emit(Event{Type: EventLogTruncated, RunID: runID, Phase: phase, JobID: jobID,
				Message: "the server truncated this job's log; the rest is not stored"})
		}
	}()

	failures := 0
	for !e.DisableSubscriptions && failures < 5 {
		before := cur.offset
		done, err := e.streamOnce(ctx, jobID, cur, truncated)
		if done {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case cur.offset > before:
			failures = 0 // progress: the connection is worth keeping
		case err != nil:
			failures++
			// Nothing arrived before the failure (a proxy cutting large
			// frames, say, while the stream replays 1 MiB windows): read
			// what is stored with Job.logs, so that the next stream only
			// has what is new to send. A failed read is left to the
			// stream or the polling that follows.
			_ = e.catchUp(ctx, jobID, cur, truncated)
		}
		// Reconnect from where we are; a short pause keeps a flapping
		// connection from turning into a hot loop.
		if sleep(ctx, time.Duration(failures+1)*100*time.Millisecond) != nil {
			return ctx.Err()
		}
	}
	return e.pollLogs(ctx, jobID, cur, truncated)
}

// streamOnce runs one subscription. done is true when the log is complete.
func (e *Engine) streamOnce(ctx context.Context, jobID string, cur *logCursor, truncated func(bool)) (done bool, err error) {
	ws := e.API.NewSubscriptionClient()
	errCh, err := ws.Start(ctx)
	if err != nil {
		return false, err
	}
	defer ws.Close()
	last := int(cur.offset)
	ch, _, err := gql.JobLogStreamEvents(ctx, ws, gql.JobLogStreamSubscriptionInput{JobId: jobID, LastSeenLogSize: &last})
	if err != nil {
		return false, err
	}
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case err, ok := <-errCh:
			if !ok {
				return false, errClosed
			}
			return false, err
		case msg, ok := <-ch:
			if !ok {
				// The server ended the stream without saying it completed.
				return false, errClosed
			}
			if len(msg.Errors) > 0 {
				return false, msg.Errors
			}
			if msg.Data == nil {
				continue
			}
			ev := msg.Data.JobLogStreamEvents
			truncated(ev.Truncated)
			if d := ev.Data; d != nil && int64(ev.Size) > cur.offset {
				start, end := int64(d.Offset), int64(ev.Size)
				if int64(len(d.Logs)) != end-start {
					// The chunk cut a character (or the log holds invalid
					// UTF-8): read its bytes with Job.logs instead.
					if err := e.fillLogs(ctx, jobID, cur, end, false); err != nil {
						return false, err
					}
				} else if !cur.chunk(start, end, []byte(d.Logs)) {
					// A gap: read the missing bytes, then take this chunk.
					if err := e.fillLogs(ctx, jobID, cur, start, false); err != nil {
						return false, err
					}
					cur.chunk(start, end, []byte(d.Logs))
				}
			}
			if ev.Completed {
				if int64(ev.Size) > cur.offset {
					if err := e.fillLogs(ctx, jobID, cur, int64(ev.Size), true); err != nil {
						return false, err
					}
				}
				return true, nil
			}
		}
	}
}

// fillLogs pages Job.logs until the cursor reaches upTo. Each read asks for
// a few bytes more, so a character cut at upTo is read whole. It may stop
// short of upTo when the stored log ends inside a character and final is
// false: the rest of it comes later.
func (e *Engine) fillLogs(ctx context.Context, jobID string, cur *logCursor, upTo int64, final bool) error {
	for cur.offset < upTo {
		n := min(upTo-cur.offset+utf8.UTFMax-1, MaxLogRead)
		job, moved, err := e.readAt(ctx, jobID, cur, n, final)
		if err != nil {
			return err
		}
		if !moved {
			if int64(job.LogSize) <= cur.offset {
				return fmt.Errorf("read job logs: the server reports %d bytes, expected at least %d", job.LogSize, upTo)
			}
			return nil
		}
	}
	return nil
}

// busyLogBytes is how much log a job must have written since the last
// poll for the next poll to come sooner than PollMin (see pollLogs).
const busyLogBytes = 64 << 10

// catchUp pages Job.logs from the cursor to the end of what is stored.
func (e *Engine) catchUp(ctx context.Context, jobID string, cur *logCursor, truncated func(bool)) error {
	for {
		job, moved, err := e.readAt(ctx, jobID, cur, MaxLogRead, false)
		if err != nil {
			return err
		}
		truncated(job.LogTruncated)
		if !moved || int64(job.LogSize) <= cur.offset {
			return nil // caught up with what was stored (see pollLogs)
		}
	}
}

// pollLogs pages Job.logs until the job is complete and read to its end.
// After catching up with a job that is writing fast (at least busyLogBytes
// since the last wait), it looks again after a fifth of PollMin rather than
// PollMin: otherwise a large log piles up during each wait and its end is
// printed up to PollMin after the job wrote it. A job writing little keeps
// the usual backoff, so the extra requests each carry at least that much log.
func (e *Engine) pollLogs(ctx context.Context, jobID string, cur *logCursor, truncated func(bool)) error {
	delay := e.pollMin()
	var since int64 // log bytes read since the last wait
	for {
		at := cur.offset
		job, moved, err := e.readAt(ctx, jobID, cur, MaxLogRead, false)
		if err != nil {
			if ctx.Err() == nil && isTransient(err) {
				if sleep(ctx, e.pollMax()) != nil {
					return ctx.Err()
				}
				continue
			}
			return err
		}
		truncated(job.LogTruncated)
		if moved {
			since += cur.offset - at
			delay = e.pollMin()
			if int64(job.LogSize) > cur.offset {
				continue // more is stored than one read returned: read on
			}
			// Caught up with what was stored. Reading again at once would
			// poll as fast as the server answers while a job keeps
			// writing, a request per few lines.
		}
		if job.Completed {
			return nil
		}
		wait := delay
		if since >= busyLogBytes {
			wait = e.pollMin() / 5
		} else {
			delay = min(delay*3/2, e.pollMax())
		}
		since = 0
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// readLogs runs the GetJobLogs query. The response is decoded straight
// into the Job's fields rather than by gql.GetJobLogs, whose generated code
// for node(id:) decodes each response three times to find the node's type:
// most of the CPU time of polling a log, whose pages are 1 MiB.
func (e *Engine) readLogs(ctx context.Context, jobID string, offset, limit int64) (*gql.GetJobLogsNodeJob, error) {
	var data struct {
		Node *gql.GetJobLogsNodeJob `json:"node"`
	}
	req := &graphql.Request{OpName: "GetJobLogs", Query: gql.GetJobLogs_Operation,
		Variables: map[string]any{"id": jobID, "startOffset": int(offset), "limit": int(limit)}}
	if err := e.API.GraphQL().MakeRequest(ctx, req, &graphql.Response{Data: &data}); err != nil {
		return nil, wrapErr("read job logs", err)
	}
	if data.Node == nil {
		return nil, notFound("job", jobID)
	}
	if data.Node.Typename == nil || *data.Node.Typename != "Job" {
		return nil, &api.Error{Kind: api.KindInternal, Op: "read job logs", Message: jobID + " is not a job"}
	}
	return data.Node, nil
}

func isTransient(err error) bool {
	switch api.KindOf(err) {
	case api.KindTransient, api.KindRateLimited, api.KindServiceUnavailable:
		return true
	}
	return false
}

// backoff grows a delay geometrically up to a cap.
type backoff struct{ min, max, cur time.Duration }

func newBackoff(lo, hi time.Duration) *backoff { return &backoff{min: lo, max: hi} }

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(b.cur*2, b.max)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }
