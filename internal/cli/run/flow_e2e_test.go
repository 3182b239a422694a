package run_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// TestApprovalPiped: without a terminal the answer is one line of standard
// input; only "yes" applies, anything else discards the run (exit 3), and
// no line at all fails (exit 1) naming --auto-approve and --input=false.
func TestApprovalPiped(t *testing.T) {
	for _, tc := range []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStatus string
		wantErr    []string
	}{
		{name: "yes", stdin: "yes\n", wantCode: 0, wantStatus: "applied", wantErr: []string{"Enter a value: yes", "applied"}},
		{name: "yes without newline", stdin: "yes", wantCode: 0, wantStatus: "applied"},
		{name: "yes with blanks", stdin: "  yes \r\n", wantCode: 0, wantStatus: "applied"},
		{name: "no", stdin: "no\n", wantCode: 3, wantStatus: "discarded", wantErr: []string{"discarded", "approval declined"}},
		{name: "y is not yes", stdin: "y\n", wantCode: 3, wantStatus: "discarded"},
		{name: "YES is not yes", stdin: "YES\n", wantCode: 3, wantStatus: "discarded"},
		{name: "empty line", stdin: "\n", wantCode: 3, wantStatus: "discarded"},
		{name: "no input", stdin: "", wantCode: 1, wantStatus: "planned",
			wantErr: []string{"--auto-approve", "--input=false", "tharsis run approve"}},
		{name: "auto-approve reads nothing", stdin: "no\n", args: []string{"--auto-approve"}, wantCode: 0, wantStatus: "applied"},
		{name: "--input=false", stdin: "yes\n", args: []string{"--input=false"}, wantCode: 0, wantStatus: "planned",
			wantErr: []string{"waits for approval", "tharsis run approve"}},
		{name: "--input=false --detailed-exitcode", args: []string{"--input=false", "--detailed-exitcode"}, wantCode: 2, wantStatus: "planned"},
		{name: "--auto-approve --detailed-exitcode", args: []string{"--auto-approve", "--detailed-exitcode"}, wantCode: 0, wantStatus: "applied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t)
			dir := configDir(t, map[string]string{"main.tf": oneResource})
			res := tharsis(t, clitest.Options{Env: env(srv), Stdin: tc.stdin}, append([]string{"apply", ws, "--directory-path", dir}, tc.args...)...)
			wantCode(t, res, tc.wantCode)
			r := onlyRun(t, srv, ws)
			if r.Status != tc.wantStatus {
				t.Fatalf("run status %s, want %s", r.Status, tc.wantStatus)
			}
			wantContains(t, "stderr", res.Stderr, runGID(r))
			wantContains(t, "stderr", res.Stderr, tc.wantErr...)
			plan, apply := jobLogs(t, srv, r)
			if want := string(plan) + string(apply); res.Stdout != want {
				t.Errorf("stdout is not the job logs")
			}
			if tc.wantStatus != "applied" && apply != nil {
				t.Errorf("an apply job ran")
			}
			w, _ := srv.Workspace(ws)
			if w.CurrentApplyRunID != "" {
				t.Errorf("the workspace is still held by run %s", w.CurrentApplyRunID)
			}
		})
	}
}

// TestNoChanges: a plan without changes says so and exits 0, with or
// without --detailed-exitcode, and asks nothing.
func TestNoChanges(t *testing.T) {
	srv := startSandbox(t)
	dir := configDir(t, map[string]string{"main.tf": oneResource})
	wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", dir, "--auto-approve"), 0)
	for i, args := range [][]string{
		{"apply", ws, "--directory-path", dir},
		{"apply", ws, "--directory-path", dir, "--detailed-exitcode"},
		{"plan", ws, "--directory-path", dir, "--detailed-exitcode"},
	} {
		res := tharsis(t, clitest.Options{Env: env(srv)}, args...)
		wantCode(t, res, 0)
		r := lastRun(t, srv, ws)
		if r.Status != "planned_and_finished" || r.Plan.HasChanges {
			t.Fatalf("command %d: run %s has changes %v", i, r.Status, r.Plan.HasChanges)
		}
		wantContains(t, "stderr", res.Stderr, "No changes.")
		wantNotContains(t, "stderr", res.Stderr, "Enter a value")
	}
}

