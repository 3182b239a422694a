package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/coder/websocket"
)

// The legacy Apollo subscriptions-transport-ws protocol, the only one the
// Tharsis API speaks on <endpoint>/graphql.
const (
	wsSubprotocol = "graphql-ws"

	wsConnectionInit      = "connection_init"
	wsConnectionAck       = "connection_ack"
	wsConnectionError     = "connection_error"
	wsConnectionTerminate = "connection_terminate"
	wsKeepAlive           = "ka"
	wsStart               = "start"
	wsStop                = "stop"
	wsData                = "data"
	wsError               = "error"
	wsComplete            = "complete"

	// The server rejects client messages over 10 KiB.
	wsMaxClientMessage = 10 << 10
	// A log chunk is at most 1 MiB, JSON-escaped (ANSI escapes grow 6x).
	wsReadLimit    = 32 << 20
	wsWriteTimeout = 10 * time.Second
	wsCloseWait    = time.Second
)

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// NewSubscriptionClient returns a fresh, unstarted graphql-ws connection for
// genqlient's generated subscription functions (e.g. gql.JobLogStreamEvents).
//
// Semantics, beyond genqlient's interface documentation:
//   - Start dials wss://…/graphql (ws:// for http endpoints) with the bearer
//     token on the upgrade and in connection_init, and returns once the server
//     acknowledged; a connection_error is an *Error of KindUnauthenticated.
//     The connection lives until Close is called or Start's ctx is done.
//   - Each subscription's channel receives every data payload (GraphQL errors
//     arrive in the response's Errors field; map them with GraphQLError) and
//     is closed after the server's complete, or by Unsubscribe or Close. A slow
//     reader does not block the connection or other subscriptions until
//     maxQueuedBytes of its messages wait; then the connection waits for it.
//   - When the connection drops, one *Error of KindTransient is sent on the
//     error channel and the data channels stay open (closing them would look
//     like a normal completion): select on both, then Close and reconnect.
//   - The error channel is closed by Close.
func (c *Client) NewSubscriptionClient() graphql.WebSocketClient {
	return &subscriptionClient{c: c}
}

type subscriptionClient struct {
	c *Client

	mu      sync.Mutex
	conn    *websocket.Conn
	started bool
	closed  bool
	failed  bool
	errCh   chan error
	subs    map[string]*wsSub
	nextID  int
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup // reader and keep-alive goroutines
}

var _ graphql.WebSocketClient = (*subscriptionClient)(nil)

func (s *subscriptionClient) wsURL() string {
	u := s.c.endpoint
	switch {
	case strings.HasPrefix(u, "https://"):
		u = "wss://" + strings.TrimPrefix(u, "https://")
	case strings.HasPrefix(u, "http://"):
		u = "ws://" + strings.TrimPrefix(u, "http://")
	}
	return u + "/graphql"
}

