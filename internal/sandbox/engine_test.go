package sandbox

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSpeculativePlanEndsPlannedAndFinished(t *testing.T) {
	h := start(t)
	var seen []string
	ctx := t.Context()
	events := h.s.broker.subscribe(ctx, func(ev event) bool { return ev.run != nil })
	id := h.newRun(true, nil)
	r := h.waitStatus(id, runPlannedAndFinished)
	if r.Apply != nil {
		t.Fatalf("speculative run has an apply node")
	}
	if r.Plan.Status != nodeFinished || !r.Plan.HasChanges || r.Plan.Summary.Add != 2 {
		t.Fatalf("plan = %+v", r.Plan)
	}
	for len(seen) == 0 || seen[len(seen)-1] != runPlannedAndFinished {
		ev := <-events
		if len(seen) == 0 || seen[len(seen)-1] != ev.run.Status {
			seen = append(seen, ev.run.Status)
		}
	}
	want := []string{runPending, runQueuing, runPlanQueued, runPlanning, runPlannedAndFinished}
	if !slices.Equal(seen, want) {
		t.Fatalf("statuses %v, want %v", seen, want)
	}
	j := h.latestJob(id)
	if j.Status != jobFinished || j.Type != "plan" || j.RunnerPath == nil || *j.RunnerPath != SeedRunner {
		t.Fatalf("job = %+v", j)
	}
	log := string(h.s.JobLog(toGID(gidJob, j.ID)))
	if !strings.Contains(log, "null_resource.a") || !strings.Contains(log, "Starting job") {
		t.Fatalf("plan log lacks the plan:\n%s", log)
	}
}

func TestPlanThenApply(t *testing.T) {
	h := start(t)
	id := h.newRun(false, nil)
	r := h.waitStatus(id, runPlanned)
	if r.Apply.Status != nodeCreated {
		t.Fatalf("apply = %s", r.Apply.Status)
	}
	if w, _ := h.s.Workspace(SeedWorkspace); w.CurrentApplyRunID != "" {
		t.Fatalf("a planned run must release the workspace")
	}
	p := h.runAction("applyRun", "ApplyRunInput", id, nil)
	h.noProblems(p)
	if st := str(p, "run", "status"); st != runQueuingApply && st != runApplyQueued {
		t.Fatalf("applyRun answered %s", st)
	}
	r = h.waitStatus(id, runApplied)
	if r.Apply.Status != nodeFinished || r.StateVersionID == "" || r.Apply.TriggeredBy == nil {
		t.Fatalf("run = %+v", r)
	}
	d := h.ok(h.gql(`query($id: String!) { node(id: $id) { ... on Workspace { currentStateVersion { run { id } outputs { name value type sensitive } } currentApplyRun { id } } } }`,
		map[string]any{"id": "trn:workspace:" + SeedWorkspace}))
	outs := dig(d, "node", "currentStateVersion", "outputs").([]any)
	if len(outs) != 1 || str(outs[0], "name") != "greeting" || str(outs[0], "value") != `"hello world"` || str(outs[0], "type") != `"string"` {
		t.Fatalf("outputs = %v", outs)
	}
	if str(d, "node", "currentStateVersion", "run", "id") != id || dig(d, "node", "currentApplyRun") != nil {
		t.Fatalf("workspace = %v", d)
	}

	// The same configuration again has nothing to change.
	id2 := h.newRun(false, nil)
	r2 := h.waitStatus(id2, runPlannedAndFinished)
	if r2.Plan.HasChanges || r2.Apply.Status != nodeSkipped {
		t.Fatalf("no-change run: plan %+v apply %s", r2.Plan, r2.Apply.Status)
	}
	p = h.runAction("applyRun", "ApplyRunInput", id2, nil)
	if typ, msg := problemOf(p); typ != "CONFLICT" || msg != "the apply phase has already been started for this run" {
		t.Fatalf("applyRun on a finished run: %s %s", typ, msg)
	}
}

