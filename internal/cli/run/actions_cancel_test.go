package run_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/runflow"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// TestCancelGraceful: `run cancel` asks for a graceful cancel and waits
// until the run is canceled, whether it waited for a runner, was running or
// waited for approval; --no-wait returns at once, leaving a job that ignores
// the cancel running.
func TestCancelGraceful(t *testing.T) {
	for _, tc := range []struct {
		name  string
		knob  func(*sandbox.Knobs)
		setup func(t *testing.T, srv *sandbox.Server) string // returns the run ID
		args  []string
		json  bool

		wantStatus string // in the sandbox afterwards
		wantJob    string // plan job status afterwards ("" for none)
		stderr     []string
	}{
		{
			name: "queued", wantStatus: "canceled", wantJob: "canceled",
			setup: func(t *testing.T, srv *sandbox.Server) string {
				setRunnerTags(t, srv, []string{"nowhere"})
				id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
				actWaitRun(t, srv, id, "queued for a runner", actStatus("plan_queued"))
				return id
			},
			stderr: []string{"Cancel requested for run <run>", "Run <run> canceled."},
		},
		{
			name: "queued, json", json: true, wantStatus: "canceled", wantJob: "canceled",
			setup: func(t *testing.T, srv *sandbox.Server) string {
				setRunnerTags(t, srv, []string{"nowhere"})
				id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
				actWaitRun(t, srv, id, "queued for a runner", actStatus("plan_queued"))
				return id
			},
		},
		{
			name: "running", knob: func(k *sandbox.Knobs) { k.JobDuration = time.Minute }, wantStatus: "canceled", wantJob: "canceled",
			setup: func(t *testing.T, srv *sandbox.Server) string {
				id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
				actWaitRun(t, srv, id, "running its plan", actJobRunning("plan"))
				return id
			},
			stderr: []string{"Cancel requested for run <run>", "Run <run> canceled."},
		},
		{
			name: "waiting for approval", wantStatus: "canceled", wantJob: "finished",
			setup: func(t *testing.T, srv *sandbox.Server) string {
				id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
				actWaitRun(t, srv, id, "planned", actStatus("planned"))
				return id
			},
			stderr: []string{"Run <run> canceled."},
		},
		{
			name: "--no-wait with a job that ignores it", args: []string{"--no-wait"},
			knob: func(k *sandbox.Knobs) {
				k.JobDuration = time.Minute
				k.IgnoreGracefulCancel = true
			},
			wantStatus: "planning", wantJob: "canceling",
			setup: func(t *testing.T, srv *sandbox.Server) string {
				id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
				actWaitRun(t, srv, id, "running its plan", actJobRunning("plan"))
				return id
			},
			stderr: []string{"Cancel requested for run <run>"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var knobs []func(*sandbox.Knobs)
			if tc.knob != nil {
				knobs = append(knobs, tc.knob)
			}
			srv := startSandbox(t, knobs...)
			id := tc.setup(t, srv)
			args := append([]string{"run", "cancel", id}, tc.args...)
			if tc.json {
				args = append(args, "-o", "json")
			}
			res := tharsis(t, clitest.Options{Env: env(srv)}, args...)
			wantCode(t, res, 0)
			r, _ := srv.Run(id)
			if r.Status != tc.wantStatus {
				t.Fatalf("run %s, want %s", r.Status, tc.wantStatus)
			}
			if got := actJobStatus(srv, id, "plan"); got != tc.wantJob {
				t.Errorf("plan job %s, want %s", got, tc.wantJob)
			}
			if r.ForceCancelAvailableAt == nil || r.ForceCanceled {
				t.Errorf("force cancel available at %v, force canceled %v: want a graceful cancel only", r.ForceCancelAvailableAt, r.ForceCanceled)
			}
			for _, s := range tc.stderr {
				wantContains(t, "stderr", res.Stderr, replaceRun(s, id))
			}
			if tc.json {
				var v struct {
					ID          string     `json:"id"`
					Status      string     `json:"status"`
					PlanStatus  string     `json:"plan_status"`
					ForceCancel *time.Time `json:"force_cancel_available_at"`
				}
				actDecode(t, res.Stdout, &v)
				if v.ID != id || v.Status != tc.wantStatus || v.ForceCancel == nil {
					t.Errorf("JSON %+v", v)
				}
				if res.Stderr != "" {
					t.Errorf("stderr with -o json: %q", res.Stderr)
				}
			} else if res.Stdout != "" {
				t.Errorf("stdout: %q", res.Stdout)
			}
		})
	}
}

