// Command tharsis is the command-line client for Tharsis.
package main

import (
	"context"
	"os"

	"github.com/tharsis-cli/tharsis/internal/cli"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

func main() {
	// SIGINT/SIGTERM do not kill the process: they go to the running command
	// through cmdutil.Interrupts. By default the first one cancels the
	// command (exit 130) and the second exits at once; run commands claim
	// them to cancel the run on the server first.
	interrupts := cmdutil.NewInterrupts()
	stop := interrupts.Notify()
	code := cli.Main(context.Background(), os.Args[1:], ui.System(), os.Getenv, cli.WithInterrupts(interrupts), cli.WithEnviron(os.Environ))
	stop()
	os.Exit(code)
}
