package executor

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// rv is a value prepared for display: JSON data plus what marks say about it.
type rv struct {
	kind   int
	inner  *rv    // rvSensitive: the hidden value, compared but never shown
	text   string // rvPrim: the literal as Terraform prints it
	elems  []*rv  // rvList
	keys   []string
	fields map[string]*rv // rvMap
}

const (
	rvNull = iota
	rvPrim
	rvList
	rvMap
	rvUnknown
	rvSensitive
)

const (
	knownAfterApply = "(known after apply)"
	sensitiveValue  = "(sensitive value)"
)

// makeRV builds a display tree from JSON data and the marks found on it.
func makeRV(v any, pm pathMarks) *rv { return makeRVAt(v, pm, "") }

func makeRVAt(v any, pm pathMarks, p string) *rv {
	if pm.has(p, markSensitive) {
		inner := pathMarks{}
		for q, ms := range pm {
			if q != p {
				inner[q] = ms
			}
		}
		return &rv{kind: rvSensitive, inner: makeRVAt(v, inner, p)}
	}
	if pm.has(p, markAfterApply) {
		return &rv{kind: rvUnknown}
	}
	switch v := v.(type) {
	case nil:
		return &rv{kind: rvNull}
	case string:
		return &rv{kind: rvPrim, text: quoteString(v)}
	case bool:
		return &rv{kind: rvPrim, text: strconv.FormatBool(v)}
	case []any:
		out := &rv{kind: rvList}
		for i, e := range v {
			out.elems = append(out.elems, makeRVAt(e, pm, p+"["+strconv.Itoa(i)+"]"))
		}
		return out
	case map[string]any:
		out := &rv{kind: rvMap, fields: map[string]*rv{}}
		out.keys = sortedKeys(v)
		for _, k := range out.keys {
			out.fields[k] = makeRVAt(v[k], pm, p+"["+quoteString(k)+"]")
		}
		return out
	default:
		return &rv{kind: rvPrim, text: formatNumber(normalizeAny(v))}
	}
}

func (a *rv) isNull() bool { return a == nil || a.kind == rvNull }

func rvEqual(a, b *rv) bool {
	if a.isNull() || b.isNull() {
		return a.isNull() && b.isNull()
	}
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case rvPrim:
		return a.text == b.text
	case rvList:
		if len(a.elems) != len(b.elems) {
			return false
		}
		for i := range a.elems {
			if !rvEqual(a.elems[i], b.elems[i]) {
				return false
			}
		}
		return true
	case rvMap:
		if len(a.keys) != len(b.keys) {
			return false
		}
		for _, k := range a.keys {
			if !rvEqual(a.fields[k], b.fields[k]) {
				return false
			}
		}
		return true
	case rvSensitive:
		return rvEqual(a.inner, b.inner)
	}
	// Unknown values never compare equal: a plan cannot prove them
	// unchanged.
	return false
}

// differ writes attribute diffs with action symbols, Terraform style.
type differ struct {
	b  *bytes.Buffer
	st style
}

func (d *differ) line(indent int, sym, text string) {
	d.b.WriteString(strings.Repeat(" ", indent))
	if sym == " " {
		d.b.WriteString(" ")
	} else {
		d.b.WriteString(d.st.symbol(sym))
	}
	d.b.WriteString(" ")
	d.b.WriteString(text)
	d.b.WriteString("\n")
}

func (d *differ) plain(indent int, text string) {
	d.b.WriteString(strings.Repeat(" ", indent) + text + "\n")
}

func (d *differ) hidden(indent int, n int, what string) {
	if n == 0 {
		return
	}
	noun := what
	if n != 1 {
		noun += "s"
	}
	d.plain(indent, d.st.gray(fmt.Sprintf("# (%d unchanged %s hidden)", n, noun)))
}

// scalar renders a value that fits on one line, or "" if it does not.
func scalar(v *rv) (string, bool) {
	switch {
	case v.isNull():
		return "null", true
	case v.kind == rvPrim:
		return v.text, true
	case v.kind == rvUnknown:
		return knownAfterApply, true
	case v.kind == rvSensitive:
		return sensitiveValue, true
	case v.kind == rvList && len(v.elems) == 0:
		return "[]", true
	case v.kind == rvMap && len(v.keys) == 0:
		return "{}", true
	}
	return "", false
}

