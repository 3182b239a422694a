package main

import (
	"bytes"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/russross/blackfriday/v2"
	"github.com/spf13/cobra"
)

func TestMarkdownLong(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"prose", "one line\nand another", "one line\nand another"},
		{"placeholders and emphasis characters", "a TRN (trn:run:<group>/<id>), repo:org/*", `a TRN (trn:run:\<group\>/\<id\>), repo:org/\*`},
		{"underscores inside words are kept", "THARSIS_CONFIG_DIR and _x_", `THARSIS_CONFIG_DIR and \_x\_`},
		{"code spans are kept", "run `a <b> *c*` now", "run `a <b> *c*` now"},
		{"URLs become code", "on http://localhost:<port>/login, or (https://x.example/a_b).", "on `http://localhost:<port>/login`, or (`https://x.example/a_b`)."},
		{"heading marker at line start", "# not a heading", `\# not a heading`},
		{"indented block after a paragraph line", "The output is:\n  {\"a\": 1}\nThen more.", "The output is:\n\n```\n  {\"a\": 1}\n```\n\nThen more."},
		{"indented block between blank lines", "Fields:\n\n  a=1   x\n  b=2   y\n\nEnd.", "Fields:\n\n```\n  a=1   x\n  b=2   y\n```\n\nEnd."},
		{"indented block at the end", "Try:\n\n  tharsis x", "Try:\n\n```\n  tharsis x\n```"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := markdownLong(tt.in); got != tt.want {
				t.Errorf("markdownLong(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestManDate(t *testing.T) {
	tests := []struct {
		flag, epoch string
		want        string
		wantErr     bool
	}{
		{"2026-07-01", "", "2026-07-01", false},
		{"2026-07-01", "0", "2026-07-01", false}, // the flag wins
		{"", "1783000000", "2026-07-02", false},
		{"", "", "", true},
		{"01/07/2026", "", "", true},
		{"", "soon", "", true},
	}
	for _, tt := range tests {
		got, err := manDate(tt.flag, tt.epoch)
		if (err != nil) != tt.wantErr {
			t.Errorf("manDate(%q, %q) error %v, want error %v", tt.flag, tt.epoch, err, tt.wantErr)
			continue
		}
		if err == nil && got.Format(time.DateOnly) != tt.want {
			t.Errorf("manDate(%q, %q) = %s, want %s", tt.flag, tt.epoch, got.Format(time.DateOnly), tt.want)
		}
	}
}

var space = regexp.MustCompile(`\s+`)

func collapse(s string) string { return strings.TrimSpace(space.ReplaceAllString(s, " ")) }

var tag = regexp.MustCompile(`<[^>]*>`)

// renderedText is what a reader sees of markdown rendered as on a web page.
func renderedText(md string) string {
	// No typographic quotes and dashes: GitHub does not make them either.
	r := blackfriday.NewHTMLRenderer(blackfriday.HTMLRendererParameters{})
	out := blackfriday.Run([]byte(md), blackfriday.WithExtensions(blackfriday.CommonExtensions), blackfriday.WithRenderer(r))
	// Inline code is part of the text around it; other tags separate words.
	text := strings.NewReplacer("<code>", "", "</code>", "").Replace(string(out))
	return html.UnescapeString(tag.ReplaceAllString(text, " "))
}

// TestLongHelpSurvivesMarkdown renders every command's converted help and
// checks that a reader sees exactly the words of `--help`: nothing taken
// for HTML, emphasis or a link.
func TestLongHelpSurvivesMarkdown(t *testing.T) {
	visit(buildTree(), func(c *cobra.Command) {
		if c.Long == "" {
			return
		}
		got := collapse(renderedText(markdownLong(c.Long)))
		want := collapse(strings.ReplaceAll(c.Long, "`", ""))
		if got != want {
			t.Errorf("%s: rendered help differs\n got %q\nwant %q", c.CommandPath(), got, want)
		}
		// The man page converter must keep <placeholders> too.
		man := string(md2man.Render([]byte(markdownLong(c.Long))))
		for _, ph := range regexp.MustCompile(`<[a-z-]+>`).FindAllString(c.Long, -1) {
			if !strings.Contains(man, ph) {
				t.Errorf("%s: man page lost %s", c.CommandPath(), ph)
			}
		}
	})
}

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	md1, md2 := filepath.Join(dir, "md1"), filepath.Join(dir, "md2")
	man1, man2 := filepath.Join(dir, "man1"), filepath.Join(dir, "man2")
	// Pages of removed commands go; other files stay.
	if err := os.MkdirAll(md1, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tharsis_gone.md", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(md1, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	date := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range []options{{md1, man1, date}, {md2, man2, date}} {
		if err := generate(o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(md1, "tharsis_gone.md")); !os.IsNotExist(err) {
		t.Errorf("the page of a removed command was kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(md1, "notes.txt")); err != nil {
		t.Errorf("an unrelated file was removed: %v", err)
	}
	if err := os.Remove(filepath.Join(md1, "notes.txt")); err != nil {
		t.Fatal(err)
	}
	sameTrees(t, md1, md2)
	sameTrees(t, man1, man2)

	// One markdown and one man page per command, each with its examples.
	root := newDocsRoot(false)
	n := 0
	visit(root, func(c *cobra.Command) {
		if !documented(c) && c != root {
			return
		}
		n++
		page := read(t, filepath.Join(md1, pageName(c)))
		if !strings.Contains(page, "## "+c.CommandPath()+"\n") || !strings.Contains(page, "### Examples") {
			t.Errorf("%s: page lacks its title or examples", pageName(c))
		}
		man := read(t, filepath.Join(man1, strings.ReplaceAll(c.CommandPath(), " ", "-")+".1"))
		if !strings.Contains(man, `"Jul 2026"`) || !strings.Contains(man, ".SH EXAMPLE") {
			t.Errorf("%s man page: no fixed date or no example", c.CommandPath())
		}
	})
	pages, _ := filepath.Glob(filepath.Join(md1, "tharsis*.md"))
	if len(pages) != n || n < 40 {
		t.Errorf("%d pages for %d commands", len(pages), n)
	}

	// Nothing that changes from run to run, and every link resolves.
	link := regexp.MustCompile(`\]\(([^)]+)\)`)
	all, _ := filepath.Glob(filepath.Join(md1, "*.md"))
	for _, p := range all {
		page := read(t, p)
		if strings.Contains(page, "Auto generated") {
			t.Errorf("%s has cobra's dated tag", filepath.Base(p))
		}
		for _, m := range link.FindAllStringSubmatch(page, -1) {
			target := m[1]
			if strings.HasPrefix(target, "../") {
				// Links out of docs/commands point into the repository.
				target = filepath.Join("..", "..", "docs", strings.TrimPrefix(target, "../"))
			} else {
				target = filepath.Join(md1, target)
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s: broken link %s", filepath.Base(p), m[1])
			}
		}
	}
	index := read(t, filepath.Join(md1, "README.md"))
	for _, g := range root.Groups() {
		if !strings.Contains(index, "## "+strings.TrimSuffix(g.Title, ":")+"\n") {
			t.Errorf("index lacks the group %q", g.Title)
		}
	}
}

func sameTrees(t *testing.T, a, b string) {
	t.Helper()
	ea, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := os.ReadDir(b)
	if err != nil {
		t.Fatal(err)
	}
	names := func(es []os.DirEntry) string {
		var s []string
		for _, e := range es {
			s = append(s, e.Name())
		}
		return strings.Join(s, " ")
	}
	if names(ea) != names(eb) {
		t.Fatalf("%s and %s differ in files:\n%s\n%s", a, b, names(ea), names(eb))
	}
	for _, e := range ea {
		if !bytes.Equal([]byte(read(t, filepath.Join(a, e.Name()))), []byte(read(t, filepath.Join(b, e.Name())))) {
			t.Errorf("%s differs between %s and %s (run 'make docs')", e.Name(), a, b)
		}
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
