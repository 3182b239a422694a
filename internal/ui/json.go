package ui

import (
	"encoding/json"
	"io"
)

// WriteJSON writes v as one JSON document indented by two spaces, followed by
// a newline. HTML characters are not escaped (output is for terminals and
// tools, not browsers).
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// PrintJSONLine writes v to Out as compact JSON on one line.
func (s *IOStreams) PrintJSONLine(v any) error {
	enc := json.NewEncoder(s.Out)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// PrintJSON writes v as one JSON document to Out.
func (s *IOStreams) PrintJSON(v any) error { return WriteJSON(s.Out, v) }
