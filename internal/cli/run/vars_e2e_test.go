package run_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
)

// TestVariablePrecedence: Terraform variables come from TF_VAR_*, then
// terraform.tfvars, terraform.tfvars.json, *.auto.tfvars[.json] in name
// order, then --tf-var-file and --tf-var in command-line order, a later
// source winning; strings are sent raw, other types as JSON. Environment
// variables come from --env-var-file and --env-var in command-line order.
func TestVariablePrecedence(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		env     []string
		wantTF  map[string]string
		wantEnv map[string]string
	}{
		{
			name: "files and environment only",
			env:  []string{"TF_VAR_region", "from-env", "TF_VAR_flag", "false", "TF_VAR_env_only", "e"},
			wantTF: map[string]string{
				"region":   "auto-a",       // a.auto.tfvars beats terraform.tfvars[.json] and TF_VAR_
				"count_n":  "3",            // b.auto.tfvars.json beats terraform.tfvars
				"tags":     `{"a":"json"}`, // terraform.tfvars.json beats terraform.tfvars
				"flag":     "true",         // terraform.tfvars beats TF_VAR_flag
				"env_only": "e",            // TF_VAR_ alone
			},
			wantEnv: map[string]string{},
		},
		{
			name: "flags in command-line order, a file after a flag",
			args: []string{"--tf-var-file", "<dir>/extra.tfvars", "--tf-var", "region=flag", "--tf-var-file", "<dir>/extra2.tfvars.json"},
			wantTF: map[string]string{
				"region": "file2", "count_n": "5", "tags": `{"a":"json"}`, "flag": "true",
				"list": `["x",1,true]`,
			},
			wantEnv: map[string]string{},
		},
		{
			name: "a flag after a file",
			args: []string{"--tf-var-file", "<dir>/extra2.tfvars.json", "--tf-var", "region=last wins", "--tf-var", "count_n=07", "--tf-var", `tags={b="raw"}`},
			wantTF: map[string]string{
				// --tf-var values are raw text, whatever they look like.
				"region": "last wins", "count_n": "07", "tags": `{b="raw"}`, "flag": "true", "list": `["x",1,true]`,
			},
			wantEnv: map[string]string{},
		},
		{
			name:   "environment variables",
			args:   []string{"--env-var-file", "<dir>/first.env", "--env-var", "A=flag", "--env-var-file", "<dir>/second.env", "--env-var", "D=d=d", "--env-var", "E="},
			wantTF: map[string]string{"region": "auto-a", "count_n": "3", "tags": `{"a":"json"}`, "flag": "true"},
			wantEnv: map[string]string{
				"A": "flag", "B": "two words", "C": "second", "D": "d=d", "E": "", "LIT": "lit $HOME \\n", "ML": "line1\nline2",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t)
			dir := configDir(t, map[string]string{
				"main.tf":               varsConfig + "variable \"env_only\" {\n  default = \"\"\n}\nvariable \"list\" {\n  default = []\n}\n",
				"terraform.tfvars":      "region = \"tfvars\"\ncount_n = 1\nflag = true\ntags = { a = \"tfvars\" }\n",
				"terraform.tfvars.json": `{"region": "tfvars-json", "tags": {"a": "json"}}`,
				"a.auto.tfvars":         `region = "auto-a"`,
				"b.auto.tfvars.json":    `{"count_n": 3}`,
				"sub/c.auto.tfvars":     `region = "not loaded: a subdirectory"`,
				"extra.tfvars":          "region = \"file1\"\nlist = [\"x\", 1, true]\n",
				"extra2.tfvars.json":    `{"region": "file2", "count_n": 5, "list": ["x", 1, true]}`,
				"first.env":             "# comment\nA=1\nexport B=\"two words\"\nC='c'\nLIT='lit $HOME \\n'\nML=\"line1\nline2\"\n",
				"second.env":            "C=second\n",
			})
			// Run from elsewhere: variable files come from the configuration
			// directory, never the current one.
			t.Chdir(configDir(t, map[string]string{"terraform.tfvars": `region = "cwd"`}))
			args := []string{"plan", ws, "--directory-path", dir}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "<dir>", dir))
			}
			res := tharsis(t, clitest.Options{Env: env(srv, tc.env...)}, args...)
			wantCode(t, res, 0)
			r := onlyRun(t, srv, ws)
			if got := runVars(r, "terraform"); !sameMap(got, tc.wantTF) {
				t.Errorf("terraform variables:\n got %q\nwant %q", got, tc.wantTF)
			}
			if got := runVars(r, "environment"); !sameMap(got, tc.wantEnv) {
				t.Errorf("environment variables:\n got %q\nwant %q", got, tc.wantEnv)
			}
			plan, _ := jobLogs(t, srv, r)
			wantContains(t, "plan log", string(plan), `"`+tc.wantTF["region"]+`"`)
		})
	}
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestBadVariables: every kind of bad variable input fails with a usage
// error naming the file and line or the flag's position, before anything is
// packed, uploaded or created.
func TestBadVariables(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		args  []string
		env   []string
		want  []string
	}{
		{name: "--tf-var without =", args: []string{"--tf-var", "region"}, want: []string{`--tf-var #1: expected key=value`}},
		{name: "second --tf-var with a bad name", args: []string{"--tf-var", "a=1", "--tf-var", "1x=2"}, want: []string{"--tf-var #2", `"1x" is not a valid Terraform variable name`}},
		{name: "--tf-var with an empty name", args: []string{"--tf-var", "=x"}, want: []string{"--tf-var #1", "empty variable name"}},
		{name: "--tf-var-file missing", args: []string{"--tf-var-file", "<dir>/missing.tfvars"}, want: []string{"--tf-var-file #1", "missing.tfvars", "no such file"}},
		{name: "--tf-var-file with the wrong extension", args: []string{"--tf-var-file", "<dir>/vars.txt"}, files: map[string]string{"vars.txt": "a = 1"},
			want: []string{"--tf-var-file #1", "must end in .tfvars or .tfvars.json"}},
		{name: "second --tf-var-file with a syntax error", args: []string{"--tf-var-file", "<dir>/ok.tfvars", "--tf-var-file", "<dir>/bad.tfvars"},
			files: map[string]string{"ok.tfvars": "a = 1\n", "bad.tfvars": "a = 1\nb = \"x\"\nc = = 3\n"}, want: []string{"--tf-var-file #2", "bad.tfvars:3:"}},
		{name: "--tf-var-file with invalid JSON", args: []string{"--tf-var-file", "<dir>/bad.tfvars.json"},
			files: map[string]string{"bad.tfvars.json": "{\n  \"a\": 1,\n  \"b\": \n}\n"}, want: []string{"bad.tfvars.json:"}},
		{name: "terraform.tfvars with a syntax error", files: map[string]string{"terraform.tfvars": "region = \"x\"\ncount_n = [\n"},
			want: []string{"terraform.tfvars:"}},
		{name: "terraform.tfvars calling a function", files: map[string]string{"terraform.tfvars": "\nregion = upper(\"x\")\n"},
			want: []string{"terraform.tfvars:2:"}},
		{name: "terraform.tfvars referring to a variable", files: map[string]string{"terraform.tfvars": "region = var.other\n"},
			want: []string{"terraform.tfvars:1:"}},
		{name: "auto.tfvars.json that is not an object", files: map[string]string{"x.auto.tfvars.json": `["a"]`},
			want: []string{"x.auto.tfvars.json:1"}},
		{name: "auto.tfvars with a block", files: map[string]string{"z.auto.tfvars": "a = 1\nblock {\n}\n"},
			want: []string{"z.auto.tfvars:2"}},
		{name: "TF_VAR_ with a bad name", env: []string{"TF_VAR_1bad", "x"}, want: []string{"TF_VAR_1bad"}},
		{name: "--env-var without =", args: []string{"--env-var", "A"}, want: []string{"--env-var #1: expected KEY=value"}},
		{name: "second --env-var with a bad name", args: []string{"--env-var", "A=1", "--env-var", "B-C=2"}, want: []string{"--env-var #2", `invalid variable name "B-C"`}},
		{name: "--env-var-file missing", args: []string{"--env-var-file", "<dir>/missing.env"}, want: []string{"--env-var-file #1", "missing.env"}},
		{name: "--env-var-file with a bad line", args: []string{"--env-var-file", "<dir>/bad.env"},
			files: map[string]string{"bad.env": "A=1\n# ok\nthis is not an assignment\n"}, want: []string{"--env-var-file #1", "bad.env:3: expected KEY=VALUE"}},
		{name: "--env-var-file with an unterminated quote", args: []string{"--env-var-file", "<dir>/ok.env", "--env-var-file", "<dir>/bad.env"},
			files: map[string]string{"ok.env": "A=1\n", "bad.env": "A=1\nB=\"open\nC=2\n"}, want: []string{"--env-var-file #2", "bad.env:2: unterminated"}},
		{name: "--env-var-file with a bad name", args: []string{"--env-var-file", "<dir>/bad.env"},
			files: map[string]string{"bad.env": "\n\n1A=x\n"}, want: []string{"bad.env:3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t)
			files := map[string]string{"main.tf": varsConfig}
			for k, v := range tc.files {
				files[k] = v
			}
			dir := configDir(t, files)
			for _, verb := range []string{"plan", "apply", "destroy"} {
				args := []string{verb, ws, "--directory-path", dir}
				for _, a := range tc.args {
					args = append(args, strings.ReplaceAll(a, "<dir>", dir))
				}
				res := tharsis(t, clitest.Options{Env: env(srv, tc.env...), Stdin: "yes\n"}, args...)
				wantCode(t, res, 64)
				wantContains(t, "stderr", res.Stderr, tc.want...)
				wantNotContains(t, "stderr", res.Stderr, "Packed", "Uploaded")
			}
			nothingCreated(t, srv)
			if n := srv.RequestCount("GetWorkspace"); n != 0 {
				t.Errorf("%d requests were sent before the input was checked", n)
			}
		})
	}
}