func TestAutoApply(t *testing.T) {
	h := start(t)
	id := h.newRun(false, map[string]any{"autoApply": true})
	r := h.waitStatus(id, runApplied)
	if !r.AutoApply || r.Apply.TriggeredBy != nil && *r.Apply.TriggeredBy == "" {
		t.Fatalf("run = %+v", r)
	}
	// autoApply is ignored for speculative runs.
	id = h.newRun(true, map[string]any{"autoApply": true})
	if r := h.waitStatus(id, runPlannedAndFinished); r.AutoApply {
		t.Fatal("speculative run reports autoApply")
	}
}

func TestFailures(t *testing.T) {
	h := start(t)
	h.s.UpdateKnobs(func(k *Knobs) { k.FailPlan = true })
	id := h.newRun(false, nil)
	r := h.waitStatus(id, runErrored)
	if r.Plan.Status != nodeErrored || r.Plan.ErrorMessage == nil || r.Apply.Status != nodeSkipped {
		t.Fatalf("plan failure: %+v", r)
	}
	if j := h.latestJob(id); j.Status != jobFailed {
		t.Fatalf("job %s", j.Status)
	}

	h.s.UpdateKnobs(func(k *Knobs) { k.FailPlan, k.FailApply = false, true })
	id = h.newRun(false, nil)
	h.waitStatus(id, runPlanned)
	h.noProblems(h.runAction("applyRun", "ApplyRunInput", id, nil))
	r = h.waitStatus(id, runErrored)
	if r.Apply.Status != nodeErrored || r.Apply.ErrorMessage == nil || r.StateVersionID != "" {
		t.Fatalf("apply failure: %+v", r)
	}

	// A configuration error fails the plan with Terraform-like diagnostics.
	h.s.UpdateKnobs(func(k *Knobs) { k.FailApply = false })
	cv := h.config(SeedWorkspace, true, map[string]string{"main.tf": `resource "null_resource" "x" {`})
	p := h.createRunAs(h.token, map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace, "configurationVersionId": cv})
	h.noProblems(p)
	id = str(p, "run", "id")
	h.waitStatus(id, runErrored)
	if log := string(h.s.JobLog(toGID(gidJob, h.latestJob(id).ID))); !strings.Contains(log, "Error") {
		t.Fatalf("log of a bad configuration:\n%s", log)
	}
}

func TestAdmission(t *testing.T) {
	h := start(t, func(k *Knobs) { k.JobDuration = time.Hour })
	first := h.newRun(false, nil)
	h.waitStatus(first, runPlanning)
	second := h.newRun(false, nil)
	if st := h.run(second).Status; st != runQueuing {
		t.Fatalf("second run is %s while the first holds the workspace", st)
	}
	spec := h.newRun(true, nil)
	if st := h.run(spec).Status; st == runQueuing {
		t.Fatal("a speculative run must always be admitted")
	}
	if w, _ := h.s.Workspace(SeedWorkspace); w.CurrentApplyRunID != h.run(first).ID {
		t.Fatalf("currentApplyRun = %q", w.CurrentApplyRunID)
	}
	// The first run ends: the second takes the workspace.
	h.noProblems(h.runAction("cancelRun", "CancelRunInput", first, nil))
	h.waitStatus(first, runCanceled)
	h.waitRun(second, "admitted", func(r Run) bool { return r.Status != runQueuing })
	if w, _ := h.s.Workspace(SeedWorkspace); w.CurrentApplyRunID != h.run(second).ID {
		t.Fatal("second run does not hold the workspace")
	}
	h.noProblems(h.runAction("cancelRun", "CancelRunInput", second, nil))
	h.noProblems(h.runAction("cancelRun", "CancelRunInput", spec, nil))
	h.waitStatus(second, runCanceled)

	// A locked workspace queues non-speculative runs until it is unlocked.
	h.s.UpdateKnobs(func(k *Knobs) { k.JobDuration = 0 })
	lock := h.mutation(h.token, "lockWorkspace", "LockWorkspaceInput", "workspace { locked }", map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace})
	h.noProblems(lock)
	again := h.mutation(h.token, "lockWorkspace", "LockWorkspaceInput", "workspace { locked }", map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace})
	if typ, msg := problemOf(again); typ != "CONFLICT" || msg != "workspace already locked" {
		t.Fatalf("second lock: %s %s", typ, msg)
	}
	locked := h.newRun(false, nil)
	if st := h.run(locked).Status; st != runQueuing {
		t.Fatalf("run on a locked workspace is %s", st)
	}
	h.waitStatus(h.newRun(true, nil), runPlannedAndFinished)
	h.noProblems(h.mutation(h.token, "unlockWorkspace", "UnlockWorkspaceInput", "workspace { locked }", map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace}))
	h.waitStatus(locked, runPlanned)
}

