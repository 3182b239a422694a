// Command tharsis-sandbox runs a local Tharsis-compatible API server for
// trying the tharsis CLI without a Tharsis installation, and for tests and
// pipeline dry runs. It listens on 127.0.0.1 only, seeds group "sandbox",
// workspace "sandbox/demo" and an admin user, and prints the environment to
// point the CLI at it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run serves until ctx ends (SIGINT or SIGTERM in main).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tharsis-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	k := sandbox.DefaultKnobs()
	port := fs.Int("port", 0, "port to listen on (0 = a free port)")
	modulesDir := fs.String("modules-dir", "", "directory of modules for module-source runs, laid out as <source>/<version>/*.tf")
	stateDir := fs.String("state-dir", "", "reserved: persisting state to a directory is not implemented yet")
	tokenTTL := fs.Duration("token-ttl", 24*time.Hour, "lifetime of the printed admin token")
	adminKey := fs.String("admin-key", "", "key for the /_sandbox/ admin endpoint (random when empty)")
	verbose := fs.Bool("verbose", false, "log requests and engine errors to stderr")
	fs.DurationVar(&k.JobDuration, "job-duration", 2*time.Second, "how long each plan or apply job takes")
	fs.DurationVar(&k.ForceCancelDelay, "force-cancel-delay", k.ForceCancelDelay, "wait between a graceful cancel and an allowed force cancel")
	fs.IntVar(&k.LogVolumeBytes, "log-volume", 0, "extra bytes of filler log lines per job")
	fs.BoolVar(&k.FailPlan, "fail-plan", false, "make plan jobs fail")
	fs.BoolVar(&k.FailApply, "fail-apply", false, "make apply jobs fail")
	fs.BoolVar(&k.IgnoreGracefulCancel, "ignore-graceful-cancel", false, "running jobs ignore a graceful cancel until force canceled")
	fs.Int64Var(&k.DropWebsocketAfterBytes, "drop-websocket-after", 0, "drop each websocket connection after this many bytes (0 = never)")
	failures := fs.String("http-failures", "", "comma-separated statuses the next requests answer, e.g. 429,503,503")
	fs.DurationVar(&k.Latency, "latency", 0, "latency added to every request")
	fs.BoolVar(&k.RequireRunnerServiceAccount, "require-runner-service-account", false, "group runners run jobs only once a service account is assigned")
	fs.Int64Var(&k.MaxLogBytes, "max-log-bytes", k.MaxLogBytes, "cap of a job's log; past it the log is truncated")
	ssoUser := fs.String("sso-user", sandbox.SeedAdmin, "user that tharsis sso login logs in as (the sandbox has no browser sessions; empty disables logins)")
	saTTL := fs.Duration("service-account-token-ttl", 15*time.Minute, "lifetime of exchanged service-account tokens")
	sessionTTL := fs.Duration("session-token-ttl", 5*time.Minute, "lifetime of the tokens tharsis sso login gets")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 64
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tharsis-sandbox: unexpected argument %q\n", fs.Arg(0))
		return 64
	}
	if *stateDir != "" {
		fmt.Fprintln(stderr, "tharsis-sandbox: --state-dir is not implemented yet; state is kept in memory")
		return 64
	}
	for _, f := range strings.Split(*failures, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		st, err := strconv.Atoi(f)
		if err != nil || st < 100 || st > 599 {
			fmt.Fprintf(stderr, "tharsis-sandbox: invalid --http-failures status %q\n", f)
			return 64
		}
		k.HTTPFailures = append(k.HTTPFailures, st)
	}
	level := slog.LevelError + 1
	if *verbose {
		level = slog.LevelInfo
	}
	srv, err := sandbox.New(sandbox.Options{
		Knobs: k, ModulesDir: *modulesDir, AdminKey: *adminKey, AdminTokenTTL: *tokenTTL,
		SSOUser: *ssoUser, ServiceAccountTokenTTL: *saTTL, SessionTokenTTL: *sessionTTL,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		fmt.Fprintf(stderr, "tharsis-sandbox: %v\n", err)
		return 1
	}
	if err := srv.Start(net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))); err != nil {
		fmt.Fprintf(stderr, "tharsis-sandbox: %v\n", err)
		return 1
	}
	defer srv.Close()

	fmt.Fprintf(stdout, "tharsis-sandbox listening on %s\n", srv.URL())
	fmt.Fprintf(stdout, "seeded: group %s, workspace %s, admin user %s (token valid %s)\n\n",
		sandbox.SeedGroup, sandbox.SeedWorkspace, sandbox.SeedAdmin, *tokenTTL)
	fmt.Fprintf(stdout, "export THARSIS_ENDPOINT=%s THARSIS_STATIC_TOKEN=%s\n\n", srv.URL(), srv.AdminToken())
	if *ssoUser != "" {
		fmt.Fprintf(stdout, "or: THARSIS_ENDPOINT=%s tharsis sso login   (logs in as %s)\n\n", srv.URL(), *ssoUser)
	}
	fmt.Fprintf(stdout, "admin endpoint: curl -H '%s: %s' %s/_sandbox/knobs\n", sandbox.AdminKeyHeader, srv.AdminKey(), srv.URL())
	fmt.Fprintln(stdout, "press Ctrl-C to stop")

	<-ctx.Done()
	fmt.Fprintln(stderr, "tharsis-sandbox: stopping")
	return 0
}