// Start connects, sends connection_init and waits for connection_ack.
func (s *subscriptionClient) Start(ctx context.Context) (chan error, error) {
	const op = "start subscription"
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return nil, &Error{Kind: KindBadRequest, Op: op, Message: "the subscription client was already started; create a new one to reconnect"}
	}
	s.started = true
	s.mu.Unlock()

	dialCtx, cancelDial := context.WithTimeout(ctx, s.c.timeout)
	defer cancelDial()

	hdr := http.Header{}
	hdr.Set("User-Agent", s.c.userAgent)
	initPayload := map[string]string{}
	if s.c.tokens != nil {
		tok, err := s.c.tokens.Token(ctx)
		if err != nil {
			return nil, s.abort(transportError(op, s.c.host, &tokenError{err: err}, false))
		}
		if tok != "" {
			hdr.Set("Authorization", "Bearer "+tok)
			initPayload["Authorization"] = "Bearer " + tok
		}
	}

	s.c.log.Debug("api: subscription connecting", "url", s.wsURL())
	conn, resp, err := websocket.Dial(dialCtx, s.wsURL(), &websocket.DialOptions{
		HTTPClient:   s.c.wsHTTP,
		HTTPHeader:   hdr,
		Subprotocols: []string{wsSubprotocol},
	})
	if err != nil {
		return nil, s.abort(s.dialError(ctx, op, resp, err))
	}
	if conn.Subprotocol() != wsSubprotocol {
		conn.CloseNow()
		return nil, s.abort(&Error{Kind: KindUnknown, Op: op,
			Message: "the server did not accept the graphql-ws subscription protocol",
			Hint:    "Check that the endpoint is a Tharsis API and that proxies pass websocket upgrades."})
	}
	conn.SetReadLimit(wsReadLimit)

	if err := writeMessage(dialCtx, conn, wsMessage{Type: wsConnectionInit, Payload: mustJSON(initPayload)}); err != nil {
		conn.CloseNow()
		return nil, s.abort(s.connError(ctx, op, err))
	}
	if err := s.awaitAck(dialCtx, ctx, op, conn); err != nil {
		conn.CloseNow()
		return nil, s.abort(err)
	}
	s.c.log.Debug("api: subscription connection acknowledged")

	bg, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.conn = conn
	s.errCh = make(chan error, 1)
	s.subs = map[string]*wsSub{}
	s.ctx, s.cancel = bg, cancel
	s.wg.Add(1)
	go s.readLoop(conn)
	if s.c.keepAlive > 0 {
		s.wg.Add(1)
		go s.keepAliveLoop(conn)
	}
	errCh := s.errCh
	s.mu.Unlock()
	return errCh, nil
}

// abort marks a failed Start so that Close stays a no-op.
func (s *subscriptionClient) abort(e *Error) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return e
}

func (s *subscriptionClient) awaitAck(dialCtx, ctx context.Context, op string, conn *websocket.Conn) *Error {
	for {
		_, data, err := conn.Read(dialCtx)
		if err != nil {
			if dialCtx.Err() != nil && ctx.Err() == nil {
				return &Error{Kind: KindServiceUnavailable, Op: op,
					Message: fmt.Sprintf("the server did not acknowledge the subscription connection within %s", s.c.timeout),
					Hint:    "Try again later; check that proxies pass websocket traffic."}
			}
			return s.connError(ctx, op, err)
		}
		var m wsMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return &Error{Kind: KindUnknown, Op: op, Message: "the server sent an invalid subscription message: " + err.Error(), Err: err}
		}
		switch m.Type {
		case wsConnectionAck:
			return nil
		case wsConnectionError:
			return &Error{Kind: KindUnauthenticated, Op: op, Message: payloadMessage(m.Payload, "the server refused the subscription connection"), Hint: hintLogin}
		case wsError:
			return &Error{Kind: KindUnknown, Op: op, Message: payloadMessage(m.Payload, "the server refused the subscription connection")}
		default: // "ka" and anything else before the ack
			s.c.log.Debug("api: subscription message before ack", "type", m.Type)
		}
	}
}

// dialError maps a failed websocket handshake.
func (s *subscriptionClient) dialError(ctx context.Context, op string, resp *http.Response, err error) *Error {
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols && resp.StatusCode != 0 {
		var body []byte
		if resp.Body != nil {
			body, _ = io.ReadAll(io.LimitReader(resp.Body, 1024))
		}
		e := responseError(op, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		if f := resp.Header.Get("X-WebSocket-Upgrade-Failure"); f != "" {
			e.Message = "the server refused the websocket upgrade: " + f
			e.Hint = "Check that proxies between you and Tharsis pass websocket upgrades."
		}
		return e
	}
	return s.connError(ctx, op, err)
}

// connError maps a websocket read or write failure.
func (s *subscriptionClient) connError(ctx context.Context, op string, err error) *Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &Error{Kind: KindUnknown, Op: op, Message: "canceled", Err: ctxErr}
	}
	if cs := websocket.CloseStatus(err); cs != -1 {
		var ce websocket.CloseError
		reason := ""
		if errors.As(err, &ce) && ce.Reason != "" {
			reason = ": " + ce.Reason
		}
		return &Error{Kind: KindTransient, Op: op,
			Message: fmt.Sprintf("the server closed the subscription connection (status %d%s)", int(cs), reason),
			Hint:    "Reconnect to resume the stream.", Err: err}
	}
	e := transportError(op, s.c.host, err, false)
	if e.Hint == hintCA || strings.HasPrefix(e.Message, "cannot resolve host") {
		return e
	}
	e.Kind = KindTransient
	return e
}

