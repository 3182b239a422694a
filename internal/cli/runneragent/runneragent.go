// Package runneragent implements `tharsis runner-agent` (the API calls
// runner agents "runners"): list, get, create, update, delete,
// assign-service-account and unassign-service-account.
package runneragent

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
)

// NewCmdRunnerAgent builds the `runner-agent` noun with its verbs.
func NewCmdRunnerAgent(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "runner-agent <command>",
		Aliases: []string{"runner"},
		Short:   "Manage runner agents",
		Long: `Runner agents run the plan and apply jobs. A group runner agent serves the
workspaces below its group; it logs in with a service account assigned to
it, and takes the jobs whose runner tags it all has (untagged jobs only with
--run-untagged-jobs). Shared runner agents belong to the Tharsis
installation.

A runner agent is named by its path (group/name, or just the name for a
shared one), its TRN (trn:runner:group/name) or its ID.`,
		Example: `  tharsis runner-agent create ops/gpu-runner --tag gpu
  tharsis runner-agent assign-service-account ops/runner-sa ops/gpu-runner
  tharsis runner-agent get ops/gpu-runner`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdGet(f, nil),
		NewCmdCreate(f, nil),
		NewCmdUpdate(f, nil),
		NewCmdDelete(f, nil),
		NewCmdAssign(f, nil),
		NewCmdUnassign(f, nil),
	)
	return cmd
}

// Runner is a runner agent in JSON (list items, create, update; get adds
// more).
type Runner struct {
	ID   string `json:"id"`
	TRN  string `json:"trn"`
	Name string `json:"name"`
	// Path is group/name, or the name of a shared runner agent.
	Path            string    `json:"path"`
	GroupPath       string    `json:"group_path"`
	Type            string    `json:"type"` // group or shared
	Description     string    `json:"description"`
	Disabled        bool      `json:"disabled"`
	RunUntaggedJobs bool      `json:"run_untagged_jobs"`
	Tags            []string  `json:"tags"`
	CreatedBy       string    `json:"created_by"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	Version         string    `json:"version"`
}

func fromGQL(r *gql.RunnerDetail) Runner {
	tags := r.Tags
	if tags == nil {
		tags = []string{}
	}
	return Runner{
		ID: r.Id, TRN: r.Metadata.Trn, Name: r.Name, Path: r.ResourcePath, GroupPath: r.GroupPath,
		Type: string(r.Type), Description: r.Description, Disabled: r.Disabled, RunUntaggedJobs: r.RunUntaggedJobs,
		Tags: tags, CreatedBy: r.CreatedBy, CreatedAt: r.Metadata.CreatedAt, UpdatedAt: r.Metadata.UpdatedAt,
		Version: r.Metadata.Version,
	}
}

// fields is the text form of a runner agent's own settings.
func fields(r Runner, now time.Time) *admincmd.Fields {
	f := &admincmd.Fields{}
	f.Add("Name", r.Name).
		Add("Path", r.Path).
		Add("TRN", r.TRN).
		Add("ID", r.ID).
		Add("Type", r.Type).
		AddIf("Description", r.Description).
		Add("Tags", tagsText(r.Tags)).
		Add("Untagged jobs", untaggedText(r.RunUntaggedJobs)).
		Add("Disabled", admincmd.YesNo(r.Disabled)).
		Add("Created", admincmd.Time(r.CreatedAt, now)+" by "+r.CreatedBy).
		Add("Updated", admincmd.Time(r.UpdatedAt, now)).
		Add("Version", r.Version)
	return f
}

func tagsText(tags []string) string {
	if len(tags) == 0 {
		return "none"
	}
	return strings.Join(tags, ", ")
}

func untaggedText(b bool) string {
	if b {
		return "yes (also takes jobs without runner tags)"
	}
	return "no (only jobs whose runner tags it all has)"
}

// normalizeID turns a path, TRN or GID into an id for the API.
func normalizeID(arg string) (string, error) {
	id := api.NormalizeID("runner", arg)
	if id == "" {
		return "", cmdutil.UsageErrorf("the runner agent is empty: give its path, TRN or ID")
	}
	return id, nil
}

func deref[T any](p *T) T {
	var zero T
	if p != nil {
		return *p
	}
	return zero
}
