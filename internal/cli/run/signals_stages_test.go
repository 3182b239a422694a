package run_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/runflow"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// These tests send real SIGINT and SIGTERM to the built binary at each
// stage of a run and check, through the sandbox, that the run is never left
// behind: canceled or discarded, or not created at all.

// sigStep waits for a line on stderr, optionally acts, then sends a signal
// (none when sig is nil).
type sigStep struct {
	await string
	act   func(t *testing.T, srv *sandbox.Server, p *actProc)
	sig   os.Signal
}

func slowJobs(k *sandbox.Knobs) { k.JobDuration = time.Minute }

// TestSignalsDuringRun: the first interrupt cancels the run gracefully and
// the logs go on until it is canceled (exit 3); at the approval prompt it
// discards the run (exit 3); a second forces the cancel once allowed, else
// says when; a third detaches (exit 130) with the command to finish.
func TestSignalsDuringRun(t *testing.T) {
	cfg := map[string]string{"main.tf": oneResource}
	yes := func(t *testing.T, srv *sandbox.Server, p *actProc) {
		// The apply job takes long enough to be interrupted.
		srv.UpdateKnobs(slowJobs)
		if _, err := p.stdin.Write([]byte("yes\n")); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		knob func(*sandbox.Knobs)
		// args of the command; "<dir>" is a configuration directory and
		// "<run>" a run created (and planned) beforehand.
		args  []string
		setup func(t *testing.T, srv *sandbox.Server)
		steps []sigStep

		wantCode   int
		wantStatus string
		wantPlan   string // plan job status ("" to skip)
		wantApply  string // apply job status ("" to skip, "none" for no job)
		wantForced bool
		stderr     []string
		stdout     string // the job log ends with it
	}{
		{
			name: "queued, SIGINT", args: []string{"apply", ws, "--directory-path", "<dir>"},
			setup:    func(t *testing.T, srv *sandbox.Server) { setRunnerTags(t, srv, []string{"nowhere"}) },
			steps:    []sigStep{{await: `Waiting: no runner agent`, sig: syscall.SIGINT}},
			wantCode: 3, wantStatus: "canceled", wantPlan: "canceled", wantApply: "none",
			stderr: []string{"Interrupt received: asking Tharsis to cancel run <run> gracefully.", "Run <run> was canceled."},
		},
		{
			name: "planning, SIGTERM", knob: slowJobs, args: []string{"apply", ws, "--directory-path", "<dir>"},
			steps:    []sigStep{{await: `── plan log ──`, sig: syscall.SIGTERM}},
			wantCode: 3, wantStatus: "canceled", wantPlan: "canceled", wantApply: "none",
			stderr: []string{"Interrupt received: asking Tharsis to cancel run <run> gracefully.",
				"Press Ctrl-C again to force the cancel once the server allows it, a third time to detach.", "Run <run> was canceled."},
			// The log went on until the job stopped.
			stdout: "Operation cancelled.\n",
		},
		{
			name: "speculative plan, SIGINT", knob: slowJobs, args: []string{"plan", ws, "--directory-path", "<dir>"},
			steps:    []sigStep{{await: `── plan log ──`, sig: syscall.SIGINT}},
			wantCode: 3, wantStatus: "canceled", wantPlan: "canceled",
			stdout: "Operation cancelled.\n",
		},
		{
			name: "destroy planning, SIGINT", knob: slowJobs, args: []string{"destroy", ws, "--directory-path", "<dir>"},
			steps:    []sigStep{{await: `── plan log ──`, sig: syscall.SIGINT}},
			wantCode: 3, wantStatus: "canceled", wantPlan: "canceled", wantApply: "none",
		},
		{
			name: "workspace destroy planning, SIGINT", args: []string{"workspace", "destroy", ws},
			setup: func(t *testing.T, srv *sandbox.Server) {
				actWaitRun(t, srv, actCreateRun(t, srv, cfg, func(s *runflow.Spec) { s.AutoApply = true }), "applied", actStatus("applied"))
				srv.UpdateKnobs(slowJobs)
			},
			steps:    []sigStep{{await: `── plan log ──`, sig: syscall.SIGINT}},
			wantCode: 3, wantStatus: "canceled", wantPlan: "canceled", wantApply: "none",
		},
		{
			name: "at the prompt, SIGINT", args: []string{"apply", ws, "--directory-path", "<dir>"},
			steps:    []sigStep{{await: `Enter a value: $`, sig: syscall.SIGINT}},
			wantCode: 3, wantStatus: "discarded", wantPlan: "finished", wantApply: "none",
			stderr: []string{"Interrupt received: discarding run <run> so the workspace is not left blocked...",
				"interrupted at the approval prompt", "the workspace is free"},
		},
		{
			name: "destroy at the prompt, SIGTERM", args: []string{"destroy", ws, "--directory-path", "<dir>"},
			setup: func(t *testing.T, srv *sandbox.Server) {
				actWaitRun(t, srv, actCreateRun(t, srv, cfg, func(s *runflow.Spec) { s.AutoApply = true }), "applied", actStatus("applied"))
			},
			steps:    []sigStep{{await: `Enter a value: $`, sig: syscall.SIGTERM}},
			wantCode: 3, wantStatus: "discarded", wantApply: "none",
			stderr: []string{"Do you want to destroy these changes", "Interrupt received: discarding run <run>"},
		},
		{
			name: "applying, SIGINT", args: []string{"apply", ws, "--directory-path", "<dir>"},
			steps: []sigStep{
				{await: `Enter a value: $`, act: yes},
				{await: `── apply log ──`, sig: syscall.SIGINT},
			},
			wantCode: 3, wantStatus: "canceled", wantPlan: "finished", wantApply: "canceled",
			stderr: []string{"Interrupt received: asking Tharsis to cancel run <run> gracefully.", "Run <run> was canceled."},
			stdout: "Operation cancelled.\n",
		},
		{
			name: "run approve applying, SIGINT", args: []string{"run", "approve", "<run>"},
			steps:    []sigStep{{await: `── apply log ──`, sig: syscall.SIGINT}},
			wantCode: 3, wantStatus: "canceled", wantPlan: "finished", wantApply: "canceled",
			stderr: []string{"Interrupt received: asking Tharsis to cancel run <run> gracefully.", "Run <run> was canceled."},
		},
		{
			name: "second interrupt forces the cancel once allowed",
			knob: func(k *sandbox.Knobs) {
				k.JobDuration, k.IgnoreGracefulCancel, k.ForceCancelDelay = time.Minute, true, time.Millisecond
			},
			args: []string{"apply", ws, "--directory-path", "<dir>"},
			steps: []sigStep{
				{await: `── plan log ──`, sig: syscall.SIGINT},
				{await: `Cancel requested; waiting for the run to stop`, act: waitForceAvailable, sig: syscall.SIGINT},
			},
			wantCode: 3, wantStatus: "canceled", wantPlan: "canceled", wantApply: "none", wantForced: true,
			stderr: []string{"Forcing the cancel of run <run>: resources may be left inconsistent.", "Run <run> was canceled."},
		},
		{
			name: "second interrupt too early, third detaches",
			knob: func(k *sandbox.Knobs) {
				k.JobDuration, k.IgnoreGracefulCancel, k.ForceCancelDelay = time.Minute, true, time.Hour
			},
			args: []string{"apply", ws, "--directory-path", "<dir>"},
			steps: []sigStep{
				{await: `── plan log ──`, sig: syscall.SIGINT},
				{await: `Cancel requested; waiting for the run to stop`, sig: syscall.SIGTERM},
				{await: `Force cancel is available in`, sig: syscall.SIGINT},
			},
			// Left to the server, as the user asked, with a graceful cancel
			// pending and the way to force it printed.
			wantCode: 130, wantStatus: "planning", wantPlan: "canceling",
			stderr: []string{"Force cancel is available in 1h0m0s", "Press Ctrl-C again to detach, or wait.",
				"Detached from run <run>; it goes on without this command.", "tharsis run watch <run>", "tharsis run cancel --force <run>"},
		},
		{
			name: "run watch detaches", knob: slowJobs, args: []string{"run", "watch", "<run>"},
			steps:    []sigStep{{await: `── plan log ──`, sig: syscall.SIGINT}},
			wantCode: 130, wantStatus: "planning", wantPlan: "running",
			stderr: []string{"Detached from run <run>; it goes on without this command."},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var knobs []func(*sandbox.Knobs)
			if tc.knob != nil {
				knobs = append(knobs, tc.knob)
			}
			srv := startSandbox(t, knobs...)
			if tc.setup != nil {
				tc.setup(t, srv)
			}
			var pre string
			args := append([]string(nil), tc.args...)
			for i, a := range args {
				switch a {
				case "<dir>":
					args[i] = configDir(t, cfg)
				case "<run>":
					pre = actCreateRun(t, srv, cfg, nil)
					if tc.args[0] == "run" && tc.args[1] == "approve" {
						// Planned at full speed, then applied slowly.
						actWaitRun(t, srv, pre, "planned", actStatus("planned"))
						srv.UpdateKnobs(slowJobs)
					}
					args[i] = pre
				}
			}
			before := len(srv.Runs(ws))
			p := actStart(t, srv, nil, args...)
			for _, st := range tc.steps {
				p.await(t, st.await)
				if st.act != nil {
					st.act(t, srv, p)
				}
				if st.sig != nil {
					p.signal(t, st.sig)
				}
			}
			code := p.wait(t)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d", code, tc.wantCode)
			}
			r := lastRun(t, srv, ws)
			id := runGID(r)
			if pre != "" && id != pre {
				t.Fatalf("a run was created: %s", id)
			}
			if pre == "" && len(srv.Runs(ws)) != before+1 {
				t.Fatalf("%d runs created, want 1", len(srv.Runs(ws))-before)
			}
			if r.Status != tc.wantStatus || r.ForceCanceled != tc.wantForced {
				t.Fatalf("run %s, force canceled %v; want %s, %v", r.Status, r.ForceCanceled, tc.wantStatus, tc.wantForced)
			}
			if tc.wantPlan != "" {
				if got := actJobStatus(srv, id, "plan"); got != tc.wantPlan {
					t.Errorf("plan job %s, want %s", got, tc.wantPlan)
				}
			}
			switch got := actJobStatus(srv, id, "apply"); {
			case tc.wantApply == "none" && got != "":
				t.Errorf("an apply job ran (%s)", got)
			case tc.wantApply != "" && tc.wantApply != "none" && got != tc.wantApply:
				t.Errorf("apply job %s, want %s", got, tc.wantApply)
			}
			if tc.name == "run watch detaches" && r.ForceCancelAvailableAt != nil {
				t.Errorf("watch asked to cancel someone else's run")
			}
			stderr := p.stderr.String()
			for _, s := range tc.stderr {
				wantContains(t, "stderr", stderr, replaceRun(s, id))
			}
			if tc.stdout != "" && !strings.HasSuffix(p.stdout.String(), tc.stdout) {
				t.Errorf("stdout does not end with %q:\n%s", tc.stdout, clip(p.stdout.String()))
			}
			// Nothing but the configuration directories is left behind.
			if l := p.leftovers(t); len(l) != 0 {
				t.Errorf("files left in TMPDIR: %v", l)
			}
		})
	}
}