func replaceRun(s, id string) string { return strings.ReplaceAll(s, "<run>", id) }

// TestCancelForce: --force sends the graceful cancel first when there was
// none, waits until the server allows the force (or, with --no-wait, says
// when and stops), and forces at once when it is already allowed.
func TestCancelForce(t *testing.T) {
	ignoring := func(delay time.Duration) func(k *sandbox.Knobs) {
		return func(k *sandbox.Knobs) {
			k.JobDuration = time.Minute
			k.IgnoreGracefulCancel = true
			k.ForceCancelDelay = delay
		}
	}
	for _, tc := range []struct {
		name     string
		knob     func(*sandbox.Knobs)
		graceful bool // a graceful cancel was sent before the command
		args     []string

		wantStatus string
		wantForced bool
		stderr     []string
		notStderr  []string
	}{
		{
			name: "before it is available, --no-wait", knob: ignoring(time.Hour), args: []string{"--no-wait"},
			wantStatus: "planning",
			stderr:     []string{"Cancel requested for run <run>", "A force cancel is allowed from", "(in 1h0m0s)", "run the command again then"},
			notStderr:  []string{"Force cancel sent"},
		},
		{
			name: "before it is available, graceful already sent, --no-wait", knob: ignoring(time.Hour), graceful: true, args: []string{"--no-wait"},
			wantStatus: "planning",
			stderr:     []string{"A force cancel is allowed from"},
			notStderr:  []string{"Cancel requested", "Force cancel sent"},
		},
		{
			name: "before it is available: waits for it", knob: ignoring(time.Second),
			wantStatus: "canceled", wantForced: true,
			stderr: []string{"Cancel requested for run <run>", "Waiting until", "for the force cancel to be allowed",
				"Force cancel sent for run <run>", "Run <run> canceled."},
		},
		{
			name: "after it is available", knob: ignoring(time.Millisecond), graceful: true,
			wantStatus: "canceled", wantForced: true,
			stderr:    []string{"Force cancel sent for run <run>", "Run <run> canceled."},
			notStderr: []string{"Cancel requested", "Waiting until"},
		},
		{
			name: "after it is available, --no-wait", knob: ignoring(time.Millisecond), graceful: true, args: []string{"--no-wait"},
			wantStatus: "canceled", wantForced: true,
			stderr: []string{"Force cancel sent for run <run>"},
		},
		{
			// The job honours the graceful cancel while the command waits
			// for the force: nothing is forced.
			name: "graceful cancel suffices", knob: func(k *sandbox.Knobs) { k.JobDuration = time.Minute; k.ForceCancelDelay = time.Hour },
			wantStatus: "canceled",
			stderr:     []string{"Cancel requested for run <run>", "Waiting until", "Run <run> canceled."},
			notStderr:  []string{"Force cancel sent"},
		},
		{
			// A queued run is canceled by the graceful cancel itself.
			name: "queued run", knob: ignoring(time.Hour),
			wantStatus: "canceled",
			stderr:     []string{"Run <run> canceled."},
			notStderr:  []string{"Waiting until", "Force cancel sent"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t, tc.knob)
			if tc.name == "queued run" {
				setRunnerTags(t, srv, []string{"nowhere"})
			}
			id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
			if tc.name == "queued run" {
				actWaitRun(t, srv, id, "queued", actStatus("plan_queued"))
			} else {
				actWaitRun(t, srv, id, "running its plan", actJobRunning("plan"))
			}
			if tc.graceful {
				cancelRun(t, srv, id)
				if r, _ := srv.Run(id); time.Until(*r.ForceCancelAvailableAt) < time.Second {
					waitForceAvailable(t, srv, nil) // short: let it pass
				}
			}
			before, _ := srv.Run(id)
			res := tharsis(t, clitest.Options{Env: env(srv)}, append([]string{"run", "cancel", id, "--force"}, tc.args...)...)
			wantCode(t, res, 0)
			r, _ := srv.Run(id)
			if r.Status != tc.wantStatus || r.ForceCanceled != tc.wantForced {
				t.Fatalf("run %s, force canceled %v; want %s, %v", r.Status, r.ForceCanceled, tc.wantStatus, tc.wantForced)
			}
			if r.ForceCancelAvailableAt == nil {
				t.Fatal("no graceful cancel was sent")
			}
			if tc.graceful && !r.ForceCancelAvailableAt.Equal(*before.ForceCancelAvailableAt) {
				t.Errorf("the force-cancel time moved: %v, then %v", before.ForceCancelAvailableAt, r.ForceCancelAvailableAt)
			}
			if tc.wantForced && (r.ForceCanceledBy == nil || *r.ForceCanceledBy == "") {
				t.Errorf("forceCanceledBy not set")
			}
			if tc.wantStatus == "planning" && actJobStatus(srv, id, "plan") != "canceling" {
				t.Errorf("plan job %s, want canceling", actJobStatus(srv, id, "plan"))
			}
			for _, s := range tc.stderr {
				wantContains(t, "stderr", res.Stderr, replaceRun(s, id))
			}
			wantNotContains(t, "stderr", res.Stderr, tc.notStderr...)
		})
	}
}

