package tfvars

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, file, src string
		want            []Variable
		wantErr         []string // substrings of the error
	}{
		{
			name: "hcl values",
			file: "t.tfvars",
			src: `region = "eu-west-1"
count_ = 3
ratio = 1.5
big = 12345678901234567890e100
on = true
list = [1, "two", false]
map = { b = "x", a = 1 }
nested = { l = [{ k = "v" }] }
nothing = null
heredoc = <<EOT
line1
line2
EOT
tmpl = "a-${"b"}-%{ if true }c%{ endif }"
expr = 1 + 2
dash-name = "ok"
`,
			want: []Variable{
				{"big", "12345678901234567890" + strings.Repeat("0", 100), "t.tfvars:4"},
				{"count_", "3", "t.tfvars:2"},
				{"dash-name", "ok", "t.tfvars:16"},
				{"expr", "3", "t.tfvars:15"},
				{"heredoc", "line1\nline2\n", "t.tfvars:10"},
				{"list", `[1,"two",false]`, "t.tfvars:6"},
				{"map", `{"a":1,"b":"x"}`, "t.tfvars:7"},
				{"nested", `{"l":[{"k":"v"}]}`, "t.tfvars:8"},
				{"nothing", "null", "t.tfvars:9"},
				{"on", "true", "t.tfvars:5"},
				{"ratio", "1.5", "t.tfvars:3"},
				{"region", "eu-west-1", "t.tfvars:1"},
				{"tmpl", "a-b-c", "t.tfvars:14"},
			},
		},
		{
			name: "json values are literal",
			file: "t.tfvars.json",
			src:  "{\n  \"s\": \"${var.x}\",\n  \"n\": 10,\n  \"o\": {\"z\": [true, null], \"a\": \"b\"}\n}\n",
			want: []Variable{
				{"n", "10", "t.tfvars.json:3"},
				{"o", `{"a":"b","z":[true,null]}`, "t.tfvars.json:4"},
				{"s", "${var.x}", "t.tfvars.json:2"},
			},
		},
		{name: "empty file", file: "t.tfvars", src: "", want: []Variable{}},
		{name: "comments only", file: "t.tfvars", src: "# c\n// d\n/* e */\n", want: []Variable{}},
		{name: "block", file: "t.tfvars", src: "a = 1\n\nvariable \"x\" {}\n", wantErr: []string{"t.tfvars:3:1:", "Blocks are not allowed"}},
		{name: "variable reference", file: "t.tfvars", src: "a = 1\nb = var.x\n", wantErr: []string{"t.tfvars:2:5:", "Variables not allowed"}},
		{name: "bare word", file: "t.tfvars", src: "region = eu-west-1\n", wantErr: []string{"t.tfvars:1:10:", "Variables not allowed"}},
		{name: "function call", file: "t.tfvars", src: "a = upper(\"x\")\n", wantErr: []string{"t.tfvars:1:5:", "Function calls not allowed"}},
		{name: "interpolated reference", file: "t.tfvars", src: "a = \"x-${local.y}\"\n", wantErr: []string{"t.tfvars:1:10:", "Variables not allowed"}},
		{name: "syntax error", file: "t.tfvars", src: "a = \n", wantErr: []string{"t.tfvars:1:"}},
		{name: "redefined", file: "t.tfvars", src: "a = 1\na = 2\n", wantErr: []string{"t.tfvars:2:1:", "redefined"}},
		{name: "json not an object", file: "t.tfvars.json", src: "[1]", wantErr: []string{"t.tfvars.json:1:1:"}},
		{name: "json bad key", file: "t.tfvars.json", src: "{\n\"a b\": 1}", wantErr: []string{"t.tfvars.json:2:1:", `"a b"`}},
		{name: "json bad identifier", file: "t.tfvars.json", src: `{"1abc": 1}`, wantErr: []string{"t.tfvars.json:1:2:", "not a valid Terraform variable name"}},
		// Writing these out in full took seconds (1e10000000) to hours.
		{name: "huge number", file: "t.tfvars", src: "a = 1\nb = [1e10000000]\n", wantErr: []string{"t.tfvars:2:5:", "variable b: number out of range"}},
		{name: "tiny number", file: "t.tfvars", src: "b = 1e-10000000\n", wantErr: []string{"t.tfvars:1:5:", "number out of range"}},
		{name: "huge json number", file: "t.tfvars.json", src: `{"b": {"c": 1e100000000}}`, wantErr: []string{"t.tfvars.json:1:7:", "number out of range"}},
		{name: "json syntax", file: "t.tfvars.json", src: "{\n\"a\": }", wantErr: []string{"t.tfvars.json:2:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.src), tt.file)
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

func assertVars(t *testing.T, got, want []Variable) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d variables %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseVarFlag(t *testing.T) {
	tests := []struct {
		in      string
		want    Variable
		wantErr string
	}{
		{in: "a=b", want: Variable{"a", "b", "--tf-var #2"}},
		{in: "a=", want: Variable{"a", "", "--tf-var #2"}},
		{in: "a=b=c", want: Variable{"a", "b=c", "--tf-var #2"}},
		{in: "a= spaced value ", want: Variable{"a", " spaced value ", "--tf-var #2"}},
		{in: `tags={a="b"}`, want: Variable{"tags", `{a="b"}`, "--tf-var #2"}},
		{in: "my-var_1=x", want: Variable{"my-var_1", "x", "--tf-var #2"}},
		{in: "a=line1\nline2", want: Variable{"a", "line1\nline2", "--tf-var #2"}},
		{in: "", wantErr: `--tf-var #2: expected key=value, got no "="`},
		{in: "novalue", wantErr: `--tf-var #2: expected key=value`},
		{in: "=x", wantErr: "--tf-var #2: empty variable name: expected key=value"},
		{in: " a=x", wantErr: "--tf-var #2: variable name \" a\" contains whitespace"},
		{in: "a b=x", wantErr: "contains whitespace"},
		{in: "1a=x", wantErr: `"1a" is not a valid Terraform variable name`},
		{in: "a.b=x", wantErr: "not a valid Terraform variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseVarFlag(tt.in, 2)
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

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	// Each source sets "v" (to its own name) and one key of its own.
	writeFiles(t, dir, map[string]string{
		"terraform.tfvars":      "v = \"terraform.tfvars\"\nonly_tfvars = 1\n",
		"terraform.tfvars.json": `{"v": "terraform.tfvars.json", "only_json": true}`,
		"a.auto.tfvars":         "v = \"a.auto.tfvars\"\n",
		"b.auto.tfvars.json":    `{"v": "b.auto.tfvars.json"}`,
		"c.auto.tfvars":         "v = \"c.auto.tfvars\"\nauto_c = [1]\n",
		"other.tfvars":          "v = \"should not load\"\nnever = 1\n",
		"sub/d.auto.tfvars":     "never = 2\n",
		"dir.auto.tfvars/x":     "not a file",
		"extra/one.tfvars":      "v = \"one\"\nfrom_one = 1\n",
		"extra/two.tfvars.json": `{"v": "two", "from_two": 2}`,
		"extra/three.tfvars":    "v = \"three\"\n",
	})
	env := []string{"PATH=/bin", "TF_VAR_v=env", "TF_VAR_only_env=e=1", "TF_VAR_=ignored", "tf_var_lower=no"}

	tests := []struct {
		name     string
		args     []Arg
		autoLoad bool
		want     []Variable
	}{
		{
			name:     "files in the directory",
			autoLoad: true,
			want: []Variable{
				{"auto_c", "[1]", filepath.Join(dir, "c.auto.tfvars") + ":2"},
				{"only_env", "e=1", "TF_VAR_only_env"},
				{"only_json", "true", filepath.Join(dir, "terraform.tfvars.json") + ":1"},
				{"only_tfvars", "1", filepath.Join(dir, "terraform.tfvars") + ":2"},
				{"v", "c.auto.tfvars", filepath.Join(dir, "c.auto.tfvars") + ":1"},
			},
		},
		{
			name: "flags in command-line order, later wins",
			args: []Arg{
				VarArg("v=flag1"),
				FileArg(filepath.Join(dir, "extra/one.tfvars")),
				VarArg("v=flag2"),
				FileArg(filepath.Join(dir, "extra/two.tfvars.json")),
			},
			autoLoad: true,
			want: []Variable{
				{"auto_c", "[1]", filepath.Join(dir, "c.auto.tfvars") + ":2"},
				{"from_one", "1", filepath.Join(dir, "extra/one.tfvars") + ":2"},
				{"from_two", "2", filepath.Join(dir, "extra/two.tfvars.json") + ":1"},
				{"only_env", "e=1", "TF_VAR_only_env"},
				{"only_json", "true", filepath.Join(dir, "terraform.tfvars.json") + ":1"},
				{"only_tfvars", "1", filepath.Join(dir, "terraform.tfvars") + ":2"},
				{"v", "two", filepath.Join(dir, "extra/two.tfvars.json") + ":1"},
			},
		},
		{
			name: "a var flag after a file overrides it",
			args: []Arg{
				FileArg(filepath.Join(dir, "extra/three.tfvars")),
				VarArg("v=last"),
			},
			want: []Variable{
				{"only_env", "e=1", "TF_VAR_only_env"},
				{"v", "last", "--tf-var #1"},
			},
		},
		{
			name: "without auto-loading only the environment and flags count",
			args: []Arg{VarArg("x=1"), VarArg("y=2")},
			want: []Variable{
				{"only_env", "e=1", "TF_VAR_only_env"},
				{"v", "env", "TF_VAR_v"},
				{"x", "1", "--tf-var #1"},
				{"y", "2", "--tf-var #2"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(dir, env, tt.args, tt.autoLoad)
			if err != nil {
				t.Fatal(err)
			}
			assertVars(t, got, tt.want)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"ok.tfvars":   "a = 1\n",
		"bad.tfvars":  "a = 1\nb = var.x\n",
		"vars.txt":    "a = 1\n",
		"broken.json": "{}",
	})
	tests := []struct {
		name     string
		dir      string
		env      []string
		args     []Arg
		autoLoad bool
		want     []string
	}{
		{name: "file extension", args: []Arg{FileArg(filepath.Join(dir, "ok.tfvars")), FileArg(filepath.Join(dir, "vars.txt"))},
			want: []string{"--tf-var-file #2", "vars.txt", "must end in .tfvars or .tfvars.json"}},
		{name: "missing file", args: []Arg{FileArg(filepath.Join(dir, "nope.tfvars"))},
			want: []string{"--tf-var-file #1", "nope.tfvars", "no such file"}},
		{name: "bad file", args: []Arg{FileArg(filepath.Join(dir, "bad.tfvars"))},
			want: []string{"--tf-var-file #1", "bad.tfvars:2:5", "Variables not allowed"}},
		{name: "bad flag", args: []Arg{VarArg("a=1"), VarArg("oops")},
			want: []string{"--tf-var #2: expected key=value"}},
		{name: "bad environment name", env: []string{"TF_VAR_a.b=1"},
			want: []string{"environment variable TF_VAR_a.b", `"a.b" is not a valid Terraform variable name`}},
		{name: "bad auto-loaded file", dir: "bad", autoLoad: true,
			want: []string{"terraform.tfvars:1:1"}},
		{name: "missing directory", dir: "missing", autoLoad: true,
			want: []string{"missing"}},
		{name: "unknown kind", args: []Arg{{Value: "a=1"}}, want: []string{"unknown kind"}},
	}
	badDir := filepath.Join(t.TempDir(), "bad")
	writeFiles(t, badDir, map[string]string{"terraform.tfvars": "block {}\n"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dir
			switch tt.dir {
			case "bad":
				d = badDir
			case "missing":
				d = filepath.Join(dir, "missing")
			}
			_, err := Load(d, tt.env, tt.args, tt.autoLoad)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestParseFileFormats(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.tfvars":      "x = [1]\n",
		"a.tfvars.json": `{"x": [1]}`,
	})
	for _, name := range []string{"a.tfvars", "a.tfvars.json"} {
		got, err := ParseFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Value != "[1]" {
			t.Errorf("%s: %+v", name, got)
		}
	}
}

// FuzzParseFile checks that parsing never panics and that whatever parses
// is well formed: valid keys, JSON for non-string values, a source naming
// the file.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte("a = 1\nb = \"x\"\n"), false)
	f.Add([]byte(`{"a": {"b": [1, null]}}`), true)
	f.Fuzz(func(t *testing.T, src []byte, isJSON bool) {
		name := "fuzz.tfvars"
		if isJSON {
			name += ".json"
		}
		vars, err := Parse(src, name)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, v := range vars {
			if !hclsyntax.ValidIdentifier(v.Key) {
				t.Errorf("invalid key %q", v.Key)
			}
			if !strings.HasPrefix(v.Source, name+":") {
				t.Errorf("source %q does not name the file", v.Source)
			}
		}
	})
}

// FuzzParseVarFlag checks that a parsed flag keeps the text exactly:
// key + "=" + value == input.
func FuzzParseVarFlag(f *testing.F) {
	f.Add("a=b")
	f.Add("=")
	f.Add("tags={a=\"b\"}")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVarFlag(s, 1)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--tf-var #1: ") {
				t.Errorf("error %q does not name the flag", err)
			}
			return
		}
		if v.Key+"="+v.Value != s || !hclsyntax.ValidIdentifier(v.Key) {
			t.Errorf("%q parsed as %+v", s, v)
		}
	})
}

func TestNonStringValuesAreJSON(t *testing.T) {
	vars, err := Parse([]byte("a = [1, {b = 2}]\nc = 1.25\nd = false\n"), "x.tfvars")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vars {
		if !json.Valid([]byte(v.Value)) {
			t.Errorf("%s = %q is not JSON", v.Key, v.Value)
		}
	}
}
