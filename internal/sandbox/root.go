package sandbox

import (
	"context"
	"slices"
	"strings"

	"github.com/graph-gophers/graphql-go"

	"github.com/tharsis-cli/tharsis/internal/api/schema"
)

// root is the Query, Mutation and Subscription resolver.
type root struct{ s *Server }

func newSchema(s *Server) (*graphql.Schema, error) {
	return graphql.ParseSchema(schema.SDL, &root{s: s}, graphql.UseFieldResolvers(), graphql.MaxDepth(20))
}

// ---------------------------------------------------------------- queries

func (q *root) Me(ctx context.Context) (*memberResolver, error) {
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	var out *memberResolver
	q.s.locked(func() {
		if u := q.s.st.Users[c.userID]; u != nil {
			out = &memberResolver{u: &userResolver{s: q.s, u: *u}}
		} else if sa := q.s.st.ServiceAccounts[c.saID]; sa != nil {
			out = &memberResolver{sa: q.s.saRes(sa)}
		}
	})
	return out, nil
}

func (q *root) Node(ctx context.Context, args struct{ ID string }) (*nodeResolver, error) {
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	q.s.mu.Lock()
	defer q.s.mu.Unlock()
	obj, err := q.s.lookup(args.ID)
	if err != nil || obj == nil || !q.s.visible(c, obj) {
		return nil, err
	}
	return q.s.newNode(obj), nil
}

func (q *root) Namespace(ctx context.Context, args struct{ FullPath string }) (*namespaceResolver, error) {
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	q.s.mu.Lock()
	defer q.s.mu.Unlock()
	if !q.s.st.namespaceExists(args.FullPath) || !q.s.canView(c, args.FullPath) {
		return nil, nil
	}
	return q.s.namespaceRes(args.FullPath), nil
}

func (q *root) Groups(ctx context.Context, args struct {
	pageArgs
	ParentID *string
	Search   *string
	Sort     *string
}) (*connection[*groupResolver], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	parent := ""
	if args.ParentID != nil {
		c, err := authorize(ctx)
		if err != nil {
			return nil, err
		}
		var g *Group
		q.s.locked(func() { g, err = find[*Group](q.s, c, *args.ParentID, "group") })
		if err != nil {
			return nil, err
		}
		parent = g.ID
	}
	return q.s.listGroups(ctx, args.pageArgs, args.Sort, func(g *Group) bool {
		if args.ParentID != nil && g.ParentID != parent {
			return false
		}
		return args.Search == nil || strings.Contains(strings.ToLower(g.FullPath), strings.ToLower(*args.Search))
	})
}

func (s *Server) listGroups(ctx context.Context, args pageArgs, sort *string, keep func(*Group) bool) (*connection[*groupResolver], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var gs []*Group
	for _, g := range values(s.st.Groups, func(g *Group) int64 { return g.Seq }) {
		if keep(g) && s.canView(c, g.FullPath) {
			gs = append(gs, g)
		}
	}
	name := sortItems(gs, sort, func(g *Group) Meta { return g.Meta }, func(g *Group) string { return g.FullPath })
	return paginate(gs, func(g *Group) string { return g.ID }, args, name,
		func(g *Group) *groupResolver { return &groupResolver{s: s, g: *g} })
}

func (q *root) Workspaces(ctx context.Context, args struct {
	pageArgs
	GroupID     *string
	Search      *string
	Sort        *string
	LabelFilter *struct{ Labels []labelInput }
}) (*connection[*workspaceResolver], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	groupID := ""
	if args.GroupID != nil {
		c, err := authorize(ctx)
		if err != nil {
			return nil, err
		}
		var g *Group
		q.s.locked(func() { g, err = find[*Group](q.s, c, *args.GroupID, "group") })
		if err != nil {
			return nil, err
		}
		groupID = g.ID
	}
	return q.s.listWorkspaces(ctx, args.pageArgs, args.Sort, args.Search, func(w *Workspace) bool {
		if args.GroupID != nil && w.GroupID != groupID {
			return false
		}
		// Every label of the filter must be on the workspace, as on the
		// real API.
		if args.LabelFilter != nil {
			for _, l := range args.LabelFilter.Labels {
				if !slices.Contains(w.Labels, Label(l)) {
					return false
				}
			}
		}
		return true
	})
}

func (s *Server) listWorkspaces(ctx context.Context, args pageArgs, sort, search *string, keep func(*Workspace) bool) (*connection[*workspaceResolver], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ws []*Workspace
	for _, w := range values(s.st.Workspaces, func(w *Workspace) int64 { return w.Seq }) {
		if !keep(w) || !s.canView(c, w.FullPath) {
			continue
		}
		if search != nil && !strings.Contains(strings.ToLower(w.FullPath), strings.ToLower(*search)) {
			continue
		}
		ws = append(ws, w)
	}
	name := sortItems(ws, sort, func(w *Workspace) Meta { return w.Meta }, func(w *Workspace) string { return w.FullPath })
	return paginate(ws, func(w *Workspace) string { return w.ID }, args, name, s.workspaceRes)
}

