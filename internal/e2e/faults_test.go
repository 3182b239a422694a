package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/e2e"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
)

// baseRequests bounds the requests of a fault-free apply of a small
// configuration whose jobs take about a second (workspace, configuration
// version, upload, run, a subscription per job and for the run, a few
// reads): about 22 are made. The bound leaves room for a loaded machine,
// not for a retry loop; each case adds what its faults may cost.
const baseRequests = 40

// TestFaults: `tharsis apply --auto-approve` through each fault, against
// the sandbox behind the fault proxy. Each case must end with its exit
// code; when it succeeds, stdout is the job logs byte for byte; exactly
// one configuration version and one run exist (or none where the command
// failed before creating them); and the requests the sandbox served stay
// under a bound derived from the faults injected.
func TestFaults(t *testing.T) {
	type tc struct {
		name string
		opts []sandboxtest.Option
		env  []string // extra environment
		// setup injects the faults; the function it returns, if any,
		// checks afterwards that they really happened.
		setup func(t *testing.T, w *world) (check func(t *testing.T))
		// during runs alongside the command (e.g. restarting the API).
		during func(t *testing.T, w *world)
		args   []string // more arguments
		code   int
		stderr []string
		cvs    int // configuration versions expected (runs: 1 when code is 0)
		runs   int
		// extra requests allowed beyond baseRequests.
		extra int
	}
	slowJobs := sandboxtest.WithKnobs(func(k *sandbox.Knobs) {
		k.JobDuration = 800 * time.Millisecond
		k.LogVolumeBytes = 256 << 10
	})
	for _, c := range []tc{
		{
			// Each connection carries some log before it is cut, so the
			// stream resumes at the exact byte ten times.
			name: "websockets cut mid-frame ten times",
			opts: []sandboxtest.Option{sandboxtest.WithKnobs(func(k *sandbox.Knobs) {
				k.JobDuration = 2 * time.Second
				k.LogVolumeBytes = 512 << 10
			})},
			setup: func(t *testing.T, w *world) func(*testing.T) {
				w.proxy.DropWebsockets(64<<10, 10)
				return func(t *testing.T) {
					if n := w.proxy.Count("dropped"); n != 10 {
						t.Errorf("%d websockets were cut, want 10", n)
					}
				}
			},
			code: 0, cvs: 1, runs: 1, extra: 10 * 3,
		},
		{
			// Every connection is cut inside its first log frame: the
			// streams give up on websockets and page the logs instead.
			name: "websockets cut mid-frame every 8 KiB",
			opts: []sandboxtest.Option{slowJobs},
			setup: func(t *testing.T, w *world) func(*testing.T) {
				w.proxy.DropWebsockets(8<<10, 1000)
				return func(t *testing.T) {
					if n := w.proxy.Count("dropped"); n < 5 {
						t.Errorf("%d websockets were cut, want at least 5", n)
					}
				}
			},
			code: 0, cvs: 1, runs: 1, extra: 30,
		},
		{
			name: "every websocket dropped by the server",
			opts: []sandboxtest.Option{slowJobs, sandboxtest.WithKnobs(func(k *sandbox.Knobs) { k.DropWebsocketAfterBytes = 1 })},
			setup: func(t *testing.T, w *world) func(*testing.T) {
				return func(t *testing.T) {
					if n := w.srv.RequestCount("websocket"); n < 2 {
						t.Errorf("%d websocket connections: nothing was dropped", n)
					}
				}
			},
			code: 0, cvs: 1, runs: 1, extra: 40, // polling takes over
		},
		{
			// A proxy that does not pass websocket upgrades at all.
			name: "websockets refused by a proxy",
			opts: []sandboxtest.Option{slowJobs},
			setup: func(t *testing.T, w *world) func(*testing.T) {
				w.proxy.Respond(func(r e2e.Request) bool { return r.Upgrade }, -1,
					e2e.Response{Status: 403, ContentType: "text/html", Body: "<html><body>WebSockets are not allowed</body></html>"})
				return wantFaulted(w, 2)
			},
			code: 0, cvs: 1, runs: 1, extra: 40, // polling takes over
		},
		{
			name: "429 bursts on every step, mutations included",
			opts: []sandboxtest.Option{slowJobs},
			setup: func(t *testing.T, w *world) func(*testing.T) {
				for _, m := range []e2e.Match{
					e2e.Op("GetWorkspace"), e2e.Op("CreateConfigurationVersion"), e2e.Upload(),
					e2e.Op("GetConfigurationVersion"), e2e.Op("CreateRun"), e2e.Op("GetRun"), e2e.Op("GetJobLogs"),
				} {
					w.proxy.Fail(m, 429, 429, 429)
				}
				return wantFaulted(w, 5*3) // the steps before the run always happen; reads may be fewer
			},
			code: 0, cvs: 1, runs: 1, extra: 10,
		},
		{
			name: "502 and 503 bursts on reads, uploads and websocket handshakes",
			opts: []sandboxtest.Option{slowJobs},
			setup: func(t *testing.T, w *world) func(*testing.T) {
				for _, m := range []e2e.Match{e2e.Op("GetWorkspace"), e2e.Upload(), e2e.Op("GetConfigurationVersion"), e2e.Op("GetRun"), e2e.Op("GetJobLogs")} {
					w.proxy.Fail(m, 502, 503, 502)
				}
				w.proxy.Fail(func(r e2e.Request) bool { return r.Upgrade }, 503, 502, 503, 503)
				return wantFaulted(w, 3*3) // workspace, upload and configuration version; reads may be fewer
			},
			code: 0, cvs: 1, runs: 1, extra: 10,
		},
		{
			name: "latency on every request and a stalled response",
			opts: []sandboxtest.Option{slowJobs},
			setup: func(t *testing.T, w *world) func(*testing.T) {
				w.proxy.Latency(40 * time.Millisecond)
				// Held past the client's request timeout, then retried.
				return wantStalled(w.proxy.StallAfter(e2e.Op("GetRun"), 1))
			},
			code: 0, cvs: 1, runs: 1, extra: 5,
		},
		{
			name: "the API restarts mid-run",
			opts: []sandboxtest.Option{sandboxtest.WithKnobs(func(k *sandbox.Knobs) {
				k.JobDuration = 2 * time.Second
				k.LogVolumeBytes = 256 << 10
			})},
			during: func(t *testing.T, w *world) {
				ctx := within(t, 30*time.Second)
				// Once the plan log flows, the API goes away for 1.5 s.
				if err := w.proxy.WaitFor(ctx, func() bool { return w.proxy.Count("websocket") >= 2 }); err != nil {
					t.Error(err)
					return
				}
				w.proxy.Down()
				if runs := w.srv.Runs(ws); len(runs) != 1 || terminal(runs[0].Status) {
					t.Errorf("the API went down with runs %+v, want one under way", runs)
				}
				if err := w.proxy.Restart(ctx, 1500*time.Millisecond); err != nil {
					t.Error(err)
				}
			},
			code: 0, cvs: 1, runs: 1, extra: 30,
		},
		{
			name: "the service-account token expires mid-run",
			opts: []sandboxtest.Option{
				sandboxtest.WithOptions(func(o *sandbox.Options) { o.ServiceAccountTokenTTL = 2 * time.Second }),
				sandboxtest.WithKnobs(func(k *sandbox.Knobs) {
					k.JobDuration = 2 * time.Second
					k.LogVolumeBytes = 128 << 10
				}),
			},
			setup: func(t *testing.T, w *world) func(*testing.T) {
				w.proxy.DropWebsockets(24<<10, 6) // reconnect with renewed tokens
				return func(t *testing.T) {
					if n := w.srv.RequestCount("client_credentials"); n < 2 {
						t.Errorf("%d token requests: the token was not renewed mid-run", n)
					}
				}
			},
			env:  []string{"client-credentials", ""},
			code: 0, cvs: 1, runs: 1, extra: 30,
		},
		{
			// Past the retry budget of each request, following goes on:
			// the run lives on the server, so the command waits for the
			// API until --timeout, then says where the run was left.
			name: "the API goes away mid-run for good",
			opts: []sandboxtest.Option{sandboxtest.WithKnobs(func(k *sandbox.Knobs) { k.JobDuration = 2 * time.Second })},
			during: func(t *testing.T, w *world) {
				ctx := within(t, 30*time.Second)
				if err := w.proxy.WaitFor(ctx, func() bool { return w.proxy.Count("websocket") >= 2 }); err != nil {
					t.Error(err)
					return
				}
				w.proxy.Down()
			},
			args: []string{"--timeout", "3s"},
			code: 124, cvs: 1, runs: 1, stderr: []string{"gave up after 3s", "is left as it is", "tharsis run watch"},
		},
		{
			// The proxy answers 502 without passing the mutation on; the
			// client cannot know that, so it does not send it again.
			name: "a gateway error on createRun",
			setup: func(t *testing.T, w *world) func(*testing.T) {
				w.proxy.Fail(e2e.Op("CreateRun"), 502)
				return wantFaulted(w, 1)
			},
			code: 1, cvs: 1, runs: 0, stderr: []string{"may or may not have applied", "list the runs"},
		},
		{
			// The server created the run; its answer never arrives. The
			// command finds the run by its configuration version (made by
			// this command, so the run is its own) and carries on.
			name: "the answer to createRun is lost",
			setup: func(t *testing.T, w *world) func(*testing.T) {
				return wantStalled(w.proxy.StallAfter(e2e.Op("CreateRun"), 1))
			},
			code: 0, cvs: 1, runs: 1, stderr: []string{"was lost", "was created from this configuration version"},
		},
		{
			name: "the apply mutation fails",
			setup: func(t *testing.T, w *world) func(*testing.T) {
				w.proxy.Fail(e2e.Op("ApplyRun"), 503)
				return wantFaulted(w, 1)
			},
			code: 6, cvs: 1, runs: 1, stderr: []string{"may still wait for approval", "tharsis run approve", "tharsis run discard"},
		},
		{
			name: "retries run out before anything is created",
			setup: func(t *testing.T, w *world) func(*testing.T) {
				w.proxy.Fail(e2e.Op("GetWorkspace"), 503, 503, 503, 503, 503)
				return wantFaulted(w, 5)
			},
			code: 6, stderr: []string{"gave up after 5 attempts", "transient", "safe to retry"},
		},
		{
			name: "retries run out on the upload",
			setup: func(t *testing.T, w *world) func(*testing.T) {
				w.proxy.Fail(e2e.Upload(), 502, 503, 502, 503, 502)
				return wantFaulted(w, 5)
			},
			code: 6, cvs: 1, stderr: []string{"gave up after 5 attempts", "transient"},
		},
		{
			name: "the API is down",
			setup: func(t *testing.T, w *world) func(*testing.T) {
				w.proxy.Down()
				return nil
			},
			code: 6, stderr: []string{"refused", "transient"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, c.opts...)
			env := w.env()
			if len(c.env) > 0 && c.env[0] == "client-credentials" {
				sa, secret := serviceAccount(t, w.srv)
				env = w.env("THARSIS_STATIC_TOKEN", "", "THARSIS_CLIENT_ID", sa, "THARSIS_CLIENT_SECRET", secret)
			}
			var check func(*testing.T)
			if c.setup != nil {
				check = c.setup(t, w)
			}
			before := w.requests(t)
			var bg *background
			done := make(chan struct{})
			if c.during != nil {
				go func() {
					defer close(done)
					c.during(t, w)
				}()
			} else {
				close(done)
			}
			bg = startCLI(t, clitest.Options{Env: env, Setup: fastClient(time.Second)},
				append([]string{"apply", ws, "--directory-path", w.dir, "--auto-approve"}, c.args...)...)
			res := bg.wait(t)
			<-done
			if res.Code != c.code {
				t.Fatalf("exit code %d, want %d", res.Code, c.code)
			}
			for _, s := range c.stderr {
				if !strings.Contains(res.Stderr, s) {
					t.Errorf("stderr does not say %q", s)
				}
			}
			wantNoPanic(t, res.Stdout, res.Stderr)
			if c.code != 0 {
				wantOneError(t, res.Stderr)
			}
			runs := apiRuns(t, w.srv, ws)
			if len(runs) != c.runs {
				t.Fatalf("%d runs exist, want %d", len(runs), c.runs)
			}
			if n := len(w.srv.ConfigurationVersions(ws)); n != c.cvs {
				t.Errorf("%d configuration versions exist, want %d", n, c.cvs)
			}
			if c.code == 0 {
				if runs[0].Status != "applied" {
					t.Errorf("run status %s, want applied", runs[0].Status)
				}
				wantLogs(t, w.srv, runs[0], res.Stdout)
			}
			if check != nil {
				check(t)
			}
			served := w.requests(t) - before
			limit := baseRequests + c.extra
			t.Logf("the sandbox served %d requests (bound %d); the proxy saw %d (%d answered by a fault, %d websockets cut); %v",
				served, limit, w.proxy.Count("total"), w.proxy.Count("faulted"), w.proxy.Count("dropped"), requestCounts(t, w.srv))
			if served > limit {
				t.Errorf("the sandbox served %d requests, more than %d: a retry loop? %v", served, limit, requestCounts(t, w.srv))
			}
		})
	}
}

