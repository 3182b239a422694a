package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/build"
	"github.com/tharsis-cli/tharsis/internal/runflow"
	"github.com/tharsis-cli/tharsis/internal/ui/runview"
	"github.com/tharsis-cli/tharsis/pkg/slug"
)

// The child commands run in their own process so that their CPU time and
// peak memory are theirs alone (the driver reads them from wait4).

// ChildPack is `tharsis-bench pack -packer P -dir D -tmp T`: one packing,
// its size and digest as JSON on stdout.
func ChildPack(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("pack", flag.ContinueOnError)
	packer := fs.String("packer", PackerTharsis, "tharsis, go-slug or copy+go-slug")
	dir := fs.String("dir", "", "configuration directory")
	tmp := fs.String("tmp", "", "directory for temporary files")
	prof := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *prof != "" {
		stop, err := startProfile(*prof)
		if err != nil {
			return err
		}
		defer stop()
	}
	out, err := Pack(ctx, *packer, *dir, *tmp)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(out)
}

// clientFromEnv builds the API client as the CLI does for
// THARSIS_ENDPOINT and THARSIS_STATIC_TOKEN.
func clientFromEnv() (*api.Client, error) {
	ep := os.Getenv("THARSIS_ENDPOINT")
	if ep == "" {
		return nil, errors.New("THARSIS_ENDPOINT is not set")
	}
	return api.New(api.Config{
		Endpoint:    ep,
		TokenSource: api.StaticTokenSource(os.Getenv("THARSIS_STATIC_TOKEN")),
		UserAgent:   build.UserAgent(),
	})
}

// ChildUpload is `tharsis-bench upload -workspace GID -cv GID -file F`:
// the API client's configuration-version upload of a packed file, as the
// run engine does it.
func ChildUpload(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("upload", flag.ContinueOnError)
	ws := fs.String("workspace", "", "workspace GID")
	cv := fs.String("cv", "", "configuration version GID")
	file := fs.String("file", "", "the slug to upload")
	prof := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *prof != "" {
		stop, err := startProfile(*prof)
		if err != nil {
			return err
		}
		defer stop()
	}
	c, err := clientFromEnv()
	if err != nil {
		return err
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return c.UploadConfigurationVersion(ctx, *ws, *cv, f, st.Size())
}

// ChildRun is `tharsis-bench run [-poll] [-apply] -workspace W -dir D`:
// what `tharsis plan W --directory-path D` does (package, upload, create,
// follow to the end of the plan, logs on stdout, status on stderr), with
// the engine's DisableSubscriptions switch, which the CLI does not expose.
func ChildRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	poll := fs.Bool("poll", false, "poll instead of subscribing")
	apply := fs.Bool("apply", false, "create an apply run instead of a speculative plan")
	ws := fs.String("workspace", "", "workspace path")
	dir := fs.String("dir", "", "configuration directory")
	prof := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *prof != "" {
		stop, err := startProfile(*prof)
		if err != nil {
			return err
		}
		defer stop()
	}
	c, err := clientFromEnv()
	if err != nil {
		return err
	}
	view := runview.New(runview.Options{Mode: runview.Text, Logs: stdout, Status: stderr})
	defer view.Stop()
	eng := &runflow.Engine{API: c, Sink: view.Handle, DisableSubscriptions: *poll}
	run, err := eng.Create(ctx, runflow.Spec{
		Workspace: *ws, Directory: *dir, Speculative: !*apply, Refresh: true,
		Slug: slug.Options{WarnSize: slug.DefaultWarnSize},
	})
	if err != nil {
		return err
	}
	run, err = eng.Follow(ctx, run.Id, runflow.UntilPlanDone)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "run %s: %s\n", run.Id, run.Status)
	return nil
}

// startProfile starts a CPU profile (for `go tool pprof`); stop writes it.
func startProfile(name string) (stop func(), err error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
