package run_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
	apigql "github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/runflow"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// Helpers of the tests of acting on runs (cancel, signals, inspect,
// decide). Names start with "act" to stay clear of the other test files.

// actEngine is a run engine on the sandbox, as the admin (or token).
func actEngine(t *testing.T, srv *sandbox.Server, token string) *runflow.Engine {
	t.Helper()
	if token == "" {
		token = srv.AdminToken()
	}
	c, err := api.New(api.Config{Endpoint: srv.URL(), TokenSource: api.StaticTokenSource(token)})
	if err != nil {
		t.Fatal(err)
	}
	return &runflow.Engine{API: c}
}

// actCreateRun creates a run on the seed workspace from files, without
// following it, as a colleague's CLI would have, and returns its ID.
func actCreateRun(t *testing.T, srv *sandbox.Server, files map[string]string, edit func(*runflow.Spec)) string {
	t.Helper()
	spec := runflow.Spec{Workspace: ws, Directory: configDir(t, files), Refresh: true}
	if edit != nil {
		edit(&spec)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := actEngine(t, srv, "").Create(ctx, spec)
	if err != nil {
		t.Fatalf("create run: %v", err)
	}
	return r.Id
}

// actWaitRun waits until the sandbox's run satisfies cond.
func actWaitRun(t *testing.T, srv *sandbox.Server, id, what string, cond func(r sandbox.Run, jobs []sandbox.Job) bool) sandbox.Run {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		r, ok := srv.Run(id)
		if !ok {
			t.Fatalf("no run %s", id)
		}
		if cond(r, srv.Jobs(id)) {
			return r
		}
		select {
		case <-tick.C:
		case <-timeout.C:
			t.Fatalf("run %s never %s: status %s, jobs %+v", id, what, r.Status, srv.Jobs(id))
		}
	}
}

// actStatus is a condition on the run status.
func actStatus(statuses ...string) func(sandbox.Run, []sandbox.Job) bool {
	return func(r sandbox.Run, _ []sandbox.Job) bool {
		for _, s := range statuses {
			if r.Status == s {
				return true
			}
		}
		return false
	}
}

// actJobRunning: the run's latest job runs (or was asked to stop).
func actJobRunning(typ string) func(sandbox.Run, []sandbox.Job) bool {
	return func(_ sandbox.Run, jobs []sandbox.Job) bool {
		for i := len(jobs) - 1; i >= 0; i-- {
			if jobs[i].Type == typ {
				return jobs[i].Status == "running"
			}
		}
		return false
	}
}

// actJobStatus is the status of the run's latest job of a type ("" if none).
func actJobStatus(srv *sandbox.Server, id, typ string) string {
	jobs := srv.Jobs(id)
	for i := len(jobs) - 1; i >= 0; i-- {
		if jobs[i].Type == typ {
			return jobs[i].Status
		}
	}
	return ""
}

// actDecode checks that s is exactly one JSON document and decodes it.
func actDecode(t *testing.T, s string, out any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(out); err != nil {
		t.Fatalf("stdout is not a JSON document: %v\n%s", err, s)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		t.Fatalf("stdout holds more than one JSON document:\n%s", s)
	}
}

// actProc is the real binary running against the sandbox with pipes (no
// terminal), so that it gets real signals.
type actProc struct {
	cmd            *exec.Cmd
	stdout, stderr *watchBuffer
	stdin          io.WriteCloser
	tmp            string // the child's TMPDIR
	done           chan struct{}
	code           int
}

// actStart runs the built binary. The environment is clean apart from the
// sandbox's endpoint and token and extra ("KEY=value"); TMPDIR is a private
// directory so the test can see the files the binary leaves behind.
func actStart(t *testing.T, srv *sandbox.Server, extra []string, args ...string) *actProc {
	t.Helper()
	return actStartAt(t, srv.URL(), srv.AdminToken(), extra, args...)
}

func actStartAt(t *testing.T, endpoint, token string, extra []string, args ...string) *actProc {
	t.Helper()
	p := &actProc{stdout: newWatchBuffer(), stderr: newWatchBuffer(), tmp: t.TempDir(), done: make(chan struct{})}
	p.cmd = exec.Command(tharsisBinary(t), args...)
	p.cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"TMPDIR=" + p.tmp,
		"THARSIS_CONFIG_DIR=" + t.TempDir(),
		"THARSIS_ENDPOINT=" + endpoint,
		"THARSIS_STATIC_TOKEN=" + token,
		"THARSIS_QUEUE_HINT_AFTER=20ms",
	}, extra...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *actProc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// await waits for re on stderr.
