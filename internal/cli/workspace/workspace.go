// Package workspace implements `tharsis workspace`: list, get, create,
// update, delete, lock, unlock, outputs and the membership verbs.
package workspace

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/membership"
	"github.com/tharsis-cli/tharsis/internal/cli/run"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// NewCmdWorkspace builds the `workspace` noun with its verbs. (The run
// commands' owner adds `workspace destroy` in destroy.go and registers it
// here.)
func NewCmdWorkspace(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "workspace <command>",
		Aliases: []string{"ws"},
		Short:   "Manage workspaces",
		Long: `Workspaces hold a Terraform state and run plans and applies. A workspace is
named by its path (group/sub/workspace), its TRN (trn:workspace:group/sub/ws)
or its ID.`,
		Example: `  tharsis workspace list --group ops
  tharsis workspace create ops/network --terraform-version 1.11.4 --label team=net
  tharsis workspace outputs ops/network`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdGet(f, nil),
		NewCmdCreate(f, nil),
		NewCmdUpdate(f, nil),
		NewCmdDelete(f, nil),
		NewCmdLock(f, nil),
		NewCmdUnlock(f, nil),
		NewCmdOutputs(f, nil),
		NewCmdDestroy(f, nil),
	)
	cmd.AddCommand(membership.Commands(f, membership.KindWorkspace)...)
	return cmd
}

// Workspace is a workspace in JSON (get, list items, create, update).
type Workspace struct {
	ID                 string              `json:"id"`
	TRN                string              `json:"trn"`
	Name               string              `json:"name"`
	FullPath           string              `json:"full_path"`
	GroupPath          string              `json:"group_path"`
	Description        string              `json:"description"`
	TerraformVersion   string              `json:"terraform_version"`
	MaxJobDuration     int                 `json:"max_job_duration"` // minutes
	PreventDestroyPlan bool                `json:"prevent_destroy_plan"`
	Locked             bool                `json:"locked"`
	DirtyState         bool                `json:"dirty_state"`
	Destroyed          bool                `json:"destroyed"`
	Labels             map[string]string   `json:"labels"`
	RunnerTags         admincmd.RunnerTags `json:"runner_tags"`
	// CurrentStateVersion is null until a run has written state.
	CurrentStateVersion *StateVersionRef `json:"current_state_version"`
	// CurrentApplyRun is the run holding the workspace, if any.
	CurrentApplyRun *RunRef `json:"current_apply_run"`
	// VCSLink is the linked repository (workspace get only; omitted elsewhere).
	VCSLink   *run.VCSLink `json:"vcs_link,omitempty"`
	CreatedBy string       `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	Version   string       `json:"version"`
}

// StateVersionRef names a state version.
type StateVersionRef struct {
	ID        string    `json:"id"`
	RunID     string    `json:"run_id,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// RunRef names a run.
type RunRef struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// fromGQL converts the API's workspace.
func fromGQL(w *gql.WorkspaceDetail) Workspace {
	out := Workspace{
		ID: w.Id, TRN: w.Metadata.Trn, Name: w.Name, FullPath: w.FullPath, GroupPath: w.GroupPath,
		Description: w.Description, TerraformVersion: w.TerraformVersion, MaxJobDuration: w.MaxJobDuration,
		PreventDestroyPlan: w.PreventDestroyPlan, Locked: w.Locked, DirtyState: w.DirtyState, Destroyed: w.Destroyed,
		Labels:     map[string]string{},
		RunnerTags: admincmd.NewRunnerTags(w.RunnerTags.Inherited, w.RunnerTags.NamespacePath, w.RunnerTags.Value),
		CreatedBy:  w.CreatedBy, CreatedAt: w.Metadata.CreatedAt, UpdatedAt: w.Metadata.UpdatedAt, Version: w.Metadata.Version,
	}
	for _, l := range w.Labels {
		out.Labels[l.Key] = l.Value
	}
	if sv := w.CurrentStateVersion; sv != nil {
		ref := &StateVersionRef{ID: sv.Id, CreatedBy: sv.CreatedBy, CreatedAt: sv.Metadata.CreatedAt}
		if sv.Run != nil {
			ref.RunID = sv.Run.Id
		}
		out.CurrentStateVersion = ref
	}
	if r := w.CurrentApplyRun; r != nil {
		out.CurrentApplyRun = &RunRef{ID: r.Id, Status: string(r.Status)}
	}
	return out
}

// labelsText renders labels sorted by key: "a=1, b=2".
func labelsText(m map[string]string, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, sep)
}