// TestCancelFinishedRun: a run that has ended gets a plain message (exit 1)
// naming its status, never the server's raw error; the JSON document still
// shows the run.
func TestCancelFinishedRun(t *testing.T) {
	srv := startSandbox(t)
	cfg := map[string]string{"main.tf": oneResource}
	runs := map[string]string{}
	runs["applied"] = actCreateRun(t, srv, cfg, func(s *runflow.Spec) { s.AutoApply = true })
	actWaitRun(t, srv, runs["applied"], "applied", actStatus("applied"))
	runs["planned_and_finished"] = actCreateRun(t, srv, cfg, func(s *runflow.Spec) { s.Speculative = true })
	actWaitRun(t, srv, runs["planned_and_finished"], "planned", actStatus("planned_and_finished"))
	runs["discarded"] = actCreateRun(t, srv, map[string]string{"main.tf": `resource "terraform_data" "b" {}`}, nil)
	actWaitRun(t, srv, runs["discarded"], "planned", actStatus("planned"))
	wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "run", "discard", runs["discarded"]), 0)
	runs["canceled"] = actCreateRun(t, srv, map[string]string{"main.tf": `resource "terraform_data" "c" {}`}, nil)
	actWaitRun(t, srv, runs["canceled"], "planned", actStatus("planned"))
	cancelRun(t, srv, runs["canceled"])
	srv.UpdateKnobs(func(k *sandbox.Knobs) { k.FailPlan = true })
	runs["errored"] = actCreateRun(t, srv, cfg, nil)
	actWaitRun(t, srv, runs["errored"], "errored", actStatus("errored"))

	labels := map[string]string{"applied": "applied", "planned_and_finished": "planned and finished",
		"errored": "errored", "canceled": "canceled", "discarded": "discarded"}
	for status, id := range runs {
		for _, extra := range [][]string{nil, {"--force", "--yes"}, {"--no-wait"}} {
			t.Run(status+" "+strings.Join(extra, " "), func(t *testing.T) {
				res := tharsis(t, clitest.Options{Env: env(srv)}, append([]string{"run", "cancel", id}, extra...)...)
				wantCode(t, res, 1)
				wantContains(t, "stderr", res.Stderr, "run "+id+" has already ended ("+labels[status]+"): there is nothing to cancel")
				wantNotContains(t, "stderr", res.Stderr, "BAD_REQUEST", "cannot be canceled\n", "problem")
				if r, _ := srv.Run(id); r.Status != status {
					t.Errorf("the run changed: %s", r.Status)
				}
			})
		}
		t.Run(status+" json", func(t *testing.T) {
			res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "cancel", id, "-o", "json")
			wantCode(t, res, 1)
			var v struct {
				ID, Status string
			}
			actDecode(t, res.Stdout, &v)
			if v.ID != id || v.Status != status {
				t.Errorf("JSON %+v", v)
			}
		})
	}
	// The CLI sent no cancel for an ended run (the test's own is anonymous).
	if n := srv.RequestCount("CancelRun"); n != 0 {
		t.Errorf("%d CancelRun requests, want none", n)
	}
}

