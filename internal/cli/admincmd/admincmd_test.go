package admincmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

func TestCollect(t *testing.T) {
	// Seven items served in pages; cursors are item indexes.
	items := []int{0, 1, 2, 3, 4, 5, 6}
	fetch := func(calls *[]string) Fetch[int] {
		return func(_ context.Context, first int, after *string) (Page[int], error) {
			start := 0
			if after != nil {
				fmt.Sscanf(*after, "%d", &start)
				start++
			}
			*calls = append(*calls, fmt.Sprintf("%d@%d", first, start))
			end := min(start+first, len(items))
			return Page[int]{Items: items[start:end], TotalCount: len(items), HasNextPage: end < len(items), EndCursor: fmt.Sprint(end - 1)}, nil
		}
	}
	tests := []struct {
		name      string
		flags     PageFlags
		want      []int
		wantNext  bool
		wantCalls []string
	}{
		{"first page", PageFlags{Limit: 3}, []int{0, 1, 2}, true, []string{"3@0"}},
		{"from a cursor", PageFlags{Limit: 3, Cursor: "2"}, []int{3, 4, 5}, true, []string{"3@3"}},
		{"all", PageFlags{Limit: 3, All: true}, items, false, []string{"3@0", "3@3", "3@6"}},
		{"all from a cursor", PageFlags{Limit: 5, Cursor: "0", All: true}, []int{1, 2, 3, 4, 5, 6}, false, []string{"5@1", "5@6"}},
		{"one page holds all", PageFlags{Limit: 100}, items, false, []string{"100@0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			pg, err := Collect(context.Background(), tt.flags, fetch(&calls))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(pg.Items) != fmt.Sprint(tt.want) || pg.HasNextPage != tt.wantNext || pg.TotalCount != 7 {
				t.Errorf("page = %+v", pg)
			}
			if fmt.Sprint(calls) != fmt.Sprint(tt.wantCalls) {
				t.Errorf("calls = %v, want %v", calls, tt.wantCalls)
			}
		})
	}
}

func TestCollectStopsOnRepeatedCursor(t *testing.T) {
	n := 0
	pg, err := Collect(context.Background(), PageFlags{Limit: 1, All: true}, func(context.Context, int, *string) (Page[int], error) {
		n++
		return Page[int]{Items: []int{n}, HasNextPage: true, EndCursor: "same"}, nil
	})
	if err != nil || n != 2 || len(pg.Items) != 2 {
		t.Fatalf("n=%d items=%v err=%v", n, pg.Items, err)
	}
}

func TestCollectError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Collect(context.Background(), PageFlags{Limit: 1, All: true}, func(context.Context, int, *string) (Page[int], error) {
		return Page[int]{}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}

func TestPageFlagsValidate(t *testing.T) {
	for _, tt := range []struct {
		limit int
		ok    bool
	}{{1, true}, {100, true}, {0, false}, {101, false}, {-1, false}} {
		err := (&PageFlags{Limit: tt.limit}).Validate()
		if (err == nil) != tt.ok {
			t.Errorf("limit %d: err = %v", tt.limit, err)
		}
		if err != nil && cmdutil.ExitCode(err) != cmdutil.ExitUsage {
			t.Errorf("limit %d: exit %d", tt.limit, cmdutil.ExitCode(err))
		}
	}
}

type item struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

var itemTable = Table[item]{
	Plural: "things",
	Header: []string{"NAME", "N"},
	Row:    func(i item) []string { return []string{i.Name, fmt.Sprint(i.N)} },
}

func TestPrintList(t *testing.T) {
	pg := Page[item]{Items: []item{{"alpha", 1}, {"b\tc", 22}}, TotalCount: 5, HasNextPage: true, EndCursor: "CUR"}
	tests := []struct {
		name       string
		tty, json  bool
		page       Page[item]
		out, err   string
		notInOut   string
		wantErrOut string
	}{
		{name: "plain", page: pg, out: "alpha\t1\nb c\t22\n", err: "Showing 2 of 5 things. Next page: --cursor CUR\n"},
		{name: "tty", tty: true, page: Page[item]{Items: []item{{"alpha", 1}, {"bc", 22}}, TotalCount: 2}, out: "NAME   N\nalpha  1\nbc     22\n", err: ""},
		{name: "tty more", tty: true, page: pg, out: "NAME   N\nalpha  1\nb c    22\n", err: "Showing 2 of 5 things. Next page: --cursor CUR\n"},
		{name: "json", json: true, page: pg,
			out: `{
  "items": [
    {
      "name": "alpha",
      "n": 1
    },
    {
      "name": "b\tc",
      "n": 22
    }
  ],
  "page_info": {
    "total_count": 5,
    "has_next_page": true,
    "end_cursor": "CUR"
  }
}
`},
		{name: "empty", page: Page[item]{}, err: "No things found.\n"},
		{name: "empty json", json: true, page: Page[item]{}, out: "{\n  \"items\": [],\n  \"page_info\": {\n    \"total_count\": 0,\n    \"has_next_page\": false\n  }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, out, errOut := ui.Test()
			s.SetStdoutTTY(tt.tty)
			s.SetNoColor(true)
			if err := PrintList(s, tt.json, tt.page, itemTable); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.out {
				t.Errorf("stdout:\n%q\nwant\n%q", out.String(), tt.out)
			}
			if errOut.String() != tt.err {
				t.Errorf("stderr = %q, want %q", errOut.String(), tt.err)
			}
		})
	}
}

