package sandbox

import (
	"testing"
)

func TestRunnerAvailability(t *testing.T) {
	h := start(t, func(k *Knobs) { k.RequireRunnerServiceAccount = true })
	ws := "trn:workspace:" + SeedWorkspace
	p := h.mutation(h.token, "updateWorkspace", "UpdateWorkspaceInput", "workspace { runnerTags { inherited value } }",
		map[string]any{"id": ws, "runnerTags": map[string]any{"inherit": false, "tags": []string{"gpu"}}})
	h.noProblems(p)

	id := h.newRun(false, nil)
	jobStatus := func() (string, string) {
		d := h.ok(h.gql(`query($id: String!) { node(id: $id) { ... on Run { plan { currentJob { status runnerAvailabilityStatus tags runnerPath } } } } }`, map[string]any{"id": id}))
		return str(d, "node", "plan", "currentJob", "status"), str(d, "node", "plan", "currentJob", "runnerAvailabilityStatus")
	}
	if st, av := jobStatus(); st != jobQueued || av != "NONE" {
		t.Fatalf("no runner: job %s %s", st, av)
	}

	// A disabled runner with the tag does not count.
	p = h.mutation(h.token, "createRunner", "CreateRunnerInput", "runner { id type disabled tags sessions(first: 5) { totalCount } }", map[string]any{
		"name": "gpu-runner", "description": "tagged", "groupId": "trn:group:" + SeedGroup,
		"runUntaggedJobs": false, "tags": []string{"gpu"}, "disabled": true})
	h.noProblems(p)
	runner := str(p, "runner", "id")
	if str(p, "runner", "type") != "group" || dig(p, "runner", "disabled") != true {
		t.Fatalf("runner = %v", p["runner"])
	}
	if st, av := jobStatus(); st != jobQueued || av != "NONE" {
		t.Fatalf("disabled runner: job %s %s", st, av)
	}

	// Enabled but without a service account its agent cannot log in.
	p = h.mutation(h.token, "updateRunner", "UpdateRunnerInput", "runner { disabled }", map[string]any{
		"id": runner, "description": "tagged", "disabled": false})
	h.noProblems(p)
	if st, av := jobStatus(); st != jobQueued || av != "INACTIVE" {
		t.Fatalf("runner without service account: job %s %s", st, av)
	}
	if r := h.run(id); r.Status != runPlanQueued {
		t.Fatalf("run %s", r.Status)
	}

	// Assigning a service account makes it usable: the job runs.
	p = h.mutation(h.token, "createServiceAccount", "CreateServiceAccountInput", "serviceAccount { id resourcePath } clientSecret", map[string]any{
		"name": "runner-sa", "description": "", "groupId": "trn:group:" + SeedGroup,
		"enableClientCredentials": false,
		"oidcTrustPolicies":       []map[string]any{{"issuer": "https://issuer.example", "boundClaims": []map[string]any{{"name": "sub", "value": "x"}}}}})
	h.noProblems(p)
	if p["clientSecret"] != nil {
		t.Fatal("secret without client credentials")
	}
	sa := str(p, "serviceAccount", "id")
	assign := func() map[string]any {
		return h.mutation(h.token, "assignServiceAccountToRunner", "AssignServiceAccountToRunnerInput",
			"runner { assignedServiceAccounts(first: 5) { totalCount } } serviceAccount { id }",
			map[string]any{"runnerId": runner, "serviceAccountId": sa})
	}
	p = assign()
	h.noProblems(p)
	if dig(p, "runner", "assignedServiceAccounts", "totalCount") != float64(1) {
		t.Fatalf("assigned = %v", p["runner"])
	}
	h.waitStatus(id, runPlanned)
	if j := h.latestJob(id); j.RunnerPath == nil || *j.RunnerPath != SeedGroup+"/gpu-runner" {
		t.Fatalf("job ran on %v", j.RunnerPath)
	}
	if typ, msg := problemOf(assign()); typ != "CONFLICT" || msg != "service account already assigned to runner" {
		t.Fatalf("second assign: %s %s", typ, msg)
	}
	d := h.ok(h.gql(`query($id: String!) { node(id: $id) { ... on Runner { sessions(first: 5) { totalCount edges { node { active internal } } } jobs(first: 5) { totalCount } } } }`, map[string]any{"id": runner}))
	if dig(d, "node", "sessions", "totalCount") != float64(1) || dig(d, "node", "jobs", "totalCount") != float64(1) {
		t.Fatalf("runner = %v", d)
	}

	// Shared runners take no service accounts.
	p = h.mutation(h.token, "assignServiceAccountToRunner", "AssignServiceAccountToRunnerInput", "runner { id }",
		map[string]any{"runnerId": "trn:runner:" + SeedRunner, "serviceAccountId": sa})
	if typ, msg := problemOf(p); typ != "BAD_REQUEST" || msg != "service account cannot be assigned to shared runner" {
		t.Fatalf("shared runner: %s %s", typ, msg)
	}
	h.noProblems(h.mutation(h.token, "unassignServiceAccountFromRunner", "AssignServiceAccountToRunnerInput", "runner { id }",
		map[string]any{"runnerId": runner, "serviceAccountId": sa}))

	// Listing.
	d = h.ok(h.gql(`query { sharedRunners(first: 10) { totalCount edges { node { name type runUntaggedJobs } } }
	  node(id: "trn:group:sandbox") { ... on Group { runners(first: 10) { totalCount } } } }`, nil))
	if dig(d, "sharedRunners", "totalCount") != float64(1) || dig(d, "node", "runners", "totalCount") != float64(1) {
		t.Fatalf("runners = %v", d)
	}
	p = h.mutation(h.token, "deleteRunner", "DeleteRunnerInput", "runner { id }", map[string]any{"id": runner})
	h.noProblems(p)
}

func TestUntaggedJobsNeedRunnerThatRunsThem(t *testing.T) {
	h := start(t)
	// Disable the shared runner (admin mode is needed for shared runners).
	p := h.mutation(h.token, "updateRunner", "UpdateRunnerInput", "runner { id }", map[string]any{"id": "trn:runner:" + SeedRunner, "description": "", "disabled": true})
	if typ, _ := problemOf(p); typ != "FORBIDDEN" {
		t.Fatalf("shared runner update without admin mode: %s", typ)
	}
	h.noProblems(h.mutation(h.token, "activateAdminMode", "ActivateAdminModeInput", "user { adminModeEnabled }", map[string]any{}))
	h.noProblems(h.mutation(h.token, "updateRunner", "UpdateRunnerInput", "runner { id }", map[string]any{"id": "trn:runner:" + SeedRunner, "description": "", "disabled": true}))
	id := h.newRun(true, nil)
	if j := h.latestJob(id); j.Status != jobQueued {
		t.Fatalf("job %s", j.Status)
	}
	h.noProblems(h.mutation(h.token, "updateRunner", "UpdateRunnerInput", "runner { id }", map[string]any{"id": "trn:runner:" + SeedRunner, "description": "", "disabled": false}))
	h.waitStatus(id, runPlannedAndFinished)
}
