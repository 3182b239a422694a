// Package group implements `tharsis group`: list, get, create, update,
// delete and the membership verbs.
package group

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/membership"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// NewCmdGroup builds the `group` noun with its verbs.
func NewCmdGroup(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group <command>",
		Short: "Manage groups",
		Long: `Groups hold workspaces, subgroups, service accounts and runner agents; a role
on a group applies to everything below it. A group is named by its path
(top/sub), its TRN (trn:group:top/sub) or its ID.`,
		Example: `  tharsis group list --parent ops
  tharsis group create ops/teams/network --parents
  tharsis group add-membership ops --service-account ops/ci --role deployer`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdGet(f, nil),
		NewCmdCreate(f, nil),
		NewCmdUpdate(f, nil),
		NewCmdDelete(f, nil),
	)
	cmd.AddCommand(membership.Commands(f, membership.KindGroup)...)
	return cmd
}

// Group is a group in JSON (get, list items, create, update).
type Group struct {
	ID          string              `json:"id"`
	TRN         string              `json:"trn"`
	Name        string              `json:"name"`
	FullPath    string              `json:"full_path"`
	ParentPath  string              `json:"parent_path"` // "" for a top-level group
	Description string              `json:"description"`
	RunnerTags  admincmd.RunnerTags `json:"runner_tags"`
	// Subgroups and Workspaces count the direct children (get only).
	Subgroups  *int      `json:"subgroup_count,omitempty"`
	Workspaces *int      `json:"workspace_count,omitempty"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Version    string    `json:"version"`
}

func fromGQL(g *gql.GroupDetail) Group {
	out := Group{
		ID: g.Id, TRN: g.Metadata.Trn, Name: g.Name, FullPath: g.FullPath, Description: g.Description,
		RunnerTags: admincmd.NewRunnerTags(g.RunnerTags.Inherited, g.RunnerTags.NamespacePath, g.RunnerTags.Value),
		CreatedBy:  g.CreatedBy, CreatedAt: g.Metadata.CreatedAt, UpdatedAt: g.Metadata.UpdatedAt, Version: g.Metadata.Version,
	}
	if g.Parent != nil {
		out.ParentPath = g.Parent.FullPath
	}
	return out
}

func printGroup(io *ui.IOStreams, asJSON bool, g Group, now time.Time) error {
	if asJSON {
		return io.PrintJSON(g)
	}
	f := &admincmd.Fields{}
	f.Add("Name", g.Name).
		Add("Path", g.FullPath).
		Add("TRN", g.TRN).
		Add("ID", g.ID).
		AddIf("Description", g.Description).
		Add("Parent", orTop(g.ParentPath)).
		Add("Runner tags", g.RunnerTags.String())
	if g.Subgroups != nil {
		f.Add("Subgroups", strconv.Itoa(*g.Subgroups))
	}
	if g.Workspaces != nil {
		f.Add("Workspaces", strconv.Itoa(*g.Workspaces))
	}
	f.Add("Created", admincmd.Time(g.CreatedAt, now)+" by "+g.CreatedBy).
		Add("Updated", admincmd.Time(g.UpdatedAt, now)).
		Add("Version", g.Version)
	return f.Print(io)
}

func orTop(p string) string {
	if p == "" {
		return "none (top-level group)"
	}
	return p
}

// fetch reads a group and its child counts; nil without error when there
// is none (or the caller may not view it).
func fetch(ctx context.Context, client *api.Client, id, op, given string) (*Group, error) {
	resp, err := gql.GetGroupDetail(ctx, client.GraphQL(), id)
	if err != nil {
		return nil, api.WithOp(err, op)
	}
	if resp.Node == nil || *resp.Node == nil {
		return nil, nil
	}
	n, ok := (*resp.Node).(*gql.GetGroupDetailNodeGroup)
	if !ok {
		return nil, admincmd.KindMismatch(op, "group", given, deref((*resp.Node).GetTypename()))
	}
	g := fromGQL(&n.GroupDetail)
	subs, wss := n.DescendentGroups.TotalCount, n.Workspaces.TotalCount
	g.Subgroups, g.Workspaces = &subs, &wss
	return &g, nil
}

// mustFetch is fetch with a not-found error.
func mustFetch(ctx context.Context, client *api.Client, op, arg string) (*Group, error) {
	id := api.NormalizeID("group", arg)
	if id == "" {
		return nil, cmdutil.UsageErrorf("the group is empty: give its path, TRN or ID")
	}
	g, err := fetch(ctx, client, id, op, arg)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, admincmd.NotFound(op, "group", arg)
	}
	return g, nil
}

func deref[T any](p *T) T {
	var zero T
	if p != nil {
		return *p
	}
	return zero
}
