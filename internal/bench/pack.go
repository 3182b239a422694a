package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tharsis-cli/tharsis/pkg/slug"
)

// pack: the three packers on the three trees, each packing in its own
// process, alternating order round by round.
func (d *Driver) pack(ctx context.Context) error {
	tmp := filepath.Join(d.cfg.Work, "packtmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	rounds := map[string]int{TreeSmall: 15, TreeLarge: 7, TreeMonorepo: 3}
	d.printf("  %-9s %-13s %10s %10s %10s %10s\n", "tree", "packer", "wall", "CPU", "peak RSS", "slug")
	for _, kind := range []string{TreeSmall, TreeLarge, TreeMonorepo} {
		dir, _, err := d.tree(kind)
		if err != nil {
			return err
		}
		res := map[string]Samples{}
		sizes := map[string]int64{}
		for _, p := range Packers { // warm-up: page cache
			if _, _, err := Measure(ctx, d.selfProc("pack", "-packer", p, "-dir", dir, "-tmp", tmp)); err != nil {
				return err
			}
		}
		for r := range rounds[kind] {
			// The copying packer leaves the page cache and the disk busy for
			// whatever runs next: it always runs last, and the two direct
			// packers take turns going first.
			order := []string{PackerTharsis, PackerGoSlug, PackerCopy}
			if r%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			for _, p := range order {
				s, out, err := Measure(ctx, d.selfProc("pack", "-packer", p, "-dir", dir, "-tmp", tmp))
				if err != nil {
					return err
				}
				var po PackOutput
				if err := json.Unmarshal(out, &po); err != nil {
					return fmt.Errorf("pack output %q: %w", out, err)
				}
				res[p] = append(res[p], s)
				sizes[p] = po.Size
			}
		}
		for _, p := range Packers {
			ss := res[p]
			d.printf("  %-9s %-13s %10s %10s %10s %10s\n", kind, p, ms(ss.Wall()), ms(ss.CPU()), mib(ss.MaxRSS()), slug.FormatSize(sizes[p]))
		}
		ours, direct, copied := res[PackerTharsis], res[PackerGoSlug], res[PackerCopy]
		ratio := float64(ours.Wall()) / float64(direct.Wall())
		d.add(Row{
			Benchmark: fmt.Sprintf("pack %s: tharsis / go-slug direct, wall", kind),
			Measured:  fmt.Sprintf("%.2fx (%s vs %s)", ratio, ms(ours.Wall()), ms(direct.Wall())),
			Target:    "<= 1.10x",
			Status:    check(ratio <= 1.10),
		})
		speed := float64(copied.Wall()) / float64(ours.Wall())
		row := Row{
			Benchmark: fmt.Sprintf("pack %s: copy+go-slug / tharsis, wall", kind),
			Measured:  fmt.Sprintf("%.1fx faster (%s vs %s)", speed, ms(copied.Wall()), ms(ours.Wall())),
			Target:    "-", Status: Info,
		}
		if kind == TreeMonorepo {
			row.Target, row.Status = ">= 5x faster", check(speed >= 5)
		}
		d.add(row)
		d.add(Row{
			Benchmark: fmt.Sprintf("pack %s: tharsis peak memory", kind),
			Measured:  fmt.Sprintf("%s (go-slug %s)", mib(ours.MaxRSS()), mib(direct.MaxRSS())),
			Target:    "< 64 MiB",
			Status:    check(ours.MaxRSS() < 64<<20),
		})
	}
	return nil
}
