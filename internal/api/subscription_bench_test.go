package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// BenchmarkSubscriptionLogStream measures the client side of a log stream:
// a server sends a job log as jobLogStreamEvents data messages of 1 MiB
// (the real API's largest chunk) and the generated subscription function
// delivers them. Bytes per second are log bytes; the JSON escaping of the
// multi-byte characters and ANSI escapes is what a real log costs.
func BenchmarkSubscriptionLogStream(b *testing.B) {
	const chunk = 1 << 20
	const chunks = 4
	line := "sandbox filler: ünïcødé ✓ 日本語 ✓ emoji 🚀 \x1b[1m— log\x1b[0m volume\n"
	text := strings.Repeat(line, chunk/len(line)+1)[:chunk]
	msgs := make([][]byte, chunks)
	for i := range msgs {
		payload := map[string]any{"data": map[string]any{"jobLogStreamEvents": map[string]any{
			"completed": false, "truncated": false, "size": (i + 1) * chunk,
			"data": map[string]any{"offset": i * chunk, "logs": text},
		}}}
		m, err := json.Marshal(map[string]any{"id": "1", "type": "data", "payload": payload})
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = m
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsSubprotocol}})
		if err != nil {
			return
		}
		defer conn.CloseNow()
		conn.SetReadLimit(1 << 20)
		ctx := r.Context()
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var m wsMessage
			if json.Unmarshal(data, &m) != nil {
				return
			}
			switch m.Type {
			case wsConnectionInit:
				_ = conn.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_ack"}`))
			case wsStart:
				for _, msg := range msgs {
					if err := conn.Write(ctx, websocket.MessageText, msg); err != nil {
						return
					}
				}
				_ = conn.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"id":%q,"type":"complete"}`, m.ID)))
			}
		}
	}))
	defer srv.Close()
	c, err := New(Config{Endpoint: srv.URL, TokenSource: StaticTokenSource("t"), KeepAlive: -1})
	if err != nil {
		b.Fatal(err)
	}

	b.SetBytes(chunk * chunks)
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		ws := c.NewSubscriptionClient()
		if _, err := ws.Start(ctx); err != nil {
			b.Fatal(err)
		}
		ch, _, err := gql.JobLogStreamEvents(ctx, ws, gql.JobLogStreamSubscriptionInput{JobId: "j"})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for msg := range ch {
			if len(msg.Errors) > 0 {
				b.Fatal(msg.Errors)
			}
			n += len(msg.Data.JobLogStreamEvents.Data.Logs)
		}
		if n != chunk*chunks {
			b.Fatalf("got %d log bytes, want %d", n, chunk*chunks)
		}
		_ = ws.Close()
		cancel()
	}
}

// TestSubscriptionDecodeMatchesForward: decoding a payload straight into
// a generated response type gives what the generated forward function
// gives, which decode used to call for every payload.
func TestSubscriptionDecodeMatchesForward(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		wantErr bool
	}{
		{"data", `{"data":{"jobLogStreamEvents":{"completed":false,"truncated":true,"size":3,"data":{"offset":0,"logs":"a\u00e9"}}}}`, false},
		{"completed, no data", `{"data":{"jobLogStreamEvents":{"completed":true,"truncated":false,"size":3,"data":null}}}`, false},
		{"errors", `{"data":null,"errors":[{"message":"job not found","path":["jobLogStreamEvents"]}]}`, false},
		{"errors and partial data", `{"data":{"jobLogStreamEvents":{"completed":true,"size":1}},"errors":[{"message":"boom"}]}`, false},
		{"errors and data of another shape", `{"data":{"jobLogStreamEvents":"oops"},"errors":[{"message":"boom"}]}`, false},
		{"extensions", `{"data":{"jobLogStreamEvents":{"completed":true,"size":0}},"extensions":{"cost":3}}`, false},
		{"data of another shape", `{"data":{"jobLogStreamEvents":{"size":"big"}}}`, true},
		{"not JSON", `{"data":`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch := make(chan gql.JobLogStreamEventsWsResponse, 1)
			d := &wsSub{ch: reflect.ValueOf(ch), forward: gql.JobLogStreamEventsForwardData, direct: isBaseResponse(reflect.TypeOf(ch).Elem())}
			if !d.direct {
				t.Fatal("the generated response type is not recognised")
			}
			got, err := d.decode(json.RawMessage(tc.payload))
			want, werr := d.forwardDecode(json.RawMessage(tc.payload))
			if (err != nil) != tc.wantErr || (werr != nil) != tc.wantErr {
				t.Fatalf("errors: decode %v, forward %v; want an error: %v", err, werr, tc.wantErr)
			}
			if err != nil {
				return
			}
			if !reflect.DeepEqual(got.Interface(), want.Interface()) {
				t.Errorf("decode gives\n%#v\nforward gives\n%#v", got.Interface(), want.Interface())
			}
		})
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[int](), reflect.TypeFor[struct{ Data, Extensions, Errors string }]()} {
		if isBaseResponse(typ) {
			t.Errorf("%v is taken for a generated response type", typ)
		}
	}
}

func TestSplitData(t *testing.T) {
	tests := []struct {
		name, msg   string
		id, payload string // want; ok when payload != ""
	}{
		{"data", `{"id":"1","type":"data","payload":{"data":{"x":"a\"b}\\"}}}`, "1", `{"data":{"x":"a\"b}\\"}}`},
		{"any key order, blanks", " {\n\"payload\" : [1, {\"a\":\"]\"}] ,\"type\":\"data\" , \"id\":\"7\"}\t", "7", `[1, {"a":"]"}]`},
		{"scalar payload", `{"type":"data","id":"2","payload":null}`, "2", `null`},
		{"last duplicate wins", `{"id":"1","id":"2","type":"data","payload":{}}`, "2", `{}`},
		{"no id", `{"type":"data","payload":{}}`, "", `{}`},
		{"not data", `{"id":"1","type":"complete"}`, "", ""},
		{"error", `{"id":"1","type":"error","payload":{"message":"x"}}`, "", ""},
		{"no payload", `{"id":"1","type":"data"}`, "", ""},
		{"escaped type", `{"id":"1","type":"d\u0061ta","payload":{}}`, "", ""},
		{"other key", `{"id":"1","type":"data","payload":{},"extra":1}`, "", ""},
		{"key in other case", `{"ID":"1","type":"data","payload":{}}`, "", ""},
		{"id not a string", `{"id":1,"type":"data","payload":{}}`, "", ""},
		{"unterminated payload", `{"id":"1","type":"data","payload":{"a":"}`, "", ""},
		{"trailing data", `{"id":"1","type":"data","payload":{}} x`, "", ""},
		{"missing comma", `{"id":"1" "type":"data","payload":{}}`, "", ""},
		{"not an object", `["data"]`, "", ""},
		{"empty", ``, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, p, ok := splitData([]byte(tc.msg))
			if ok != (tc.payload != "") || id != tc.id || string(p) != tc.payload {
				t.Errorf("splitData = %q, %q, %v; want %q, %q, %v", id, p, ok, tc.id, tc.payload, tc.payload != "")
			}
		})
	}
}

