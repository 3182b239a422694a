package run_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/runflow"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// actRunJSON is the JSON shape of `run get` (and of `run list` items).
type actRunJSON struct {
	ID          string `json:"id"`
	TRN         string `json:"trn"`
	Workspace   string `json:"workspace"`
	Status      string `json:"status"`
	PlanStatus  string `json:"plan_status"`
	ApplyStatus string `json:"apply_status"`
	Speculative bool   `json:"speculative"`
	Destroy     bool   `json:"destroy"`
	HasChanges  bool   `json:"has_changes"`
	Summary     *struct {
		Add, Change, Destroy int
	} `json:"plan_summary"`
	Source struct {
		Kind                   string `json:"kind"`
		ConfigurationVersionID string `json:"configuration_version_id"`
		ModuleSource           string `json:"module_source"`
		ModuleVersion          string `json:"module_version"`
		ModuleDigest           string `json:"module_digest"`
	} `json:"source"`
	CreatedBy   string      `json:"created_by"`
	CreatedAt   time.Time   `json:"created_at"`
	Comment     string      `json:"comment"`
	PlanJob     *actJobJSON `json:"plan_job"`
	ApplyJob    *actJobJSON `json:"apply_job"`
	TriggeredBy string      `json:"apply_triggered_by"`
	ForceAt     *time.Time  `json:"force_cancel_available_at"`
	Forced      bool        `json:"force_canceled"`
	ForcedBy    string      `json:"force_canceled_by"`
}