// TestSpeculativePlan: plan never creates an applicable run; --destroy
// plans a destruction; --detailed-exitcode exits 2 on changes.
func TestSpeculativePlan(t *testing.T) {
	srv := startSandbox(t)
	dir := configDir(t, map[string]string{"main.tf": oneResource})
	res := tharsis(t, clitest.Options{Env: env(srv), Stdin: "yes\n"}, "plan", ws, "--directory-path", dir)
	wantCode(t, res, 0)
	r := onlyRun(t, srv, ws)
	if r.Apply != nil || r.Status != "planned_and_finished" || !r.Plan.HasChanges || r.IsDestroy {
		t.Fatalf("speculative run: %+v", r)
	}
	wantContains(t, "stderr", res.Stderr, "Plan: 1 to add, 0 to change, 0 to destroy.")
	wantNotContains(t, "stderr", res.Stderr, "Enter a value")

	wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "plan", ws, "--directory-path", dir, "--detailed-exitcode"), 2)

	// Apply, then a speculative destroy plan shows the destruction.
	wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", dir, "--auto-approve"), 0)
	res = tharsis(t, clitest.Options{Env: env(srv)}, "plan", ws, "--directory-path", dir, "--destroy", "--detailed-exitcode")
	wantCode(t, res, 2)
	r = lastRun(t, srv, ws)
	if !r.IsDestroy || r.Apply != nil || r.Plan.Summary.Destroy != 1 {
		t.Fatalf("speculative destroy run: %+v", r)
	}
	wantContains(t, "stderr", res.Stderr, "Plan: 0 to add, 0 to change, 1 to destroy.")
	// Nothing was destroyed.
	if w, _ := srv.Workspace(ws); w.Destroyed {
		t.Fatal("a speculative destroy plan destroyed the workspace")
	}
}

// TestDestroy: destroy plans the destruction of what the state holds, from
// an empty directory, an absent one, or no directory at all (the workspace's
// own configuration).
func TestDestroy(t *testing.T) {
	for _, tc := range []struct {
		name string
		args func(root string) []string
		cwd  string
	}{
		{"empty directory", func(root string) []string { return []string{"--directory-path", filepath.Join(root, "empty")} }, ""},
		{"absent directory", func(root string) []string { return []string{"--directory-path", filepath.Join(root, "absent")} }, ""},
		{"the configuration directory", func(root string) []string { return []string{"--directory-path", filepath.Join(root, "cfg")} }, ""},
		{"current directory without Terraform files", func(string) []string { return nil }, "empty"},
		{"configuration version", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t)
			root := t.TempDir()
			writeFiles(t, root, map[string]string{"cfg/main.tf": oneResource, "empty/README": "nothing"})
			wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", filepath.Join(root, "cfg"), "--auto-approve"), 0)
			var args []string
			if tc.args != nil {
				args = tc.args(root)
			} else {
				cv := srv.ConfigurationVersions(ws)[0]
				args = []string{"--configuration-version", sandbox.GID("configuration_version", cv.ID)}
			}
			if tc.cwd != "" {
				t.Chdir(filepath.Join(root, tc.cwd))
			}
			res := tharsis(t, clitest.Options{Env: env(srv), Stdin: "yes\n"}, append([]string{"destroy", ws}, args...)...)
			wantCode(t, res, 0)
			r := lastRun(t, srv, ws)
			if !r.IsDestroy || r.Status != "applied" || r.Plan.Summary.Destroy != 1 {
				t.Fatalf("destroy run: destroy %v status %s summary %+v", r.IsDestroy, r.Status, r.Plan.Summary)
			}
			wantContains(t, "stderr", res.Stderr, "Do you want to destroy", "0 to add, 0 to change, 1 to destroy")
			if len(srv.Runs(ws)) != 2 {
				t.Fatalf("%d runs, want 2", len(srv.Runs(ws)))
			}
		})
	}
}

