package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsClient is a minimal graphql-ws client for tests.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	ctx  context.Context
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (h *harness) dialWS(token string) (*wsClient, string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	h.t.Cleanup(cancel)
	url := "ws" + strings.TrimPrefix(h.s.URL(), "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-ws"}})
	if err != nil {
		h.t.Fatal(err)
	}
	conn.SetReadLimit(8 << 20)
	h.t.Cleanup(func() { _ = conn.CloseNow() })
	c := &wsClient{t: h.t, conn: conn, ctx: ctx}
	c.send(wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"Authorization":"Bearer ` + token + `"}`)})
	m, err := c.read()
	if err != nil {
		h.t.Fatal(err)
	}
	return c, m.Type
}

func (c *wsClient) send(m wsMsg) {
	b, _ := json.Marshal(m)
	if err := c.conn.Write(c.ctx, websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) read() (wsMsg, error) {
	_, b, err := c.conn.Read(c.ctx)
	if err != nil {
		return wsMsg{}, err
	}
	var m wsMsg
	return m, json.Unmarshal(b, &m)
}

func (c *wsClient) start(id, query string, vars map[string]any) {
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	c.send(wsMsg{ID: id, Type: "start", Payload: p})
}

func TestWebsocketRunEventsAndLogStream(t *testing.T) {
	h := start(t, func(k *Knobs) { k.LogVolumeBytes = 1 << 20 })
	c, typ := h.dialWS(h.token)
	if typ != "connection_ack" {
		t.Fatalf("init answered %s", typ)
	}
	ws := h.wsGID(SeedWorkspace)
	c.start("1", `subscription($input: RunSubscriptionInput!) { workspaceRunEvents(input: $input) { action run { id status plan { currentJob { id } } } } }`,
		map[string]any{"input": map[string]any{"workspaceId": ws}})
	// graphql-ws has no ack for start: create the run once the
	// subscription is registered, so it sees every event.
	h.waitSubscribers(1)
	id := h.newRun(true, nil)
	var statuses []string
	var jobID string
	for {
		m, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != "data" || m.ID != "1" {
			t.Fatalf("unexpected %s %s", m.Type, m.Payload)
		}
		var p struct {
			Data struct {
				WorkspaceRunEvents struct {
					Action string
					Run    struct {
						ID     string
						Status string
						Plan   struct{ CurrentJob *struct{ ID string } }
					}
				}
			}
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatal(err)
		}
		ev := p.Data.WorkspaceRunEvents
		if ev.Run.ID != id {
			t.Fatalf("event of run %s", ev.Run.ID)
		}
		if len(statuses) == 0 || statuses[len(statuses)-1] != ev.Run.Status {
			statuses = append(statuses, ev.Run.Status)
		}
		if ev.Run.Plan.CurrentJob != nil {
			jobID = ev.Run.Plan.CurrentJob.ID
		}
		if ev.Run.Status == runPlannedAndFinished {
			break
		}
	}
	if strings.Join(statuses, ",") != "pending,queuing,plan_queued,planning,planned_and_finished" {
		t.Fatalf("statuses %v", statuses)
	}
	c.send(wsMsg{ID: "1", Type: "stop"})

	// The log stream replays from lastSeenLogSize, completes, then ends.
	full := h.s.JobLog(jobID)
	c.start("2", `subscription($input: JobLogStreamSubscriptionInput!) { jobLogStreamEvents(input: $input) { completed truncated size data { offset logs } } }`,
		map[string]any{"input": map[string]any{"jobId": jobID, "lastSeenLogSize": 100}})
	size, completed := 100, false
	for {
		m, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != "2" {
			continue // the stop of subscription 1 answers complete
		}
		if m.Type == "complete" {
			break
		}
		var p struct {
			Data struct {
				JobLogStreamEvents struct {
					Completed bool
					Size      int
					Data      *struct {
						Offset int
						Logs   string
					}
				}
			}
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatal(err)
		}
		ev := p.Data.JobLogStreamEvents
		if completed {
			t.Fatal("data after completion")
		}
		if ev.Completed {
			completed = true
			if ev.Data != nil || ev.Size != len(full) {
				t.Fatalf("completion event %+v", ev)
			}
			continue
		}
		if ev.Data.Offset != size {
			t.Fatalf("offset %d, want %d", ev.Data.Offset, size)
		}
		size = ev.Size
	}
	if !completed || size != len(full) {
		t.Fatalf("stream ended at %d of %d (completed %v)", size, len(full), completed)
	}
}

// waitSubscribers waits until the broker has at least n subscribers. There
// is no event for that, so this polls with a ticker.
func (h *harness) waitSubscribers(n int) {
	h.t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		h.s.broker.mu.Lock()
		got := len(h.s.broker.subs)
		h.s.broker.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			h.t.Fatalf("no subscriber after 10s")
		}
	}
}

func TestWebsocketAuthAndErrors(t *testing.T) {
	h := start(t)
	expired, _ := h.s.IssueToken(SeedAdmin, -time.Minute)
	c, typ := h.dialWS(expired)
	if typ != "connection_error" {
		t.Fatalf("expired token: %s", typ)
	}
	_ = c
	stranger, _ := h.s.CreateUser("stan", false)
	c, typ = h.dialWS(stranger)
	if typ != "connection_ack" {
		t.Fatalf("stranger: %s", typ)
	}
	c.start("1", `subscription { workspaceRunEvents(input: {workspaceId: "trn:workspace:sandbox/demo"}) { action } }`, nil)
	m, err := c.read()
	if err != nil || m.Type != "data" || !strings.Contains(string(m.Payload), "either the requested resource does not exist") {
		t.Fatalf("no access: %v %s %s", err, m.Type, m.Payload)
	}
	if m, _ := c.read(); m.Type != "complete" {
		t.Fatalf("after the error: %s", m.Type)
	}
}

func TestWebsocketDropKnob(t *testing.T) {
	h := start(t, func(k *Knobs) { k.DropWebsocketAfterBytes = 200; k.LogVolumeBytes = 4096 })
	id := h.newRun(true, nil)
	h.waitStatus(id, runPlannedAndFinished)
	c, typ := h.dialWS(h.token)
	if typ != "connection_ack" {
		t.Fatal(typ)
	}
	c.start("1", `subscription($input: JobLogStreamSubscriptionInput!) { jobLogStreamEvents(input: $input) { size data { logs } } }`,
		map[string]any{"input": map[string]any{"jobId": toGID(gidJob, h.latestJob(id).ID), "lastSeenLogSize": 0}})
	for {
		m, err := c.read()
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				t.Fatalf("closed cleanly (%v), want a dropped connection", ce)
			}
			return // dropped, as asked
		}
		if m.Type == "complete" {
			t.Fatal("stream completed: the connection was not dropped")
		}
	}
}

// Close stops running jobs and open subscriptions and waits for them.
func TestCloseStopsJobsAndSubscriptions(t *testing.T) {
	h := start(t, func(k *Knobs) { k.JobDuration = time.Hour })
	id := h.newRun(false, nil)
	j := h.waitJob(id, "plan", jobRunning)
	c, typ := h.dialWS(h.token)
	if typ != "connection_ack" {
		t.Fatal(typ)
	}
	c.start("1", `subscription($input: JobLogStreamSubscriptionInput!) { jobLogStreamEvents(input: $input) { size } }`,
		map[string]any{"input": map[string]any{"jobId": toGID(gidJob, j.ID), "lastSeenLogSize": 0}})
	if m, err := c.read(); err != nil || m.Type != "data" {
		t.Fatalf("first event: %v %v", m.Type, err)
	}
	if err := h.s.Close(); err != nil {
		t.Fatal(err)
	}
	h.s.mu.Lock()
	n := len(h.s.ctl)
	h.s.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d job goroutines left", n)
	}
	for {
		if _, err := c.read(); err != nil {
			break // the connection ended with the server
		}
	}
}

func TestStartClosesWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	<-s.ctx.Done() // Close has begun; Close again waits for it to finish
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
