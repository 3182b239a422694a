package group_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

const admin = sandbox.SeedAdmin

type group struct {
	ID         string `json:"id"`
	TRN        string `json:"trn"`
	FullPath   string `json:"full_path"`
	ParentPath string `json:"parent_path"`
	Subgroups  *int   `json:"subgroup_count"`
	Workspaces *int   `json:"workspace_count"`
	RunnerTags struct {
		Tags      []string `json:"tags"`
		Inherited bool     `json:"inherited"`
		From      string   `json:"namespace_path"`
	} `json:"runner_tags"`
	Description string `json:"description"`
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, s)
	}
	return v
}

func TestCreate(t *testing.T) {
	e := admintest.Start(t)
	dep := admintest.Deployer

	// Subgroups need the deployer role; the path or --parent names the
	// parent.
	g := decode[group](t, e.OK(t, dep, "group", "create", "sandbox/a", "--description", "A", "--runner-tag", "gpu", "-o", "json").Stdout)
	if g.FullPath != "sandbox/a" || g.ParentPath != "sandbox" || g.Description != "A" || g.RunnerTags.Tags[0] != "gpu" || g.RunnerTags.Inherited {
		t.Fatalf("created = %+v", g)
	}
	e.OK(t, dep, "group", "create", "b", "--parent", "trn:group:sandbox/a")
	e.OK(t, dep, "group", "create", "c", "--parent-group-id", g.ID)
	r := e.OK(t, dep, "group", "get", "sandbox/a/b")
	for _, want := range []string{"Path:         sandbox/a/b", "Parent:       sandbox/a", "Runner tags:  gpu (inherited from sandbox/a)"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("get lacks %q:\n%s", want, r.Stdout)
		}
	}

	// --parents creates what is missing, and accepts what exists.
	r = e.OK(t, dep, "group", "create", "sandbox/a/x/y/z", "--parents")
	if r.Stderr != "Created group sandbox/a/x.\nCreated group sandbox/a/x/y.\n" || !strings.HasPrefix(r.Stdout, "Created group sandbox/a/x/y/z.\n") {
		t.Errorf("--parents:\n%s\n%s", r.Stdout, r.Stderr)
	}
	r = e.OK(t, dep, "group", "create", "sandbox/a/x/y/z", "--parents", "-o", "json")
	if decode[group](t, r.Stdout).FullPath != "sandbox/a/x/y/z" || r.Stderr != "Group sandbox/a/x/y/z already exists.\n" {
		t.Errorf("exists: %s %q", r.Stdout, r.Stderr)
	}
	e.OK(t, dep, "group", "create", "sandbox/a", "--if-not-exists")
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"already exists"}, "group", "create", "sandbox/a")
	e.Fail(t, dep, cmdutil.ExitNotFound, []string{"Check that group sandbox/nope exists", "--parents creates missing groups"}, "group", "create", "sandbox/nope/x")
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"not both"}, "group", "create", "a/b", "--parent", "sandbox")

	// Top-level groups: administrators in admin mode only.
	e.Fail(t, dep, cmdutil.ExitAuth, []string{"only admins with admin mode activated", "Hint: Tharsis administrators must turn on admin mode"}, "group", "create", "top")
	e.Fail(t, admin, cmdutil.ExitAuth, []string{"tharsis admin-mode activate"}, "group", "create", "top")
	e.OK(t, admin, "admin-mode", "activate")
	g = decode[group](t, e.OK(t, admin, "group", "create", "top", "-o", "json").Stdout)
	if g.FullPath != "top" || g.ParentPath != "" {
		t.Errorf("top = %+v", g)
	}
	// Its creator owns it.
	r = e.OK(t, admin, "group", "list-memberships", "top")
	if r.Stdout != "admin\tuser\towner\ttop\t"+strings.Split(r.Stdout, "\t")[4] {
		t.Errorf("memberships of top: %q", r.Stdout)
	}

	// Viewers cannot create groups.
	e.Fail(t, admintest.Viewer, cmdutil.ExitAuth, []string{"Hint: This needs the deployer role on sandbox"}, "group", "create", "sandbox/v")
}

