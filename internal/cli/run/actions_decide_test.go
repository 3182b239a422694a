package run_test

import (
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/runflow"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// actRole creates a user with a role on the seed group and returns a token.
func actRole(t *testing.T, srv *sandbox.Server, name, role string) string {
	t.Helper()
	tok, err := srv.CreateUser(name, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddMembership(sandbox.SeedGroup, "user", name, role); err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRunApprove: approving a planned run starts its apply and follows it
// like `run apply` (only the apply log; exit codes of apply); a run that
// does not wait for approval is refused plainly and nothing is sent.
func TestRunApprove(t *testing.T) {
	cfg := map[string]string{"main.tf": oneResource}
	for _, tc := range []struct {
		name  string
		knob  func(*sandbox.Knobs)
		token func(t *testing.T, srv *sandbox.Server) string
		args  []string

		wantCode   int
		wantStatus string
		stderr     []string
	}{
		{name: "applies", args: []string{"--comment", "CHG-42"}, wantCode: 0, wantStatus: "applied",
			stderr: []string{"── apply log ──", "Run <run> applied."}},
		{name: "json", args: []string{"-o", "json"}, wantCode: 0, wantStatus: "applied"},
		{name: "as a deployer", token: func(t *testing.T, srv *sandbox.Server) string { return actRole(t, srv, "dep", "deployer") },
			wantCode: 0, wantStatus: "applied"},
		{name: "as a viewer", token: func(t *testing.T, srv *sandbox.Server) string { return actRole(t, srv, "view", "viewer") },
			wantCode: 4, wantStatus: "planned"},
		{name: "the apply fails", knob: func(k *sandbox.Knobs) { k.FailApply = true }, wantCode: 1, wantStatus: "errored",
			stderr: []string{"the apply of run <run> failed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var knobs []func(*sandbox.Knobs)
			if tc.knob != nil {
				knobs = append(knobs, tc.knob)
			}
			srv := startSandbox(t, knobs...)
			id := actCreateRun(t, srv, cfg, nil)
			actWaitRun(t, srv, id, "planned", actStatus("planned"))
			e := env(srv)
			if tc.token != nil {
				e = env(srv, "THARSIS_STATIC_TOKEN", tc.token(t, srv))
			}
			res := tharsis(t, clitest.Options{Env: e}, append([]string{"run", "approve", id}, tc.args...)...)
			wantCode(t, res, tc.wantCode)
			r, _ := srv.Run(id)
			if r.Status != tc.wantStatus {
				t.Fatalf("run %s, want %s", r.Status, tc.wantStatus)
			}
			for _, s := range tc.stderr {
				wantContains(t, "stderr", res.Stderr, replaceRun(s, id))
			}
			plan, apply := jobLogs(t, srv, r)
			switch {
			case tc.wantCode == 4:
				if apply != nil || srv.RequestCount("ApplyRun") != 1 {
					t.Errorf("apply log %q, %d ApplyRun requests", apply, srv.RequestCount("ApplyRun"))
				}
			case strings.Contains(strings.Join(tc.args, " "), "json"):
				var v map[string]any
				actDecode(t, res.Stdout, &v)
				if v["run_id"] != id || v["status"] != "applied" || v["outcome"] != "applied" {
					t.Errorf("JSON %v", v)
				}
				wantContains(t, "stderr", res.Stderr, string(apply))
				wantNotContains(t, "stderr", res.Stderr, string(plan))
			default:
				// The plan log was shown when it ran: only the apply's.
				if res.Stdout != string(apply) {
					t.Errorf("stdout is not the apply log (%d bytes, apply log %d, plan log %d)", len(res.Stdout), len(apply), len(plan))
				}
			}
			if tc.name == "applies" && (r.Apply.Comment != "CHG-42" || r.Apply.TriggeredBy == nil) {
				t.Errorf("apply comment %q, triggered by %v", r.Apply.Comment, r.Apply.TriggeredBy)
			}
		})
	}

	t.Run("not waiting for approval", func(t *testing.T) {
		srv := startSandbox(t)
		applied := actCreateRun(t, srv, cfg, func(s *runflow.Spec) { s.AutoApply = true })
		actWaitRun(t, srv, applied, "applied", actStatus("applied"))
		spec := actCreateRun(t, srv, cfg, func(s *runflow.Spec) { s.Speculative = true })
		actWaitRun(t, srv, spec, "planned", actStatus("planned_and_finished"))
		setRunnerTags(t, srv, []string{"nowhere"})
		queued := actCreateRun(t, srv, map[string]string{"main.tf": `resource "terraform_data" "q" {}`}, nil)
		actWaitRun(t, srv, queued, "queued", actStatus("plan_queued"))
		for id, label := range map[string]string{applied: "applied", spec: "planned and finished", queued: "plan queued: waiting for a runner"} {
			res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "approve", id)
			wantCode(t, res, 1)
			wantContains(t, "stderr", res.Stderr, "run "+id+" is "+label+", not waiting for approval")
		}
		if n := srv.RequestCount("ApplyRun"); n != 0 {
			t.Errorf("%d ApplyRun requests", n)
		}
	})
}

// TestRunDiscard: discarding a planned run frees the workspace; any other
// run is refused plainly.
func TestRunDiscard(t *testing.T) {
	cfg := map[string]string{"main.tf": oneResource}
	t.Run("planned", func(t *testing.T) {
		for _, json := range []bool{false, true} {
			srv := startSandbox(t)
			id := actCreateRun(t, srv, cfg, nil)
			actWaitRun(t, srv, id, "planned", actStatus("planned"))
			args := []string{"run", "discard", id}
			if json {
				args = append(args, "-o", "json")
			}
			res := tharsis(t, clitest.Options{Env: env(srv)}, args...)
			wantCode(t, res, 0)
			r, _ := srv.Run(id)
			if r.Status != "discarded" || r.Apply.Status != "skipped" || len(srv.Jobs(id)) != 1 {
				t.Fatalf("run %s, apply %s, %d jobs", r.Status, r.Apply.Status, len(srv.Jobs(id)))
			}
			if json {
				var v actRunJSON
				actDecode(t, res.Stdout, &v)
				if v.ID != id || v.Status != "discarded" || v.ApplyStatus != "skipped" {
					t.Errorf("JSON %+v", v)
				}
			} else {
				wantContains(t, "stderr", res.Stderr, "Run "+id+" discarded; workspace "+ws+" is free.")
			}
			// The workspace takes the next run.
			wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", configDir(t, cfg), "--auto-approve"), 0)
		}
	})
	t.Run("refused", func(t *testing.T) {
		srv := startSandbox(t)
		applied := actCreateRun(t, srv, cfg, func(s *runflow.Spec) { s.AutoApply = true })
		actWaitRun(t, srv, applied, "applied", actStatus("applied"))
		spec := actCreateRun(t, srv, cfg, func(s *runflow.Spec) { s.Speculative = true })
		actWaitRun(t, srv, spec, "planned", actStatus("planned_and_finished"))
		for id, label := range map[string]string{applied: "applied", spec: "planned and finished"} {
			r, _ := srv.Run(id)
			res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "discard", id)
			wantCode(t, res, 1)
			wantContains(t, "stderr", res.Stderr, "run "+id+" is "+label+": only a run waiting for approval (planned) can be discarded")
			if after, _ := srv.Run(id); after.Status != r.Status {
				t.Errorf("the run changed: %s", after.Status)
			}
		}
		if n := srv.RequestCount("DiscardRun"); n != 0 {
			t.Errorf("%d DiscardRun requests", n)
		}
		planned := actCreateRun(t, srv, map[string]string{"main.tf": `resource "terraform_data" "d" {}`}, nil)
		actWaitRun(t, srv, planned, "planned", actStatus("planned"))
		res := tharsis(t, clitest.Options{Env: env(srv, "THARSIS_STATIC_TOKEN", actRole(t, srv, "view", "viewer"))}, "run", "discard", planned)
		wantCode(t, res, 4)
		if r, _ := srv.Run(planned); r.Status != "planned" {
			t.Errorf("a viewer discarded the run: %s", r.Status)
		}
	})
}

// TestWorkspaceDestroy: `workspace destroy` destroys what the workspace
// deployed from the configuration behind its state, with approval as for
// `destroy`; clear messages when there is no state, when the state has no
// configuration, when the workspace forbids destroy plans.
func TestWorkspaceDestroy(t *testing.T) {
	const modSrc = "registry.sandbox.local/sandbox/mod/aws"
	cfg := map[string]string{"main.tf": oneResource}
	deployed := func(t *testing.T, srv *sandbox.Server) sandbox.Run {
		t.Helper()
		wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", configDir(t, cfg), "--auto-approve"), 0)
		return lastRun(t, srv, ws)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string

		wantCode   int
		wantStatus string
		stderr     []string
	}{
		{name: "--auto-approve", args: []string{"--auto-approve"}, wantCode: 0, wantStatus: "applied",
			stderr: []string{"Run <run> created on workspace " + ws, "Plan: 0 to add, 0 to change, 1 to destroy.", "Run <run> applied."}},
		{name: "yes", stdin: "yes\n", wantCode: 0, wantStatus: "applied",
			stderr: []string{"Do you want to destroy these changes on workspace " + ws + "?", "Enter a value: yes"}},
		{name: "no", stdin: "no\n", wantCode: 3, wantStatus: "discarded", stderr: []string{"approval declined", "discarded"}},
		{name: "--input=false", args: []string{"--input=false"}, wantCode: 0, wantStatus: "planned",
			stderr: []string{"tharsis run approve <run>"}},
		{name: "--input=false --detailed-exitcode", args: []string{"--input=false", "--detailed-exitcode"}, wantCode: 2, wantStatus: "planned"},
		{name: "json", args: []string{"--auto-approve", "-o", "json"}, wantCode: 0, wantStatus: "applied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t)
			src := deployed(t, srv)
			uploads := srv.RequestCount("upload")
			res := tharsis(t, clitest.Options{Env: env(srv), Stdin: tc.stdin}, append([]string{"workspace", "destroy", ws}, tc.args...)...)
			wantCode(t, res, tc.wantCode)
			r := lastRun(t, srv, ws)
			if r.ID == src.ID || !r.IsDestroy || r.Status != tc.wantStatus || r.ConfigurationVersionID != src.ConfigurationVersionID {
				t.Fatalf("run %s destroy %v status %s cv %s; want a new destroy run, %s, from cv %s",
					r.ID, r.IsDestroy, r.Status, r.ConfigurationVersionID, tc.wantStatus, src.ConfigurationVersionID)
			}
			if n := srv.RequestCount("upload"); n != uploads {
				t.Errorf("workspace destroy uploaded a configuration")
			}
			for _, s := range tc.stderr {
				wantContains(t, "stderr", res.Stderr, replaceRun(s, runGID(r)))
			}
			plan, apply := jobLogs(t, srv, r)
			if strings.Contains(strings.Join(tc.args, " "), "json") {
				var v map[string]any
				actDecode(t, res.Stdout, &v)
				if v["run_id"] != runGID(r) || v["status"] != "applied" || v["destroy"] != true {
					t.Errorf("JSON %v", v)
				}
			} else if res.Stdout != string(plan)+string(apply) {
				t.Errorf("stdout is not the job logs")
			}
			if tc.wantStatus == "applied" {
				wantContains(t, "apply log", string(apply), "Destroy complete! Resources: 1 destroyed.")
				// Nothing is left: planning the configuration again adds it.
				res := tharsis(t, clitest.Options{Env: env(srv)}, "plan", ws, "--directory-path", configDir(t, cfg))
				wantCode(t, res, 0)
				wantContains(t, "stderr", res.Stderr, "Plan: 1 to add, 0 to change, 0 to destroy.")
			}
		})
	}

	t.Run("module", func(t *testing.T) {
		srv := startSandbox(t)
		if err := srv.RegisterModule(modSrc, "1.0.0", map[string][]byte{"main.tf": []byte(`resource "terraform_data" "m" {}`)}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--module-source", modSrc, "--auto-approve"), 0)
		res := tharsis(t, clitest.Options{Env: env(srv)}, "workspace", "destroy", ws, "--auto-approve")
		wantCode(t, res, 0)
		r := lastRun(t, srv, ws)
		if !r.IsDestroy || r.ModuleSource == nil || *r.ModuleSource != modSrc || r.Status != "applied" {
			t.Fatalf("run %+v", r)
		}
	})

	for _, tc := range []struct {
		name     string
		setup    func(t *testing.T, srv *sandbox.Server) clitest.Options
		wsArg    string
		wantCode int
		stderr   []string
	}{
		{name: "no state", wantCode: 1, stderr: []string{"workspace " + ws + " has no state: there is nothing to destroy"}},
		{name: "destroy plans forbidden", wantCode: 4,
			setup: func(t *testing.T, srv *sandbox.Server) clitest.Options {
				deployed(t, srv)
				gql(t, srv, `mutation($in: UpdateWorkspaceInput!) { updateWorkspace(input: $in) { problems { message } } }`,
					map[string]any{"in": map[string]any{"id": wsTRN, "preventDestroyPlan": true}}, nil)
				return clitest.Options{Env: env(srv)}
			},
			stderr: []string{"workspace " + ws + " forbids destroy plans", "--prevent-destroy-plan=false"}},
		{name: "state not made by a run", wantCode: 1,
			setup: func(t *testing.T, srv *sandbox.Server) clitest.Options {
				// The sandbox cannot upload a state by hand: a proxy gives
				// the API's answer for such a state.
				p := newActProxy(t, srv, actProxyOptions{override: map[string]string{"DestroyWorkspace": `{"data":{"destroyWorkspace":{"run":null,"problems":[` +
					`{"message":"current state version was created manually and has no module or configuration version associated","field":[],"type":"CONFLICT"}]}}}`}})
				return clitest.Options{Env: env(srv, "THARSIS_ENDPOINT", p.srv.URL)}
			},
			stderr: []string{"the state of workspace " + ws + " was not produced by a run", "tharsis destroy", "--directory-path"}},
		{name: "a viewer", wantCode: 4,
			setup: func(t *testing.T, srv *sandbox.Server) clitest.Options {
				deployed(t, srv)
				return clitest.Options{Env: env(srv, "THARSIS_STATIC_TOKEN", actRole(t, srv, "view", "viewer"))}
			}},
		{name: "no such workspace", wsArg: "sandbox/absent", wantCode: 5, stderr: []string{"sandbox/absent"}},
		{name: "empty argument", wsArg: " ", wantCode: 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t)
			o := clitest.Options{Env: env(srv)}
			if tc.setup != nil {
				o = tc.setup(t, srv)
			}
			before := len(srv.Runs(ws))
			arg := ws
			if tc.wsArg != "" {
				arg = tc.wsArg
			}
			res := tharsis(t, o, "workspace", "destroy", arg, "--auto-approve")
			wantCode(t, res, tc.wantCode)
			wantContains(t, "stderr", res.Stderr, tc.stderr...)
			wantNotContains(t, "stderr", res.Stderr, "CONFLICT", "FORBIDDEN", "problem")
			if n := len(srv.Runs(ws)); n != before {
				t.Errorf("%d runs created", n-before)
			}
		})
	}
}