// TestModuleSourceVariables: with a module source, --tf-var-file and
// --tf-var still apply, and a bad one still stops everything.
func TestModuleSourceVariables(t *testing.T) {
	srv := startSandbox(t)
	if err := srv.RegisterModule("registry.sandbox.local/sandbox/v/aws", "1.0.0", map[string][]byte{"main.tf": []byte(varsConfig)}); err != nil {
		t.Fatal(err)
	}
	dir := configDir(t, map[string]string{"my.tfvars": "region = \"from-file\"\ncount_n = 2\n"})
	res := tharsis(t, clitest.Options{Env: env(srv)}, "plan", ws, "--module-source", "registry.sandbox.local/sandbox/v/aws",
		"--tf-var-file", filepath.Join(dir, "my.tfvars"), "--tf-var", "flag=true", "--env-var", "X=1")
	wantCode(t, res, 0)
	r := onlyRun(t, srv, ws)
	if got, want := runVars(r, "terraform"), map[string]string{"region": "from-file", "count_n": "2", "flag": "true"}; !sameMap(got, want) {
		t.Errorf("terraform variables %q, want %q", got, want)
	}
	if got := runVars(r, "environment"); !sameMap(got, map[string]string{"X": "1"}) {
		t.Errorf("environment variables %q", got)
	}
	res = tharsis(t, clitest.Options{Env: env(srv)}, "plan", ws, "--module-source", "registry.sandbox.local/sandbox/v/aws", "--tf-var", "bad")
	wantCode(t, res, 64)
	if n := len(srv.Runs(ws)); n != 1 {
		t.Fatalf("%d runs", n)
	}
}