func TestListGetUpdate(t *testing.T) {
	e := admintest.Start(t)
	o := admintest.Owner
	for _, p := range []string{"sandbox/b", "sandbox/a", "sandbox/a/x", "sandbox/c"} {
		e.OK(t, o, "group", "create", p)
	}
	e.OK(t, o, "workspace", "create", "sandbox/a/ws")

	r := e.OK(t, o, "group", "list")
	if r.Stdout != "sandbox\tSeeded by tharsis-sandbox\nsandbox/a\t\nsandbox/a/x\t\nsandbox/b\t\nsandbox/c\t\n" {
		t.Errorf("list: %q", r.Stdout)
	}
	if r = e.OK(t, o, "group", "list", "--parent", "sandbox", "--sort", "full_path_desc"); r.Stdout != "sandbox/c\t\nsandbox/b\t\nsandbox/a\t\n" {
		t.Errorf("children: %q", r.Stdout)
	}
	if r = e.OK(t, o, "group", "list", "--search", "a/"); r.Stdout != "sandbox/a/x\t\n" {
		t.Errorf("search: %q", r.Stdout)
	}
	r = e.RunWith(t, o, admintest.Options{TTY: true}, "group", "list", "--parent-id", "sandbox", "--limit", "1")
	if r.Code != 0 || r.Stdout != "PATH       DESCRIPTION\nsandbox/a\n" || !strings.Contains(r.Stderr, "Showing 1 of 3 groups. Next page: --cursor ") {
		t.Errorf("tty: %q %q", r.Stdout, r.Stderr)
	}
	e.Fail(t, o, cmdutil.ExitUsage, []string{"must be one of"}, "group", "list", "--sort", "NAME")
	e.Fail(t, o, cmdutil.ExitUsage, []string{"between 1 and 100"}, "group", "list", "--limit", "500")

	g := decode[group](t, e.OK(t, o, "group", "get", "sandbox/a", "-o", "json").Stdout)
	if *g.Subgroups != 1 || *g.Workspaces != 1 || g.TRN != "trn:group:sandbox/a" {
		t.Errorf("get = %+v", g)
	}
	for _, id := range []string{g.ID, g.TRN, "/sandbox/a/"} {
		e.OK(t, o, "group", "get", id)
	}
	e.Fail(t, o, cmdutil.ExitNotFound, []string{`group "sandbox/zz" not found`}, "group", "get", "sandbox/zz")
	e.Fail(t, o, cmdutil.ExitNotFound, []string{"is a workspace, not a group"}, "group", "get", "trn:workspace:sandbox/a/ws")

	e.Fail(t, o, cmdutil.ExitUsage, []string{"nothing to update"}, "group", "update", "sandbox/a")
	g = decode[group](t, e.OK(t, o, "group", "update", "sandbox/a", "--description", "Team A", "--runner-tag", "x,y", "-o", "json").Stdout)
	if g.Description != "Team A" || len(g.RunnerTags.Tags) != 2 {
		t.Errorf("update = %+v", g)
	}
	g = decode[group](t, e.OK(t, o, "group", "update", "sandbox/a", "--inherit-runner-tags", "-o", "json").Stdout)
	if !g.RunnerTags.Inherited || g.Description != "Team A" {
		t.Errorf("inherit = %+v", g)
	}
	e.Fail(t, o, cmdutil.ExitUsage, nil, "group", "update", "sandbox/a", "--runner-tag", "x", "--inherit-runner-tags")
	e.Fail(t, admintest.Viewer, cmdutil.ExitAuth, []string{"deployer role"}, "group", "update", "sandbox/a", "--description", "no")
}

