package bench

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// stampWriter counts what a child writes to stdout and when the last byte
// arrived.
type stampWriter struct {
	mu    sync.Mutex
	n     int64
	first time.Time
	last  time.Time
}

func (w *stampWriter) Write(p []byte) (int, error) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 && len(p) > 0 {
		w.first = now
	}
	w.n += int64(len(p))
	w.last = now
	return len(p), nil
}

// logRun is one measured run of the log benchmark.
type logRun struct {
	s          Sample
	bytes      int64
	throughput float64       // MiB/s from the job's start to the last byte on stdout
	lag        time.Duration // from the job's last write to the last byte on stdout
	write      time.Duration // the job's own time (the sandbox writing the log)
}

// logs: a job writing 10 MiB of logs (the server's cap) in many small
// writes, followed by the CLI (subscriptions) and by the run engine with
// subscriptions disabled (polling Job.logs).
func (d *Driver) logs(ctx context.Context) error {
	const runs = 3
	dir, _, err := d.tree(TreeSmall)
	if err != nil {
		return err
	}
	volume := max(1<<20, int(float64(10<<20)*d.cfg.Scale))
	modes := []struct {
		name string
		proc func(ws string) Proc
	}{
		{"subscription (tharsis plan)", func(ws string) Proc { return d.cliProc("plan", ws, "--directory-path", dir) }},
		{"polling (engine, subscriptions off)", func(ws string) Proc { return d.selfProc("run", "-poll", "-workspace", ws, "-dir", dir) }},
	}
	defer d.srv.UpdateKnobs(func(k *sandbox.Knobs) { k.LogVolumeBytes = 0 })
	for _, m := range modes {
		ws, _, err := d.workspace("logs")
		if err != nil {
			return err
		}
		// Baseline: the same run without the filler, to subtract fixed costs.
		d.srv.UpdateKnobs(func(k *sandbox.Knobs) { k.JobDuration, k.LogVolumeBytes = 0, 0 })
		var base []time.Duration
		for range runs {
			r, err := d.logRun(ctx, m.proc(ws), ws)
			if err != nil {
				return err
			}
			base = append(base, r.s.CPU)
		}
		d.srv.UpdateKnobs(func(k *sandbox.Knobs) { k.JobDuration, k.LogVolumeBytes = 0, volume })
		var tput, lag, cpu, write []time.Duration
		var ss Samples
		var bytes int64
		for range runs {
			r, err := d.logRun(ctx, m.proc(ws), ws)
			if err != nil {
				return err
			}
			ss = append(ss, r.s)
			bytes = r.bytes
			// Durations make Median usable: throughput as ns per MiB.
			tput = append(tput, time.Duration(float64(time.Second)/r.throughput))
			lag = append(lag, r.lag)
			cpu = append(cpu, r.s.CPU)
			write = append(write, r.write)
		}
		mibs := float64(bytes) / (1 << 20)
		tp := float64(time.Second) / float64(Median(tput))
		cpuPer := time.Duration(float64(Median(cpu)-Median(base)) / mibs)
		d.printf("  %s: %s on stdout, job wrote for %s, wall %s, CPU %s (baseline %s)\n",
			m.name, mib(bytes), ms(Median(write)), ms(ss.Wall()), ms(Median(cpu)), ms(Median(base)))
		d.add(Row{
			Benchmark: fmt.Sprintf("logs %s: %s, %s", mib(bytes), m.name, "throughput"),
			Measured:  fmt.Sprintf("%.1f MiB/s", tp),
			Target:    ">= 20 MiB/s",
			Status:    check(tp >= 20),
		})
		d.add(Row{
			Benchmark: fmt.Sprintf("logs %s: %s, %s", mib(bytes), m.name, "last write to last byte out"),
			Measured:  ms(Median(lag)), Target: "-", Status: Info,
		})
		d.add(Row{
			Benchmark: fmt.Sprintf("logs %s: %s, %s", mib(bytes), m.name, "CPU per MiB"),
			Measured:  ms(cpuPer) + "/MiB", Target: "-", Status: Info,
		})
		d.add(Row{
			Benchmark: fmt.Sprintf("logs %s: %s, %s", mib(bytes), m.name, "peak memory"),
			Measured:  mib(ss.MaxRSS()), Target: "< 64 MiB", Status: check(ss.MaxRSS() < 64<<20),
		})
	}
	return nil
}

// logRun runs p (a plan of ws), then checks that its stdout carried the
// whole job log and relates its timing to the job's.
func (d *Driver) logRun(ctx context.Context, p Proc, ws string) (logRun, error) {
	out := &stampWriter{}
	p.Stdout = out
	s, _, err := Measure(ctx, p)
	if err != nil {
		return logRun{}, err
	}
	r, ok := d.lastRun(ws)
	if !ok {
		return logRun{}, fmt.Errorf("no run in %s", ws)
	}
	j, ok := d.planJob(r)
	if !ok || j.Timestamps.RunningAt == nil || j.Timestamps.FinishedAt == nil {
		return logRun{}, fmt.Errorf("run %s has no finished plan job", r.ID)
	}
	logSize := int64(len(d.srv.JobLog(sandbox.GID("job", j.ID))))
	// The cap can cut the last character; JSON then carries each of its
	// bytes as U+FFFD (3 bytes), and the client prints what it got.
	if diff := out.n - logSize; diff < 0 || diff > 2*(utf8.UTFMax-1) {
		return logRun{}, fmt.Errorf("%s printed %d log bytes, the job wrote %d", p.Path, out.n, logSize)
	}
	res := logRun{s: s, bytes: out.n, lag: out.last.Sub(*j.Timestamps.FinishedAt), write: j.Timestamps.FinishedAt.Sub(*j.Timestamps.RunningAt)}
	if el := out.last.Sub(*j.Timestamps.RunningAt); el > 0 {
		res.throughput = mbps(out.n, el)
	}
	return res, nil
}
