package run_test

import (
	"regexp"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
)

// TestQueueReasons: a job no runner agent takes is explained (with the
// service-account hint) and --timeout then gives up with exit 124, the run
// left as it is; a second run queued behind it names it, and goes on once
// it is canceled; a run waiting for a locked workspace says so and goes on
// once it is unlocked.
func TestQueueReasons(t *testing.T) {
	srv := startSandbox(t)
	dir := configDir(t, map[string]string{"main.tf": oneResource})

	// 1. No runner agent can take the job.
	setRunnerTags(t, srv, []string{"gpu"})
	res := tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", dir, "--auto-approve", "--timeout", "5s")
	wantCode(t, res, 124)
	first := onlyRun(t, srv, ws)
	if first.Status != "plan_queued" {
		t.Fatalf("the timed-out run is %s, want it left plan_queued", first.Status)
	}
	wantContains(t, "stderr", res.Stderr,
		"Run "+runGID(first)+" created",
		"Waiting: no runner agent can take job", "(tags gpu)",
		"Hint: a runner agent must match the workspace's runner tags, be enabled and have a service account assigned",
		"gave up after 5s; run "+runGID(first)+" is left as it is (plan_queued)",
		"tharsis run cancel "+runGID(first))

	// 2. Another run holds the workspace.
	setRunnerTags(t, srv, nil)
	bg := startTharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", dir, "--auto-approve")
	bg.stderr.waitFor(t, regexp.MustCompile(`Waiting: waiting for run `+regexp.QuoteMeta(runGID(first))+` \(plan_queued\), which holds workspace sandbox/demo`))
	bg.stderr.waitFor(t, regexp.MustCompile(`Hint: follow it with .tharsis run watch `+regexp.QuoteMeta(runGID(first))))
	cancelRun(t, srv, runGID(first))
	res = bg.wait(t)
	wantCode(t, res, 0)
	second := lastRun(t, srv, ws)
	if second.Status != "applied" {
		t.Fatalf("the second run is %s", second.Status)
	}

	// 3. The workspace is locked.
	lockWorkspace(t, srv, true)
	bg = startTharsis(t, clitest.Options{Env: env(srv)}, "destroy", ws, "--directory-path", dir, "--auto-approve")
	bg.stderr.waitFor(t, regexp.MustCompile(`Waiting: workspace sandbox/demo is locked`))
	bg.stderr.waitFor(t, regexp.MustCompile(`Hint: unlock it with .tharsis workspace unlock sandbox/demo`))
	lockWorkspace(t, srv, false)
	res = bg.wait(t)
	wantCode(t, res, 0)
	if r := lastRun(t, srv, ws); r.Status != "applied" || !r.IsDestroy {
		t.Fatalf("the destroy run is %s", r.Status)
	}
	if n := len(srv.Runs(ws)); n != 3 {
		t.Fatalf("%d runs, want 3", n)
	}
}

// TestTimeoutWhileWaiting: with -o json, a --timeout while the run waits
// still prints the JSON document, with the run left as it is.
func TestTimeoutWhileWaiting(t *testing.T) {
	srv := startSandbox(t)
	setRunnerTags(t, srv, []string{"gpu"})
	res := tharsis(t, clitest.Options{Env: env(srv), Stdin: "yes\n"}, "plan", ws,
		"--directory-path", configDir(t, map[string]string{"main.tf": oneResource}), "--timeout", "2s", "-o", "json")
	wantCode(t, res, 124)
	r := onlyRun(t, srv, ws)
	doc := decodeResult(t, res.Stdout)
	if doc["run_id"] != runGID(r) || doc["outcome"] != "timeout" || doc["exit_code"] != float64(124) || doc["status"] != "plan_queued" {
		t.Fatalf("JSON result %v", doc)
	}
}