// TestDestroyWithoutState: the workspace's configuration cannot be used
// when it has no state; the error says so and nothing is created.
func TestDestroyWithoutState(t *testing.T) {
	srv := startSandbox(t)
	t.Chdir(t.TempDir())
	res := tharsis(t, clitest.Options{Env: env(srv)}, "destroy", ws, "--auto-approve")
	wantCode(t, res, 1)
	wantContains(t, "stderr", res.Stderr, "no state")
	if n := len(srv.Runs(ws)); n != 0 {
		t.Fatalf("%d runs", n)
	}
}

// TestPlanFailure and TestApplyFailure: a failed job exits 1 with the
// server's message, its log streamed.
func TestPlanFailure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		knob  func(*sandbox.Knobs)
		files map[string]string
		want  []string
	}{
		{"invalid configuration", nil, map[string]string{"main.tf": `resource "terraform_data" "a" {` + "\n"}, []string{"the plan of run"}},
		{"undeclared reference", nil, map[string]string{"main.tf": `resource "terraform_data" "a" { input = var.nope }` + "\n"}, []string{"the plan of run", "nope"}},
		{"the job fails", func(k *sandbox.Knobs) { k.FailPlan = true }, map[string]string{"main.tf": oneResource}, []string{"simulated plan failure"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var knobs []func(*sandbox.Knobs)
			if tc.knob != nil {
				knobs = append(knobs, tc.knob)
			}
			srv := startSandbox(t, knobs...)
			for _, verb := range []string{"plan", "apply"} {
				res := tharsis(t, clitest.Options{Env: env(srv), Stdin: "yes\n"}, verb, ws, "--directory-path", configDir(t, tc.files), "--detailed-exitcode")
				wantCode(t, res, 1)
				r := lastRun(t, srv, ws)
				if r.Status != "errored" || r.Plan.Status != "errored" {
					t.Fatalf("run %s plan %s", r.Status, r.Plan.Status)
				}
				wantContains(t, "stderr", res.Stderr, tc.want...)
				wantContains(t, "stderr", res.Stderr, runGID(r))
				wantNotContains(t, "stderr", res.Stderr, "Enter a value")
				plan, _ := jobLogs(t, srv, r)
				if res.Stdout != string(plan) || !strings.Contains(res.Stdout, "Error") {
					t.Errorf("stdout is not the failed plan's log")
				}
			}
		})
	}
}

func TestApplyFailure(t *testing.T) {
	srv := startSandbox(t, func(k *sandbox.Knobs) { k.FailApply = true })
	res := tharsis(t, clitest.Options{Env: env(srv), Stdin: "yes\n"}, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}))
	wantCode(t, res, 1)
	r := onlyRun(t, srv, ws)
	if r.Status != "errored" || r.Apply.Status != "errored" {
		t.Fatalf("run %s apply %s", r.Status, r.Apply.Status)
	}
	wantContains(t, "stderr", res.Stderr, "the apply of run "+runGID(r)+" failed", "simulated apply failure")
	plan, apply := jobLogs(t, srv, r)
	if res.Stdout != string(plan)+string(apply) {
		t.Errorf("stdout is not the plan and apply logs")
	}
}

// TestAutoApply: --auto-apply lets the server start the apply; the command
// follows it to the end without asking.
func TestAutoApply(t *testing.T) {
	srv := startSandbox(t)
	res := tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}), "--auto-apply")
	wantCode(t, res, 0)
	r := onlyRun(t, srv, ws)
	if !r.AutoApply || r.Status != "applied" {
		t.Fatalf("run auto-apply %v status %s", r.AutoApply, r.Status)
	}
	wantNotContains(t, "stderr", res.Stderr, "Enter a value")
	plan, apply := jobLogs(t, srv, r)
	if res.Stdout != string(plan)+string(apply) {
		t.Errorf("stdout is not the plan and apply logs")
	}
}

