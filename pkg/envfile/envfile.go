// Package envfile parses environment-variable files (dotenv style) and
// --env-var flags for Tharsis runs.
//
// File syntax, one assignment per line:
//
//	# a comment; blank lines are ignored
//	KEY=value                  unquoted: trimmed; " #" (whitespace then #) starts a comment
//	export KEY=value           an "export " prefix is allowed and ignored
//	KEY = value                blanks around "=" are allowed
//	KEY='literal $x \n'        single quotes: taken literally, may span lines
//	KEY="a\tb\n\"c\" \\"       double quotes: \n \t \r \" \\ are escapes (any other
//	                           backslash is kept as is), may span lines
//	KEY="x" # comment          a comment may follow a closing quote
//
// Keys must be valid environment variable names ([A-Za-z_][A-Za-z0-9_]*).
// There is no variable expansion: a value is never changed behind the
// user's back. Lines may be of any length (the reference CLI silently
// truncated a file at its first line over 64 KiB). Errors name file:line.
//
// A small parser is used instead of a library: github.com/joho/godotenv
// reports errors without line numbers and expands $VAR inside values,
// and github.com/hashicorp/go-envparse returns a map (losing the order and
// the line of each variable) with JSON-style escapes and shell-style
// concatenation of quoted parts.
package envfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// Variable is one environment variable for a run.
type Variable struct {
	Key   string
	Value string
	// Source is "<file>:<line>" or "--env-var #<n>".
	Source string
}

// ArgKind distinguishes the two flags.
type ArgKind uint8

const (
	// KindFile is an --env-var-file flag: Value is a path.
	KindFile ArgKind = iota + 1
	// KindVar is an --env-var flag: Value is "KEY=value".
	KindVar
)

// Arg is one --env-var-file or --env-var flag, in command-line order.
type Arg struct {
	Kind  ArgKind
	Value string
}

// FileArg returns an --env-var-file argument.
func FileArg(path string) Arg { return Arg{Kind: KindFile, Value: path} }

// VarArg returns an --env-var argument.
func VarArg(kv string) Arg { return Arg{Kind: KindVar, Value: kv} }

// Load applies the arguments in order (a later assignment of a key wins)
// and returns the variables sorted by key.
func Load(args []Arg) ([]Variable, error) {
	vals := map[string]Variable{}
	nFile, nVar := 0, 0
	for _, a := range args {
		switch a.Kind {
		case KindFile:
			nFile++
			vs, err := ParseFile(a.Value)
			if err != nil {
				return nil, fmt.Errorf("--env-var-file #%d: %w", nFile, err)
			}
			for _, v := range vs {
				vals[v.Key] = v
			}
		case KindVar:
			nVar++
			v, err := ParseFlag(a.Value, nVar)
			if err != nil {
				return nil, err
			}
			vals[v.Key] = v
		default:
			return nil, fmt.Errorf("envfile: argument of unknown kind %d", a.Kind)
		}
	}
	out := make([]Variable, 0, len(vals))
	for _, v := range vals {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// ParseFlag parses the value of the pos-th --env-var flag (1-based):
// "KEY=value", split at the first "=", the value kept exactly as given.
func ParseFlag(s string, pos int) (Variable, error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok {
		return Variable{}, fmt.Errorf("--env-var #%d: expected KEY=value, got no \"=\"", pos)
	}
	if err := checkKey(key); err != nil {
		return Variable{}, fmt.Errorf("--env-var #%d: %w", pos, err)
	}
	if strings.ContainsRune(value, 0) {
		return Variable{}, fmt.Errorf("--env-var #%d: the value of %s contains a NUL byte", pos, key)
	}
	return Variable{Key: key, Value: value, Source: fmt.Sprintf("--env-var #%d", pos)}, nil
}

func checkKey(key string) error {
	if key == "" {
		return errors.New("empty variable name")
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return fmt.Errorf("invalid variable name %q: use letters, digits and underscores, not starting with a digit", key)
	}
	return nil
}

// ParseFile reads and parses an environment file.
func ParseFile(path string) ([]Variable, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("reading environment file %s: %w", path, err)
	}
	return Parse(src, path)
}

// Parse parses the content of an environment file; name is used in
// Source and in error messages. Variables come in file order, a key
// assigned twice appearing twice.
func Parse(src []byte, name string) ([]Variable, error) {
	p := &parser{
		src:  strings.ReplaceAll(strings.TrimPrefix(string(src), "\uFEFF"), "\r\n", "\n"),
		name: name,
		line: 1,
	}
	var vars []Variable
	for p.pos < len(p.src) {
		v, ok, err := p.next()
		if err != nil {
			return nil, err
		}
		if ok {
			vars = append(vars, v)
		}
	}
	return vars, nil
}

type parser struct {
	src  string
	name string
	pos  int // offset of the start of the current line
	line int // its line number
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.name, line, fmt.Sprintf(format, args...))
}

