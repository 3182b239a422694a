package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// frameSep separates the server frames of one fuzz input; "$ID" in a frame
// becomes the subscription's id.
const frameSep = "\x1e"

// fuzzWSServer serves graphql-ws; each connection's path (/<key>/graphql)
// names the frames it sends after the handshake and the client's start.
type fuzzWSServer struct {
	srv    *httptest.Server
	frames sync.Map // key -> []string
	next   atomic.Int64
}

func newFuzzWSServer() *fuzzWSServer {
	f := &fuzzWSServer{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func (f *fuzzWSServer) serve(w http.ResponseWriter, r *http.Request) {
	key, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	v, ok := f.frames.Load(key)
	if !ok {
		http.NotFound(w, r)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsSubprotocol}})
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	read := func() wsMessage {
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return wsMessage{Type: "<closed>"}
			}
			var m wsMessage
			_ = json.Unmarshal(data, &m)
			if m.Type != wsKeepAlive {
				return m
			}
		}
	}
	if read().Type != wsConnectionInit {
		return
	}
	_ = conn.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_ack"}`))
	start := read()
	if start.Type != wsStart {
		return
	}
	for _, fr := range v.([]string) {
		if conn.Write(ctx, websocket.MessageText, []byte(strings.ReplaceAll(fr, "$ID", start.ID))) != nil {
			return
		}
	}
	_ = conn.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"id":%q,"type":"complete"}`, start.ID)))
	for read().Type != "<closed>" {
	}
}

// FuzzSubscriptionReader feeds arbitrary server messages to the graphql-ws
// client over a real connection, after a normal handshake, and then
// completes the subscription. Whatever the messages, the client must not
// panic or hang: the subscription's channel ends (by the server's
// complete, an error message for it, or a connection failure reported on
// the error channel), every value it delivers is either data or errors,
// and Close returns and closes the error channel.
func FuzzSubscriptionReader(f *testing.F) {
	data := func(size, offset int, logs string) string {
		return fmt.Sprintf(`{"id":"$ID","type":"data","payload":{"data":{"jobLogStreamEvents":{"completed":false,"truncated":false,"size":%d,"data":{"offset":%d,"logs":%s}}}}}`,
			size, offset, mustJSON(logs))
	}
	for _, frames := range [][]string{
		{data(5, 0, "hello")},
		{data(5, 0, "hello"), data(11, 5, " world"), `{"id":"$ID","type":"data","payload":{"data":{"jobLogStreamEvents":{"completed":true,"truncated":false,"size":11,"data":null}}}}`},
		{`{"type":"ka"}`, `{"type":"connection_ack"}`, `{"type":"mystery"}`},
		{`{"id":"$ID","type":"error","payload":[{"message":"job not found"}]}`},
		{`{"id":"$ID","type":"error","payload":{"message":"forbidden"}}`},
		{`{"id":"$ID","type":"error","payload":"text"}`},
		{`{"id":"$ID","type":"data","payload":{"data":null,"errors":[{"message":"boom","path":["jobLogStreamEvents"]}]}}`},
		{`{"id":"$ID","type":"data","payload":{"data":{"jobLogStreamEvents":"not an object"}}}`},
		{`{"id":"$ID","type":"data","payload":null}`, `{"id":"$ID","type":"data"}`},
		{`{"id":"$ID","type":"complete"}`, data(5, 0, "late")},
		{`{"id":"other","type":"data","payload":{}}`, `{"id":"other","type":"complete"}`},
		{`{"type":"connection_error","payload":{"message":"token expired"}}`},
		{`{"type":"error","payload":{"message":"protocol"}}`},
		{`not json`, `[]`, `{}`, `{"type":null}`, `{"id":1,"type":"data"}`},
		{`{"id":"$ID","type":"data","payload":{"data":{"jobLogStreamEvents":{"size":1e400}}}}`},
		{`{"type":"data","id":"$ID","payload":{"data":{"jobLogStreamEvents":{"size":3,"data":{"offset":0,"logs":"\ud83d"}}}}}`},
		{`{"id":"\u0024ID","type":"data","payload":{}}`, `{"id":"$ID","type":"d\u0061ta","payload":{"data":{}}}`},
		{`{"id":"$ID","type":"data","payload":{"data":{}},"id":"x"}`},
		{` {"id" : "$ID" , "type" : "data" , "payload" : {"data":{"jobLogStreamEvents":{"size":1,"data":{"offset":0,"logs":"a"}}}} } `},
	} {
		f.Add([]byte(strings.Join(frames, frameSep)))
	}
	srv := newFuzzWSServer()
	f.Cleanup(srv.srv.Close)
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 64<<10 {
			return
		}
		frames := strings.Split(string(in), frameSep)
		if len(frames) > 16 {
			return
		}
		key := fmt.Sprintf("f%d", srv.next.Add(1))
		srv.frames.Store(key, frames)
		defer srv.frames.Delete(key)
		readSubscription(t, srv.srv.URL+"/"+key)
	})
}

func readSubscription(t *testing.T, endpoint string) {
	c, err := New(Config{Endpoint: endpoint, TokenSource: StaticTokenSource(testToken), KeepAlive: -1, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := c.NewSubscriptionClient()
	errCh, err := ws.Start(ctx)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	last := 0
	ch, _, err := gql.JobLogStreamEvents(ctx, ws, gql.JobLogStreamSubscriptionInput{JobId: "J1", LastSeenLogSize: &last})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
loop:
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				break loop
			}
			if len(resp.Errors) > 0 && resp.Data != nil {
				t.Fatalf("a value with both errors and data: %+v", resp)
			}
			for _, e := range resp.Errors {
				if e == nil {
					t.Fatal("a nil error in the list")
				}
			}
		case err, ok := <-errCh:
			if !ok {
				t.Fatal("the error channel closed before Close")
			}
			if err == nil || err.Error() == "" || KindOf(err) == KindUnknown {
				t.Fatalf("the connection failure is not a described *Error: %#v", err)
			}
			break loop
		case <-ctx.Done():
			t.Fatal("the subscription neither ended nor failed: the reader lost the server's complete")
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- ws.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung")
	}
	for range errCh { // closed by Close; at most the one failure before it
	}
}