func TestDiscardAndStalePlannedRuns(t *testing.T) {
	h := start(t)
	a := h.newRun(false, nil)
	h.waitStatus(a, runPlanned)
	b := h.newRun(false, nil)
	h.waitStatus(b, runPlanned)
	c := h.newRun(false, nil)
	h.waitStatus(c, runPlanned)

	p := h.runAction("discardRun", "DiscardRunInput", c, nil)
	h.noProblems(p)
	if r := h.run(c); r.Status != runDiscarded || r.Apply.Status != nodeSkipped {
		t.Fatalf("discarded run: %s / %s", r.Status, r.Apply.Status)
	}
	p = h.runAction("discardRun", "DiscardRunInput", c, nil)
	if typ, msg := problemOf(p); typ != "CONFLICT" || msg != "run can only be discarded when it is in the planned state" {
		t.Fatalf("discard twice: %s %s", typ, msg)
	}
	h.noProblems(h.runAction("applyRun", "ApplyRunInput", a, nil))
	h.waitStatus(a, runApplied)
	h.waitStatus(b, runDiscarded)
}

func TestCancel(t *testing.T) {
	t.Run("queued job is canceled at once", func(t *testing.T) {
		h := start(t)
		// No runner runs jobs tagged "nowhere".
		h.ok(h.gql(`mutation { updateWorkspace(input: {id: "trn:workspace:sandbox/demo", runnerTags: {inherit: false, tags: ["nowhere"]}}) { problems { message } } }`, nil))
		id := h.newRun(false, nil)
		j := h.latestJob(id)
		if j.Status != jobQueued || h.run(id).Status != runPlanQueued {
			t.Fatalf("job %s, run %s", j.Status, h.run(id).Status)
		}
		p := h.runAction("cancelRun", "CancelRunInput", id, nil)
		h.noProblems(p)
		if str(p, "run", "status") != runCanceled || dig(p, "run", "forceCancelAvailableAt") == nil {
			t.Fatalf("cancel answered %v", p["run"])
		}
		if j := h.latestJob(id); j.Status != jobCanceled {
			t.Fatalf("job %s", j.Status)
		}
	})
	t.Run("running job is canceled gracefully", func(t *testing.T) {
		h := start(t, func(k *Knobs) { k.JobDuration = time.Hour })
		id := h.newRun(false, nil)
		h.waitJob(id, "plan", jobRunning)
		p := h.runAction("cancelRun", "CancelRunInput", id, nil)
		h.noProblems(p)
		// The run keeps its status until the job stops.
		if st := str(p, "run", "status"); st != runPlanning {
			t.Fatalf("run answered %s", st)
		}
		if st := str(p, "run", "plan", "currentJob", "status"); st != jobCanceling && st != jobCanceled {
			t.Fatalf("job answered %s", st)
		}
		r := h.waitStatus(id, runCanceled)
		if r.ForceCanceled || r.Plan.Status != nodeCanceled || r.Apply.Status != nodeSkipped {
			t.Fatalf("run = %+v", r)
		}
		j := h.latestJob(id)
		if j.Status != jobCanceled || j.ForceCanceled {
			t.Fatalf("job = %+v", j)
		}
		if log := string(h.s.JobLog(toGID(gidJob, j.ID))); !strings.Contains(log, "Interrupt received") {
			t.Fatalf("log:\n%s", log)
		}
	})
	t.Run("force cancel only after forceCancelAvailableAt", func(t *testing.T) {
		h := start(t, func(k *Knobs) { k.JobDuration = time.Hour; k.IgnoreGracefulCancel = true })
		id := h.newRun(false, nil)
		h.waitJob(id, "plan", jobRunning)
		p := h.runAction("cancelRun", "CancelRunInput", id, map[string]any{"force": true})
		if typ, msg := problemOf(p); typ != "BAD_REQUEST" || msg != "run has not already received a graceful request to cancel" {
			t.Fatalf("force first: %s %s", typ, msg)
		}
		h.noProblems(h.runAction("cancelRun", "CancelRunInput", id, nil))
		h.waitJob(id, "plan", jobCanceling)
		at := *h.run(id).ForceCancelAvailableAt
		p = h.runAction("cancelRun", "CancelRunInput", id, map[string]any{"force": true})
		typ, msg := problemOf(p)
		if typ != "BAD_REQUEST" || !strings.Contains(msg, "force cancel will be available at "+at.String()) {
			t.Fatalf("early force: %s %s", typ, msg)
		}
		if st := h.run(id).Status; st != runPlanning {
			t.Fatalf("job ignoring the cancel: run %s", st)
		}
		h.clock.Advance(2 * time.Minute)
		p = h.runAction("cancelRun", "CancelRunInput", id, map[string]any{"force": true})
		h.noProblems(p)
		r := h.run(id)
		if r.Status != runCanceled || !r.ForceCanceled || r.ForceCanceledBy == nil {
			t.Fatalf("run = %+v", r)
		}
		if j := h.latestJob(id); j.Status != jobCanceled || !j.ForceCanceled {
			t.Fatalf("job = %+v", j)
		}
	})
	t.Run("force-canceled apply leaves the workspace dirty", func(t *testing.T) {
		h := start(t, func(k *Knobs) { k.IgnoreGracefulCancel = true })
		id := h.newRun(false, nil)
		h.waitStatus(id, runPlanned)
		h.s.UpdateKnobs(func(k *Knobs) { k.JobDuration = time.Hour })
		h.noProblems(h.runAction("applyRun", "ApplyRunInput", id, nil))
		h.waitJob(id, "apply", jobRunning)
		h.noProblems(h.runAction("cancelRun", "CancelRunInput", id, nil))
		h.waitJob(id, "apply", jobCanceling)
		if st := h.run(id).Status; st != runApplying {
			t.Fatalf("run %s", st)
		}
		h.clock.Advance(2 * time.Minute)
		h.noProblems(h.runAction("cancelRun", "CancelRunInput", id, map[string]any{"force": true}))
		if r := h.run(id); r.Status != runCanceled || r.Apply.Status != nodeCanceled {
			t.Fatalf("run = %+v", r)
		}
		if w, _ := h.s.Workspace(SeedWorkspace); !w.DirtyState || w.CurrentApplyRunID != "" {
			t.Fatalf("workspace = %+v", w)
		}
	})
	t.Run("planned run", func(t *testing.T) {
		h := start(t)
		id := h.newRun(false, nil)
		h.waitStatus(id, runPlanned)
		h.noProblems(h.runAction("cancelRun", "CancelRunInput", id, nil))
		if r := h.run(id); r.Status != runCanceled || r.Apply.Status != nodeCanceled {
			t.Fatalf("run = %s apply %s", r.Status, r.Apply.Status)
		}
	})
	t.Run("finished runs cannot be canceled", func(t *testing.T) {
		h := start(t)
		spec := h.newRun(true, nil)
		h.waitStatus(spec, runPlannedAndFinished)
		applied := h.newRun(false, map[string]any{"autoApply": true})
		h.waitStatus(applied, runApplied)
		discarded := h.newRun(false, map[string]any{"variables": []map[string]any{{"category": "terraform", "key": "name", "value": "x"}}})
		h.waitStatus(discarded, runPlanned)
		h.noProblems(h.runAction("discardRun", "DiscardRunInput", discarded, nil))
		canceled := h.newRun(false, map[string]any{"variables": []map[string]any{{"category": "terraform", "key": "name", "value": "y"}}})
		h.waitStatus(canceled, runPlanned)
		h.noProblems(h.runAction("cancelRun", "CancelRunInput", canceled, nil))
		h.s.UpdateKnobs(func(k *Knobs) { k.FailPlan = true })
		errored := h.newRun(false, nil)
		h.waitStatus(errored, runErrored)
		for id, want := range map[string]string{
			spec:      "run has been planned and finished, so it cannot be canceled",
			applied:   "run has been applied, so it cannot be canceled",
			discarded: "run has been discarded, so it cannot be canceled",
			canceled:  "run has already been canceled",
			errored:   "run has errored, so it cannot be canceled",
		} {
			p := h.runAction("cancelRun", "CancelRunInput", id, nil)
			if typ, msg := problemOf(p); typ != "BAD_REQUEST" || msg != want {
				t.Errorf("cancel %s: %s %q, want %q", h.run(id).Status, typ, msg, want)
			}
		}
	})
}

