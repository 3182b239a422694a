package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/coder/websocket"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// testTimeout bounds every wait in these tests (a guard, not an assertion).
const testTimeout = 20 * time.Second

// wsPeer is the server side of one graphql-ws connection in a test.
type wsPeer struct {
	t    *testing.T
	ctx  context.Context
	conn *websocket.Conn
	req  *http.Request
}

func (p *wsPeer) read() wsMessage {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, testTimeout)
	defer cancel()
	_, data, err := p.conn.Read(ctx)
	if err != nil {
		p.t.Errorf("server read: %v", err)
		return wsMessage{Type: "<error>"}
	}
	var m wsMessage
	if err := json.Unmarshal(data, &m); err != nil {
		p.t.Errorf("server got invalid JSON %q", data)
	}
	return m
}

// readType reads until a message of the given type, skipping keep-alives.
func (p *wsPeer) readType(typ string) wsMessage {
	p.t.Helper()
	for {
		m := p.read()
		if m.Type == typ || m.Type == "<error>" {
			return m
		}
		if m.Type != wsKeepAlive {
			p.t.Errorf("server got %q while waiting for %q", m.Type, typ)
			return m
		}
	}
}

func (p *wsPeer) send(raw string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, testTimeout)
	defer cancel()
	if err := p.conn.Write(ctx, websocket.MessageText, []byte(raw)); err != nil {
		p.t.Errorf("server write: %v", err)
	}
}

// drain reads (and ignores) messages until the connection ends.
func (p *wsPeer) drain() {
	for {
		if _, _, err := p.conn.Read(p.ctx); err != nil {
			return
		}
	}
}

// handshake reads connection_init, checks its token and acknowledges.
func (p *wsPeer) handshake() {
	p.t.Helper()
	m := p.read()
	if m.Type != wsConnectionInit {
		p.t.Errorf("first message %q, want connection_init", m.Type)
	}
	var payload map[string]string
	if err := json.Unmarshal(m.Payload, &payload); err != nil || payload["Authorization"] != "Bearer "+testToken {
		p.t.Errorf("connection_init payload = %s", m.Payload)
	}
	p.send(`{"type":"ka"}`) // may precede the ack
	p.send(`{"type":"connection_ack"}`)
}

// startWSServer serves graphql-ws on /graphql with script for each connection.
func startWSServer(t *testing.T, tlsServer bool, script func(p *wsPeer)) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" {
			http.NotFound(w, r)
			return
		}
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsSubprotocol}})
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer conn.CloseNow()
		if conn.Subprotocol() != wsSubprotocol {
			t.Errorf("subprotocol %q", conn.Subprotocol())
			return
		}
		script(&wsPeer{t: t, ctx: r.Context(), conn: conn, req: r})
	})
	var srv *httptest.Server
	if tlsServer {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv
}

func startWS(t *testing.T, c *Client) (graphql.WebSocketClient, chan error) {
	t.Helper()
	ws := c.NewSubscriptionClient()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	errCh, err := ws.Start(ctx)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws, errCh
}

func recvTimeout[T any](t *testing.T, ch <-chan T) (T, bool) {
	t.Helper()
	select {
	case v, ok := <-ch:
		return v, ok
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting on a channel")
	}
	var zero T
	return zero, false
}

