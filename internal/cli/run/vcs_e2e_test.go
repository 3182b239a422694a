package run_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// vcsResult is the part of `run vcs -o json` these tests read.
type vcsResult struct {
	Command     string `json:"command"`
	RunID       string `json:"run_id"`
	Status      string `json:"status"`
	Outcome     string `json:"outcome"`
	Destroy     bool   `json:"destroy"`
	HasChanges  bool   `json:"has_changes"`
	ExitCode    int    `json:"exit_code"`
	Workspace   string `json:"workspace"`
	Speculative bool   `json:"speculative"`
}

// linkedRepo links the seeded workspace to a "repository" directory whose
// Terraform files live in infra/.
func linkedRepo(t *testing.T, srv *sandbox.Server, branch string) string {
	t.Helper()
	repo := configDir(t, map[string]string{"infra/main.tf": oneResource, "README.md": "docs"})
	if err := srv.LinkWorkspaceToDirectory(ws, repo, branch, "infra"); err != nil {
		t.Fatal(err)
	}
	return repo
}

func TestVCSRunFollowed(t *testing.T) {
	srv := startSandbox(t)
	repo := linkedRepo(t, srv, "main")
	e := env(srv)

	// First run: changes, auto-approved, followed to applied.
	res := tharsis(t, clitest.Options{Env: e}, "run", "vcs", ws, "--auto-approve", "-o", "json")
	wantCode(t, res, 0)
	var out vcsResult
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, res.Stdout)
	}
	if out.Command != "vcs" || out.Status != "applied" || out.Outcome != "applied" || !out.HasChanges || out.Workspace != ws || out.Speculative {
		t.Fatalf("result %+v", out)
	}
	wantContains(t, "stderr", res.Stderr, "Starting a run of "+repo+" (branch main, directory infra) on workspace "+ws+".",
		"Run "+out.RunID+" created on workspace "+ws, "Run "+out.RunID+" applied.")
	ev, ok := srv.RunVCSEvent(out.RunID)
	if !ok || ev.Type != "manual" || ev.Status != "finished" || ev.SourceReferenceName == nil || *ev.SourceReferenceName != "main" {
		t.Fatalf("the run does not come from a manual event on main: %+v", ev)
	}
	r := lastRun(t, srv, ws)
	if runGID(r) != out.RunID {
		t.Fatalf("the command followed %s, the newest run is %s", out.RunID, runGID(r))
	}
	plan, apply := jobLogs(t, srv, r)
	if len(plan) == 0 || len(apply) == 0 {
		t.Fatal("no plan or apply log")
	}
	// The plan log was streamed to stderr (stdout holds the JSON).
	wantContains(t, "stderr", res.Stderr, "terraform_data.a")

	// Second run of the same configuration: no changes, planned_and_finished.
	res = tharsis(t, clitest.Options{Env: e}, "run", "vcs", ws, "--reference", "release-1", "-o", "json")
	wantCode(t, res, 0)
	out = vcsResult{}
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Status != "planned_and_finished" || out.Outcome != "no_changes" || out.HasChanges {
		t.Fatalf("second run %+v", out)
	}
	wantContains(t, "stderr", res.Stderr, "(reference release-1, directory infra)", "No changes: nothing to apply.")
	if ev, _ := srv.RunVCSEvent(out.RunID); ev.SourceReferenceName == nil || *ev.SourceReferenceName != "release-1" {
		t.Fatalf("reference not recorded: %+v", ev)
	}

	// A destroy run from a commit, approved on standard input.
	sha := strings.Repeat("0a", 20)
	res = tharsis(t, clitest.Options{Env: e, Stdin: "yes\n"}, "run", "vcs", ws, "--reference", sha, "--destroy")
	wantCode(t, res, 0)
	wantContains(t, "stderr", res.Stderr, "Starting a destroy run of "+repo+" (commit "+sha)
	r = lastRun(t, srv, ws)
	if !r.IsDestroy || r.Status != "applied" {
		t.Fatalf("destroy run %s destroy=%v", r.Status, r.IsDestroy)
	}
	if ev, _ := srv.RunVCSEvent(runGID(r)); ev.CommitID == nil || *ev.CommitID != sha {
		t.Fatalf("commit not recorded: %+v", ev)
	}
}

func TestVCSRunApproval(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		code   int
		status string
	}{
		{"declined", "no\n", nil, cmdutil.ExitCanceled, "discarded"},
		{"left for approval", "", []string{"--input=false"}, 0, "planned"},
		{"detailed exit code", "", []string{"--input=false", "--detailed-exitcode"}, cmdutil.ExitChanges, "planned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t)
			linkedRepo(t, srv, "")
			res := tharsis(t, clitest.Options{Env: env(srv), Stdin: tc.stdin}, append([]string{"run", "vcs", ws}, tc.args...)...)
			wantCode(t, res, tc.code)
			if r := onlyRun(t, srv, ws); r.Status != tc.status {
				t.Fatalf("run status %s, want %s", r.Status, tc.status)
			}
		})
	}
}

func TestVCSRunFailures(t *testing.T) {
	t.Run("not linked", func(t *testing.T) {
		srv := startSandbox(t)
		res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "vcs", ws)
		wantCode(t, res, cmdutil.ExitFailure)
		wantContains(t, "stderr", res.Stderr, "workspace sandbox/demo is not linked to a repository", "Hint:")
		if n := srv.RequestCount("CreateVCSRun"); n != 0 {
			t.Errorf("%d createVCSRun requests for an unlinked workspace", n)
		}
	})
	t.Run("no such workspace", func(t *testing.T) {
		srv := startSandbox(t)
		res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "vcs", "sandbox/nope")
		wantCode(t, res, cmdutil.ExitNotFound)
	})
	t.Run("repository cannot be read", func(t *testing.T) {
		srv := startSandbox(t)
		repo := configDir(t, map[string]string{"main.tf": oneResource})
		if err := srv.LinkWorkspaceToDirectory(ws, repo, "main", "missing"); err != nil {
			t.Fatal(err)
		}
		res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "vcs", ws, "-o", "json")
		wantCode(t, res, cmdutil.ExitFailure)
		wantContains(t, "stderr", res.Stderr, "could not start the run from file://"+repo, "failed to download repository")
		if n := len(srv.Runs(ws)); n != 0 {
			t.Errorf("%d runs created", n)
		}
		// -o json still prints one document.
		var out vcsResult
		if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil || out.ExitCode != 1 || out.RunID != "" {
			t.Errorf("JSON %+v %v\n%s", out, err, res.Stdout)
		}
	})
	t.Run("usage", func(t *testing.T) {
		srv := startSandbox(t)
		wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "run", "vcs"), cmdutil.ExitUsage)
		wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "run", "vcs", ws, "--timeout", "-1s"), cmdutil.ExitUsage)
	})
}
