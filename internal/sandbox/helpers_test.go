package sandbox

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// testClock is a clock tests can move forward.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

type harness struct {
	t     *testing.T
	s     *Server
	clock *testClock
	token string
}

// start runs a sandbox with fast jobs; mutate changes its knobs first.
func start(t *testing.T, mutate ...func(*Knobs)) *harness {
	t.Helper()
	k := DefaultKnobs()
	k.ForceCancelDelay = time.Minute
	for _, m := range mutate {
		m(&k)
	}
	clk := &testClock{}
	s, err := New(Options{Knobs: k, Now: clk.Now, MaxUploadBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &harness{t: t, s: s, clock: clk, token: s.AdminToken()}
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Status     int
	Data       map[string]any  `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
	Raw        json.RawMessage `json:"-"`
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// gqlAs posts a GraphQL request with token (none when empty).
func (h *harness) gqlAs(token, query string, vars map[string]any) gqlResponse {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, h.s.URL()+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := gqlResponse{Status: resp.StatusCode, Raw: raw}
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("response %d is not JSON: %s", resp.StatusCode, raw)
	}
	return out
}

func (h *harness) gql(query string, vars map[string]any) gqlResponse {
	h.t.Helper()
	return h.gqlAs(h.token, query, vars)
}

// ok fails the test on top-level errors and returns data.
func (h *harness) ok(r gqlResponse) map[string]any {
	h.t.Helper()
	if len(r.Errors) > 0 || r.Status != 200 {
		h.t.Fatalf("unexpected errors (HTTP %d): %s", r.Status, r.Raw)
	}
	return r.Data
}

// dig walks a decoded JSON value by keys.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any, keys ...string) string {
	s, _ := dig(v, keys...).(string)
	return s
}

// mutation runs a mutation and returns its payload, failing on top-level errors.
func (h *harness) mutation(token, name, inputType, fields string, input map[string]any) map[string]any {
	h.t.Helper()
	q := fmt.Sprintf("mutation($input: %s!) { %s(input: $input) { %s problems { message field type } } }", inputType, name, fields)
	d := h.ok(h.gqlAs(token, q, map[string]any{"input": input}))
	p, _ := d[name].(map[string]any)
	return p
}

// problem returns the type and message of a payload's only problem.
func problemOf(p map[string]any) (string, string) {
	ps, _ := p["problems"].([]any)
	if len(ps) == 0 {
		return "", ""
	}
	return str(ps[0], "type"), str(ps[0], "message")
}

func (h *harness) noProblems(p map[string]any) {
	h.t.Helper()
	if typ, msg := problemOf(p); typ != "" {
		h.t.Fatalf("unexpected problem %s: %s", typ, msg)
	}
}

const testConfig = `
variable "name" {
  type    = string
  default = "world"
}

resource "null_resource" "a" {
  triggers = { name = var.name }
}

resource "terraform_data" "b" {
  input = "static"
}

output "greeting" {
  value = "hello ${var.name}"
}
`

// makeSlug builds a configuration tar.gz.
func makeSlug(files map[string]string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(content))
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}

func (h *harness) wsGID(path string) string {
	h.t.Helper()
	w, ok := h.s.Workspace(path)
	if !ok {
		h.t.Fatalf("no workspace %s", path)
	}
	return toGID(gidWorkspace, w.ID)
}

// upload PUTs a slug for cvGID and returns the HTTP status and body.
func (h *harness) upload(token, wsGID, cvGID string, body []byte) (int, string) {
	h.t.Helper()
	u := fmt.Sprintf("%s/tfe/v2/workspaces/%s/configuration-versions/%s/upload", h.s.URL(), wsGID, cvGID)
	req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// config creates and uploads a configuration version of files to wsPath.
func (h *harness) config(wsPath string, speculative bool, files map[string]string) string {
	h.t.Helper()
	p := h.mutation(h.token, "createConfigurationVersion", "CreateConfigurationVersionInput",
		"configurationVersion { id status speculative }",
		map[string]any{"workspaceId": "trn:workspace:" + wsPath, "speculative": speculative})
	h.noProblems(p)
	cv := str(p, "configurationVersion", "id")
	if st, body := h.upload(h.token, h.wsGID(wsPath), cv, makeSlug(files)); st != 200 {
		h.t.Fatalf("upload: %d %s", st, body)
	}
	return cv
}

const runFields = `run { id status speculative autoApply forceCanceled forceCancelAvailableAt isDestroy
  plan { status hasChanges errorMessage summary { resourceAdditions resourceChanges resourceDestructions outputAdditions }
    currentJob { id status logSize logTruncated runnerAvailabilityStatus } }
  apply { status errorMessage triggeredBy currentJob { id status } } }`

// createRun creates a run and returns its payload.
func (h *harness) createRunAs(token string, input map[string]any) map[string]any {
	h.t.Helper()
	return h.mutation(token, "createRun", "CreateRunInput", runFields, input)
}

// newRun uploads testConfig and creates a run of it on sandbox/demo.
func (h *harness) newRun(speculative bool, extra map[string]any) string {
	h.t.Helper()
	cv := h.config(SeedWorkspace, speculative, map[string]string{"main.tf": testConfig})
	in := map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace, "configurationVersionId": cv}
	for k, v := range extra {
		in[k] = v
	}
	p := h.createRunAs(h.token, in)
	h.noProblems(p)
	return str(p, "run", "id")
}

func (h *harness) runAction(name, inputType, runID string, extra map[string]any) map[string]any {
	h.t.Helper()
	in := map[string]any{"runId": runID}
	for k, v := range extra {
		in[k] = v
	}
	return h.mutation(h.token, name, inputType, runFields, in)
}

func (h *harness) run(id string) Run {
	h.t.Helper()
	r, ok := h.s.Run(id)
	if !ok {
		h.t.Fatalf("no run %s", id)
	}
	return r
}

// waitRun waits (driven by change events, not polling) until the run
// satisfies pred, and returns it.
func (h *harness) waitRun(id string, what string, pred func(Run) bool) Run {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := h.s.broker.subscribe(ctx, func(ev event) bool { return true })
	for {
		if r := h.run(id); pred(r) {
			return r
		}
		select {
		case <-events:
		case <-ctx.Done():
			h.t.Fatalf("run %s: timed out waiting for %s; status %s", id, what, h.run(id).Status)
		}
	}
}

func (h *harness) waitStatus(id, status string) Run {
	h.t.Helper()
	return h.waitRun(id, status, func(r Run) bool { return r.Status == status })
}

// latestJob returns the newest job of the run.
func (h *harness) latestJob(runID string) Job {
	h.t.Helper()
	jobs := h.s.Jobs(runID)
	if len(jobs) == 0 {
		h.t.Fatalf("run %s has no jobs", runID)
	}
	return jobs[len(jobs)-1]
}

// waitJob waits until the run's newest job of type typ has the status.
func (h *harness) waitJob(runID, typ, status string) Job {
	h.t.Helper()
	var out Job
	h.waitRun(runID, typ+" job "+status, func(Run) bool {
		for _, j := range h.s.Jobs(runID) {
			if j.Type == typ {
				out = j
			}
		}
		return out.Status == status
	})
	return out
}
