package cli

// Tests for the documentation promises: every `tharsis ...` command in the
// guides parses with the real command tree, and command lines written for
// the reference CLI parse to the same options as their new spelling.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
	"mvdan.cc/sh/v3/syntax"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// parseOnly parses a command line as Main does (legacy rewrite, then cobra)
// without running anything: it finds the command, parses its flags and
// checks its arguments, required flags and flag groups.
func parseOnly(args []string) (*cobra.Command, error) {
	s, _, _, _ := ui.Test()
	root := NewRootCmd(cmdutil.NewFactory(s, func(string) string { return "" }))
	// cobra adds these when it executes.
	root.InitDefaultHelpCmd()
	root.InitDefaultVersionFlag()
	var initHelp func(*cobra.Command)
	initHelp = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		for _, sub := range c.Commands() {
			initHelp(sub)
		}
	}
	initHelp(root)

	cmd, rest, err := root.Find(rewriteLegacyArgs(root, args, nil))
	if err != nil {
		return nil, err
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return cmd, err
	}
	if help, _ := cmd.Flags().GetBool("help"); help {
		return cmd, nil
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		return cmd, err
	}
	if err := cmd.ValidateRequiredFlags(); err != nil {
		return cmd, err
	}
	return cmd, cmd.ValidateFlagGroups()
}

// example is one `tharsis ...` command found in a document.
type example struct {
	where string // file:line
	args  []string
}

func (e example) String() string { return e.where + ": tharsis " + strings.Join(e.args, " ") }

// documents are the files whose examples must parse.
func documents(t *testing.T) []string {
	t.Helper()
	guides, err := filepath.Glob(filepath.Join("..", "..", "docs", "guides", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(guides) == 0 {
		t.Fatal("no guides in docs/guides")
	}
	return append(guides,
		filepath.Join("..", "..", "README.md"),
		filepath.Join("..", "..", "docs", "migration.md"),
		filepath.Join("..", "..", "docs", "authentication.md"),
		filepath.Join("..", "..", "docs", "modules.md"),
	)
}

var fence = regexp.MustCompile("^\\s*(```+|~~~+)\\s*([A-Za-z0-9_-]*)")

// extractExamples finds the tharsis command lines in the fenced code blocks
// of a markdown document: shell blocks (sh, bash, shell, zsh, console with
// "$ " prompts, and blocks without a language), and the shell steps of YAML
// blocks (CI pipelines). Errors are for blocks that mention tharsis but
// cannot be read.
func extractExamples(name, doc string) ([]example, []error) {
	var out []example
	var errs []error
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		m := fence.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		marker, lang, start := m[1], strings.ToLower(m[2]), i+2 // start: 1-based line of the first content line
		var body []string
		for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), marker); i++ {
			body = append(body, lines[i])
		}
		src := strings.Join(body, "\n")
		switch lang {
		case "sh", "bash", "shell", "zsh", "console", "":
			if lang == "console" {
				src = promptLines(body)
			}
			ex, err := shellExamples(name, start, src)
			// A block without a language may be output, not a script.
			if err != nil && lang != "" {
				errs = append(errs, err)
			}
			out = append(out, ex...)
		case "yaml", "yml":
			ex, err := yamlExamples(name, start, src)
			if err != nil {
				errs = append(errs, err)
			}
			out = append(out, ex...)
		}
	}
	return out, errs
}

// promptLines keeps the commands of a console transcript: lines after a
// "$ " prompt (and their continuations), blank lines for the rest so line
// numbers stay right.
func promptLines(body []string) string {
	out := make([]string, len(body))
	cont := false
	for i, l := range body {
		switch {
		case strings.HasPrefix(l, "$ "):
			out[i] = strings.TrimPrefix(l, "$ ")
		case cont:
			out[i] = l
		}
		cont = (strings.HasPrefix(l, "$ ") || cont) && strings.HasSuffix(l, "\\")
	}
	return strings.Join(out, "\n")
}