func TestDestroyWorkspace(t *testing.T) {
	h := start(t)
	destroy := func() map[string]any {
		return h.mutation(h.token, "destroyWorkspace", "DestroyWorkspaceInput", runFields, map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace})
	}
	if typ, msg := problemOf(destroy()); typ != "CONFLICT" || msg != "workspace has no current state version" {
		t.Fatalf("destroy without state: %s %s", typ, msg)
	}
	id := h.newRun(false, map[string]any{"autoApply": true, "variables": []map[string]any{{"category": "terraform", "key": "name", "value": "moon"}}})
	h.waitStatus(id, runApplied)
	p := destroy()
	h.noProblems(p)
	did := str(p, "run", "id")
	if dig(p, "run", "isDestroy") != true {
		t.Fatalf("destroy run = %v", p["run"])
	}
	r := h.waitStatus(did, runPlanned)
	if r.Plan.Summary.Destroy != 2 || r.ConfigurationVersionID != h.run(id).ConfigurationVersionID {
		t.Fatalf("destroy plan = %+v", r.Plan.Summary)
	}
	if len(r.Variables) != 1 || r.Variables[0].Value != "moon" {
		t.Fatalf("destroy run variables = %+v", r.Variables)
	}
	h.noProblems(h.runAction("applyRun", "ApplyRunInput", did, nil))
	h.waitStatus(did, runApplied)
	if w, _ := h.s.Workspace(SeedWorkspace); !w.Destroyed {
		t.Fatal("workspace not destroyed")
	}
}

// The example module the README demo applies goes through plan and apply.
func TestExampleModule(t *testing.T) {
	b, err := os.ReadFile("../../examples/demo/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	h := start(t)
	cv := h.config(SeedWorkspace, false, map[string]string{"main.tf": string(b)})
	p := h.createRunAs(h.token, map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace, "configurationVersionId": cv, "autoApply": true})
	h.noProblems(p)
	id := str(p, "run", "id")
	r := h.waitRun(id, "the end", func(r Run) bool { return runIsComplete(r.Status) })
	if r.Status != runApplied {
		log := h.s.JobLog(toGID(gidJob, h.latestJob(id).ID))
		t.Fatalf("example run %s:\n%s", r.Status, log)
	}
	d := h.ok(h.gql(`query { node(id: "trn:workspace:sandbox/demo") { ... on Workspace { currentStateVersion { outputs { name value } } } } }`, nil))
	outs := dig(d, "node", "currentStateVersion", "outputs").([]any)
	if len(outs) != 3 {
		t.Fatalf("outputs = %v", outs)
	}
}
