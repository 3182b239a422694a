package runflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// TestFollowOrder: whenever following starts, the plan log comes first,
// then the plan summary, then the apply log, then the final status: logs
// never interleave and nothing about a phase is told before its log.
func TestFollowOrder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		finished bool
		polling  bool
	}{
		{name: "run already applied", finished: true},
		{name: "run already applied, polling", finished: true, polling: true},
		{name: "live"},
		{name: "live, polling", polling: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t, func(k *sandbox.Knobs) { k.LogVolumeBytes = 256 << 10 })
			e, rec := newEngine(t, srv)
			e.DisableSubscriptions = tc.polling
			ctx := testCtx(t)
			run, err := e.Create(ctx, Spec{Workspace: sandbox.SeedWorkspace, Directory: configDir(t, oneResource), AutoApply: true, Refresh: true})
			if err != nil {
				t.Fatal(err)
			}
			if tc.finished {
				waitRun(t, srv, run.Id, func(r sandbox.Run) bool { return r.Status == "applied" })
			}
			final, err := e.Follow(ctx, run.Id, UntilFinal)
			if err != nil || final.Status != "applied" {
				t.Fatalf("follow: %v, status %v", err, final.Status)
			}
			planJob, applyJob := jobsOfRun(srv, run.Id)
			var seq []string
			for _, ev := range rec.all() {
				name := string(ev.Type)
				switch ev.Type {
				case EventLog:
					name = map[string]string{planJob: "plan-log", applyJob: "apply-log"}[ev.JobID]
				case EventStatus:
					name = "status:" + ev.Status
				}
				if len(seq) == 0 || seq[len(seq)-1] != name {
					seq = append(seq, name)
				}
			}
			got := strings.Join(seq, " ")
			// Live runs may show earlier statuses; what matters is the order
			// around the logs.
			want := "plan-log plan_summary apply-log status:applied"
			if !strings.HasSuffix(got, want) && !strings.HasSuffix(got, "plan-log plan_summary status:applying apply-log status:applied") {
				t.Fatalf("events %s\nwant them to end with %s", got, want)
			}
			for _, job := range []string{planJob, applyJob} {
				if got, want := rec.logOf(t, job), srv.JobLog(job); !bytes.Equal(got, want) {
					t.Fatalf("log of %s: %d bytes, want %d", job, len(got), len(want))
				}
			}
			if n := len(rec.ofType(EventPlanSummary)); n != 1 {
				t.Fatalf("%d plan summaries", n)
			}
		})
	}
}

