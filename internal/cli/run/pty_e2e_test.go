package run_test

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// The pseudo-terminal tests run the real binary, built once for the
// package, so that the terminal, its line discipline and its signals are
// real.
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
	if runtime.GOOS == "windows" {
		t.Skip("no pseudo-terminals on Windows")
	}
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

// ptyRun is the binary running on a pseudo-terminal (stdin, stdout and
// stderr all on it, as in an interactive shell).
type ptyRun struct {
	out  *watchBuffer
	tty  *os.File
	done chan struct{}
	code int
}

func startOnPTY(t *testing.T, srv *sandbox.Server, extraEnv []string, args ...string) *ptyRun {
	t.Helper()
	cmd := exec.Command(tharsisBinary(t), args...)
	// A clean environment: the test's own (CI=true in CI) would change
	// what a terminal user sees.
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"THARSIS_CONFIG_DIR=" + t.TempDir(),
		"THARSIS_ENDPOINT=" + srv.URL(),
		"THARSIS_STATIC_TOKEN=" + srv.AdminToken(),
		"THARSIS_QUEUE_HINT_AFTER=20ms",
		"TERM=xterm-256color",
	}, extraEnv...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyRun{out: newWatchBuffer(), tty: tty, done: make(chan struct{})}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(p.out, tty) // ends with EIO once the process has exited
	}()
	go func() {
		err := cmd.Wait()
		<-copied
		p.code = cmd.ProcessState.ExitCode()
		if err != nil && p.code < 0 {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		_ = tty.Close()
	})
	return p
}

func (p *ptyRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the command did not end:\n%s", p.out.String())
	}
	t.Logf("exit %d; terminal:\n%s", p.code, clip(p.out.String()))
	return p.code
}

// TestApprovalOnTerminal: the approval question is answered by typing on a
// terminal; Ctrl-C at the question (a real SIGINT from the terminal)
// discards the run too.
func TestApprovalOnTerminal(t *testing.T) {
	for _, tc := range []struct {
		name       string
		typed      string
		wantCode   int
		wantStatus string
		want       []string
	}{
		{"yes", "yes\r", 0, "applied", []string{"Apply complete!", "applied."}},
		{"no", "no\r", 3, "discarded", []string{"approval declined", "the workspace is free"}},
		{"Ctrl-C", "\x03", 3, "discarded", []string{"Interrupt received: discarding run", "interrupted at the approval prompt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t)
			p := startOnPTY(t, srv, nil, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}))
			p.out.waitFor(t, regexp.MustCompile(`Enter a value: $`))
			if _, err := p.tty.WriteString(tc.typed); err != nil {
				t.Fatal(err)
			}
			if code := p.wait(t); code != tc.wantCode {
				t.Fatalf("exit %d, want %d", code, tc.wantCode)
			}
			r := onlyRun(t, srv, ws)
			if r.Status != tc.wantStatus {
				t.Fatalf("run %s, want %s", r.Status, tc.wantStatus)
			}
			out := p.out.String()
			wantContains(t, "terminal", out, tc.want...)
			// On a terminal outside CI the status lines are styled.
			wantContains(t, "terminal", out, "\x1b[2mStatus:")
		})
	}
}

// TestTerminalInCI: in CI, even on a terminal, status lines are plain and
// there is no spinner.
func TestTerminalInCI(t *testing.T) {
	srv := startSandbox(t)
	setRunnerTags(t, srv, []string{"nowhere"})
	p := startOnPTY(t, srv, []string{"CI=true"}, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}))
	// Let the spinner (if any) have its chance, then Ctrl-C cancels the run.
	p.out.waitFor(t, regexp.MustCompile(`Hint: a runner agent must match`))
	if _, err := p.tty.WriteString("\x03"); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	out := p.out.String()
	wantContains(t, "terminal", out, "Status: plan queued: waiting for a runner", "Waiting: no runner agent")
	// Neither colour nor spinner frames (the spinner redraws with \r).
	if strings.Contains(out, "\x1b[") || strings.Contains(strings.ReplaceAll(out, "\r\n", "\n"), "\r") {
		t.Errorf("styled or animated output in CI:\n%q", out)
	}
}

// TestTerminalSpinner: on a terminal outside CI a waiting run shows a
// spinner with its status, the queue reason is printed above it, and the
// spinner comes back while the run still waits.
func TestTerminalSpinner(t *testing.T) {
	srv := startSandbox(t)
	setRunnerTags(t, srv, []string{"nowhere"})
	p := startOnPTY(t, srv, nil, "apply", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}))
	hint := regexp.MustCompile(`Hint:(\x1b\[0m)? a runner agent must match[^\n]*\n`)
	p.out.waitFor(t, regexp.MustCompile(hint.String()+`(?s:.*)plan queued: waiting for a runner`))
	if _, err := p.tty.WriteString("\x03"); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	wantContains(t, "terminal", p.out.String(), "\x1b[33mWaiting:\x1b[0m no runner agent")
}
