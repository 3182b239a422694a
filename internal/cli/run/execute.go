package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/runflow"
	"github.com/tharsis-cli/tharsis/internal/ui/runview"
	"github.com/tharsis-cli/tharsis/pkg/slug"
)

// errTimeout is the cause of the command context when --timeout expires.
var errTimeout = errors.New("--timeout expired")

// errDetached is the cause of the follow context after the third interrupt.
var errDetached = errors.New("detached")

func runCreate(ctx context.Context, o *CreateOptions) error {
	spec, err := o.prepare()
	if err != nil {
		return err
	}
	if o.DryRun {
		return o.dryRun(ctx, spec)
	}
	client, err := o.F.APIClient()
	if err != nil {
		return err
	}

	s := newSession(ctx, o, client)
	defer s.close()
	return s.execute(spec)
}

// session is one plan/apply/destroy invocation: the engine, the renderer,
// the interrupt state and the result being built.
type session struct {
	o      *CreateOptions
	eng    *runflow.Engine
	view   *runview.Renderer
	result *Result

	// ctx ends on --timeout or detach; prepCtx also ends on the first
	// interrupt, which matters only before the run exists.
	ctx        context.Context
	cancel     context.CancelCauseFunc
	prepCtx    context.Context
	prepCancel context.CancelFunc

	mu         sync.Mutex
	run        *runflow.Run // nil until the run exists
	interrupts int
	cancelSent bool
	atPrompt   context.CancelFunc // set while the approval prompt waits
	// detach makes the first interrupt detach instead of canceling the run
	// (run watch: the run is someone else's).
	detach      bool
	releaseSigs func()
	sigDone     chan struct{}
}

func newSession(parent context.Context, o *CreateOptions, client runflow.API) *session {
	ctx, cancel := context.WithCancelCause(parent)
	if o.Timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, o.Timeout, errTimeout)
		prev := cancel
		cancel = func(cause error) { stop(); prev(cause) }
	}
	prepCtx, prepCancel := context.WithCancel(ctx)
	s := &session{o: o, ctx: ctx, cancel: cancel, prepCtx: prepCtx, prepCancel: prepCancel, sigDone: make(chan struct{})}

	io := o.F.IO
	mode := runview.Text
	logs := io.Out
	if o.Events {
		mode = runview.Events
	} else if o.F.JSON() {
		logs = io.ErrOut // stdout carries the one JSON document
	}
	s.view = runview.New(runview.Options{
		Mode:      mode,
		Logs:      logs,
		Status:    io.ErrOut,
		Color:     io.ErrColorEnabled(),
		Spinner:   io.SpinnerEnabled() && !o.F.JSON(),
		Quiet:     o.Quiet,
		StripANSI: noColorRequested(o.F),
	})
	s.eng = &runflow.Engine{API: client, Sink: s.view.Handle, Now: o.F.Now, QueueHintAfter: queueHintAfter(o.F.Getenv),
		DisableSubscriptions: noSubscriptions(o.F.Getenv)}
	s.result = &Result{Kind: o.Kind.String(), StartedAt: time.Now()}

	sigs, release := o.F.Interrupts.Claim()
	s.releaseSigs = release
	go s.handleSignals(sigs)
	return s
}

func (s *session) close() {
	s.releaseSigs()
	close(s.sigDone)
	s.view.Stop()
	s.prepCancel()
	s.cancel(nil)
}

// setRun records the latest snapshot of the run. The signal handler calls
// it too (after a cancel request), so the result is updated under the lock.
func (s *session) setRun(r *runflow.Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run = r
	s.result.update(r)
}

func (s *session) currentRun() *runflow.Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run
}

// execute creates the run and drives it to its end, turning what happened
// into the exit code.
func (s *session) execute(spec runflow.Spec) error {
	run, err := s.create(spec)
	if err != nil {
		return s.finish(s.failBeforeRun(err))
	}
	return s.driveCreated(run)
}

// driveCreated drives a run this command has just created.
func (s *session) driveCreated(run *runflow.Run) error {
	if s.adopt(run) {
		// Ctrl-C came while createRun was in flight: the run exists after
		// all, and nothing cancelled it yet. Leaving it would orphan it
		// (an apply would wait for approval forever).
		s.view.Printf("Run %s was created as the interrupt arrived: asking Tharsis to cancel it.\n", run.Id)
		s.requestCancel(run.Id, false)
	}
	return s.drive(run)
}

// adopt records the new run and reports whether an interrupt came before
// the session knew it, when the signal handler could not cancel it. Under
// the lock, so that each interrupt is handled by exactly one of them.
func (s *session) adopt(run *runflow.Run) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run = run
	s.result.update(run)
	return s.interrupts > 0
}

