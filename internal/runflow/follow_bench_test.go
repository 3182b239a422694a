package runflow

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// BenchmarkFollowLogs follows a plan whose job writes a large log in many
// small writes (the sandbox's LogVolumeBytes knob, 2 MiB by default;
// RUNFLOW_BENCH_LOG_MIB changes it, 10 is the server's cap), by
// subscription and by polling. Bytes per second are log bytes delivered to
// the sink; server and client share the process, so the figure is a ratio
// between the two paths and between revisions, not the CLI's throughput
// (`make bench` measures that).
func BenchmarkFollowLogs(b *testing.B) {
	mib := 2
	if v, err := strconv.Atoi(os.Getenv("RUNFLOW_BENCH_LOG_MIB")); err == nil && v > 0 {
		mib = v
	}
	for _, polling := range []bool{false, true} {
		name := "subscription"
		if polling {
			name = "polling"
		}
		b.Run(name, func(b *testing.B) {
			srv, err := sandbox.Start(b.Context(), sandbox.Options{Knobs: sandbox.Knobs{
				ForceCancelDelay: time.Second, LogVolumeBytes: mib << 20, MaxLogBytes: int64(mib+1) << 20,
			}})
			if err != nil {
				b.Fatal(err)
			}
			c, err := api.New(api.Config{Endpoint: srv.URL(), TokenSource: api.StaticTokenSource(srv.AdminToken())})
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			if err := os.WriteFile(dir+"/main.tf", []byte(oneResource), 0o644); err != nil {
				b.Fatal(err)
			}
			var n int64
			e := &Engine{API: c, DisableSubscriptions: polling, Sink: func(ev Event) {
				if ev.Type == EventLog {
					n += int64(len(ev.Data))
				}
			}}
			b.ReportAllocs()
			for b.Loop() {
				n = 0
				run, err := e.Create(b.Context(), Spec{Workspace: sandbox.SeedWorkspace, Directory: dir, Speculative: true, Refresh: true})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := e.Follow(b.Context(), run.Id, UntilFinal); err != nil {
					b.Fatal(err)
				}
				if n < int64(mib)<<20 {
					b.Fatalf("%d log bytes delivered, want at least %d MiB", n, mib)
				}
			}
			b.SetBytes(int64(mib) << 20)
		})
	}
}

// TestFollowQueuedJobNotPolled guards the request count of a run waiting
// for a runner: while its job is queued there is no log to read, so
// following it by polling reads the run only, not the job's log as well.
func TestFollowQueuedJobNotPolled(t *testing.T) {
	srv := startSandbox(t, nil)
	e, _ := newEngine(t, srv)
	e.DisableSubscriptions = true
	e.PollMin, e.PollMax = time.Millisecond, 2*time.Millisecond
	ctx := testCtx(t)
	if err := srv.CreateWorkspace(sandbox.SeedGroup, "no-runner"); err != nil {
		t.Fatal(err)
	}
	w, _ := srv.Workspace(sandbox.SeedGroup + "/no-runner")
	gid := sandbox.GID("workspace", w.ID)
	// No runner carries this tag, so the plan job stays queued.
	resp, err := gql.UpdateWorkspace(ctx, e.API.GraphQL(), gql.UpdateWorkspaceInput{
		Id: &gid, RunnerTags: &gql.NamespaceRunnerTagsInput{Tags: []string{"no-such-runner"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.ProblemsOf("update workspace", resp.UpdateWorkspace.Problems); err != nil {
		t.Fatal(err)
	}
	run, err := e.Create(ctx, Spec{Workspace: sandbox.SeedGroup + "/no-runner", Directory: configDir(t, oneResource), Speculative: true, Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	before := srv.RequestCount("GetRun")
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		// Let the engine poll the run a few dozen times, then stop it.
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for srv.RequestCount("GetRun") < before+30 {
			select {
			case <-tick.C:
			case <-fctx.Done():
				return
			}
		}
		stop()
	}()
	r, err := e.Follow(fctx, run.Id, UntilFinal)
	if err == nil {
		t.Fatalf("Follow returned %s without error; the run should still be queued", r.Status)
	}
	if r == nil || r.Status != gql.RunStatusPlanQueued || r.Plan.CurrentJob == nil || r.Plan.CurrentJob.Status != gql.JobStatusQueued {
		t.Fatalf("run %+v, want plan_queued with a queued job", r)
	}
	if n := srv.RequestCount("GetJobLogs"); n != 0 {
		t.Errorf("%d GetJobLogs requests for a queued job during %d run polls, want 0", n, srv.RequestCount("GetRun")-before)
	}
	if n := srv.RequestCount("JobLogStreamEvents"); n != 0 {
		t.Errorf("%d log subscriptions for a queued job, want 0", n)
	}
}