func TestDelete(t *testing.T) {
	e := admintest.Start(t)
	o := admintest.Owner
	e.OK(t, o, "group", "create", "sandbox/empty")
	e.OK(t, o, "group", "create", "sandbox/full/sub", "--parents")
	e.OK(t, o, "workspace", "create", "sandbox/full/ws")

	// Empty: no question.
	if r := e.OK(t, o, "group", "delete", "sandbox/empty"); r.Stdout != "Deleted group sandbox/empty.\n" {
		t.Errorf("delete: %q", r.Stdout)
	}
	// Not empty: refused without a terminal, asked on one.
	e.Fail(t, o, cmdutil.ExitUsage, []string{"Group sandbox/full is not empty: it holds 1 subgroup and 1 workspace", "add --force"}, "group", "delete", "sandbox/full")
	r := e.RunWith(t, o, admintest.Options{TTY: true, Stdin: "n\n"}, "group", "delete", "sandbox/full")
	if r.Code != cmdutil.ExitCanceled || !strings.Contains(r.Stderr, "Delete it with everything in it? [y/N]") || !strings.Contains(r.Stderr, "Nothing was deleted.") {
		t.Errorf("declined: %d %q", r.Code, r.Stderr)
	}
	e.OK(t, o, "group", "get", "sandbox/full")
	r = e.RunWith(t, o, admintest.Options{TTY: true, Stdin: "yes\n"}, "group", "delete", "sandbox/full")
	if r.Code != 0 || r.Stdout != "Deleted group sandbox/full.\n" {
		t.Errorf("confirmed: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	e.Fail(t, o, cmdutil.ExitNotFound, nil, "workspace", "get", "sandbox/full/ws")

	e.OK(t, o, "group", "create", "sandbox/again/sub", "--parents")
	r = e.OK(t, o, "group", "delete", "sandbox/again", "--yes", "-o", "json")
	if d := decode[map[string]any](t, r.Stdout); d["deleted"] != true || d["full_path"] != "sandbox/again" {
		t.Errorf("json: %v", d)
	}
	e.OK(t, o, "group", "create", "sandbox/third/sub", "--parents")
	e.OK(t, o, "group", "delete", "sandbox/third", "-f")

	e.OK(t, o, "group", "create", "sandbox/kept")
	e.Fail(t, admintest.Viewer, cmdutil.ExitAuth, []string{"deployer role"}, "group", "delete", "sandbox/kept")
	e.Fail(t, admintest.Outsider, cmdutil.ExitNotFound, nil, "group", "delete", "sandbox/kept")
}

type membership struct {
	ID         string `json:"id"`
	Namespace  string `json:"namespace_path"`
	Inherited  bool   `json:"inherited"`
	MemberType string `json:"member_type"`
	Member     string `json:"member"`
	Role       string `json:"role"`
}

func TestMemberships(t *testing.T) {
	e := admintest.Start(t)
	o := admintest.Owner
	e.AddUser(t, "alice", "", "")
	e.OK(t, o, "group", "create", "sandbox/team")
	e.OK(t, o, "service-account", "create", "sandbox/ci", "--enable-client-credentials")

	// add: a user and a service account; adding again is a no-op.
	r := e.OK(t, o, "group", "add-membership", "sandbox/team", "--user", "alice", "--role", "viewer")
	if r.Stdout != `Gave user "alice" the role viewer on group sandbox/team.`+"\n" {
		t.Errorf("add: %q", r.Stdout)
	}
	m := decode[membership](t, e.OK(t, o, "group", "add-membership", "sandbox/team", "--service-account", "trn:service_account:sandbox/ci", "--role", "deployer", "-o", "json").Stdout)
	if m.MemberType != "service_account" || m.Member != "sandbox/ci" || m.Role != "deployer" || m.Namespace != "sandbox/team" || m.Inherited {
		t.Errorf("add sa = %+v", m)
	}
	if r = e.OK(t, o, "group", "add-membership", "sandbox/team", "--username", "alice", "--role", "viewer"); r.Stdout != `User "alice" already has the role viewer on group sandbox/team.`+"\n" || !strings.Contains(r.Stderr, "--username is deprecated") {
		t.Errorf("again: %q %q", r.Stdout, r.Stderr)
	}
	e.Fail(t, o, cmdutil.ExitFailure, []string{`user "alice" is already a member of group sandbox/team, with the role viewer`,
		"Hint: Change the role with: tharsis group update-membership sandbox/team --user alice --role owner"},
		"group", "add-membership", "sandbox/team", "--user", "alice", "--role", "owner")

	// list shows inherited memberships too.
	page := decode[struct{ Items []membership }](t, e.OK(t, o, "group", "list-memberships", "sandbox/team", "-o", "json").Stdout)
	var got []string
	for _, m := range page.Items {
		got = append(got, m.Member+":"+m.Role+":"+m.Namespace+":"+map[bool]string{true: "inherited", false: "own"}[m.Inherited])
	}
	want := []string{"admin:owner:sandbox:inherited", "dora:deployer:sandbox:inherited", "olivia:owner:sandbox:inherited", "victor:viewer:sandbox:inherited",
		"sandbox/ci:deployer:sandbox/team:own", "alice:viewer:sandbox/team:own"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("memberships:\n%v\nwant\n%v", got, want)
	}
	r = e.RunWith(t, o, admintest.Options{TTY: true}, "group", "list-memberships", "sandbox/team")
	if !strings.HasPrefix(r.Stdout, "MEMBER      TYPE             ROLE      NAMESPACE            ID\n") || !strings.Contains(r.Stdout, "sandbox (inherited)") {
		t.Errorf("tty:\n%s", r.Stdout)
	}

	// update by member or by ID.
	if r = e.OK(t, o, "group", "update-membership", "sandbox/team", "--user", "alice", "--role", "deployer"); r.Stdout != `Changed the role of user "alice" on sandbox/team from viewer to deployer.`+"\n" {
		t.Errorf("update: %q", r.Stdout)
	}
	if r = e.OK(t, o, "group", "update-membership", m.ID, "--role", "viewer", "-o", "json"); decode[membership](t, r.Stdout).Role != "viewer" {
		t.Errorf("update by id: %s", r.Stdout)
	}
	e.OK(t, o, "group", "update-membership", "sandbox/team", "--service-account", "sandbox/ci", "--role", "viewer")
	// Inherited memberships are changed where they are set.
	e.Fail(t, o, cmdutil.ExitFailure, []string{`user "victor" has no membership on group sandbox/team itself: its viewer role comes from group sandbox`,
		"Hint: Change it where it is set: tharsis group update-membership sandbox --user victor"},
		"group", "update-membership", "sandbox/team", "--user", "victor", "--role", "owner")
	e.Fail(t, o, cmdutil.ExitNotFound, []string{`user "oscar" is not a member of group sandbox/team`}, "group", "update-membership", "sandbox/team", "--user", "oscar", "--role", "owner")
	e.Fail(t, o, cmdutil.ExitUsage, []string{"is not a membership ID"}, "group", "update-membership", "sandbox/team", "--role", "owner")
	e.Fail(t, o, cmdutil.ExitNotFound, []string{"role nope not found", "Built-in roles are owner, deployer, viewer and publisher"}, "group", "update-membership", "sandbox/team", "--user", "alice", "--role", "nope")
	e.Fail(t, o, cmdutil.ExitUsage, []string{"give only one of"}, "group", "add-membership", "sandbox/team", "--user", "a", "--team", "b", "--role", "viewer")
	e.Fail(t, o, cmdutil.ExitUsage, []string{"missing --role"}, "group", "add-membership", "sandbox/team", "--user", "a")
	e.Fail(t, o, cmdutil.ExitNotFound, []string{"user nobody not found", "Check the user name"}, "group", "add-membership", "sandbox/team", "--user", "nobody", "--role", "viewer")
	e.OK(t, o, "group", "add-membership", "sandbox/team", "--user", "trn:user:oscar", "--role-id", "trn:role:viewer")

	// A service account only joins its own group's tree.
	e.OK(t, o, "service-account", "create", "sandbox/team/inner", "--enable-client-credentials")
	e.Fail(t, o, cmdutil.ExitFailure, []string{"Hint: A service account can only be a member of the group it belongs to"},
		"group", "add-membership", "sandbox", "--service-account", "sandbox/team/inner", "--role", "viewer")

	// The roles a viewer and a deployer lack.
	e.AddUser(t, "bob", "", "")
	for _, u := range []string{admintest.Viewer, admintest.Deployer} {
		e.OK(t, u, "group", "list-memberships", "sandbox/team")
		e.Fail(t, u, cmdutil.ExitAuth, []string{"Hint: This needs the owner role on sandbox/team"}, "group", "add-membership", "sandbox/team", "--user", "bob", "--role", "viewer")
		e.Fail(t, u, cmdutil.ExitAuth, []string{"owner role"}, "group", "update-membership", "sandbox/team", "--user", "alice", "--role", "owner")
		e.Fail(t, u, cmdutil.ExitAuth, []string{"owner role"}, "group", "remove-membership", "sandbox/team", "--user", "alice")
	}
	e.AddUser(t, "eve", "", "")
	e.Fail(t, "eve", cmdutil.ExitNotFound, []string{`group "sandbox/team" not found`}, "group", "list-memberships", "sandbox/team")

	// remove, twice.
	if r = e.OK(t, o, "group", "remove-membership", "sandbox/team", "--user", "alice"); r.Stdout != `Removed user "alice" (role deployer) from sandbox/team.`+"\n" {
		t.Errorf("remove: %q", r.Stdout)
	}
	if r = e.OK(t, o, "group", "remove-membership", "sandbox/team", "--user", "alice", "-o", "json"); decode[map[string]any](t, r.Stdout)["removed"] != false {
		t.Errorf("remove again: %q", r.Stdout)
	}
	e.OK(t, o, "group", "remove-membership", m.ID)
	e.Fail(t, o, cmdutil.ExitNotFound, []string{"membership"}, "group", "remove-membership", m.ID)
	e.Fail(t, o, cmdutil.ExitNotFound, []string{`workspace "sandbox/team" not found`}, "workspace", "list-memberships", "sandbox/team")
	e.Fail(t, o, cmdutil.ExitNotFound, []string{`"trn:group:sandbox/team" is a group, not a workspace`}, "workspace", "list-memberships", "trn:group:sandbox/team")
}
