package run

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/runflow"
	"github.com/tharsis-cli/tharsis/internal/ui/runview"
)

// GetOptions are the options of `run get`.
type GetOptions struct {
	F   *cmdutil.Factory
	Run string
}

// NewCmdGet shows one run.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{F: f}
	return &cobra.Command{
		Use:   "get <run>",
		Short: "Show a run: status, source, plan summary, jobs, timings",
		Long: `Show a run: its status and the status of its plan and apply, where its
configuration came from, who created it, the plan summary, the job IDs and
timings, and when a force cancel becomes available.

The run is an ID or a TRN (trn:run:<group>/<workspace>/<id>).`,
		Example: `  tharsis run get Ul8xMjM0...
  tharsis run get Ul8xMjM0... -o json | jq .status`,
		Args: cmdutil.ExactArgs("run"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Run = args[0]
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runGet(c.Context(), opts)
		},
		ValidArgsFunction: complete.Runs(f),
	}
}

func runGet(ctx context.Context, o *GetOptions) error {
	eng, err := engineFor(o.F)
	if err != nil {
		return err
	}
	r, err := eng.GetRun(ctx, runRef(o.Run))
	if err != nil {
		return err
	}
	v := viewOf(r)
	if o.F.JSON() {
		return o.F.PrintJSON(v)
	}
	return v.print(o.F.IO.Out)
}

// engineFor builds an engine on the factory's API client.
func engineFor(f *cmdutil.Factory) (*runflow.Engine, error) {
	client, err := f.APIClient()
	if err != nil {
		return nil, err
	}
	return &runflow.Engine{API: client, Now: f.Now, DisableSubscriptions: noSubscriptions(f.Getenv)}, nil
}

// runRef accepts a run ID, a TRN, or <group>/<workspace>/<id>.
func runRef(s string) string { return api.NormalizeID("run", strings.TrimSpace(s)) }

