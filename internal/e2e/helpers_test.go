package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/e2e"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

const ws = sandbox.SeedWorkspace

// oneResource is a configuration whose apply has one change.
const oneResource = "resource \"terraform_data\" \"a\" {\n  input = \"x\"\n}\n"

// The real binary, built once for the package (the bad-input suite runs it).
var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func tharsisBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "tharsis-e2e-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "tharsis")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/tharsis-cli/tharsis/cmd/tharsis").CombinedOutput()
		if err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("build tharsis: %v", binErr)
	}
	return binPath
}

// world is a sandbox behind a fault proxy, and a directory to apply.
type world struct {
	srv   *sandbox.Server
	proxy *e2e.Proxy
	dir   string
}

func newWorld(t *testing.T, opts ...sandboxtest.Option) *world {
	t.Helper()
	srv := sandboxtest.Start(t, opts...)
	p, err := e2e.NewProxy(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return &world{srv: srv, proxy: p, dir: configDir(t, map[string]string{"main.tf": oneResource})}
}

// env is the environment of a CLI invocation through the proxy with the
// admin token (no NO_COLOR: it would strip the logs' escape sequences,
// which the byte-for-byte checks compare); kv adds or replaces variables ("" values remove them).
func (w *world) env(kv ...string) map[string]string {
	m := map[string]string{
		"THARSIS_ENDPOINT":         w.proxy.URL(),
		"THARSIS_STATIC_TOKEN":     w.srv.AdminToken(),
		"THARSIS_QUEUE_HINT_AFTER": "20ms",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

// requests sums the sandbox's request counters (GET /_sandbox/requests).
func (w *world) requests(t *testing.T) int {
	t.Helper()
	n := 0
	for _, c := range requestCounts(t, w.srv) {
		n += c
	}
	return n
}

func requestCounts(t *testing.T, srv *sandbox.Server) map[string]int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/_sandbox/requests", nil)
	req.Header.Set(sandbox.AdminKeyHeader, srv.AdminKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var counts map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&counts); err != nil {
		t.Fatal(err)
	}
	return counts
}

// adminClient talks to the sandbox directly (not through the proxy), to
// check through the API what the CLI left behind.
func adminClient(t *testing.T, srv *sandbox.Server) *api.Client {
	t.Helper()
	c, err := api.New(api.Config{Endpoint: srv.URL(), TokenSource: api.StaticTokenSource(srv.AdminToken())})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// apiRuns lists the workspace's runs through the GraphQL API.
func apiRuns(t *testing.T, srv *sandbox.Server, path string) []sandbox.Run {
	t.Helper()
	// The snapshot gives the IDs; each run is read back through the API so
	// that the check is what any client would see.
	var out []sandbox.Run
	c := adminClient(t, srv)
	for _, r := range srv.Runs(path) {
		resp, err := gql.GetRun(context.Background(), c.GraphQL(), sandbox.GID("run", r.ID))
		if err != nil {
			t.Fatalf("read run %s: %v", r.ID, err)
		}
		if resp.Node == nil {
			t.Fatalf("run %s is not visible through the API", r.ID)
		}
		run, ok := (*resp.Node).(*gql.GetRunNodeRun)
		if !ok {
			t.Fatalf("node %s is not a run", r.ID)
		}
		r.Status = string(run.Status)
		out = append(out, r)
	}
	return out
}

// retryPolicy is the retry budget the in-process CLI gets: short waits so
// a burst costs milliseconds, as many attempts as the real default.
var retryPolicy = api.RetryPolicy{Max: 4, WaitMin: 20 * time.Millisecond, WaitMax: 200 * time.Millisecond}

// fastClient builds the command's API clients as the CLI does (endpoint,
// credentials, logger from the command's configuration) but with
// retryPolicy and a short per-request timeout, so that faults cost
// milliseconds instead of the production backoff.
func fastClient(requestTimeout time.Duration) func(*cmdutil.Factory) {
	return func(f *cmdutil.Factory) {
		build := func(authenticated bool) (*api.Client, error) {
			cfg, err := f.Config()
			if err != nil {
				return nil, err
			}
			var ts api.TokenSource
			if authenticated {
				if ts, _, err = f.Credentials(); err != nil {
					return nil, err
				}
			}
			return api.New(api.Config{
				Endpoint:       cfg.Endpoint,
				TokenSource:    ts,
				Logger:         f.Logger(),
				Retry:          retryPolicy,
				RequestTimeout: requestTimeout,
			})
		}
		f.APIClient = sync.OnceValues(func() (*api.Client, error) { return build(true) })
		f.AnonymousAPIClient = sync.OnceValues(func() (*api.Client, error) { return build(false) })
	}
}

func logResult(t *testing.T, args []string, res clitest.Result) {
	t.Helper()
	out := res.Stdout
	if len(out) > 2000 {
		out = "(not shown)"
	}
	t.Logf("tharsis %s\nexit %d\n--- stdout (%d bytes) ---\n%s\n--- stderr ---\n%s", strings.Join(args, " "), res.Code,
		len(res.Stdout), out, clip(res.Stderr))
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:1500] + fmt.Sprintf("\n[... %d bytes ...]\n", len(s)-3000) + s[len(s)-1500:]
	}
	return s
}

// configDir is a temporary directory holding the files.
func configDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
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

// jobLogs returns the plan and apply logs of a run as the server stored
// them.
func jobLogs(t *testing.T, srv *sandbox.Server, r sandbox.Run) (plan, apply []byte) {
	t.Helper()
	for _, j := range srv.Jobs(sandbox.GID("run", r.ID)) {
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

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// wantLogs checks that stdout is the run's logs, byte for byte.
func wantLogs(t *testing.T, srv *sandbox.Server, r sandbox.Run, stdout string) {
	t.Helper()
	plan, apply := jobLogs(t, srv, r)
	want := append(append([]byte{}, plan...), apply...)
	if len(plan) == 0 {
		t.Fatalf("run %s has no plan log", r.ID)
	}
	if got := []byte(stdout); !bytes.Equal(got, want) {
		t.Fatalf("stdout differs from the job logs: got %d bytes, want %d; first difference at byte %d",
			len(got), len(want), firstDiff(got, want))
	}
}

// wantOneError checks the error report: exactly one "Error:" line, at
// most hints and the usage pointer besides, and no trace of a panic.
func wantOneError(t *testing.T, stderr string) {
	t.Helper()
	if strings.Count(stderr, "Error:") != 1 {
		t.Errorf("want exactly one Error: line on stderr, got:\n%s", stderr)
	}
	wantNoPanic(t, stderr)
}

var stackRE = regexp.MustCompile(`(?m)^goroutine \d+ \[|panic:|\.go:\d+ \+0x`)

func wantNoPanic(t *testing.T, outputs ...string) {
	t.Helper()
	for _, s := range outputs {
		if stackRE.MatchString(s) {
			t.Errorf("output holds a panic or a stack trace:\n%s", s)
		}
	}
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

// waitFor blocks until the buffer matches re.
func (w *watchBuffer) waitFor(t *testing.T, re *regexp.Regexp) {
	t.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		w.mu.Lock()
		ok := re.MatchString(w.buf.String())
		ch := w.changed
		w.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-timeout.C:
			t.Fatalf("output never matched %s:\n%s", re, w.String())
		}
	}
}

// background is the CLI running in process in a goroutine.
type background struct {
	args           []string
	stdout, stderr *watchBuffer
	done           chan int
}

func startCLI(t *testing.T, o clitest.Options, args ...string) *background {
	t.Helper()
	return startCLIWithStdin(t, o, nil, args...)
}

// startCLIWithStdin is startCLI with stdin read from r (o.Stdin when nil).
func startCLIWithStdin(t *testing.T, o clitest.Options, r io.Reader, args ...string) *background {
	t.Helper()
	s, in, _, _ := ui.Test()
	in.WriteString(o.Stdin)
	if r != nil {
		s.In = r
	}
	s.SetTTY(o.TTY)
	b := &background{args: args, stdout: newWatchBuffer(), stderr: newWatchBuffer(), done: make(chan int, 1)}
	s.Out, s.ErrOut = b.stdout, b.stderr
	o.Streams = s
	ctx, cancel := context.WithCancel(context.Background())
	o.Context = ctx
	go func() { b.done <- clitest.Run(t, o, args...).Code }()
	t.Cleanup(func() {
		cancel()
		<-b.done
	})
	return b
}

// wait returns the result once the command has ended.
func (b *background) wait(t *testing.T) clitest.Result {
	t.Helper()
	select {
	case code := <-b.done:
		b.done <- code // for Cleanup
		res := clitest.Result{Code: code, Stdout: b.stdout.String(), Stderr: b.stderr.String()}
		logResult(t, b.args, res)
		return res
	case <-time.After(60 * time.Second):
		t.Fatalf("command did not end:\n%s", b.stderr.String())
	}
	return clitest.Result{}
}

// within returns a context for waits inside a test.
func within(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// blockingStdin is a standard input that never has a line to read (a
// terminal nobody types on); it ends with the test.
func blockingStdin(t *testing.T) io.Reader {
	t.Helper()
	r, w := io.Pipe()
	t.Cleanup(func() { _ = w.Close() })
	return r
}

// gqlAdmin sends a GraphQL request to the sandbox as its admin and fails
// the test on any error or problem.
func gqlAdmin(t *testing.T, srv *sandbox.Server, query string, vars map[string]any) {
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
	if resp.StatusCode != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) || bytes.Contains(raw, []byte(`"problems":[{`)) {
		t.Fatalf("graphql %s: status %d, %s", query, resp.StatusCode, raw)
	}
}

// setRunnerTags gives the seed workspace runner tags no runner has.
func setRunnerTags(t *testing.T, srv *sandbox.Server, tags []string) {
	t.Helper()
	gqlAdmin(t, srv, `mutation($in: UpdateWorkspaceInput!) { updateWorkspace(input: $in) { problems { message } } }`,
		map[string]any{"in": map[string]any{"id": "trn:workspace:" + ws, "runnerTags": map[string]any{"inherit": false, "tags": tags}}})
}
