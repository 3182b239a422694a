package bench

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// startup: median wall time of `tharsis version` and `tharsis --help`,
// and the size of the binary.
func (d *Driver) startup(ctx context.Context) error {
	const runs = 31
	cmds := [][]string{{"version"}, {"--help"}}
	walls := make([][]time.Duration, len(cmds))
	var rss int64
	// Warm the page cache first; then alternate so that noise from other
	// processes falls on both alike.
	for _, c := range cmds {
		s, _, err := Measure(ctx, d.cliProc(c...))
		if err != nil {
			return err
		}
		rss = max(rss, s.MaxRSS)
	}
	for range runs {
		for i, c := range cmds {
			w, err := Wall(ctx, d.cliProc(c...))
			if err != nil {
				return err
			}
			walls[i] = append(walls[i], w)
		}
	}
	for i, c := range cmds {
		m := Median(walls[i])
		d.add(Row{
			Benchmark: fmt.Sprintf("start-up: tharsis %s (median of %d)", c[0], runs),
			Measured:  ms(m),
			Target:    "< 20 ms",
			Status:    check(m < 20*time.Millisecond),
		})
	}
	st, err := os.Stat(d.cfg.Tharsis)
	if err != nil {
		return err
	}
	d.add(Row{Benchmark: "start-up: binary size (-s -w, trimpath)", Measured: mib(st.Size()), Target: "-", Status: Info})
	d.add(Row{Benchmark: "start-up: peak memory of version/--help", Measured: mib(rss), Target: "-", Status: Info})
	return nil
}

// e2e: `tharsis plan` of the small module with instant jobs; the CLI's own
// overhead is its wall time minus the plan job's time on the server.
func (d *Driver) e2e(ctx context.Context) error {
	const runs = 15
	dir, _, err := d.tree(TreeSmall)
	if err != nil {
		return err
	}
	ws, _, err := d.workspace("e2e")
	if err != nil {
		return err
	}
	d.srv.UpdateKnobs(func(k *sandbox.Knobs) { k.JobDuration, k.LogVolumeBytes = 0, 0 })
	var over, walls, cpus []time.Duration
	var rss int64
	for i := range runs + 1 {
		s, _, err := Measure(ctx, d.cliProc("plan", ws, "--directory-path", dir))
		if err != nil {
			return err
		}
		r, ok := d.lastRun(ws)
		if !ok {
			return fmt.Errorf("no run in %s", ws)
		}
		j, ok := d.planJob(r)
		if !ok || j.Timestamps.RunningAt == nil || j.Timestamps.FinishedAt == nil {
			return fmt.Errorf("run %s has no finished plan job", r.ID)
		}
		if i == 0 {
			continue // warm-up
		}
		job := j.Timestamps.FinishedAt.Sub(*j.Timestamps.RunningAt)
		over = append(over, s.Wall-job)
		walls = append(walls, s.Wall)
		cpus = append(cpus, s.CPU)
		rss = max(rss, s.MaxRSS)
	}
	m := Median(over)
	d.add(Row{
		Benchmark: fmt.Sprintf("e2e: tharsis plan, small module: CLI overhead (median of %d)", runs),
		Measured:  fmt.Sprintf("%s (wall %s, CPU %s)", ms(m), ms(Median(walls)), ms(Median(cpus))),
		Target:    "< 300 ms",
		Status:    check(m < 300*time.Millisecond),
	})
	d.add(Row{Benchmark: "e2e: tharsis plan, small module: peak memory", Measured: mib(rss), Target: "< 64 MiB", Status: check(rss < 64<<20)})
	return nil
}
