package graphqlws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	graphql "github.com/graph-gophers/graphql-go"
)

// TestMain fails the run when a goroutine started by the handler, the test
// resolvers or graph-gophers outlives the tests (no goleak in go.mod).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitNoLeaks(10 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

func waitNoLeaks(d time.Duration) string {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		leaked := leakedGoroutines()
		if leaked == "" {
			return ""
		}
		select {
		case <-ctx.Done():
			return leaked
		case <-tick.C:
		}
	}
}

func leakedGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "leakedGoroutines") {
			continue
		}
		if strings.Contains(g, "graphqlws.(*connection)") ||
			strings.Contains(g, "graphqlws.(*testResolver)") ||
			strings.Contains(g, "graphql-go/internal/exec") ||
			strings.Contains(g, "graphql-go.(*Schema)") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

const testSDL = `
schema { query: Query subscription: Subscription }
type Query { ping: String! }
type Subscription {
  ticks(count: Int!): Tick!
  forever(name: String!): Tick!
  flood(size: Int!): Tick!
  denied: Tick!
  whoami: String!
}
type Tick { n: Int!  text: String  boom: String }
`

type callerKey struct{}

// extError carries extensions, as the sandbox's errors may for HTTP.
type extError struct{ msg string }

func (e extError) Error() string { return e.msg }
func (e extError) Extensions() map[string]interface{} {
	return map[string]interface{}{"code": "FORBIDDEN"}
}

type tick struct {
	n    int32
	text string
}

func (t *tick) N() int32 { return t.n }
func (t *tick) Text() *string {
	if t.text == "" {
		return nil
	}
	return &t.text
}
func (t *tick) Boom() (*string, error) { return nil, extError{"boom failed"} }

type testResolver struct {
	stopped chan string // names of forever/flood subscriptions whose context ended
}

func (r *testResolver) Ping() string { return "pong" }

