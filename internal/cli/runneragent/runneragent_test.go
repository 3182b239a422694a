package runneragent_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
)

const admin = sandbox.SeedAdmin

// module is a tiny configuration for runs.
var module = map[string]string{"main.tf": `
resource "null_resource" "a" {}
output "greeting" { value = "hi" }
`}

type detail struct {
	ID                      string `json:"id"`
	Path                    string `json:"path"`
	Type                    string `json:"type"`
	Tags                    []string
	Disabled                bool `json:"disabled"`
	RunUntaggedJobs         bool `json:"run_untagged_jobs"`
	AssignedServiceAccounts []struct {
		ID   string `json:"id"`
		Path string `json:"path"`
	} `json:"assigned_service_accounts"`
	Sessions []struct {
		Active     bool `json:"active"`
		ErrorCount int  `json:"error_count"`
	} `json:"sessions"`
	RecentJobs []struct {
		ID            string `json:"id"`
		Status        string `json:"status"`
		WorkspacePath string `json:"workspace_path"`
	} `json:"recent_jobs"`
	Warnings []string `json:"warnings"`
	Version  string   `json:"version"`
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, s)
	}
	return v
}

// TestAdminStory is the whole story of issue #6: an administrator creates a
// group, a service account with a trust policy, gives it the deployer role,
// creates a runner agent, assigns the service account and sees a queued
// job start.
func TestAdminStory(t *testing.T) {
	e := admintest.Start(t, sandboxtest.WithKnobs(func(k *sandbox.Knobs) { k.RequireRunnerServiceAccount = true }))

	// A top-level group needs admin mode, and the error says so.
	e.Fail(t, admin, cmdutil.ExitAuth, []string{"only admins with admin mode activated", "tharsis admin-mode activate"},
		"group", "create", "platform")
	e.OK(t, admin, "admin-mode", "activate", "--duration", "30m")
	r := e.OK(t, admin, "group", "create", "platform/prod", "--parents")
	if !strings.Contains(r.Stderr, "Created group platform.") || !strings.Contains(r.Stdout, "Created group platform/prod.") {
		t.Errorf("create --parents:\n%s\n%s", r.Stdout, r.Stderr)
	}
	e.OK(t, admin, "admin-mode", "deactivate")

	// A service account with a trust policy, given the deployer role.
	r = e.OK(t, admin, "service-account", "create", "platform/deployer", "-o", "json",
		"--oidc-trust-policy", "issuer=https://ci.example.com,bound-claim=sub=repo:org/*,claims-type=glob")
	sa := decode[struct {
		ID       string `json:"id"`
		Policies []struct {
			Issuer string            `json:"issuer"`
			Type   string            `json:"bound_claims_type"`
			Claims map[string]string `json:"bound_claims"`
		} `json:"oidc_trust_policies"`
		Secret string `json:"client_secret"`
	}](t, r.Stdout)
	if len(sa.Policies) != 1 || sa.Policies[0].Issuer != "https://ci.example.com" || sa.Policies[0].Type != "GLOB" ||
		sa.Policies[0].Claims["sub"] != "repo:org/*" || sa.Secret != "" {
		t.Fatalf("service account = %+v", sa)
	}
	e.OK(t, admin, "group", "add-membership", "platform", "--service-account", "platform/deployer", "--role", "deployer")

	// Acting as the service account now works: it can create a workspace.
	e.AddServiceAccountToken(t, "platform/deployer")
	e.OK(t, "platform/deployer", "workspace", "create", "platform/prod/app", "--runner-tag", "prod")

	// A run of a workspace whose tag no runner agent has: the job waits.
	runID := e.StartModuleRun(t, admin, "platform/prod/app", module, false)
	var jobID string
	admintest.WaitFor(t, 10*time.Second, "the plan job", func() bool {
		jobs := e.Jobs(runID)
		if len(jobs) == 0 {
			return false
		}
		jobID = sandbox.GID("job", jobs[0].ID)
		return true
	})
	if s := e.Jobs(runID)[0].Status; s != "queued" {
		t.Fatalf("job %s before any runner agent", s)
	}

	// A runner agent with the tag, but no service account to log in with:
	// the job still waits, and `get` says why.
	e.OK(t, admin, "runner-agent", "create", "platform/prod-runner", "--tag", "prod")
	if s := e.Jobs(runID)[0].Status; s != "queued" {
		t.Fatalf("job %s with a runner agent that cannot log in", s)
	}
	r = e.OK(t, admin, "runner-agent", "get", "platform/prod-runner")
	for _, want := range []string{"Service accounts:  none", "No service account is assigned", "assign-service-account SERVICE_ACCOUNT platform/prod-runner"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("get lacks %q:\n%s", want, r.Stdout)
		}
	}

	// Assigning the service account lets it take the job.
	r = e.OK(t, admin, "runner-agent", "assign-service-account", "platform/deployer", "platform/prod-runner")
	if r.Stdout != "Assigned service account platform/deployer to runner agent platform/prod-runner.\n" {
		t.Errorf("assign: %q", r.Stdout)
	}
	admintest.WaitFor(t, 10*time.Second, "the job to start", func() bool {
		return e.Jobs(runID)[0].Status != "queued"
	})
	admintest.WaitFor(t, 10*time.Second, "the plan to finish", func() bool { return e.RunStatus(runID) == "planned" })

	d := decode[detail](t, e.OK(t, admin, "runner-agent", "get", "platform/prod-runner", "-o", "json").Stdout)
	if len(d.AssignedServiceAccounts) != 1 || d.AssignedServiceAccounts[0].Path != "platform/deployer" {
		t.Errorf("assigned = %+v", d.AssignedServiceAccounts)
	}
	if len(d.Sessions) != 1 || !d.Sessions[0].Active || len(d.Warnings) != 0 {
		t.Errorf("sessions = %+v, warnings = %q", d.Sessions, d.Warnings)
	}
	if len(d.RecentJobs) != 1 || d.RecentJobs[0].ID != jobID || d.RecentJobs[0].WorkspacePath != "platform/prod/app" ||
		d.RecentJobs[0].Status != "finished" {
		t.Errorf("recent jobs = %+v (job %s)", d.RecentJobs, jobID)
	}
	r = e.OK(t, admin, "runner-agent", "get", "platform/prod-runner")
	for _, want := range []string{"Service accounts:  platform/deployer", "Sessions (1 of 1):", "Recent jobs (1 of 1):", jobID + "  plan  finished  platform/prod/app"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("get lacks %q:\n%s", want, r.Stdout)
		}
	}
	if strings.Contains(r.Stdout, "Warnings:") {
		t.Errorf("warnings for a working runner agent:\n%s", r.Stdout)
	}
}

