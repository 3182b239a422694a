package runflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"unicode/utf8"
)

type emitted struct {
	off  int64
	data string
}

func newTestCursor() (*logCursor, *[]emitted) {
	var out []emitted
	return &logCursor{emit: func(off int64, b []byte) { out = append(out, emitted{off, string(b)}) }}, &out
}

func TestLogCursor(t *testing.T) {
	const log = "0123456789abcdef"
	type call struct {
		start, end int64
		ok         bool
	}
	for _, tc := range []struct {
		name  string
		calls []call
		want  []emitted
		final int64
	}{
		{"in order", []call{{0, 4, true}, {4, 10, true}, {10, 16, true}},
			[]emitted{{0, "0123"}, {4, "456789"}, {10, "abcdef"}}, 16},
		{"replay of what was seen", []call{{0, 8, true}, {0, 8, true}, {2, 6, true}, {8, 16, true}},
			[]emitted{{0, "01234567"}, {8, "89abcdef"}}, 16},
		{"overlap", []call{{0, 6, true}, {3, 10, true}, {9, 16, true}},
			[]emitted{{0, "012345"}, {6, "6789"}, {10, "abcdef"}}, 16},
		{"gap refused, then filled", []call{{0, 4, true}, {8, 12, false}, {4, 8, true}, {8, 12, true}},
			[]emitted{{0, "0123"}, {4, "4567"}, {8, "89ab"}}, 12},
		{"empty chunks", []call{{0, 0, true}, {0, 3, true}, {3, 3, true}},
			[]emitted{{0, "012"}}, 3},
		{"start past the end of the log seen", []call{{5, 9, false}},
			nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur, out := newTestCursor()
			for _, c := range tc.calls {
				if ok := cur.chunk(c.start, c.end, []byte(log[c.start:c.end])); ok != c.ok {
					t.Fatalf("chunk(%d, %d) = %v, want %v", c.start, c.end, ok, c.ok)
				}
			}
			if fmt.Sprint(*out) != fmt.Sprint(tc.want) {
				t.Errorf("emitted %v, want %v", *out, tc.want)
			}
			if cur.offset != tc.final {
				t.Errorf("offset %d, want %d", cur.offset, tc.final)
			}
		})
	}
}

func TestExactPrefix(t *testing.T) {
	raw := []byte("a€b🚀") // € is 3 bytes, 🚀 4
	for _, tc := range []struct {
		name       string
		start, end int
		want       string
		wantN      int64
	}{
		{"whole", 0, len(raw), "a€b🚀", int64(len(raw))},
		{"cut after 1 byte of €", 0, 2, "a", 1},
		{"cut after 2 bytes of €", 0, 3, "a", 1},
		{"cut after 3 bytes of 🚀", 0, len(raw) - 1, "a€b", 5},
		{"only a cut character", 5, 7, "", 0},
		{"starts inside a character: taken as decoded", 2, 5, "\uFFFD\uFFFDb", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := jsonText(raw[tc.start:tc.end])
			got, n := exactPrefix(text, int64(tc.end-tc.start))
			if got != tc.want || n != tc.wantN {
				t.Errorf("exactPrefix(%q, %d) = %q, %d; want %q, %d", text, tc.end-tc.start, got, n, tc.want, tc.wantN)
			}
		})
	}
	for _, tc := range []struct {
		name  string
		text  string
		n     int64
		want  string
		wantN int64
	}{
		// logSize and logs are resolved apart: text without U+FFFD is its
		// own bytes even when n disagrees.
		{"the log grew after logSize was read", "abcdef", 4, "abcdef", 6},
		{"logSize was read after the log grew", "ab", 4, "ab", 2},
		{"a cut after growth", "abc\uFFFD\uFFFD", 3, "abc", 3},
		// Real U+FFFD characters: the sizes agree, the text is exact.
		{"real U+FFFD", "x\uFFFD\uFFFDy", 8, "x\uFFFD\uFFFDy", 8},
		// A real U+FFFD right before a cut: left out with the cut and read
		// again, never taken for a replaced byte.
		{"real U+FFFD before a cut", "x\uFFFD\uFFFD\uFFFD", 6, "x", 1},
		// Invalid bytes inside the log cannot cross JSON: taken as decoded.
		{"invalid byte inside", "a\uFFFDb", 3, "a\uFFFDb", 3},
	} {
		if got, n := exactPrefix(tc.text, tc.n); got != tc.want || n != tc.wantN {
			t.Errorf("%s: exactPrefix(%q, %d) = %q, %d; want %q, %d", tc.name, tc.text, tc.n, got, n, tc.want, tc.wantN)
		}
	}
}