func (p *actProc) await(t *testing.T, re string) string {
	t.Helper()
	return p.stderr.waitFor(t, regexp.MustCompile(re))
}

// wait returns the exit code (-1 when a signal killed the process).
func (p *actProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the command did not end:\n%s", p.stderr.String())
	}
	t.Logf("exit %d\n--- stdout ---\n%s\n--- stderr ---\n%s", p.code, clip(p.stdout.String()), p.stderr.String())
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("the binary was killed by %v instead of handling it", ws.Signal())
	}
	return p.code
}

// leftovers lists the files in the child's TMPDIR.
func (p *actProc) leftovers(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(p.tmp, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != p.tmp {
			out = append(out, strings.TrimPrefix(path, p.tmp+string(filepath.Separator)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// actProxy stands between the CLI and the sandbox: it can hold
// configuration uploads until the client gives up (so a test can interrupt
// an upload in flight), hold a GraphQL operation until the test releases it,
// and answer chosen GraphQL operations itself.
type actProxy struct {
	srv     *httptest.Server
	upload  chan struct{} // closed when an upload arrives
	arrived chan struct{} // closed when the held operation arrives
	release chan struct{} // closed to let it through
	once    sync.Once

	releaseFn func()
	ignored   atomic.Int32 // cancelRun requests seen
}

// answerUnchanged answers a cancelRun with the run read from the sandbox,
// unchanged.
func (p *actProxy) answerUnchanged(sb *sandbox.Server, w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Variables struct {
			Input struct {
				RunID string `json:"runId"`
			} `json:"input"`
		} `json:"variables"`
	}
	_ = json.Unmarshal(body, &in)
	q, _ := json.Marshal(map[string]any{"query": apigql.GetRun_Operation, "operationName": "GetRun",
		"variables": map[string]any{"id": in.Variables.Input.RunID}})
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, sb.URL()+"/graphql", bytes.NewReader(q))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	var got struct {
		Data struct {
			Node json.RawMessage `json:"node"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"data":{"cancelRun":{"run":%s,"problems":[]}}}`, got.Data.Node)
}

type actProxyOptions struct {
	holdUploads bool
	holdOp      string // GraphQL operation to hold
	// ignoreCancels: the first n cancelRun requests are answered with the
	// run as it is, as if the job had not seen the cancel.
	ignoreCancels int
	override      map[string]string // operation name -> response body
}

func newActProxy(t *testing.T, sb *sandbox.Server, o actProxyOptions) *actProxy {
	t.Helper()
	target, err := url.Parse(sb.URL())
	if err != nil {
		t.Fatal(err)
	}
	p := &actProxy{upload: make(chan struct{}), arrived: make(chan struct{}), release: make(chan struct{})}
	var arrivedOnce, releaseOnce sync.Once
	p.releaseFn = func() { releaseOnce.Do(func() { close(p.release) }) }
	rp := httputil.NewSingleHostReverseProxy(target)
	// Unstarted, so that p.srv is set before any handler reads it.
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/.well-known/terraform.json":
			// Service discovery names absolute URLs: point them here.
			resp, err := http.Get(sb.URL() + r.URL.Path)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(bytes.ReplaceAll(b, []byte(sb.URL()), []byte(p.srv.URL)))
			return
		case o.holdUploads && r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/upload"):
			// Read the body first: the server notices that the client has
			// gone (and ends the context) only once the body is read.
			_, _ = io.Copy(io.Discard, r.Body)
			p.once.Do(func() { close(p.upload) })
			select {
			case <-r.Context().Done():
			case <-p.release:
			}
			return
		case r.URL.Path == "/graphql" && r.Method == http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var req struct {
				OperationName string `json:"operationName"`
			}
			_ = json.Unmarshal(body, &req)
			if o.holdOp != "" && req.OperationName == o.holdOp {
				arrivedOnce.Do(func() { close(p.arrived) })
				select {
				case <-r.Context().Done():
					return
				case <-p.release:
				}
			}
			if req.OperationName == "CancelRun" && p.ignored.Add(1) <= int32(o.ignoreCancels) {
				p.answerUnchanged(sb, w, r, body)
				return
			}
			if canned, ok := o.override[req.OperationName]; ok {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, canned)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	t.Cleanup(p.releaseFn) // before Close, which waits for held requests
	return p
}

// actFirstDiff is the index of the first differing byte.
func actFirstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