func (s *subscriptionClient) readLoop(conn *websocket.Conn) {
	defer s.wg.Done()
	for {
		_, data, err := conn.Read(s.ctx)
		if err != nil {
			s.fail(s.dropError(err))
			return
		}
		if id, payload, ok := splitData(data); ok {
			s.route(id, payload, false)
			continue
		}
		var m wsMessage
		if err := json.Unmarshal(data, &m); err != nil {
			s.c.log.Debug("api: invalid subscription message", "error", err)
			continue
		}
		switch m.Type {
		case wsData:
			s.route(m.ID, m.Payload, false)
		case wsError:
			if m.ID == "" {
				s.c.log.Debug("api: subscription protocol error", "message", payloadMessage(m.Payload, ""))
				continue
			}
			s.route(m.ID, errorPayload(m.Payload), true)
		case wsComplete:
			s.route(m.ID, nil, true)
		case wsConnectionError:
			s.fail(&Error{Kind: KindUnauthenticated, Op: "subscription", Message: payloadMessage(m.Payload, "the server ended the subscription connection"), Hint: hintLogin})
			return
		case wsKeepAlive, wsConnectionAck:
		default:
			s.c.log.Debug("api: unknown subscription message", "type", m.Type)
		}
	}
}

func (s *subscriptionClient) dropError(err error) error {
	if ctxErr := s.ctx.Err(); ctxErr != nil {
		return &Error{Kind: KindUnknown, Op: "subscription", Message: "canceled", Err: ctxErr}
	}
	e := s.connError(context.Background(), "subscription", err)
	if websocket.CloseStatus(err) == -1 {
		e.Message = "the subscription connection was lost: " + innermost(err)
		e.Hint = "Reconnect to resume the stream."
		e.Kind = KindTransient
	}
	return e
}

// fail reports a fatal connection error once and tears the connection down.
func (s *subscriptionClient) fail(err error) {
	s.mu.Lock()
	if s.closed || s.failed {
		s.mu.Unlock()
		return
	}
	s.failed = true
	s.errCh <- err // buffered; the only send ever
	conn := s.conn
	s.mu.Unlock()
	s.c.log.Debug("api: subscription connection failed", "error", err)
	s.cancel()
	conn.CloseNow()
}

func (s *subscriptionClient) keepAliveLoop(conn *websocket.Conn) {
	defer s.wg.Done()
	t := time.NewTicker(s.c.keepAlive)
	defer t.Stop()
	// A pong normally takes milliseconds; give a slow link the interval.
	pingTimeout := max(s.c.keepAlive, time.Second)
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		if err := writeMessage(s.ctx, conn, wsMessage{Type: wsKeepAlive}); err != nil {
			if s.ctx.Err() == nil {
				s.fail(s.dropError(err))
			}
			return
		}
		pctx, cancel := context.WithTimeout(s.ctx, pingTimeout)
		err := conn.Ping(pctx)
		cancel()
		if err != nil {
			if s.ctx.Err() == nil {
				s.fail(&Error{Kind: KindTransient, Op: "subscription",
					Message: "the subscription connection stopped responding",
					Hint:    "Reconnect to resume the stream.", Err: err})
			}
			return
		}
	}
}

