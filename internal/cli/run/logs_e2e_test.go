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
		{"dropped websockets", func(k *sandbox.Knobs) {
			k.LogVolumeBytes = 3<<20 + 12345
			k.DropWebsocketAfterBytes = 300 << 10
		}, nil},
		{"steady websockets", func(k *sandbox.Knobs) {
			k.LogVolumeBytes = 2<<20 + 777
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