// TestFollowQueueReasons: a run that waits says why once the hint delay has
// passed: the workspace is locked, another run holds it, or no runner
// agent can take the job.
func TestFollowQueueReasons(t *testing.T) {
	srv := startSandbox(t, nil)
	e, rec := newEngine(t, srv)
	e.QueueHintAfter = 10 * time.Millisecond
	ctx := testCtx(t)
	dir := configDir(t, oneResource)
	stopAt := func(status string) StopFunc { return func(r *Run) bool { return string(r.Status) == status } }
	// untilQueued follows the run until a queue reason containing msg is
	// told; Follow itself waits for the job's log, so the context ends it.
	untilQueued := func(runID, msg string) {
		t.Helper()
		fctx, cancel := context.WithCancel(ctx)
		defer cancel()
		e.Sink = func(ev Event) {
			rec.sink(ev)
			if ev.Type == EventQueued && strings.Contains(ev.Message, msg) {
				cancel()
			}
		}
		defer func() { e.Sink = rec.sink }()
		if _, err := e.Follow(fctx, runID, UntilFinal); !errors.Is(err, context.Canceled) || ctx.Err() != nil {
			t.Fatalf("follow until %q: %v", msg, err)
		}
	}

	// No runner: the workspace's jobs need a tag no runner has.
	adminGQL(t, srv, `mutation { updateWorkspace(input: {id: "trn:workspace:sandbox/demo", runnerTags: {inherit: false, tags: ["gpu"]}}) { problems { message } } }`)
	first, err := e.Create(ctx, Spec{Workspace: sandbox.SeedWorkspace, Directory: dir, Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	untilQueued(first.Id, "no runner agent")
	ev := rec.ofType(EventQueued)[0]
	if ev.Status != "plan_queued" || !strings.Contains(ev.Message, "tags gpu") || !strings.Contains(ev.Hint, "service account") {
		t.Fatalf("queue reason %+v", ev)
	}

	// Another run holds the workspace: the second run names it.
	adminGQL(t, srv, `mutation { updateWorkspace(input: {id: "trn:workspace:sandbox/demo", runnerTags: {inherit: true}}) { problems { message } } }`)
	second, err := e.Create(ctx, Spec{Workspace: sandbox.SeedWorkspace, Directory: dir, Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	untilQueued(second.Id, "waiting for run "+first.Id)
	adminGQL(t, srv, fmt.Sprintf(`mutation { cancelRun(input: {runId: %q}) { problems { message } } }`, first.Id))
	if _, err := e.Follow(ctx, second.Id, stopAt("planned")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Discard(ctx, second.Id); err != nil {
		t.Fatal(err)
	}

	// A locked workspace.
	adminGQL(t, srv, `mutation { lockWorkspace(input: {workspaceId: "trn:workspace:sandbox/demo"}) { problems { message } } }`)
	third, err := e.Create(ctx, Spec{Workspace: sandbox.SeedWorkspace, Directory: dir, Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	untilQueued(third.Id, "is locked")
	adminGQL(t, srv, `mutation { unlockWorkspace(input: {workspaceId: "trn:workspace:sandbox/demo"}) { problems { message } } }`)
	if _, err := e.Follow(ctx, third.Id, stopAt("planned")); err != nil {
		t.Fatal(err)
	}
	for _, ev := range rec.ofType(EventQueued) {
		t.Logf("%s: %s (hint: %s)", ev.Status, ev.Message, ev.Hint)
	}
}

// TestFollowReadsOnSubscriptionEdges: with polls spaced an hour apart and
// every websocket dropped at once, a run approved while it is followed is
// still followed to its end: each time the subscription starts or ends,
// the run is read again.
func TestFollowReadsOnSubscriptionEdges(t *testing.T) {
	srv := startSandbox(t, func(k *sandbox.Knobs) { k.DropWebsocketAfterBytes = 1 })
	e, rec := newEngine(t, srv)
	ctx := testCtx(t)
	run, err := e.Create(ctx, Spec{Workspace: sandbox.SeedWorkspace, Directory: configDir(t, oneResource), Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	waitRun(t, srv, run.Id, func(r sandbox.Run) bool { return r.Status == "planned" })
	e.PollMin, e.PollMax, e.PollSubscribed = time.Hour, time.Hour, time.Hour
	approved := make(chan error, 1)
	var once sync.Once
	e.Sink = func(ev Event) {
		rec.sink(ev)
		if ev.Type == EventStatus && ev.Status == "planned" {
			// Approve from elsewhere once the follower has seen the run
			// waiting: only a read of the run can tell it what follows.
			once.Do(func() {
				go func() {
					_, err := e.Apply(context.WithoutCancel(ctx), run.Id, "")
					approved <- err
				}()
			})
		}
	}
	final, err := e.Follow(ctx, run.Id, UntilFinal)
	if err != nil || final.Status != "applied" {
		t.Fatalf("follow: %v (status %v)", err, final.Status)
	}
	if err := <-approved; err != nil {
		t.Fatal(err)
	}
	planJob, applyJob := jobsOfRun(srv, run.Id)
	for _, j := range []string{planJob, applyJob} {
		if got := rec.logOf(t, j); !bytes.Equal(got, srv.JobLog(j)) {
			t.Fatalf("log of %s differs", j)
		}
	}
}