// shellExamples parses src as a shell script and returns every call of
// tharsis in it (in pipelines, conditions, $(...) and so on).
func shellExamples(name string, firstLine int, src string) ([]example, error) {
	f, err := syntax.NewParser().Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: shell block: %v", name, firstLine, err)
	}
	var out []example
	syntax.Walk(f, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		cmd := wordText(call.Args[0])
		if cmd != "tharsis" && !strings.HasSuffix(cmd, "/tharsis") {
			return true
		}
		var args []string
		for _, w := range call.Args[1:] {
			args = append(args, wordText(w))
		}
		out = append(out, example{fmt.Sprintf("%s:%d", name, firstLine+int(call.Pos().Line())-1), args})
		return true
	})
	return out, nil
}

// wordText is a shell word as the program would receive it; expansions
// ($VAR, $(...)) stand for one argument.
func wordText(w *syntax.Word) string {
	var b strings.Builder
	var parts func([]syntax.WordPart)
	parts = func(ps []syntax.WordPart) {
		for _, p := range ps {
			switch p := p.(type) {
			case *syntax.Lit:
				b.WriteString(p.Value)
			case *syntax.SglQuoted:
				b.WriteString(p.Value)
			case *syntax.DblQuoted:
				parts(p.Parts)
			default:
				b.WriteString("VALUE")
			}
		}
	}
	parts(w.Parts)
	return b.String()
}

var ghExpr = regexp.MustCompile(`\$\{\{[^}]*\}\}`)

// yamlExamples reads a CI pipeline and parses each string in it as a shell
// step. Strings that are not shell (names, keys) simply contain no tharsis
// call; one that mentions tharsis but does not parse is an error.
func yamlExamples(name string, firstLine int, src string) ([]example, error) {
	// GitHub substitutes ${{ ... }} before the shell runs.
	src = ghExpr.ReplaceAllString(src, "GHEXPR")
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return nil, fmt.Errorf("%s:%d: YAML block: %v", name, firstLine, err)
	}
	var out []example
	var firstErr error
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		// "tharsis " with a space: a command line, not a value such as
		// `aud: tharsis`.
		if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "tharsis ") {
			// A block scalar (run: |) starts on the line after its key.
			line := firstLine + n.Line - 1
			if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				line++
			}
			ex, err := shellExamples(name, line, n.Value)
			if err != nil && strings.Contains(n.Value, "tharsis ") && firstErr == nil {
				firstErr = err
			}
			out = append(out, ex...)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	return out, firstErr
}

func TestExtractExamples(t *testing.T) {
	doc := "# Title\n\n" +
		"```sh\n" +
		"tharsis plan grp/ws --tf-var \"a=$A\"   # comment\n" +
		"ID=$(tharsis run list grp/ws -o json | jq -r '.items[0].id')\n" +
		"tharsis apply grp/ws \\\n  --auto-approve && echo done\n" +
		"./bin/tharsis version\n" +
		"go install example.com/cmd/tharsis@latest\n" +
		"```\n\n" +
		"```console\n$ tharsis whoami\nUser: alice\n```\n\n" +
		"```yaml\njobs:\n  plan:\n    steps:\n      - run: tharsis plan \"${{ vars.WS }}\" --detailed-exitcode\n      - run: |\n          echo hi\n          tharsis apply grp/ws --auto-approve\n```\n\n" +
		"```json\n{\"tharsis plan\": 1}\n```\n"
	got, errs := extractExamples("doc.md", doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []string{
		"doc.md:4: tharsis plan grp/ws --tf-var a=VALUE",
		"doc.md:5: tharsis run list grp/ws -o json",
		"doc.md:6: tharsis apply grp/ws --auto-approve",
		"doc.md:8: tharsis version",
		"doc.md:13: tharsis whoami",
		"doc.md:21: tharsis plan GHEXPR --detailed-exitcode",
		"doc.md:24: tharsis apply grp/ws --auto-approve",
	}
	var gotS []string
	for _, e := range got {
		gotS = append(gotS, e.String())
	}
	if !slices.Equal(gotS, want) {
		t.Errorf("examples:\n%s\nwant:\n%s", strings.Join(gotS, "\n"), strings.Join(want, "\n"))
	}
	// A broken shell block that mentions tharsis is reported.
	if _, errs := extractExamples("bad.md", "```sh\ntharsis plan 'grp/ws\n```\n"); len(errs) != 1 {
		t.Errorf("unterminated quote: errors %v", errs)
	}
}

func TestParseOnlyRejects(t *testing.T) {
	// The check the guide test relies on must fail on real mistakes.
	for _, args := range [][]string{
		{"aply", "grp/ws"},
		{"apply", "--auto-aprove", "grp/ws"},
		{"apply"},
		{"run", "cancel", "r1", "r2"},
		{"workspace", "lsit"},
		{"-o", "yaml", "version"},
	} {
		if _, err := parseOnly(args); err == nil {
			t.Errorf("%q parsed", args)
		}
	}
}

func TestGuideExamplesParse(t *testing.T) {
	total := 0
	for _, path := range documents(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(filepath.ToSlash(path), "../../")
		examples, errs := extractExamples(name, string(b))
		for _, err := range errs {
			t.Error(err)
		}
		for _, ex := range examples {
			total++
			if _, err := parseOnly(ex.args); err != nil {
				t.Errorf("%s\n    does not parse: %v", ex, err)
			}
		}
	}
	// The guides are full of commands; finding few means the extraction
	// broke, not that the guides are right.
	if total < 60 {
		t.Errorf("only %d example commands found", total)
	}
}

// flagValues is every flag of the parsed command (local and inherited) with
// its value; aliases share their flag's value.
func flagValues(cmd *cobra.Command) map[string]string {
	out := map[string]string{}
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		// Repeatable flags may print nothing (--tf-var keeps its values in
		// a list shared with --tf-var-file): compare what they hold.
		if sv, ok := fl.Value.(interface{ GetSlice() []string }); ok {
			out[fl.Name] = fmt.Sprintf("%q", sv.GetSlice())
			return
		}
		out[fl.Name] = fl.Value.String()
	})
	return out
}