func TestSubscriptionJobLogs(t *testing.T) {
	done := make(chan struct{})
	srv := startWSServer(t, false, func(p *wsPeer) {
		defer close(done)
		if got := p.req.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("upgrade Authorization = %q", got)
		}
		if got := p.req.Header.Get("User-Agent"); got != "tharsis-test/1.0" {
			t.Errorf("upgrade User-Agent = %q", got)
		}
		p.handshake()
		start := p.readType(wsStart)
		var payload struct {
			Query         string `json:"query"`
			OperationName string `json:"operationName"`
			Variables     struct {
				Input struct {
					JobID           string `json:"jobId"`
					LastSeenLogSize *int   `json:"lastSeenLogSize"`
				} `json:"input"`
			} `json:"variables"`
		}
		if err := json.Unmarshal(start.Payload, &payload); err != nil || start.ID == "" {
			t.Errorf("start = %+v (%v)", start, err)
		}
		if payload.OperationName != "JobLogStreamEvents" || !strings.HasPrefix(strings.TrimSpace(payload.Query), "subscription JobLogStreamEvents") ||
			payload.Variables.Input.JobID != "J1" || payload.Variables.Input.LastSeenLogSize == nil || *payload.Variables.Input.LastSeenLogSize != 5 {
			t.Errorf("start payload = %+v", payload)
		}
		for i, chunk := range []string{"hello ", "\u001b[1mworld\u001b[0m\n"} {
			p.send(fmt.Sprintf(`{"id":%q,"type":"data","payload":{"data":{"jobLogStreamEvents":{"completed":false,"truncated":false,"size":%d,"data":{"offset":%d,"logs":%s}}}}}`,
				start.ID, 5+(i+1)*10, 5+i*10, mustJSON(chunk)))
		}
		p.send(fmt.Sprintf(`{"id":%q,"type":"data","payload":{"data":{"jobLogStreamEvents":{"completed":true,"truncated":false,"size":25,"data":null}}}}`, start.ID))
		p.send(fmt.Sprintf(`{"id":%q,"type":"complete"}`, start.ID))
		// The client ends the connection cleanly.
		p.readType(wsConnectionTerminate)
	})
	var debugLog syncBuffer
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Logger = debugLogger(&debugLog) })
	ws, errCh := startWS(t, c)
	last := 5
	ch, id, err := gql.JobLogStreamEvents(context.Background(), ws, gql.JobLogStreamSubscriptionInput{JobId: "J1", LastSeenLogSize: &last})
	if err != nil || id == "" {
		t.Fatalf("subscribe: %q, %v", id, err)
	}
	var logs strings.Builder
	var events int
	for {
		resp, ok := recvTimeout(t, ch)
		if !ok {
			break // closed by the server's complete
		}
		events++
		if len(resp.Errors) > 0 || resp.Data == nil {
			t.Fatalf("event %d: %+v", events, resp)
		}
		if d := resp.Data.JobLogStreamEvents.Data; d != nil {
			logs.WriteString(d.Logs)
		}
	}
	if events != 3 || logs.String() != "hello \u001b[1mworld\u001b[0m\n" {
		t.Fatalf("events = %d, logs = %q", events, logs.String())
	}
	if err := ws.Unsubscribe(id); err == nil {
		t.Fatal("unsubscribing a completed subscription must fail")
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := recvTimeout(t, errCh); ok {
		t.Fatal("the error channel must be closed by Close, with no error sent")
	}
	recvTimeout(t, done)
	if out := debugLog.String(); !strings.Contains(out, "subscribe") || strings.Contains(out, testToken) || strings.Contains(out, "hello") {
		t.Fatalf("debug log without the subscription, or with the token or data:\n%s", out)
	}
}

// TestSubscriptionErrors: errors inside data payloads and "error" messages
// reach the caller, then the channel closes.
func TestSubscriptionErrors(t *testing.T) {
	srv := startWSServer(t, false, func(p *wsPeer) {
		p.handshake()
		s1 := p.readType(wsStart)
		p.send(fmt.Sprintf(`{"id":%q,"type":"data","payload":{"data":null,"errors":[{"message":"job with id J9 not found","path":["jobLogStreamEvents"]}]}}`, s1.ID))
		p.send(fmt.Sprintf(`{"id":%q,"type":"complete"}`, s1.ID))
		s2 := p.readType(wsStart)
		p.send(fmt.Sprintf(`{"id":%q,"type":"error","payload":{"message":"subscription setup failed"}}`, s2.ID))
		p.send(fmt.Sprintf(`{"id":%q,"type":"complete"}`, s2.ID))
		p.readType(wsConnectionTerminate)
	})
	c := newTestClient(t, srv.URL, nil)
	ws, _ := startWS(t, c)

	for i, want := range []struct {
		msg  string
		kind Kind
	}{{"job with id J9 not found", KindNotFound}, {"subscription setup failed", KindUnknown}} {
		ch, _, err := gql.JobLogStreamEvents(context.Background(), ws, gql.JobLogStreamSubscriptionInput{JobId: "J9"})
		if err != nil {
			t.Fatal(err)
		}
		resp, ok := recvTimeout(t, ch)
		if !ok || len(resp.Errors) != 1 || resp.Errors[0].Message != want.msg {
			t.Fatalf("subscription %d: %+v, %v", i, resp, ok)
		}
		err = GraphQLError("job log stream events", resp.Errors)
		if e := asAPIError(t, err); e.Kind != want.kind || e.Error() != "job log stream events: "+want.msg {
			t.Fatalf("subscription %d: mapped %+v", i, e)
		}
		if _, ok := recvTimeout(t, ch); ok {
			t.Fatalf("subscription %d: channel not closed after complete", i)
		}
	}
}

