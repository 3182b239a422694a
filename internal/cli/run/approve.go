package run

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui/runview"
)

// NewCmdApprove applies a planned run and follows the apply.
func NewCmdApprove(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{F: f, Kind: kindApprove, AutoApprove: true}
	cmd := &cobra.Command{
		Use:   "approve <run>",
		Short: "Apply a planned run and follow the apply",
		Long: `Approve a run that waits for approval (status planned): start its apply and
stream the apply log to the end. Exit codes are those of 'tharsis run apply'.
Ctrl-C asks Tharsis to cancel the apply (twice forces it, three times detaches).`,
		Example: `  tharsis run approve Ul8xMjM0...
  tharsis run approve Ul8xMjM0... --comment "approved in change CHG-42"`,
		Args: cmdutil.ExactArgs("run"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Workspace = args[0]
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runAttach(c.Context(), opts, approveAct)
		},
		ValidArgsFunction: complete.Runs(f),
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Comment, "comment", "", "comment stored with the apply")
	fs.DurationVar(&opts.Timeout, "timeout", 0, "give up after this `duration` (exit 124; the run is left as it is)")
	fs.BoolVar(&opts.Events, "events", false, "write line-delimited JSON events to stdout as the run progresses")
	fs.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only the job logs and errors")
	fs.StringVar(&opts.DotenvFile, "dotenv", "", "also write the result as KEY=value lines to this `file`")
	return cmd
}

// approveAct starts the apply; drive then follows it.
func approveAct(s *session) error {
	run := s.currentRun()
	if run.Status != gql.RunStatusPlanned {
		return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf(
			"run %s is %s, not waiting for approval: only a planned run can be approved", run.Id, runview.StatusLabel(string(run.Status)))}
	}
	if run.Plan.CurrentJob != nil {
		s.eng.SkipJobLogs(run.Plan.CurrentJob.Id) // the plan was shown when it ran
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 2*time.Minute)
	defer cancel()
	r, err := s.eng.Apply(ctx, run.Id, s.o.Comment)
	if err != nil {
		return err
	}
	s.setRun(r)
	return nil
}
