package graphqlws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/graph-gophers/graphql-go"
)

// Message types of subscriptions-transport-ws v0.9.
const (
	typeConnectionInit      = "connection_init"
	typeConnectionAck       = "connection_ack"
	typeConnectionError     = "connection_error"
	typeConnectionTerminate = "connection_terminate"
	typeKeepAlive           = "ka"
	typeStart               = "start"
	typeStop                = "stop"
	typeData                = "data"
	typeError               = "error"
	typeComplete            = "complete"
)

// frame is one protocol message in either direction.
type frame struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type startPayload struct {
	Query         string                 `json:"query"`
	Variables     map[string]interface{} `json:"variables"`
	OperationName string                 `json:"operationName"`
}

var errClosed = errors.New("graphql-ws connection closed")

// connection is one accepted websocket. The read loop runs in the ServeHTTP
// goroutine; each subscription runs in its own goroutine; all writes go
// through send, which serialises them.
type connection struct {
	h         *handler
	ws        *websocket.Conn
	r         *http.Request
	log       *slog.Logger
	dropAfter int64

	// base is the request context: reads and write deadlines derive from it,
	// so that shutting the connection down (cancel) never aborts a write
	// half-way and a close frame can still be sent.
	base context.Context
	// ctx ends when the connection shuts down; it stops subscriptions and
	// writers waiting for their turn.
	ctx    context.Context
	cancel context.CancelFunc

	// authCtx is the context returned by Authenticate; nil until
	// connection_init succeeded. Touched by the read loop only.
	authCtx context.Context

	// wlock is a cancellable mutex over the websocket's write side and the
	// fields below it.
	wlock   chan struct{}
	written int64
	dead    bool

	mu   sync.Mutex
	subs map[string]*subscription // active subscriptions by client id

	wg sync.WaitGroup // subscription goroutines and the lifetime timer
}

type subscription struct {
	id     string
	ctx    context.Context
	cancel context.CancelFunc
}

// closeAction says how the read loop wants the connection closed.
type closeAction struct {
	abrupt bool
	code   websocket.StatusCode
	reason string
}

func (c *connection) serve() {
	c.base = c.r.Context()
	c.ctx, c.cancel = context.WithCancel(c.base)
	c.log.Debug("graphql-ws connection opened")

	if d := c.h.opts.MaxConnectionDuration; d > 0 {
		c.wg.Add(1)
		go c.expire(d)
	}

	action := c.readLoop()

	// Stop every subscription and wait for it before closing, so that no
	// goroutine outlives the connection and nothing is written after the
	// close frame.
	c.cancel()
	c.wg.Wait()
	if action.abrupt {
		_ = c.ws.CloseNow()
	} else {
		_ = c.ws.Close(action.code, action.reason)
	}
	c.log.Debug("graphql-ws connection closed", "code", action.code, "reason", action.reason, "abrupt", action.abrupt)
}

// expire closes the connection once it has been open for d.
func (c *connection) expire(d time.Duration) {
	defer c.wg.Done()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		c.log.Debug("graphql-ws connection reached its maximum duration")
		c.cancel()
		_ = c.ws.Close(websocket.StatusNormalClosure, "maximum connection duration reached")
	case <-c.ctx.Done():
	}
}

func (c *connection) readLoop() closeAction {
	for {
		// Text and binary frames are both accepted as JSON, like the real server.
		_, data, err := c.ws.Read(c.base)
		if err != nil {
			// Peer gone, oversize frame (the library already sent 1009),
			// write failure or drop: nothing more to say.
			c.log.Debug("graphql-ws read ended", "err", err)
			return closeAction{abrupt: true}
		}
		var msg frame
		if err := json.Unmarshal(data, &msg); err != nil {
			return closeAction{code: websocket.StatusInvalidFramePayloadData, reason: "invalid message"}
		}

		switch msg.Type {
		case typeConnectionInit:
			if c.authCtx != nil {
				c.sendError(msg.ID, "connection already initialized")
				continue
			}
			var payload map[string]interface{}
			if len(msg.Payload) == 0 || json.Unmarshal(msg.Payload, &payload) != nil || payload == nil {
				return c.connectionError("invalid payload")
			}
			ctx := c.ctx
			if c.h.auth != nil {
				actx, err := c.h.auth(c.ctx, c.r, payload)
				if err != nil {
					return c.connectionError(err.Error())
				}
				if actx != nil {
					ctx = actx
				}
			}
			c.authCtx = ctx
			_ = c.send(frame{Type: typeConnectionAck})

		case typeStart:
			c.start(msg)

		case typeStop:
			c.stop(msg.ID)

		case typeConnectionTerminate:
			return closeAction{code: websocket.StatusNormalClosure}

		case typeKeepAlive:
			// The server never sends ka on its own; it only answers.
			_ = c.send(frame{Type: typeKeepAlive})

		default:
			c.sendError(msg.ID, fmt.Sprintf("unknown operation message of type: %s", msg.Type))
		}
	}
}

