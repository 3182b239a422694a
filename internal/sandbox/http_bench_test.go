package sandbox

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// jobLogsData is a Job.logs response's data with n bytes of log.
func jobLogsData(n int) json.RawMessage {
	line := "filler ünïcødé ✓ \x1b[1mbold\x1b[0m \"quoted\" \\ back\n"
	b, _ := json.Marshal(map[string]any{"node": map[string]any{
		"__typename": "Job", "id": "J", "logSize": n, "logs": strings.Repeat(line, n/len(line)+1)[:n],
	}})
	return b
}

// TestMarshalResponse: marshalResponse gives json.Marshal's bytes, except
// that HTML characters in the data are left as graphql-go wrote them.
func TestMarshalResponse(t *testing.T) {
	errs := []*gqlerrors.QueryError{{Message: "m", Path: []any{"node"}, Extensions: map[string]any{"code": "NOT_FOUND"}}}
	ext := map[string]any{"cost": map[string]any{"requestedQueryCost": 3}}
	tests := []struct {
		name  string
		r     *graphql.Response
		exact bool
	}{
		{"data", &graphql.Response{Data: jobLogsData(4096)}, true},
		{"data, errors and extensions", &graphql.Response{Data: json.RawMessage(`{"node":null}`), Errors: errs, Extensions: ext}, true},
		{"null data and extensions", &graphql.Response{Data: json.RawMessage(`null`), Extensions: ext}, true},
		{"errors only", &graphql.Response{Errors: errs}, true},
		{"empty", &graphql.Response{}, true},
		{"HTML in data", &graphql.Response{Data: json.RawMessage(`{"a":"<b>&</b>"}`)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := marshalResponse(tc.r)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if tc.exact && !bytes.Equal(got, want) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("invalid JSON %s: %v", got, err)
			}
			_ = json.Unmarshal(want, &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

// BenchmarkMarshalJobLogs: encoding a 1 MiB Job.logs response, as done
// (marshalResponse) and as json.Marshal does it.
func BenchmarkMarshalJobLogs(b *testing.B) {
	r := &graphql.Response{Data: jobLogsData(1 << 20), Extensions: map[string]any{"cost": 1}}
	for _, c := range []struct {
		name string
		f    func(*graphql.Response) ([]byte, error)
	}{
		{"marshalResponse", marshalResponse},
		{"json.Marshal", func(r *graphql.Response) ([]byte, error) { return json.Marshal(r) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(1 << 20)
			for b.Loop() {
				if _, err := c.f(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
