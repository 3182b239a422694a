package run

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tharsis-cli/tharsis/internal/runflow"
)

// Result is the JSON document of -o json and the source of the CI outputs.
type Result struct {
	Kind        string           `json:"command"`
	RunID       string           `json:"run_id"`
	Workspace   string           `json:"workspace"`
	Status      string           `json:"status"`
	PlanStatus  string           `json:"plan_status,omitempty"`
	ApplyStatus string           `json:"apply_status,omitempty"`
	Outcome     string           `json:"outcome"`
	Speculative bool             `json:"speculative"`
	Destroy     bool             `json:"destroy"`
	HasChanges  bool             `json:"has_changes"`
	Summary     *runflow.Summary `json:"plan_summary,omitempty"`
	PlanJobID   string           `json:"plan_job_id,omitempty"`
	ApplyJobID  string           `json:"apply_job_id,omitempty"`

	ConfigurationVersionID string `json:"configuration_version_id,omitempty"`
	ModuleSource           string `json:"module_source,omitempty"`
	ModuleVersion          string `json:"module_version,omitempty"`

	StartedAt       time.Time `json:"started_at"`
	FinishedAt      time.Time `json:"finished_at"`
	DurationSeconds float64   `json:"duration_seconds"`
	ExitCode        int       `json:"exit_code"`
}

func (r *Result) update(run *runflow.Run) {
	if run == nil {
		return
	}
	r.RunID = run.Id
	r.Workspace = run.Workspace.FullPath
	r.Status = string(run.Status)
	r.PlanStatus = string(run.Plan.Status)
	r.Speculative = run.Speculative
	r.Destroy = run.IsDestroy
	r.HasChanges = run.Plan.HasChanges
	if run.Plan.Status == "finished" {
		s := runflow.SummaryOf(run)
		r.Summary = &s
	}
	if j := run.Plan.CurrentJob; j != nil {
		r.PlanJobID = j.Id
	}
	if run.Apply != nil {
		r.ApplyStatus = string(run.Apply.Status)
		if j := run.Apply.CurrentJob; j != nil {
			r.ApplyJobID = j.Id
		}
	}
	if run.ConfigurationVersion != nil {
		r.ConfigurationVersionID = run.ConfigurationVersion.Id
	}
	if run.ModuleSource != nil {
		r.ModuleSource = *run.ModuleSource
	}
	if run.ModuleVersion != nil {
		r.ModuleVersion = *run.ModuleVersion
	}
}

// outputs are the key/value pairs written for CI systems.
func (r *Result) outputs() [][2]string {
	s := runflow.Summary{}
	if r.Summary != nil {
		s = *r.Summary
	}
	return [][2]string{
		{"run_id", r.RunID},
		{"workspace", r.Workspace},
		{"status", r.Status},
		{"outcome", r.Outcome},
		{"has_changes", fmt.Sprint(r.HasChanges)},
		{"add", fmt.Sprint(s.Add)},
		{"change", fmt.Sprint(s.Change)},
		{"destroy", fmt.Sprint(s.Destroy)},
		{"exit_code", fmt.Sprint(r.ExitCode)},
	}
}

// writeOutputs prints the JSON document (-o json), the final event
// (--events), and appends to $GITHUB_OUTPUT and the --dotenv file.
func (s *session) writeOutputs() error {
	r := s.result
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
		r.DurationSeconds = r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).Seconds()
	}
	f := s.o.F
	if s.o.Events {
		ev := struct {
			Type string `json:"type"`
			*Result
		}{"result", r}
		if err := f.PrintJSONLine(ev); err != nil {
			return err
		}
	} else if f.JSON() {
		if err := f.PrintJSON(r); err != nil {
			return err
		}
	}
	if r.RunID == "" {
		return nil
	}
	if path := f.Getenv("GITHUB_OUTPUT"); path != "" {
		if err := appendOutputs(path, r.outputs(), false); err != nil {
			return fmt.Errorf("write GITHUB_OUTPUT: %w", err)
		}
	}
	if s.o.DotenvFile != "" {
		if err := appendOutputs(s.o.DotenvFile, r.outputs(), true); err != nil {
			return fmt.Errorf("write --dotenv file: %w", err)
		}
	}
	return nil
}

// appendOutputs appends key=value lines; dotenv keys are upper-cased and
// prefixed so they do not clash in a GitLab job's environment.
func appendOutputs(path string, kv [][2]string, dotenv bool) error {
	var b strings.Builder
	for _, p := range kv {
		k := p[0]
		if dotenv {
			k = "THARSIS_" + strings.ToUpper(k)
		}
		fmt.Fprintf(&b, "%s=%s\n", k, p[1])
	}
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fh.WriteString(b.String()); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