// connectionError rejects connection_init: connection_error now, close about
// a second later (the client gets the time to read the message).
func (c *connection) connectionError(message string) closeAction {
	c.log.Debug("graphql-ws connection rejected", "message", message)
	if err := c.send(frame{Type: typeConnectionError, Payload: messagePayload(message)}); err != nil {
		return closeAction{abrupt: true}
	}
	t := time.NewTimer(connectionErrorCloseDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.base.Done():
		return closeAction{abrupt: true}
	}
	// 1011, as Apollo's subscriptions-transport-ws server does after connection_error.
	return closeAction{code: websocket.StatusInternalError, reason: "connection_error"}
}

func (c *connection) start(msg frame) {
	if msg.ID == "" {
		c.sendError("", "missing ID for start operation")
		return
	}
	if c.authCtx == nil {
		c.sendError(msg.ID, "connection not initialized: send connection_init first")
		return
	}
	var p startPayload
	if len(msg.Payload) == 0 || json.Unmarshal(msg.Payload, &p) != nil {
		c.sendError(msg.ID, "invalid payload for type: start")
		return
	}

	c.mu.Lock()
	if _, dup := c.subs[msg.ID]; dup {
		c.mu.Unlock()
		// No id on purpose: an error frame carrying it would end the live
		// operation with that id on the client side.
		c.sendError("", "duplicate message ID for start operation")
		return
	}
	// Authenticate's context need not derive from the connection's: tie the
	// subscription to both.
	ctx, cancel := context.WithCancel(c.authCtx)
	unhook := context.AfterFunc(c.ctx, cancel)
	s := &subscription{id: msg.ID, ctx: ctx, cancel: func() { unhook(); cancel() }}
	c.subs[msg.ID] = s
	c.mu.Unlock()

	c.wg.Add(1)
	go c.run(s, p)
}

func (c *connection) stop(id string) {
	c.mu.Lock()
	s := c.subs[id]
	if s != nil {
		delete(c.subs, id)
	}
	c.mu.Unlock()
	if s != nil {
		// Cancelled before complete is queued: sendFor drops data frames of a
		// cancelled subscription, so nothing follows this complete.
		s.cancel()
	}
	// Answered even for an unknown id, like the graph-gophers implementation
	// the real server's library is forked from.
	_ = c.send(frame{ID: id, Type: typeComplete})
}

// release removes s from the active set; true means the caller owns the
// subscription's ending (sending complete), false that stop already did.
func (c *connection) release(s *subscription) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs[s.id] != s {
		return false
	}
	delete(c.subs, s.id)
	return true
}

func (c *connection) run(s *subscription, p startPayload) {
	defer c.wg.Done()
	defer s.cancel()

	ch, err := c.h.sub.Subscribe(s.ctx, p.Query, p.OperationName, p.Variables)
	if err != nil {
		if c.release(s) {
			_ = c.send(frame{ID: s.id, Type: typeData, Payload: errorsPayload(err.Error())})
			_ = c.send(frame{ID: s.id, Type: typeComplete})
		}
		return
	}
	for {
		select {
		case <-s.ctx.Done():
			// Stopped by the client (already answered) or the connection is
			// ending. If the authenticated context ended on its own, end the
			// subscription visibly.
			if c.release(s) && c.ctx.Err() == nil {
				_ = c.send(frame{ID: s.id, Type: typeComplete})
			}
			return
		case v, ok := <-ch:
			if !ok {
				if c.release(s) {
					_ = c.send(frame{ID: s.id, Type: typeComplete})
				}
				return
			}
			payload, err := encodeResponse(v)
			if err != nil {
				c.log.Error("graphql-ws cannot encode subscription response", "id", s.id, "err", err)
				if c.sendFor(s, frame{ID: s.id, Type: typeError, Payload: messagePayload(err.Error())}) != nil {
					return
				}
				continue
			}
			if c.sendFor(s, frame{ID: s.id, Type: typeData, Payload: payload}) != nil {
				return
			}
		}
	}
}