// waitForceAvailable waits until the run's force cancel is allowed (the
// sandbox gives it a millisecond).
func waitForceAvailable(t *testing.T, srv *sandbox.Server, _ *actProc) {
	t.Helper()
	r := lastRun(t, srv, ws)
	if r.ForceCancelAvailableAt == nil {
		t.Fatal("no graceful cancel was recorded")
	}
	if d := time.Until(*r.ForceCancelAvailableAt); d > 0 {
		timer := time.NewTimer(d + time.Millisecond)
		defer timer.Stop()
		<-timer.C
	}
}

// actWaitFile waits until a file matching pattern exists in dir.
func actWaitFile(t *testing.T, dir, pattern string, p *actProc) string {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(m) > 0 {
			return m[0]
		}
		select {
		case <-tick.C:
		case <-p.done:
			t.Fatalf("the command ended before %s appeared:\n%s", pattern, p.stderr.String())
		case <-timeout.C:
			t.Fatalf("%s never appeared in %s:\n%s", pattern, dir, p.stderr.String())
		}
	}
}

// TestSignalsBeforeRun: an interrupt while the configuration is packed or
// uploaded stops there: the package file is removed, no run is created
// (exit 130). One that comes while createRun is in flight cancels the run
// once it exists.
func TestSignalsBeforeRun(t *testing.T) {
	// A large file keeps the packer busy long enough to be interrupted:
	// sparse, so it costs no disk, and read as zeros.
	bigDir := func(t *testing.T) string {
		dir := configDir(t, map[string]string{"main.tf": oneResource})
		f, err := os.Create(filepath.Join(dir, "big.bin"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(32 << 30); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run("packing, "+sig.String(), func(t *testing.T) {
			t.Parallel()
			srv := startSandbox(t)
			p := actStart(t, srv, nil, "apply", ws, "--directory-path", bigDir(t), "--auto-approve")
			actWaitFile(t, p.tmp, "tharsis-slug-*", p)
			p.signal(t, sig)
			if code := p.wait(t); code != 130 {
				t.Fatalf("exit %d, want 130", code)
			}
			wantContains(t, "stderr", p.stderr.String(), "Interrupt received: stopping before the run is created",
				"Interrupted before the run was created: nothing was created.")
			wantNotContains(t, "stderr", p.stderr.String(), "Packed")
			nothingCreated(t, srv)
			if l := p.leftovers(t); len(l) != 0 {
				t.Errorf("files left in TMPDIR: %v", l)
			}
		})
	}

	t.Run("uploading", func(t *testing.T) {
		t.Parallel()
		srv := startSandbox(t)
		proxy := newActProxy(t, srv, actProxyOptions{holdUploads: true})
		p := actStartAt(t, proxy.srv.URL, srv.AdminToken(), nil, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}))
		select {
		case <-proxy.upload:
		case <-p.done:
			t.Fatalf("the command ended before uploading:\n%s", p.stderr.String())
		}
		// The package exists while it is uploaded.
		if l := p.leftovers(t); len(l) != 1 || !strings.HasPrefix(l[0], "tharsis-slug-") {
			t.Fatalf("TMPDIR holds %v during the upload, want the package", l)
		}
		p.signal(t, syscall.SIGINT)
		if code := p.wait(t); code != 130 {
			t.Fatalf("exit %d, want 130", code)
		}
		wantContains(t, "stderr", p.stderr.String(), "Interrupted before the run was created: nothing was created.")
		if n := len(srv.Runs(ws)); n != 0 || srv.RequestCount("CreateRun") != 0 {
			t.Errorf("%d runs created", n)
		}
		// The configuration version was created before the upload began (the
		// API cannot delete one); it stays empty.
		for _, cv := range srv.ConfigurationVersions(ws) {
			if cv.Status != "pending" || len(cv.Data) != 0 {
				t.Errorf("configuration version %s is %s with %d bytes", cv.ID, cv.Status, len(cv.Data))
			}
		}
		if l := p.leftovers(t); len(l) != 0 {
			t.Errorf("files left in TMPDIR: %v", l)
		}
	})

	for _, tc := range []struct {
		op   string
		args []string
	}{
		{"CreateRun", []string{"apply", ws, "--directory-path", "<dir>"}},
		{"DestroyWorkspace", []string{"workspace", "destroy", ws}},
	} {
		t.Run(tc.op+" in flight", func(t *testing.T) {
			t.Parallel()
			signalCreateInFlight(t, tc.op, tc.args)
		})
	}
}

