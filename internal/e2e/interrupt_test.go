package e2e_test

import (
	"io"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/e2e"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
)

// terminal reports whether a run status is final: nothing on the server
// waits for anyone any more.
func terminal(status string) bool {
	switch status {
	case "applied", "planned_and_finished", "errored", "canceled", "discarded":
		return true
	}
	return false
}

// TestInterruptAtEveryStage delivers Ctrl-C at each stage of `tharsis
// apply` and checks, through the API once the command has exited, that no
// run is left waiting (orphaned): before the run exists nothing is
// created; once it exists it is canceled or discarded.
func TestInterruptAtEveryStage(t *testing.T) {
	type stage struct {
		name string
		opts []sandboxtest.Option
		// arm prepares the stage and returns a function that blocks until
		// the command has reached it, and one to call once the interrupt
		// was delivered (e.g. to release a stalled response), or nil.
		arm     func(t *testing.T, w *world, bg func() *background) (reached, after func())
		extra   int // further interrupts, each after "wantAfter" shows up
		stdin   io.Reader
		args    []string
		code    int
		status  string // the run's status afterwards; "" = no run
		cvs     int
		message string // regexp the command's stderr must match
	}
	slow := sandboxtest.WithKnobs(func(k *sandbox.Knobs) { k.JobDuration = 3 * time.Second })
	// stalled reaches the stage when the stall holds a request, and
	// releases it after the interrupt.
	stalled := func(t *testing.T, s *e2e.Stall) (reached, after func()) {
		return func() {
			select {
			case <-s.Stalled():
			case <-time.After(30 * time.Second):
				t.Fatal("the request was never stalled")
			}
		}, s.Release
	}
	stages := []stage{
		{
			name: "while looking up the workspace",
			arm: func(t *testing.T, w *world, _ func() *background) (func(), func()) {
				return stalled(t, w.proxy.StallBefore(e2e.Op("GetWorkspace"), 1))
			},
			code:    130,
			message: `nothing was created`,
		},
		{
			name: "while uploading",
			arm: func(t *testing.T, w *world, _ func() *background) (func(), func()) {
				return stalled(t, w.proxy.StallBefore(e2e.Upload(), 1))
			},
			code:    130,
			cvs:     1, // created before the upload; harmless, no run uses it
			message: `Interrupted before the run was created`,
		},
		{
			// The server created the run; its answer is held back when the
			// interrupt comes. The command must learn the run and cancel it.
			name: "while the run is being created",
			opts: []sandboxtest.Option{slow},
			arm: func(t *testing.T, w *world, _ func() *background) (func(), func()) {
				return stalled(t, w.proxy.StallAfter(e2e.Op("CreateRun"), 1))
			},
			code:   3,
			status: "canceled",
			cvs:    1,
		},
		{
			name: "while the run waits for a runner",
			arm: func(t *testing.T, w *world, bg func() *background) (func(), func()) {
				setRunnerTags(t, w.srv, []string{"nowhere"})
				return func() { bg().stderr.waitFor(t, regexp.MustCompile(`Waiting: no runner agent`)) }, nil
			},
			code: 3, status: "canceled", cvs: 1, message: `was canceled`,
		},
		{
			name: "while planning",
			opts: []sandboxtest.Option{slow},
			arm: func(t *testing.T, w *world, bg func() *background) (func(), func()) {
				return func() { bg().stderr.waitFor(t, regexp.MustCompile(`── plan log ──`)) }, nil
			},
			code: 3, status: "canceled", cvs: 1, message: `was canceled`,
		},
		{
			name:  "at the approval prompt",
			stdin: blockingStdin(t),
			args:  []string{}, // no --auto-approve
			arm: func(t *testing.T, w *world, bg func() *background) (func(), func()) {
				return func() { bg().stderr.waitFor(t, regexp.MustCompile(`Enter a value:`)) }, nil
			},
			code: 3, status: "discarded", cvs: 1, message: `was discarded, the workspace is free`,
		},
		{
			name: "while applying",
			opts: []sandboxtest.Option{slow},
			arm: func(t *testing.T, w *world, bg func() *background) (func(), func()) {
				return func() { bg().stderr.waitFor(t, regexp.MustCompile(`── apply log ──`)) }, nil
			},
			code: 3, status: "canceled", cvs: 1, message: `was canceled`,
		},
		{
			// The job ignores the graceful cancel: the second Ctrl-C forces it.
			name: "twice while a job ignores the cancel",
			opts: []sandboxtest.Option{slow, sandboxtest.WithKnobs(func(k *sandbox.Knobs) {
				k.IgnoreGracefulCancel = true
				k.ForceCancelDelay = 0 // forcing is allowed as soon as the cancel was asked for
			})},
			arm: func(t *testing.T, w *world, bg func() *background) (func(), func()) {
				return func() { bg().stderr.waitFor(t, regexp.MustCompile(`── plan log ──`)) }, nil
			},
			extra: 1,
			code:  3, status: "canceled", cvs: 1, message: `Forcing the cancel`,
		},
	}
	for _, st := range stages {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, st.opts...)
			sigs := cmdutil.NewInterrupts()
			var b *background
			reached, after := st.arm(t, w, func() *background { return b })
			args := []string{"apply", ws, "--directory-path", w.dir, "--auto-approve"}
			if st.args != nil {
				args = append([]string{"apply", ws, "--directory-path", w.dir}, st.args...)
			}
			o := clitest.Options{Env: w.env(), Interrupts: sigs, Setup: fastClient(10 * time.Second)}
			if st.stdin != nil {
				o.TTY = true
			}
			b = startCLIWithStdin(t, o, st.stdin, args...)
			reached()
			sigs.Deliver(os.Interrupt)
			if after != nil {
				after()
			}
			for range st.extra {
				b.stderr.waitFor(t, regexp.MustCompile(`Cancel requested|asking Tharsis to cancel`))
				sigs.Deliver(os.Interrupt)
			}
			res := b.wait(t)
			if res.Code != st.code {
				t.Fatalf("exit code %d, want %d", res.Code, st.code)
			}
			wantNoPanic(t, res.Stdout, res.Stderr)
			if st.message != "" && !regexp.MustCompile(st.message).MatchString(res.Stderr) {
				t.Errorf("stderr does not match %q", st.message)
			}
			runs := apiRuns(t, w.srv, ws)
			switch {
			case st.status == "" && len(runs) != 0:
				t.Fatalf("%d runs exist, want none", len(runs))
			case st.status != "" && len(runs) != 1:
				t.Fatalf("%d runs exist, want 1", len(runs))
			case st.status != "" && runs[0].Status != st.status:
				t.Fatalf("the run is %s, want %s", runs[0].Status, st.status)
			}
			for _, r := range runs {
				if !terminal(r.Status) {
					t.Errorf("run %s was left %s", r.ID, r.Status)
				}
			}
			if n := len(w.srv.ConfigurationVersions(ws)); n != st.cvs {
				t.Errorf("%d configuration versions exist, want %d", n, st.cvs)
			}
			if wsp, ok := w.srv.Workspace(ws); ok && wsp.Locked {
				t.Errorf("the workspace was left locked")
			}
		})
	}
}