// FuzzSplitData: whatever splitData accepts, encoding/json reads the same
// way, or rejects only because the payload (which decoding validates) is
// malformed.
func FuzzSplitData(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","type":"data","payload":{"data":{"jobLogStreamEvents":{"size":3,"data":{"logs":"a\u00e9\n"}}}}}`,
		`{"payload":[1,2,{"a":"\\\""}],"type":"data","id":"x"}`,
		`{"id":"1","type":"data","payload":true}`,
		`{"id":"1","type":"ka"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		id, payload, ok := splitData(data)
		if !ok {
			return
		}
		var m wsMessage
		if err := json.Unmarshal(data, &m); err != nil {
			if json.Valid(payload) {
				t.Fatalf("accepted %q with a valid payload, but encoding/json fails: %v", data, err)
			}
			return
		}
		if m.ID != id || m.Type != wsData || !bytes.Equal(m.Payload, payload) {
			t.Fatalf("%q: splitData gives %q, %q; encoding/json %q, %q, %q", data, id, payload, m.ID, m.Type, m.Payload)
		}
	})
}

// logStreamServer serves one graphql-ws connection that answers a start
// with n jobLogStreamEvents messages of size bytes of log, then complete.
func logStreamServer(t testing.TB, n, size int) *httptest.Server {
	text := strings.Repeat("x", size)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsSubprotocol}})
		if err != nil {
			return
		}
		defer conn.CloseNow()
		ctx := r.Context()
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var m wsMessage
			if json.Unmarshal(data, &m) != nil {
				return
			}
			switch m.Type {
			case wsConnectionInit:
				_ = conn.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_ack"}`))
			case wsStart:
				go func() {
					for i := range n {
						msg := fmt.Sprintf(`{"id":%q,"type":"data","payload":{"data":{"jobLogStreamEvents":{"completed":false,"size":%d,"data":{"offset":%d,"logs":%q}}}}}`,
							m.ID, (i+1)*size, i*size, text)
						if conn.Write(ctx, websocket.MessageText, []byte(msg)) != nil {
							return
						}
					}
					_ = conn.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"id":%q,"type":"complete"}`, m.ID)))
				}()
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSubscriptionBackpressure: a reader that does not keep up holds at
// most maxQueuedBytes (and the message being handed over) in memory, then
// still gets every message in order; Close does not hang on a full queue.
func TestSubscriptionBackpressure(t *testing.T) {
	const n, size = 10, 1 << 20
	for _, closeEarly := range []bool{false, true} {
		t.Run(fmt.Sprintf("close early %v", closeEarly), func(t *testing.T) {
			srv := logStreamServer(t, n, size)
			c := newTestClient(t, srv.URL, nil)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			ws := c.NewSubscriptionClient()
			if _, err := ws.Start(ctx); err != nil {
				t.Fatal(err)
			}
			ch, id, err := gql.JobLogStreamEvents(ctx, ws, gql.JobLogStreamSubscriptionInput{JobId: "j"})
			if err != nil {
				t.Fatal(err)
			}
			sc := ws.(*subscriptionClient)
			queued := func() int {
				sc.mu.Lock()
				d := sc.subs[id]
				sc.mu.Unlock()
				if d == nil {
					return -1
				}
				d.mu.Lock()
				defer d.mu.Unlock()
				return d.queued
			}
			// Read nothing until the queue is full.
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for q := queued(); q < maxQueuedBytes; q = queued() {
				if q < 0 {
					t.Fatal("the subscription ended before its queue filled")
				}
				select {
				case <-tick.C:
				case <-ctx.Done():
					t.Fatalf("the queue never filled (%d bytes)", q)
				}
			}
			if q, limit := queued(), maxQueuedBytes+size+1024; q > limit {
				t.Fatalf("%d bytes queued, want at most %d", q, limit)
			}
			if closeEarly {
				if err := ws.Close(); err != nil {
					t.Fatal(err)
				}
				for range ch { // closed by Close
				}
				return
			}
			got := 0
			for msg := range ch {
				if len(msg.Errors) > 0 {
					t.Fatal(msg.Errors)
				}
				ev := msg.Data.JobLogStreamEvents
				if ev.Data == nil || ev.Data.Offset != got*size || len(ev.Data.Logs) != size {
					t.Fatalf("message %d: %+v", got, ev)
				}
				got++
			}
			if got != n {
				t.Errorf("%d messages, want %d", got, n)
			}
			_ = ws.Close()
		})
	}
}