// signalCreateInFlight interrupts the command while the mutation that
// creates the run is in flight: the run exists afterwards, and the command
// cancels it.
func signalCreateInFlight(t *testing.T, op string, args []string) {
	{
		srv := startSandbox(t)
		if op == "DestroyWorkspace" {
			id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, func(s *runflow.Spec) { s.AutoApply = true })
			actWaitRun(t, srv, id, "applied", actStatus("applied"))
		}
		for i, a := range args {
			if a == "<dir>" {
				args[i] = configDir(t, map[string]string{"main.tf": oneResource})
			}
		}
		before := len(srv.Runs(ws))
		proxy := newActProxy(t, srv, actProxyOptions{holdOp: op})
		p := actStartAt(t, proxy.srv.URL, srv.AdminToken(), nil, args...)
		select {
		case <-proxy.arrived:
		case <-p.done:
			t.Fatalf("the command ended before creating the run:\n%s", p.stderr.String())
		}
		p.signal(t, syscall.SIGINT)
		p.await(t, `Interrupt received: stopping before the run is created`)
		proxy.releaseFn()
		if code := p.wait(t); code != 3 {
			t.Fatalf("exit %d, want 3", code)
		}
		if n := len(srv.Runs(ws)); n != before+1 {
			t.Fatalf("%d runs created", n-before)
		}
		r := lastRun(t, srv, ws)
		if r.Status != "canceled" {
			t.Fatalf("run %s: the run created as the interrupt arrived was left behind", r.Status)
		}
		wantContains(t, "stderr", p.stderr.String(), "Run "+runGID(r)+" was created as the interrupt arrived", "Run "+runGID(r)+" was canceled.")
	}
}