// restOfLine returns the text from offset i to the end of its line and the
// offset just past the newline.
func (p *parser) restOfLine(i int) (string, int) {
	if j := strings.IndexByte(p.src[i:], '\n'); j >= 0 {
		return p.src[i : i+j], i + j + 1
	}
	return p.src[i:], len(p.src)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func skipBlanks(s string, i int) int {
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return i
}

// next parses one line (or several, for a quoted value spanning lines);
// ok is false for a blank or comment line.
func (p *parser) next() (v Variable, ok bool, err error) {
	line := p.line
	text, after := p.restOfLine(p.pos)
	i := skipBlanks(text, 0)
	if i == len(text) || text[i] == '#' {
		p.pos, p.line = after, p.line+1
		return v, false, nil
	}
	if rest, found := strings.CutPrefix(text[i:], "export"); found && rest != "" && isBlank(rest[0]) {
		i = skipBlanks(text, i+len("export"))
	}
	eq := strings.IndexByte(text[i:], '=')
	if eq < 0 {
		return v, false, p.errorf(line, "expected KEY=VALUE")
	}
	key := strings.TrimRight(text[i:i+eq], " \t")
	if err := checkKey(key); err != nil {
		return v, false, p.errorf(line, "%v", err)
	}
	j := skipBlanks(text, i+eq+1)
	var value string
	if j < len(text) && (text[j] == '\'' || text[j] == '"') {
		value, err = p.quoted(p.pos+j, line)
		if err != nil {
			return v, false, err
		}
	} else {
		value = unquoted(text[i+eq+1:])
		p.pos, p.line = after, p.line+1
	}
	if strings.ContainsRune(value, 0) {
		return v, false, p.errorf(line, "the value of %s contains a NUL byte", key)
	}
	return Variable{Key: key, Value: value, Source: fmt.Sprintf("%s:%d", p.name, line)}, true, nil
}

// unquoted trims the value and drops a comment: a "#" preceded by a blank.
func unquoted(s string) string {
	for k := 1; k < len(s); k++ {
		if s[k] == '#' && isBlank(s[k-1]) {
			s = s[:k]
			break
		}
	}
	return strings.TrimSpace(s)
}

// quoted parses the quoted value starting at offset start (the opening
// quote), possibly over several lines, and moves the parser past the line
// holding the closing quote. Only blanks or a comment may follow it.
func (p *parser) quoted(start, line int) (string, error) {
	q := p.src[start]
	var b strings.Builder
	i := start + 1
	for ; i < len(p.src); i++ {
		c := p.src[i]
		if c == q {
			break
		}
		if c == '\n' {
			p.line++
		}
		if q == '"' && c == '\\' && i+1 < len(p.src) {
			if r, ok := escapes[p.src[i+1]]; ok {
				b.WriteByte(r)
				i++
				continue
			}
		}
		b.WriteByte(c)
	}
	if i >= len(p.src) {
		return "", p.errorf(line, "unterminated %c-quoted value", q)
	}
	tail, after := p.restOfLine(i + 1)
	if k := skipBlanks(tail, 0); k < len(tail) && tail[k] != '#' {
		// The text is not quoted back: it may be part of a secret.
		return "", p.errorf(p.line, "unexpected text after the closing %c quote (escape a quote inside a value, or use the other kind of quotes)", q)
	}
	p.pos, p.line = after, p.line+1
	return b.String(), nil
}

var escapes = map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', '"': '"', '\\': '\\'}