// jsonText is what a client decodes from a JSON string the server encoded
// from raw bytes: every byte of an invalid sequence becomes U+FFFD.
func jsonText(raw []byte) string {
	b, err := json.Marshal(string(raw))
	if err != nil {
		panic(err)
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		panic(err)
	}
	return s
}

// FuzzLogCursor delivers a log in chunks with random boundaries, overlaps,
// replays and gaps, every chunk passing through JSON as on the wire, and
// fills gaps and cut characters with paged reads as the engine does. The
// reassembled log must be the original byte for byte when it is valid
// UTF-8, and be delivered once, in order, in any case.
func FuzzLogCursor(f *testing.F) {
	f.Add([]byte("plain ascii log\nline two\n"), []byte{3, 5, 0, 9, 2, 2, 7, 30})
	f.Add([]byte("ünïcødé ✓ 日本語 🚀 — end\n"), []byte{1, 1, 2, 3, 0, 4, 5, 1, 6, 2})
	f.Add([]byte("🚀🚀🚀🚀"), []byte{0, 1, 1, 1, 2, 1, 3, 1, 4, 1, 5, 1})
	f.Add([]byte("a\xffb\xe2\x82"), []byte{0, 2, 1, 3})
	f.Fuzz(func(t *testing.T, log []byte, ops []byte) {
		if len(log) > 1<<12 || len(ops) > 256 {
			return
		}
		checkDelivery(t, log, ops)
	})
}

func checkDelivery(t *testing.T, log []byte, ops []byte) {
	size := int64(len(log))
	var got []byte
	cur := &logCursor{}
	cur.emit = func(off int64, b []byte) {
		if off != cur.offset {
			t.Fatalf("emitted at %d while the cursor is at %d", off, cur.offset)
		}
		got = append(got, b...)
	}
	// read is Job.logs at the cursor: limit bytes at most, with a logSize
	// that may be off by a byte (resolved apart from logs) when the first
	// op is odd.
	reads := 0
	skewed := len(ops) > 0 && ops[0]&1 == 1
	read := func(limit int64, final bool) bool {
		stored := min(limit, size-cur.offset)
		if stored <= 0 {
			return false
		}
		reads++
		n := stored
		if skewed {
			n = max(stored+int64(reads%3)-1, 1)
		}
		text, n := exactPrefix(jsonText(log[cur.offset:cur.offset+stored]), n)
		if n == 0 {
			if !final {
				return false
			}
			text, n = jsonText(log[cur.offset:cur.offset+stored]), stored
		}
		cur.chunk(cur.offset, cur.offset+n, []byte(text))
		return true
	}
	fill := func(upTo int64, final bool) {
		for cur.offset < upTo {
			if !read(min(upTo-cur.offset+utf8.UTFMax-1, 7), final) {
				return
			}
		}
	}
	for len(ops) >= 2 {
		start := int64(ops[0]) % (size + 1)
		end := min(start+int64(ops[1]%16), size)
		ops = ops[2:]
		text := jsonText(log[start:end])
		switch {
		case end <= cur.offset:
			cur.chunk(start, end, []byte(text)) // a replay: must be a no-op
		case int64(len(text)) != end-start:
			fill(end, false)
		case !cur.chunk(start, end, []byte(text)):
			fill(start, false)
			cur.chunk(start, end, []byte(text))
		}
	}
	fill(size, true)
	// A log holding invalid UTF-8 cannot cross JSON exactly; with skewed
	// sizes on top, only termination is promised.
	if cur.offset != size && (utf8.Valid(log) || !skewed) {
		t.Fatalf("cursor at %d after the end, want %d", cur.offset, size)
	}
	if utf8.Valid(log) && !bytes.Equal(got, log) {
		t.Fatalf("reassembled %q, want %q", got, log)
	}
}