// drive follows an existing run through its plan, the approval and its
// apply, and turns the end into the command's exit code.
func (s *session) drive(run *runflow.Run) error {
	s.setRun(run)
	run, err := s.follow(run.Id, runflow.UntilPlanDone)
	if err != nil {
		return s.finish(err)
	}
	if s.interrupted() && run.Status == gql.RunStatusPlanned {
		// The plan finished before the job saw the cancel: cancel the run
		// where it waits for approval (at once), rather than leave it there.
		s.view.Printf("The plan of run %s finished before the cancel took effect; canceling the run, which now waits for approval.\n", run.Id)
		s.requestCancel(run.Id, false)
		if run, err = s.follow(run.Id, runflow.UntilFinal); err != nil {
			return s.finish(err)
		}
	}
	// follow goes on to a final status once interrupted.
	if runflow.Terminal(run.Status) || s.interrupted() {
		return s.finish(s.outcome(run))
	}
	if run.Status == gql.RunStatusPlanned {
		approved, err := s.approve(run)
		if err != nil || !approved {
			return s.finish(err)
		}
	}
	// Apply phase (approved here, or started by the server with auto-apply).
	run, err = s.follow(run.Id, runflow.UntilFinal)
	if err != nil {
		return s.finish(err)
	}
	return s.finish(s.outcome(run))
}

// create packs, uploads and creates the run. The first interrupt stops it
// before the run exists; once createRun is sent it is allowed to finish, so
// the run is never created without the CLI knowing its ID.
func (s *session) create(spec runflow.Spec) (*runflow.Run, error) {
	if spec.Directory == "" && spec.ModuleSource == "" && spec.ConfigurationVersionID == "" {
		// A destroy with no configuration at hand: the server rebuilds the
		// run from the one behind the workspace's current state.
		s.view.Printf("No Terraform files here: destroying with the configuration behind the workspace's current state.\n")
		return s.destroyWorkspace(spec.Workspace)
	}
	s.eng.BeforeCreate = func() error {
		if s.prepCtx.Err() != nil {
			return s.prepCtx.Err()
		}
		return nil
	}
	return s.eng.Create(s.prepCtx, spec)
}

func (s *session) destroyWorkspace(ref string) (*runflow.Run, error) {
	ws, err := s.eng.GetWorkspace(s.prepCtx, ref)
	if err != nil {
		return nil, err
	}
	if s.prepCtx.Err() != nil {
		return nil, s.prepCtx.Err()
	}
	return s.eng.DestroyWorkspace(context.WithoutCancel(s.ctx), ws)
}

// failBeforeRun explains a failure that left no run behind.
func (s *session) failBeforeRun(err error) error {
	if errors.Is(context.Cause(s.ctx), errTimeout) {
		return s.contextError(err) // exit 124, whatever the request made of it
	}
	if s.interrupted() && errors.Is(err, context.Canceled) {
		s.view.Printf("Interrupted before the run was created: nothing was created.\n")
		return &cmdutil.ExitError{Code: cmdutil.ExitInterrupted}
	}
	// Packing failures are the directory's fault, found before anything
	// was created: bad input, like a missing directory (exit 64, without
	// the pointer to --help).
	var tooLarge *slug.TooLargeError
	if errors.As(err, &tooLarge) {
		return &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: cmdutil.WithHint(err, "exclude what the run does not need with a .terraformignore file, or raise --max-upload-size")}
	}
	if _, ok := errors.AsType[*slug.PathError](err); ok {
		return &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: err}
	}
	return err
}

// follow follows the run with the session's context, mapping a timeout or a
// detach to its exit code.
func (s *session) follow(runID string, stop runflow.StopFunc) (*runflow.Run, error) {
	run, err := s.eng.Follow(s.ctx, runID, func(r *runflow.Run) bool {
		s.setRun(r)
		if s.interrupted() {
			// planned too: a plan job may finish before it sees the
			// cancel, and the run then waits for approval (see drive).
			return runflow.Terminal(r.Status) || r.Status == gql.RunStatusPlanned
		}
		return stop(r)
	})
	if run != nil {
		s.setRun(run)
	}
	if err != nil {
		return run, s.contextError(err)
	}
	return run, nil
}

// contextError maps the end of the session context to timeout or detach.
func (s *session) contextError(err error) error {
	cause := context.Cause(s.ctx)
	run := s.currentRun()
	id, status := "", ""
	if run != nil {
		id, status = run.Id, string(run.Status)
	}
	switch {
	case errors.Is(cause, errTimeout):
		s.result.Outcome = "timeout"
		msg := fmt.Sprintf("gave up after %s", s.o.Timeout)
		if id != "" {
			msg += fmt.Sprintf("; run %s is left as it is (%s)", id, status)
			return &cmdutil.ExitError{Code: cmdutil.ExitTimeout, Err: cmdutil.WithHint(errors.New(msg),
				fmt.Sprintf("follow it with `tharsis run watch %s`, or cancel it with `tharsis run cancel %s`", id, id))}
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitTimeout, Err: errors.New(msg + "; no run was created")}
	case errors.Is(cause, errDetached):
		s.result.Outcome = "detached"
		return &cmdutil.ExitError{Code: cmdutil.ExitInterrupted}
	}
	return err
}

