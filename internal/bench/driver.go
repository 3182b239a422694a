// Package bench is the benchmark harness behind `make bench`
// (scripts/bench.sh → cmd/tharsis-bench): packaging, upload, log
// streaming, request counts while waiting, start-up and end-to-end
// overhead, measured side by side against an in-process sandbox, printed
// as one table with targets. Nothing here runs in `go test` beyond its own
// unit tests; timings are only ever compared, never asserted.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// Benchmark groups, in the order they run.
var Groups = []string{"startup", "e2e", "logs", "wait", "upload", "pack"}

// Config is what `tharsis-bench all` is told.
type Config struct {
	Tharsis string // the CLI binary under test (release build)
	Self    string // this harness's binary, for the child commands
	Work    string // scratch directory (trees, slugs); created and removed by the caller
	Scale   float64
	// Wait is how long a run is kept queued by the waiting benchmark
	// (60 s by the issue; shorter in quick mode, targets scale with it).
	Wait time.Duration
	Only []string // groups to run; empty = all
	Out  io.Writer
}

// Driver runs the benchmarks against an in-process sandbox.
type Driver struct {
	cfg Config
	*box
	rows  []Row
	trees map[string]string // kind → generated directory
	stats map[string]TreeStats
}

// box is an in-process sandbox with an admin client and the environment
// that points children at it.
type box struct {
	srv    *sandbox.Server
	client *api.Client
	env    []string // environment for children: endpoint, token, config dir
	wsSeq  int
}

// newBox starts a sandbox with instant jobs; home is the children's HOME
// and settings directory.
func newBox(home string) (*box, error) {
	srv, err := sandbox.New(sandbox.Options{
		Knobs:          sandbox.DefaultKnobs(),
		MaxUploadBytes: 4 << 30, // the upload benchmark sends 200 MB
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, err
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	client, err := api.New(api.Config{Endpoint: srv.URL(), TokenSource: api.StaticTokenSource(srv.AdminToken())})
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		_ = srv.Close()
		return nil, err
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"THARSIS_CONFIG_DIR=" + home,
		"THARSIS_ENDPOINT=" + srv.URL(),
		"THARSIS_STATIC_TOKEN=" + srv.AdminToken(),
		"TERM=dumb", // no NO_COLOR: it makes the CLI strip escape sequences from job logs
	}
	return &box{srv: srv, client: client, env: env}, nil
}

func (b *box) close() { _ = b.srv.Close() }

// Run runs the selected benchmarks and returns the summary rows.
func Run(ctx context.Context, cfg Config) ([]Row, error) {
	if cfg.Scale <= 0 {
		cfg.Scale = 1
	}
	if cfg.Wait <= 0 {
		cfg.Wait = WaitReference
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	for _, g := range cfg.Only {
		if !slices.Contains(Groups, g) {
			return nil, fmt.Errorf("unknown benchmark group %q (have %s)", g, strings.Join(Groups, ", "))
		}
	}
	b, err := newBox(filepath.Join(cfg.Work, "home"))
	if err != nil {
		return nil, err
	}
	defer b.close()
	d := &Driver{cfg: cfg, box: b, trees: map[string]string{}, stats: map[string]TreeStats{}}
	for _, g := range Groups {
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, g) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return d.rows, err
		}
		d.printf("\n== %s\n", g)
		var err error
		switch g {
		case "startup":
			err = d.startup(ctx)
		case "e2e":
			err = d.e2e(ctx)
		case "logs":
			err = d.logs(ctx)
		case "wait":
			err = d.wait(ctx)
		case "upload":
			err = d.upload(ctx)
		case "pack":
			err = d.pack(ctx)
		}
		if err != nil {
			return d.rows, fmt.Errorf("%s: %w", g, err)
		}
	}
	return d.rows, nil
}

func (d *Driver) printf(format string, args ...any) { fmt.Fprintf(d.cfg.Out, format, args...) }

func (d *Driver) add(r Row) {
	d.rows = append(d.rows, r)
	d.printf("  %-52s %s  (target %s)  %s\n", r.Benchmark, r.Measured, r.Target, r.Status)
}

// tree returns the directory of a generated tree, generating it on first use.
func (d *Driver) tree(kind string) (string, TreeStats, error) {
	if dir, ok := d.trees[kind]; ok {
		return dir, d.stats[kind], nil
	}
	dir := filepath.Join(d.cfg.Work, "trees", kind)
	if err := os.RemoveAll(dir); err != nil {
		return "", TreeStats{}, err
	}
	start := time.Now()
	st, err := GenTree(kind, dir, d.cfg.Scale)
	if err != nil {
		return "", TreeStats{}, err
	}
	d.printf("  generated %s tree: %d files, %s (%d files, %s packed) in %s\n",
		kind, st.Files, mib(st.Bytes), st.PackedFiles, mib(st.PackedBytes), ms(time.Since(start)))
	d.trees[kind], d.stats[kind] = dir, st
	return dir, st, nil
}

// workspace creates a fresh workspace in the seeded group, so that no
// benchmark's runs queue behind another's, and returns its path and GID.
func (d *box) workspace(name string) (path, gid string, err error) {
	d.wsSeq++
	name = fmt.Sprintf("%s-%d", name, d.wsSeq)
	if err := d.srv.CreateWorkspace(sandbox.SeedGroup, name); err != nil {
		return "", "", err
	}
	path = sandbox.SeedGroup + "/" + name
	w, ok := d.srv.Workspace(path)
	if !ok {
		return "", "", fmt.Errorf("workspace %s was not created", path)
	}
	return path, sandbox.GID("workspace", w.ID), nil
}

// lastRun returns the newest run of a workspace.
func (d *box) lastRun(wsPath string) (sandbox.Run, bool) {
	runs := d.srv.Runs(wsPath)
	if len(runs) == 0 {
		return sandbox.Run{}, false
	}
	return runs[len(runs)-1], true
}

// planJob returns the plan job of a run.
func (d *box) planJob(r sandbox.Run) (sandbox.Job, bool) {
	for _, j := range d.srv.Jobs(sandbox.GID("run", r.ID)) {
		if j.Type == "plan" {
			return j, true
		}
	}
	return sandbox.Job{}, false
}

// requestCounts reads the sandbox's per-operation request counters from
// its admin route, which is not counted itself.
func (d *box) requestCounts(ctx context.Context) (map[string]int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.srv.URL()+"/_sandbox/requests", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(sandbox.AdminKeyHeader, d.srv.AdminKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /_sandbox/requests: %s", resp.Status)
	}
	var counts map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&counts); err != nil {
		return nil, err
	}
	return counts, nil
}

// cliProc runs the CLI under test against the main sandbox.
func (d *Driver) cliProc(args ...string) Proc { return d.cliProcIn(d.box, args...) }

// selfProc runs one of this harness's child commands against the main sandbox.
func (d *Driver) selfProc(args ...string) Proc { return d.selfProcIn(d.box, args...) }

func (d *Driver) cliProcIn(b *box, args ...string) Proc {
	return Proc{Path: d.cfg.Tharsis, Args: args, Env: b.env}
}

func (d *Driver) selfProcIn(b *box, args ...string) Proc {
	return Proc{Path: d.cfg.Self, Args: args, Env: b.env}
}
