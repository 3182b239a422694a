package workspace_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
)

type workspace struct {
	ID                 string            `json:"id"`
	TRN                string            `json:"trn"`
	FullPath           string            `json:"full_path"`
	GroupPath          string            `json:"group_path"`
	Description        string            `json:"description"`
	TerraformVersion   string            `json:"terraform_version"`
	MaxJobDuration     int               `json:"max_job_duration"`
	PreventDestroyPlan bool              `json:"prevent_destroy_plan"`
	Locked             bool              `json:"locked"`
	Labels             map[string]string `json:"labels"`
	RunnerTags         struct {
		Tags      []string `json:"tags"`
		Inherited bool     `json:"inherited"`
	} `json:"runner_tags"`
	CurrentStateVersion *struct {
		ID    string `json:"id"`
		RunID string `json:"run_id"`
	} `json:"current_state_version"`
	Version string `json:"version"`
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, s)
	}
	return v
}

// outputsModule writes outputs of every kind.
var outputsModule = map[string]string{"main.tf": `
resource "null_resource" "a" {}
output "name" { value = "vpc-1" }
output "count" { value = 3 }
output "enabled" { value = true }
output "zones" { value = tolist(["a", "b"]) }
output "tags" { value = tomap({ env = "prod" }) }
output "password" {
  value     = "hunter2"
  sensitive = true
}
`}

func TestCreateGetList(t *testing.T) {
	e := admintest.Start(t)
	dep := admintest.Deployer

	w := decode[workspace](t, e.OK(t, dep, "workspace", "create", "sandbox/net", "--description", "Network",
		"--terraform-version", "1.10.5", "--max-job-duration", "2h", "--label", "team=net", "--label", "env=prod",
		"--runner-tag", "gpu", "--prevent-destroy-plan", "-o", "json").Stdout)
	if w.FullPath != "sandbox/net" || w.GroupPath != "sandbox" || w.TerraformVersion != "1.10.5" || w.MaxJobDuration != 120 ||
		!w.PreventDestroyPlan || w.Labels["team"] != "net" || w.Labels["env"] != "prod" || w.RunnerTags.Tags[0] != "gpu" ||
		w.RunnerTags.Inherited || w.CurrentStateVersion != nil || w.Description != "Network" {
		t.Fatalf("created = %+v", w)
	}
	r := e.OK(t, dep, "workspace", "create", "app", "--group", "sandbox")
	if !strings.HasPrefix(r.Stdout, "Created workspace sandbox/app.\n\nName:") {
		t.Errorf("create text:\n%s", r.Stdout)
	}
	e.OK(t, dep, "workspace", "create", "web", "--parent-group-id", "trn:group:sandbox", "--label", "team=web")
	r = e.OK(t, dep, "workspace", "create", "sandbox/app", "--if-not-exists")
	if r.Stderr != "Workspace sandbox/app already exists.\n" {
		t.Errorf("if-not-exists: %q", r.Stderr)
	}
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"already exists"}, "workspace", "create", "sandbox/app")
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"Unsupported Terraform version", "Hint: Supported Terraform versions: 1.9.8, 1.10.5, 1.11.4"},
		"workspace", "create", "sandbox/old", "--terraform-version", "0.12.0")
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"a workspace lives in a group"}, "workspace", "create", "lonely")
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"invalid --max-job-duration"}, "workspace", "create", "sandbox/x", "--max-job-duration", "30s")
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"expected key=value"}, "workspace", "create", "sandbox/x", "--label", "oops")
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"max"}, "workspace", "create", "sandbox/x", "--max-job-duration", "2000")

	// get by path, TRN or ID.
	for _, id := range []string{"sandbox/net", w.TRN, w.ID} {
		if got := decode[workspace](t, e.OK(t, dep, "workspace", "get", id, "--json").Stdout); got.ID != w.ID {
			t.Errorf("get %s = %+v", id, got)
		}
	}
	r = e.OK(t, admintest.Viewer, "workspace", "get", "sandbox/net")
	for _, want := range []string{"Path:                  sandbox/net", "Terraform version:     1.10.5", "Max job duration:      120 minutes",
		"Prevent destroy plan:  yes", "Labels:                env=prod, team=net", "Runner tags:           gpu", "State:                 none yet"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("get lacks %q:\n%s", want, r.Stdout)
		}
	}
	e.Fail(t, dep, cmdutil.ExitNotFound, []string{`workspace "sandbox/nope" not found`, "Hint: Check the path or ID"}, "workspace", "get", "sandbox/nope")
	e.Fail(t, admintest.Outsider, cmdutil.ExitNotFound, []string{`workspace "sandbox/net" not found`}, "workspace", "get", "sandbox/net")

	// list: sorted by path, filters, paging, both output forms.
	r = e.OK(t, dep, "workspace", "list")
	want := "sandbox/app\t1.11.4\tfalse\t\t\nsandbox/demo\t1.11.4\tfalse\t\tSeeded by tharsis-sandbox\nsandbox/net\t1.10.5\tfalse\tenv=prod,team=net\tNetwork\nsandbox/web\t1.11.4\tfalse\tteam=web\t\n"
	if r.Stdout != want {
		t.Errorf("list:\n%q\nwant\n%q", r.Stdout, want)
	}
	if r = e.OK(t, dep, "workspace", "list", "--label", "team=net", "--label", "env=prod"); !strings.HasPrefix(r.Stdout, "sandbox/net\t") || strings.Count(r.Stdout, "\n") != 1 {
		t.Errorf("labels: %q", r.Stdout)
	}
	if r = e.OK(t, dep, "workspace", "list", "--label", "team=net", "--label", "env=dev"); r.Stdout != "" || r.Stderr != "No workspaces found.\n" {
		t.Errorf("no match: %q %q", r.Stdout, r.Stderr)
	}
	if r = e.OK(t, dep, "workspace", "list", "--search", "we", "--group", "sandbox"); !strings.HasPrefix(r.Stdout, "sandbox/web\t") {
		t.Errorf("search: %q", r.Stdout)
	}
	if r = e.OK(t, dep, "workspace", "list", "--sort", "FULL_PATH_DESC", "--limit", "1"); !strings.HasPrefix(r.Stdout, "sandbox/web\t") ||
		!strings.Contains(r.Stderr, "Showing 1 of 4 workspaces. Next page: --cursor ") {
		t.Errorf("desc: %q %q", r.Stdout, r.Stderr)
	}
	if r = e.OK(t, dep, "workspace", "list", "--limit", "1", "--all"); r.Stdout != want || r.Stderr != "" {
		t.Errorf("all: %q %q", r.Stdout, r.Stderr)
	}
	r = e.RunWith(t, dep, admintest.Options{TTY: true}, "workspace", "list", "--group", "sandbox", "--search", "net")
	if r.Code != 0 || r.Stdout != "PATH         TERRAFORM  LOCKED  LABELS             DESCRIPTION\nsandbox/net  1.10.5     false   env=prod,team=net  Network\n" {
		t.Errorf("tty:\n%s", r.Stdout)
	}
	page := decode[struct {
		Items    []workspace `json:"items"`
		PageInfo struct {
			TotalCount  int  `json:"total_count"`
			HasNextPage bool `json:"has_next_page"`
		} `json:"page_info"`
	}](t, e.OK(t, dep, "workspace", "list", "-o", "json").Stdout)
	if len(page.Items) != 4 || page.PageInfo.TotalCount != 4 || page.PageInfo.HasNextPage || page.Items[2].Labels["team"] != "net" {
		t.Errorf("json = %+v", page)
	}

	// Viewers read but do not create.
	e.OK(t, admintest.Viewer, "workspace", "list")
	e.Fail(t, admintest.Viewer, cmdutil.ExitAuth, []string{"is not authorized", "Hint: This needs the deployer role on sandbox"}, "workspace", "create", "sandbox/v")
}

