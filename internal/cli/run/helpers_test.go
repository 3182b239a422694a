package run_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

const ws = sandbox.SeedWorkspace // "sandbox/demo"

// oneResource is a configuration with one resource: an apply has changes,
// a second apply of it has none.
const oneResource = `resource "terraform_data" "a" {
  input = "x"
}
`

// varsConfig declares the variables the precedence tests send.
const varsConfig = `variable "region" {
  type    = string
  default = "none"
}
variable "count_n" {
  type    = number
  default = 0
}
variable "tags" {
  type    = map(string)
  default = {}
}
variable "flag" {
  type    = bool
  default = false
}
resource "terraform_data" "a" {
  input = var.region
}
`

// env is the environment of a CLI invocation against srv.
func env(srv *sandbox.Server, kv ...string) map[string]string {
	m := map[string]string{
		"THARSIS_ENDPOINT":     srv.URL(),
		"THARSIS_STATIC_TOKEN": srv.AdminToken(),
		// Queue reasons after a few milliseconds instead of ten seconds.
		"THARSIS_QUEUE_HINT_AFTER": "20ms",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// writeFiles creates files (relative path -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// configDir is a temporary directory holding the files.
func configDir(t *testing.T, files map[string]string) string {
	t.Helper()
	return writeFiles(t, t.TempDir(), files)
}

// tharsis runs the CLI in process.
func tharsis(t *testing.T, o clitest.Options, args ...string) clitest.Result {
	t.Helper()
	res := clitest.Run(t, o, args...)
	t.Logf("tharsis %s\nexit %d\n--- stdout (%d bytes) ---\n%s\n--- stderr ---\n%s", strings.Join(args, " "), res.Code,
		len(res.Stdout), clip(res.Stdout), res.Stderr)
	return res
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:2000] + fmt.Sprintf("\n[... %d bytes ...]\n", len(s)-4000) + s[len(s)-2000:]
	}
	return s
}

func wantCode(t *testing.T, res clitest.Result, code int) {
	t.Helper()
	if res.Code != code {
		t.Fatalf("exit code %d, want %d\nstderr:\n%s", res.Code, code, res.Stderr)
	}
}

func wantContains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

func wantNotContains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			t.Errorf("%s contains %q:\n%s", what, sub, s)
		}
	}
}

// onlyRun returns the workspace's single run, failing when there is not
// exactly one.
func onlyRun(t *testing.T, srv *sandbox.Server, path string) sandbox.Run {
	t.Helper()
	runs := srv.Runs(path)
	if len(runs) != 1 {
		t.Fatalf("workspace %s has %d runs, want 1", path, len(runs))
	}
	return runs[0]
}

// lastRun returns the newest run of the workspace.
func lastRun(t *testing.T, srv *sandbox.Server, path string) sandbox.Run {
	t.Helper()
	runs := srv.Runs(path)
	if len(runs) == 0 {
		t.Fatalf("workspace %s has no run", path)
	}
	return runs[len(runs)-1]
}

func runGID(r sandbox.Run) string { return sandbox.GID("run", r.ID) }

// jobLogs returns the plan and apply logs of a run as stored by the server.
func jobLogs(t *testing.T, srv *sandbox.Server, r sandbox.Run) (plan, apply []byte) {
	t.Helper()
	for _, j := range srv.Jobs(runGID(r)) {
		log := srv.JobLog(sandbox.GID("job", j.ID))
		switch j.Type {
		case "plan":
			plan = log
		case "apply":
			apply = log
		}
	}
	return plan, apply
}

// nothingCreated checks that the server saw no write for the workspace.
func nothingCreated(t *testing.T, srv *sandbox.Server) {
	t.Helper()
	if n := len(srv.Runs(ws)); n != 0 {
		t.Errorf("%d runs were created, want none", n)
	}
	if n := len(srv.ConfigurationVersions(ws)); n != 0 {
		t.Errorf("%d configuration versions were created, want none", n)
	}
	for _, op := range []string{"upload", "CreateConfigurationVersion", "CreateRun", "DestroyWorkspace"} {
		if n := srv.RequestCount(op); n != 0 {
			t.Errorf("%d %s requests were sent, want none", n, op)
		}
	}
}

