package run_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// decodeResult checks that s is exactly one JSON document and returns it.
func decodeResult(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not a JSON document: %v\n%s", err, s)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		t.Fatalf("stdout holds more than one JSON document:\n%s", s)
	}
	return doc
}

// TestJSONOutput: -o json prints one JSON document on stdout at the end,
// whatever the outcome; the logs go to stderr.
func TestJSONOutput(t *testing.T) {
	for _, tc := range []struct {
		name     string
		knob     func(*sandbox.Knobs)
		args     []string
		stdin    string
		wantCode int
		want     map[string]any
	}{
		{name: "applied", args: []string{"apply", "--auto-approve"}, wantCode: 0,
			want: map[string]any{"command": "apply", "status": "applied", "outcome": "applied", "has_changes": true, "speculative": false, "destroy": false}},
		{name: "declined", args: []string{"apply"}, stdin: "no\n", wantCode: 3,
			want: map[string]any{"status": "discarded", "outcome": "discarded", "has_changes": true}},
		{name: "left for approval", args: []string{"apply", "--input=false"}, wantCode: 0,
			want: map[string]any{"status": "planned", "outcome": "planned"}},
		{name: "speculative with changes", args: []string{"plan", "--detailed-exitcode"}, wantCode: 2,
			want: map[string]any{"command": "plan", "status": "planned_and_finished", "outcome": "planned", "speculative": true}},
		{name: "plan failed", knob: func(k *sandbox.Knobs) { k.FailPlan = true }, args: []string{"apply"}, wantCode: 1,
			want: map[string]any{"status": "errored", "outcome": "errored", "plan_status": "errored"}},
		{name: "apply failed", knob: func(k *sandbox.Knobs) { k.FailApply = true }, args: []string{"apply", "--auto-approve"}, wantCode: 1,
			want: map[string]any{"status": "errored", "outcome": "errored", "apply_status": "errored"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var knobs []func(*sandbox.Knobs)
			if tc.knob != nil {
				knobs = append(knobs, tc.knob)
			}
			srv := startSandbox(t, knobs...)
			args := append([]string{tc.args[0], ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}), "-o", "json"}, tc.args[1:]...)
			res := tharsis(t, clitest.Options{Env: env(srv), Stdin: tc.stdin}, args...)
			wantCode(t, res, tc.wantCode)
			doc := decodeResult(t, res.Stdout)
			r := onlyRun(t, srv, ws)
			tc.want["run_id"] = runGID(r)
			tc.want["workspace"] = ws
			tc.want["exit_code"] = float64(tc.wantCode)
			tc.want["configuration_version_id"] = sandbox.GID("configuration_version", r.ConfigurationVersionID)
			for k, v := range tc.want {
				if doc[k] != v {
					t.Errorf("%s = %#v, want %#v", k, doc[k], v)
				}
			}
			jobs := srv.Jobs(runGID(r))
			if doc["plan_job_id"] != sandbox.GID("job", jobs[0].ID) {
				t.Errorf("plan_job_id %v", doc["plan_job_id"])
			}
			if len(jobs) == 2 && doc["apply_job_id"] != sandbox.GID("job", jobs[1].ID) {
				t.Errorf("apply_job_id %v", doc["apply_job_id"])
			}
			if r.Plan.Status == "finished" {
				sum, _ := doc["plan_summary"].(map[string]any)
				if sum["add"] != float64(1) || sum["change"] != float64(0) || sum["destroy"] != float64(0) {
					t.Errorf("plan_summary %v", doc["plan_summary"])
				}
			}
			for _, k := range []string{"started_at", "finished_at", "duration_seconds"} {
				if _, ok := doc[k]; !ok {
					t.Errorf("no %s", k)
				}
			}
			plan, apply := jobLogs(t, srv, r)
			wantContains(t, "stderr", res.Stderr, string(plan), string(apply))
		})
	}
}

// TestJSONOutputBeforeTheRun: a failure before the run exists still prints
// a JSON document only when there is something to say; usage errors do not
// create anything.
func TestJSONOutputUsageError(t *testing.T) {
	srv := startSandbox(t)
	res := tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", "/nonexistent/dir", "-o", "json")
	wantCode(t, res, 64)
	nothingCreated(t, srv)
}