// route hands a payload to its subscription; end marks the last message.
func (s *subscriptionClient) route(id string, payload json.RawMessage, end bool) {
	s.mu.Lock()
	d := s.subs[id]
	if end {
		delete(s.subs, id)
	}
	s.mu.Unlock()
	if d == nil {
		s.c.log.Debug("api: message for an unknown subscription", "id", id)
		return
	}
	d.push(payload, end)
}

// Subscribe starts a subscription and returns its id.
func (s *subscriptionClient) Subscribe(req *graphql.Request, interfaceChan interface{}, forwardDataFunc graphql.ForwardDataFunction) (string, error) {
	op := describeOp(req.OpName)
	ch := reflect.ValueOf(interfaceChan)
	if !ch.IsValid() || ch.Kind() != reflect.Chan || ch.Type().ChanDir() != reflect.BothDir || ch.IsNil() {
		return "", &Error{Kind: KindBadRequest, Op: op, Message: "the subscription channel must be a non-nil bidirectional channel"}
	}
	if forwardDataFunc == nil {
		return "", &Error{Kind: KindBadRequest, Op: op, Message: "no forward function"}
	}
	if t := operationType(req.Query); t != "subscription" {
		return "", &Error{Kind: KindBadRequest, Op: op, Message: fmt.Sprintf("a %s cannot be sent over the subscription connection", t)}
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return "", &Error{Kind: KindBadRequest, Op: op, Message: "encode request: " + err.Error(), Err: err}
	}

	s.mu.Lock()
	if !s.started || s.conn == nil || s.closed || s.failed {
		s.mu.Unlock()
		return "", &Error{Kind: KindBadRequest, Op: op, Message: "the subscription connection is not open; Start it (again) first"}
	}
	s.nextID++
	id := strconv.Itoa(s.nextID)
	msg := mustJSON(wsMessage{ID: id, Type: wsStart, Payload: payload})
	if len(msg) > wsMaxClientMessage {
		s.mu.Unlock()
		return "", &Error{Kind: KindBadRequest, Op: op,
			Message: fmt.Sprintf("the subscription request is %d bytes; the server accepts at most %d", len(msg), wsMaxClientMessage)}
	}
	d := newWSSub(ch, forwardDataFunc, s.c)
	s.subs[id] = d
	conn, ctx := s.conn, s.ctx
	s.mu.Unlock()

	s.c.log.Debug("api: subscribe", "operation", req.OpName, "id", id)
	wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
	defer cancel()
	if err := conn.Write(wctx, websocket.MessageText, msg); err != nil {
		s.mu.Lock()
		delete(s.subs, id)
		s.mu.Unlock()
		d.halt()
		return "", s.connError(ctx, op, err)
	}
	return id, nil
}

// Unsubscribe stops a subscription; its channel is closed when it returns.
func (s *subscriptionClient) Unsubscribe(id string) error {
	s.mu.Lock()
	d := s.subs[id]
	delete(s.subs, id)
	alive := s.conn != nil && !s.closed && !s.failed
	conn, ctx := s.conn, s.ctx
	s.mu.Unlock()
	if d == nil {
		return &Error{Kind: KindNotFound, Op: "unsubscribe", Message: fmt.Sprintf("no active subscription %q", id)}
	}
	d.halt()
	if !alive {
		return nil
	}
	if err := writeMessage(ctx, conn, wsMessage{ID: id, Type: wsStop}); err != nil && ctx.Err() == nil {
		return s.connError(ctx, "unsubscribe", err)
	}
	return nil
}