// gql sends a GraphQL request as the sandbox admin and fails the test on
// any error; data is decoded into out when it is not nil.
func gql(t *testing.T, srv *sandbox.Server, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Errors) > 0 || resp.StatusCode != 200 {
		t.Fatalf("graphql %s: status %d, %s", query, resp.StatusCode, raw)
	}
	// Mutations report failures as problems.
	if bytes.Contains(r.Data, []byte(`"problems":[{`)) {
		t.Fatalf("graphql %s: problems: %s", query, r.Data)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

const wsTRN = "trn:workspace:" + ws

// setRunnerTags gives the workspace runner tags (nil: inherit again).
func setRunnerTags(t *testing.T, srv *sandbox.Server, tags []string) {
	t.Helper()
	in := map[string]any{"inherit": tags == nil}
	if tags != nil {
		in["tags"] = tags
	}
	gql(t, srv, `mutation($in: UpdateWorkspaceInput!) { updateWorkspace(input: $in) { problems { message } } }`,
		map[string]any{"in": map[string]any{"id": wsTRN, "runnerTags": in}}, nil)
}

func lockWorkspace(t *testing.T, srv *sandbox.Server, lock bool) {
	t.Helper()
	op := "unlockWorkspace"
	typ := "UnlockWorkspaceInput"
	if lock {
		op, typ = "lockWorkspace", "LockWorkspaceInput"
	}
	gql(t, srv, fmt.Sprintf(`mutation($in: %s!) { %s(input: $in) { problems { message } } }`, typ, op),
		map[string]any{"in": map[string]any{"workspaceId": wsTRN}}, nil)
}

func cancelRun(t *testing.T, srv *sandbox.Server, runID string) {
	t.Helper()
	gql(t, srv, `mutation($in: CancelRunInput!) { cancelRun(input: $in) { problems { message } } }`,
		map[string]any{"in": map[string]any{"runId": runID}}, nil)
}

// watchBuffer is a concurrency-safe buffer a test can wait on.
type watchBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newWatchBuffer() *watchBuffer { return &watchBuffer{changed: make(chan struct{})} }

func (w *watchBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.changed)
	w.changed = make(chan struct{})
	return w.buf.Write(p)
}

func (w *watchBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor blocks until the buffer matches re, and returns the first
// submatch (or the whole match).
func (w *watchBuffer) waitFor(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		w.mu.Lock()
		m := re.FindStringSubmatch(w.buf.String())
		ch := w.changed
		w.mu.Unlock()
		if m != nil {
			return m[len(m)-1]
		}
		select {
		case <-ch:
		case <-timeout.C:
			t.Fatalf("output never matched %s:\n%s", re, w.String())
		}
	}
}

// background runs the CLI in a goroutine with watchable output.
type background struct {
	stdout, stderr *watchBuffer
	done           chan int
}

func startTharsis(t *testing.T, o clitest.Options, args ...string) *background {
	t.Helper()
	s, in, _, _ := ui.Test()
	in.WriteString(o.Stdin)
	b := &background{stdout: newWatchBuffer(), stderr: newWatchBuffer(), done: make(chan int, 1)}
	s.Out, s.ErrOut = b.stdout, b.stderr
	o.Streams = s
	ctx, cancel := context.WithCancel(context.Background())
	o.Context = ctx
	go func() {
		b.done <- clitest.Run(t, o, args...).Code
	}()
	t.Cleanup(func() {
		cancel()
		<-b.done
	})
	return b
}

// wait returns the exit code once the command has ended.
func (b *background) wait(t *testing.T) clitest.Result {
	t.Helper()
	select {
	case code := <-b.done:
		b.done <- code // for Cleanup
		res := clitest.Result{Code: code, Stdout: b.stdout.String(), Stderr: b.stderr.String()}
		t.Logf("exit %d\n--- stdout ---\n%s\n--- stderr ---\n%s", code, clip(res.Stdout), res.Stderr)
		return res
	case <-time.After(60 * time.Second):
		t.Fatalf("command did not end:\n%s", b.stderr.String())
	}
	return clitest.Result{}
}

// startSandbox starts a sandbox with fast jobs and the given knob changes.
func startSandbox(t *testing.T, knobs ...func(*sandbox.Knobs)) *sandbox.Server {
	t.Helper()
	var opts []sandboxtest.Option
	for _, k := range knobs {
		opts = append(opts, sandboxtest.WithKnobs(k))
	}
	return sandboxtest.Start(t, opts...)
}

var gidRE = regexp.MustCompile(`\b[A-Za-z0-9]{2}[A-Za-z0-9_-]{40,}\b`)

// normalize replaces IDs by stable names (R1, J1, ...) in order of first
// appearance, and hashes and sizes that vary.
func normalize(s string, names map[string]string) string {
	s = regexp.MustCompile(`sha256 [0-9a-f]{12}`).ReplaceAllString(s, "sha256 <sha>")
	s = regexp.MustCompile(`Packed (\d+ files?), [0-9.]+ [KMG]?i?B`).ReplaceAllString(s, "Packed $1, <size>")
	return gidRE.ReplaceAllStringFunc(s, func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	})
}
