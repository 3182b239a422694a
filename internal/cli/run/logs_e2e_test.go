package run_test

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// TestLogIntegrity: a multi-megabyte log of multi-byte characters, sent over
// websockets that the server drops every few hundred KiB, reaches stdout
// byte for byte: every byte once, in order, untouched.
func TestLogIntegrity(t *testing.T) {
	for _, tc := range []struct {
		name string
		knob func(*sandbox.Knobs)
		args []string
	}{
		// Each connection carries a 1 MiB window and part of the next, then
		// drops: the stream resumes where it was.
		{"dropped websockets", func(k *sandbox.Knobs) {
			k.LogVolumeBytes = 2<<20 + 12345
			k.DropWebsocketAfterBytes = 1536 << 10
		}, nil},
		// No window fits in a connection: the stored log is read with
		// Job.logs and the stream carries the rest.
		{"websockets too short for a window", func(k *sandbox.Knobs) {
			k.LogVolumeBytes = 2<<20 + 999
			k.DropWebsocketAfterBytes = 200 << 10
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t, tc.knob)
			dir := configDir(t, map[string]string{"main.tf": oneResource})
			res := clitest.Run(t, clitest.Options{Env: env(srv)}, append([]string{"apply", ws, "--directory-path", dir, "--auto-approve"}, tc.args...)...)
			wantCode(t, res, 0)
			plan, apply := jobLogs(t, srv, onlyRun(t, srv, ws))
			want := append(append([]byte{}, plan...), apply...)
			if len(plan) < 2<<20 || !utf8.Valid(want) || bytes.Count(want, []byte("🚀")) < 1000 {
				t.Fatalf("the sandbox log is not what the test needs: %d bytes", len(plan))
			}
			if got := []byte(res.Stdout); !bytes.Equal(got, want) {
				t.Fatalf("stdout differs from the job logs: got %d bytes, want %d; first difference at byte %d",
					len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestTruncatedLog: a log the server truncated arrives as stored and the
// command says it was truncated, after the log. A cut inside a character
// cannot cross JSON: its bytes arrive as U+FFFD, one each, and nothing else
// is lost or repeated.
func TestTruncatedLog(t *testing.T) {
	cut := 0
	for _, max := range []int64{1<<20 + 1, 1<<20 + 2, 1<<20 + 3} {
		srv := startSandbox(t, func(k *sandbox.Knobs) {
			k.LogVolumeBytes = int(max) + 64<<10
			k.MaxLogBytes = max
		})
		res := clitest.Run(t, clitest.Options{Env: env(srv)}, "plan", ws, "--directory-path", configDir(t, map[string]string{"main.tf": oneResource}))
		wantCode(t, res, 0)
		plan, _ := jobLogs(t, srv, onlyRun(t, srv, ws))
		if int64(len(plan)) != max {
			t.Fatalf("the sandbox stored %d bytes, want %d", len(plan), max)
		}
		if !utf8.Valid(plan) {
			cut++
		}
		want := bytes.ToValidUTF8(plan, nil)
		for i := len(want); i < len(plan); i++ {
			want = append(want, "\uFFFD"...)
		}
		if got := []byte(res.Stdout); !bytes.Equal(got, want) {
			t.Fatalf("max %d: stdout has %d bytes, want %d; first difference at %d", max, len(got), len(want), firstDiff(got, want))
		}
		wantContains(t, "stderr", res.Stderr, "Note: the server truncated this job's log")
	}
	if cut == 0 {
		t.Fatal("no truncation cut a character: the test proves less than it should; change the sizes")
	}
}
