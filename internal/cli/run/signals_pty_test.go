package run_test

import (
	"io"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// actTTY is the built binary on a pseudo-terminal: questions are asked,
// and Ctrl-C typed on it is a real SIGINT from the terminal.
type actTTY struct {
	out  *watchBuffer
	tty  *os.File
	done chan struct{}
	code int
}

func actStartTTY(t *testing.T, srv *sandbox.Server, args ...string) *actTTY {
	t.Helper()
	cmd := exec.Command(tharsisBinary(t), args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"TMPDIR=" + t.TempDir(),
		"THARSIS_CONFIG_DIR=" + t.TempDir(),
		"THARSIS_ENDPOINT=" + srv.URL(),
		"THARSIS_STATIC_TOKEN=" + srv.AdminToken(),
		"TERM=dumb",
		"NO_COLOR=1",
	}
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	p := &actTTY{out: newWatchBuffer(), tty: tty, done: make(chan struct{})}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(p.out, tty) // ends with EIO once the process has exited
	}()
	go func() {
		_ = cmd.Wait()
		<-copied
		p.code = cmd.ProcessState.ExitCode()
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

func (p *actTTY) await(t *testing.T, re string) {
	t.Helper()
	p.out.waitFor(t, regexp.MustCompile(re))
}

func (p *actTTY) typ(t *testing.T, s string) {
	t.Helper()
	if _, err := p.tty.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func (p *actTTY) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the command did not end:\n%s", p.out.String())
	}
	t.Logf("exit %d; terminal:\n%s", p.code, clip(p.out.String()))
	return p.code
}

// TestForceCancelConfirmation: on a terminal `run cancel --force` warns and
// asks first; only yes sends anything; --yes skips the question; Ctrl-C at
// the question sends nothing.
func TestForceCancelConfirmation(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		typed      string // at the question ("" when none is expected)
		wantCode   int
		wantStatus string
		wantForced bool
		want       []string
	}{
		{name: "yes", typed: "y\r", wantCode: 0, wantStatus: "canceled", wantForced: true,
			want: []string{"may leave resources in an inconsistent state", "Force cancel sent for run <run>", "Run <run> canceled."}},
		{name: "no", typed: "n\r", wantCode: 3, wantStatus: "planning",
			want: []string{"force cancel not confirmed; nothing was sent"}},
		{name: "default is no", typed: "\r", wantCode: 3, wantStatus: "planning"},
		{name: "Ctrl-C", typed: "\x03", wantCode: 130, wantStatus: "planning"},
		{name: "--yes", args: []string{"--yes"}, wantCode: 0, wantStatus: "canceled", wantForced: true,
			want: []string{"Force cancel sent for run <run>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startSandbox(t, func(k *sandbox.Knobs) {
				k.JobDuration = time.Minute
				k.IgnoreGracefulCancel = true
				k.ForceCancelDelay = time.Millisecond
			})
			id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
			actWaitRun(t, srv, id, "running", actJobRunning("plan"))
			p := actStartTTY(t, srv, append([]string{"run", "cancel", id, "--force"}, tc.args...)...)
			if tc.typed != "" {
				p.await(t, `Force cancel run `+id+`\? \[y/N\]: $`)
				p.typ(t, tc.typed)
			}
			if code := p.wait(t); code != tc.wantCode {
				t.Fatalf("exit %d, want %d", code, tc.wantCode)
			}
			r, _ := srv.Run(id)
			if r.Status != tc.wantStatus || r.ForceCanceled != tc.wantForced {
				t.Fatalf("run %s, force canceled %v; want %s, %v", r.Status, r.ForceCanceled, tc.wantStatus, tc.wantForced)
			}
			if !tc.wantForced && (r.ForceCancelAvailableAt != nil || srv.RequestCount("CancelRun") != 0) {
				t.Errorf("a cancel was sent without confirmation")
			}
			for _, s := range tc.want {
				wantContains(t, "terminal", p.out.String(), replaceRun(s, id))
			}
			if tc.typed == "" {
				wantNotContains(t, "terminal", p.out.String(), "[y/N]")
			}
		})
	}
}