// TestCancelUnknownRun: a run that does not exist is "not found" (exit 5).
func TestCancelUnknownRun(t *testing.T) {
	srv := startSandbox(t)
	res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "cancel", sandbox.GID("run", "00000000-0000-0000-0000-000000000000"))
	wantCode(t, res, 5)
	wantContains(t, "stderr", res.Stderr, "not found")
}

// TestCancelNotSeen: a job may end before it sees a graceful cancel (the
// proxy answers the first cancelRun without passing it on). A plan that
// finishes leaves the run waiting for approval: the command cancels it
// there. A plan that fails is reported (exit 1). A run that ends between the
// command's read and its cancel gets a plain message.
//
// The run waits for a runner until the cancel has been sent, and the proxy
// holds the cancel until the job has ended: no race with the job.
func TestCancelNotSeen(t *testing.T) {
	cfg := map[string]string{"main.tf": oneResource}
	for _, tc := range []struct {
		name       string
		knob       func(*sandbox.Knobs)
		ignore     int // cancelRun requests the proxy drops
		args       []string
		wantCode   int
		wantStatus string
		stderr     []string
	}{
		{name: "the plan finishes", ignore: 1,
			wantCode: 0, wantStatus: "canceled",
			stderr: []string{"The plan of run <run> finished before the cancel took effect; canceling the run, which now waits for approval.", "Run <run> canceled."}},
		{name: "the plan fails", knob: func(k *sandbox.Knobs) { k.FailPlan = true }, ignore: 1,
			wantCode: 1, wantStatus: "errored",
			stderr: []string{"run <run> ended as errored before the cancel took effect"}},
		{name: "the plan fails, json", knob: func(k *sandbox.Knobs) { k.FailPlan = true }, ignore: 1,
			args: []string{"-o", "json"}, wantCode: 1, wantStatus: "errored"},
		{name: "the run ended before the cancel arrived", knob: func(k *sandbox.Knobs) { k.FailPlan = true },
			wantCode: 1, wantStatus: "errored",
			stderr: []string{"the run has already finished and cannot be canceled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var knobs []func(*sandbox.Knobs)
			if tc.knob != nil {
				knobs = append(knobs, tc.knob)
			}
			srv := startSandbox(t, knobs...)
			proxy := newActProxy(t, srv, actProxyOptions{holdOp: "CancelRun", ignoreCancels: tc.ignore})
			setRunnerTags(t, srv, []string{"late"})
			id := actCreateRun(t, srv, cfg, nil)
			actWaitRun(t, srv, id, "queued", actStatus("plan_queued"))
			bg := startTharsis(t, clitest.Options{Env: env(srv, "THARSIS_ENDPOINT", proxy.srv.URL)}, append([]string{"run", "cancel", id}, tc.args...)...)
			<-proxy.arrived
			// A runner comes: the job runs and ends before the cancel.
			gql(t, srv, `mutation($in: CreateRunnerInput!) { createRunner(input: $in) { problems { message } } }`,
				map[string]any{"in": map[string]any{"name": "late", "description": "", "groupId": "trn:group:" + sandbox.SeedGroup,
					"runUntaggedJobs": false, "tags": []string{"late"}}}, nil)
			actWaitRun(t, srv, id, "done planning", actStatus("planned", "errored"))
			proxy.releaseFn()
			res := bg.wait(t)
			wantCode(t, res, tc.wantCode)
			r, _ := srv.Run(id)
			if r.Status != tc.wantStatus {
				t.Fatalf("run %s, want %s", r.Status, tc.wantStatus)
			}
			for _, s := range tc.stderr {
				wantContains(t, "stderr", res.Stderr, replaceRun(s, id))
			}
			wantNotContains(t, "stderr", res.Stderr, "BAD_REQUEST")
			if len(tc.args) > 0 {
				var v actRunJSON
				actDecode(t, res.Stdout, &v)
				if v.ID != id || v.Status != tc.wantStatus {
					t.Errorf("JSON %+v", v)
				}
			}
		})
	}
}