func TestFields(t *testing.T) {
	f := &Fields{}
	f.Add("Name", "x").AddIf("Empty", "").Add("Long key", "a\nb").
		Table("Things (1 of 2)", []string{"ID", "STATUS"}, [][]string{{"j1", "queued"}}, "none").
		Table("Empty", []string{"A"}, nil, "nothing here").
		Notes("Warnings", []string{"careful"}).Notes("No notes", nil)
	var b strings.Builder
	if err := f.write(&b, func(s string) string { return s }); err != nil {
		t.Fatal(err)
	}
	want := "Name:      x\n" +
		"Long key:  a\n" +
		"           b\n" +
		"\nThings (1 of 2):\n" +
		"  ID  STATUS\n" +
		"  j1  queued\n" +
		"\nEmpty:\n" +
		"  nothing here\n" +
		"\nWarnings:\n" +
		"  careful\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"}, {-3 * time.Second, "just now"}, {30 * time.Second, "30s ago"}, {5 * time.Minute, "5m ago"},
		{3 * time.Hour, "3h ago"}, {72 * time.Hour, "3d ago"}, {-2 * time.Hour, "in 2h"}, {-90 * time.Second, "in 1m"},
	} {
		if got := Ago(now.Add(-tt.d), now); got != tt.want {
			t.Errorf("Ago(-%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		name     string
		yes, tty bool
		stdin    string
		code     int // -1: no error
		errOut   string
	}{
		{name: "flag", yes: true, code: -1},
		{name: "no terminal", code: cmdutil.ExitUsage},
		{name: "answered yes", tty: true, stdin: "y\n", code: -1, errOut: "It is risky.\nDelete? [y/N]: "},
		{name: "answered no", tty: true, stdin: "n\n", code: cmdutil.ExitCanceled, errOut: "Nothing was deleted."},
		{name: "default is no", tty: true, stdin: "\n", code: cmdutil.ExitCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, in, _, errOut := ui.Test()
			s.SetTTY(tt.tty)
			in.WriteString(tt.stdin)
			err := Confirm(context.Background(), s, tt.yes, "It is risky", "Delete?", "--force")
			switch {
			case tt.code < 0 && err != nil:
				t.Fatalf("err = %v", err)
			case tt.code >= 0 && cmdutil.ExitCode(err) != tt.code:
				t.Fatalf("exit %d (%v), want %d", cmdutil.ExitCode(err), err, tt.code)
			}
			if tt.code == cmdutil.ExitUsage && !strings.Contains(err.Error(), "add --force") {
				t.Errorf("err = %v", err)
			}
			if !strings.Contains(errOut.String(), tt.errOut) {
				t.Errorf("stderr = %q, want %q", errOut.String(), tt.errOut)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	forbidden := &api.Error{Kind: api.KindForbidden, Op: "create runner", Message: "user x is not authorized", Hint: "generic"}
	tests := []struct {
		name     string
		err      error
		role, ns string
		hint     string // "" = unchanged
	}{
		{"forbidden names the role", forbidden, RoleOwner, "ops/prod", "This needs the owner role on ops/prod (or on a parent group). Ask an owner to grant it, e.g.\ntharsis group add-membership ops/prod --user <username> --role owner"},
		{"no namespace", forbidden, RoleViewer, "", "This needs the viewer role on the group or workspace (or a parent group). Ask one of its owners to grant it with 'tharsis group add-membership'."},
		{"admin mode", &api.Error{Kind: api.KindForbidden, Message: "only admins with admin mode activated can create top-level groups"}, RoleOwner, "", "Tharsis administrators must turn on admin mode for this: run 'tharsis admin-mode activate' (it lasts 30 minutes unless --duration says otherwise)."},
		{"service account", &api.Error{Kind: api.KindForbidden, Message: "Unsupported caller type, only users are allowed to create top-level groups"}, RoleOwner, "", "Service accounts cannot do this: log in as a user ('tharsis sso login') instead."},
		{"not found unchanged", &api.Error{Kind: api.KindNotFound, Message: "nope", Hint: "keep"}, RoleOwner, "x", "keep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Explain(tt.err, tt.role, tt.ns)
			var ae *api.Error
			if !errors.As(got, &ae) || ae.Hint != tt.hint {
				t.Errorf("hint = %q, want %q", ae.Hint, tt.hint)
			}
			if ae.Kind != api.KindOf(tt.err) {
				t.Errorf("kind changed: %v", ae.Kind)
			}
		})
	}
	var ae *api.Error
	if !errors.As(ExplainWorkspace(forbidden, RoleDeployer, "ops/net"), &ae) || !strings.Contains(ae.Hint, "tharsis workspace add-membership ops/net --user <username> --role deployer") {
		t.Errorf("workspace hint = %q", ae.Hint)
	}
	if Explain(nil, RoleOwner, "") != nil {
		t.Error("nil error not kept")
	}
	plain := errors.New("x")
	if Explain(plain, RoleOwner, "") != plain {
		t.Error("non-API error changed")
	}
	// The original is not modified.
	if forbidden.Hint != "generic" {
		t.Error("Explain modified its argument")
	}
}

func TestFlags(t *testing.T) {
	f := cmdutil.NewFactory(nil, func(string) string { return "" })
	var desc OptString
	var disabled OptBool
	var name string
	cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
	fs := cmd.Flags()
	fs.StringVar(&name, "group", "", "")
	Alias(fs, "group", "group-path", "use --group")
	Alias(fs, "group", "group-id", "")
	fs.Var(&desc, "description", "")
	BoolVar(fs, &disabled, "disabled", "")
	AddJSONFlag(cmd, f)
	cmd.SetArgs([]string{"--group-id", "a/b", "--disabled", "--json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if name != "a/b" || desc.Given || desc.Ptr() != nil || !disabled.Given || *disabled.Ptr() != true || !f.JSON() {
		t.Errorf("name=%q desc=%+v disabled=%+v json=%v", name, desc, disabled, f.JSON())
	}
	if fl := fs.Lookup("group-path"); !fl.Hidden || fl.Deprecated == "" {
		t.Errorf("group-path = %+v", fl)
	}
	if fl := fs.Lookup("group-id"); !fl.Hidden || fl.Deprecated != "" {
		t.Errorf("group-id = %+v", fl)
	}

	disabled = OptBool{}
	cmd.SetArgs([]string{"--disabled=false", "--description", ""})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !disabled.Given || *disabled.Ptr() || !desc.Given || *desc.Ptr() != "" {
		t.Errorf("desc=%+v disabled=%+v", desc, disabled)
	}
}

func TestVersionAndKeyValue(t *testing.T) {
	if v, err := Version(""); v != nil || err != nil {
		t.Errorf("empty: %v %v", v, err)
	}
	if v, err := Version("12"); err != nil || *v != "12" {
		t.Errorf("12: %v %v", v, err)
	}
	if _, err := Version("x"); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("x: %v", err)
	}
	for _, tt := range []struct{ in, k, v string }{{"a=b", "a", "b"}, {"a=b=c", "a", "b=c"}, {" a =", "a", ""}} {
		k, v, err := ParseKeyValue("label", tt.in)
		if err != nil || k != tt.k || v != tt.v {
			t.Errorf("%q: %q %q %v", tt.in, k, v, err)
		}
	}
	for _, in := range []string{"a", "=b", ""} {
		if _, _, err := ParseKeyValue("label", in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestPaths(t *testing.T) {
	for _, tt := range []struct{ in, parent, name string }{
		{"a/b/c", "a/b", "c"}, {"/a/", "", "a"}, {"c", "", "c"},
	} {
		if p, n := SplitPath(tt.in); p != tt.parent || n != tt.name {
			t.Errorf("SplitPath(%q) = %q %q", tt.in, p, n)
		}
	}
	if PathOf("trn:group:a/b") != "a/b" || PathOf("/a/b/") != "a/b" {
		t.Error("PathOf")
	}
}

func TestRunnerTags(t *testing.T) {
	tests := []struct {
		flags RunnerTagFlags
		want  string // fmt of the input, "nil" for none
	}{
		{RunnerTagFlags{}, "nil"},
		{RunnerTagFlags{Tags: []string{"a", "b"}}, "{false [a b]}"},
		{RunnerTagFlags{Inherit: true}, "{true []}"},
		{RunnerTagFlags{clear: true}, "{false []}"},
	}
	for _, tt := range tests {
		in, err := tt.flags.Input()
		got := "nil"
		if in != nil {
			got = fmt.Sprint(*in)
		}
		if err != nil || got != tt.want {
			t.Errorf("%+v: %s %v", tt.flags, got, err)
		}
	}
	if _, err := (&RunnerTagFlags{Tags: []string{" "}}).Input(); err == nil {
		t.Error("empty tag accepted")
	}
	if s := NewRunnerTags(true, "ops", []string{"gpu", "x"}).String(); s != "gpu, x (inherited from ops)" {
		t.Errorf("String = %q", s)
	}
	if s := NewRunnerTags(false, "ops/ws", nil).String(); s != "none" {
		t.Errorf("String = %q", s)
	}
}