func TestUpdateLock(t *testing.T) {
	e := admintest.Start(t)
	dep := admintest.Deployer
	e.OK(t, dep, "workspace", "create", "sandbox/net", "--label", "team=net", "--label", "owner=bob", "--runner-tag", "a")

	e.Fail(t, dep, cmdutil.ExitUsage, []string{"nothing to update"}, "workspace", "update", "sandbox/net")
	w := decode[workspace](t, e.OK(t, dep, "workspace", "update", "sandbox/net", "--label", "env=prod", "--remove-label", "owner",
		"--terraform-version", "1.9.8", "--description", "net", "-o", "json").Stdout)
	if len(w.Labels) != 2 || w.Labels["env"] != "prod" || w.Labels["team"] != "net" || w.TerraformVersion != "1.9.8" || w.Description != "net" ||
		w.RunnerTags.Tags[0] != "a" {
		t.Errorf("update = %+v", w)
	}
	w = decode[workspace](t, e.OK(t, dep, "workspace", "update", "trn:workspace:sandbox/net", "--clear-labels", "--inherit-runner-tags",
		"--prevent-destroy-plan", "--max-job-duration", "15", "-o", "json").Stdout)
	if len(w.Labels) != 0 || !w.RunnerTags.Inherited || !w.PreventDestroyPlan || w.MaxJobDuration != 15 || w.Description != "net" {
		t.Errorf("update 2 = %+v", w)
	}
	w = decode[workspace](t, e.OK(t, dep, "workspace", "update", "sandbox/net", "--prevent-destroy-plan=false", "--description", "", "-o", "json").Stdout)
	if w.PreventDestroyPlan || w.Description != "" || w.MaxJobDuration != 15 {
		t.Errorf("update 3 = %+v", w)
	}
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"Hint: Supported Terraform versions"}, "workspace", "update", "sandbox/net", "--terraform-version", "9.9.9")
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"version"}, "workspace", "update", "sandbox/net", "--description", "x", "--version", "1")
	e.Fail(t, admintest.Viewer, cmdutil.ExitAuth, []string{"deployer role on sandbox/net"}, "workspace", "update", "sandbox/net", "--description", "x")

	// lock and unlock succeed when already done.
	if r := e.OK(t, dep, "workspace", "lock", "sandbox/net"); r.Stdout != "Locked workspace sandbox/net.\n" {
		t.Errorf("lock: %q", r.Stdout)
	}
	if r := e.OK(t, dep, "workspace", "lock", "sandbox/net"); r.Stdout != "Workspace sandbox/net is already locked.\n" {
		t.Errorf("lock again: %q", r.Stdout)
	}
	if w := decode[workspace](t, e.OK(t, dep, "workspace", "get", "sandbox/net", "-o", "json").Stdout); !w.Locked {
		t.Error("not locked")
	}
	e.Fail(t, admintest.Viewer, cmdutil.ExitAuth, []string{"deployer role"}, "workspace", "unlock", "sandbox/net")
	if w := decode[workspace](t, e.OK(t, dep, "workspace", "unlock", "sandbox/net", "-o", "json").Stdout); w.Locked {
		t.Error("still locked")
	}
	if r := e.OK(t, dep, "workspace", "unlock", "sandbox/net"); r.Stdout != "Workspace sandbox/net is already unlocked.\n" {
		t.Errorf("unlock again: %q", r.Stdout)
	}
}