// send writes one frame. Writes are serialised; a write that does not
// finish within WriteTimeout kills the connection (coder/websocket closes it).
func (c *connection) send(f frame) error { return c.write(nil, f) }

// sendFor writes a frame of subscription s, or drops it (nil error) once s is
// cancelled, so a stopped subscription never writes after its complete.
func (c *connection) sendFor(s *subscription, f frame) error { return c.write(s.ctx.Done(), f) }

// encode returns the frame's JSON. The payload, which this package
// produced itself, is spliced in rather than compacted and checked again by
// json.Marshal: a log stream's payloads are 1 MiB each.
func (f frame) encode() ([]byte, error) {
	if len(f.Payload) == 0 {
		return json.Marshal(f)
	}
	head, err := json.Marshal(frame{ID: f.ID, Type: f.Type})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(head)+len(f.Payload)+len(`,"payload":`))
	b = append(b, head[:len(head)-1]...) // without its closing brace
	b = append(b, `,"payload":`...)
	b = append(b, f.Payload...)
	return append(b, '}'), nil
}

// write sends f unless gate (nil: never) is closed.
func (c *connection) write(gate <-chan struct{}, f frame) error {
	b, err := f.encode()
	if err != nil {
		return err
	}
	select {
	case c.wlock <- struct{}{}:
	case <-c.ctx.Done():
		return errClosed
	}
	defer func() { <-c.wlock }()

	if c.dead || c.ctx.Err() != nil {
		return errClosed
	}
	select {
	case <-gate:
		return nil
	default:
	}

	ctx, cancel := context.WithTimeout(c.base, c.h.opts.WriteTimeout)
	err = c.ws.Write(ctx, websocket.MessageText, b)
	cancel()
	if err != nil {
		c.dead = true
		c.cancel()
		c.log.Debug("graphql-ws write failed", "err", err)
		return err
	}

	c.written += int64(len(b))
	if c.dropAfter > 0 && c.written >= c.dropAfter {
		// Fault injection: vanish without a close frame or complete.
		c.dead = true
		c.log.Info("graphql-ws dropping connection (DropAfterBytes)", "written", c.written)
		_ = c.ws.CloseNow()
		c.cancel()
		return errClosed
	}
	return nil
}

func (c *connection) sendError(id, message string) {
	_ = c.send(frame{ID: id, Type: typeError, Payload: messagePayload(message)})
}

func messagePayload(message string) json.RawMessage {
	b, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{message})
	return b
}

// errorsPayload is the GraphQL response for a subscription that could not start.
func errorsPayload(message string) json.RawMessage {
	b, _ := json.Marshal(struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}{Errors: []struct {
		Message string `json:"message"`
	}{{message}}})
	return b
}

// encodeResponse turns a subscription value into the data payload: the
// GraphQL response without any extensions. On the real server error codes are
// added only to HTTP responses, so subscription errors carry no extensions.
func encodeResponse(v interface{}) (json.RawMessage, error) {
	// Without errors there is nothing to strip: graphql-go's data (compact,
	// valid JSON) is passed on as it is. Re-encoding it would scan every
	// 1 MiB log chunk of a log stream three more times.
	if r, ok := v.(*graphql.Response); ok && len(r.Errors) == 0 && len(r.Data) > 0 {
		return append(append(append(make(json.RawMessage, 0, len(r.Data)+9), `{"data":`...), r.Data...), '}'), nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Data   json.RawMessage   `json:"data,omitempty"`
		Errors []json.RawMessage `json:"errors,omitempty"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("subscription value is not a GraphQL response object: %w", err)
	}
	for i, e := range resp.Errors {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(e, &m); err != nil {
			return nil, fmt.Errorf("subscription error is not an object: %w", err)
		}
		if _, ok := m["extensions"]; ok {
			delete(m, "extensions")
			if resp.Errors[i], err = json.Marshal(m); err != nil {
				return nil, err
			}
		}
	}
	return json.Marshal(resp)
}