// fields is the text form of a workspace.
func fields(w Workspace, now time.Time) *admincmd.Fields {
	f := &admincmd.Fields{}
	f.Add("Name", w.Name).
		Add("Path", w.FullPath).
		Add("TRN", w.TRN).
		Add("ID", w.ID).
		AddIf("Description", w.Description).
		Add("Terraform version", w.TerraformVersion).
		Add("Max job duration", strconv.Itoa(w.MaxJobDuration)+" minutes").
		Add("Prevent destroy plan", admincmd.YesNo(w.PreventDestroyPlan)).
		Add("Locked", admincmd.YesNo(w.Locked)).
		Add("Labels", orNone(labelsText(w.Labels, ", "))).
		Add("Runner tags", w.RunnerTags.String())
	switch sv := w.CurrentStateVersion; {
	case sv == nil:
		f.Add("State", "none yet (no run has applied)")
	default:
		s := sv.ID + ", " + admincmd.Time(sv.CreatedAt, now)
		if w.Destroyed {
			s += ", destroyed"
		}
		f.Add("State version", s)
	}
	if w.DirtyState {
		f.Add("Dirty state", "yes (the last apply failed to write all of its state)")
	}
	if r := w.CurrentApplyRun; r != nil {
		f.Add("Current run", r.ID+" ("+r.Status+")")
	}
	if l := w.VCSLink; l != nil {
		f.Add("Repository", l.String())
	}
	f.Add("Created", admincmd.Time(w.CreatedAt, now)+" by "+w.CreatedBy).
		Add("Updated", admincmd.Time(w.UpdatedAt, now)).
		Add("Version", w.Version)
	return f
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// printWorkspace writes a workspace as JSON or text.
func printWorkspace(io *ui.IOStreams, asJSON bool, w Workspace, now time.Time) error {
	if asJSON {
		return io.PrintJSON(w)
	}
	return fields(w, now).Print(io)
}

// normalizeID turns a path, TRN or GID into an id for the API, or fails
// with a usage error for an empty argument.
func normalizeID(arg string) (string, error) {
	id := api.NormalizeID("workspace", arg)
	if id == "" {
		return "", cmdutil.UsageErrorf("the workspace is empty: give its path, TRN or ID")
	}
	return id, nil
}

// fetch reads a workspace; nil without error when there is none (or the
// caller may not view it).
func fetch(ctx context.Context, client *api.Client, id string) (*gql.WorkspaceDetail, error) {
	resp, err := gql.GetWorkspaceDetail(ctx, client.GraphQL(), id)
	if err != nil {
		return nil, err
	}
	if resp.Node == nil || *resp.Node == nil {
		return nil, nil
	}
	w, ok := (*resp.Node).(*gql.GetWorkspaceDetailNodeWorkspace)
	if !ok {
		return nil, admincmd.KindMismatch("get workspace", "workspace", id, deref((*resp.Node).GetTypename()))
	}
	return &w.WorkspaceDetail, nil
}

// mustFetch is fetch with a not-found error.
func mustFetch(ctx context.Context, client *api.Client, op, arg string) (*gql.WorkspaceDetail, error) {
	id, err := normalizeID(arg)
	if err != nil {
		return nil, err
	}
	w, err := fetch(ctx, client, id)
	if err != nil {
		return nil, api.WithOp(err, op)
	}
	if w == nil {
		return nil, admincmd.NotFound(op, "workspace", arg)
	}
	return w, nil
}

func deref[T any](p *T) T {
	var zero T
	if p != nil {
		return *p
	}
	return zero
}
