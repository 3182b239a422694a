package sandbox

import (
	"context"
	"slices"
	"strings"

	"github.com/graph-gophers/graphql-go"
)

// ---------------------------------------------------------------- runs

type runResolver struct {
	s      *Server
	r      Run
	wsPath string
}

// runRes snapshots a run. Expects s.mu held.
func (s *Server) runRes(r *Run) *runResolver {
	res := &runResolver{s: s, r: r.clone()}
	if w := s.st.Workspaces[r.WorkspaceID]; w != nil {
		res.wsPath = w.FullPath
	}
	return res
}

func (r *runResolver) gid() string    { return toGID(gidRun, r.r.ID) }
func (r *runResolver) ID() graphql.ID { return graphql.ID(r.gid()) }
func (r *runResolver) Metadata() *resourceMetadata {
	return metadata(r.r.Meta, makeTRN("run", r.wsPath+"/"+r.gid()))
}
func (r *runResolver) CreatedBy() string { return r.r.CreatedBy }
func (r *runResolver) Status() string    { return r.r.Status }
func (r *runResolver) IsDestroy() bool   { return r.r.IsDestroy }
func (r *runResolver) Workspace() (*workspaceResolver, error) {
	var out *workspaceResolver
	r.s.locked(func() {
		if w := r.s.st.Workspaces[r.r.WorkspaceID]; w != nil {
			out = r.s.workspaceRes(w)
		}
	})
	if out == nil {
		return nil, errNotFound("workspace of run %s not found", r.gid())
	}
	return out, nil
}
func (r *runResolver) ConfigurationVersion() *cvResolver {
	var out *cvResolver
	r.s.locked(func() {
		if cv := r.s.st.ConfigVersions[r.r.ConfigurationVersionID]; cv != nil {
			out = &cvResolver{s: r.s, cv: *cv}
		}
	})
	return out
}
func (r *runResolver) Plan() *planResolver { return &planResolver{run: r} }
func (r *runResolver) Apply() *applyResolver {
	if r.r.Apply == nil {
		return nil
	}
	return &applyResolver{run: r}
}

type runVariableResolver struct {
	NamespacePath      *string
	Category           string
	Key                string
	Value              *string
	Sensitive          bool
	VersionID          *string
	IncludedInTfConfig *bool
}

