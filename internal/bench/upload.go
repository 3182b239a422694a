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
// against `curl -T` of the same file to the same route, alternating.
func (d *Driver) upload(ctx context.Context) error {
	const runs = 5
	size := max(1<<20, int64(200e6*d.cfg.Scale))
	big, err := d.slugFile("upload-big.tar.gz", size)
	if err != nil {
		return err
	}
	small, err := d.slugFile("upload-small.tar.gz", size/4)
	if err != nil {
		return err
	}
	ws, wsGID, err := d.workspace("upload")
	if err != nil {
		return err
	}
	_ = ws
	route := func(cv string) string {
		return d.srv.URL() + "/tfe/v2/workspaces/" + wsGID + "/configuration-versions/" + cv + "/upload"
	}
	var cli, curl Samples
	one := func(tool, file string) (Sample, error) {
		cv, err := d.newCV(ctx, wsGID)
		if err != nil {
			return Sample{}, err
		}
		var p Proc
		if tool == "curl" {
			p = Proc{Path: "curl", Args: []string{"-sS", "--fail", "-T", file,
				"-H", "Authorization: Bearer " + d.srv.AdminToken(),
				"-H", "Content-Type: application/octet-stream",
				"-o", "/dev/null", route(cv)}, Env: d.env}
		} else {
			p = d.selfProc("upload", "-workspace", wsGID, "-cv", cv, "-file", file)
		}
		s, _, err := Measure(ctx, p)
		return s, err
	}
	// Warm-up: page cache, server allocation paths.
	for _, tool := range []string{"tharsis", "curl"} {
		if _, err := one(tool, big); err != nil {
			return err
		}
	}
	for i := range runs {
		order := []string{"tharsis", "curl"}
		if i%2 == 1 {
			order = []string{"curl", "tharsis"}
		}
		for _, tool := range order {
			s, err := one(tool, big)
			if err != nil {
				return err
			}
			if tool == "curl" {
				curl = append(curl, s)
			} else {
				cli = append(cli, s)
			}
		}
	}
	var smallRSS int64
	for range 2 {
		s, err := one("tharsis", small)
		if err != nil {
			return err
		}
		smallRSS = max(smallRSS, s.MaxRSS)
	}
	cliT, curlT := mbps(size, cli.Wall()), mbps(size, curl.Wall())
	d.printf("  tharsis: wall %s, CPU %s, peak %s; curl: wall %s, CPU %s, peak %s\n",
		ms(cli.Wall()), ms(cli.CPU()), mib(cli.MaxRSS()), ms(curl.Wall()), ms(curl.CPU()), mib(curl.MaxRSS()))
	d.add(Row{
		Benchmark: fmt.Sprintf("upload %s: throughput vs curl -T", mib(size)),
		Measured:  fmt.Sprintf("%.2fx (%.0f vs %.0f MiB/s)", cliT/curlT, cliT, curlT),
		Target:    ">= 0.80x",
		Status:    check(cliT >= 0.8*curlT),
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

func (d *Driver) newCV(ctx context.Context, wsGID string) (string, error) {
	resp, err := gql.CreateConfigurationVersion(ctx, d.client.GraphQL(), gql.CreateConfigurationVersionInput{WorkspaceId: &wsGID})
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