func TestReferenceInvocationsParseLikeNewOnes(t *testing.T) {
	tests := []struct{ reference, current string }{
		// Runs.
		{"-p prod apply -auto-approve -directory-path=./x -tf-var a=b ws",
			"--profile prod apply --auto-approve --directory-path ./x --tf-var a=b ws"},
		{"plan -directory-path ./infra -tf-var-file prod.tfvars -tf-var a=b -tf-var c=d -env-var K=v -env-var-file ci.env -target aws_s3_bucket.b -refresh=false grp/ws",
			"plan --directory-path ./infra --tf-var-file prod.tfvars --tf-var a=b --tf-var c=d --env-var K=v --env-var-file ci.env --target aws_s3_bucket.b --refresh=false grp/ws"},
		{"plan -destroy -refresh false -terraform-version 1.9.0 -include-module-prereleases -module-source reg.example.com/a/b/c -module-version ~>1.0 grp/ws",
			"plan --destroy --refresh=false --terraform-version 1.9.0 --include-module-prereleases --module-source reg.example.com/a/b/c --module-version ~>1.0 grp/ws"},
		{"apply -input=false -refresh-only grp/ws", "apply --input=false --refresh-only grp/ws"},
		{"apply -auto-approve true grp/ws", "apply --auto-approve grp/ws"},
		{"-profile prod -log debug -no-color destroy -auto-approve -directory-path=. grp/ws",
			"destroy grp/ws --auto-approve --directory-path . --profile prod --log-level debug --no-color"},
		{"run cancel -force trn:run:grp/ws/abc", "run cancel --force trn:run:grp/ws/abc"},
		{"run cancel -f trn:run:grp/ws/abc", "run cancel --force trn:run:grp/ws/abc"},
		// Workspaces.
		{"workspace create -parent-group-id grp -description d -terraform-version 1.9.0 -max-job-duration 60 -prevent-destroy-plan -label team=ops -if-not-exists -json ws",
			"workspace create ws --group grp --description d --terraform-version 1.9.0 --max-job-duration 60 --prevent-destroy-plan --label team=ops --if-not-exists -o json"},
		{"workspace list -group-id grp -search net -limit 5 -json", "workspace list --group grp --search net --limit 5 -o json"},
		{"workspace list -group-path grp", "workspace list --group grp"},
		{"workspace get -json grp/ws", "workspace get grp/ws -o json"},
		{"workspace delete -force grp/ws", "workspace delete -f grp/ws"},
		{"workspace outputs -raw -output-name vpc_id grp/ws", "workspace outputs --raw --output-name vpc_id grp/ws"},
		{"workspace add-membership -user-id alice -role-id deployer grp/ws", "workspace add-membership grp/ws --user alice --role deployer"},
		// Groups.
		{"group create -parent-group-id top -description d -if-not-exists sub", "group create sub --parent top --description d --if-not-exists"},
		{"group list -parent-id top -search x -limit 10 -json", "group list --parent top --search x --limit 10 -o json"},
		{"group delete -force top/sub", "group delete --force top/sub"},
		{"group add-membership -service-account-id top/ci -role-id deployer top", "group add-membership top --service-account top/ci --role deployer"},
		// Runner agents and service accounts.
		{"runner-agent create -group-id grp -tag linux -tag large -run-untagged-jobs -description d runner1",
			"runner-agent create runner1 --group grp --tag linux --tag large --run-untagged-jobs --description d"},
		{"runner-agent list -namespace-path grp -include-inherited -json", "runner-agent list --group grp --include-inherited -o json"},
		{"runner-agent assign-service-account -json grp/sa grp/runner1", "runner-agent assign-service-account grp/sa grp/runner1 -o json"},
		{"service-account create -group-id grp -description d -oidc-trust-policy issuer=https://gitlab.example.com,bound-claim=project_path=grp/* sa",
			"service-account create sa --group grp --description d --oidc-trust-policy issuer=https://gitlab.example.com,bound-claim=project_path=grp/*"},
		{"service-account list -namespace-path grp -search ci -json", "service-account list --group grp --search ci -o json"},
		// Modules.
		{"module create -group-id ops -private=false -repository-url https://example.com/vpc -if-not-exists vpc/aws",
			"module create vpc/aws --group ops --private=false --repository-url https://example.com/vpc --if-not-exists"},
		{"module list -group-id ops -include-inherited -search vpc -json", "module list --group ops --include-inherited --search vpc -o json"},
		{"module upload-version -directory-path ./vpc -version 1.2.0 ops/vpc/aws", "module upload-version ops/vpc/aws --directory-path ./vpc --version 1.2.0"},
		{"run vcs -reference-name main -destroy -auto-approve grp/ws", "run vcs grp/ws --reference main --destroy --auto-approve"},
		// Versions for optimistic locking.
		{"group delete -force -version 3 top/sub", "group delete top/sub --force --version 3"},
		{"workspace update -description d -terraform-version 1.9.0 -version 4 grp/ws", "workspace update grp/ws --description d --terraform-version 1.9.0 --version 4"},
		// Configuration and meta.
		{"configure -profile prod -http-endpoint https://tharsis.example.com -insecure-tls-skip-verify",
			"-p prod configure --http-endpoint https://tharsis.example.com --insecure-tls-skip-verify"},
		{"caller-identity -json", "whoami -o json"},
		{"admin activate -duration 2h", "admin-mode activate --duration 2h"},
		{"version -json", "version -o json"},
	}
	for _, tt := range tests {
		t.Run(tt.reference, func(t *testing.T) {
			ref, err := parseOnly(strings.Fields(tt.reference))
			if err != nil {
				t.Fatalf("reference form: %v", err)
			}
			cur, err := parseOnly(strings.Fields(tt.current))
			if err != nil {
				t.Fatalf("current form: %v", err)
			}
			if ref.CommandPath() != cur.CommandPath() {
				t.Fatalf("command %q, want %q", ref.CommandPath(), cur.CommandPath())
			}
			if !slices.Equal(ref.Flags().Args(), cur.Flags().Args()) {
				t.Errorf("arguments %q, want %q", ref.Flags().Args(), cur.Flags().Args())
			}
			rv, cv := flagValues(ref), flagValues(cur)
			var names []string
			for n := range cv {
				names = append(names, n)
			}
			sort.Strings(names)
			changed := 0
			for _, n := range names {
				if rv[n] != cv[n] {
					t.Errorf("--%s = %q, want %q", n, rv[n], cv[n])
				}
				if fl := cur.Flags().Lookup(n); fl.Changed {
					changed++
				}
			}
			if changed == 0 && strings.Contains(tt.current, " -") {
				t.Errorf("no flag was set by %q: the comparison proves nothing", tt.current)
			}
		})
	}
}
