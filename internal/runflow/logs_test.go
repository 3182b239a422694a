package runflow

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// TestFollowLogExact follows runs whose logs are several MiB of multi-byte
// characters, read in 1 MiB windows whose edges split characters, by
// subscription, by polling and over websockets that keep dropping.
func TestFollowLogExact(t *testing.T) {
	for _, tc := range []struct {
		name     string
		polling  bool
		dropWS   int64
		finished bool // follow only once the run has ended: every window is a replay
	}{
		{name: "subscription, finished run", finished: true},
		{name: "polling, finished run", polling: true, finished: true},
		{name: "dropped websockets, finished run", dropWS: 1536 << 10, finished: true},
		{name: "websockets too short for a window, finished run", dropWS: 200 << 10, finished: true},
		{name: "subscription, live"},
		{name: "polling, live", polling: true},
		{name: "dropped websockets, live", dropWS: 1536 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t, func(k *sandbox.Knobs) {
				// The 1 MiB windows of a finished run start at fixed offsets;
				// the one at 3 MiB falls inside a character.
				k.LogVolumeBytes = 3<<20 + 4321
				if !tc.finished {
					k.LogVolumeBytes = 1<<20 + 4321
				}
				k.DropWebsocketAfterBytes = tc.dropWS
			})
			e, rec := newEngine(t, srv)
			e.DisableSubscriptions = tc.polling
			ctx := testCtx(t)
			run, err := e.Create(ctx, Spec{Workspace: sandbox.SeedWorkspace, Directory: configDir(t, oneResource), Speculative: true, Refresh: true})
			if err != nil {
				t.Fatal(err)
			}
			if tc.finished {
				waitRun(t, srv, run.Id, func(r sandbox.Run) bool { return r.Status == "planned_and_finished" })
			}
			final, err := e.Follow(ctx, run.Id, UntilFinal)
			if err != nil {
				t.Fatal(err)
			}
			if final.Status != "planned_and_finished" {
				t.Fatalf("status %s", final.Status)
			}
			planJob, _ := jobsOfRun(srv, run.Id)
			want := srv.JobLog(planJob)
			if tc.finished && !splitsRune(want) {
				t.Fatalf("no 1 MiB boundary of the log splits a character: the test proves nothing; change LogVolumeBytes")
			}
			got := rec.logOf(t, planJob)
			if !bytes.Equal(got, want) {
				t.Fatalf("log differs: got %d bytes, want %d, first difference at %d", len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

// splitsRune reports whether a multiple of 1 MiB falls inside a character.
func splitsRune(b []byte) bool {
	for off := MaxLogRead; off < len(b); off += MaxLogRead {
		if !utf8.RuneStart(b[off]) {
			return true
		}
	}
	return false
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
