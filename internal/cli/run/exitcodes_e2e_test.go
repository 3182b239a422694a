package run_test

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// fastRetries replaces the API client by one that retries quickly, so
// that tests of transient failures do not wait the real backoff.
func fastRetries(srv *sandbox.Server, token string) func(*cmdutil.Factory) {
	return func(f *cmdutil.Factory) {
		f.APIClient = func() (*api.Client, error) {
			return api.New(api.Config{
				Endpoint:    srv.URL(),
				TokenSource: api.StaticTokenSource(token),
				Retry:       api.RetryPolicy{Max: 2, WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond},
			})
		}
	}
}

// TestExitCodes: every exit code of plan/apply/destroy, each from a real
// situation against the sandbox. (0, 2 and 3 have more cases in the other
// tests; 124 in TestQueueReasons.)
func TestExitCodes(t *testing.T) {
	cfg := map[string]string{"main.tf": oneResource}
	for _, tc := range []struct {
		name    string
		knob    func(*sandbox.Knobs)
		setup   func(t *testing.T, srv *sandbox.Server) clitest.Options
		args    []string
		code    int
		stderr  []string
		created bool // whether a run exists afterwards
	}{
		{name: "0 applied", args: []string{"apply", "--auto-approve"}, code: 0, created: true},
		{name: "1 plan errored", knob: func(k *sandbox.Knobs) { k.FailPlan = true }, args: []string{"plan"}, code: 1, created: true},
		{name: "2 detailed exit code with changes", args: []string{"plan", "--detailed-exitcode"}, code: 2, created: true},
		{name: "3 declined", args: []string{"apply"}, code: 3, created: true,
			setup: func(t *testing.T, srv *sandbox.Server) clitest.Options {
				return clitest.Options{Env: env(srv), Stdin: "no\n"}
			}},
		{name: "4 bad token", args: []string{"apply", "--auto-approve"}, code: 4,
			setup: func(t *testing.T, srv *sandbox.Server) clitest.Options {
				return clitest.Options{Env: env(srv, "THARSIS_STATIC_TOKEN", "not-a-token")}
			}},
		{name: "4 expired token", args: []string{"apply", "--auto-approve"}, code: 4,
			setup: func(t *testing.T, srv *sandbox.Server) clitest.Options {
				tok, err := srv.IssueToken(sandbox.SeedAdmin, -time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				return clitest.Options{Env: env(srv, "THARSIS_STATIC_TOKEN", tok)}
			}},
		{name: "4 a viewer cannot create runs", args: []string{"apply", "--auto-approve"}, code: 4,
			setup: func(t *testing.T, srv *sandbox.Server) clitest.Options {
				tok, err := srv.CreateUser("viewer1", false)
				if err != nil {
					t.Fatal(err)
				}
				if err := srv.AddMembership(sandbox.SeedGroup, "user", "viewer1", "viewer"); err != nil {
					t.Fatal(err)
				}
				return clitest.Options{Env: env(srv, "THARSIS_STATIC_TOKEN", tok)}
			}},
		{name: "5 no such workspace", args: []string{"apply", "--auto-approve", "<ws>", "sandbox/absent"}, code: 5, stderr: []string{"sandbox/absent"}},
		{name: "5 no such group member", args: []string{"plan"}, code: 5,
			setup: func(t *testing.T, srv *sandbox.Server) clitest.Options {
				tok, err := srv.CreateUser("stranger", false)
				if err != nil {
					t.Fatal(err)
				}
				return clitest.Options{Env: env(srv, "THARSIS_STATIC_TOKEN", tok)}
			}},
		{name: "6 server unavailable", knob: func(k *sandbox.Knobs) { k.HTTPFailures = []int{503, 503, 503} }, args: []string{"apply", "--auto-approve"}, code: 6,
			setup: func(t *testing.T, srv *sandbox.Server) clitest.Options {
				return clitest.Options{Env: env(srv), Setup: fastRetries(srv, srv.AdminToken())}
			}},
		{name: "0 transient failures retried", knob: func(k *sandbox.Knobs) { k.HTTPFailures = []int{503, 502} }, args: []string{"apply", "--auto-approve"}, code: 0, created: true,
			setup: func(t *testing.T, srv *sandbox.Server) clitest.Options {
				return clitest.Options{Env: env(srv), Setup: fastRetries(srv, srv.AdminToken())}
			}},
		{name: "64 unknown flag", args: []string{"apply", "--no-such-flag"}, code: 64},
		{name: "64 bad duration", args: []string{"apply", "--timeout", "soon"}, code: 64},
		{name: "64 two workspaces", args: []string{"apply", "<ws>", "a/b", "c/d"}, code: 64},
		{name: "64 bad variable", args: []string{"apply", "--tf-var", "x"}, code: 64},
		{name: "124 timeout", args: []string{"apply", "--timeout", "1s"}, code: 124, created: true, stderr: []string{"gave up after 1s"},
			setup: func(t *testing.T, srv *sandbox.Server) clitest.Options {
				setRunnerTags(t, srv, []string{"nowhere"})
				return clitest.Options{Env: env(srv)}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var knobs []func(*sandbox.Knobs)
			if tc.knob != nil {
				knobs = append(knobs, tc.knob)
			}
			srv := startSandbox(t, knobs...)
			o := clitest.Options{Env: env(srv)}
			if tc.setup != nil {
				o = tc.setup(t, srv)
			}
			args := []string{tc.args[0], ws, "--directory-path", configDir(t, cfg)}
			rest := tc.args[1:]
			for i := 0; i < len(rest); i++ {
				if rest[i] == "<ws>" { // replaces the workspace argument
					args[1] = rest[i+1]
					args = append(args, rest[i+2:]...)
					break
				}
				args = append(args, rest[i])
			}
			res := tharsis(t, o, args...)
			wantCode(t, res, tc.code)
			wantContains(t, "stderr", res.Stderr, tc.stderr...)
			if n := len(srv.Runs(ws)); (n > 0) != tc.created || n > 1 {
				t.Errorf("%d runs exist, want created=%v", n, tc.created)
			}
		})
	}
}

// TestInterrupts covers the exit codes of Ctrl-C (the behaviour itself is
// tested with the next issue): an interrupt while the plan waits for a
// runner cancels the run (exit 3); three interrupts while a job ignores the
// cancel detach (exit 130), leaving the run to the server.
func TestInterrupts(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		srv := startSandbox(t)
		setRunnerTags(t, srv, []string{"nowhere"})
		sigs := cmdutil.NewInterrupts()
		bg := startTharsis(t, clitest.Options{Env: env(srv), Interrupts: sigs}, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}))
		bg.stderr.waitFor(t, regexp.MustCompile(`Waiting: no runner agent`))
		sigs.Deliver(os.Interrupt)
		res := bg.wait(t)
		wantCode(t, res, 3)
		if r := onlyRun(t, srv, ws); r.Status != "canceled" {
			t.Fatalf("run %s", r.Status)
		}
		wantContains(t, "stderr", res.Stderr, "was canceled")
	})
	t.Run("detach", func(t *testing.T) {
		srv := startSandbox(t, func(k *sandbox.Knobs) {
			k.JobDuration = time.Minute
			k.IgnoreGracefulCancel = true
			k.ForceCancelDelay = time.Hour
		})
		sigs := cmdutil.NewInterrupts()
		bg := startTharsis(t, clitest.Options{Env: env(srv), Interrupts: sigs}, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}))
		bg.stderr.waitFor(t, regexp.MustCompile(`── plan log ──`))
		sigs.Deliver(os.Interrupt)
		bg.stderr.waitFor(t, regexp.MustCompile(`Cancel requested`))
		sigs.Deliver(os.Interrupt)
		bg.stderr.waitFor(t, regexp.MustCompile(`Force cancel is available in`))
		sigs.Deliver(os.Interrupt)
		res := bg.wait(t)
		wantCode(t, res, 130)
		r := onlyRun(t, srv, ws)
		wantContains(t, "stderr", res.Stderr, "Detached from run "+runGID(r), "tharsis run cancel --force "+runGID(r))
		if r.Status != "planning" || r.ForceCancelAvailableAt == nil {
			t.Fatalf("run %s, force cancel available at %v: want it left planning with a graceful cancel requested", r.Status, r.ForceCancelAvailableAt)
		}
	})
}

// TestTimeoutBeforeTheRun: a --timeout that expires before the run exists
// exits 124 and creates nothing.
func TestTimeoutBeforeTheRun(t *testing.T) {
	srv := startSandbox(t, func(k *sandbox.Knobs) { k.Latency = 3 * time.Second })
	res := tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}), "--timeout", "300ms")
	wantCode(t, res, 124)
	wantContains(t, "stderr", res.Stderr, "gave up after 300ms; no run was created")
	wantNotContains(t, "stderr", res.Stderr, "Run ")
	nothingCreated(t, srv)
}
