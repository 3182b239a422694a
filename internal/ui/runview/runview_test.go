package runview

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/runflow"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleEvents() []runflow.Event {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sum := runflow.Summary{Add: 2, Change: 1}
	return []runflow.Event{
		{Type: runflow.EventPackaged, Time: t0, Files: 3, Bytes: 2048, SHA256: "0123456789abcdef0123"},
		{Type: runflow.EventUploaded, Time: t0, ConfigurationVersionID: "CV1", Bytes: 2048},
		{Type: runflow.EventRunCreated, Time: t0, RunID: "R1", WorkspacePath: "grp/ws", Status: "queuing"},
		{Type: runflow.EventStatus, Time: t0, RunID: "R1", Status: "plan_queued", PlanStatus: "queued"},
		{Type: runflow.EventQueued, Time: t0, RunID: "R1", Status: "plan_queued", Message: "no runner agent can take job J1 (untagged)", Hint: "assign a service account"},
		{Type: runflow.EventStatus, Time: t0, RunID: "R1", Status: "planning", PlanStatus: "running"},
		{Type: runflow.EventLog, Time: t0, RunID: "R1", Phase: "plan", JobID: "J1", Offset: 0, Data: []byte("Planning… ✓\nno newline at end")},
		{Type: runflow.EventLog, Time: t0, RunID: "R1", Phase: "plan", JobID: "J1", Offset: 31, Data: []byte(" (continued)\n")},
		{Type: runflow.EventStatus, Time: t0, RunID: "R1", Status: "planned", PlanStatus: "finished", ApplyStatus: "created"},
		{Type: runflow.EventPlanSummary, Time: t0, RunID: "R1", Summary: &sum},
		{Type: runflow.EventLogTruncated, Time: t0, RunID: "R1", Phase: "plan", Message: "the server truncated this job's log"},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func TestTextGolden(t *testing.T) {
	var logs, status bytes.Buffer
	r := New(Options{Mode: Text, Logs: &logs, Status: &status})
	for _, ev := range sampleEvents() {
		r.Handle(ev)
	}
	r.Stop()
	// Logs are the job's bytes and nothing else.
	if want := "Planning… ✓\nno newline at end (continued)\n"; logs.String() != want {
		t.Fatalf("logs = %q, want %q", logs.String(), want)
	}
	golden(t, "text_status.golden", status.Bytes())
}

func TestQuietKeepsLogs(t *testing.T) {
	var logs, status bytes.Buffer
	r := New(Options{Mode: Text, Logs: &logs, Status: &status, Quiet: true})
	for _, ev := range sampleEvents() {
		r.Handle(ev)
	}
	if status.Len() != 0 {
		t.Errorf("quiet mode wrote status: %q", status.String())
	}
	if logs.Len() == 0 {
		t.Error("quiet mode dropped logs")
	}
}

func TestEventsAreJSONLines(t *testing.T) {
	var out, status bytes.Buffer
	r := New(Options{Mode: Events, Logs: &out, Status: &status})
	evs := sampleEvents()
	for _, ev := range evs {
		r.Handle(ev)
	}
	if status.Len() != 0 {
		t.Errorf("event mode wrote to status: %q", status.String())
	}
	sc := bufio.NewScanner(&out)
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", n+1, err, sc.Text())
		}
		if m["type"] != string(evs[n].Type) {
			t.Errorf("line %d type = %v, want %s", n+1, m["type"], evs[n].Type)
		}
		n++
	}
	if n != len(evs) {
		t.Fatalf("got %d lines, want %d", n, len(evs))
	}
	golden(t, "events.golden", out.Bytes())
}

func TestNoANSIWithoutColor(t *testing.T) {
	var logs, status bytes.Buffer
	r := New(Options{Mode: Text, Logs: &logs, Status: &status, Color: false})
	for _, ev := range sampleEvents() {
		r.Handle(ev)
	}
	if bytes.Contains(status.Bytes(), []byte("\x1b[")) {
		t.Errorf("status has ANSI codes without colour: %q", status.String())
	}
	var colored bytes.Buffer
	r = New(Options{Mode: Text, Logs: &logs, Status: &colored, Color: true})
	for _, ev := range sampleEvents() {
		r.Handle(ev)
	}
	if !bytes.Contains(colored.Bytes(), []byte("\x1b[")) {
		t.Errorf("status has no ANSI codes with colour on: %q", colored.String())
	}
}

func TestSummaryLine(t *testing.T) {
	for _, tc := range []struct {
		s    runflow.Summary
		want string
	}{
		{runflow.Summary{}, "No changes. The infrastructure matches the configuration."},
		{runflow.Summary{Add: 1}, "Plan: 1 to add, 0 to change, 0 to destroy."},
		{runflow.Summary{Destroy: 3, Change: 2}, "Plan: 0 to add, 2 to change, 3 to destroy."},
		{runflow.Summary{Import: 1, Add: 1}, "Plan: 1 to import, 1 to add, 0 to change, 0 to destroy."},
		{runflow.Summary{OutputAdd: 1}, "Plan: no resource changes; outputs will change."},
	} {
		if got := SummaryLine(tc.s); got != tc.want {
			t.Errorf("SummaryLine(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestStripANSIOnlyWhenAsked(t *testing.T) {
	ev := runflow.Event{Type: runflow.EventLog, Phase: "plan", Data: []byte("\x1b[1mPlan:\x1b[0m 1 to add\n")}
	for _, strip := range []bool{false, true} {
		var logs, status bytes.Buffer
		r := New(Options{Mode: Text, Logs: &logs, Status: &status, StripANSI: strip})
		r.Handle(ev)
		want := string(ev.Data)
		if strip {
			want = "Plan: 1 to add\n"
		}
		if logs.String() != want {
			t.Errorf("StripANSI=%v: logs = %q, want %q", strip, logs.String(), want)
		}
	}
}