// Close ends the connection (connection_terminate, then a normal close),
// closes every subscription channel and then the error channel.
func (s *subscriptionClient) Close() error {
	s.mu.Lock()
	if !s.started || s.closed || s.conn == nil {
		s.closed = true
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	subs := s.subs
	s.subs = nil
	conn, failed := s.conn, s.failed
	s.mu.Unlock()

	for _, d := range subs {
		d.halt()
	}
	if !failed {
		// The reader goroutine sees the peer's close frame and exits; fail
		// is a no-op once closed is set.
		wctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = writeMessage(wctx, conn, wsMessage{Type: wsConnectionTerminate})
		cancel()
		// Wait briefly for the close handshake; an unresponsive server must
		// not hold the CLI at exit.
		closed := make(chan struct{})
		go func() {
			_ = conn.Close(websocket.StatusNormalClosure, "")
			close(closed)
		}()
		t := time.NewTimer(wsCloseWait)
		select {
		case <-closed:
		case <-t.C:
			conn.CloseNow()
			<-closed
		}
		t.Stop()
	}
	s.cancel()
	conn.CloseNow()
	s.wg.Wait()
	close(s.errCh)
	s.c.log.Debug("api: subscription connection closed")
	return nil
}

// maxQueuedBytes bounds the payloads waiting for one subscription's reader.
// Past it the connection's reader waits (and TCP holds the server back), so
// that a log stream the server sends faster than the CLI prints it does not
// pile up in memory (a 10 MiB log printed to a slow pipe: 45 to 49 MiB of
// peak RSS without the bound, 37 to 40 MiB with it); two chunks of the
// server's largest size keep the reader ahead. A reader that stalls for
// longer than a keep-alive ping's timeout then loses the connection, and a
// log stream resumes from its offset.
const maxQueuedBytes = 2 << 20

// wsSub delivers one subscription's payloads to its channel from its own
// goroutine, so that a slow consumer does not stall the connection (up to
// maxQueuedBytes), and is the only closer of the channel.
type wsSub struct {
	ch      reflect.Value
	forward graphql.ForwardDataFunction
	c       *Client
	direct  bool // the channel carries graphql.BaseResponse-shaped values (see decode)

	mu     sync.Mutex
	queue  []json.RawMessage
	queued int // bytes in queue
	ended  bool
	wake   chan struct{}
	room   chan struct{} // the reader took a payload from a full queue

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

func newWSSub(ch reflect.Value, fwd graphql.ForwardDataFunction, c *Client) *wsSub {
	d := &wsSub{ch: ch, forward: fwd, c: c, direct: isBaseResponse(ch.Type().Elem()),
		wake: make(chan struct{}, 1), room: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d
}

func (d *wsSub) push(p json.RawMessage, end bool) {
	d.mu.Lock()
	for p != nil && d.queued >= maxQueuedBytes {
		d.mu.Unlock()
		select {
		case <-d.room:
		case <-d.stop:
			return
		}
		d.mu.Lock()
	}
	if p != nil {
		d.queue = append(d.queue, p)
		d.queued += len(p)
	}
	if end {
		d.ended = true
	}
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// halt drops what is queued, closes the channel and waits for that.
func (d *wsSub) halt() {
	d.stopOnce.Do(func() { close(d.stop) })
	<-d.done
}

func (d *wsSub) run() {
	defer close(d.done)
	defer d.ch.Close()
	stop := reflect.ValueOf(d.stop)
	for {
		select {
		case <-d.stop:
			return
		default:
		}
		d.mu.Lock()
		var p json.RawMessage
		have := len(d.queue) > 0
		if have {
			p = d.queue[0]
			d.queue[0] = nil
			d.queue = d.queue[1:]
			d.queued -= len(p)
		}
		ended := d.ended
		d.mu.Unlock()
		if have {
			select {
			case d.room <- struct{}{}:
			default:
			}
		}
		if !have {
			if ended {
				return
			}
			select {
			case <-d.wake:
			case <-d.stop:
				return
			}
			continue
		}
		v, err := d.decode(p)
		if err != nil {
			v, err = d.decode(mustJSON(map[string]any{"data": nil, "errors": []map[string]string{{"message": "could not decode subscription data: " + err.Error()}}}))
			if err != nil {
				d.c.log.Debug("api: subscription payload dropped", "error", err)
				continue
			}
		}
		chosen, _, _ := reflect.Select([]reflect.SelectCase{
			{Dir: reflect.SelectSend, Chan: d.ch, Send: v},
			{Dir: reflect.SelectRecv, Chan: stop},
		})
		if chosen == 1 {
			return
		}
	}
}

// decode turns a payload into a value for the channel.
//
// The generated forward functions decode every payload twice, the first
// time into an untyped map just to look for errors, which makes up most of
// the client's CPU time on a log stream (1 MiB chunks). For the generated
// response types (graphql.BaseResponse) the payload is decoded once,
// straight into the value, with the forward function's result: when there
// are errors, only Errors is kept. Anything else, or a payload that does
// not fit the type, goes through the forward function.
func (d *wsSub) decode(p json.RawMessage) (reflect.Value, error) {
	if d.direct {
		v := reflect.New(d.ch.Type().Elem())
		if err := json.Unmarshal(p, v.Interface()); err == nil {
			e := v.Elem()
			if errs := e.Field(2); errs.Len() > 0 {
				kept := errs.Interface()
				e.SetZero()
				e.Field(2).Set(reflect.ValueOf(kept))
			}
			return e, nil
		}
	}
	return d.forwardDecode(p)
}

// isBaseResponse reports whether t has graphql.BaseResponse's layout: Data,
// Extensions and Errors with their JSON names and types.
func isBaseResponse(t reflect.Type) bool {
	base := reflect.TypeFor[graphql.BaseResponse[struct{}]]()
	if t.Kind() != reflect.Struct || t.NumField() != base.NumField() {
		return false
	}
	for i := range t.NumField() {
		f, b := t.Field(i), base.Field(i)
		if f.Name != b.Name || f.Tag != b.Tag || (i > 0 && f.Type != b.Type) {
			return false
		}
	}
	return true
}

// forwardDecode runs the generated forward function against a private
// buffered channel of the same type, so it never blocks and the send to the
// caller's channel can be abandoned when the subscription stops.
func (d *wsSub) forwardDecode(p json.RawMessage) (reflect.Value, error) {
	tmp := reflect.MakeChan(d.ch.Type(), 1)
	if err := d.forward(tmp.Interface(), p); err != nil {
		return reflect.Value{}, err
	}
	v, ok := tmp.TryRecv()
	if !ok {
		return reflect.Value{}, errors.New("the forward function produced no value")
	}
	return v, nil
}

func writeMessage(ctx context.Context, conn *websocket.Conn, m wsMessage) error {
	wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, mustJSON(m))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with marshalable values
	}
	return b
}

// payloadMessage extracts "message" from an error payload (an object or a
// list of objects).
func payloadMessage(p json.RawMessage, fallback string) string {
	var one struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(p, &one) == nil && one.Message != "" {
		return one.Message
	}
	var many []struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(p, &many) == nil && len(many) > 0 && many[0].Message != "" {
		msgs := make([]string, 0, len(many))
		for _, m := range many {
			msgs = append(msgs, m.Message)
		}
		return strings.Join(msgs, "; ")
	}
	return fallback
}

// errorPayload turns the payload of an "error" message into a GraphQL
// response with errors, which the generated forward functions understand.
func errorPayload(p json.RawMessage) json.RawMessage {
	s := strings.TrimSpace(string(p))
	switch {
	case strings.HasPrefix(s, "["):
		return mustJSON(map[string]any{"data": nil, "errors": json.RawMessage(s)})
	case strings.HasPrefix(s, "{"):
		return mustJSON(map[string]any{"data": nil, "errors": []json.RawMessage{json.RawMessage(s)}})
	}
	return mustJSON(map[string]any{"data": nil, "errors": []map[string]string{{"message": "the subscription failed"}}})
}