func TestCreateListGetUpdateDelete(t *testing.T) {
	e := admintest.Start(t)
	owner := admintest.Owner

	// Usage errors come before any request.
	e.Fail(t, owner, cmdutil.ExitUsage, []string{"at least one --tag, or --run-untagged-jobs"}, "runner-agent", "create", "sandbox/r0")
	e.Fail(t, owner, cmdutil.ExitUsage, []string{"belongs to a group"}, "runner-agent", "create", "r0", "--tag", "a")
	e.Fail(t, owner, cmdutil.ExitUsage, []string{"missing argument: NAME"}, "runner-agent", "create", "--tag", "a")

	// Three ways to name the group; the deprecated one warns.
	r := e.OK(t, owner, "runner-agent", "create", "sandbox/r1", "--tag", "b,a", "--description", "first", "-o", "json")
	r1 := decode[detail](t, r.Stdout)
	if r1.Path != "sandbox/r1" || r1.Type != "group" || !slices.Equal(r1.Tags, []string{"b", "a"}) || r1.RunUntaggedJobs {
		t.Fatalf("r1 = %+v", r1)
	}
	e.OK(t, owner, "runner-agent", "create", "r2", "--group", "sandbox", "--run-untagged-jobs", "--disabled")
	r = e.OK(t, owner, "runner-agent", "create", "r3", "--group-path", "sandbox", "--tag", "c")
	if !strings.Contains(r.Stderr, "--group-path is deprecated") {
		t.Errorf("no deprecation warning: %q", r.Stderr)
	}
	e.Fail(t, owner, cmdutil.ExitFailure, []string{"already exists"}, "runner-agent", "create", "sandbox/r1", "--tag", "a")

	// Lists: tab-separated rows without a terminal, a header on one.
	r = e.OK(t, owner, "runner-agent", "list", "--group", "sandbox")
	want := "sandbox/r1\tgroup\tb,a\tfalse\tfalse\nsandbox/r2\tgroup\t\ttrue\ttrue\nsandbox/r3\tgroup\tc\tfalse\tfalse\n"
	if r.Stdout != want {
		t.Errorf("list:\n%q\nwant\n%q", r.Stdout, want)
	}
	r = e.RunWith(t, owner, admintest.Options{TTY: true}, "runner-agent", "list", "--group", "sandbox", "--limit", "2")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "PATH        TYPE   TAGS  UNTAGGED JOBS  DISABLED\nsandbox/r1  group  b,a   false          false\n") ||
		!strings.Contains(r.Stderr, "Showing 2 of 3 runner agents. Next page: --cursor ") {
		t.Errorf("tty list:\n%s\n%s", r.Stdout, r.Stderr)
	}
	page := decode[struct {
		Items    []detail
		PageInfo struct {
			TotalCount  int    `json:"total_count"`
			HasNextPage bool   `json:"has_next_page"`
			EndCursor   string `json:"end_cursor"`
		} `json:"page_info"`
	}](t, e.OK(t, owner, "runner-agent", "list", "--group", "sandbox", "--limit", "2", "-o", "json").Stdout)
	if len(page.Items) != 2 || !page.PageInfo.HasNextPage || page.PageInfo.TotalCount != 3 || page.PageInfo.EndCursor == "" {
		t.Fatalf("page 1 = %+v", page)
	}
	r = e.OK(t, owner, "runner-agent", "list", "--group", "sandbox", "--limit", "2", "--cursor", page.PageInfo.EndCursor)
	if r.Stdout != "sandbox/r3\tgroup\tc\tfalse\tfalse\n" || r.Stderr != "" {
		t.Errorf("page 2: %q %q", r.Stdout, r.Stderr)
	}
	if r = e.OK(t, owner, "runner-agent", "list", "--group", "sandbox", "--limit", "1", "--all"); r.Stdout != want {
		t.Errorf("--all:\n%s", r.Stdout)
	}
	// Inherited runner agents serve subgroups; shared ones are listed
	// without --group.
	e.OK(t, owner, "group", "create", "sandbox/sub")
	if r = e.OK(t, owner, "runner-agent", "list", "--group", "sandbox/sub"); r.Stdout != "" || r.Stderr != "No runner agents found.\n" {
		t.Errorf("sub: %q %q", r.Stdout, r.Stderr)
	}
	if r = e.OK(t, owner, "runner-agent", "list", "--namespace-path", "sandbox/sub", "--include-inherited"); r.Stdout != want {
		t.Errorf("inherited:\n%s", r.Stdout)
	}
	if r = e.OK(t, owner, "runner-agent", "list"); !strings.HasPrefix(r.Stdout, sandbox.SeedRunner+"\tshared\t\ttrue\tfalse\n") {
		t.Errorf("shared: %q", r.Stdout)
	}
	e.Fail(t, owner, cmdutil.ExitUsage, []string{"--include-inherited needs --group"}, "runner-agent", "list", "--include-inherited")

	// get takes a path, a TRN or an ID.
	for _, id := range []string{"sandbox/r1", "trn:runner:sandbox/r1", r1.ID} {
		d := decode[detail](t, e.OK(t, owner, "runner-agent", "get", id, "--json").Stdout)
		if d.ID != r1.ID || d.AssignedServiceAccounts == nil || d.Sessions == nil || d.RecentJobs == nil {
			t.Errorf("get %s = %+v", id, d)
		}
	}
	r = e.OK(t, owner, "runner-agent", "get", "sandbox/r2")
	for _, want := range []string{"Path:              sandbox/r2", "Untagged jobs:     yes", "Disabled:          yes", "It is disabled", "update sandbox/r2 --disabled=false"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("get r2 lacks %q:\n%s", want, r.Stdout)
		}
	}

	// update changes what is given only.
	e.Fail(t, owner, cmdutil.ExitUsage, []string{"nothing to update"}, "runner-agent", "update", "sandbox/r1")
	u := decode[detail](t, e.OK(t, owner, "runner-agent", "update", "sandbox/r1", "--tag", "gpu", "--disabled", "-o", "json").Stdout)
	if !slices.Equal(u.Tags, []string{"gpu"}) || !u.Disabled || u.RunUntaggedJobs {
		t.Errorf("update = %+v", u)
	}
	e.Fail(t, owner, cmdutil.ExitFailure, []string{"at least one tag"}, "runner-agent", "update", "sandbox/r1", "--clear-tags")
	u = decode[detail](t, e.OK(t, owner, "runner-agent", "update", "sandbox/r1", "--clear-tags", "--run-untagged-jobs", "--disabled=false", "-o", "json").Stdout)
	if len(u.Tags) != 0 || u.Disabled || !u.RunUntaggedJobs {
		t.Errorf("update = %+v", u)
	}
	e.Fail(t, owner, cmdutil.ExitFailure, []string{"version"}, "runner-agent", "update", "sandbox/r1", "--description", "x", "--version", "1")
	r = e.OK(t, owner, "runner-agent", "update", "sandbox/r1", "--description", "renamed")
	if !strings.HasPrefix(r.Stdout, "Updated runner agent sandbox/r1.\n") || !strings.Contains(r.Stdout, "Description:    renamed") {
		t.Errorf("update text:\n%s", r.Stdout)
	}

	// delete, then it is gone.
	if r = e.OK(t, owner, "runner-agent", "delete", "sandbox/r3"); r.Stdout != "Deleted runner agent sandbox/r3.\n" {
		t.Errorf("delete: %q", r.Stdout)
	}
	e.Fail(t, owner, cmdutil.ExitNotFound, []string{`runner agent "sandbox/r3" not found`, "Hint: Check the path"}, "runner-agent", "get", "sandbox/r3")
	e.Fail(t, owner, cmdutil.ExitNotFound, []string{`"trn:group:sandbox" is a group, not a runner agent`}, "runner-agent", "get", "trn:group:sandbox")
}

