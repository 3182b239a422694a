package envfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    []Variable
		wantErr string
	}{
		{
			name: "basics",
			src:  "# comment\n\nA=1\n  B = two words  \nexport C=3\nexport\tD=4\nE=\nF=a=b\n",
			want: []Variable{
				{"A", "1", "f.env:3"}, {"B", "two words", "f.env:4"}, {"C", "3", "f.env:5"},
				{"D", "4", "f.env:6"}, {"E", "", "f.env:7"}, {"F", "a=b", "f.env:8"},
			},
		},
		{
			name: "inline comments in unquoted values",
			src:  "A=x # note\nB=x#not-a-comment\nC=#also-not\nD= # only a comment\nE=x\t# tab before\n",
			want: []Variable{
				{"A", "x", "f.env:1"}, {"B", "x#not-a-comment", "f.env:2"}, {"C", "#also-not", "f.env:3"},
				{"D", "", "f.env:4"}, {"E", "x", "f.env:5"},
			},
		},
		{
			name: "single quotes are literal",
			src:  `A='a \n $HOME # "x"'` + "\nB=''\nC='x' # comment\nD='x'#c\n",
			want: []Variable{
				{"A", `a \n $HOME # "x"`, "f.env:1"}, {"B", "", "f.env:2"}, {"C", "x", "f.env:3"}, {"D", "x", "f.env:4"},
			},
		},
		{
			name: "double-quote escapes",
			src:  `A="l1\nl2\tt \"q\" back\\slash \r $HOME \x"` + "\nB=\"  padded  \"\nC=\"#x\"\n",
			want: []Variable{
				{"A", "l1\nl2\tt \"q\" back\\slash \r $HOME \\x", "f.env:1"}, {"B", "  padded  ", "f.env:2"}, {"C", "#x", "f.env:3"},
			},
		},
		{
			name: "quoted values over several lines",
			src:  "A=\"line1\nline2\"\nB='-----BEGIN KEY-----\nabc\n-----END KEY-----'\nC=3\n",
			want: []Variable{
				{"A", "line1\nline2", "f.env:1"}, {"B", "-----BEGIN KEY-----\nabc\n-----END KEY-----", "f.env:3"}, {"C", "3", "f.env:6"},
			},
		},
		{
			name: "CRLF, byte-order mark, no final newline",
			src:  "\uFEFFA=1\r\nB=\"x\r\ny\"\r\nC=3",
			want: []Variable{{"A", "1", "f.env:1"}, {"B", "x\ny", "f.env:2"}, {"C", "3", "f.env:4"}},
		},
		{
			name: "repeated key kept in order",
			src:  "A=1\nA=2\n",
			want: []Variable{{"A", "1", "f.env:1"}, {"A", "2", "f.env:2"}},
		},
		{name: "empty", src: "", want: nil},
		{name: "missing equals", src: "A=1\n\nJUSTAWORD\n", wantErr: "f.env:3: expected KEY=VALUE"},
		{name: "export alone", src: "export A\n", wantErr: "f.env:1: expected KEY=VALUE"},
		{name: "bad key", src: "A=1\nMY-VAR=2\n", wantErr: `f.env:2: invalid variable name "MY-VAR"`},
		{name: "key starting with a digit", src: "1A=2\n", wantErr: `f.env:1: invalid variable name "1A"`},
		{name: "empty key", src: "=2\n", wantErr: "f.env:1: empty variable name"},
		{name: "unterminated double quote", src: "A=1\nB=\"abc\nC=2\n", wantErr: "f.env:2: unterminated \"-quoted value"},
		{name: "unterminated single quote", src: "B='abc", wantErr: "f.env:1: unterminated '-quoted value"},
		{name: "text after closing quote", src: "A=\"x\"y\n", wantErr: "f.env:1: unexpected text after the closing \" quote"},
		{name: "text after a multi-line value", src: "A='x\ny' z\n", wantErr: "f.env:2: unexpected text"},
		{name: "NUL in value", src: "A=x\x00y\n", wantErr: "f.env:1: the value of A contains a NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.src), "f.env")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertVars(t, got, tt.want)
		})
	}
}

func assertVars(t *testing.T, got, want []Variable) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestLongLines: the reference CLI's bufio.Scanner stopped at the first
// line over 64 KiB and silently dropped the rest of the file.
func TestLongLines(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	src := "A=1\nBIG=" + long + "\nQUOTED=\"" + long + "\"\nLAST=end\n"
	got, err := Parse([]byte(src), "f.env")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[1].Value != long || got[2].Value != long || got[3] != (Variable{"LAST", "end", "f.env:4"}) {
		t.Fatalf("got %d variables; last %+v", len(got), got[len(got)-1])
	}
}

