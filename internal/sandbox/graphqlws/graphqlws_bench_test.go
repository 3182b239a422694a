package graphqlws

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// logData is a jobLogStreamEvents result with a chunk of log.
func logData(n int) json.RawMessage {
	line := "filler ünïcødé ✓ \x1b[1mbold\x1b[0m \"quoted\" \\ back\n"
	b, _ := json.Marshal(map[string]any{"jobLogStreamEvents": map[string]any{
		"completed": false, "size": n, "data": map[string]any{"offset": 0, "logs": strings.Repeat(line, n/len(line)+1)[:n]},
	}})
	return b
}

// TestFrameEncode: encode gives json.Marshal's bytes.
func TestFrameEncode(t *testing.T) {
	for _, f := range []frame{
		{Type: typeConnectionAck},
		{Type: typeKeepAlive},
		{ID: "1", Type: typeComplete},
		{ID: `we"ird<&>`, Type: typeError, Payload: messagePayload("boom <b>")},
		{Type: typeConnectionError, Payload: messagePayload("denied")},
		{ID: "7", Type: typeData, Payload: errorsPayload("cannot start")},
		{ID: "2", Type: typeData, Payload: json.RawMessage(`{"data":` + string(logData(4096)) + `}`)},
	} {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("encode(%+v)\n got %s\nwant %s", f, got, want)
		}
	}
}

// TestEncodeResponseFastPath: a response without errors is passed on as
// the general path would encode it.
func TestEncodeResponseFastPath(t *testing.T) {
	for _, r := range []*graphql.Response{
		{Data: logData(2048)},
		{Data: json.RawMessage(`null`)},
		{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]interface{}{"cost": 1}},
	} {
		got, err := encodeResponse(r)
		if err != nil {
			t.Fatal(err)
		}
		// The general path: through an untyped value.
		raw, _ := json.Marshal(r)
		want, err := encodeResponse(json.RawMessage(raw))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("fast path %s, general path %s", got, want)
		}
	}
	// With errors the general path runs: extensions are dropped.
	got, err := encodeResponse(&graphql.Response{Data: json.RawMessage(`null`), Errors: []*gqlerrors.QueryError{{Message: "m", Extensions: map[string]interface{}{"code": "X"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), "extensions") || !strings.Contains(string(got), `"message":"m"`) {
		t.Errorf("errors encoded as %s", got)
	}
}

// BenchmarkEncodeLogChunk: the server's cost of one 1 MiB log stream event,
// from graphql-go's response to the bytes written to the websocket: as it
// is done (spliced) and through json.Marshal as it was done before
// (marshalled: the general path of encodeResponse and json.Marshal of the
// frame, which compact and check the payload again).
func BenchmarkEncodeLogChunk(b *testing.B) {
	r := &graphql.Response{Data: logData(1 << 20)}
	b.Run("spliced", func(b *testing.B) {
		b.SetBytes(1 << 20)
		b.ReportAllocs()
		for b.Loop() {
			p, err := encodeResponse(r)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := (frame{ID: "1", Type: typeData, Payload: p}).encode(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshalled", func(b *testing.B) {
		b.SetBytes(1 << 20)
		b.ReportAllocs()
		for b.Loop() {
			raw, err := json.Marshal(r)
			if err != nil {
				b.Fatal(err)
			}
			p, err := encodeResponse(json.RawMessage(raw))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(frame{ID: "1", Type: typeData, Payload: p}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