func TestAssignRules(t *testing.T) {
	e := admintest.Start(t)
	owner := admintest.Owner
	e.OK(t, owner, "group", "create", "sandbox/sub")
	e.OK(t, owner, "runner-agent", "create", "sandbox/sub/runner", "--tag", "a")
	e.OK(t, owner, "runner-agent", "create", "sandbox/top-runner", "--tag", "a")
	e.OK(t, owner, "service-account", "create", "sandbox/top-sa", "--enable-client-credentials")
	e.OK(t, owner, "service-account", "create", "sandbox/sub/sub-sa", "--enable-client-credentials")

	// A service account of a parent group can be assigned, with any
	// identifier; again is a no-op that says so.
	r := e.OK(t, owner, "runner-agent", "assign-service-account", "trn:service_account:sandbox/top-sa", "sandbox/sub/runner", "-o", "json")
	a := decode[map[string]any](t, r.Stdout)
	if a["assigned"] != true || a["changed"] != true || a["service_account"] != "sandbox/top-sa" || a["runner_agent"] != "sandbox/sub/runner" {
		t.Errorf("assign = %v", a)
	}
	d := decode[detail](t, e.OK(t, owner, "runner-agent", "get", "sandbox/sub/runner", "-o", "json").Stdout)
	r = e.OK(t, owner, "runner-agent", "assign-service-account", d.AssignedServiceAccounts[0].ID, "trn:runner:sandbox/sub/runner")
	if r.Stdout != "Service account sandbox/top-sa is already assigned to runner agent sandbox/sub/runner.\n" {
		t.Errorf("again: %q", r.Stdout)
	}
	if a = decode[map[string]any](t, e.OK(t, owner, "runner-agent", "assign-service-account", "sandbox/top-sa", d.ID, "-o", "json").Stdout); a["changed"] != false || a["assigned"] != true {
		t.Errorf("again json = %v", a)
	}

	// The server's rules, explained.
	e.Fail(t, owner, cmdutil.ExitFailure, []string{
		"service account sandbox/sub/sub-sa cannot be assigned to runner agent sandbox/top-runner: it belongs to group sandbox/sub, but it must belong to the runner agent's group sandbox or one of that group's parents",
		"Hint: Create a service account in sandbox",
	}, "runner-agent", "assign-service-account", "sandbox/sub/sub-sa", "sandbox/top-runner")
	e.Fail(t, owner, cmdutil.ExitFailure, []string{"runner agent sandbox-runner is a shared runner agent", "take no service accounts"},
		"runner-agent", "assign-service-account", "sandbox/top-sa", sandbox.SeedRunner)
	e.Fail(t, owner, cmdutil.ExitNotFound, []string{`service account "sandbox/nope" not found`}, "runner-agent", "assign-service-account", "sandbox/nope", "sandbox/top-runner")
	e.Fail(t, owner, cmdutil.ExitNotFound, []string{`runner agent "sandbox/nope" not found`}, "runner-agent", "assign-service-account", "sandbox/top-sa", "sandbox/nope")
	e.Fail(t, owner, cmdutil.ExitUsage, []string{"missing argument: RUNNER_AGENT"}, "runner-agent", "assign-service-account", "sandbox/top-sa")

	// Unassigning twice: the second says there is nothing to do.
	if r = e.OK(t, owner, "runner-agent", "unassign-service-account", "sandbox/top-sa", "sandbox/sub/runner"); r.Stdout != "Unassigned service account sandbox/top-sa from runner agent sandbox/sub/runner.\n" {
		t.Errorf("unassign: %q", r.Stdout)
	}
	if r = e.OK(t, owner, "runner-agent", "unassign-service-account", "sandbox/top-sa", "sandbox/sub/runner"); r.Stdout != "Service account sandbox/top-sa is not assigned to runner agent sandbox/sub/runner: nothing to do.\n" {
		t.Errorf("unassign again: %q", r.Stdout)
	}
}