// TestCancelForceJSON: with -o json the command prints the run (with the
// force-cancel time) and nothing else, whether it could force or not yet.
func TestCancelForceJSON(t *testing.T) {
	for _, tc := range []struct {
		delay      time.Duration
		wantStatus string
		wantForced bool
	}{
		{time.Hour, "planning", false},
		{time.Millisecond, "canceled", true},
	} {
		t.Run(tc.delay.String(), func(t *testing.T) {
			srv := startSandbox(t, func(k *sandbox.Knobs) {
				k.JobDuration, k.IgnoreGracefulCancel, k.ForceCancelDelay = time.Minute, true, tc.delay
			})
			id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
			actWaitRun(t, srv, id, "running", actJobRunning("plan"))
			if tc.wantForced {
				// A graceful cancel was sent earlier, and its wait is over.
				cancelRun(t, srv, id)
				waitForceAvailable(t, srv, nil)
			}
			res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "cancel", id, "--force", "--no-wait", "-o", "json")
			wantCode(t, res, 0)
			var v actRunJSON
			actDecode(t, res.Stdout, &v)
			r, _ := srv.Run(id)
			if v.ID != id || v.Status != tc.wantStatus || v.Forced != tc.wantForced || r.Status != tc.wantStatus ||
				v.ForceAt == nil || !v.ForceAt.Equal(*r.ForceCancelAvailableAt) {
				t.Errorf("JSON %+v; server %s, available at %v", v, r.Status, r.ForceCancelAvailableAt)
			}
			if res.Stderr != "" {
				t.Errorf("stderr with -o json: %q", res.Stderr)
			}
		})
	}
}

// TestCancelIgnoredHint: while `run cancel` waits for a job that ignores the
// graceful cancel, it says once the force cancel is allowed, with the
// command; a force cancel from elsewhere then ends the wait.
func TestCancelIgnoredHint(t *testing.T) {
	srv := startSandbox(t, func(k *sandbox.Knobs) {
		k.JobDuration, k.IgnoreGracefulCancel, k.ForceCancelDelay = time.Minute, true, 200*time.Millisecond
	})
	id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
	actWaitRun(t, srv, id, "running", actJobRunning("plan"))
	bg := startTharsis(t, clitest.Options{Env: env(srv)}, "run", "cancel", id)
	bg.stderr.waitFor(t, regexp.MustCompile(`A force cancel is allowed now`))
	if r, _ := srv.Run(id); r.Status != "planning" {
		t.Fatalf("run %s while the job ignores the cancel", r.Status)
	}
	wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "run", "cancel", id, "--force", "--yes"), 0)
	res := bg.wait(t)
	wantCode(t, res, 0)
	wantContains(t, "stderr", res.Stderr, "Run "+id+" has not stopped yet.", "tharsis run cancel --force "+id, "Run "+id+" canceled.")
	if strings.Count(res.Stderr, "has not stopped yet") != 1 {
		t.Errorf("the hint is repeated:\n%s", res.Stderr)
	}
}
