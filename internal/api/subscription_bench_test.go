package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