// TestCtrlCOnTerminal: Ctrl-C typed on a terminal is the same SIGINT: it
// cancels a planning run, discards a destroy waiting for approval, and
// detaches `run watch` even at its approval question (the run is someone
// else's: it stays planned).
func TestCtrlCOnTerminal(t *testing.T) {
	cfg := map[string]string{"main.tf": oneResource}
	for _, tc := range []struct {
		name       string
		knob       func(*sandbox.Knobs)
		deployed   bool
		args       func(t *testing.T, srv *sandbox.Server) []string
		await      string
		wantCode   int
		wantStatus string
		want       []string
	}{
		{name: "apply planning", knob: slowJobs, await: `── plan log ──`, wantCode: 3, wantStatus: "canceled",
			args: func(t *testing.T, srv *sandbox.Server) []string {
				return []string{"apply", ws, "--directory-path", configDir(t, cfg)}
			},
			want: []string{"Interrupt received: asking Tharsis to cancel run <run> gracefully.", "Run <run> was canceled."}},
		{name: "destroy at the prompt", deployed: true, await: `Enter a value: $`, wantCode: 3, wantStatus: "discarded",
			args: func(t *testing.T, srv *sandbox.Server) []string {
				return []string{"destroy", ws, "--directory-path", configDir(t, cfg)}
			},
			want: []string{"Do you want to destroy these changes", "Interrupt received: discarding run <run>", "the workspace is free"}},
		{name: "workspace destroy at the prompt", deployed: true, await: `Enter a value: $`, wantCode: 3, wantStatus: "discarded",
			args: func(t *testing.T, srv *sandbox.Server) []string { return []string{"workspace", "destroy", ws} },
			want: []string{"Interrupt received: discarding run <run>"}},
		{name: "run watch at the prompt", await: `Enter a value: $`, wantCode: 130, wantStatus: "planned",
			args: func(t *testing.T, srv *sandbox.Server) []string {
				return []string{"run", "watch", actCreateRun(t, srv, cfg, nil)}
			},
			want: []string{"Detached from run <run>; it goes on without this command."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var knobs []func(*sandbox.Knobs)
			if tc.knob != nil {
				knobs = append(knobs, tc.knob)
			}
			srv := startSandbox(t, knobs...)
			if tc.deployed {
				id := actCreateRun(t, srv, cfg, nil)
				actWaitRun(t, srv, id, "planned", actStatus("planned"))
				gql(t, srv, `mutation($in: ApplyRunInput!) { applyRun(input: $in) { problems { message } } }`,
					map[string]any{"in": map[string]any{"runId": id}}, nil)
				actWaitRun(t, srv, id, "applied", actStatus("applied"))
			}
			before := len(srv.Runs(ws))
			p := actStartTTY(t, srv, tc.args(t, srv)...)
			p.await(t, tc.await)
			p.typ(t, "\x03")
			if code := p.wait(t); code != tc.wantCode {
				t.Fatalf("exit %d, want %d", code, tc.wantCode)
			}
			r := lastRun(t, srv, ws)
			if n := len(srv.Runs(ws)); n != before+1 {
				t.Fatalf("%d runs created", n-before)
			}
			if r.Status != tc.wantStatus {
				t.Fatalf("run %s, want %s", r.Status, tc.wantStatus)
			}
			for _, s := range tc.want {
				wantContains(t, "terminal", p.out.String(), replaceRun(s, runGID(r)))
			}
		})
	}
}

// TestWatchApprovalOnTerminal: `run watch` asks on a terminal; "yes"
// applies, anything else leaves someone else's run waiting for approval
// (and the question says so).
func TestWatchApprovalOnTerminal(t *testing.T) {
	for _, tc := range []struct {
		typed      string
		wantStatus string
		want       string
	}{
		{"yes\r", "applied", "Run <run> applied."},
		{"no\r", "planned", "Not approved; run <run> still waits for approval (tharsis run approve <run>)."},
	} {
		t.Run(tc.wantStatus, func(t *testing.T) {
			t.Parallel()
			srv := startSandbox(t)
			id := actCreateRun(t, srv, map[string]string{"main.tf": oneResource}, nil)
			p := actStartTTY(t, srv, "run", "watch", id)
			p.await(t, `Enter a value: $`)
			p.typ(t, tc.typed)
			if code := p.wait(t); code != 0 {
				t.Fatalf("exit %d, want 0", code)
			}
			if r, _ := srv.Run(id); r.Status != tc.wantStatus {
				t.Fatalf("run %s, want %s", r.Status, tc.wantStatus)
			}
			wantContains(t, "terminal", p.out.String(), "anything else leaves the run waiting for approval", replaceRun(tc.want, id))
			wantNotContains(t, "terminal", p.out.String(), "discard")
		})
	}
}
