package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// upload: the API client's configuration-version upload of a 200 MB slug
// against `curl -T` of the same file to the same route. Each pair (the two
// one right after the other, taking turns going first) has a sandbox of its
// own, which keeps every upload in memory, and the ratio reported is the
// median of the pairs' ratios.
func (d *Driver) upload(ctx context.Context) error {
	const pairs = 9
	size := max(1<<20, int64(200e6*d.cfg.Scale))
	big, err := d.slugFile("upload-big.tar.gz", size)
	if err != nil {
		return err
	}
	small, err := d.slugFile("upload-small.tar.gz", size/4)
	if err != nil {
		return err
	}
	home := filepath.Join(d.cfg.Work, "home-upload")
	one := func(b *box, wsGID, tool, file string) (Sample, error) {
		cv, err := b.newCV(ctx, wsGID)
		if err != nil {
			return Sample{}, err
		}
		p := d.selfProcIn(b, "upload", "-workspace", wsGID, "-cv", cv, "-file", file)
		if tool == "curl" {
			route := b.srv.URL() + "/tfe/v2/workspaces/" + wsGID + "/configuration-versions/" + cv + "/upload"
			p = Proc{Path: "curl", Args: []string{"-sS", "--fail", "-T", file,
				"-H", "Authorization: Bearer " + b.srv.AdminToken(),
				"-H", "Content-Type: application/octet-stream",
				"-o", "/dev/null", route}, Env: b.env}
		}
		s, _, err := Measure(ctx, p)
		return s, err
	}
	// pair runs both tools (in the given order) against a fresh sandbox.
	pair := func(order ...string) (map[string]Sample, error) {
		b, err := newBox(home)
		if err != nil {
			return nil, err
		}
		defer b.close()
		_, wsGID, err := b.workspace("upload")
		if err != nil {
			return nil, err
		}
		out := map[string]Sample{}
		for _, tool := range order {
			if out[tool], err = one(b, wsGID, tool, big); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if _, err := pair("tharsis", "curl"); err != nil { // warm-up
		return err
	}
	var cli, curl Samples
	var ratios []time.Duration
	for i := range pairs {
		order := []string{"tharsis", "curl"}
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		s, err := pair(order...)
		if err != nil {
			return err
		}
		cli, curl = append(cli, s["tharsis"]), append(curl, s["curl"])
		// Throughput ratio tharsis/curl is the inverse ratio of wall times.
		ratios = append(ratios, ratio(s["curl"].Wall, s["tharsis"].Wall))
	}
	b, err := newBox(home)
	if err != nil {
		return err
	}
	defer b.close()
	_, wsGID, err := b.workspace("upload")
	if err != nil {
		return err
	}
	var smallRSS int64
	for range 2 {
		s, err := one(b, wsGID, "tharsis", small)
		if err != nil {
			return err
		}
		smallRSS = max(smallRSS, s.MaxRSS)
	}
	rel := unratio(Median(ratios))
	d.printf("  tharsis: wall %s, CPU %s, peak %s; curl: wall %s, CPU %s, peak %s\n",
		ms(cli.Wall()), ms(cli.CPU()), mib(cli.MaxRSS()), ms(curl.Wall()), ms(curl.CPU()), mib(curl.MaxRSS()))
	d.add(Row{
		Benchmark: fmt.Sprintf("upload %s: throughput vs curl -T (median of %d pairs)", mib(size), pairs),
		Measured:  fmt.Sprintf("%.2fx (%.0f vs %.0f MiB/s)", rel, mbps(size, cli.Wall()), mbps(size, curl.Wall())),
		Target:    ">= 0.80x",
		Status:    check(rel >= 0.8),
	})
	flat := cli.MaxRSS() < 64<<20 && cli.MaxRSS()-smallRSS < 8<<20
	d.add(Row{
		Benchmark: fmt.Sprintf("upload %s: peak memory (%s upload)", mib(size), mib(size/4)),
		Measured:  fmt.Sprintf("%s (%s)", mib(cli.MaxRSS()), mib(smallRSS)),
		Target:    "< 64 MiB, flat",
		Status:    check(flat),
	})
	return nil
}

// slugFile writes an incompressible file of size bytes (a slug is gzip).
func (d *Driver) slugFile(name string, size int64) (string, error) {
	dir := filepath.Join(d.cfg.Work, "upload")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	g := newTreeGen(dir, 42)
	start := time.Now()
	if err := g.blob(name, size, false); err != nil {
		return "", err
	}
	d.printf("  generated %s (%s) in %s\n", name, mib(size), ms(time.Since(start)))
	return filepath.Join(dir, name), nil
}

func (b *box) newCV(ctx context.Context, wsGID string) (string, error) {
	resp, err := gql.CreateConfigurationVersion(ctx, b.client.GraphQL(), gql.CreateConfigurationVersionInput{WorkspaceId: &wsGID})
	if err != nil {
		return "", err
	}
	if err := api.ProblemsOf("create configuration version", resp.CreateConfigurationVersion.Problems); err != nil {
		return "", err
	}
	if resp.CreateConfigurationVersion.ConfigurationVersion == nil {
		return "", fmt.Errorf("no configuration version returned")
	}
	return resp.CreateConfigurationVersion.ConfigurationVersion.Id, nil
}
