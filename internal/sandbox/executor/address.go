package executor

import (
	"strconv"
	"strings"
)

// instanceKey is a count index or a for_each key.
type instanceKey struct {
	kind int // keyNone, keyInt, keyString
	i    int
	s    string
}

const (
	keyNone = iota
	keyInt
	keyString
)

func (k instanceKey) String() string {
	switch k.kind {
	case keyInt:
		return "[" + strconv.Itoa(k.i) + "]"
	case keyString:
		return "[" + quoteString(k.s) + "]"
	}
	return ""
}

// quoteString quotes s as an HCL string literal.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// resourceAddr builds an instance address such as module.m[0].data.t.n["k"].
func resourceAddr(module, mode, typ, name string, key instanceKey) string {
	var b strings.Builder
	if module != "" {
		b.WriteString(module)
		b.WriteByte('.')
	}
	if mode == modeData {
		b.WriteString("data.")
	}
	b.WriteString(typ)
	b.WriteByte('.')
	b.WriteString(name)
	b.WriteString(key.String())
	return b.String()
}

// addrPart is one dotted component of an address with an optional key.
type addrPart struct {
	name string
	key  instanceKey
}

// splitAddr splits an address into its parts, understanding quoted keys
// that contain dots or brackets. ok is false for a malformed address.
func splitAddr(addr string) (parts []addrPart, ok bool) {
	i := 0
	for i < len(addr) {
		j := i
		for j < len(addr) && addr[j] != '.' && addr[j] != '[' {
			j++
		}
		if j == i {
			return nil, false
		}
		p := addrPart{name: addr[i:j]}
		if j < len(addr) && addr[j] == '[' {
			end, key, ok := parseKey(addr, j)
			if !ok {
				return nil, false
			}
			p.key, j = key, end
		}
		parts = append(parts, p)
		if j < len(addr) {
			if addr[j] != '.' {
				return nil, false
			}
			j++
			if j == len(addr) {
				return nil, false
			}
		}
		i = j
	}
	return parts, len(parts) > 0
}

// parseKey parses "[0]" or "[\"k\"]" starting at addr[i] == '['.
func parseKey(addr string, i int) (end int, key instanceKey, ok bool) {
	i++
	if i < len(addr) && addr[i] == '"' {
		j := i + 1
		for j < len(addr) && addr[j] != '"' {
			if addr[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(addr) || j+1 >= len(addr) || addr[j+1] != ']' {
			return 0, key, false
		}
		s, err := strconv.Unquote(addr[i : j+1])
		if err != nil {
			s = addr[i+1 : j]
		}
		return j + 2, instanceKey{kind: keyString, s: s}, true
	}
	j := strings.IndexByte(addr[i:], ']')
	if j < 0 {
		return 0, key, false
	}
	n, err := strconv.Atoi(addr[i : i+j])
	if err != nil {
		return 0, key, false
	}
	return i + j + 1, instanceKey{kind: keyInt, i: n}, true
}

// parsedAddr is a resource instance address taken apart.
type parsedAddr struct {
	modules []addrPart // module.NAME[key] steps
	mode    string
	typ     string
	name    string
	key     instanceKey
}

func parseResourceAddr(addr string) (parsedAddr, bool) {
	parts, ok := splitAddr(addr)
	if !ok {
		return parsedAddr{}, false
	}
	var pa parsedAddr
	i := 0
	for i+1 < len(parts) && parts[i].name == "module" && parts[i].key.kind == keyNone {
		pa.modules = append(pa.modules, addrPart{name: parts[i+1].name, key: parts[i+1].key})
		i += 2
	}
	rest := parts[i:]
	pa.mode = modeManaged
	if len(rest) == 3 && rest[0].name == "data" && rest[0].key.kind == keyNone {
		pa.mode = modeData
		rest = rest[1:]
	}
	if len(rest) != 2 || rest[0].key.kind != keyNone {
		return parsedAddr{}, false
	}
	pa.typ, pa.name, pa.key = rest[0].name, rest[1].name, rest[1].key
	return pa, true
}

func (pa parsedAddr) moduleNames() []string {
	names := make([]string, len(pa.modules))
	for i, m := range pa.modules {
		names[i] = m.name
	}
	return names
}

// compareParsed orders addresses the way Terraform lists them: by module
// path, then managed before data, type, name, and numeric keys numerically.
func compareParsed(pa, pb parsedAddr) int {
	for i := 0; i < len(pa.modules) && i < len(pb.modules); i++ {
		if c := comparePart(pa.modules[i], pb.modules[i]); c != 0 {
			return c
		}
	}
	if len(pa.modules) != len(pb.modules) {
		return len(pa.modules) - len(pb.modules)
	}
	if pa.mode != pb.mode {
		if pa.mode == modeManaged {
			return -1
		}
		return 1
	}
	if c := strings.Compare(pa.typ, pb.typ); c != 0 {
		return c
	}
	return comparePart(addrPart{pa.name, pa.key}, addrPart{pb.name, pb.key})
}

// addrSorter sorts by address, parsing each address once.
type addrSorter struct{ parsed map[string]parsedAddr }

func newAddrSorter() *addrSorter { return &addrSorter{parsed: map[string]parsedAddr{}} }

func (s *addrSorter) less(a, b string) bool {
	pa, oka := s.parse(a)
	pb, okb := s.parse(b)
	if !oka || !okb {
		return a < b
	}
	return compareParsed(pa, pb) < 0
}

func (s *addrSorter) parse(a string) (parsedAddr, bool) {
	if p, ok := s.parsed[a]; ok {
		return p, p.typ != ""
	}
	p, ok := parseResourceAddr(a)
	if !ok {
		p = parsedAddr{}
	}
	s.parsed[a] = p
	return p, ok
}

func comparePart(a, b addrPart) int {
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	if a.key.kind != b.key.kind {
		return a.key.kind - b.key.kind
	}
	if a.key.kind == keyInt {
		return a.key.i - b.key.i
	}
	return strings.Compare(a.key.s, b.key.s)
}

// targetMatches reports whether target selects addr: equal, or a prefix that
// ends on an address boundary ("module.m" selects "module.m[0].x.y").
func targetMatches(target, addr string) bool {
	target = strings.TrimSpace(target)
	if target == "" || !strings.HasPrefix(addr, target) {
		return false
	}
	if len(addr) == len(target) {
		return true
	}
	c := addr[len(target)]
	return c == '.' || c == '['
}
