// Package graphqlws serves GraphQL subscriptions over WebSocket with the legacy
// Apollo subscriptions-transport-ws protocol (subprotocol "graphql-ws"), the
// only one the real Tharsis API speaks. It is the sandbox's server side; the
// wire behaviour follows docs/tharsis-api.md §1.3.
//
// The handler sits on the same path as HTTP GraphQL: route a request here when
// IsUpgrade reports true and to the HTTP handler otherwise (or set
// Options.Fallback).
//
// A connection lives as long as its ServeHTTP call, which blocks. Cancelling
// the request context (for example through http.Server.BaseContext on
// shutdown) drops every open connection and stops its subscriptions;
// http.Server.Shutdown alone does not, because hijacked connections are not
// tracked by net/http.
package graphqlws

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Protocol is the WebSocket subprotocol served here.
const Protocol = "graphql-ws"

// Defaults taken from the real server (graphqlSubscriptionMaxMessageSize and
// graphqlSubscriptionWriteTimeout).
const (
	DefaultMaxMessageSize = 10 * 1024
	DefaultWriteTimeout   = 10 * time.Second
)

// connectionErrorCloseDelay is how long the server waits after sending
// connection_error before closing, as the real server does.
const connectionErrorCloseDelay = time.Second

// Subscriber runs a subscription; *graphql.Schema from graph-gophers satisfies
// it, each value received being a *graphql.Response. Any value that marshals
// to a GraphQL response object ({"data":…,"errors":…}) works.
type Subscriber interface {
	Subscribe(ctx context.Context, queryString string, operationName string, variables map[string]interface{}) (<-chan interface{}, error)
}

// Authenticate is called once per connection with the upgrade request and the
// connection_init payload. It returns the context subscriptions run with
// (carrying the caller) or an error whose message is sent in connection_error
// (then the connection is closed about 1 second later, as the real server
// does). The ctx passed in ends with the connection; a returned context need
// not derive from it (subscriptions are cancelled with the connection anyway).
type Authenticate func(ctx context.Context, r *http.Request, initPayload map[string]interface{}) (context.Context, error)

// Options tune the handler. The zero value gives the real server's limits.
type Options struct {
	MaxMessageSize int64         // default 10 KiB (client->server frames)
	WriteTimeout   time.Duration // default 10 s
	// DropAfterBytes, when non-nil, is consulted per connection: the connection is closed abruptly (no close frame,
	// no complete) after that many payload bytes have been written (0 or negative = never). Fault knob for tests.
	// Frames are never cut: the frame that reaches the threshold is written whole, then the TCP connection is dropped.
	DropAfterBytes func() int64
	Logger         *slog.Logger

	// MaxConnectionDuration, when positive, closes a connection (close code
	// 1000) that has been open this long, like the real server's forced close
	// after UserSessionRefreshTokenExpirationMinutes. Zero means never.
	MaxConnectionDuration time.Duration
	// Fallback, when set, serves requests that are not graphql-ws upgrades,
	// with the header X-WebSocket-Upgrade-Failure set as the real server does.
	// Without it such requests get 400.
	Fallback http.Handler
}

// IsUpgrade reports whether r is a websocket upgrade asking for the graphql-ws subprotocol.
func IsUpgrade(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return false
	}
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(p) == Protocol {
				return true
			}
		}
	}
	return false
}

// headerHasToken reports whether a comma-separated header contains token,
// compared case-insensitively (Connection: keep-alive, Upgrade is common).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// NewHandler returns the graphql-ws handler. A nil auth accepts every
// connection and runs subscriptions with the connection's context.
func NewHandler(sub Subscriber, auth Authenticate, opts Options) http.Handler {
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = DefaultMaxMessageSize
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &handler{sub: sub, auth: auth, opts: opts}
}

type handler struct {
	sub  Subscriber
	auth Authenticate
	opts Options
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !IsUpgrade(r) {
		// Same header as the real server when it falls through to HTTP.
		w.Header().Set("X-WebSocket-Upgrade-Failure", "no subprotocols available")
		if h.opts.Fallback != nil {
			h.opts.Fallback.ServeHTTP(w, r)
			return
		}
		http.Error(w, "expected a websocket upgrade with the graphql-ws subprotocol", http.StatusBadRequest)
		return
	}

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols: []string{Protocol},
		// The real server accepts any Origin (bearer tokens, not cookies, here).
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		// Accept has already written the HTTP error response.
		h.opts.Logger.Debug("graphql-ws upgrade failed", "err", err)
		return
	}
	if ws.Subprotocol() != Protocol {
		_ = ws.Close(websocket.StatusProtocolError, "graphql-ws subprotocol required")
		return
	}
	ws.SetReadLimit(h.opts.MaxMessageSize)

	var dropAfter int64
	if h.opts.DropAfterBytes != nil {
		dropAfter = h.opts.DropAfterBytes()
	}
	c := &connection{
		h:         h,
		ws:        ws,
		r:         r,
		dropAfter: dropAfter,
		wlock:     make(chan struct{}, 1),
		subs:      map[string]*subscription{},
		log:       h.opts.Logger.With("remote", r.RemoteAddr),
	}
	c.serve()
}
