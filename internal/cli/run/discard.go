package run

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui/runview"
)

// DiscardOptions are the options of `run discard`.
type DiscardOptions struct {
	F   *cmdutil.Factory
	Run string
}

// NewCmdDiscard discards a planned run.
func NewCmdDiscard(f *cmdutil.Factory, runF func(context.Context, *DiscardOptions) error) *cobra.Command {
	opts := &DiscardOptions{F: f}
	return &cobra.Command{
		Use:   "discard <run>",
		Short: "Discard a planned run so the workspace is free again",
		Long: `Discard a run that waits for approval (status planned). Its apply never
starts and the workspace is free for other runs.`,
		Example: `  tharsis run discard Ul8xMjM0...`,
		Args:    cmdutil.ExactArgs("run"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Run = args[0]
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runDiscard(c.Context(), opts)
		},
		ValidArgsFunction: complete.Runs(f),
	}
}

func runDiscard(ctx context.Context, o *DiscardOptions) error {
	eng, err := engineFor(o.F)
	if err != nil {
		return err
	}
	run, err := eng.GetRun(ctx, runRef(o.Run))
	if err != nil {
		return err
	}
	if run.Status != "planned" {
		return fmt.Errorf("run %s is %s: only a run waiting for approval (planned) can be discarded", run.Id, runview.StatusLabel(string(run.Status)))
	}
	r, err := eng.Discard(ctx, run.Id)
	if err != nil {
		return err
	}
	if o.F.JSON() {
		return o.F.PrintJSON(viewOf(r))
	}
	fmt.Fprintf(o.F.IO.ErrOut, "Run %s discarded; workspace %s is free.\n", r.Id, r.Workspace.FullPath)
	return nil
}
