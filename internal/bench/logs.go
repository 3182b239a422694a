package bench

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// stampWriter counts what a child writes to stdout and when the first and
// last bytes arrived.
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

// logRun is one measured run of the log benchmark. Times are relative to
// the plan job's start on the server (same clock: the sandbox runs in the
// driver).
type logRun struct {
	s         Sample
	bytes     int64
	firstOut  time.Duration // first log byte on the child's stdout
	lastOut   time.Duration // last log byte on the child's stdout
	lastWrite time.Duration // the job's end: its last log write
}

// streaming is the rate from the first log byte on stdout to the last.
func (r logRun) streaming() float64 { return mbps(r.bytes, r.lastOut-r.firstOut) }

// PacedWrite is how long the paced job takes to write its log.
const PacedWrite = 2 * time.Second

// logs: a job writing 10 MiB of logs (the server's cap) in many small
// writes, followed by the CLI (subscriptions) and by the run engine with
// subscriptions disabled (polling Job.logs). The job writes either as fast
// as the sandbox can (throughput, CPU) or spread over PacedWrite, as a
// real job does (the delay after its last write).
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
	defer d.srv.UpdateKnobs(func(k *sandbox.Knobs) { k.JobDuration, k.LogVolumeBytes = 0, 0 })
	for _, m := range modes {
		ws, _, err := d.workspace("logs")
		if err != nil {
			return err
		}
		series := func(jobDuration time.Duration, logVolume int) ([]logRun, error) {
			d.srv.UpdateKnobs(func(k *sandbox.Knobs) { k.JobDuration, k.LogVolumeBytes = jobDuration, logVolume })
			var out []logRun
			for range runs {
				r, err := d.logRun(ctx, m.proc(ws), ws)
				if err != nil {
					return nil, err
				}
				out = append(out, r)
			}
			return out, nil
		}
		// Baseline: the same run without the filler, to subtract fixed costs.
		base, err := series(0, 0)
		if err != nil {
			return err
		}
		fast, err := series(0, volume)
		if err != nil {
			return err
		}
		paced, err := series(PacedWrite, volume)
		if err != nil {
			return err
		}
		// Peak memory must not grow with the log: compare half of it (at both
		// sizes the stream is past its first few chunks).
		half, err := series(0, volume/2)
		if err != nil {
			return err
		}
		var qs Samples
		for _, r := range half {
			qs = append(qs, r.s)
		}
		med := func(rs []logRun, f func(logRun) time.Duration) time.Duration {
			ds := make([]time.Duration, len(rs))
			for i, r := range rs {
				ds[i] = f(r)
			}
			return Median(ds)
		}
		var ss Samples
		for _, r := range append(fast, paced...) {
			ss = append(ss, r.s)
		}
		bytes := fast[0].bytes
		mibs := float64(bytes) / (1 << 20)
		cpu, baseCPU := med(fast, func(r logRun) time.Duration { return r.s.CPU }), med(base, func(r logRun) time.Duration { return r.s.CPU })
		// Rates as durations per MiB, so that Median applies.
		perMiB := func(rate float64) time.Duration { return time.Duration(float64(time.Second) / max(rate, 1e-9)) }
		stream := float64(time.Second) / float64(med(fast, func(r logRun) time.Duration { return perMiB(r.streaming()) }))
		firstOut, lastOut := med(fast, func(r logRun) time.Duration { return r.firstOut }), med(fast, func(r logRun) time.Duration { return r.lastOut })
		lag := med(fast, func(r logRun) time.Duration { return r.lastOut - r.lastWrite })
		pacedLag := med(paced, func(r logRun) time.Duration { return r.lastOut - r.lastWrite })
		d.printf("  %s: %s on stdout; instant job: wrote for %s, first byte out at %s, last at %s, CPU %s (baseline %s); paced job: wrote for %s\n",
			m.name, mib(bytes), ms(med(fast, func(r logRun) time.Duration { return r.lastWrite })), ms(firstOut), ms(lastOut),
			ms(cpu), ms(baseCPU), ms(med(paced, func(r logRun) time.Duration { return r.lastWrite })))
		name := fmt.Sprintf("logs %s, %s", mib(bytes), m.name)
		d.add(Row{
			Benchmark: name + ": throughput, first to last byte out",
			Measured:  fmt.Sprintf("%.1f MiB/s", stream),
			Target:    ">= 20 MiB/s",
			Status:    check(stream >= 20),
		})
		d.add(Row{
			Benchmark: name + ": from the job's start: first byte out, last byte out",
			Measured:  fmt.Sprintf("%s, %s (%.1f MiB/s)", ms(firstOut), ms(lastOut), mbps(bytes, lastOut)),
			Target:    "-", Status: Info,
		})
		d.add(Row{
			Benchmark: fmt.Sprintf("%s: last write to last byte out (instant job; job writing for %s)", name, ms(PacedWrite)),
			Measured:  fmt.Sprintf("%s; %s", ms(lag), ms(pacedLag)),
			Target:    "-", Status: Info,
		})
		d.add(Row{
			Benchmark: name + ": CPU per MiB",
			Measured:  ms(time.Duration(float64(cpu-baseCPU)/mibs)) + "/MiB", Target: "-", Status: Info,
		})
		d.add(Row{
			Benchmark: fmt.Sprintf("%s: peak memory (%s log; no log)", name, mib(half[0].bytes)),
			Measured:  fmt.Sprintf("%s (%s; %s)", mib(ss.MaxRSS()), mib(qs.MaxRSS()), mib(base[0].s.MaxRSS)),
			Target:    "< 64 MiB", Status: check(ss.MaxRSS() < 64<<20),
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
	start := *j.Timestamps.RunningAt
	return logRun{
		s: s, bytes: out.n,
		firstOut: out.first.Sub(start), lastOut: out.last.Sub(start),
		lastWrite: j.Timestamps.FinishedAt.Sub(start),
	}, nil
}