// serviceAccount creates a deployer service account in the seed group and
// returns its path and client secret.
func serviceAccount(t *testing.T, srv *sandbox.Server) (string, string) {
	t.Helper()
	sa, err := srv.CreateServiceAccount(sandbox.SeedGroup, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddMembership(sandbox.SeedGroup, "service_account", sa, "deployer"); err != nil {
		t.Fatal(err)
	}
	secret, err := srv.ResetServiceAccountClientSecret(sa)
	if err != nil {
		t.Fatal(err)
	}
	return sa, secret
}

// wantFaulted checks that the proxy answered at least n requests with a
// fault.
func wantFaulted(w *world, n int) func(*testing.T) {
	return func(t *testing.T) {
		if got := w.proxy.Count("faulted"); got < n {
			t.Errorf("the proxy answered %d requests with a fault, want at least %d", got, n)
		}
	}
}

// wantStalled checks that the stall held a request.
func wantStalled(s *e2e.Stall) func(*testing.T) {
	return func(t *testing.T) {
		select {
		case <-s.Stalled():
		default:
			t.Error("no request was stalled")
		}
	}
}

// TestFaultsThroughTheBinary: the built binary, with the production retry
// policy and backoff, through 429 and 5xx bursts and websockets cut
// mid-frame: the apply completes, stdout is the job logs byte for byte,
// one configuration version and one run exist.
func TestFaultsThroughTheBinary(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sandboxtest.WithKnobs(func(k *sandbox.Knobs) {
		k.JobDuration = time.Second
		k.LogVolumeBytes = 128 << 10
	}))
	w.proxy.Fail(e2e.Op("CreateRun"), 429)
	w.proxy.Fail(e2e.Upload(), 503)
	w.proxy.Fail(e2e.Op("GetRun"), 502, 503)
	w.proxy.DropWebsockets(24<<10, 3)
	e := newBinEnv(t, map[string]string{"THARSIS_ENDPOINT": w.proxy.URL(), "THARSIS_STATIC_TOKEN": w.srv.AdminToken()})
	r := e.run(map[string]string{"NO_COLOR": ""}, "", "apply", ws, "--directory-path", w.dir, "--auto-approve")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	runs := apiRuns(t, w.srv, ws)
	if len(runs) != 1 || runs[0].Status != "applied" {
		t.Fatalf("runs %+v, want one applied", runs)
	}
	if n := len(w.srv.ConfigurationVersions(ws)); n != 1 {
		t.Errorf("%d configuration versions exist, want 1", n)
	}
	wantLogs(t, w.srv, runs[0], r.stdout)
	if n := w.proxy.Count("faulted"); n < 3 {
		t.Errorf("only %d faults were injected", n)
	}
	if n := w.requests(t); n > baseRequests+20 {
		t.Errorf("the sandbox served %d requests: %v", n, requestCounts(t, w.srv))
	}
}
