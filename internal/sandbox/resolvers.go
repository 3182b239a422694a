package sandbox

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/graph-gophers/graphql-go"
)

// Type resolvers. Each holds a copy of its record taken under the lock, so
// a resolver never reads a record while an engine step changes it.

func gqlTime(t time.Time) graphql.Time { return graphql.Time{Time: t} }

func gqlTimePtr(t *time.Time) *graphql.Time {
	if t == nil {
		return nil
	}
	return &graphql.Time{Time: *t}
}

func strPtr(s string) *string { return &s }

type resourceMetadata struct {
	Version   string
	CreatedAt graphql.Time
	UpdatedAt graphql.Time
	Trn       string
}

func metadata(m Meta, trn string) *resourceMetadata {
	return &resourceMetadata{
		Version: strconv.Itoa(m.Version), CreatedAt: gqlTime(m.CreatedAt), UpdatedAt: gqlTime(m.UpdatedAt), Trn: trn,
	}
}

// locked runs f with the server lock held.
func (s *Server) locked(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// ---------------------------------------------------------------- node, unions

type nodeResolver struct {
	id  graphql.ID
	res any
}

// newNode builds the resolver of a looked-up record. Expects s.mu held.
func (s *Server) newNode(obj any) *nodeResolver {
	var res any
	var id string
	switch o := obj.(type) {
	case *User:
		res, id = &userResolver{s: s, u: *o}, toGID(gidUser, o.ID)
	case *Group:
		res, id = &groupResolver{s: s, g: *o}, toGID(gidGroup, o.ID)
	case *Workspace:
		res, id = s.workspaceRes(o), toGID(gidWorkspace, o.ID)
	case *Run:
		res, id = s.runRes(o), toGID(gidRun, o.ID)
	case *Job:
		res, id = s.jobRes(o), toGID(gidJob, o.ID)
	case *ConfigurationVersion:
		res, id = &cvResolver{s: s, cv: *o}, toGID(gidConfigVersion, o.ID)
	case *StateVersion:
		res, id = &svResolver{s: s, sv: *o}, toGID(gidStateVersion, o.ID)
	case stateOutputRef:
		res, id = &svOutputResolver{sv: *o.sv, o: o.sv.Outputs[o.i]}, toGID(gidStateOutput, o.sv.Outputs[o.i].ID)
	case *ServiceAccount:
		res, id = s.saRes(o), toGID(gidServiceAccount, o.ID)
	case *Runner:
		res, id = s.runnerRes(o), toGID(gidRunner, o.ID)
	case runnerSessionRef:
		res, id = s.sessionRes(o.runner, o.i), toGID(gidRunnerSession, o.runner.Sessions[o.i].ID)
	case *Membership:
		res, id = &membershipResolver{s: s, m: *o}, toGID(gidMembership, o.ID)
	case *NamespaceVariable:
		c := *o
		res, id = &variableResolver{s: s, v: c, hide: true}, toGID(gidVariable, o.ID)
	case roleRef:
		res, id = &roleResolver{name: o.name}, toGID(gidRole, roleIDs[o.name])
	default:
		return s.newRegistryNode(obj)
	}
	return &nodeResolver{id: graphql.ID(id), res: res}
}

func (n *nodeResolver) ID() graphql.ID { return n.id }

func as[T any](v any) (T, bool) {
	t, ok := v.(T)
	return t, ok
}

func (n *nodeResolver) ToUser() (*userResolver, bool)           { return as[*userResolver](n.res) }
func (n *nodeResolver) ToTeam() (*teamResolver, bool)           { return nil, false }
func (n *nodeResolver) ToGroup() (*groupResolver, bool)         { return as[*groupResolver](n.res) }
func (n *nodeResolver) ToWorkspace() (*workspaceResolver, bool) { return as[*workspaceResolver](n.res) }
func (n *nodeResolver) ToNamespaceVariable() (*variableResolver, bool) {
	return as[*variableResolver](n.res)
}
func (n *nodeResolver) ToRole() (*roleResolver, bool) { return as[*roleResolver](n.res) }
func (n *nodeResolver) ToNamespaceMembership() (*membershipResolver, bool) {
	return as[*membershipResolver](n.res)
}
func (n *nodeResolver) ToConfigurationVersion() (*cvResolver, bool) { return as[*cvResolver](n.res) }
func (n *nodeResolver) ToStateVersion() (*svResolver, bool)         { return as[*svResolver](n.res) }
func (n *nodeResolver) ToStateVersionOutput() (*svOutputResolver, bool) {
	return as[*svOutputResolver](n.res)
}
func (n *nodeResolver) ToRun() (*runResolver, bool) { return as[*runResolver](n.res) }
func (n *nodeResolver) ToJob() (*jobResolver, bool) { return as[*jobResolver](n.res) }
func (n *nodeResolver) ToRunnerSession() (*runnerSessionResolver, bool) {
	return as[*runnerSessionResolver](n.res)
}
func (n *nodeResolver) ToRunner() (*runnerResolver, bool)     { return as[*runnerResolver](n.res) }
func (n *nodeResolver) ToServiceAccount() (*saResolver, bool) { return as[*saResolver](n.res) }

// memberResolver is the Member and MeResponse unions.
type memberResolver struct {
	u  *userResolver
	sa *saResolver
}

func (m *memberResolver) ToUser() (*userResolver, bool)         { return m.u, m.u != nil }
func (m *memberResolver) ToServiceAccount() (*saResolver, bool) { return m.sa, m.sa != nil }
func (m *memberResolver) ToTeam() (*teamResolver, bool)         { return nil, false }

// ---------------------------------------------------------------- users, teams, roles

type userResolver struct {
	s *Server
	u User
}

func (r *userResolver) ID() graphql.ID { return graphql.ID(toGID(gidUser, r.u.ID)) }
func (r *userResolver) Metadata() *resourceMetadata {
	return metadata(r.u.Meta, makeTRN("user", r.u.Username))
}
func (r *userResolver) Username() string { return r.u.Username }
func (r *userResolver) Email() string    { return r.u.Email }
func (r *userResolver) Admin() bool      { return r.u.Admin }
func (r *userResolver) AdminModeEnabled() bool {
	return r.u.Admin && r.u.AdminModeExpiration != nil && r.s.now().Before(*r.u.AdminModeExpiration)
}
func (r *userResolver) AdminModeExpiration() *graphql.Time {
	if !r.AdminModeEnabled() {
		return nil
	}
	return gqlTimePtr(r.u.AdminModeExpiration)
}
func (r *userResolver) Active() bool { return r.u.Active }

// teamResolver exists for the schema; the sandbox has no teams.
type teamResolver struct{}

func (r *teamResolver) ID() graphql.ID              { return "" }
func (r *teamResolver) Metadata() *resourceMetadata { return &resourceMetadata{} }
func (r *teamResolver) Name() string                { return "" }
func (r *teamResolver) Description() string         { return "" }

type roleResolver struct{ name string }

func (r *roleResolver) ID() graphql.ID { return graphql.ID(toGID(gidRole, roleIDs[r.name])) }
func (r *roleResolver) Metadata() *resourceMetadata {
	t := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	return metadata(Meta{Version: 1, CreatedAt: t, UpdatedAt: t}, makeTRN("role", r.name))
}
func (r *roleResolver) Name() string        { return r.name }
func (r *roleResolver) Description() string { return roleDescriptions[r.name] }
func (r *roleResolver) Permissions() []string {
	return slices.Sorted(slices.Values(rolePermissions[r.name]))
}

// ---------------------------------------------------------------- namespaces

// namespaceResolver is the Namespace interface.
type namespaceResolver struct {
	g *groupResolver
	w *workspaceResolver
}

func (s *Server) namespaceRes(path string) *namespaceResolver {
	if g := s.st.groupByPath(path); g != nil {
		return &namespaceResolver{g: &groupResolver{s: s, g: *g}}
	}
	if w := s.st.workspaceByPath(path); w != nil {
		return &namespaceResolver{w: s.workspaceRes(w)}
	}
	return nil
}

func (n *namespaceResolver) ToGroup() (*groupResolver, bool)         { return n.g, n.g != nil }
func (n *namespaceResolver) ToWorkspace() (*workspaceResolver, bool) { return n.w, n.w != nil }
func (n *namespaceResolver) ID() graphql.ID {
	if n.g != nil {
		return n.g.ID()
	}
	return n.w.ID()
}
func (n *namespaceResolver) Metadata() *resourceMetadata {
	if n.g != nil {
		return n.g.Metadata()
	}
	return n.w.Metadata()
}
func (n *namespaceResolver) Name() string {
	if n.g != nil {
		return n.g.Name()
	}
	return n.w.Name()
}
func (n *namespaceResolver) Description() string {
	if n.g != nil {
		return n.g.Description()
	}
	return n.w.Description()
}
func (n *namespaceResolver) FullPath() string {
	if n.g != nil {
		return n.g.FullPath()
	}
	return n.w.FullPath()
}
func (n *namespaceResolver) Memberships(ctx context.Context) ([]*membershipResolver, error) {
	if n.g != nil {
		return n.g.Memberships(ctx)
	}
	return n.w.Memberships(ctx)
}
func (n *namespaceResolver) Variables(ctx context.Context) ([]*variableResolver, error) {
	if n.g != nil {
		return n.g.Variables(ctx)
	}
	return n.w.Variables(ctx)
}
func (n *namespaceResolver) RunnerTags() *runnerTagsResolver {
	if n.g != nil {
		return n.g.RunnerTags()
	}
	return n.w.RunnerTags()
}

type runnerTagsResolver struct {
	Inherited     bool
	NamespacePath string
	Value         []string
}

func (s *Server) runnerTags(path string) *runnerTagsResolver {
	var out *runnerTagsResolver
	s.locked(func() {
		tags, from, inherited := s.st.effectiveRunnerTags(path)
		out = &runnerTagsResolver{Inherited: inherited, NamespacePath: from, Value: tags}
	})
	return out
}

// namespaceMemberships lists the memberships that apply to a namespace:
// its own and those inherited from its parent groups.
func (s *Server) namespaceMemberships(ctx context.Context, path string) ([]*membershipResolver, error) {
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.requirePerm(c, permMembershipView, path); err != nil {
		return nil, err
	}
	anc := ancestors(path)
	var out []*membershipResolver
	for _, m := range values(s.st.Memberships, func(m *Membership) int64 { return m.Seq }) {
		if slices.Contains(anc, m.NamespacePath) {
			out = append(out, &membershipResolver{s: s, m: *m})
		}
	}
	return out, nil
}

// namespaceVariables lists the variables set on a namespace itself; values
// need variable:view_value and sensitive values are never shown.
func (s *Server) namespaceVariables(ctx context.Context, path string) ([]*variableResolver, error) {
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.requirePerm(c, permVariableView, path); err != nil {
		return nil, err
	}
	showValues := s.requirePerm(c, permVariableViewValue, path) == nil
	var out []*variableResolver
	for _, v := range values(s.st.Variables, func(v *NamespaceVariable) int64 { return v.Seq }) {
		if v.NamespacePath == path {
			out = append(out, &variableResolver{s: s, v: *v, hide: !showValues})
		}
	}
	return out, nil
}

type variableResolver struct {
	s    *Server
	v    NamespaceVariable
	hide bool
}

func (r *variableResolver) ID() graphql.ID { return graphql.ID(toGID(gidVariable, r.v.ID)) }
func (r *variableResolver) Metadata() *resourceMetadata {
	return metadata(r.v.Meta, makeTRN("variable", r.v.NamespacePath+"/"+r.v.Category+"/"+r.v.Key))
}
func (r *variableResolver) NamespacePath() string { return r.v.NamespacePath }
func (r *variableResolver) Category() string      { return r.v.Category }
func (r *variableResolver) Sensitive() bool       { return r.v.Sensitive }
func (r *variableResolver) Key() string           { return r.v.Key }
func (r *variableResolver) Value() *string {
	if r.hide || r.v.Sensitive {
		return nil
	}
	return strPtr(r.v.Value)
}
func (r *variableResolver) LatestVersionID() string { return toGID(gidVariableVer, r.v.VersionID) }

// ---------------------------------------------------------------- groups

type groupResolver struct {
	s *Server
	g Group
}

func (r *groupResolver) ID() graphql.ID { return graphql.ID(toGID(gidGroup, r.g.ID)) }
func (r *groupResolver) Metadata() *resourceMetadata {
	return metadata(r.g.Meta, makeTRN("group", r.g.FullPath))
}
func (r *groupResolver) Name() string        { return r.g.Name }
func (r *groupResolver) Description() string { return r.g.Description }
func (r *groupResolver) FullPath() string    { return r.g.FullPath }
func (r *groupResolver) CreatedBy() string   { return r.g.CreatedBy }
func (r *groupResolver) Parent(ctx context.Context) *groupResolver {
	c, err := authorize(ctx)
	if err != nil {
		return nil
	}
	var out *groupResolver
	r.s.locked(func() {
		if p := r.s.st.Groups[r.g.ParentID]; p != nil && r.s.canView(c, p.FullPath) {
			out = &groupResolver{s: r.s, g: *p}
		}
	})
	return out
}
func (r *groupResolver) DescendentGroups(ctx context.Context, args struct {
	pageArgs
	Sort *string
}) (*connection[*groupResolver], error) {
	// Despite its name the real API lists the direct subgroups only.
	return r.s.listGroups(ctx, args.pageArgs, args.Sort, func(g *Group) bool {
		return g.ParentID == r.g.ID
	})
}
func (r *groupResolver) Workspaces(ctx context.Context, args struct {
	pageArgs
	Sort *string
}) (*connection[*workspaceResolver], error) {
	return r.s.listWorkspaces(ctx, args.pageArgs, args.Sort, nil, func(w *Workspace) bool {
		return w.GroupID == r.g.ID
	})
}
func (r *groupResolver) ServiceAccounts(ctx context.Context, args struct {
	pageArgs
	IncludeInherited *bool
	Search           *string
	Sort             *string
}) (*connection[*saResolver], error) {
	inherit := args.IncludeInherited != nil && *args.IncludeInherited
	return r.s.listServiceAccounts(ctx, r.g.FullPath, inherit, args.Search, args.pageArgs, args.Sort)
}
func (r *groupResolver) Runners(ctx context.Context, args struct {
	pageArgs
	IncludeInherited *bool
	Sort             *string
}) (*connection[*runnerResolver], error) {
	inherit := args.IncludeInherited != nil && *args.IncludeInherited
	return r.s.listGroupRunners(ctx, r.g.FullPath, inherit, args.pageArgs, args.Sort)
}
func (r *groupResolver) Memberships(ctx context.Context) ([]*membershipResolver, error) {
	return r.s.namespaceMemberships(ctx, r.g.FullPath)
}
func (r *groupResolver) Variables(ctx context.Context) ([]*variableResolver, error) {
	return r.s.namespaceVariables(ctx, r.g.FullPath)
}
func (r *groupResolver) RunnerTags() *runnerTagsResolver { return r.s.runnerTags(r.g.FullPath) }

// ---------------------------------------------------------------- workspaces

type workspaceResolver struct {
	s *Server
	w Workspace
}

func (s *Server) workspaceRes(w *Workspace) *workspaceResolver {
	return &workspaceResolver{s: s, w: *w}
}

func (r *workspaceResolver) ID() graphql.ID { return graphql.ID(toGID(gidWorkspace, r.w.ID)) }
func (r *workspaceResolver) Metadata() *resourceMetadata {
	return metadata(r.w.Meta, makeTRN("workspace", r.w.FullPath))
}
func (r *workspaceResolver) Name() string        { return r.w.Name }
func (r *workspaceResolver) Description() string { return r.w.Description }
func (r *workspaceResolver) GroupPath() string {
	p, _ := splitLast(r.w.FullPath)
	return p
}
func (r *workspaceResolver) FullPath() string { return r.w.FullPath }
func (r *workspaceResolver) Group() (*groupResolver, error) {
	var out *groupResolver
	r.s.locked(func() {
		if g := r.s.st.Groups[r.w.GroupID]; g != nil {
			out = &groupResolver{s: r.s, g: *g}
		}
	})
	if out == nil { // deleted since the workspace was read
		return nil, errNotFound("group %s not found", r.GroupPath())
	}
	return out, nil
}
func (r *workspaceResolver) DirtyState() bool { return r.w.DirtyState }
func (r *workspaceResolver) Destroyed() bool  { return r.w.Destroyed }
func (r *workspaceResolver) Locked() bool     { return r.w.Locked }
func (r *workspaceResolver) Labels() []*labelResolver {
	out := []*labelResolver{}
	for _, l := range r.w.Labels {
		out = append(out, &labelResolver{Key: l.Key, Value: l.Value})
	}
	return out
}
func (r *workspaceResolver) Memberships(ctx context.Context) ([]*membershipResolver, error) {
	return r.s.namespaceMemberships(ctx, r.w.FullPath)
}
func (r *workspaceResolver) Variables(ctx context.Context) ([]*variableResolver, error) {
	return r.s.namespaceVariables(ctx, r.w.FullPath)
}
func (r *workspaceResolver) CurrentStateVersion() *svResolver {
	var out *svResolver
	r.s.locked(func() {
		if sv := r.s.st.StateVersions[r.w.CurrentStateVersionID]; sv != nil {
			out = &svResolver{s: r.s, sv: *sv}
		}
	})
	return out
}
func (r *workspaceResolver) CurrentApplyRun() *runResolver {
	var out *runResolver
	r.s.locked(func() {
		if run := r.s.st.Runs[r.w.CurrentApplyRunID]; run != nil {
			out = r.s.runRes(run)
		}
	})
	return out
}
func (r *workspaceResolver) MaxJobDuration() int32           { return r.w.MaxJobDuration }
func (r *workspaceResolver) CreatedBy() string               { return r.w.CreatedBy }
func (r *workspaceResolver) TerraformVersion() string        { return r.w.TerraformVersion }
func (r *workspaceResolver) PreventDestroyPlan() bool        { return r.w.PreventDestroyPlan }
func (r *workspaceResolver) RunnerTags() *runnerTagsResolver { return r.s.runnerTags(r.w.FullPath) }

type labelResolver struct{ Key, Value string }

// ---------------------------------------------------------------- memberships

type membershipResolver struct {
	s *Server
	m Membership
}

func (r *membershipResolver) ID() graphql.ID { return graphql.ID(toGID(gidMembership, r.m.ID)) }
func (r *membershipResolver) Metadata() *resourceMetadata {
	return metadata(r.m.Meta, makeTRN("namespace_membership", r.m.NamespacePath+"/"+toGID(gidMembership, r.m.ID)))
}
func (r *membershipResolver) ResourcePath() string {
	return r.m.NamespacePath + "/" + toGID(gidMembership, r.m.ID)
}
func (r *membershipResolver) Member() *memberResolver {
	var out *memberResolver
	r.s.locked(func() {
		if u := r.s.st.Users[r.m.UserID]; u != nil {
			out = &memberResolver{u: &userResolver{s: r.s, u: *u}}
		} else if sa := r.s.st.ServiceAccounts[r.m.ServiceAccountID]; sa != nil {
			out = &memberResolver{sa: r.s.saRes(sa)}
		}
	})
	return out
}
func (r *membershipResolver) Namespace() *namespaceResolver {
	var out *namespaceResolver
	r.s.locked(func() { out = r.s.namespaceRes(r.m.NamespacePath) })
	return out
}
func (r *membershipResolver) Role() *roleResolver { return &roleResolver{name: r.m.Role} }

// ---------------------------------------------------------------- configuration and state versions

type cvResolver struct {
	s  *Server
	cv ConfigurationVersion
}

func (r *cvResolver) ID() graphql.ID { return graphql.ID(toGID(gidConfigVersion, r.cv.ID)) }
func (r *cvResolver) Metadata() *resourceMetadata {
	var trn string
	r.s.locked(func() {
		if w := r.s.st.Workspaces[r.cv.WorkspaceID]; w != nil {
			trn = makeTRN("configuration_version", w.FullPath+"/"+string(r.ID()))
		}
	})
	return metadata(r.cv.Meta, trn)
}
func (r *cvResolver) Status() string      { return r.cv.Status }
func (r *cvResolver) Speculative() bool   { return r.cv.Speculative }
func (r *cvResolver) WorkspaceID() string { return toGID(gidWorkspace, r.cv.WorkspaceID) }
func (r *cvResolver) CreatedBy() string   { return r.cv.CreatedBy }

type svResolver struct {
	s  *Server
	sv StateVersion
}

func (r *svResolver) ID() graphql.ID { return graphql.ID(toGID(gidStateVersion, r.sv.ID)) }
func (r *svResolver) Metadata() *resourceMetadata {
	var trn string
	r.s.locked(func() {
		if w := r.s.st.Workspaces[r.sv.WorkspaceID]; w != nil {
			trn = makeTRN("state_version", w.FullPath+"/"+string(r.ID()))
		}
	})
	return metadata(r.sv.Meta, trn)
}
func (r *svResolver) Run() *runResolver {
	var out *runResolver
	r.s.locked(func() {
		if run := r.s.st.Runs[r.sv.RunID]; run != nil {
			out = r.s.runRes(run)
		}
	})
	return out
}
func (r *svResolver) Outputs() []*svOutputResolver {
	out := []*svOutputResolver{}
	for _, o := range r.sv.Outputs {
		out = append(out, &svOutputResolver{sv: r.sv, o: o})
	}
	return out
}
func (r *svResolver) CreatedBy() string { return r.sv.CreatedBy }

type svOutputResolver struct {
	sv StateVersion
	o  StateOutput
}

func (r *svOutputResolver) ID() graphql.ID { return graphql.ID(toGID(gidStateOutput, r.o.ID)) }
func (r *svOutputResolver) Metadata() *resourceMetadata {
	return metadata(r.sv.Meta, makeTRN("state_version_output", toGID(gidStateVersion, r.sv.ID)+"/"+r.o.Name))
}
func (r *svOutputResolver) Name() string    { return r.o.Name }
func (r *svOutputResolver) Value() string   { return r.o.Value }
func (r *svOutputResolver) Type() string    { return r.o.Type }
func (r *svOutputResolver) Sensitive() bool { return r.o.Sensitive }