func (r *testResolver) Ticks(ctx context.Context, args struct{ Count int32 }) (<-chan *tick, error) {
	ch := make(chan *tick)
	go func() {
		defer close(ch)
		for i := int32(1); i <= args.Count; i++ {
			select {
			case ch <- &tick{n: i}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func (r *testResolver) Forever(ctx context.Context, args struct{ Name string }) (<-chan *tick, error) {
	ch := make(chan *tick)
	go func() {
		defer close(ch)
		select {
		case ch <- &tick{n: 1}:
		case <-ctx.Done():
		}
		<-ctx.Done()
		r.stopped <- args.Name
	}()
	return ch, nil
}

func (r *testResolver) Flood(ctx context.Context, args struct{ Size int32 }) (<-chan *tick, error) {
	ch := make(chan *tick)
	text := strings.Repeat("x", int(args.Size))
	go func() {
		defer close(ch)
		for i := int32(1); ; i++ {
			select {
			case ch <- &tick{n: i, text: text}:
			case <-ctx.Done():
				r.stopped <- "flood"
				return
			}
		}
	}()
	return ch, nil
}

func (r *testResolver) Denied(ctx context.Context) (<-chan *tick, error) {
	return nil, extError{"forbidden: not allowed"}
}

func (r *testResolver) Whoami(ctx context.Context) (<-chan string, error) {
	ch := make(chan string, 1)
	who, _ := ctx.Value(callerKey{}).(string)
	ch <- who
	close(ch)
	return ch, nil
}

// failStart makes the operation named FailStart fail before it starts.
type failStart struct{ Subscriber }

func (f failStart) Subscribe(ctx context.Context, q, op string, vars map[string]interface{}) (<-chan interface{}, error) {
	if op == "FailStart" {
		return nil, errors.New("cannot start subscription")
	}
	return f.Subscriber.Subscribe(ctx, q, op, vars)
}

func testAuth(ctx context.Context, r *http.Request, payload map[string]interface{}) (context.Context, error) {
	if r.Header.Get("Authorization") == "Bearer header-token" {
		return context.WithValue(ctx, callerKey{}, "header-user"), nil
	}
	switch tok, _ := payload["Authorization"].(string); tok {
	case "Bearer good":
		return context.WithValue(ctx, callerKey{}, "alice"), nil
	case "":
		return nil, errors.New("missing authorization token in connection params")
	default:
		return nil, errors.New("unauthorized: token is invalid")
	}
}

type testServer struct {
	url      string
	resolver *testResolver
	cancel   context.CancelFunc
}

// newServer serves the handler on 127.0.0.1. Cleanup cancels the base
// context (which ends every connection) and waits for the handlers.
func newServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	res := &testResolver{stopped: make(chan string, 16)}
	schema := graphql.MustParseSchema(testSDL, res)
	if opts.Fallback == nil {
		opts.Fallback = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"no queries to execute"}`)
		})
	}
	h := NewHandler(failStart{schema}, testAuth, opts)

	baseCtx, cancel := context.WithCancel(context.Background())
	var active sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer active.Done()
		h.ServeHTTP(w, r)
	}))
	srv.Config.BaseContext = func(net.Listener) context.Context { return baseCtx }
	srv.Start()
	t.Cleanup(func() {
		cancel()
		done := make(chan struct{})
		go func() { active.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("a graphql-ws handler did not return after its base context ended")
		}
		srv.Close()
	})
	return &testServer{url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/graphql", resolver: res, cancel: cancel}
}

// waitStopped waits until the resolver reports that subscription name ended.
func (s *testServer) waitStopped(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		select {
		case got := <-s.resolver.stopped:
			if got == name {
				return
			}
		case <-ctx.Done():
			t.Fatalf("subscription %q was not cancelled", name)
		}
	}
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, url string, hdr http.Header) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{Protocol}, HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if ws.Subprotocol() != Protocol {
		t.Fatalf("subprotocol = %q", ws.Subprotocol())
	}
	ws.SetReadLimit(-1)
	t.Cleanup(func() { _ = ws.CloseNow() })
	return &client{t: t, ws: ws}
}

func (c *client) send(raw string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(raw)); err != nil {
		c.t.Fatalf("write %s: %v", raw, err)
	}
}

// readRaw returns the next frame's bytes, or the read error.
func (c *client) readRaw() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	return string(b), err
}

func (c *client) read() frame {
	c.t.Helper()
	raw, err := c.readRaw()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var f frame
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		c.t.Fatalf("frame %q: %v", raw, err)
	}
	return f
}

// expect reads the next frame and compares it to want, as JSON.
func (c *client) expect(want string) {
	c.t.Helper()
	raw, err := c.readRaw()
	if err != nil {
		c.t.Fatalf("read (want %s): %v", want, err)
	}
	if !jsonEqual(raw, want) {
		c.t.Fatalf("frame = %s, want %s", raw, want)
	}
}

// expectClose reads until the connection ends and checks its close status
// (-1: dropped without a close frame).
func (c *client) expectClose(code websocket.StatusCode) {
	c.t.Helper()
	raw, err := c.readRaw()
	if err == nil {
		c.t.Fatalf("got frame %s, want the connection to close with %d", raw, code)
	}
	if got := websocket.CloseStatus(err); got != code {
		c.t.Fatalf("close status = %d (%v), want %d", got, err, code)
	}
}

func (c *client) init() {
	c.t.Helper()
	c.send(`{"type":"connection_init","payload":{"Authorization":"Bearer good"}}`)
	c.expect(`{"type":"connection_ack"}`)
}

func jsonEqual(a, b string) bool {
	var x, y interface{}
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func start(id, query string) string {
	b, _ := json.Marshal(frame{ID: id, Type: "start", Payload: mustJSON(map[string]interface{}{"query": query, "variables": map[string]interface{}{}})})
	return string(b)
}

func mustJSON(v interface{}) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestConnectionInit(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{})
	tests := []struct {
		name    string
		header  http.Header
		init    string
		wantErr string // connection_error message; "" means ack
	}{
		{name: "token in payload", init: `{"type":"connection_init","payload":{"Authorization":"Bearer good"}}`},
		{name: "token in upgrade header", header: http.Header{"Authorization": {"Bearer header-token"}}, init: `{"type":"connection_init","payload":{}}`},
		{name: "bad token", init: `{"type":"connection_init","payload":{"Authorization":"Bearer bad"}}`, wantErr: "unauthorized: token is invalid"},
		{name: "no token", init: `{"type":"connection_init","payload":{}}`, wantErr: "missing authorization token in connection params"},
		{name: "missing payload", init: `{"type":"connection_init"}`, wantErr: "invalid payload"},
		{name: "null payload", init: `{"type":"connection_init","payload":null}`, wantErr: "invalid payload"},
		{name: "string payload", init: `{"type":"connection_init","payload":"Bearer good"}`, wantErr: "invalid payload"},
		{name: "array payload", init: `{"type":"connection_init","payload":[]}`, wantErr: "invalid payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, srv.url, tt.header)
			c.send(tt.init)
			if tt.wantErr == "" {
				c.expect(`{"type":"connection_ack"}`)
				// The connection stays usable.
				c.send(`{"type":"ka"}`)
				c.expect(`{"type":"ka"}`)
				return
			}
			c.expect(fmt.Sprintf(`{"type":"connection_error","payload":{"message":%q}}`, tt.wantErr))
			c.expectClose(websocket.StatusInternalError)
		})
	}
}

func TestCallerContext(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{})
	tests := []struct {
		name   string
		header http.Header
		init   string
		want   string
	}{
		{name: "payload", init: `{"type":"connection_init","payload":{"Authorization":"Bearer good"}}`, want: "alice"},
		{name: "header", header: http.Header{"Authorization": {"Bearer header-token"}}, init: `{"type":"connection_init","payload":{}}`, want: "header-user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, srv.url, tt.header)
			c.send(tt.init)
			c.expect(`{"type":"connection_ack"}`)
			c.send(start("w", "subscription { whoami }"))
			c.expect(fmt.Sprintf(`{"id":"w","type":"data","payload":{"data":{"whoami":%q}}}`, tt.want))
			c.expect(`{"id":"w","type":"complete"}`)
		})
	}
}

func TestDataThenServerSideComplete(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{})
	c := dial(t, srv.url, nil)
	c.init()
	c.send(`{"id":"1","type":"start","payload":{"query":"subscription T($n: Int!) { ticks(count: $n) { n } }","variables":{"n":3},"operationName":"T"}}`)
	for i := 1; i <= 3; i++ {
		c.expect(fmt.Sprintf(`{"id":"1","type":"data","payload":{"data":{"ticks":{"n":%d}}}}`, i))
	}
	c.expect(`{"id":"1","type":"complete"}`)
	// The id is free again once the subscription completed.
	c.send(start("1", "subscription { ticks(count: 1) { n } }"))
	c.expect(`{"id":"1","type":"data","payload":{"data":{"ticks":{"n":1}}}}`)
	c.expect(`{"id":"1","type":"complete"}`)
}

func TestStop(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{})
	c := dial(t, srv.url, nil)
	c.init()
	c.send(start("s", `subscription { forever(name: "s") { n } }`))
	c.expect(`{"id":"s","type":"data","payload":{"data":{"forever":{"n":1}}}}`)
	c.send(`{"id":"s","type":"stop"}`)
	c.expect(`{"id":"s","type":"complete"}`)
	srv.waitStopped(t, "s")
	// Nothing else was queued for s: the next frame answers the ka.
	c.send(`{"type":"ka"}`)
	c.expect(`{"type":"ka"}`)
	// Stop for an id that is not running is still answered.
	c.send(`{"id":"nope","type":"stop"}`)
	c.expect(`{"id":"nope","type":"complete"}`)
}

func TestKeepAliveEchoAndUnknownType(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{})
	c := dial(t, srv.url, nil)
	c.init()
	tests := []struct{ in, want string }{
		{`{"type":"ka"}`, `{"type":"ka"}`},
		{`{"type":"bogus"}`, `{"type":"error","payload":{"message":"unknown operation message of type: bogus"}}`},
		{`{"id":"7","type":"subscribe"}`, `{"id":"7","type":"error","payload":{"message":"unknown operation message of type: subscribe"}}`},
		{`{"type":"ka"}`, `{"type":"ka"}`},
	}
	for _, tt := range tests {
		c.send(tt.in)
		raw, err := c.readRaw()
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		// ka is compared byte for byte: clients match on it.
		if tt.want == `{"type":"ka"}` && raw != tt.want {
			t.Fatalf("ka echo = %s", raw)
		}
		if !jsonEqual(raw, tt.want) {
			t.Fatalf("%s -> %s, want %s", tt.in, raw, tt.want)
		}
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{})
	tests := []struct {
		name   string
		noInit bool
		frames []string
		want   []string
	}{
		{
			name:   "missing id",
			frames: []string{`{"type":"start","payload":{"query":"subscription { whoami }"}}`},
			want:   []string{`{"type":"error","payload":{"message":"missing ID for start operation"}}`},
		},
		{
			name:   "duplicate id",
			frames: []string{start("d", `subscription { forever(name: "dup") { n } }`), start("d", "subscription { whoami }")},
			want: []string{
				`{"id":"d","type":"data","payload":{"data":{"forever":{"n":1}}}}`,
				`{"type":"error","payload":{"message":"duplicate message ID for start operation"}}`,
			},
		},
		{
			name:   "invalid payload",
			frames: []string{`{"id":"p","type":"start","payload":"subscription { whoami }"}`},
			want:   []string{`{"id":"p","type":"error","payload":{"message":"invalid payload for type: start"}}`},
		},
		{
			name:   "before connection_init",
			noInit: true,
			frames: []string{start("early", "subscription { whoami }")},
			want:   []string{`{"id":"early","type":"error","payload":{"message":"connection not initialized: send connection_init first"}}`},
		},
		{
			name:   "second connection_init",
			frames: []string{`{"type":"connection_init","payload":{"Authorization":"Bearer good"}}`},
			want:   []string{`{"type":"error","payload":{"message":"connection already initialized"}}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, srv.url, nil)
			if !tt.noInit {
				c.init()
			}
			for i, f := range tt.frames {
				c.send(f)
				c.expect(tt.want[i])
			}
			// The connection survives.
			c.send(`{"type":"ka"}`)
			c.expect(`{"type":"ka"}`)
		})
	}
}

func TestSubscriptionErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{})
	tests := []struct {
		name        string
		query       string
		opName      string
		wantMessage string
		wantData    string // expected "data" member, "" = absent
	}{
		{name: "resolver error", query: "subscription { denied { n } }", wantMessage: "forbidden: not allowed"},
		{name: "field error with extensions", query: "subscription { ticks(count: 1) { n boom } }", wantMessage: "boom failed", wantData: `{"ticks":{"n":1,"boom":null}}`},
		{name: "validation error", query: "subscription { nosuchfield }", wantMessage: `Cannot query field "nosuchfield" on type "Subscription".`},
		{name: "subscribe fails to start", query: "subscription FailStart { whoami }", opName: "FailStart", wantMessage: "cannot start subscription"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, srv.url, nil)
			c.init()
			b, _ := json.Marshal(frame{ID: "e", Type: "start", Payload: mustJSON(map[string]interface{}{"query": tt.query, "operationName": tt.opName})})
			c.send(string(b))
			f := c.read()
			if f.ID != "e" || f.Type != "data" {
				t.Fatalf("frame = %+v, want data for e", f)
			}
			if strings.Contains(string(f.Payload), "extensions") {
				t.Errorf("payload has extensions: %s", f.Payload)
			}
			var p struct {
				Data   json.RawMessage `json:"data"`
				Errors []struct {
					Message    string                 `json:"message"`
					Extensions map[string]interface{} `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(f.Payload, &p); err != nil {
				t.Fatal(err)
			}
			if len(p.Errors) != 1 || p.Errors[0].Message != tt.wantMessage {
				t.Errorf("errors = %s, want one with message %q", f.Payload, tt.wantMessage)
			}
			if tt.wantData == "" && len(p.Data) != 0 && string(p.Data) != "null" {
				t.Errorf("data = %s, want none", p.Data)
			}
			if tt.wantData != "" && !jsonEqual(string(p.Data), tt.wantData) {
				t.Errorf("data = %s, want %s", p.Data, tt.wantData)
			}
			c.expect(`{"id":"e","type":"complete"}`)
		})
	}
}

func TestConcurrentSubscriptions(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{})
	c := dial(t, srv.url, nil)
	c.init()
	const n = 20
	c.send(start("a", fmt.Sprintf("subscription { ticks(count: %d) { n } }", n)))
	c.send(start("b", fmt.Sprintf("subscription { ticks(count: %d) { n } }", n)))
	c.send(start("f", `subscription { forever(name: "f") { n } }`))

	next := map[string]int32{"a": 1, "b": 1, "f": 1}
	done := map[string]bool{}
	for !done["a"] || !done["b"] || next["f"] == 1 {
		f := c.read()
		switch f.Type {
		case "data":
			var p struct {
				Data map[string]struct{ N int32 } `json:"data"`
			}
			if err := json.Unmarshal(f.Payload, &p); err != nil {
				t.Fatal(err)
			}
			field := map[string]string{"a": "ticks", "b": "ticks", "f": "forever"}[f.ID]
			if done[f.ID] || p.Data[field].N != next[f.ID] {
				t.Fatalf("%s: got %s, want n=%d (done=%v)", f.ID, f.Payload, next[f.ID], done[f.ID])
			}
			next[f.ID]++
		case "complete":
			if f.ID == "f" || next[f.ID] != n+1 {
				t.Fatalf("early complete for %s after %d events", f.ID, next[f.ID]-1)
			}
			done[f.ID] = true
		default:
			t.Fatalf("unexpected frame %+v", f)
		}
	}
	// The long-lived one is still running; stop ends only it.
	c.send(`{"id":"f","type":"stop"}`)
	c.expect(`{"id":"f","type":"complete"}`)
	srv.waitStopped(t, "f")
}

func TestMessageSizeLimit(t *testing.T) {
	t.Parallel()
	// A ka frame padded with spaces to exactly size bytes.
	ka := func(size int) string { return `{"type":"ka"` + strings.Repeat(" ", size-len(`{"type":"ka"}`)) + `}` }
	tests := []struct {
		name  string
		limit int64
		size  int
		ok    bool
	}{
		{name: "default limit, at limit", size: 10 * 1024, ok: true},
		{name: "default limit, over", size: 10*1024 + 1},
		{name: "custom limit, at limit", limit: 256, size: 256, ok: true},
		{name: "custom limit, over", limit: 256, size: 257},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, Options{MaxMessageSize: tt.limit})
			c := dial(t, srv.url, nil)
			c.init()
			c.send(ka(tt.size))
			if tt.ok {
				c.expect(`{"type":"ka"}`)
				return
			}
			c.expectClose(websocket.StatusMessageTooBig)
		})
	}
}

func TestDropAfterBytes(t *testing.T) {
	t.Parallel()
	ack := int64(len(`{"type":"connection_ack"}`))
	tests := []struct {
		name  string
		limit int64
		drop  bool
	}{
		{name: "never (0)", limit: 0},
		{name: "never (negative)", limit: -1},
		{name: "after the first data frame", limit: ack + 1, drop: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			var mu sync.Mutex
			srv := newServer(t, Options{DropAfterBytes: func() int64 { mu.Lock(); defer mu.Unlock(); calls++; return tt.limit }})
			c := dial(t, srv.url, nil)
			c.init()
			c.send(start("1", `subscription { forever(name: "drop") { n } }`))
			c.expect(`{"id":"1","type":"data","payload":{"data":{"forever":{"n":1}}}}`)
			if tt.drop {
				// No close frame, no complete: the TCP connection just ends.
				c.expectClose(-1)
				srv.waitStopped(t, "drop")
			} else {
				c.send(`{"id":"1","type":"stop"}`)
				c.expect(`{"id":"1","type":"complete"}`)
				srv.waitStopped(t, "drop")
			}
			mu.Lock()
			defer mu.Unlock()
			if calls != 1 {
				t.Errorf("DropAfterBytes called %d times, want once per connection", calls)
			}
		})
	}
}

func TestConnectionTerminate(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{})
	c := dial(t, srv.url, nil)
	c.init()
	c.send(start("1", `subscription { forever(name: "term") { n } }`))
	c.expect(`{"id":"1","type":"data","payload":{"data":{"forever":{"n":1}}}}`)
	c.send(`{"type":"connection_terminate"}`)
	c.expectClose(websocket.StatusNormalClosure)
	srv.waitStopped(t, "term")
}

func TestInvalidJSONClosesConnection(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{})
	c := dial(t, srv.url, nil)
	c.init()
	c.send(`not json`)
	c.expectClose(websocket.StatusInvalidFramePayloadData)
}

func TestMaxConnectionDuration(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{MaxConnectionDuration: 200 * time.Millisecond})
	c := dial(t, srv.url, nil)
	c.init()
	c.send(start("1", `subscription { forever(name: "expire") { n } }`))
	c.expect(`{"id":"1","type":"data","payload":{"data":{"forever":{"n":1}}}}`)
	c.expectClose(websocket.StatusNormalClosure)
	srv.waitStopped(t, "expire")
}

func TestSlowReaderIsDisconnected(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{WriteTimeout: 200 * time.Millisecond})
	c := dial(t, srv.url, nil)
	c.init()
	// The client stops reading; the server's writes back up until one times
	// out, which must end the connection and the subscription.
	c.send(start("1", "subscription { flood(size: 65536) { n text } }"))
	srv.waitStopped(t, "flood")
	for {
		if _, err := c.readRaw(); err != nil {
			return
		}
	}
}

func TestServerShutdownEndsConnections(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{})
	c := dial(t, srv.url, nil)
	c.init()
	c.send(start("1", `subscription { forever(name: "shutdown") { n } }`))
	c.expect(`{"id":"1","type":"data","payload":{"data":{"forever":{"n":1}}}}`)
	srv.cancel()
	srv.waitStopped(t, "shutdown")
	if _, err := c.readRaw(); err == nil {
		t.Fatal("connection still open after the server's base context ended")
	}
}

func TestNonGraphQLWSRequests(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Options{})
	httpURL := "http" + strings.TrimPrefix(srv.url, "ws")

	t.Run("graphql-transport-ws upgrade falls through", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, resp, err := websocket.Dial(ctx, srv.url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err == nil {
			_ = ws.CloseNow()
			t.Fatal("upgrade without graphql-ws succeeded")
		}
		if resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("response = %+v, want 400", resp)
		}
		if got := resp.Header.Get("X-WebSocket-Upgrade-Failure"); got != "no subprotocols available" {
			t.Errorf("X-WebSocket-Upgrade-Failure = %q", got)
		}
	})
	t.Run("plain POST goes to the fallback", func(t *testing.T) {
		resp, err := http.Post(httpURL, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest || string(body) != `{"error":"no queries to execute"}` {
			t.Errorf("got %d %s", resp.StatusCode, body)
		}
	})
	t.Run("no fallback", func(t *testing.T) {
		rec := httptest.NewRecorder()
		NewHandler(nil, nil, Options{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/graphql", nil))
		if rec.Code != http.StatusBadRequest || rec.Header().Get("X-WebSocket-Upgrade-Failure") == "" {
			t.Errorf("got %d %v", rec.Code, rec.Header())
		}
	})
}

func TestIsUpgrade(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		header map[string]string
		want   bool
	}{
		{"graphql-ws", "GET", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Protocol": "graphql-ws"}, true},
		{"graphql-ws among others", "GET", map[string]string{"Connection": "keep-alive, Upgrade", "Upgrade": "WebSocket", "Sec-WebSocket-Protocol": "graphql-transport-ws, graphql-ws"}, true},
		{"graphql-transport-ws only", "GET", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Protocol": "graphql-transport-ws"}, false},
		{"no subprotocol", "GET", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}, false},
		{"subprotocol case differs", "GET", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Protocol": "GraphQL-WS"}, false},
		{"no Upgrade header", "GET", map[string]string{"Connection": "Upgrade", "Sec-WebSocket-Protocol": "graphql-ws"}, false},
		{"no Connection header", "GET", map[string]string{"Upgrade": "websocket", "Sec-WebSocket-Protocol": "graphql-ws"}, false},
		{"POST", "POST", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Protocol": "graphql-ws"}, false},
		{"plain GET", "GET", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/graphql", nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if got := IsUpgrade(r); got != tt.want {
				t.Errorf("IsUpgrade = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEncodeResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      interface{}
		want    string
		wantErr bool
	}{
		{name: "data only", in: &graphql.Response{Data: json.RawMessage(`{"a":1}`)}, want: `{"data":{"a":1}}`},
		{
			name: "extensions removed everywhere",
			in:   json.RawMessage(`{"data":null,"errors":[{"message":"m","path":["a"],"extensions":{"code":"FORBIDDEN"}}],"extensions":{"cost":1}}`),
			want: `{"data":null,"errors":[{"message":"m","path":["a"]}]}`,
		},
		{name: "errors only", in: json.RawMessage(`{"errors":[{"message":"m"}]}`), want: `{"errors":[{"message":"m"}]}`},
		{name: "not an object", in: "text", wantErr: true},
		{name: "error not an object", in: json.RawMessage(`{"errors":["m"]}`), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeResponse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !jsonEqual(string(got), tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if !tt.wantErr && strings.Contains(tt.want, `"data":null`) && !strings.Contains(string(got), `"data":null`) {
				t.Errorf("data:null lost: %s", got)
			}
		})
	}
}