type actJobJSON struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"`
	Runner     string     `json:"runner"`
	LogBytes   int        `json:"log_bytes"`
	QueuedAt   *time.Time `json:"queued_at"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// TestRunGet: `run get` shows, in text and JSON, what the server holds:
// status, kind, source, creator, plan summary, plan and apply status, job
// IDs and timings, and the force-cancel time once a cancel was asked for.
func TestRunGet(t *testing.T) {
	const modSrc = "registry.sandbox.local/sandbox/mod/aws"
	srv := startSandbox(t)
	if err := srv.RegisterModule(modSrc, "1.2.0", map[string][]byte{"main.tf": []byte(`resource "terraform_data" "m" {}`)}); err != nil {
		t.Fatal(err)
	}
	o := clitest.Options{Env: env(srv)}
	dir := configDir(t, map[string]string{"main.tf": oneResource})
	runs := map[string]string{}
	run := func(name string, args ...string) {
		t.Helper()
		res := tharsis(t, o, args...)
		if res.Code != 0 && res.Code != 3 {
			t.Fatalf("%s: exit %d", name, res.Code)
		}
		runs[name] = runGID(lastRun(t, srv, ws))
	}
	run("applied", "apply", ws, "--directory-path", dir, "--auto-approve", "--comment", "first apply")
	run("speculative", "plan", ws, "--directory-path", dir)
	run("speculative destroy", "plan", ws, "--directory-path", dir, "--destroy")
	run("module", "apply", ws, "--module-source", modSrc, "--input=false")
	run("discarded", "run", "discard", runs["module"])
	runs["discarded"] = runs["module"]
	run("destroy", "destroy", ws, "--directory-path", dir, "--auto-approve")
	// A canceled run: the force-cancel time is set once a cancel was asked.
	canceled := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
	actWaitRun(t, srv, canceled, "planned", actStatus("planned"))
	wantCode(t, tharsis(t, o, "run", "cancel", canceled), 0)
	runs["canceled"] = canceled

	for _, tc := range []struct {
		name   string
		kind   string
		status string
		apply  string // apply status, "" for none
		source string
	}{
		{"applied", "apply", "applied", "finished", "configuration_version"},
		{"speculative", "speculative plan", "planned_and_finished", "", "configuration_version"},
		{"speculative destroy", "speculative destroy plan", "planned_and_finished", "", "configuration_version"},
		{"discarded", "apply", "discarded", "skipped", "module"},
		{"destroy", "destroy", "applied", "finished", "configuration_version"},
		{"canceled", "apply", "canceled", "canceled", "configuration_version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := runs[tc.name]
			r, _ := srv.Run(id)
			jobs := srv.Jobs(id)
			if r.Status != tc.status {
				t.Fatalf("the test's run is %s, want %s", r.Status, tc.status)
			}

			res := tharsis(t, o, "run", "get", id, "-o", "json")
			wantCode(t, res, 0)
			var v actRunJSON
			actDecode(t, res.Stdout, &v)
			if v.ID != id || v.Workspace != ws || v.TRN != "trn:run:"+ws+"/"+id || v.Status != tc.status || v.ApplyStatus != tc.apply {
				t.Errorf("id %s workspace %s trn %s status %s apply %q", v.ID, v.Workspace, v.TRN, v.Status, v.ApplyStatus)
			}
			if v.Speculative != (r.Apply == nil) || v.Destroy != r.IsDestroy || v.HasChanges != r.Plan.HasChanges {
				t.Errorf("speculative %v destroy %v has_changes %v; server: %+v", v.Speculative, v.Destroy, v.HasChanges, r)
			}
			if v.CreatedBy != r.CreatedBy || v.CreatedBy == "" || !v.CreatedAt.Equal(r.CreatedAt) {
				t.Errorf("created by %q at %v; server: %q at %v", v.CreatedBy, v.CreatedAt, r.CreatedBy, r.CreatedAt)
			}
			if v.Source.Kind != tc.source {
				t.Errorf("source %+v", v.Source)
			}
			switch tc.source {
			case "module":
				if v.Source.ModuleSource != modSrc || v.Source.ModuleVersion != "1.2.0" || v.Source.ModuleDigest == "" {
					t.Errorf("source %+v", v.Source)
				}
			default:
				if want := sandbox.GID("configuration_version", r.ConfigurationVersionID); v.Source.ConfigurationVersionID != want {
					t.Errorf("configuration version %s, want %s", v.Source.ConfigurationVersionID, want)
				}
			}
			if v.Summary == nil || v.Summary.Add != int(r.Plan.Summary.Add) || v.Summary.Destroy != int(r.Plan.Summary.Destroy) {
				t.Errorf("plan summary %+v; server %+v", v.Summary, r.Plan.Summary)
			}
			for _, j := range jobs {
				got := v.PlanJob
				if j.Type == "apply" {
					got = v.ApplyJob
				}
				if got == nil {
					t.Errorf("no %s job in the output", j.Type)
					continue
				}
				if got.ID != sandbox.GID("job", j.ID) || got.Status != j.Status || got.LogBytes != len(srv.JobLog(got.ID)) ||
					got.Runner != sandbox.SeedRunner || got.StartedAt == nil || got.FinishedAt == nil || got.QueuedAt == nil {
					t.Errorf("%s job %+v; server %+v", j.Type, got, j)
				}
			}
			if (v.ApplyJob != nil) != (len(jobs) == 2) {
				t.Errorf("apply job %+v, server jobs %d", v.ApplyJob, len(jobs))
			}
			if tc.name == "applied" && (v.Comment != "first apply" || v.TriggeredBy == "") {
				t.Errorf("comment %q, triggered by %q", v.Comment, v.TriggeredBy)
			}
			if (v.ForceAt != nil) != (r.ForceCancelAvailableAt != nil) || (v.ForceAt != nil && !v.ForceAt.Equal(*r.ForceCancelAvailableAt)) {
				t.Errorf("force cancel available at %v; server %v", v.ForceAt, r.ForceCancelAvailableAt)
			}

			res = tharsis(t, o, "run", "get", id)
			wantCode(t, res, 0)
			out := res.Stdout
			line := func(k, v string) {
				t.Helper()
				if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(k) + `:\s+` + regexp.QuoteMeta(v)).MatchString(out) {
					t.Errorf("no line %q: %q in\n%s", k, v, out)
				}
			}
			line("Run", id)
			line("Workspace", ws)
			line("Kind", tc.kind)
			line("Created by", r.CreatedBy)
			line("Plan", "finished — ")
			if tc.source == "module" {
				line("Source", "module "+modSrc+" 1.2.0")
			} else {
				line("Source", "configuration version "+v.Source.ConfigurationVersionID)
			}
			for _, j := range jobs {
				label := map[string]string{"plan": "Plan job", "apply": "Apply job"}[j.Type]
				line(label, sandbox.GID("job", j.ID)+" ("+j.Status)
				line(label+" took", "")
			}
			if tc.apply != "" {
				line("Apply", tc.apply)
			} else if strings.Contains(out, "\nApply:") {
				t.Errorf("a speculative run shows an apply:\n%s", out)
			}
			if r.ForceCancelAvailableAt != nil {
				line("Force cancel available", r.ForceCancelAvailableAt.Local().Format("2006-01-02 15:04:05"))
			} else if strings.Contains(out, "Force cancel") {
				t.Errorf("a force-cancel time without a cancel:\n%s", out)
			}
		})
	}

	t.Run("force canceled", func(t *testing.T) {
		srv := startSandbox(t, func(k *sandbox.Knobs) {
			k.JobDuration = time.Minute
			k.IgnoreGracefulCancel = true
			k.ForceCancelDelay = time.Millisecond
		})
		id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
		actWaitRun(t, srv, id, "running", actJobRunning("plan"))
		wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "run", "cancel", id, "--force"), 0)
		res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "get", id, "-o", "json")
		wantCode(t, res, 0)
		var v actRunJSON
		actDecode(t, res.Stdout, &v)
		if !v.Forced || v.ForcedBy == "" || v.ForceAt == nil || v.Status != "canceled" || v.PlanStatus != "canceled" {
			t.Errorf("%+v", v)
		}
		res = tharsis(t, clitest.Options{Env: env(srv)}, "run", "get", id)
		wantContains(t, "stdout", res.Stdout, "Force canceled by:", "Force cancel available:")
	})

	t.Run("cancel requested", func(t *testing.T) {
		srv := startSandbox(t, func(k *sandbox.Knobs) {
			k.JobDuration, k.IgnoreGracefulCancel, k.ForceCancelDelay = time.Minute, true, time.Hour
		})
		id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
		actWaitRun(t, srv, id, "running", actJobRunning("plan"))
		o := clitest.Options{Env: env(srv)}
		res := tharsis(t, o, "run", "get", id)
		wantNotContains(t, "stdout", res.Stdout, "cancel requested", "Force cancel")
		wantCode(t, tharsis(t, o, "run", "cancel", id, "--no-wait"), 0)
		res = tharsis(t, o, "run", "get", id)
		wantCode(t, res, 0)
		r, _ := srv.Run(id)
		if !regexp.MustCompile(`(?m)^Status:\s+planning \(cancel requested\)$`).MatchString(res.Stdout) ||
			!regexp.MustCompile(`(?m)^Force cancel available:\s+`+r.ForceCancelAvailableAt.Local().Format("2006-01-02 15:04:05")).MatchString(res.Stdout) {
			t.Errorf("run get:\n%s", res.Stdout)
		}
		res = tharsis(t, o, "run", "get", id, "-o", "json")
		var v actRunJSON
		actDecode(t, res.Stdout, &v)
		if v.Status != "planning" || v.ForceAt == nil || !v.ForceAt.Equal(*r.ForceCancelAvailableAt) {
			t.Errorf("JSON %+v", v)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"run", "get", sandbox.GID("run", "00000000-0000-0000-0000-000000000000")}, 5, "not found"},
			{[]string{"run", "get", sandbox.GID("job", "00000000-0000-0000-0000-000000000000")}, 5, ""},
			{[]string{"run", "get"}, 64, ""},
			{[]string{"run", "get", "a", "b"}, 64, ""},
		} {
			res := tharsis(t, o, tc.args...)
			wantCode(t, res, tc.code)
			wantContains(t, "stderr", res.Stderr, tc.want)
		}
	})
}

// TestRunList: newest first, a page at a time with --limit and --cursor,
// filtered by status, in text and JSON.
func TestRunList(t *testing.T) {
	srv := startSandbox(t)
	o := clitest.Options{Env: env(srv)}
	dir := configDir(t, map[string]string{"main.tf": oneResource})
	var ids []string // oldest first
	add := func(args ...string) {
		t.Helper()
		res := tharsis(t, o, args...)
		if res.Code != 0 {
			t.Fatalf("exit %d", res.Code)
		}
		ids = append(ids, runGID(lastRun(t, srv, ws)))
	}
	add("apply", ws, "--directory-path", dir, "--auto-approve")                                                         // applied
	add("plan", ws, "--directory-path", dir)                                                                            // planned_and_finished
	add("plan", ws, "--directory-path", configDir(t, map[string]string{"main.tf": `resource "terraform_data" "z" {}`})) // planned_and_finished
	add("apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": `resource "terraform_data" "y" {}`}), "--input=false")
	wantCode(t, tharsis(t, o, "run", "discard", ids[3]), 0) // discarded
	add("plan", ws, "--directory-path", dir)                // planned_and_finished
	newest := slices.Clone(ids)
	slices.Reverse(newest)

	type page struct {
		Items    []actRunJSON `json:"items"`
		PageInfo struct {
			TotalCount  int    `json:"total_count"`
			HasNextPage bool   `json:"has_next_page"`
			EndCursor   string `json:"end_cursor"`
		} `json:"page_info"`
	}
	list := func(t *testing.T, args ...string) page {
		t.Helper()
		res := tharsis(t, o, append([]string{"run", "list", ws, "-o", "json"}, args...)...)
		wantCode(t, res, 0)
		var p page
		actDecode(t, res.Stdout, &p)
		return p
	}
	idsOf := func(p page) []string {
		var out []string
		for _, it := range p.Items {
			out = append(out, it.ID)
		}
		return out
	}

	t.Run("all, newest first", func(t *testing.T) {
		p := list(t)
		if got := idsOf(p); !slices.Equal(got, newest) {
			t.Fatalf("runs %v, want %v", got, newest)
		}
		if p.PageInfo.TotalCount != 5 || p.PageInfo.HasNextPage || p.PageInfo.EndCursor != "" {
			t.Errorf("page info %+v", p.PageInfo)
		}
		if p.Items[0].Status != "planned_and_finished" || p.Items[1].Status != "discarded" || p.Items[4].Status != "applied" {
			t.Errorf("statuses %+v", p.Items)
		}
	})

	t.Run("pages", func(t *testing.T) {
		var got []string
		cursor := ""
		for i := 0; ; i++ {
			args := []string{"--limit", "2"}
			if cursor != "" {
				args = append(args, "--cursor", cursor)
			}
			p := list(t, args...)
			if len(p.Items) > 2 || i > 3 {
				t.Fatalf("page %d: %d items", i, len(p.Items))
			}
			got = append(got, idsOf(p)...)
			if !p.PageInfo.HasNextPage {
				if p.PageInfo.EndCursor != "" {
					t.Errorf("last page with a cursor: %+v", p.PageInfo)
				}
				break
			}
			if p.PageInfo.EndCursor == "" {
				t.Fatalf("page %d: more pages but no cursor", i)
			}
			cursor = p.PageInfo.EndCursor
		}
		if !slices.Equal(got, newest) {
			t.Fatalf("pages gave %v, want %v", got, newest)
		}
	})

	t.Run("pages in text", func(t *testing.T) {
		res := tharsis(t, o, "run", "list", ws, "--limit", "3")
		wantCode(t, res, 0)
		// Without a terminal: tab-separated rows, no header.
		rows := strings.Split(strings.TrimSpace(res.Stdout), "\n")
		if len(rows) != 3 {
			t.Fatalf("table:\n%s", res.Stdout)
		}
		for i, id := range newest[:3] {
			if !strings.HasPrefix(rows[i], id+"\t") {
				t.Errorf("row %d is not %s: %s", i, id, rows[i])
			}
		}
		wantContains(t, "rows", rows[0], "\tplanned and finished\tspeculative plan\t+0 ~0 -0\tadmin")
		wantContains(t, "rows", rows[1], "\tdiscarded\tapply\t+1 ~0 -1\t")
		c := regexp.MustCompile(`More runs: --cursor (\S+)`).FindStringSubmatch(res.Stderr)
		if c == nil {
			t.Fatalf("no cursor in stderr: %s", res.Stderr)
		}
		res = tharsis(t, o, "run", "list", ws, "--limit", "3", "--cursor", c[1])
		wantCode(t, res, 0)
		rows = strings.Split(strings.TrimSpace(res.Stdout), "\n")
		if len(rows) != 2 || !strings.HasPrefix(rows[0], newest[3]) || !strings.HasPrefix(rows[1], newest[4]) {
			t.Fatalf("second page:\n%s", res.Stdout)
		}
		wantContains(t, "rows", rows[1], "\tapplied\tapply\t+1 ~0 -0\t")
		wantNotContains(t, "stderr", res.Stderr, "More runs")
	})

	t.Run("by status", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{[]string{"--status", "planned_and_finished"}, []string{newest[0], newest[2], newest[3]}},
			{[]string{"--status", "discarded,applied"}, []string{newest[1], newest[4]}},
			{[]string{"--status", "discarded", "--status", "applied"}, []string{newest[1], newest[4]}},
			{[]string{"--status", "errored"}, nil},
		} {
			if got := idsOf(list(t, tc.args...)); !slices.Equal(got, tc.want) {
				t.Errorf("%v: %v, want %v", tc.args, got, tc.want)
			}
		}
		// Filtered pages resume after the last run shown.
		p := list(t, "--status", "planned_and_finished", "--limit", "2")
		if got := idsOf(p); !slices.Equal(got, []string{newest[0], newest[2]}) || !p.PageInfo.HasNextPage {
			t.Fatalf("first filtered page %v %+v", got, p.PageInfo)
		}
		p = list(t, "--status", "planned_and_finished", "--limit", "2", "--cursor", p.PageInfo.EndCursor)
		if got := idsOf(p); !slices.Equal(got, []string{newest[3]}) || p.PageInfo.HasNextPage {
			t.Fatalf("second filtered page %v %+v", got, p.PageInfo)
		}
	})

	t.Run("empty and errors", func(t *testing.T) {
		if err := srv.CreateWorkspace(sandbox.SeedGroup, "empty"); err != nil {
			t.Fatal(err)
		}
		res := tharsis(t, o, "run", "list", sandbox.SeedGroup+"/empty")
		wantCode(t, res, 0)
		wantContains(t, "stderr", res.Stderr, "No runs in workspace sandbox/empty")
		res = tharsis(t, o, "run", "list", sandbox.SeedGroup+"/empty", "-o", "json")
		wantCode(t, res, 0)
		var p page
		actDecode(t, res.Stdout, &p)
		if p.Items == nil || len(p.Items) != 0 {
			t.Errorf("items %v, want []", p.Items)
		}
		wantContains(t, "stdout", res.Stdout, `"items": []`)
		for _, args := range [][]string{{"--limit", "0"}, {"--limit", "101"}, {"--status", "running"}} {
			wantCode(t, tharsis(t, o, append([]string{"run", "list", ws}, args...)...), 64)
		}
		wantCode(t, tharsis(t, o, "run", "list", "sandbox/absent"), 5)
	})
}

// TestRunLogs: the logs of a finished run byte for byte, one phase at a
// time, and a live job followed to its end.
func TestRunLogs(t *testing.T) {
	t.Run("finished", func(t *testing.T) {
		srv := startSandbox(t, func(k *sandbox.Knobs) { k.LogVolumeBytes = 200 << 10 })
		o := clitest.Options{Env: env(srv)}
		wantCode(t, tharsis(t, o, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}), "--auto-approve"), 0)
		applied := lastRun(t, srv, ws)
		plan, apply := jobLogs(t, srv, applied)
		wantCode(t, tharsis(t, o, "plan", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource})), 0)
		spec := lastRun(t, srv, ws)
		specPlan, _ := jobLogs(t, srv, spec)
		if len(plan) < 200<<10 || len(apply) < 200<<10 {
			t.Fatalf("logs too small for the test: %d, %d", len(plan), len(apply))
		}
		for _, tc := range []struct {
			run    sandbox.Run
			args   []string
			stdout string
			stderr string
		}{
			{applied, nil, string(plan) + string(apply), ""},
			{applied, []string{"--phase", "plan"}, string(plan), ""},
			{applied, []string{"--phase", "apply"}, string(apply), ""},
			{applied, []string{"--follow"}, string(plan) + string(apply), ""},
			{spec, nil, string(specPlan), ""},
			{spec, []string{"--phase", "apply"}, "", "has no apply job (status: planned and finished)"},
		} {
			res := tharsis(t, o, append([]string{"run", "logs", runGID(tc.run)}, tc.args...)...)
			wantCode(t, res, 0)
			if res.Stdout != tc.stdout {
				t.Errorf("%v: stdout is %d bytes, want %d (first difference at %d)", tc.args, len(res.Stdout), len(tc.stdout), actFirstDiff([]byte(res.Stdout), []byte(tc.stdout)))
			}
			wantContains(t, "stderr", res.Stderr, tc.stderr)
		}
		res := tharsis(t, o, "run", "logs", runGID(applied), "-o", "json")
		wantCode(t, res, 0)
		var doc struct {
			RunID string `json:"run_id"`
			Jobs  []struct {
				Phase string `json:"phase"`
				Bytes int    `json:"bytes"`
				Log   string `json:"log"`
			} `json:"jobs"`
		}
		if err := json.Unmarshal([]byte(res.Stdout), &doc); err != nil {
			t.Fatalf("-o json is not JSON: %v\n%s", err, res.Stdout)
		}
		if doc.RunID != runGID(applied) || len(doc.Jobs) != 2 || doc.Jobs[0].Phase != "plan" || doc.Jobs[1].Phase != "apply" ||
			doc.Jobs[0].Log != string(plan) || doc.Jobs[1].Log != string(apply) || doc.Jobs[1].Bytes != len(apply) {
			t.Errorf("-o json = %+v", doc)
		}
		res = tharsis(t, o, "run", "logs", runGID(applied), "--follow", "-o", "json")
		wantCode(t, res, 0)
		var got strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
			var ev struct {
				Type string `json:"type"`
				Data string `json:"data"`
			}
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("--follow -o json line is not JSON: %v: %q", err, line)
			}
			if ev.Type == "log" {
				got.WriteString(ev.Data)
			}
		}
		if got.String() != string(plan)+string(apply) {
			t.Errorf("--follow -o json events reassemble %d bytes, want %d", got.Len(), len(plan)+len(apply))
		}
		wantCode(t, tharsis(t, o, "run", "logs", runGID(applied), "--phase", "destroy"), 64)
	})

	t.Run("follow a live run", func(t *testing.T) {
		srv := startSandbox(t, func(k *sandbox.Knobs) {
			k.JobDuration = 800 * time.Millisecond
			k.LogVolumeBytes = 64 << 10
		})
		id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, func(s *runflow.Spec) { s.AutoApply = true })
		actWaitRun(t, srv, id, "running its plan", actJobRunning("plan"))
		res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "logs", id, "--follow")
		wantCode(t, res, 0)
		r, _ := srv.Run(id)
		if r.Status != "applied" {
			t.Fatalf("logs --follow returned with the run %s: the jobs had not ended", r.Status)
		}
		plan, apply := jobLogs(t, srv, r)
		if want := string(plan) + string(apply); res.Stdout != want {
			t.Fatalf("stdout %d bytes, want %d; first difference at %d", len(res.Stdout), len(want), actFirstDiff([]byte(res.Stdout), []byte(want)))
		}
	})

	t.Run("follow the apply before it starts", func(t *testing.T) {
		srv := startSandbox(t, func(k *sandbox.Knobs) { k.JobDuration = 400 * time.Millisecond })
		id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, func(s *runflow.Spec) { s.AutoApply = true })
		actWaitRun(t, srv, id, "planning", actStatus("planning"))
		res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "logs", id, "--follow", "--phase", "apply")
		wantCode(t, res, 0)
		r, _ := srv.Run(id)
		_, apply := jobLogs(t, srv, r)
		if r.Status != "applied" || res.Stdout != string(apply) {
			t.Fatalf("run %s; stdout %q, want the apply log %q", r.Status, res.Stdout, apply)
		}
	})

	t.Run("follow a run waiting for approval", func(t *testing.T) {
		// Nothing to wait for: the apply may never start.
		srv := startSandbox(t)
		id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
		actWaitRun(t, srv, id, "planned", actStatus("planned"))
		res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "logs", id, "--follow")
		wantCode(t, res, 0)
		r, _ := srv.Run(id)
		plan, _ := jobLogs(t, srv, r)
		if res.Stdout != string(plan) {
			t.Fatalf("stdout is not the plan log")
		}
	})
}

// TestRunWatch: attaching to a run started elsewhere gives the output and
// exit codes of `run apply`.
func TestRunWatch(t *testing.T) {
	cfg := map[string]string{"main.tf": oneResource}
	for _, tc := range []struct {
		name       string
		knob       func(*sandbox.Knobs)
		spec       func(*runflow.Spec)
		args       []string
		act        func(t *testing.T, srv *sandbox.Server, id string) // while watching
		wantCode   int
		wantStatus string
		stderr     []string
	}{
		{name: "stops at approval without a terminal", wantCode: 0, wantStatus: "planned",
			stderr: []string{"Status: planned: waiting for approval", "tharsis run approve <run>"}},
		{name: "--detailed-exitcode", args: []string{"--detailed-exitcode"}, wantCode: 2, wantStatus: "planned"},
		{name: "--auto-approve", args: []string{"--auto-approve"}, wantCode: 0, wantStatus: "applied",
			stderr: []string{"Run <run> applied."}},
		{name: "auto-apply run", spec: func(s *runflow.Spec) { s.AutoApply = true }, wantCode: 0, wantStatus: "applied",
			stderr: []string{"── plan log ──", "── apply log ──", "Run <run> applied."}},
		{name: "plan fails", knob: func(k *sandbox.Knobs) { k.FailPlan = true }, wantCode: 1, wantStatus: "errored",
			stderr: []string{"the plan of run <run> failed"}},
		{name: "apply fails", knob: func(k *sandbox.Knobs) { k.FailApply = true }, spec: func(s *runflow.Spec) { s.AutoApply = true },
			wantCode: 1, wantStatus: "errored", stderr: []string{"the apply of run <run> failed"}},
		{name: "canceled by someone else", knob: func(k *sandbox.Knobs) { k.JobDuration = time.Minute },
			act:      func(t *testing.T, srv *sandbox.Server, id string) { cancelRun(t, srv, id) },
			wantCode: 3, wantStatus: "canceled", stderr: []string{"Run <run> was canceled."}},
		{name: "speculative", spec: func(s *runflow.Spec) { s.Speculative = true }, wantCode: 0, wantStatus: "planned_and_finished"},
		{name: "speculative --detailed-exitcode", spec: func(s *runflow.Spec) { s.Speculative = true }, args: []string{"--detailed-exitcode"},
			wantCode: 2, wantStatus: "planned_and_finished"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			knob := func(k *sandbox.Knobs) { k.JobDuration = 300 * time.Millisecond }
			if tc.knob != nil {
				knob = tc.knob
			}
			srv := startSandbox(t, knob)
			id := actCreateRun(t, srv, cfg, tc.spec)
			// Attach while the plan runs (or is about to).
			bg := startTharsis(t, clitest.Options{Env: env(srv)}, append([]string{"run", "watch", id}, tc.args...)...)
			if tc.act != nil {
				actWaitRun(t, srv, id, "running", actJobRunning("plan"))
				bg.stderr.waitFor(t, regexp.MustCompile(`── plan log ──`))
				tc.act(t, srv, id)
			}
			res := bg.wait(t)
			wantCode(t, res, tc.wantCode)
			r, _ := srv.Run(id)
			if r.Status != tc.wantStatus {
				t.Fatalf("run %s, want %s", r.Status, tc.wantStatus)
			}
			plan, apply := jobLogs(t, srv, r)
			if want := string(plan) + string(apply); res.Stdout != want {
				t.Errorf("stdout is not the whole job logs: %d bytes, want %d", len(res.Stdout), len(want))
			}
			for _, s := range tc.stderr {
				wantContains(t, "stderr", res.Stderr, replaceRun(s, id))
			}
			if n := len(srv.Runs(ws)); n != 1 {
				t.Errorf("%d runs: watch created one", n)
			}
		})
	}

	t.Run("a finished run, json", func(t *testing.T) {
		srv := startSandbox(t)
		id := actCreateRun(t, srv, cfg, func(s *runflow.Spec) { s.AutoApply = true })
		actWaitRun(t, srv, id, "applied", actStatus("applied"))
		res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "watch", id, "-o", "json")
		wantCode(t, res, 0)
		var v map[string]any
		actDecode(t, res.Stdout, &v)
		for k, want := range map[string]any{"run_id": id, "status": "applied", "outcome": "applied", "exit_code": float64(0)} {
			if v[k] != want {
				t.Errorf("%s = %v, want %v\n%s", k, v[k], want, res.Stdout)
			}
		}
		r, _ := srv.Run(id)
		plan, apply := jobLogs(t, srv, r)
		// With -o json the logs go to stderr.
		wantContains(t, "stderr", res.Stderr, string(plan), string(apply))
	})

	t.Run("not a run", func(t *testing.T) {
		srv := startSandbox(t)
		wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "run", "watch", sandbox.GID("run", "00000000-0000-0000-0000-000000000000")), 5)
	})
}

// TestRunVariables: the effective variables of a run with where each came
// from; sensitive values masked unless --show-sensitive and the role
// allows; a viewer is told that values are hidden.
func TestRunVariables(t *testing.T) {
	srv := startSandbox(t)
	for ns, vars := range map[string][][3]string{
		sandbox.SeedGroup: {{"terraform", "region", "eu-west-1"}, {"terraform", "db_password", "hunter2!"}, {"environment", "TF_LOG", "info"}},
		ws:                {{"environment", "API_KEY", "s3cr3t"}, {"terraform", "count_n", "2"}},
	} {
		for _, v := range vars {
			sensitive := v[1] == "db_password" || v[1] == "API_KEY"
			if err := srv.SetNamespaceVariable(ns, v[0], v[1], v[2], sensitive); err != nil {
				t.Fatal(err)
			}
		}
	}
	tokens := map[string]string{"admin": srv.AdminToken()}
	for _, role := range []string{"owner", "deployer", "viewer"} {
		tok, err := srv.CreateUser(role+"1", false)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.AddMembership(sandbox.SeedGroup, "user", role+"1", role); err != nil {
			t.Fatal(err)
		}
		tokens[role] = tok
	}
	stranger, err := srv.CreateUser("stranger", false)
	if err != nil {
		t.Fatal(err)
	}
	res := tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": varsConfig}),
		"--auto-approve", "--tf-var", "flag=true", "--env-var", "RUN_ENV=from-run")
	wantCode(t, res, 0)
	id := runGID(onlyRun(t, srv, ws))

	type row struct{ key, category, from, value string }
	// What every caller may see; values are filled in per case.
	all := []row{
		{"RUN_ENV", "environment", "run", "from-run"},
		{"flag", "terraform", "run", "true"},
		{"TF_LOG", "environment", sandbox.SeedGroup, "info"},
		{"db_password", "terraform", sandbox.SeedGroup, "hunter2!"},
		{"region", "terraform", sandbox.SeedGroup, "eu-west-1"},
		{"API_KEY", "environment", ws, "s3cr3t"},
		{"count_n", "terraform", ws, "2"},
	}
	sensitive := map[string]bool{"db_password": true, "API_KEY": true}

	for _, tc := range []struct {
		who           string
		showSensitive bool
		code          int
		hidden        bool   // non-sensitive values hidden (viewer)
		revealed      bool   // sensitive values shown
		stderr        string // and the message
	}{
		{who: "admin", showSensitive: true, revealed: true},
		{who: "owner"},
		{who: "owner", showSensitive: true, revealed: true},
		{who: "deployer"},
		{who: "deployer", showSensitive: true, revealed: true},
		{who: "viewer", hidden: true, stderr: "you may not see variable values with your role (viewer)"},
		{who: "viewer", showSensitive: true, code: 4, stderr: "you may not see sensitive values: it needs the deployer or owner role"},
		{who: "stranger", code: 5, stderr: "not found"},
	} {
		name := tc.who
		if tc.showSensitive {
			name += " --show-sensitive"
		}
		t.Run(name, func(t *testing.T) {
			tok := tokens[tc.who]
			if tc.who == "stranger" {
				tok = stranger
			}
			o := clitest.Options{Env: env(srv, "THARSIS_STATIC_TOKEN", tok)}
			args := []string{"run", "variables", id}
			if tc.showSensitive {
				args = append(args, "--show-sensitive")
			}
			res := tharsis(t, o, args...)
			wantCode(t, res, tc.code)
			wantContains(t, "stderr", res.Stderr, tc.stderr)
			if tc.code != 0 {
				wantNotContains(t, "stdout", res.Stdout, "hunter2!", "s3cr3t")
				return
			}
			want := func(r row) string {
				switch {
				case sensitive[r.key] && tc.revealed:
					return r.value
				case sensitive[r.key]:
					return "(sensitive)"
				case tc.hidden:
					return "(hidden)"
				}
				return r.value
			}
			lines := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n")
			if len(lines) != len(all) {
				t.Fatalf("table:\n%s", res.Stdout)
			}
			for _, r := range all {
				re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(r.key) + `\s+` + r.category + `\s+` + regexp.QuoteMeta(r.from) + `\s+` + regexp.QuoteMeta(want(r)) + `\s*$`)
				if !re.MatchString(res.Stdout) {
					t.Errorf("no row %v with %q:\n%s", r, want(r), res.Stdout)
				}
			}
			if !tc.revealed {
				wantNotContains(t, "stdout", res.Stdout, "hunter2!", "s3cr3t")
			}
			if !tc.hidden {
				wantNotContains(t, "stderr", res.Stderr, "may not see")
			}

			res = tharsis(t, o, append(args, "-o", "json")...)
			wantCode(t, res, 0)
			var v struct {
				RunID        string `json:"run_id"`
				ValuesHidden bool   `json:"values_hidden"`
				Variables    []struct {
					Key, Category, Namespace string
					Sensitive                bool
					Value                    *string
				} `json:"variables"`
			}
			actDecode(t, res.Stdout, &v)
			if v.RunID != id || v.ValuesHidden != tc.hidden || len(v.Variables) != len(all) {
				t.Fatalf("JSON %+v", v)
			}
			for i, r := range all {
				got := v.Variables[i]
				var wantVal *string
				if w := want(r); !strings.HasPrefix(w, "(") {
					wantVal = &w
				}
				if got.Key != r.key || got.Category != r.category || got.Namespace != r.from || got.Sensitive != sensitive[r.key] ||
					(got.Value == nil) != (wantVal == nil) || (got.Value != nil && *got.Value != *wantVal) {
					t.Errorf("variable %d: %+v (value %v), want %v with %v", i, got, fmtPtr(got.Value), r, fmtPtr(wantVal))
				}
			}
		})
	}

	t.Run("no variables", func(t *testing.T) {
		srv := startSandbox(t)
		id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
		res := tharsis(t, clitest.Options{Env: env(srv)}, "run", "variables", id)
		wantCode(t, res, 0)
		wantContains(t, "stderr", res.Stderr, "has no variables")
		res = tharsis(t, clitest.Options{Env: env(srv)}, "run", "variables", id, "-o", "json")
		wantContains(t, "stdout", res.Stdout, `"variables": []`)
	})
}

func fmtPtr(p *string) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprintf("%q", *p)
}
