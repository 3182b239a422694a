package run

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
)

// NewCmdWorkspaceDestroy is `tharsis workspace destroy`: destroy what a
// workspace deployed, from the configuration behind its current state.
// It lives here because it drives the run like `run destroy`.
func NewCmdWorkspaceDestroy(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{F: f, Kind: kindWorkspaceDestroy, Input: true}
	cmd := &cobra.Command{
		Use:   "destroy <workspace>",
		Short: "Destroy the resources a workspace deployed",
		Long: `Destroy everything a workspace manages in one command: Tharsis creates a
destroy run from the configuration (uploaded directory or module) and the
variables of the run that produced the current state. The plan is streamed,
then approval and apply work as for 'tharsis destroy'.

It fails clearly when the workspace has no state, when its state was not
produced by a run, or when the workspace forbids destroy plans.`,
		Example: `  tharsis workspace destroy my-group/my-workspace
  tharsis workspace destroy my-group/my-workspace --auto-approve`,
		Args: cmdutil.ExactArgs("workspace"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Workspace = args[0]
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runWorkspaceDestroy(c.Context(), opts)
		},
		ValidArgsFunction: complete.Workspaces(f),
	}
	fs := cmd.Flags()
	fs.BoolVar(&opts.AutoApprove, "auto-approve", false, "apply the destroy plan without asking")
	fs.BoolVar(&opts.Input, "input", true, "ask for approval; --input=false stops after the plan")
	fs.BoolVar(&opts.DetailedExitcode, "detailed-exitcode", false, "exit 2 when the plan has changes and nothing was applied")
	fs.DurationVar(&opts.Timeout, "timeout", 0, "give up after this `duration` (exit 124; the run is left as it is)")
	fs.BoolVar(&opts.Events, "events", false, "write line-delimited JSON events to stdout as the run progresses")
	fs.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only the job logs and errors")
	fs.StringVar(&opts.DotenvFile, "dotenv", "", "also write the result as KEY=value lines to this `file`")
	return cmd
}

func runWorkspaceDestroy(ctx context.Context, o *CreateOptions) error {
	if strings.TrimSpace(o.Workspace) == "" {
		return cmdutil.UsageErrorf("the workspace argument is empty")
	}
	client, err := o.F.APIClient()
	if err != nil {
		return err
	}
	s := newSession(ctx, o, client)
	defer s.close()
	run, err := s.destroyWorkspace(o.Workspace)
	if err != nil {
		return s.finish(s.failBeforeRun(err))
	}
	return s.driveCreated(run)
}