func (q *root) Runs(ctx context.Context, args struct {
	pageArgs
	WorkspaceID *string
	Sort        *string
}) (*connection[*runResolver], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	wsID := ""
	if args.WorkspaceID != nil {
		w, err := find[*Workspace](s, c, *args.WorkspaceID, "workspace")
		if err != nil {
			return nil, err
		}
		if err := s.requirePerm(c, permRunView, w.FullPath); err != nil {
			return nil, err
		}
		wsID = w.ID
	} else if c.userID == "" {
		return nil, errForbidden("only users can query for runs without a workspace or group filter")
	}
	var runs []*Run
	for _, r := range values(s.st.Runs, func(r *Run) int64 { return r.Seq }) {
		if wsID != "" && r.WorkspaceID != wsID {
			continue
		}
		if w := s.st.Workspaces[r.WorkspaceID]; w == nil || !s.canView(c, w.FullPath) {
			continue
		}
		runs = append(runs, r)
	}
	name := sortItems(runs, args.Sort, func(r *Run) Meta { return r.Meta }, func(*Run) string { return "" })
	return paginate(runs, func(r *Run) string { return r.ID }, args.pageArgs, name, s.runRes)
}

func (q *root) Jobs(ctx context.Context, args struct {
	pageArgs
	WorkspaceID *string
	JobType     *string
	JobStatus   *string
	Sort        *string
}) (*connection[*jobResolver], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	wsID := ""
	if args.WorkspaceID != nil {
		w, err := find[*Workspace](s, c, *args.WorkspaceID, "workspace")
		if err != nil {
			return nil, err
		}
		if err := s.requirePerm(c, permJobView, w.FullPath); err != nil {
			return nil, err
		}
		wsID = w.ID
	} else if !s.adminMode(c) {
		return nil, errForbidden("only admins with admin mode activated can query for jobs without a workspace filter")
	}
	var jobs []*Job
	for _, j := range values(s.st.Jobs, func(j *Job) int64 { return j.Seq }) {
		if (wsID != "" && j.WorkspaceID != wsID) || (args.JobType != nil && j.Type != *args.JobType) ||
			(args.JobStatus != nil && j.Status != *args.JobStatus) {
			continue
		}
		jobs = append(jobs, j)
	}
	name := sortItems(jobs, args.Sort, func(j *Job) Meta { return j.Meta }, func(*Job) string { return "" })
	return paginate(jobs, func(j *Job) string { return j.ID }, args.pageArgs, name, s.jobRes)
}

func (q *root) SharedRunners(ctx context.Context, args struct {
	pageArgs
	Sort *string
}) (*connection[*runnerResolver], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	if _, err := authorize(ctx); err != nil {
		return nil, err
	}
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var rs []*Runner
	for _, r := range values(s.st.Runners, func(r *Runner) int64 { return r.Seq }) {
		if r.shared() {
			rs = append(rs, r)
		}
	}
	name := sortItems(rs, args.Sort, func(r *Runner) Meta { return r.Meta }, func(r *Runner) string { return "" })
	return paginate(rs, func(r *Runner) string { return r.ID }, args.pageArgs, name, s.runnerRes)
}

// listGroupRunners lists a group's runners, with those of its parent groups
// when inherit is set.
func (s *Server) listGroupRunners(ctx context.Context, path string, inherit bool, args pageArgs, sort *string) (*connection[*runnerResolver], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.requirePerm(c, permRunnerView, path); err != nil {
		return nil, err
	}
	var rs []*Runner
	for _, r := range values(s.st.Runners, func(r *Runner) int64 { return r.Seq }) {
		if r.shared() {
			continue
		}
		gp := s.st.groupPath(r.GroupID)
		if gp == path || (inherit && isWithin(path, gp)) {
			rs = append(rs, r)
		}
	}
	name := sortItems(rs, sort, func(r *Runner) Meta { return r.Meta }, func(r *Runner) string { return s.st.groupPath(r.GroupID) })
	return paginate(rs, func(r *Runner) string { return r.ID }, args, name, s.runnerRes)
}

// listServiceAccounts lists a group's service accounts, with those of its
// parent groups when inherit is set.
func (s *Server) listServiceAccounts(ctx context.Context, path string, inherit bool, search *string, args pageArgs, sort *string) (*connection[*saResolver], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.requirePerm(c, permServiceAccountView, path); err != nil {
		return nil, err
	}
	var sas []*ServiceAccount
	for _, sa := range values(s.st.ServiceAccounts, func(sa *ServiceAccount) int64 { return sa.Seq }) {
		gp := s.st.groupPath(sa.GroupID)
		if gp != path && !(inherit && isWithin(path, gp)) {
			continue
		}
		if search != nil && !strings.Contains(sa.Name, *search) {
			continue
		}
		sas = append(sas, sa)
	}
	name := sortItems(sas, sort, func(sa *ServiceAccount) Meta { return sa.Meta }, func(sa *ServiceAccount) string { return s.st.groupPath(sa.GroupID) })
	return paginate(sas, func(sa *ServiceAccount) string { return sa.ID }, args, name, s.saRes)
}

type terraformVersionsResolver struct{ Versions []string }

func (q *root) TerraformCLIVersions() *terraformVersionsResolver {
	return &terraformVersionsResolver{Versions: append([]string(nil), terraformVersions...)}
}

type oidcSettingsResolver struct{ IssuerURL, ClientID, Scope string }

type authSettingsResolver struct {
	AuthType string
	Oidc     *oidcSettingsResolver
}

// AuthSettings reports BASIC: the sandbox is its own identity provider.
func (q *root) AuthSettings() *authSettingsResolver {
	return &authSettingsResolver{AuthType: "BASIC"}
}

type versionResolver struct {
	Version            string
	DbMigrationVersion string
	DbMigrationDirty   bool
	BuildTimestamp     graphql.Time
}

func (q *root) Version(ctx context.Context) (*versionResolver, error) {
	if _, err := authorize(ctx); err != nil {
		return nil, err
	}
	return &versionResolver{Version: "sandbox", DbMigrationVersion: "0", BuildTimestamp: gqlTime(q.s.started)}, nil
}
