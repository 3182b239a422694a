package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sample is one child process's cost, from wait4's rusage.
type Sample struct {
	Wall   time.Duration
	CPU    time.Duration // user + system
	MaxRSS int64         // peak resident set, bytes
}

// Proc describes a child process to measure.
type Proc struct {
	Path string
	Args []string
	Env  []string // nil = the driver's environment
	Dir  string
	// Stdout receives the child's standard output (discarded when nil);
	// Stderr is kept for error messages.
	Stdout io.Writer
}

// TimeBin is GNU time, which reports the peak RSS of the process it runs.
// The driver cannot read that from wait4 itself: Go starts children with
// vfork semantics (CLONE_VM), so the kernel records the driver's own peak
// RSS as the child's starting point, and the driver holds the sandbox.
const TimeBin = "/usr/bin/time"

// Measure runs p to completion and returns its cost; a non-zero exit is
// an error that quotes the end of its stderr. Wall and CPU time come from
// the driver's clock and wait4 (which includes the wrapper's waited-for
// child), the peak RSS from GNU time.
func Measure(ctx context.Context, p Proc) (Sample, []byte, error) {
	rssFile, err := os.CreateTemp("", "tharsis-bench-rss-*")
	if err != nil {
		return Sample{}, nil, err
	}
	_ = rssFile.Close()
	defer func() { _ = os.Remove(rssFile.Name()) }()
	args := append([]string{"-f", "%M", "-o", rssFile.Name(), "--", p.Path}, p.Args...)
	cmd := exec.CommandContext(ctx, TimeBin, args...)
	cmd.Env, cmd.Dir = p.Env, p.Dir
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	if p.Stdout != nil {
		cmd.Stdout = p.Stdout
	}
	cmd.Stderr = &tailBuffer{max: 8 << 10, b: &errb}
	start := time.Now()
	err = cmd.Run()
	s := Sample{Wall: time.Since(start)}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			s.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	if err != nil {
		return s, out.Bytes(), fmt.Errorf("%s %s: %w: %s", p.Path, strings.Join(p.Args, " "), err, strings.TrimSpace(errb.String()))
	}
	if s.MaxRSS, err = readRSS(rssFile.Name()); err != nil {
		return s, out.Bytes(), fmt.Errorf("%s %s: %w", p.Path, strings.Join(p.Args, " "), err)
	}
	return s, out.Bytes(), nil
}

// readRSS reads GNU time's %M (kilobytes) from its -o file.
func readRSS(name string) (int64, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, fmt.Errorf("GNU time wrote no peak RSS")
	}
	kb, err := strconv.ParseInt(f[len(f)-1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("GNU time output %q: %w", data, err)
	}
	return kb << 10, nil
}

// Wall measures p's wall time alone, without the GNU time wrapper (for
// start-up, where the wrapper's own few hundred microseconds would show).
func Wall(ctx context.Context, p Proc) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, p.Path, p.Args...)
	cmd.Env, cmd.Dir = p.Env, p.Dir
	start := time.Now()
	err := cmd.Run()
	return time.Since(start), err
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	max int
	b   *bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

// Median returns the median of ds (the mean of the middle two for an even
// count); 0 for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Samples aggregates repeated measurements of one thing.
type Samples []Sample

// Wall is the median wall time.
func (ss Samples) Wall() time.Duration {
	return Median(ss.each(func(s Sample) time.Duration { return s.Wall }))
}

// CPU is the median CPU time.
func (ss Samples) CPU() time.Duration {
	return Median(ss.each(func(s Sample) time.Duration { return s.CPU }))
}

// MaxRSS is the largest peak RSS seen.
func (ss Samples) MaxRSS() int64 {
	var m int64
	for _, s := range ss {
		m = max(m, s.MaxRSS)
	}
	return m
}

func (ss Samples) each(f func(Sample) time.Duration) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

func (t *tailBuffer) String() string { return strings.TrimSpace(t.b.String()) }
