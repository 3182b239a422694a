//go:build unix

package slug

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A FIFO would block a reader forever (the reference CLI's copy step hangs
// on one); it is skipped with a warning, as go-slug skips it silently.
func TestPackSkipsFIFO(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, map[string]string{"main.tf": "m"})
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skipf("cannot create a FIFO here: %v", err)
	}
	res, data := packT(t, dir, Options{})
	if got := summary(readTar(t, data)); !equalStrings(got, []string{"main.tf=m"}) {
		t.Errorf("entries %q", got)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "pipe") {
		t.Errorf("warnings %q, want one naming the FIFO", res.Warnings)
	}
}
