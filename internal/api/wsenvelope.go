package api

import (
	"bytes"
	"encoding/json"
)

// splitData reads a graphql-ws "data" message without decoding its
// payload. encoding/json would scan the whole message twice (validating
// it, then skipping over the payload) before the payload is decoded, which
// validates it again: on a log stream, whose messages carry 1 MiB of log
// each, that was 40% of the client's CPU time.
//
// It accepts only a JSON object whose keys are exactly "id", "type" and
// "payload", with id and type strings without escapes and type "data";
// anything else (ok false) goes through encoding/json. The payload is
// returned as it is, unvalidated: decoding it reports a malformed one.
func splitData(data []byte) (id string, payload json.RawMessage, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return "", nil, false
	}
	typ := ""
	for i++; ; {
		i = skipSpace(data, i)
		key, end, ok := plainString(data, i)
		if !ok {
			return "", nil, false
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return "", nil, false
		}
		i = skipSpace(data, i+1)
		end, ok = valueEnd(data, i)
		if !ok {
			return "", nil, false
		}
		val := data[i:end]
		switch key {
		case "id", "type":
			s, n, ok := plainString(val, 0)
			if !ok || n != len(val) {
				return "", nil, false
			}
			if key == "id" {
				id = s
			} else {
				typ = s
			}
		case "payload":
			payload = val
		default:
			return "", nil, false
		}
		i = skipSpace(data, end)
		if i >= len(data) {
			return "", nil, false
		}
		if data[i] == '}' {
			i++
			break
		}
		if data[i] != ',' {
			return "", nil, false
		}
		i++
	}
	if skipSpace(data, i) != len(data) || typ != wsData || payload == nil {
		return "", nil, false
	}
	return id, payload, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string of printable ASCII without escapes at
// b[i] (keys, ids and message types are); end is the index after its
// closing quote.
func plainString(b []byte, i int) (s string, end int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return string(b[i+1 : j]), j + 1, true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return "", 0, false
		}
	}
	return "", 0, false
}

// stringEnd returns the index after the JSON string that starts at b[i].
func stringEnd(b []byte, i int) (int, bool) {
	for j := i + 1; ; {
		q := bytes.IndexByte(b[j:], '"')
		if q < 0 {
			return 0, false
		}
		q += j
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, true
		}
		j = q + 1
	}
}

// valueEnd returns the index after the JSON value that starts at b[i]. It
// finds the end only (strings, nesting); it does not validate.
func valueEnd(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, ok := stringEnd(b, i)
				if !ok {
					return 0, false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return 0, false
	}
	// A number, true, false or null: up to the next delimiter.
	j := i
	for j < len(b) && !isDelim(b[j]) {
		j++
	}
	return j, j > i
}

func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
