package complete

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
)

// Workspaces completes a workspace path in the first argument.
func Workspaces(f *cmdutil.Factory) Func { return firstArg(WorkspaceFlag(f)) }

// WorkspaceFlag completes a workspace path, for a flag.
func WorkspaceFlag(f *cmdutil.Factory) Func {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if !isPathPrefix(toComplete) {
			return none()
		}
		return withClient(cmd, f, func(ctx context.Context, c *api.Client) ([]string, cobra.ShellCompDirective) {
			return workspacePaths(ctx, c, toComplete, ""), cobra.ShellCompDirectiveNoFileComp
		})
	}
}

// Groups completes a group path in the first argument.
func Groups(f *cmdutil.Factory) Func { return firstArg(GroupFlag(f)) }

// GroupFlag completes a group path, for a flag (--group, --parent).
func GroupFlag(f *cmdutil.Factory) Func {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if !isPathPrefix(toComplete) {
			return none()
		}
		return withClient(cmd, f, func(ctx context.Context, c *api.Client) ([]string, cobra.ShellCompDirective) {
			return groupPaths(ctx, c, toComplete), cobra.ShellCompDirectiveNoFileComp
		})
	}
}

// Runs completes a run in the first argument, in the <workspace path>/<run
// ID> form every run command accepts. Until a workspace is typed it offers
// workspace paths followed by "/"; then the workspace's latest runs, newest
// first, with their status.
func Runs(f *cmdutil.Factory) Func {
	return firstArg(func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if !isPathPrefix(toComplete) {
			return none()
		}
		return withClient(cmd, f, func(ctx context.Context, c *api.Client) ([]string, cobra.ShellCompDirective) {
			if i := strings.LastIndex(toComplete, "/"); i > 0 {
				if runs, ok := workspaceRuns(ctx, c, toComplete[:i], toComplete[i+1:]); ok {
					return runs, cobra.ShellCompDirectiveNoFileComp
				}
			}
			// Not inside a workspace yet: the user picks one, and the
			// shell must not add a space after its "/".
			return workspacePaths(ctx, c, toComplete, "/"), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
		})
	})
}

// isPathPrefix reports whether s can be the start of a path: a TRN or an
// ID is complete already, and has nothing to look up.
func isPathPrefix(s string) bool {
	return !api.IsTRN(s) && !api.IsGID(s) && !strings.ContainsAny(s, " \t")
}

// search is the search argument for a typed prefix: the API matches
// anywhere in the path, so the prefix narrows the list; nil lists all.
func search(prefix string) *string {
	s := strings.Trim(prefix, "/")
	if s == "" {
		return nil
	}
	return &s
}

// candidate formats one completion with an optional description (shown by
// zsh, fish and PowerShell).
func candidate(value, desc string) string {
	// One line, no tab: the shell scripts split candidates on newlines and
	// the value from its description on the first tab.
	desc = strings.TrimSpace(strings.ReplaceAll(strings.SplitN(desc, "\n", 2)[0], "\t", " "))
	if desc == "" {
		return value
	}
	return cobra.CompletionWithDesc(value, desc)
}

func workspacePaths(ctx context.Context, c *api.Client, prefix, suffix string) []string {
	sort := gql.WorkspaceSortFullPathAsc
	resp, err := gql.ListWorkspaces(ctx, c.GraphQL(), Limit, nil, nil, search(prefix), &sort, nil)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range resp.Workspaces.Edges {
		if e == nil || e.Node == nil || !strings.HasPrefix(e.Node.FullPath, prefix) {
			continue
		}
		out = append(out, candidate(e.Node.FullPath+suffix, e.Node.Description))
	}
	return out
}

func groupPaths(ctx context.Context, c *api.Client, prefix string) []string {
	sort := gql.GroupSortFullPathAsc
	resp, err := gql.ListGroups(ctx, c.GraphQL(), Limit, nil, nil, search(prefix), &sort)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range resp.Groups.Edges {
		if e == nil || e.Node == nil || !strings.HasPrefix(e.Node.FullPath, prefix) {
			continue
		}
		out = append(out, candidate(e.Node.FullPath, e.Node.Description))
	}
	return out
}

// workspaceRuns lists the latest runs of the workspace at path whose ID
// starts with idPrefix, as "<path>/<id>"; ok is false when path is not a
// workspace the caller can read.
func workspaceRuns(ctx context.Context, c *api.Client, path, idPrefix string) (out []string, ok bool) {
	resp, err := gql.ListRuns(ctx, c.GraphQL(), api.NormalizeID("workspace", path), Limit, nil)
	if err != nil {
		return nil, false
	}
	for _, e := range resp.Runs.Edges {
		if e == nil || e.Node == nil || !strings.HasPrefix(e.Node.Id, idPrefix) {
			continue
		}
		r := e.Node
		out = append(out, candidate(path+"/"+r.Id, runDescription(string(r.Status), r.Metadata.CreatedAt, r.CreatedBy, r.IsDestroy, r.Speculative)))
	}
	return out, true
}

// runDescription is what a run candidate shows: its status, what kind of
// run it is, when and by whom it was created.
func runDescription(status string, created time.Time, by string, destroy, speculative bool) string {
	parts := []string{status}
	switch {
	case speculative:
		parts = append(parts, "plan")
	case destroy:
		parts = append(parts, "destroy")
	}
	if !created.IsZero() {
		parts = append(parts, created.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if by != "" {
		parts = append(parts, by)
	}
	return strings.Join(parts, ", ")
}

// Namespace completes the first argument of a command shared by groups and
// workspaces (the membership verbs): kind is "group" or "workspace".
func Namespace(f *cmdutil.Factory, kind string) Func {
	if kind == "group" {
		return Groups(f)
	}
	return Workspaces(f)
}