func TestSubscriptionConnectionError(t *testing.T) {
	srv := startWSServer(t, false, func(p *wsPeer) {
		p.read()
		p.send(`{"type":"connection_error","payload":{"message":"unauthorized: token is expired"}}`)
		// The server closes about a second later; the client must not wait.
		p.drain()
	})
	c := newTestClient(t, srv.URL, nil)
	ws := c.NewSubscriptionClient()
	_, err := ws.Start(context.Background())
	e := asAPIError(t, err)
	if e.Kind != KindUnauthenticated || e.Message != "unauthorized: token is expired" || !strings.Contains(e.Hint, "sso login") {
		t.Fatalf("err = %+v", e)
	}
	if err := ws.Close(); err != nil {
		t.Fatalf("Close after a failed Start: %v", err)
	}
	if _, _, err := gql.JobLogStreamEvents(context.Background(), ws, gql.JobLogStreamSubscriptionInput{JobId: "J"}); err == nil {
		t.Fatal("Subscribe on a failed client must fail")
	}
}

// TestSubscriptionDrop: a dropped connection is reported on the error
// channel; data channels stay open until Close.
func TestSubscriptionDrop(t *testing.T) {
	srv := startWSServer(t, false, func(p *wsPeer) {
		p.handshake()
		s := p.readType(wsStart)
		p.send(fmt.Sprintf(`{"id":%q,"type":"data","payload":{"data":{"jobLogStreamEvents":{"completed":false,"truncated":false,"size":1,"data":{"offset":0,"logs":"x"}}}}}`, s.ID))
		p.conn.CloseNow() // no close frame: a network drop
	})
	c := newTestClient(t, srv.URL, nil)
	ws, errCh := startWS(t, c)
	ch, _, err := gql.JobLogStreamEvents(context.Background(), ws, gql.JobLogStreamSubscriptionInput{JobId: "J"})
	if err != nil {
		t.Fatal(err)
	}
	if resp, ok := recvTimeout(t, ch); !ok || resp.Data.JobLogStreamEvents.Data.Logs != "x" {
		t.Fatalf("first event: %+v %v", resp, ok)
	}
	err, ok := recvTimeout(t, errCh)
	if !ok {
		t.Fatal("error channel closed without an error")
	}
	if e := asAPIError(t, err); e.Kind != KindTransient || !strings.Contains(e.Message, "lost") || !strings.Contains(e.Hint, "Reconnect") {
		t.Fatalf("drop error = %+v", e)
	}
	select {
	case _, ok := <-ch:
		t.Fatalf("data channel delivered (%v) after the drop; it must stay open until Close", ok)
	default:
	}
	if _, _, err := gql.JobLogStreamEvents(context.Background(), ws, gql.JobLogStreamSubscriptionInput{JobId: "J"}); err == nil {
		t.Fatal("Subscribe after a drop must fail")
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := recvTimeout(t, ch); ok {
		t.Fatal("data channel not closed by Close")
	}
	if _, ok := recvTimeout(t, errCh); ok {
		t.Fatal("error channel not closed by Close")
	}
}

// TestSubscriptionCloseFrame: a server close with a status is reported too.
func TestSubscriptionCloseFrame(t *testing.T) {
	srv := startWSServer(t, false, func(p *wsPeer) {
		p.handshake()
		p.conn.Close(websocket.StatusGoingAway, "session expired")
	})
	c := newTestClient(t, srv.URL, nil)
	_, errCh := startWS(t, c)
	err, _ := recvTimeout(t, errCh)
	if e := asAPIError(t, err); e.Kind != KindTransient || !strings.Contains(e.Message, "1001") || !strings.Contains(e.Message, "session expired") {
		t.Fatalf("err = %+v", e)
	}
}

// TestSubscriptionUnsubscribe: stop is sent, the channel closes even when
// nobody reads it, and other subscriptions keep flowing.
func TestSubscriptionUnsubscribe(t *testing.T) {
	srv := startWSServer(t, false, func(p *wsPeer) {
		p.handshake()
		s1 := p.readType(wsStart)
		s2 := p.readType(wsStart)
		if s1.ID == s2.ID {
			t.Errorf("duplicate subscription id %q", s1.ID)
		}
		// Flood the first subscription, which is never read.
		for i := 0; i < 50; i++ {
			p.send(fmt.Sprintf(`{"id":%q,"type":"data","payload":{"data":{"jobLogStreamEvents":{"completed":false,"truncated":false,"size":%d,"data":null}}}}`, s1.ID, i))
		}
		p.send(fmt.Sprintf(`{"id":%q,"type":"data","payload":{"data":{"workspaceRunEvents":{"action":"UPDATE","run":{"id":"R1","status":"planning"}}}}}`, s2.ID))
		stop := p.readType(wsStop)
		if stop.ID != s1.ID {
			t.Errorf("stop for %q, want %q", stop.ID, s1.ID)
		}
		p.send(fmt.Sprintf(`{"id":%q,"type":"complete"}`, s1.ID))
		p.readType(wsConnectionTerminate)
	})
	c := newTestClient(t, srv.URL, nil)
	ws, _ := startWS(t, c)
	ch1, id1, err := gql.JobLogStreamEvents(context.Background(), ws, gql.JobLogStreamSubscriptionInput{JobId: "J"})
	if err != nil {
		t.Fatal(err)
	}
	wsID := "W"
	ch2, _, err := gql.WorkspaceRunEvents(context.Background(), ws, gql.RunSubscriptionInput{WorkspaceId: &wsID})
	if err != nil {
		t.Fatal(err)
	}
	if resp, ok := recvTimeout(t, ch2); !ok || len(resp.Errors) > 0 {
		t.Fatalf("second subscription stalled behind the first: %+v %v", resp, ok)
	}
	if err := ws.Unsubscribe(id1); err != nil {
		t.Fatal(err)
	}
	// Whatever was queued is dropped and the channel is closed.
	for {
		if _, ok := recvTimeout(t, ch1); !ok {
			break
		}
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSubscriptionKeepAlive(t *testing.T) {
	got := make(chan struct{})
	srv := startWSServer(t, false, func(p *wsPeer) {
		p.handshake()
		for n := 0; n < 3; {
			m := p.read()
			switch m.Type {
			case wsKeepAlive:
				n++
				p.send(`{"type":"ka"}`) // the server echoes
			case "<error>":
				return
			}
		}
		close(got)
		p.readType(wsConnectionTerminate)
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.KeepAlive = 10 * time.Millisecond })
	ws, errCh := startWS(t, c)
	recvTimeout(t, got)
	select {
	case err := <-errCh:
		t.Fatalf("keep-alive failed the connection: %v", err)
	default:
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSubscriptionUnresponsive: a server that stops answering pings is
// reported as a dropped connection.
func TestSubscriptionUnresponsive(t *testing.T) {
	hang := make(chan struct{})
	srv := startWSServer(t, false, func(p *wsPeer) {
		p.handshake()
		<-hang // stop reading: no pongs
	})
	t.Cleanup(func() { close(hang) })
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.KeepAlive = 20 * time.Millisecond })
	_, errCh := startWS(t, c)
	err, _ := recvTimeout(t, errCh)
	if e := asAPIError(t, err); e.Kind != KindTransient || !strings.Contains(e.Message, "stopped responding") {
		t.Fatalf("err = %+v", e)
	}
}

// TestSubscriptionErrorList: an "error" message whose payload is a list.
func TestSubscriptionErrorList(t *testing.T) {
	srv := startWSServer(t, false, func(p *wsPeer) {
		p.handshake()
		s := p.readType(wsStart)
		p.send(fmt.Sprintf(`{"id":%q,"type":"error","payload":[{"message":"first"},{"message":"second"}]}`, s.ID))
		p.drain()
	})
	c := newTestClient(t, srv.URL, nil)
	ws, _ := startWS(t, c)
	ch, _, err := gql.JobLogStreamEvents(context.Background(), ws, gql.JobLogStreamSubscriptionInput{JobId: "J"})
	if err != nil {
		t.Fatal(err)
	}
	resp, ok := recvTimeout(t, ch)
	if !ok || len(resp.Errors) != 2 || resp.Errors[1].Message != "second" {
		t.Fatalf("resp = %+v", resp)
	}
	// An error ends the subscription even without complete.
	if _, ok := recvTimeout(t, ch); ok {
		t.Fatal("channel not closed after error")
	}
}

func TestSubscriptionMessageLimit(t *testing.T) {
	started := make(chan string, 1)
	srv := startWSServer(t, false, func(p *wsPeer) {
		p.handshake()
		m := p.read()
		started <- m.Type
	})
	c := newTestClient(t, srv.URL, nil)
	ws, _ := startWS(t, c)
	_, _, err := gql.JobLogStreamEvents(context.Background(), ws, gql.JobLogStreamSubscriptionInput{JobId: strings.Repeat("x", 11<<10)})
	if e := asAPIError(t, err); e.Kind != KindBadRequest || !strings.Contains(e.Message, "at most 10240") {
		t.Fatalf("err = %+v", e)
	}
	// A small one still goes through as the first start message.
	if _, _, err := gql.JobLogStreamEvents(context.Background(), ws, gql.JobLogStreamSubscriptionInput{JobId: "J"}); err != nil {
		t.Fatal(err)
	}
	if typ, _ := recvTimeout(t, started); typ != wsStart {
		t.Fatalf("server got %q", typ)
	}
}

func TestSubscriptionRejectsQueries(t *testing.T) {
	srv := startWSServer(t, false, func(p *wsPeer) {
		p.handshake()
		p.drain()
	})
	c := newTestClient(t, srv.URL, nil)
	ws, _ := startWS(t, c)
	_, err := ws.Subscribe(&graphql.Request{Query: gql.GetRun_Operation, OpName: "GetRun"}, make(chan int), func(any, json.RawMessage) error { return nil })
	if KindOf(err) != KindBadRequest {
		t.Fatalf("query over websocket: %v", err)
	}
	_, err = ws.Subscribe(&graphql.Request{Query: gql.JobLogStreamEvents_Operation}, nil, func(any, json.RawMessage) error { return nil })
	if KindOf(err) != KindBadRequest {
		t.Fatalf("nil channel: %v", err)
	}
	if _, err := ws.Start(context.Background()); err == nil {
		t.Fatal("a second Start must fail")
	}
}

func TestSubscriptionUpgradeRefused(t *testing.T) {
	// Like the real server without the graphql-ws subprotocol.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-WebSocket-Upgrade-Failure", "no subprotocols available")
		writeJSON(w, 400, `{"error":"no queries to execute"}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	_, err := c.NewSubscriptionClient().Start(context.Background())
	if e := asAPIError(t, err); e.StatusCode != 400 || !strings.Contains(e.Message, "no subprotocols available") {
		t.Fatalf("err = %+v", e)
	}

	// Refused connections are reported with a hint about the endpoint.
	c = newTestClient(t, "http://"+closedAddr(t), nil)
	_, err = c.NewSubscriptionClient().Start(context.Background())
	if e := asAPIError(t, err); e.Kind != KindTransient || !strings.Contains(e.Message, "refused") {
		t.Fatalf("err = %+v", e)
	}
}

func TestSubscriptionTLS(t *testing.T) {
	srv := startWSServer(t, true, func(p *wsPeer) {
		p.handshake()
		p.readType(wsConnectionTerminate)
	})
	c := newTestClient(t, srv.URL, nil)
	_, err := c.NewSubscriptionClient().Start(context.Background())
	if e := asAPIError(t, err); !strings.Contains(e.Message, "not trusted") || !strings.Contains(e.Hint, "caCertFile") {
		t.Fatalf("untrusted: %+v", e)
	}
	c = newTestClient(t, srv.URL, func(cfg *Config) { cfg.CACertFile = writeCA(t, srv) })
	ws, _ := startWS(t, c)
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSubscriptionContextCancel: the connection lives as long as Start's
// context.
func TestSubscriptionContextCancel(t *testing.T) {
	srv := startWSServer(t, false, func(p *wsPeer) {
		p.handshake()
		p.drain()
	})
	c := newTestClient(t, srv.URL, nil)
	ws := c.NewSubscriptionClient()
	ctx, cancel := context.WithCancel(context.Background())
	errCh, err := ws.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	err, _ = recvTimeout(t, errCh)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSubscriptionAnonymousInit(t *testing.T) {
	srv := startWSServer(t, false, func(p *wsPeer) {
		m := p.read()
		if m.Type != wsConnectionInit || strings.TrimSpace(string(m.Payload)) != "{}" || p.req.Header.Get("Authorization") != "" {
			t.Errorf("anonymous init = %+v", m)
		}
		p.send(`{"type":"connection_error","payload":{"message":"missing authorization token in connection params"}}`)
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.TokenSource = nil })
	_, err := c.NewSubscriptionClient().Start(context.Background())
	if KindOf(err) != KindUnauthenticated || !strings.Contains(err.Error(), "missing authorization token") {
		t.Fatalf("err = %v", err)
	}
}
