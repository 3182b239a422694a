package run

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/runflow"
	"github.com/tharsis-cli/tharsis/internal/ui/runview"
)

// LogsOptions are the options of `run logs`.
type LogsOptions struct {
	F      *cmdutil.Factory
	Run    string
	Phase  string
	Follow bool
}

// NewCmdLogs prints the job logs of a run.
func NewCmdLogs(f *cmdutil.Factory, runF func(context.Context, *LogsOptions) error) *cobra.Command {
	opts := &LogsOptions{F: f}
	cmd := &cobra.Command{
		Use:   "logs <run>",
		Short: "Print the plan and apply logs of a run",
		Long: `Print the logs of a run's plan job, then of its apply job, exactly as they
were written. --phase prints only one of them. --follow keeps streaming until
the jobs end (the apply log is followed once the run is approved).

With -o json: {"run_id", "jobs": [{"phase", "job_id", "bytes", "truncated",
"log"}]}; with --follow, one JSON event per line as the log arrives (the
format of --events of the run commands).`,
		Example: `  tharsis run logs Ul8xMjM0...
  tharsis run logs Ul8xMjM0... --phase apply
  tharsis run logs Ul8xMjM0... --follow`,
		Args: cmdutil.ExactArgs("run"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Run = args[0]
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runLogs(c.Context(), opts)
		},
		ValidArgsFunction: complete.Runs(f),
	}
	cmdutil.EnumFlag(cmd, cmd.Flags(), &opts.Phase, "phase", "", "", []string{"plan", "apply"}, "only this phase's log")
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep streaming until the jobs end")
	return cmd
}

func runLogs(ctx context.Context, o *LogsOptions) error {
	eng, err := engineFor(o.F)
	if err != nil {
		return err
	}
	var collected *logsJSON
	switch {
	case o.F.JSON() && o.Follow:
		view := runview.New(runview.Options{Mode: runview.Events, Logs: o.F.IO.Out, Status: o.F.IO.ErrOut})
		eng.Sink = view.Handle
	case o.F.JSON():
		collected = &logsJSON{Jobs: []jobLogJSON{}}
		eng.Sink = collected.add
	default:
		view := runview.New(runview.Options{Mode: runview.Text, Logs: o.F.IO.Out, Status: o.F.IO.ErrOut,
			Color: o.F.IO.ErrColorEnabled(), Quiet: true, StripANSI: noColorRequested(o.F)})
		eng.Sink = func(ev runflow.Event) {
			view.Handle(ev)
			if ev.Type == runflow.EventLogTruncated {
				fmt.Fprintf(o.F.IO.ErrOut, "Note: %s\n", ev.Message)
			}
		}
	}
	run, err := eng.GetRun(ctx, runRef(o.Run))
	if err != nil {
		return err
	}

	// waiter follows the run until a job exists, printing nothing: Follow
	// streams the logs of the jobs it sees, and they are printed below,
	// once, by StreamJobLogs or ReadJobLogs.
	waiter := &runflow.Engine{API: eng.API, Now: eng.Now}
	phases := []string{"plan", "apply"}
	if o.Phase != "" {
		phases = []string{o.Phase}
	}
	for _, phase := range phases {
		jobID := jobOf(run, phase)
		if jobID == "" && o.Follow && !runflow.Terminal(run.Status) {
			// The job does not exist yet: follow the run until it does.
			skipPlan := func(r *runflow.Run) {
				if id := jobOf(r, "plan"); phase == "apply" && id != "" {
					waiter.SkipJobLogs(id) // printed already, or not wanted
				}
			}
			skipPlan(run)
			run, err = waiter.Follow(ctx, run.Id, func(r *runflow.Run) bool {
				skipPlan(r)
				return jobOf(r, phase) != "" || runflow.Terminal(r.Status) ||
					(phase == "apply" && r.Status == "planned")
			})
			if err != nil {
				return err
			}
			jobID = jobOf(run, phase)
		}
		if jobID == "" {
			if o.Phase != "" {
				fmt.Fprintf(o.F.IO.ErrOut, "Run %s has no %s job (status: %s).\n", run.Id, phase, runview.StatusLabel(string(run.Status)))
			}
			continue
		}
		if o.Follow {
			if err := eng.StreamJobLogs(ctx, jobID, phase, run.Id); err != nil {
				return err
			}
			if run, err = eng.GetRun(ctx, run.Id); err != nil {
				return err
			}
			continue
		}
		if _, err := eng.ReadJobLogs(ctx, jobID, phase, run.Id); err != nil {
			return err
		}
	}
	if collected != nil {
		collected.RunID = run.Id
		return o.F.PrintJSON(collected)
	}
	return nil
}

// logsJSON is the -o json document of run logs.
type logsJSON struct {
	RunID string       `json:"run_id"`
	Jobs  []jobLogJSON `json:"jobs"`
}

type jobLogJSON struct {
	Phase     string `json:"phase"`
	JobID     string `json:"job_id"`
	Bytes     int    `json:"bytes"`
	Truncated bool   `json:"truncated"`
	Log       string `json:"log"`
}

// add collects log events per job, in the order the jobs come.
func (l *logsJSON) add(ev runflow.Event) {
	if ev.Type != runflow.EventLog && ev.Type != runflow.EventLogTruncated {
		return
	}
	i := len(l.Jobs) - 1
	if i < 0 || l.Jobs[i].JobID != ev.JobID {
		l.Jobs = append(l.Jobs, jobLogJSON{Phase: ev.Phase, JobID: ev.JobID})
		i++
	}
	j := &l.Jobs[i]
	if ev.Type == runflow.EventLogTruncated {
		j.Truncated = true
		return
	}
	j.Log += string(ev.Data)
	j.Bytes += len(ev.Data)
}

func jobOf(r *runflow.Run, phase string) string {
	if phase == "plan" && r.Plan.CurrentJob != nil {
		return r.Plan.CurrentJob.Id
	}
	if phase == "apply" && r.Apply != nil && r.Apply.CurrentJob != nil {
		return r.Apply.CurrentJob.Id
	}
	return ""
}