// outcome turns the final (or plan-final) run into the command's result.
func (s *session) outcome(run *runflow.Run) error {
	s.setRun(run)
	r := s.result
	switch run.Status {
	case gql.RunStatusErrored:
		r.Outcome = "errored"
		phase := "plan"
		msg := ptr(run.Plan.ErrorMessage)
		if run.Apply != nil && run.Apply.Status == gql.ApplyStatusErrored {
			phase, msg = "apply", ptr(run.Apply.ErrorMessage)
		}
		if msg == "" {
			msg = "see the log above"
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("the %s of run %s failed: %s", phase, run.Id, msg)}
	case gql.RunStatusCanceled:
		r.Outcome = "canceled"
		s.note("Run %s was canceled.\n", run.Id)
		return &cmdutil.ExitError{Code: cmdutil.ExitCanceled}
	case gql.RunStatusDiscarded:
		r.Outcome = "discarded"
		s.note("Run %s was discarded.\n", run.Id)
		return &cmdutil.ExitError{Code: cmdutil.ExitCanceled}
	case gql.RunStatusApplied:
		r.Outcome = "applied"
		s.note("Run %s applied.\n", run.Id)
		return nil
	case gql.RunStatusPlannedAndFinished:
		if !run.Plan.HasChanges {
			r.Outcome = "no_changes"
			if s.o.Kind != kindPlan {
				s.note("No changes: nothing to apply.\n")
			}
			return nil
		}
		r.Outcome = "planned"
		if s.o.DetailedExitcode {
			return &cmdutil.ExitError{Code: cmdutil.ExitChanges}
		}
		return nil
	}
	r.Outcome = string(run.Status)
	return nil
}

// finish writes the machine-readable outputs, whatever happened.
func (s *session) finish(err error) error {
	s.view.Stop()
	// The signal handler may still record a run snapshot (setRun).
	s.mu.Lock()
	defer s.mu.Unlock()
	s.result.FinishedAt = time.Now()
	s.result.ExitCode = cmdutil.ExitCode(err)
	if s.result.RunID != "" || s.o.F.JSON() {
		if werr := s.writeOutputs(); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// noColorRequested reports an explicit request for no colour (--no-color or
// NO_COLOR), which also strips Terraform's colours from the job logs. A
// pipe alone does not: logs stay byte for byte what the job wrote.
func noColorRequested(f *cmdutil.Factory) bool {
	return f.Global.NoColor || f.Getenv("NO_COLOR") != ""
}

// note prints an informational line unless --quiet.
func (s *session) note(format string, args ...any) {
	if !s.o.Quiet {
		s.view.Printf(format, args...)
	}
}

func (s *session) interrupted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.interrupts > 0
}

func ptr(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

// dryRun lists what would be uploaded, and creates nothing.
func (o *CreateOptions) dryRun(ctx context.Context, spec runflow.Spec) error {
	io := o.F.IO
	type dryFile struct {
		Path string `json:"path"`
		Size int64  `json:"size"`
		Type string `json:"type"`
	}
	type dryVar struct {
		Key      string `json:"key"`
		Category string `json:"category"`
	}
	out := struct {
		Workspace string    `json:"workspace"`
		Directory string    `json:"directory,omitempty"`
		Module    string    `json:"module_source,omitempty"`
		Files     []dryFile `json:"files"`
		Bytes     int64     `json:"content_bytes"`
		Variables []dryVar  `json:"variables"`
		Warnings  []string  `json:"warnings,omitempty"`
	}{Workspace: spec.Workspace, Directory: spec.Directory, Module: spec.ModuleSource, Files: []dryFile{}, Variables: []dryVar{}}
	if spec.Directory == "" && spec.ModuleSource == "" && spec.ConfigurationVersionID == "" {
		out.Warnings = append(out.Warnings, "no Terraform files here: the run would use the configuration behind the workspace's current state (nothing is uploaded)")
	}
	if spec.Directory != "" {
		l, err := slug.List(ctx, spec.Directory)
		if err != nil {
			return err
		}
		for _, f := range l.Files {
			out.Files = append(out.Files, dryFile{Path: f.Path, Size: f.Size, Type: f.Type.String()})
		}
		out.Bytes = l.ContentSize
		out.Warnings = l.Warnings
	}
	for _, v := range spec.Variables {
		out.Variables = append(out.Variables, dryVar{Key: v.Key, Category: v.Category})
	}
	if o.F.JSON() {
		return o.F.PrintJSON(out)
	}
	for _, f := range out.Files {
		fmt.Fprintf(io.Out, "%s\t%d\n", f.Path, f.Size)
	}
	for _, w := range out.Warnings {
		fmt.Fprintf(io.ErrOut, "Note: %s\n", w)
	}
	fmt.Fprintf(io.ErrOut, "Dry run: %d entries, %s of content would be uploaded to %s; %d variables; nothing was created.\n",
		len(out.Files), runview.HumanBytes(out.Bytes), spec.Workspace, len(out.Variables))
	return nil
}