func TestParseFlag(t *testing.T) {
	tests := []struct {
		in      string
		want    Variable
		wantErr string
	}{
		{in: "A=b", want: Variable{"A", "b", "--env-var #3"}},
		{in: "A=", want: Variable{"A", "", "--env-var #3"}},
		{in: "A= b=c ", want: Variable{"A", " b=c ", "--env-var #3"}},
		{in: `A="quoted"`, want: Variable{"A", `"quoted"`, "--env-var #3"}}, // flags are raw
		{in: "_x9=1", want: Variable{"_x9", "1", "--env-var #3"}},
		{in: "A", wantErr: `--env-var #3: expected KEY=value, got no "="`},
		{in: "=1", wantErr: "--env-var #3: empty variable name"},
		{in: " A=1", wantErr: `--env-var #3: invalid variable name " A"`},
		{in: "A-B=1", wantErr: `invalid variable name "A-B"`},
		{in: "A=\x00", wantErr: "NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFlag(tt.in, 3)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	one, two, bad := filepath.Join(dir, "one.env"), filepath.Join(dir, "two.env"), filepath.Join(dir, "bad.env")
	for p, c := range map[string]string{one: "A=1\nB=1\n", two: "B=2\nC=2\n", bad: "ok=1\nnot valid\n"} {
		if err := os.WriteFile(p, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		args    []Arg
		want    []Variable
		wantErr []string
	}{
		{
			name: "command-line order, later wins",
			args: []Arg{FileArg(one), VarArg("B=flag"), FileArg(two), VarArg("C=flag")},
			want: []Variable{{"A", "1", one + ":1"}, {"B", "2", two + ":1"}, {"C", "flag", "--env-var #2"}},
		},
		{name: "bad file", args: []Arg{FileArg(one), FileArg(bad)}, wantErr: []string{"--env-var-file #2", bad + ":2: expected KEY=VALUE"}},
		{name: "missing file", args: []Arg{FileArg(filepath.Join(dir, "nope"))}, wantErr: []string{"--env-var-file #1", "nope", "no such file"}},
		{name: "bad flag", args: []Arg{VarArg("A=1"), VarArg("x")}, wantErr: []string{"--env-var #2"}},
		{name: "unknown kind", args: []Arg{{Value: "A=1"}}, wantErr: []string{"unknown kind"}},
		{name: "nothing", want: []Variable{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.args)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, got %+v", got)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertVars(t, got, tt.want)
		})
	}
}

// render writes variables back in the file syntax, double-quoted.
func render(vars []Variable) string {
	var b strings.Builder
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "\r", `\r`)
	for _, v := range vars {
		b.WriteString(v.Key + "=\"" + r.Replace(v.Value) + "\"\n")
	}
	return b.String()
}

// FuzzParse checks that parsing never panics, that what parses is well
// formed, and that rendering the result and parsing it again gives the
// same variables.
func FuzzParse(f *testing.F) {
	f.Add("A=1\nexport B='x'\nC=\"y\\n\" # c\n")
	f.Fuzz(func(t *testing.T, src string) {
		vars, err := Parse([]byte(src), "f.env")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.env:") {
				t.Errorf("error %q does not name the file and line", err)
			}
			return
		}
		for _, v := range vars {
			if checkKey(v.Key) != nil || !strings.HasPrefix(v.Source, "f.env:") {
				t.Errorf("bad variable %+v", v)
			}
		}
		again, err := Parse([]byte(render(vars)), "g.env")
		if err != nil {
			t.Fatalf("re-parsing %q: %v", render(vars), err)
		}
		if len(again) != len(vars) {
			t.Fatalf("round trip: %d variables, then %d", len(vars), len(again))
		}
		for i := range vars {
			if again[i].Key != vars[i].Key || again[i].Value != vars[i].Value {
				t.Errorf("round trip: %+v became %+v", vars[i], again[i])
			}
		}
	})
}

// FuzzParseFlag checks that a parsed flag keeps the text exactly.
func FuzzParseFlag(f *testing.F) {
	f.Add("A=b")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseFlag(s, 1)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--env-var #1: ") {
				t.Errorf("error %q does not name the flag", err)
			}
			return
		}
		if v.Key+"="+v.Value != s {
			t.Errorf("%q parsed as %+v", s, v)
		}
	})
}