// RunView is the JSON shape of a run (run get, run list).
type RunView struct {
	ID          string           `json:"id"`
	TRN         string           `json:"trn"`
	Workspace   string           `json:"workspace"`
	Status      string           `json:"status"`
	PlanStatus  string           `json:"plan_status"`
	ApplyStatus string           `json:"apply_status,omitempty"`
	Speculative bool             `json:"speculative"`
	Destroy     bool             `json:"destroy"`
	AutoApply   bool             `json:"auto_apply"`
	HasChanges  bool             `json:"has_changes"`
	Summary     *runflow.Summary `json:"plan_summary,omitempty"`
	Source      SourceView       `json:"source"`
	CreatedBy   string           `json:"created_by"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
	Comment     string           `json:"comment,omitempty"`
	Terraform   string           `json:"terraform_version"`
	Targets     []string         `json:"targets,omitempty"`
	RefreshOnly bool             `json:"refresh_only,omitempty"`
	PlanJob     *JobView         `json:"plan_job,omitempty"`
	ApplyJob    *JobView         `json:"apply_job,omitempty"`
	PlanError   string           `json:"plan_error,omitempty"`
	ApplyError  string           `json:"apply_error,omitempty"`
	TriggeredBy string           `json:"apply_triggered_by,omitempty"`

	ForceCancelAvailableAt *time.Time `json:"force_cancel_available_at,omitempty"`
	ForceCanceled          bool       `json:"force_canceled,omitempty"`
	ForceCanceledBy        string     `json:"force_canceled_by,omitempty"`
}

// SourceView says where a run's configuration came from.
type SourceView struct {
	Kind                   string `json:"kind"` // configuration_version | module
	ConfigurationVersionID string `json:"configuration_version_id,omitempty"`
	ModuleSource           string `json:"module_source,omitempty"`
	ModuleVersion          string `json:"module_version,omitempty"`
	ModuleDigest           string `json:"module_digest,omitempty"`
}

// JobView is a job of a run.
type JobView struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"`
	Runner     string     `json:"runner,omitempty"`
	LogBytes   int        `json:"log_bytes"`
	QueuedAt   *time.Time `json:"queued_at,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

func viewOf(r *runflow.Run) *RunView {
	v := &RunView{
		ID: r.Id, TRN: r.Metadata.Trn, Workspace: r.Workspace.FullPath,
		Status: string(r.Status), PlanStatus: string(r.Plan.Status),
		Speculative: r.Speculative, Destroy: r.IsDestroy, AutoApply: r.AutoApply,
		HasChanges: r.Plan.HasChanges, CreatedBy: r.CreatedBy,
		CreatedAt: r.Metadata.CreatedAt, UpdatedAt: r.Metadata.UpdatedAt,
		Comment: r.Comment, Terraform: r.TerraformVersion, Targets: r.TargetAddresses,
		RefreshOnly: r.RefreshOnly, PlanError: ptr(r.Plan.ErrorMessage),
		ForceCancelAvailableAt: r.ForceCancelAvailableAt, ForceCanceled: r.ForceCanceled,
		ForceCanceledBy: ptr(r.ForceCanceledBy),
	}
	if r.Plan.Status == "finished" {
		s := runflow.SummaryOf(r)
		v.Summary = &s
	}
	switch {
	case r.ModuleSource != nil:
		v.Source = SourceView{Kind: "module", ModuleSource: *r.ModuleSource, ModuleVersion: ptr(r.ModuleVersion), ModuleDigest: ptr(r.ModuleDigest)}
	case r.ConfigurationVersion != nil:
		v.Source = SourceView{Kind: "configuration_version", ConfigurationVersionID: r.ConfigurationVersion.Id}
	}
	if j := r.Plan.CurrentJob; j != nil {
		v.PlanJob = jobView(j.Id, string(j.Status), j.RunnerPath, j.LogSize, j.Timestamps.QueuedAt, j.Timestamps.RunningAt, j.Timestamps.FinishedAt)
	}
	if r.Apply != nil {
		v.ApplyStatus = string(r.Apply.Status)
		v.ApplyError = ptr(r.Apply.ErrorMessage)
		v.TriggeredBy = ptr(r.Apply.TriggeredBy)
		if j := r.Apply.CurrentJob; j != nil {
			v.ApplyJob = jobView(j.Id, string(j.Status), j.RunnerPath, j.LogSize, j.Timestamps.QueuedAt, j.Timestamps.RunningAt, j.Timestamps.FinishedAt)
		}
	}
	return v
}

func jobView(id, status string, runner *string, logSize int, queued, running, finished *time.Time) *JobView {
	return &JobView{ID: id, Status: status, Runner: ptr(runner), LogBytes: logSize, QueuedAt: queued, StartedAt: running, FinishedAt: finished}
}

// kindLabel names what the run does.
func (v *RunView) kindLabel() string {
	switch {
	case v.Speculative && v.Destroy:
		return "speculative destroy plan"
	case v.Speculative:
		return "speculative plan"
	case v.Destroy:
		return "destroy"
	case v.RefreshOnly:
		return "refresh-only apply"
	}
	return "apply"
}

func (v *RunView) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, val string) {
		if val != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, val)
		}
	}
	row("Run", v.ID)
	row("Workspace", v.Workspace)
	st := runview.StatusLabel(v.Status)
	if v.ForceCancelAvailableAt != nil && !runflow.Terminal(gql.RunStatus(v.Status)) {
		// The run keeps its status until the job stops.
		st += " (cancel requested)"
	}
	row("Status", st)
	row("Kind", v.kindLabel())
	switch v.Source.Kind {
	case "module":
		src := v.Source.ModuleSource
		if v.Source.ModuleVersion != "" {
			src += " " + v.Source.ModuleVersion
		}
		row("Source", "module "+src)
		row("Module digest", v.Source.ModuleDigest)
	case "configuration_version":
		row("Source", "configuration version "+v.Source.ConfigurationVersionID)
	}
	row("Created by", v.CreatedBy)
	row("Created", fmtTime(&v.CreatedAt))
	row("Updated", fmtTime(&v.UpdatedAt))
	row("Comment", v.Comment)
	row("Terraform", v.Terraform)
	if len(v.Targets) > 0 {
		row("Targets", strings.Join(v.Targets, ", "))
	}
	plan := v.PlanStatus
	if v.Summary != nil {
		plan += " — " + runview.SummaryLine(*v.Summary)
	}
	row("Plan", plan)
	row("Plan error", v.PlanError)
	writeJob(row, "Plan job", v.PlanJob)
	if v.ApplyStatus != "" {
		row("Apply", v.ApplyStatus)
		row("Apply triggered by", v.TriggeredBy)
		row("Apply error", v.ApplyError)
		writeJob(row, "Apply job", v.ApplyJob)
	}
	if v.ForceCancelAvailableAt != nil {
		row("Force cancel available", fmtTime(v.ForceCancelAvailableAt))
	}
	if v.ForceCanceled {
		row("Force canceled by", v.ForceCanceledBy)
	}
	return tw.Flush()
}

func writeJob(row func(k, v string), label string, j *JobView) {
	if j == nil {
		return
	}
	desc := fmt.Sprintf("%s (%s, %s of log)", j.ID, j.Status, runview.HumanBytes(int64(j.LogBytes)))
	if j.Runner != "" {
		desc += " on " + j.Runner
	}
	row(label, desc)
	if j.StartedAt != nil && j.FinishedAt != nil {
		row(label+" took", j.FinishedAt.Sub(*j.StartedAt).Round(time.Millisecond).String())
	}
}

func fmtTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}