// whole writes "head<value>tail" where every nested line carries sym; used
// for values that are wholly added or removed. head is the text up to and
// including "= ".
func (d *differ) whole(indent int, sym, head string, v *rv, openNote, tail string) {
	if s, ok := scalar(v); ok {
		d.line(indent, sym, head+s+tail+openNote)
		return
	}
	open, close := "[", "]"
	if v.kind == rvMap {
		open, close = "{", "}"
	}
	d.line(indent, sym, head+open+openNote)
	if v.kind == rvList {
		for _, e := range v.elems {
			d.whole(indent+4, sym, "", e, "", ",")
		}
	} else {
		w := keyWidth(v.keys, nil)
		for _, k := range v.keys {
			d.whole(indent+4, sym, padKey(quoteString(k), w)+" = ", v.fields[k], "", "")
		}
	}
	d.plain(indent+2, close+tail)
}

func keyWidth(keys []string, skip func(string) bool) int {
	w := 0
	for _, k := range keys {
		if skip != nil && skip(k) {
			continue
		}
		if n := len(quoteString(k)); n > w {
			w = n
		}
	}
	return w
}

func padKey(k string, w int) string {
	if len(k) >= w {
		return k
	}
	return k + strings.Repeat(" ", w-len(k))
}

// change writes one named value's change from before to after. name is
// already padded; note is appended to the first line (e.g. forces
// replacement).
func (d *differ) change(indent int, name string, before, after *rv, note string) {
	switch {
	case before.isNull() && after.isNull():
		return
	case before.isNull():
		d.whole(indent, "+", name+" = ", after, note, "")
		return
	case after.isNull():
		d.whole(indent, "-", name+" = ", before, note, " -> null")
		return
	case rvEqual(before, after):
		d.whole(indent, " ", name+" = ", after, note, "")
		return
	}
	if before.kind == rvSensitive || after.kind == rvSensitive {
		d.line(indent, "~", name+" = "+sensitiveValue+note)
		return
	}
	if before.kind == after.kind && before.kind == rvMap {
		d.line(indent, "~", name+" = {"+note)
		d.mapEntries(indent+4, before, after)
		d.plain(indent+2, "}")
		return
	}
	if before.kind == after.kind && before.kind == rvList {
		d.line(indent, "~", name+" = ["+note)
		d.listEntries(indent+4, before, after)
		d.plain(indent+2, "]")
		return
	}
	bs, bok := scalar(before)
	as, aok := scalar(after)
	if bok && aok {
		d.line(indent, "~", name+" = "+bs+" -> "+as+note)
		return
	}
	// A collection replaced by a scalar or the other way round.
	d.whole(indent, "-", name+" = ", before, note, "")
	d.whole(indent, "+", name+" = ", after, "", "")
}

func (d *differ) mapEntries(indent int, before, after *rv) {
	keys := unionKeys(before.keys, after.keys)
	unchanged := func(k string) bool { return rvEqual(before.fields[k], after.fields[k]) }
	w := keyWidth(keys, unchanged)
	hidden := 0
	for _, k := range keys {
		if unchanged(k) {
			hidden++
			continue
		}
		d.change(indent, padKey(quoteString(k), w), before.fields[k], after.fields[k], "")
	}
	d.hidden(indent, hidden, "element")
}

// listEntries diffs two lists element by element along their longest
// common subsequence.
func (d *differ) listEntries(indent int, before, after *rv) {
	a, b := before.elems, after.elems
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if rvEqual(a[i], b[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	hidden := 0
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && rvEqual(a[i], b[j]):
			hidden++
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			d.whole(indent, "+", "", b[j], "", ",")
			j++
		default:
			d.whole(indent, "-", "", a[i], "", ",")
			i++
		}
	}
	d.hidden(indent, hidden, "element")
}

func unionKeys(a, b []string) []string {
	set := map[string]bool{}
	for _, k := range a {
		set[k] = true
	}
	for _, k := range b {
		set[k] = true
	}
	return sortedKeys(set)
}

// plainValue renders a value without action symbols, as "terraform output"
// and the end of an apply do.
func plainValue(b *bytes.Buffer, indent int, v *rv) {
	if s, ok := scalar(v); ok {
		b.WriteString(s)
		return
	}
	pad := strings.Repeat(" ", indent+2)
	if v.kind == rvList {
		b.WriteString("[\n")
		for _, e := range v.elems {
			b.WriteString(pad)
			plainValue(b, indent+2, e)
			b.WriteString(",\n")
		}
		b.WriteString(strings.Repeat(" ", indent) + "]")
		return
	}
	b.WriteString("{\n")
	w := keyWidth(v.keys, nil)
	for _, k := range v.keys {
		b.WriteString(pad + padKey(quoteString(k), w) + " = ")
		plainValue(b, indent+2, v.fields[k])
		b.WriteString("\n")
	}
	b.WriteString(strings.Repeat(" ", indent) + "}")
}