func TestOutputsAndDelete(t *testing.T) {
	e := admintest.Start(t)
	dep := admintest.Deployer
	e.OK(t, dep, "workspace", "create", "sandbox/net")

	// No state yet.
	if r := e.OK(t, dep, "workspace", "outputs", "sandbox/net"); r.Stdout != "" || r.Stderr != "Workspace sandbox/net has no state yet, so no outputs.\n" {
		t.Errorf("no state: %q %q", r.Stdout, r.Stderr)
	}
	e.Fail(t, dep, cmdutil.ExitNotFound, []string{"has no state yet"}, "workspace", "outputs", "sandbox/net", "name")

	// An empty workspace is deleted without a question.
	e.OK(t, dep, "workspace", "create", "sandbox/tmp")
	if r := e.OK(t, dep, "workspace", "delete", "sandbox/tmp"); r.Stdout != "Deleted workspace sandbox/tmp.\n" {
		t.Errorf("delete: %q", r.Stdout)
	}

	run := e.StartModuleRun(t, dep, "sandbox/net", outputsModule, true)
	admintest.WaitFor(t, 20*time.Second, "the apply", func() bool { return e.RunStatus(run) == "applied" })

	r := e.OK(t, admintest.Viewer, "workspace", "outputs", "sandbox/net")
	want := `count = 3
enabled = true
name = "vpc-1"
password = <sensitive>
tags = tomap({
  "env" = "prod"
})
zones = tolist([
  "a",
  "b",
])
`
	if r.Stdout != want {
		t.Errorf("outputs:\n%s\nwant\n%s", r.Stdout, want)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"name"}, "\"vpc-1\"\n"},
		{[]string{"password"}, "\"hunter2\"\n"},
		{[]string{"--raw", "name"}, "vpc-1"},
		{[]string{"name", "--raw"}, "vpc-1"},
		{[]string{"--raw", "count"}, "3"},
		{[]string{"--output-name", "enabled", "--raw"}, "true"},
		{[]string{"zones", "-o", "json"}, "[\"a\",\"b\"]\n"},
		{[]string{"password", "--json"}, "\"hunter2\"\n"},
	} {
		args := append([]string{"workspace", "outputs", "sandbox/net"}, tt.args...)
		if r := e.OK(t, dep, args...); r.Stdout != tt.want {
			t.Errorf("%v: %q, want %q", tt.args, r.Stdout, tt.want)
		}
	}
	all := decode[map[string]struct {
		Sensitive bool            `json:"sensitive"`
		Type      json.RawMessage `json:"type"`
		Value     json.RawMessage `json:"value"`
	}](t, e.OK(t, dep, "workspace", "outputs", "sandbox/net", "-o", "json").Stdout)
	compact := func(raw json.RawMessage) string {
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if len(all) != 6 || !all["password"].Sensitive || compact(all["password"].Value) != `"hunter2"` ||
		compact(all["zones"].Type) != `["list","string"]` || compact(all["zones"].Value) != `["a","b"]` || compact(all["count"].Value) != "3" {
		t.Errorf("json = %+v", all)
	}
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"--raw prints only strings, numbers and booleans"}, "workspace", "outputs", "sandbox/net", "--raw", "zones")
	e.Fail(t, dep, cmdutil.ExitNotFound, []string{`output "nope" not found in workspace sandbox/net`, "Hint: List the outputs with"}, "workspace", "outputs", "sandbox/net", "nope")
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"--raw needs the output's NAME"}, "workspace", "outputs", "sandbox/net", "--raw")
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"cannot be combined"}, "workspace", "outputs", "sandbox/net", "name", "--raw", "-o", "json")

	// get shows the state version and the run that wrote it.
	w := decode[workspace](t, e.OK(t, dep, "workspace", "get", "sandbox/net", "-o", "json").Stdout)
	if w.CurrentStateVersion == nil || w.CurrentStateVersion.RunID != run {
		t.Errorf("state = %+v (run %s)", w.CurrentStateVersion, run)
	}

	// The workspace now manages resources: deleting it needs a yes.
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"Workspace sandbox/net still manages resources", "add --force"}, "workspace", "delete", "sandbox/net")
	r = e.RunWith(t, dep, admintest.Options{TTY: true, Stdin: "no\n"}, "workspace", "delete", "sandbox/net")
	if r.Code != cmdutil.ExitCanceled || !strings.Contains(r.Stderr, "Delete it anyway? [y/N]") {
		t.Errorf("declined: %d %q", r.Code, r.Stderr)
	}
	e.Fail(t, admintest.Viewer, cmdutil.ExitAuth, []string{"deployer role"}, "workspace", "delete", "sandbox/net", "--force")
	r = e.RunWith(t, dep, admintest.Options{TTY: true, Stdin: "y\n"}, "workspace", "delete", "sandbox/net")
	if r.Code != 0 || r.Stdout != "Deleted workspace sandbox/net.\n" {
		t.Errorf("confirmed: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	e.Fail(t, dep, cmdutil.ExitNotFound, nil, "workspace", "get", "sandbox/net")

	// --force (or --yes) skips the question.
	e.OK(t, dep, "workspace", "create", "sandbox/net2")
	run = e.StartModuleRun(t, dep, "sandbox/net2", outputsModule, true)
	admintest.WaitFor(t, 20*time.Second, "the apply", func() bool { return e.RunStatus(run) == "applied" })
	r = e.OK(t, dep, "workspace", "delete", "sandbox/net2", "-y", "-o", "json")
	if d := decode[map[string]any](t, r.Stdout); d["deleted"] != true || d["full_path"] != "sandbox/net2" {
		t.Errorf("json: %v", d)
	}
}

func TestWorkspaceMemberships(t *testing.T) {
	e := admintest.Start(t)
	o := admintest.Owner
	e.AddUser(t, "wendy", "", "")
	e.OK(t, o, "workspace", "create", "sandbox/net")
	e.OK(t, o, "workspace", "add-membership", "sandbox/net", "--user", "wendy", "--role", "deployer")
	// wendy can now see and change this workspace only.
	e.OK(t, "wendy", "workspace", "update", "sandbox/net", "--description", "mine")
	e.Fail(t, "wendy", cmdutil.ExitNotFound, nil, "workspace", "get", "sandbox/demo")
	r := e.OK(t, o, "workspace", "list-memberships", "sandbox/net")
	if !strings.Contains(r.Stdout, "wendy\tuser\tdeployer\tsandbox/net\t") || !strings.Contains(r.Stdout, "olivia\tuser\towner\tsandbox (inherited)\t") {
		t.Errorf("list:\n%s", r.Stdout)
	}
	e.OK(t, o, "workspace", "update-membership", "sandbox/net", "--user", "wendy", "--role", "viewer")
	e.Fail(t, "wendy", cmdutil.ExitAuth, []string{"deployer role on sandbox/net"}, "workspace", "update", "sandbox/net", "--description", "again")
	e.Fail(t, "wendy", cmdutil.ExitAuth, []string{"owner role on sandbox/net"}, "workspace", "add-membership", "sandbox/net", "--user", "oscar", "--role", "viewer")
	e.OK(t, o, "workspace", "remove-membership", "sandbox/net", "--user", "wendy")
	e.Fail(t, "wendy", cmdutil.ExitNotFound, nil, "workspace", "get", "sandbox/net")
}
