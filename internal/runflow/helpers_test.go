package runflow

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
)

// recorder collects the events an engine emits.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) sink(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Data != nil {
		ev.Data = bytes.Clone(ev.Data)
	}
	r.events = append(r.events, ev)
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// logOf concatenates the log events of a job, checking that their offsets
// are contiguous.
func (r *recorder) logOf(t *testing.T, jobID string) []byte {
	t.Helper()
	var out []byte
	for _, ev := range r.all() {
		if ev.Type != EventLog || ev.JobID != jobID {
			continue
		}
		if ev.Offset != int64(len(out)) {
			t.Fatalf("log event of job %s at offset %d, want %d", jobID, ev.Offset, len(out))
		}
		out = append(out, ev.Data...)
	}
	return out
}

func (r *recorder) ofType(typ EventType) []Event {
	var out []Event
	for _, ev := range r.all() {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func newEngine(t *testing.T, srv *sandbox.Server) (*Engine, *recorder) {
	t.Helper()
	c, err := api.New(api.Config{Endpoint: srv.URL(), TokenSource: api.StaticTokenSource(srv.AdminToken())})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	return &Engine{API: c, Sink: rec.sink, PollMin: 5 * time.Millisecond, PollMax: 50 * time.Millisecond}, rec
}

func startSandbox(t *testing.T, knobs func(*sandbox.Knobs)) *sandbox.Server {
	t.Helper()
	if knobs == nil {
		return sandboxtest.Start(t)
	}
	return sandboxtest.Start(t, sandboxtest.WithKnobs(knobs))
}

func configDir(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const oneResource = `resource "terraform_data" "a" {
  input = "x"
}
`

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitRun waits until the sandbox's run satisfies cond.
func waitRun(t *testing.T, srv *sandbox.Server, runGID string, cond func(sandbox.Run) bool) sandbox.Run {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		r, ok := srv.Run(runGID)
		if ok && cond(r) {
			return r
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("run %s never reached the expected state (status %s)", runGID, r.Status)
		}
	}
}

// jobsOfRun returns the GIDs of the plan and apply jobs of a run.
func jobsOfRun(srv *sandbox.Server, runGID string) (plan, apply string) {
	for _, j := range srv.Jobs(runGID) {
		if j.Type == "plan" {
			plan = sandbox.GID("job", j.ID)
		} else {
			apply = sandbox.GID("job", j.ID)
		}
	}
	return plan, apply
}

// adminGQL sends a GraphQL request as the sandbox admin and fails on any error
// or problem.
func adminGQL(t *testing.T, srv *sandbox.Server, query string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.Contains(string(raw), `"errors"`) || strings.Contains(string(raw), `"problems":[{`) {
		t.Fatalf("graphql %s: %d %s", query, resp.StatusCode, raw)
	}
}