// TestEventsOutput: --events writes one JSON event per line on stdout, the
// log events carrying every byte once, and a result event last.
func TestEventsOutput(t *testing.T) {
	srv := startSandbox(t, func(k *sandbox.Knobs) { k.LogVolumeBytes = 64 << 10 })
	res := tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}), "--auto-approve", "--events")
	wantCode(t, res, 0)
	r := onlyRun(t, srv, ws)
	jobs := srv.Jobs(runGID(r))
	logs := map[string]*bytes.Buffer{}
	var types []string
	sc := bufio.NewScanner(strings.NewReader(res.Stdout))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var ev struct {
			Type   string          `json:"type"`
			RunID  string          `json:"run_id"`
			JobID  string          `json:"job_id"`
			Offset int64           `json:"offset"`
			Data   string          `json:"data"`
			Status string          `json:"status"`
			Sum    json.RawMessage `json:"summary"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		if ev.Type == "" || (ev.Type != "packaged" && ev.Type != "uploaded" && ev.RunID != runGID(r)) {
			t.Fatalf("event without type or run: %s", sc.Text())
		}
		if len(types) == 0 || types[len(types)-1] != ev.Type {
			types = append(types, ev.Type)
		}
		if ev.Type == "log" {
			b := logs[ev.JobID]
			if b == nil {
				b = &bytes.Buffer{}
				logs[ev.JobID] = b
			}
			if ev.Offset != int64(b.Len()) {
				t.Fatalf("log event at offset %d, want %d", ev.Offset, b.Len())
			}
			b.WriteString(ev.Data)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(types, " ")
	// Statuses may come between the steps, as the run passes through them.
	if !regexp.MustCompile(`^packaged uploaded run_created (status )?log (status )?plan_summary (status )?log status result$`).MatchString(got) {
		t.Errorf("event types in order: %s", got)
	}
	for _, j := range jobs {
		gid := sandbox.GID("job", j.ID)
		if logs[gid] == nil || !bytes.Equal(logs[gid].Bytes(), srv.JobLog(gid)) {
			t.Errorf("the log events of the %s job differ from its log", j.Type)
		}
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	last := lines[len(lines)-1]
	var result map[string]any
	_ = json.Unmarshal([]byte(last), &result)
	if result["type"] != "result" || result["status"] != "applied" || result["run_id"] != runGID(r) || result["exit_code"] != float64(0) {
		t.Errorf("result event %s", last)
	}
	if strings.TrimSpace(res.Stderr) != "" {
		t.Errorf("--events wrote to stderr:\n%s", res.Stderr)
	}
}

// TestCIOutputs: with GITHUB_OUTPUT set the result is appended there;
// --dotenv writes a GitLab dotenv report; in CI, and whenever stderr is not
// a terminal, status lines are plain (no colour, no spinner).
func TestCIOutputs(t *testing.T) {
	srv := startSandbox(t)
	dir := configDir(t, map[string]string{"main.tf": oneResource})
	out := filepath.Join(t.TempDir(), "github_output")
	if err := os.WriteFile(out, []byte("earlier=kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dotenv := filepath.Join(t.TempDir(), "run.env")
	res := tharsis(t, clitest.Options{Env: env(srv, "GITHUB_ACTIONS", "true", "GITHUB_OUTPUT", out), TTY: true},
		"apply", ws, "--directory-path", dir, "--auto-approve", "--dotenv", dotenv)
	wantCode(t, res, 0)
	r := onlyRun(t, srv, ws)
	b, _ := os.ReadFile(out)
	want := "earlier=kept\nrun_id=" + runGID(r) + "\nworkspace=sandbox/demo\nstatus=applied\noutcome=applied\nhas_changes=true\nadd=1\nchange=0\ndestroy=0\nexit_code=0\n"
	if string(b) != want {
		t.Errorf("GITHUB_OUTPUT:\n%s\nwant:\n%s", b, want)
	}
	b, _ = os.ReadFile(dotenv)
	wantContains(t, "dotenv", string(b), "THARSIS_RUN_ID="+runGID(r)+"\n", "THARSIS_STATUS=applied\n", "THARSIS_HAS_CHANGES=true\n", "THARSIS_ADD=1\n")
	if strings.Contains(res.Stderr, "\x1b[") {
		t.Errorf("colour on stderr in CI:\n%q", res.Stderr)
	}

	// A plan without changes: has_changes=false, counts 0, exit 0.
	res = tharsis(t, clitest.Options{Env: env(srv, "CI", "true", "GITHUB_OUTPUT", out), TTY: true},
		"plan", ws, "--directory-path", dir, "--detailed-exitcode")
	wantCode(t, res, 0)
	b, _ = os.ReadFile(out)
	wantContains(t, "GITHUB_OUTPUT", string(b), "run_id="+runGID(lastRun(t, srv, ws))+"\nworkspace=sandbox/demo\nstatus=planned_and_finished\noutcome=no_changes\nhas_changes=false\nadd=0\n")

	// Outside CI, on a terminal, status lines have colour; never the logs'
	// bytes, which stay as the server stored them.
	res = tharsis(t, clitest.Options{Env: env(srv), TTY: true}, "plan", ws, "--directory-path", dir)
	wantCode(t, res, 0)
	if !strings.Contains(res.Stderr, "\x1b[") {
		t.Errorf("no colour on a terminal:\n%q", res.Stderr)
	}
	for _, e := range [][]string{{"NO_COLOR", "1"}, {"GITLAB_CI", "true"}, {"TERM", "dumb"}} {
		res = tharsis(t, clitest.Options{Env: env(srv, e...), TTY: true}, "plan", ws, "--directory-path", dir)
		if strings.Contains(res.Stderr, "\x1b[") {
			t.Errorf("colour with %s=%s:\n%q", e[0], e[1], res.Stderr)
		}
	}
}

// TestGoldenStatusLines: the text of the status lines on stderr (colour
// off, IDs normalised) for the main outcomes.
func TestGoldenStatusLines(t *testing.T) {
	for _, tc := range []struct {
		name  string
		knob  func(*sandbox.Knobs)
		args  []string
		stdin string
		code  int
	}{
		{name: "apply_approved", args: []string{"apply"}, stdin: "yes\n"},
		{name: "apply_declined", args: []string{"apply"}, stdin: "nope\n", code: 3},
		{name: "apply_no_answer", args: []string{"apply"}, code: 1},
		{name: "apply_input_false", args: []string{"apply", "--input=false"}},
		{name: "apply_auto_approve", args: []string{"apply", "--auto-approve"}},
		{name: "destroy_approved", args: []string{"destroy"}, stdin: "yes\n"},
		{name: "plan", args: []string{"plan"}},
		{name: "plan_failed", knob: func(k *sandbox.Knobs) { k.FailPlan = true }, args: []string{"plan"}, code: 1},
		{name: "apply_failed", knob: func(k *sandbox.Knobs) { k.FailApply = true }, args: []string{"apply", "--auto-approve"}, code: 1},
		{name: "log_truncated", knob: func(k *sandbox.Knobs) { k.MaxLogBytes = 2048; k.LogVolumeBytes = 4096 }, args: []string{"plan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var knobs []func(*sandbox.Knobs)
			if tc.knob != nil {
				knobs = append(knobs, tc.knob)
			}
			srv := startSandbox(t, knobs...)
			args := append([]string{tc.args[0], ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource})}, tc.args[1:]...)
			res := tharsis(t, clitest.Options{Env: env(srv), Stdin: tc.stdin}, args...)
			wantCode(t, res, tc.code)
			r := lastRun(t, srv, ws)
			names := map[string]string{runGID(r): "<run>", sandbox.GID("configuration_version", r.ConfigurationVersionID): "<cv>"}
			for _, j := range srv.Jobs(runGID(r)) {
				names[sandbox.GID("job", j.ID)] = "<" + j.Type + "-job>"
			}
			golden(t, filepath.Join("golden", tc.name+".txt"), transientStatus.ReplaceAllString(normalize(res.Stderr, names), ""))
		})
	}
}

// transientStatus matches the status lines of states a run may pass
// through faster than the command looks (jobs take no time in the
// sandbox): whether they are seen is a matter of timing.
var transientStatus = regexp.MustCompile(`(?m)^Status: (pending|queued: .*|plan queued: .*|planning|apply queued: .*|applying)\n`)

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (go test -update writes it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}
