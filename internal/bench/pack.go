package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tharsis-cli/tharsis/pkg/slug"
)

// packRounds is how many pairs each comparison measures per tree: the
// direct packers (tharsis, go-slug) and tharsis against the copying packer.
var packRounds = map[string]struct{ direct, copy int }{
	TreeSmall:    {31, 9},
	TreeLarge:    {9, 5},
	TreeMonorepo: {9, 3},
}

// pack: the three packers on the three trees, each packing in its own
// process. Comparisons are made pair by pair (the two packers one right
// after the other, taking turns going first) and the ratio reported is the
// median of the pairs' ratios, so that a slow spell of the machine falls on
// both sides of a pair. The copying packer leaves gigabytes of dirty pages
// behind, which slow down whatever writes next: it is measured apart, and
// the file system is synced before each series and after each copy.
func (d *Driver) pack(ctx context.Context) error {
	tmp := filepath.Join(d.cfg.Work, "packtmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	d.printf("  %-9s %-13s %10s %10s %10s %10s\n", "tree", "packer", "wall", "CPU", "peak RSS", "slug")
	for _, kind := range []string{TreeSmall, TreeLarge, TreeMonorepo} {
		dir, _, err := d.tree(kind)
		if err != nil {
			return err
		}
		res := map[string]Samples{}
		sizes := map[string]int64{}
		run := func(p string) (Sample, error) {
			s, out, err := Measure(ctx, d.selfProc("pack", "-packer", p, "-dir", dir, "-tmp", tmp))
			if err != nil {
				return s, err
			}
			var po PackOutput
			if err := json.Unmarshal(out, &po); err != nil {
				return s, fmt.Errorf("pack output %q: %w", out, err)
			}
			res[p] = append(res[p], s)
			sizes[p] = po.Size
			return s, nil
		}
		for _, p := range Packers { // warm-up: page cache
			if _, err := run(p); err != nil {
				return err
			}
		}
		res = map[string]Samples{}
		syscall.Sync()
		var direct, copied []time.Duration // per-pair ratios, as durations of 1 ms per 1.0x
		for r := range packRounds[kind].direct {
			order := [2]string{PackerTharsis, PackerGoSlug}
			if r%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			w := map[string]time.Duration{}
			for _, p := range order {
				s, err := run(p)
				if err != nil {
					return err
				}
				w[p] = s.Wall
			}
			direct = append(direct, ratio(w[PackerTharsis], w[PackerGoSlug]))
		}
		for range packRounds[kind].copy {
			t, err := run(PackerTharsis)
			if err != nil {
				return err
			}
			c, err := run(PackerCopy)
			if err != nil {
				return err
			}
			syscall.Sync()
			copied = append(copied, ratio(c.Wall, t.Wall))
		}
		for _, p := range Packers {
			ss := res[p]
			d.printf("  %-9s %-13s %10s %10s %10s %10s\n", kind, p, ms(ss.Wall()), ms(ss.CPU()), mib(ss.MaxRSS()), slug.FormatSize(sizes[p]))
		}
		ours, goslug, copy := res[PackerTharsis], res[PackerGoSlug], res[PackerCopy]
		rd, rc := unratio(Median(direct)), unratio(Median(copied))
		d.add(Row{
			Benchmark: fmt.Sprintf("pack %s: tharsis / go-slug direct, wall (median of %d pairs)", kind, len(direct)),
			Measured:  fmt.Sprintf("%.2fx (%s vs %s)", rd, ms(ours.Wall()), ms(goslug.Wall())),
			Target:    "<= 1.10x",
			Status:    check(rd <= 1.10),
		})
		row := Row{
			Benchmark: fmt.Sprintf("pack %s: copy+go-slug / tharsis, wall (median of %d pairs)", kind, len(copied)),
			Measured:  fmt.Sprintf("%.1fx faster (%s vs %s)", rc, ms(copy.Wall()), ms(ours.Wall())),
			Target:    "-", Status: Info,
		}
		if kind == TreeMonorepo {
			row.Target, row.Status = ">= 5x faster", check(rc >= 5)
		}
		d.add(row)
		d.add(Row{
			Benchmark: fmt.Sprintf("pack %s: tharsis peak memory", kind),
			Measured:  fmt.Sprintf("%s (go-slug %s)", mib(ours.MaxRSS()), mib(goslug.MaxRSS())),
			Target:    "< 64 MiB",
			Status:    check(ours.MaxRSS() < 64<<20),
		})
	}
	return nil
}

// ratio encodes a/b as a duration (1.0 = 1 ms) so that Median applies.
func ratio(a, b time.Duration) time.Duration {
	if b <= 0 {
		return 0
	}
	return time.Duration(float64(a) / float64(b) * float64(time.Millisecond))
}

func unratio(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