func (r *runResolver) Variables(ctx context.Context) ([]*runVariableResolver, error) {
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.requirePerm(c, permVariableView, r.wsPath); err != nil {
		return nil, err
	}
	showValues := r.s.requirePerm(c, permVariableViewValue, r.wsPath) == nil
	vars := slices.Clone(r.r.Variables)
	slices.SortStableFunc(vars, func(a, b RunVariable) int {
		pa, pb := "", ""
		if a.NamespacePath != nil {
			pa = "\x01" + *a.NamespacePath
		}
		if b.NamespacePath != nil {
			pb = "\x01" + *b.NamespacePath
		}
		if c := strings.Compare(pa, pb); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	out := []*runVariableResolver{}
	for _, v := range vars {
		rv := &runVariableResolver{NamespacePath: v.NamespacePath, Category: v.Category, Key: v.Key, Sensitive: v.Sensitive}
		if v.VersionID != nil {
			id := toGID(gidVariableVer, *v.VersionID)
			rv.VersionID = &id
		}
		if showValues && !v.Sensitive {
			val := v.Value
			rv.Value = &val
		}
		out = append(out, rv)
	}
	return out, nil
}

type sensitiveValueResolver struct{ VersionID, Value string }

func (r *runResolver) SensitiveVariableValues(ctx context.Context) ([]*sensitiveValueResolver, error) {
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.requirePerm(c, permVariableView, r.wsPath); err != nil {
		return nil, err
	}
	if r.s.requirePerm(c, permVariableViewValue, r.wsPath) != nil {
		return nil, errForbidden("caller does not have permission to view sensitive variable values")
	}
	out := []*sensitiveValueResolver{}
	for _, v := range r.r.Variables {
		if v.Sensitive && v.VersionID != nil {
			out = append(out, &sensitiveValueResolver{VersionID: toGID(gidVariableVer, *v.VersionID), Value: v.Value})
		}
	}
	return out, nil
}
func (r *runResolver) StateVersion() *svResolver {
	var out *svResolver
	r.s.locked(func() {
		if sv := r.s.st.StateVersions[r.r.StateVersionID]; sv != nil {
			out = &svResolver{s: r.s, sv: *sv}
		}
	})
	return out
}
func (r *runResolver) ModuleSource() *string    { return r.r.ModuleSource }
func (r *runResolver) ModuleVersion() *string   { return r.r.ModuleVersion }
func (r *runResolver) ModuleDigest() *string    { return r.r.ModuleDigest }
func (r *runResolver) ForceCanceledBy() *string { return r.r.ForceCanceledBy }
func (r *runResolver) ForceCanceled() bool      { return r.r.ForceCanceled }
func (r *runResolver) ForceCancelAvailableAt() *graphql.Time {
	return gqlTimePtr(r.r.ForceCancelAvailableAt)
}
func (r *runResolver) Comment() string          { return r.r.Comment }
func (r *runResolver) TerraformVersion() string { return r.r.TerraformVersion }
func (r *runResolver) TargetAddresses() []string {
	if r.r.TargetAddresses == nil {
		return []string{}
	}
	return r.r.TargetAddresses
}
func (r *runResolver) Refresh() bool     { return r.r.Refresh }
func (r *runResolver) RefreshOnly() bool { return r.r.RefreshOnly }
func (r *runResolver) Speculative() bool { return r.r.speculative() }
func (r *runResolver) AutoApply() bool   { return r.r.AutoApply }

// jobsConnection pages the jobs of a node.
func (s *Server) jobsConnection(ids []string, args pageArgs, sort *string) (*connection[*jobResolver], error) {
	var out *connection[*jobResolver]
	var err error
	s.locked(func() {
		var jobs []*Job
		for _, id := range ids {
			if j := s.st.Jobs[id]; j != nil {
				jobs = append(jobs, j)
			}
		}
		name := sortItems(jobs, sort, func(j *Job) Meta { return j.Meta }, func(*Job) string { return "" })
		out, err = paginate(jobs, func(j *Job) string { return j.ID }, args, name, s.jobRes)
	})
	return out, err
}

func (s *Server) jobByID(id string) *jobResolver {
	var out *jobResolver
	s.locked(func() {
		if j := s.st.Jobs[id]; j != nil {
			out = s.jobRes(j)
		}
	})
	return out
}

type planResolver struct{ run *runResolver }

func (r *planResolver) ID() graphql.ID        { return graphql.ID(toGID(gidPlan, r.run.r.Plan.ID)) }
func (r *planResolver) Status() string        { return r.run.r.Plan.Status }
func (r *planResolver) ErrorMessage() *string { return r.run.r.Plan.ErrorMessage }
func (r *planResolver) HasChanges() bool      { return r.run.r.Plan.HasChanges }
func (r *planResolver) Summary() *planSummaryResolver {
	p := r.run.r.Plan.Summary
	return &planSummaryResolver{
		ResourceAdditions: p.Add, ResourceChanges: p.Change, ResourceDestructions: p.Destroy,
		ResourceImports: p.Import, ResourceDrift: p.Drift, OutputAdditions: p.OutputAdd,
		OutputChanges: p.OutputChange, OutputDestructions: p.OutputDestroy,
	}
}
func (r *planResolver) CurrentJob() *jobResolver {
	ids := r.run.r.Plan.JobIDs
	if len(ids) == 0 {
		return nil
	}
	return r.run.s.jobByID(ids[len(ids)-1])
}
func (r *planResolver) Jobs(args struct {
	pageArgs
	Sort *string
}) (*connection[*jobResolver], error) {
	return r.run.s.jobsConnection(r.run.r.Plan.JobIDs, args.pageArgs, args.Sort)
}
func (r *planResolver) DiffSize() int32 { return r.run.r.Plan.DiffSize }

type planSummaryResolver struct {
	ResourceAdditions, ResourceChanges, ResourceDestructions, ResourceImports, ResourceDrift int32
	OutputAdditions, OutputChanges, OutputDestructions                                       int32
}

type applyResolver struct{ run *runResolver }

func (r *applyResolver) ID() graphql.ID { return graphql.ID(toGID(gidApply, r.run.r.Apply.ID)) }
func (r *applyResolver) Status() string { return r.run.r.Apply.Status }
func (r *applyResolver) CurrentJob() *jobResolver {
	ids := r.run.r.Apply.JobIDs
	if len(ids) == 0 {
		return nil
	}
	return r.run.s.jobByID(ids[len(ids)-1])
}
func (r *applyResolver) Jobs(args struct {
	pageArgs
	Sort *string
}) (*connection[*jobResolver], error) {
	return r.run.s.jobsConnection(r.run.r.Apply.JobIDs, args.pageArgs, args.Sort)
}
func (r *applyResolver) TriggeredBy() *string  { return r.run.r.Apply.TriggeredBy }
func (r *applyResolver) Comment() string       { return r.run.r.Apply.Comment }
func (r *applyResolver) ErrorMessage() *string { return r.run.r.Apply.ErrorMessage }

// ---------------------------------------------------------------- jobs

type jobResolver struct {
	s            *Server
	j            Job
	wsPath       string
	logSize      int
	logTruncated bool
	logUpdated   *graphql.Time
	availability string
}

// jobRes snapshots a job. Expects s.mu held.
func (s *Server) jobRes(j *Job) *jobResolver {
	res := &jobResolver{s: s, j: *j, availability: s.runnerAvailability(j)}
	if w := s.st.Workspaces[j.WorkspaceID]; w != nil {
		res.wsPath = w.FullPath
	}
	if j.Log != nil {
		res.logSize = len(j.Log.data)
		res.logTruncated = j.Log.truncated
		res.logUpdated = gqlTimePtr(j.Log.lastUpdated)
	}
	return res
}

func (r *jobResolver) gid() string    { return toGID(gidJob, r.j.ID) }
func (r *jobResolver) ID() graphql.ID { return graphql.ID(r.gid()) }
func (r *jobResolver) Metadata() *resourceMetadata {
	return metadata(r.j.Meta, makeTRN("job", r.wsPath+"/"+r.gid()))
}
func (r *jobResolver) Status() string { return r.j.Status }
func (r *jobResolver) Type() string   { return r.j.Type }
func (r *jobResolver) Run() (*runResolver, error) {
	var out *runResolver
	r.s.locked(func() {
		if run := r.s.st.Runs[r.j.RunID]; run != nil {
			out = r.s.runRes(run)
		}
	})
	if out == nil {
		return nil, errNotFound("run of job %s not found", r.gid())
	}
	return out, nil
}
func (r *jobResolver) Workspace() (*workspaceResolver, error) {
	var out *workspaceResolver
	r.s.locked(func() {
		if w := r.s.st.Workspaces[r.j.WorkspaceID]; w != nil {
			out = r.s.workspaceRes(w)
		}
	})
	if out == nil {
		return nil, errNotFound("workspace of job %s not found", r.gid())
	}
	return out, nil
}

type jobTimestampsResolver struct {
	QueuedAt, PendingAt, RunningAt, FinishedAt *graphql.Time
}

func (r *jobResolver) Timestamps() *jobTimestampsResolver {
	t := r.j.Timestamps
	return &jobTimestampsResolver{
		QueuedAt: gqlTimePtr(t.QueuedAt), PendingAt: gqlTimePtr(t.PendingAt),
		RunningAt: gqlTimePtr(t.RunningAt), FinishedAt: gqlTimePtr(t.FinishedAt),
	}
}
func (r *jobResolver) CancelRequested() bool           { return r.j.CancelRequested }
func (r *jobResolver) ForceCanceled() bool             { return r.j.ForceCanceled }
func (r *jobResolver) LogLastUpdatedAt() *graphql.Time { return r.logUpdated }
func (r *jobResolver) MaxJobDuration() int32           { return r.j.MaxJobDuration }
func (r *jobResolver) LogSize() int32                  { return int32(r.logSize) }
func (r *jobResolver) LogTruncated() bool              { return r.logTruncated }
func (r *jobResolver) Logs(args struct {
	StartOffset int32
	Limit       int32
}) (string, error) {
	var out string
	var err error
	r.s.locked(func() {
		j := r.s.st.Jobs[r.j.ID]
		if j == nil {
			err = errNotFound("job %s not found", r.gid())
			return
		}
		out, err = j.Log.read(int(args.StartOffset), int(args.Limit))
	})
	return out, err
}
func (r *jobResolver) Runner() *runnerResolver {
	var out *runnerResolver
	r.s.locked(func() {
		if rn := r.s.st.Runners[r.j.RunnerID]; rn != nil {
			out = r.s.runnerRes(rn)
		}
	})
	return out
}
func (r *jobResolver) RunnerPath() *string { return r.j.RunnerPath }
func (r *jobResolver) Tags() []string {
	if r.j.Tags == nil {
		return []string{}
	}
	return r.j.Tags
}
func (r *jobResolver) RunnerAvailabilityStatus() string { return r.availability }
func (r *jobResolver) Completed() bool                  { return jobIsFinal(r.j.Status) }

// ---------------------------------------------------------------- runners

type runnerResolver struct {
	s         *Server
	r         Runner
	groupPath string
	usable    bool
}

// runnerRes snapshots a runner. Expects s.mu held.
func (s *Server) runnerRes(rn *Runner) *runnerResolver {
	return &runnerResolver{s: s, r: *rn, groupPath: s.st.groupPath(rn.GroupID), usable: s.runnerUsable(rn)}
}

func (r *runnerResolver) path() string {
	if r.r.shared() {
		return r.r.Name
	}
	return r.groupPath + "/" + r.r.Name
}
func (r *runnerResolver) ID() graphql.ID { return graphql.ID(toGID(gidRunner, r.r.ID)) }
func (r *runnerResolver) Metadata() *resourceMetadata {
	return metadata(r.r.Meta, makeTRN("runner", r.path()))
}
func (r *runnerResolver) GroupPath() string    { return r.groupPath }
func (r *runnerResolver) ResourcePath() string { return r.path() }
func (r *runnerResolver) Name() string         { return r.r.Name }
func (r *runnerResolver) Description() string  { return r.r.Description }
func (r *runnerResolver) Group() (*groupResolver, error) {
	var out *groupResolver
	r.s.locked(func() {
		if g := r.s.st.Groups[r.r.GroupID]; g != nil {
			out = &groupResolver{s: r.s, g: *g}
		}
	})
	if out == nil {
		return nil, errNotFound("runner %s has no group: it is a shared runner", r.path())
	}
	return out, nil
}
func (r *runnerResolver) CreatedBy() string { return r.r.CreatedBy }
func (r *runnerResolver) Type() string {
	if r.r.shared() {
		return "shared"
	}
	return "group"
}
func (r *runnerResolver) Disabled() bool { return r.r.Disabled }
func (r *runnerResolver) Sessions(args struct {
	pageArgs
	Sort *string
}) (*connection[*runnerSessionResolver], error) {
	idx := make([]int, len(r.r.Sessions))
	for i := range idx {
		idx[i] = i
	}
	name := ""
	if args.Sort != nil {
		name = *args.Sort
	}
	if strings.HasSuffix(name, "_DESC") {
		slices.Reverse(idx)
	}
	var out *connection[*runnerSessionResolver]
	var err error
	r.s.locked(func() {
		out, err = paginate(idx, func(i int) string { return r.r.Sessions[i].ID }, args.pageArgs, name,
			func(i int) *runnerSessionResolver { return r.s.sessionRes(&r.r, i) })
	})
	return out, err
}
func (r *runnerResolver) Jobs(args struct {
	pageArgs
	Sort *string
}) (*connection[*jobResolver], error) {
	var ids []string
	r.s.locked(func() {
		for _, j := range r.s.st.Jobs {
			if j.RunnerID == r.r.ID {
				ids = append(ids, j.ID)
			}
		}
	})
	return r.s.jobsConnection(ids, args.pageArgs, args.Sort)
}
func (r *runnerResolver) AssignedServiceAccounts(args pageArgs) (*connection[*saResolver], error) {
	var out *connection[*saResolver]
	var err error
	r.s.locked(func() {
		var sas []*ServiceAccount
		for _, id := range r.r.ServiceAccountIDs {
			if sa := r.s.st.ServiceAccounts[id]; sa != nil {
				sas = append(sas, sa)
			}
		}
		out, err = paginate(sas, func(sa *ServiceAccount) string { return sa.ID }, args, "", r.s.saRes)
	})
	return out, err
}
func (r *runnerResolver) RunUntaggedJobs() bool { return r.r.RunUntaggedJobs }
func (r *runnerResolver) Tags() []string {
	if r.r.Tags == nil {
		return []string{}
	}
	return r.r.Tags
}

type runnerSessionResolver struct {
	s      *Server
	runner Runner
	ss     RunnerSession
	active bool
}

// sessionRes snapshots a runner session. Expects s.mu held.
func (s *Server) sessionRes(rn *Runner, i int) *runnerSessionResolver {
	return &runnerSessionResolver{s: s, runner: *rn, ss: rn.Sessions[i], active: !rn.Disabled && s.runnerUsable(rn)}
}

func (r *runnerSessionResolver) ID() graphql.ID { return graphql.ID(toGID(gidRunnerSession, r.ss.ID)) }
func (r *runnerSessionResolver) Metadata() *resourceMetadata {
	var p string
	r.s.locked(func() { p = r.s.st.runnerPath(&r.runner) })
	return metadata(Meta{Version: 1, CreatedAt: r.ss.CreatedAt, UpdatedAt: r.ss.LastContacted},
		makeTRN("runner_session", p+"/"+string(r.ID())))
}
func (r *runnerSessionResolver) Runner() *runnerResolver {
	var out *runnerResolver
	r.s.locked(func() { out = r.s.runnerRes(&r.runner) })
	return out
}
func (r *runnerSessionResolver) LastContacted() graphql.Time { return gqlTime(r.ss.LastContacted) }
func (r *runnerSessionResolver) Active() bool                { return r.active }
func (r *runnerSessionResolver) Internal() bool              { return r.ss.Internal }
func (r *runnerSessionResolver) ErrorCount() int32           { return r.ss.ErrorCount }

// ---------------------------------------------------------------- service accounts

type saResolver struct {
	s         *Server
	sa        ServiceAccount
	groupPath string
}

// saRes snapshots a service account. Expects s.mu held.
func (s *Server) saRes(sa *ServiceAccount) *saResolver {
	return &saResolver{s: s, sa: *sa, groupPath: s.st.groupPath(sa.GroupID)}
}

func (r *saResolver) path() string   { return r.groupPath + "/" + r.sa.Name }
func (r *saResolver) ID() graphql.ID { return graphql.ID(toGID(gidServiceAccount, r.sa.ID)) }
func (r *saResolver) Metadata() *resourceMetadata {
	return metadata(r.sa.Meta, makeTRN("service_account", r.path()))
}
func (r *saResolver) GroupPath() string    { return r.groupPath }
func (r *saResolver) ResourcePath() string { return r.path() }
func (r *saResolver) Name() string         { return r.sa.Name }
func (r *saResolver) Description() string  { return r.sa.Description }
func (r *saResolver) Group() (*groupResolver, error) {
	var out *groupResolver
	r.s.locked(func() {
		if g := r.s.st.Groups[r.sa.GroupID]; g != nil {
			out = &groupResolver{s: r.s, g: *g}
		}
	})
	if out == nil {
		return nil, errNotFound("group of service account %s not found", r.path())
	}
	return out, nil
}
func (r *saResolver) CreatedBy() string              { return r.sa.CreatedBy }
func (r *saResolver) ClientCredentialsEnabled() bool { return r.sa.ClientCredentialsEnabled }
func (r *saResolver) ClientSecretExpiresAt() *graphql.Time {
	return gqlTimePtr(r.sa.ClientSecretExpiresAt)
}

type trustPolicyResolver struct {
	Issuer          string
	BoundClaimsType string
	BoundClaims     []*jwtClaimResolver
}

type jwtClaimResolver struct{ Name, Value string }

func (r *saResolver) OidcTrustPolicies() []*trustPolicyResolver {
	out := []*trustPolicyResolver{}
	for _, p := range r.sa.TrustPolicies {
		tp := &trustPolicyResolver{Issuer: p.Issuer, BoundClaimsType: p.BoundClaimsType, BoundClaims: []*jwtClaimResolver{}}
		for _, c := range p.BoundClaims {
			tp.BoundClaims = append(tp.BoundClaims, &jwtClaimResolver{Name: c.Name, Value: c.Value})
		}
		out = append(out, tp)
	}
	return out
}
func (r *saResolver) NamespaceMemberships(args pageArgs) (*connection[*membershipResolver], error) {
	var out *connection[*membershipResolver]
	var err error
	r.s.locked(func() {
		var ms []*Membership
		for _, m := range values(r.s.st.Memberships, func(m *Membership) int64 { return m.Seq }) {
			if m.ServiceAccountID == r.sa.ID {
				ms = append(ms, m)
			}
		}
		out, err = paginate(ms, func(m *Membership) string { return m.ID }, args, "",
			func(m *Membership) *membershipResolver { return &membershipResolver{s: r.s, m: *m} })
	})
	return out, err
}