func TestPermissions(t *testing.T) {
	e := admintest.Start(t)
	e.OK(t, admintest.Owner, "runner-agent", "create", "sandbox/r1", "--tag", "a")
	e.OK(t, admintest.Owner, "service-account", "create", "sandbox/sa", "--enable-client-credentials")

	// Viewers and deployers can look but not change: the error names the
	// role needed.
	for _, user := range []string{admintest.Viewer, admintest.Deployer} {
		e.OK(t, user, "runner-agent", "list", "--group", "sandbox")
		e.OK(t, user, "runner-agent", "get", "sandbox/r1")
		forbidden := []string{"is not authorized", "Hint: This needs the owner role on sandbox", "tharsis group add-membership sandbox --user <username> --role owner"}
		e.Fail(t, user, cmdutil.ExitAuth, forbidden, "runner-agent", "create", "sandbox/r2", "--tag", "a")
		e.Fail(t, user, cmdutil.ExitAuth, forbidden, "runner-agent", "update", "sandbox/r1", "--disabled")
		e.Fail(t, user, cmdutil.ExitAuth, forbidden, "runner-agent", "assign-service-account", "sandbox/sa", "sandbox/r1")
		e.Fail(t, user, cmdutil.ExitAuth, forbidden, "runner-agent", "delete", "sandbox/r1")
	}
	// Someone without any role sees nothing.
	e.Fail(t, admintest.Outsider, cmdutil.ExitNotFound, []string{`runner agent "sandbox/r1" not found`}, "runner-agent", "get", "sandbox/r1")
	e.Fail(t, admintest.Outsider, cmdutil.ExitNotFound, nil, "runner-agent", "list", "--group", "sandbox")
	// Shared runner agents need admin mode, even for an administrator.
	e.Fail(t, admin, cmdutil.ExitAuth, []string{"admin mode", "tharsis admin-mode activate"}, "runner-agent", "update", sandbox.SeedRunner, "--disabled")
	e.OK(t, admin, "admin-mode", "activate")
	e.OK(t, admin, "runner-agent", "update", sandbox.SeedRunner, "--description", "changed by an admin")
}
