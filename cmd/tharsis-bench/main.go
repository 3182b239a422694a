// Command tharsis-bench is the benchmark harness behind `make bench`
// (scripts/bench.sh builds it and the CLI, then runs `tharsis-bench all`).
//
//	tharsis-bench all -tharsis BIN [-scale 1] [-wait 60s] [-only pack,logs] [-markdown FILE]
//	tharsis-bench gen -kind small|large|monorepo -dir DIR [-scale 1]
//
// The other subcommands (pack, upload, run) are the child processes the
// driver measures; see internal/bench.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/tharsis-cli/tharsis/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "tharsis-bench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: tharsis-bench all|gen|pack|upload|run [flags]")
	}
	switch args[0] {
	case "all":
		return all(ctx, args[1:], stdout)
	case "gen":
		return gen(args[1:], stdout)
	case "pack":
		return bench.ChildPack(ctx, args[1:], stdout)
	case "upload":
		return bench.ChildUpload(ctx, args[1:])
	case "run":
		return bench.ChildRun(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown subcommand %q", args[0])
}

func all(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("all", flag.ContinueOnError)
	cfg := bench.Config{Out: stdout}
	fs.StringVar(&cfg.Tharsis, "tharsis", "", "the tharsis binary to measure (a release build)")
	fs.StringVar(&cfg.Work, "work", "", "scratch directory (default: a new temp dir, removed at the end)")
	fs.Float64Var(&cfg.Scale, "scale", 1, "size factor for the trees, the upload and the log volume (0.1 = quick)")
	fs.DurationVar(&cfg.Wait, "wait", time.Minute, "how long a run is kept queued by the waiting benchmark")
	only := fs.String("only", "", "comma-separated groups: "+strings.Join(bench.Groups, ","))
	md := fs.String("markdown", "", "also write the table as Markdown to this file")
	prof := fs.String("cpuprofile", "", "write a CPU profile of the driver (the in-process sandbox) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	if cfg.Tharsis == "" {
		return fmt.Errorf("-tharsis is required")
	}
	var err error
	if cfg.Tharsis, err = filepath.Abs(cfg.Tharsis); err != nil {
		return err
	}
	if cfg.Self, err = os.Executable(); err != nil {
		return err
	}
	if *only != "" {
		cfg.Only = strings.Split(*only, ",")
	}
	if cfg.Work == "" {
		if cfg.Work, err = os.MkdirTemp("", "tharsis-bench-*"); err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(cfg.Work) }()
	}
	fmt.Fprintf(stdout, "tharsis benchmarks (scale %g, wait %s)\n%s", cfg.Scale, cfg.Wait, bench.Machine())
	rows, runErr := bench.Run(ctx, cfg)
	fmt.Fprintln(stdout)
	bench.WriteTable(stdout, rows)
	if *md != "" {
		f, err := os.Create(*md)
		if err != nil {
			return err
		}
		bench.WriteMarkdown(f, rows)
		if err := f.Close(); err != nil {
			return err
		}
	}
	return runErr
}

func gen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	kind := fs.String("kind", bench.TreeSmall, "small, large or monorepo")
	dir := fs.String("dir", "", "directory to create")
	scale := fs.Float64("scale", 1, "size factor")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("-dir is required")
	}
	st, err := bench.GenTree(*kind, *dir, *scale)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d files, %d bytes; %d files, %d bytes packed\n", st.Files, st.Bytes, st.PackedFiles, st.PackedBytes)
	return nil
}