// TestSignalPlanFinishesAnyway: the plan job finishes before it sees the
// graceful cancel of the first interrupt (a proxy holds that cancelRun
// until the plan is done, then answers it without passing it on): the run,
// now waiting for approval, is canceled there instead of being followed
// forever.
func TestSignalPlanFinishesAnyway(t *testing.T) {
	srv := startSandbox(t)
	proxy := newActProxy(t, srv, actProxyOptions{holdOp: "CancelRun", ignoreCancels: 1})
	setRunnerTags(t, srv, []string{"late"})
	p := actStartAt(t, proxy.srv.URL, srv.AdminToken(), nil, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}))
	p.await(t, `Waiting: no runner agent`)
	p.signal(t, syscall.SIGINT)
	<-proxy.arrived
	gql(t, srv, `mutation($in: CreateRunnerInput!) { createRunner(input: $in) { problems { message } } }`,
		map[string]any{"in": map[string]any{"name": "late", "description": "", "groupId": "trn:group:" + sandbox.SeedGroup,
			"runUntaggedJobs": false, "tags": []string{"late"}}}, nil)
	r := onlyRun(t, srv, ws)
	actWaitRun(t, srv, runGID(r), "planned", actStatus("planned"))
	proxy.releaseFn()
	if code := p.wait(t); code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	r = onlyRun(t, srv, ws)
	if r.Status != "canceled" || actJobStatus(srv, runGID(r), "plan") != "finished" || proxy.ignored.Load() != 2 {
		t.Fatalf("run %s, plan job %s, %d cancel requests", r.Status, actJobStatus(srv, runGID(r), "plan"), proxy.ignored.Load())
	}
	wantContains(t, "stderr", p.stderr.String(), "The plan of run "+runGID(r)+" finished before the cancel took effect", "Run "+runGID(r)+" was canceled.")
}

