package executor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Marks carried on cty values during evaluation. Planning computes every value
// concretely; the marks record what a real plan could not know yet.
type valueMark string

const (
	// markAfterApply: Terraform would show "(known after apply)".
	markAfterApply valueMark = "after-apply"
	// markSensitive: derived from a sensitive variable or output.
	markSensitive valueMark = "sensitive"
	// markExcluded: derived from a resource this plan does not create
	// (targeting or refresh-only), so it must not reach the state.
	markExcluded valueMark = "excluded"
)

// pathMarks maps a normalized path (see pathString) to the marks found there.
type pathMarks map[string]map[valueMark]bool

func (pm pathMarks) add(p string, m valueMark) {
	if pm[p] == nil {
		pm[p] = map[valueMark]bool{}
	}
	pm[p][m] = true
}

func (pm pathMarks) has(p string, m valueMark) bool { return pm[p][m] }

// under returns the marks below prefix, re-rooted at prefix.
func (pm pathMarks) under(prefix string) pathMarks {
	out := pathMarks{}
	for p, ms := range pm {
		if strings.HasPrefix(p, prefix) {
			for m := range ms {
				out.add(p[len(prefix):], m)
			}
		}
	}
	return out
}

// any reports whether mark m is present anywhere.
func (pm pathMarks) any(m valueMark) bool {
	for _, ms := range pm {
		if ms[m] {
			return true
		}
	}
	return false
}

// toPathValueMarks converts back to cty's form for attributes of an object.
func (pm pathMarks) toPathValueMarks(v cty.Value) []cty.PathValueMarks {
	var out []cty.PathValueMarks
	for p, ms := range pm {
		path, ok := ctyPathFor(v, p)
		if !ok {
			continue
		}
		marks := make(cty.ValueMarks, len(ms))
		for m := range ms {
			marks[m] = struct{}{}
		}
		out = append(out, cty.PathValueMarks{Path: path, Marks: marks})
	}
	return out
}

// ctyPathFor resolves a normalized path string against v's type.
func ctyPathFor(v cty.Value, p string) (cty.Path, bool) {
	var path cty.Path
	cur := v
	for p != "" {
		end, key, ok := parseKey(p, 0)
		if !ok || p[0] != '[' {
			return nil, false
		}
		p = p[end:]
		ty := cur.Type()
		var step cty.PathStep
		switch {
		case key.kind == keyString && ty.IsObjectType():
			if !ty.HasAttribute(key.s) {
				return nil, false
			}
			step = cty.GetAttrStep{Name: key.s}
		case key.kind == keyString && ty.IsMapType():
			step = cty.IndexStep{Key: cty.StringVal(key.s)}
		case key.kind == keyInt && (ty.IsListType() || ty.IsTupleType()):
			step = cty.IndexStep{Key: cty.NumberIntVal(int64(key.i))}
		default:
			return nil, false
		}
		next, err := step.Apply(cur)
		if err != nil {
			return nil, false
		}
		path = append(path, step)
		cur = next
	}
	return path, true
}

// sensitivePaths lists the paths marked sensitive, sorted; nil if none.
func (pm pathMarks) sensitivePaths() []string {
	var out []string
	for p, ms := range pm {
		if ms[markSensitive] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// onlySensitive keeps just the sensitive marks.
func (pm pathMarks) onlySensitive() pathMarks {
	out := pathMarks{}
	for _, p := range pm.sensitivePaths() {
		out.add(p, markSensitive)
	}
	return out
}

// sensitiveMarks rebuilds marks from stored SensitivePaths plus extra.
func sensitiveMarks(paths []string, extra pathMarks) pathMarks {
	out := extra.onlySensitive()
	for _, p := range paths {
		out.add(p, markSensitive)
	}
	return out
}

// pathString normalizes a cty path: attribute and map keys both become
// ["k"], list and tuple indexes [n].
func pathString(p cty.Path) string {
	var b strings.Builder
	for _, step := range p {
		switch s := step.(type) {
		case cty.GetAttrStep:
			b.WriteString("[" + quoteString(s.Name) + "]")
		case cty.IndexStep:
			if s.Key.Type() == cty.String {
				b.WriteString("[" + quoteString(s.Key.AsString()) + "]")
			} else if s.Key.Type() == cty.Number {
				i, _ := s.Key.AsBigFloat().Int64()
				b.WriteString("[" + strconv.FormatInt(i, 10) + "]")
			} else {
				b.WriteString("[?]")
			}
		}
	}
	return b.String()
}

// unmarkValue strips all marks and returns where they were.
func unmarkValue(v cty.Value) (cty.Value, pathMarks) {
	u, pvm := v.UnmarkDeepWithPaths()
	pm := pathMarks{}
	for _, m := range pvm {
		p := pathString(m.Path)
		for mk := range m.Marks {
			if vm, ok := mk.(valueMark); ok {
				pm.add(p, vm)
			}
		}
	}
	return u, pm
}

// ctyToAny converts a wholly known, unmarked value to plain JSON data;
// numbers become json.Number so that no precision is lost. (ctyjson would
// wrap values of dynamic type, such as a literal null, in type envelopes.)
func ctyToAny(v cty.Value) (any, error) {
	if !v.IsKnown() {
		return nil, fmt.Errorf("value is not known")
	}
	if v.IsNull() {
		return nil, nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString(), nil
	case ty == cty.Number:
		return json.Number(v.AsBigFloat().Text('f', -1)), nil
	case ty == cty.Bool:
		return v.True(), nil
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		out := make([]any, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			a, err := ctyToAny(e)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
		return out, nil
	case ty.IsMapType() || ty.IsObjectType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			a, err := ctyToAny(e)
			if err != nil {
				return nil, err
			}
			out[k.AsString()] = a
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot represent a %s value as JSON", ty.FriendlyName())
}

// anyToCty converts JSON data (as decoded by encoding/json, or with
// json.Number) to a cty value of the implied type.
func anyToCty(v any) (cty.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return cty.NilVal, err
	}
	return jsonToCty(b)
}

func jsonToCty(b []byte) (cty.Value, error) {
	ty, err := ctyjson.ImpliedType(b)
	if err != nil {
		return cty.NilVal, err
	}
	return ctyjson.Unmarshal(b, ty)
}

// normalizeAny turns numbers of any Go representation into float64 so that
// values read back from storage compare equal to freshly planned ones.
func normalizeAny(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = normalizeAny(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = normalizeAny(e)
		}
		return s
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return v.String()
		}
		return f
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case float32:
		return float64(v)
	default:
		rv := reflect.ValueOf(v)
		if rv.IsValid() && (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) {
			// Typed slices or maps from a caller: round-trip through JSON.
			b, err := json.Marshal(v)
			if err == nil {
				var out any
				if json.Unmarshal(b, &out) == nil {
					return normalizeAny(out)
				}
			}
		}
		return v
	}
}

func equalAny(a, b any) bool {
	return reflect.DeepEqual(normalizeAny(a), normalizeAny(b))
}

// canonicalJSON encodes v with sorted keys; used for hashing.
func canonicalJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(normalizeAny(v))
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// formatNumber renders a JSON number the way Terraform prints numbers.
func formatNumber(v any) string {
	switch n := v.(type) {
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64)
	case json.Number:
		f, _, err := big.ParseFloat(n.String(), 10, 512, big.ToNearestEven)
		if err != nil {
			return n.String()
		}
		return f.Text('f', -1)
	}
	return fmt.Sprint(v)
}