// TestRunOptionsReachTheServer: --target, --refresh=false, --refresh-only,
// --terraform-version and --comment are sent with the run.
func TestRunOptionsReachTheServer(t *testing.T) {
	srv := startSandbox(t)
	dir := configDir(t, map[string]string{"main.tf": oneResource + `resource "terraform_data" "b" {}` + "\n"})
	res := tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", dir, "--auto-approve",
		"--target", "terraform_data.a", "--refresh=false", "--terraform-version", "1.10.5", "--comment", "from the test")
	wantCode(t, res, 0)
	r := onlyRun(t, srv, ws)
	if strings.Join(r.TargetAddresses, ",") != "terraform_data.a" || r.Refresh || r.TerraformVersion != "1.10.5" || r.Comment != "from the test" {
		t.Fatalf("run options: targets %v refresh %v version %s comment %q", r.TargetAddresses, r.Refresh, r.TerraformVersion, r.Comment)
	}
	if r.Plan.Summary.Add != 1 {
		t.Fatalf("a targeted plan adds %d resources, want 1", r.Plan.Summary.Add)
	}
	wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "plan", ws, "--directory-path", dir, "--refresh-only"), 0)
	if r := lastRun(t, srv, ws); !r.RefreshOnly {
		t.Fatal("--refresh-only was not sent")
	}
}

// TestStatusesAsTheyHappen: with jobs that take a moment, each status is
// printed as the run reaches it, in order, around the logs.
func TestStatusesAsTheyHappen(t *testing.T) {
	srv := startSandbox(t, func(k *sandbox.Knobs) { k.JobDuration = time.Second })
	res := tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}), "--auto-approve")
	wantCode(t, res, 0)
	var seq []string
	for _, line := range strings.Split(res.Stderr, "\n") {
		if strings.HasPrefix(line, "Status: ") || strings.HasPrefix(line, "── ") || strings.HasPrefix(line, "Plan: ") {
			seq = append(seq, line)
		}
	}
	got := strings.Join(seq, " | ")
	want := "Status: planning | ── plan log ── | Status: planned: waiting for approval | Plan: 1 to add, 0 to change, 0 to destroy. | " +
		"Status: applying | ── apply log ── | Status: applied"
	// Queued states may or may not be seen before the sandbox's runner
	// takes the job; the rest is certain with jobs this slow.
	got = regexp.MustCompile(`Status: (queued|plan queued|apply queued)[^|]*\| `).ReplaceAllString(got, "")
	if got != want {
		t.Fatalf("status lines:\n got %s\nwant %s", got, want)
	}
}

// TestDryRun lists what would be uploaded and creates nothing.
func TestDryRun(t *testing.T) {
	srv := startSandbox(t)
	dir := configDir(t, map[string]string{
		"main.tf": oneResource, "modules/x/main.tf": "# x\n", ".terraform/providers/p": "cache",
		".terraformignore": "secret.txt\n", "secret.txt": "no", "terraform.tfvars": `region = "a"`,
	})
	res := tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", dir, "--dry-run", "--tf-var", "b=1", "--env-var", "E=1")
	wantCode(t, res, 0)
	wantContains(t, "stdout", res.Stdout, "main.tf", "modules/x/main.tf")
	wantNotContains(t, "stdout", res.Stdout, "secret.txt", ".terraform/providers")
	wantContains(t, "stderr", res.Stderr, "nothing was created", "3 variables")
	nothingCreated(t, srv)

	res = tharsis(t, clitest.Options{Env: env(srv)}, "plan", ws, "--directory-path", dir, "--dry-run", "-o", "json")
	wantCode(t, res, 0)
	doc := decodeResult(t, res.Stdout)
	if doc["workspace"] != ws || doc["directory"] == nil {
		t.Errorf("dry-run JSON %v", doc)
	}
	nothingCreated(t, srv)
}