// TestSignalWhileReadingRun: an interrupt while `run approve` or `run watch`
// reads the run stops there (exit 130): nothing is approved or canceled.
func TestSignalWhileReadingRun(t *testing.T) {
	for _, cmd := range []string{"approve", "watch"} {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			srv := startSandbox(t)
			id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
			actWaitRun(t, srv, id, "planned", actStatus("planned"))
			proxy := newActProxy(t, srv, actProxyOptions{holdOp: "GetRun"})
			p := actStartAt(t, proxy.srv.URL, srv.AdminToken(), nil, "run", cmd, id)
			<-proxy.arrived
			p.signal(t, syscall.SIGINT)
			p.await(t, `Interrupt received: stopping\.`)
			proxy.releaseFn()
			if code := p.wait(t); code != 130 {
				t.Fatalf("exit %d, want 130", code)
			}
			if r, _ := srv.Run(id); r.Status != "planned" || r.ForceCancelAvailableAt != nil {
				t.Fatalf("run %s: the command acted on it", r.Status)
			}
			if n := srv.RequestCount("ApplyRun") + srv.RequestCount("CancelRun") + srv.RequestCount("DiscardRun"); n != 0 {
				t.Errorf("%d requests acted on the run", n)
			}
			wantContains(t, "stderr", p.stderr.String(), "Interrupted before anything was done.")
			wantNotContains(t, "stderr", p.stderr.String(), "before the run is created")
		})
	}
}
