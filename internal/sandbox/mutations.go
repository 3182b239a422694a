package sandbox

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/graph-gophers/graphql-go"
)

// Mutations answer like the real API: BAD_REQUEST, CONFLICT, NOT_FOUND,
// FORBIDDEN and SERVICE_UNAVAILABLE errors become the payload's single
// problem; any other error (UNAUTHENTICATED, OPTIMISTIC_LOCK, internal) is a
// top-level error and nulls the payload.

type problem struct {
	Message string
	Field   *[]string
	Type    string
}

type payloadBase struct {
	ClientMutationID *string
	Problems         []*problem
}

func base(id *string) payloadBase { return payloadBase{ClientMutationID: id, Problems: []*problem{}} }

// settle turns err into a problem when the real API would.
func (p *payloadBase) settle(err error) error {
	if err == nil {
		return nil
	}
	if t, ok := problemTypes[errorCode(err)]; ok {
		p.Problems = []*problem{{Message: err.Error(), Field: &[]string{}, Type: t}}
		return nil
	}
	return err
}

// mutate runs f with the caller and the server lock.
func (s *Server) mutate(ctx context.Context, f func(c *caller) error) error {
	c, err := authorize(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return f(c)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

type metadataInput struct{ Version string }

func checkVersion(m *metadataInput, cur int) error {
	if m != nil && m.Version != strconv.Itoa(cur) {
		return newErr(codeOptimistic, "resource version does not match specified version")
	}
	return nil
}

type runnerTagsInput struct {
	Inherit bool
	Tags    *[]string
}

func runnerTagsValue(in *runnerTagsInput) (*[]string, error) {
	if in == nil || in.Inherit {
		if in != nil && in.Tags != nil && len(*in.Tags) > 0 {
			return nil, errInvalid("runner tags cannot be specified when inherit is true")
		}
		return nil, nil
	}
	tags := []string{}
	if in.Tags != nil {
		tags = slices.Clone(*in.Tags)
	}
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	return &tags, nil
}

func validateTags(tags []string) error {
	if len(tags) > 10 {
		return errInvalid("cannot exceed 10 runner tags")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if !nameRE.MatchString(t) {
			return errInvalid("invalid runner tag %q", t)
		}
		if seen[t] {
			return errInvalid("duplicate runner tag %q", t)
		}
		seen[t] = true
	}
	return nil
}

// ---------------------------------------------------------------- workspaces

type labelInput struct{ Key, Value string }

func validateLabels(in *[]labelInput) ([]Label, error) {
	out := []Label{}
	if in == nil {
		return out, nil
	}
	if len(*in) > 10 {
		return nil, errInvalid("a workspace cannot have more than 10 labels")
	}
	seen := map[string]bool{}
	for _, l := range *in {
		if !nameRE.MatchString(l.Key) {
			return nil, errInvalid("invalid label key %q", l.Key)
		}
		if seen[l.Key] {
			return nil, errInvalid("duplicate label key %q", l.Key)
		}
		seen[l.Key] = true
		if n := len(l.Value); n < 1 || n > 255 || strings.Trim(l.Value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_ ") != "" {
			return nil, errInvalid("invalid label value %q: 1-255 letters, digits, '-', '_' and spaces", l.Value)
		}
		out = append(out, Label(l))
	}
	return out, nil
}

func validateMaxJobDuration(m *int32) error {
	if m != nil && (*m < 1 || *m > 1440) {
		return errInvalid("invalid maxJobDuration, must be between 1 and 1440 minutes")
	}
	return nil
}

func validateTerraformVersion(v *string) error {
	if v != nil && !slices.Contains(terraformVersions, *v) {
		return errInvalid("Unsupported Terraform version")
	}
	return nil
}

type workspacePayload struct {
	payloadBase
	Workspace *workspaceResolver
}

type createWorkspaceInput struct {
	ClientMutationID   *string
	Name               string
	Description        string
	GroupID            *string
	MaxJobDuration     *int32
	TerraformVersion   *string
	PreventDestroyPlan *bool
	RunnerTags         *runnerTagsInput
	Labels             *[]labelInput
}

func (q *root) CreateWorkspace(ctx context.Context, args struct{ Input createWorkspaceInput }) (*workspacePayload, error) {
	in := args.Input
	p := &workspacePayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		g, err := find[*Group](s, c, deref(in.GroupID), "group")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permWorkspaceCreate, g.FullPath); err != nil {
			return err
		}
		if err := firstErr(validateName(in.Name), validateDescription(in.Description),
			validateMaxJobDuration(in.MaxJobDuration), validateTerraformVersion(in.TerraformVersion)); err != nil {
			return err
		}
		labels, err := validateLabels(in.Labels)
		if err != nil {
			return err
		}
		tags, err := runnerTagsValue(in.RunnerTags)
		if err != nil {
			return err
		}
		if s.st.namespaceExists(g.FullPath + "/" + in.Name) {
			return errConflict("namespace %s/%s already exists", g.FullPath, in.Name)
		}
		w := s.newWorkspace(g, in.Name, in.Description, s.subject(c))
		if in.MaxJobDuration != nil {
			w.MaxJobDuration = *in.MaxJobDuration
		}
		if in.TerraformVersion != nil {
			w.TerraformVersion = *in.TerraformVersion
		}
		w.PreventDestroyPlan = deref(in.PreventDestroyPlan)
		w.Labels = labels
		w.RunnerTags = tags
		s.st.Workspaces[w.ID] = w
		p.Workspace = s.workspaceRes(w)
		return nil
	}))
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

type updateWorkspaceInput struct {
	ClientMutationID   *string
	ID                 *string
	Metadata           *metadataInput
	Description        *string
	MaxJobDuration     *int32
	TerraformVersion   *string
	PreventDestroyPlan *bool
	RunnerTags         *runnerTagsInput
	Labels             *[]labelInput
}

func (q *root) UpdateWorkspace(ctx context.Context, args struct{ Input updateWorkspaceInput }) (*workspacePayload, error) {
	in := args.Input
	p := &workspacePayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		w, err := find[*Workspace](s, c, deref(in.ID), "workspace")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permWorkspaceUpdate, w.FullPath); err != nil {
			return err
		}
		if err := checkVersion(in.Metadata, w.Version); err != nil {
			return err
		}
		if in.Description != nil {
			if err := validateDescription(*in.Description); err != nil {
				return err
			}
		}
		if err := firstErr(validateMaxJobDuration(in.MaxJobDuration), validateTerraformVersion(in.TerraformVersion)); err != nil {
			return err
		}
		var labels []Label
		if in.Labels != nil {
			if labels, err = validateLabels(in.Labels); err != nil {
				return err
			}
		}
		var tags *[]string
		if in.RunnerTags != nil {
			if tags, err = runnerTagsValue(in.RunnerTags); err != nil {
				return err
			}
			w.RunnerTags = tags
		}
		if in.Description != nil {
			w.Description = *in.Description
		}
		if in.MaxJobDuration != nil {
			w.MaxJobDuration = *in.MaxJobDuration
		}
		if in.TerraformVersion != nil {
			w.TerraformVersion = *in.TerraformVersion
		}
		if in.PreventDestroyPlan != nil {
			w.PreventDestroyPlan = *in.PreventDestroyPlan
		}
		if in.Labels != nil {
			w.Labels = labels
		}
		touch(&w.Meta, s.now())
		p.Workspace = s.workspaceRes(w)
		return nil
	}))
}

type deleteInput struct {
	ClientMutationID *string
	ID               *string
	Force            *bool
	Metadata         *metadataInput
}

func (q *root) DeleteWorkspace(ctx context.Context, args struct{ Input deleteInput }) (*workspacePayload, error) {
	in := args.Input
	p := &workspacePayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		w, err := find[*Workspace](s, c, deref(in.ID), "workspace")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permWorkspaceDelete, w.FullPath); err != nil {
			return err
		}
		if err := checkVersion(in.Metadata, w.Version); err != nil {
			return err
		}
		if !deref(in.Force) {
			if err := s.checkWorkspaceDestroyed(w); err != nil {
				return err
			}
		}
		p.Workspace = s.workspaceRes(w)
		s.deleteWorkspace(w)
		return nil
	}))
}

// checkWorkspaceDestroyed keeps a workspace with deployed resources from
// being deleted without force, as the real API does.
func (s *Server) checkWorkspaceDestroyed(w *Workspace) error {
	sv := s.st.StateVersions[w.CurrentStateVersionID]
	if sv == nil {
		return nil
	}
	if sv.RunID == "" {
		return errConflict("current state version was not created by a destroy run")
	}
	if r := s.st.Runs[sv.RunID]; r == nil || !r.IsDestroy {
		return errConflict("run associated with the current state version was not a destroy run")
	}
	return nil
}

// deleteWorkspace removes a workspace and everything in it, stopping its jobs.
func (s *Server) deleteWorkspace(w *Workspace) {
	for id, j := range s.st.Jobs {
		if j.WorkspaceID == w.ID {
			if ctl := s.ctl[id]; ctl != nil {
				ctl.cancel()
			}
			j.Log.complete()
			delete(s.st.Jobs, id)
		}
	}
	for id, r := range s.st.Runs {
		if r.WorkspaceID == w.ID {
			delete(s.st.Runs, id)
		}
	}
	for id, cv := range s.st.ConfigVersions {
		if cv.WorkspaceID == w.ID {
			delete(s.st.ConfigVersions, id)
		}
	}
	for id, sv := range s.st.StateVersions {
		if sv.WorkspaceID == w.ID {
			delete(s.st.StateVersions, id)
		}
	}
	s.deleteNamespaceData(w.FullPath)
	s.deleteWorkspaceVCS(w.ID)
	delete(s.st.Workspaces, w.ID)
}

func (s *Server) deleteNamespaceData(path string) {
	for id, m := range s.st.Memberships {
		if m.NamespacePath == path {
			delete(s.st.Memberships, id)
		}
	}
	for id, v := range s.st.Variables {
		if v.NamespacePath == path {
			delete(s.st.Variables, id)
		}
	}
}

type workspaceIDInput struct {
	ClientMutationID *string
	WorkspaceID      *string
}

func (q *root) LockWorkspace(ctx context.Context, args struct{ Input workspaceIDInput }) (*workspacePayload, error) {
	in := args.Input
	p := &workspacePayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		w, err := find[*Workspace](s, c, deref(in.WorkspaceID), "workspace")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permWorkspaceUpdate, w.FullPath); err != nil {
			return err
		}
		if w.Locked {
			return errConflict("workspace already locked")
		}
		if w.CurrentApplyRunID != "" {
			return errConflict("cannot lock workspace with an apply run in progress")
		}
		w.Locked = true
		touch(&w.Meta, s.now())
		p.Workspace = s.workspaceRes(w)
		return nil
	}))
}

func (q *root) UnlockWorkspace(ctx context.Context, args struct{ Input workspaceIDInput }) (*workspacePayload, error) {
	in := args.Input
	p := &workspacePayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		w, err := find[*Workspace](s, c, deref(in.WorkspaceID), "workspace")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permWorkspaceUpdate, w.FullPath); err != nil {
			return err
		}
		if !w.Locked {
			return errConflict("workspace already unlocked")
		}
		w.Locked = false
		touch(&w.Meta, s.now())
		s.admit(w.ID)
		p.Workspace = s.workspaceRes(w)
		return nil
	}))
}

type runPayload struct {
	payloadBase
	Run *runResolver
}

func (q *root) DestroyWorkspace(ctx context.Context, args struct{ Input workspaceIDInput }) (*runPayload, error) {
	in := args.Input
	p := &runPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		w, err := find[*Workspace](s, c, deref(in.WorkspaceID), "workspace")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permRunCreate, w.FullPath); err != nil {
			return err
		}
		sv := s.st.StateVersions[w.CurrentStateVersionID]
		if sv == nil {
			return errConflict("workspace has no current state version")
		}
		if sv.RunID == "" {
			return errConflict("current state version was created manually and has no module or configuration version associated")
		}
		src := s.st.Runs[sv.RunID]
		if src == nil {
			return errNotFound("run with ID %s not found", toGID(gidRun, sv.RunID))
		}
		if w.PreventDestroyPlan {
			return errForbidden("Workspace does not allow destroy plan")
		}
		r := s.newRun(c, w, false)
		r.IsDestroy = true
		r.ConfigurationVersionID = src.ConfigurationVersionID
		r.ModuleSource, r.TerraformVersion = src.ModuleSource, src.TerraformVersion
		if src.ModuleSource != nil {
			ver, dig, err := s.mods.resolve(*src.ModuleSource, src.ModuleVersion, false)
			if err != nil {
				return err
			}
			r.ModuleVersion, r.ModuleDigest = &ver, &dig
		}
		for _, v := range src.Variables {
			v.NamespacePath = nil
			r.Variables = append(r.Variables, v)
		}
		if err := s.insertRun(r); err != nil {
			return err
		}
		p.Run = s.runRes(r)
		return nil
	}))
}

// ---------------------------------------------------------------- groups

type groupPayload struct {
	payloadBase
	Group *groupResolver
}

type createGroupInput struct {
	ClientMutationID *string
	Name             string
	ParentID         *string
	Description      string
	RunnerTags       *runnerTagsInput
}

func (q *root) CreateGroup(ctx context.Context, args struct{ Input createGroupInput }) (*groupPayload, error) {
	in := args.Input
	p := &groupPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		parentPath, parentID := "", ""
		if in.ParentID != nil {
			pg, err := find[*Group](s, c, *in.ParentID, "group")
			if err != nil {
				return err
			}
			if err := s.requirePerm(c, permGroupCreate, pg.FullPath); err != nil {
				return err
			}
			parentPath, parentID = pg.FullPath, pg.ID
		} else {
			if c.userID == "" {
				return errForbidden("Unsupported caller type, only users are allowed to create top-level groups")
			}
			if !s.adminMode(c) {
				return errForbidden("only admins with admin mode activated can create top-level groups")
			}
		}
		if err := firstErr(validateName(in.Name), validateDescription(in.Description)); err != nil {
			return err
		}
		tags, err := runnerTagsValue(in.RunnerTags)
		if err != nil {
			return err
		}
		full := in.Name
		if parentPath != "" {
			full = parentPath + "/" + in.Name
		}
		if s.st.namespaceExists(full) {
			return errConflict("namespace %s already exists", full)
		}
		now := s.now()
		g := &Group{Meta: s.st.newMeta(now), Name: in.Name, Description: in.Description, FullPath: full,
			ParentID: parentID, CreatedBy: s.subject(c), RunnerTags: tags}
		s.st.Groups[g.ID] = g
		if parentID == "" {
			// The creator of a top-level group becomes its owner.
			m := &Membership{Meta: s.st.newMeta(now), NamespacePath: full, UserID: c.userID, Role: "owner"}
			s.st.Memberships[m.ID] = m
		}
		p.Group = &groupResolver{s: s, g: *g}
		return nil
	}))
}

type updateGroupInput struct {
	ClientMutationID *string
	ID               *string
	Description      *string
	Metadata         *metadataInput
	RunnerTags       *runnerTagsInput
}

func (q *root) UpdateGroup(ctx context.Context, args struct{ Input updateGroupInput }) (*groupPayload, error) {
	in := args.Input
	p := &groupPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		g, err := find[*Group](s, c, deref(in.ID), "group")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permGroupUpdate, g.FullPath); err != nil {
			return err
		}
		if err := checkVersion(in.Metadata, g.Version); err != nil {
			return err
		}
		if in.Description != nil {
			if err := validateDescription(*in.Description); err != nil {
				return err
			}
			g.Description = *in.Description
		}
		if in.RunnerTags != nil {
			tags, err := runnerTagsValue(in.RunnerTags)
			if err != nil {
				return err
			}
			g.RunnerTags = tags
		}
		touch(&g.Meta, s.now())
		p.Group = &groupResolver{s: s, g: *g}
		return nil
	}))
}

func (q *root) DeleteGroup(ctx context.Context, args struct{ Input deleteInput }) (*groupPayload, error) {
	in := args.Input
	p := &groupPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		g, err := find[*Group](s, c, deref(in.ID), "group")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permGroupDelete, g.FullPath); err != nil {
			return err
		}
		if err := checkVersion(in.Metadata, g.Version); err != nil {
			return err
		}
		var subgroups []*Group
		var workspaces []*Workspace
		for _, sg := range s.st.Groups {
			if strings.HasPrefix(sg.FullPath, g.FullPath+"/") {
				subgroups = append(subgroups, sg)
			}
		}
		for _, w := range s.st.Workspaces {
			if strings.HasPrefix(w.FullPath, g.FullPath+"/") {
				workspaces = append(workspaces, w)
			}
		}
		if !deref(in.Force) {
			if len(subgroups) > 0 {
				return errConflict("This group can't be deleted because it contains subgroups, use the force option to automatically delete all subgroups.")
			}
			if len(workspaces) > 0 {
				return errConflict("This group can't be deleted because it contains workspaces, use the force option to automatically delete all workspaces in this group.")
			}
		}
		p.Group = &groupResolver{s: s, g: *g}
		for _, w := range workspaces {
			s.deleteWorkspace(w)
		}
		for _, sg := range append(subgroups, g) {
			s.deleteGroupData(sg)
		}
		return nil
	}))
}

func (s *Server) deleteGroupData(g *Group) {
	for id, r := range s.st.Runners {
		if r.GroupID == g.ID {
			delete(s.st.Runners, id)
		}
	}
	for id, sa := range s.st.ServiceAccounts {
		if sa.GroupID == g.ID {
			s.deleteServiceAccount(s.st.ServiceAccounts[id])
		}
	}
	s.deleteNamespaceData(g.FullPath)
	s.deleteGroupModules(g.ID)
	delete(s.st.Groups, g.ID)
}

// ---------------------------------------------------------------- configuration versions and runs

type cvPayload struct {
	payloadBase
	ConfigurationVersion *cvResolver
}

type createCVInput struct {
	ClientMutationID *string
	WorkspaceID      *string
	Speculative      *bool
}

func (q *root) CreateConfigurationVersion(ctx context.Context, args struct{ Input createCVInput }) (*cvPayload, error) {
	in := args.Input
	p := &cvPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		w, err := find[*Workspace](s, c, deref(in.WorkspaceID), "workspace")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permCVCreate, w.FullPath); err != nil {
			return err
		}
		cv := &ConfigurationVersion{Meta: s.st.newMeta(s.now()), WorkspaceID: w.ID, Status: "pending",
			Speculative: deref(in.Speculative), CreatedBy: s.subject(c)}
		s.st.ConfigVersions[cv.ID] = cv
		p.ConfigurationVersion = &cvResolver{s: s, cv: *cv}
		return nil
	}))
}

type runVariableInput struct {
	Category string
	Hcl      *bool
	Key      string
	Value    string
}

type createRunInput struct {
	ClientMutationID         *string
	WorkspaceID              *string
	ConfigurationVersionID   *string
	IsDestroy                *bool
	ModuleSource             *string
	ModuleVersion            *string
	Comment                  *string
	TerraformVersion         *string
	Variables                *[]runVariableInput
	TargetAddresses          *[]string
	Refresh                  *bool
	RefreshOnly              *bool
	Speculative              *bool
	AutoApply                *bool
	IncludeModulePrereleases *bool
}

func (in createRunInput) validate() error {
	cv, src := in.ConfigurationVersionID != nil, in.ModuleSource != nil
	switch {
	case !cv && !src:
		return errInvalid("must supply either configuration version ID or module source")
	case cv && src:
		return errInvalid("must supply configuration version ID or module source but not both")
	case cv && in.ModuleVersion != nil:
		return errInvalid("must supply configuration version ID or module version but not both")
	case in.ModuleVersion != nil && !src:
		return errInvalid("module version is not allowed without module source")
	case in.IncludeModulePrereleases != nil && *in.IncludeModulePrereleases && !src:
		return errInvalid("includeModulePrereleases is not allowed without module source")
	}
	if v := in.ModuleVersion; v != nil {
		switch strings.TrimSpace(*v) {
		case "":
			return errInvalid("module version cannot be empty; please specify a valid semantic version")
		case "latest":
			return errInvalid("'latest' is not a valid module version; please specify a valid semantic version")
		}
	}
	if deref(in.RefreshOnly) && deref(in.IsDestroy) {
		return errInvalid("refresh_only is not allowed with destroy")
	}
	return nil
}

// newRun makes a run of w in status pending with its plan (and, unless
// speculative, apply) node. Expects s.mu held.
func (s *Server) newRun(c *caller, w *Workspace, speculative bool) *Run {
	now := s.now()
	r := &Run{
		Meta: s.st.newMeta(now), WorkspaceID: w.ID, CreatedBy: s.subject(c), Status: runPending,
		TerraformVersion: w.TerraformVersion, Refresh: true, TargetAddresses: []string{},
		Plan: Plan{ID: newID(), Status: nodeCreated, UpdatedAt: now},
	}
	if !speculative {
		r.Apply = &Apply{ID: newID(), Status: nodeCreated, UpdatedAt: now}
	}
	return r
}

// runVariables merges inherited namespace variables (the closest namespace
// wins) with the run's own, which take precedence.
func (s *Server) runVariables(w *Workspace, in *[]runVariableInput) []RunVariable {
	type key struct{ cat, key string }
	merged := map[key]RunVariable{}
	var order []key
	put := func(k key, v RunVariable) {
		if _, ok := merged[k]; !ok {
			order = append(order, k)
		}
		merged[k] = v
	}
	anc := ancestors(w.FullPath)
	slices.Reverse(anc) // farthest first, so closer namespaces overwrite
	for _, p := range anc {
		for _, v := range values(s.st.Variables, func(v *NamespaceVariable) int64 { return v.Seq }) {
			if v.NamespacePath == p {
				ns, ver := v.NamespacePath, v.VersionID
				put(key{v.Category, v.Key}, RunVariable{NamespacePath: &ns, Category: v.Category, Key: v.Key,
					Value: v.Value, Sensitive: v.Sensitive, VersionID: &ver})
			}
		}
	}
	if in != nil {
		for _, v := range *in {
			put(key{v.Category, v.Key}, RunVariable{Category: v.Category, Key: v.Key, Value: v.Value})
		}
	}
	out := []RunVariable{}
	for _, k := range order {
		out = append(out, merged[k])
	}
	return out
}

func (q *root) CreateRun(ctx context.Context, args struct{ Input createRunInput }) (*runPayload, error) {
	in := args.Input
	p := &runPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		w, err := find[*Workspace](s, c, deref(in.WorkspaceID), "workspace")
		if err != nil {
			return err
		}
		if err := in.validate(); err != nil {
			return err
		}
		if err := s.requirePerm(c, permRunCreate, w.FullPath); err != nil {
			return err
		}
		if err := validateTerraformVersion(in.TerraformVersion); err != nil {
			return err
		}
		if deref(in.IsDestroy) && w.PreventDestroyPlan {
			return errForbidden("Workspace does not allow destroy plan")
		}
		speculative := deref(in.Speculative)
		var cv *ConfigurationVersion
		if in.ConfigurationVersionID != nil {
			obj, err := s.lookup(*in.ConfigurationVersionID)
			if err != nil {
				return err
			}
			var ok bool
			if cv, ok = obj.(*ConfigurationVersion); !ok {
				// The real API fails here with an internal error.
				return fmt.Errorf("configuration version %s not found", *in.ConfigurationVersionID)
			}
			if in.Speculative == nil {
				speculative = cv.Speculative
			} else if cv.Speculative && !*in.Speculative {
				return errInvalid("Speculative configuration version does not allow non-speculative runs")
			}
		}
		r := s.newRun(c, w, speculative)
		if cv != nil {
			r.ConfigurationVersionID = cv.ID
		}
		if in.ModuleSource != nil {
			var constraint *string
			if in.ModuleVersion != nil {
				v := strings.TrimSpace(*in.ModuleVersion)
				if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
					v = v[1:]
				}
				constraint = &v
			}
			ver, dig, err := s.mods.resolve(*in.ModuleSource, constraint, deref(in.IncludeModulePrereleases))
			if err != nil {
				return err
			}
			src := *in.ModuleSource
			r.ModuleSource, r.ModuleVersion, r.ModuleDigest = &src, &ver, &dig
		}
		r.IsDestroy = deref(in.IsDestroy)
		r.Comment = deref(in.Comment)
		if in.TerraformVersion != nil {
			r.TerraformVersion = *in.TerraformVersion
		}
		if in.TargetAddresses != nil {
			r.TargetAddresses = slices.Clone(*in.TargetAddresses)
		}
		if in.Refresh != nil {
			r.Refresh = *in.Refresh
		}
		r.RefreshOnly = deref(in.RefreshOnly)
		r.AutoApply = deref(in.AutoApply) && !speculative
		r.Variables = s.runVariables(w, in.Variables)
		if err := s.insertRun(r); err != nil {
			return err
		}
		p.Run = s.runRes(r)
		return nil
	}))
}

// runAction finds a run the caller may act on (run:create on its workspace).
func (s *Server) runAction(c *caller, id string) (*Run, error) {
	r, err := find[*Run](s, c, id, "run")
	if err != nil {
		return nil, err
	}
	if err := s.requirePerm(c, permRunCreate, s.st.Workspaces[r.WorkspaceID].FullPath); err != nil {
		return nil, err
	}
	return r, nil
}

type applyRunInput struct {
	ClientMutationID *string
	RunID            string
	Comment          *string
}

func (q *root) ApplyRun(ctx context.Context, args struct{ Input applyRunInput }) (*runPayload, error) {
	in := args.Input
	p := &runPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		r, err := s.runAction(c, in.RunID)
		if err != nil {
			return err
		}
		if err := s.applyRun(c, r, in.Comment); err != nil {
			return err
		}
		p.Run = s.runRes(r)
		return nil
	}))
}

type cancelRunInput struct {
	ClientMutationID *string
	RunID            string
	Comment          *string
	Force            *bool
}

func (q *root) CancelRun(ctx context.Context, args struct{ Input cancelRunInput }) (*runPayload, error) {
	in := args.Input
	p := &runPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		r, err := s.runAction(c, in.RunID)
		if err != nil {
			return err
		}
		if err := s.cancelRun(c, r, deref(in.Force)); err != nil {
			return err
		}
		p.Run = s.runRes(r)
		return nil
	}))
}

type discardRunInput struct {
	ClientMutationID *string
	RunID            string
}

func (q *root) DiscardRun(ctx context.Context, args struct{ Input discardRunInput }) (*runPayload, error) {
	in := args.Input
	p := &runPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		r, err := s.runAction(c, in.RunID)
		if err != nil {
			return err
		}
		if err := s.discardRun(r); err != nil {
			return err
		}
		p.Run = s.runRes(r)
		return nil
	}))
}

// ---------------------------------------------------------------- runners

type runnerPayload struct {
	payloadBase
	Runner *runnerResolver
}

type createRunnerInput struct {
	ClientMutationID *string
	Name             string
	Description      string
	GroupID          *string
	Disabled         *bool
	RunUntaggedJobs  bool
	Tags             []string
}

func validateRunnerTags(tags []string, untagged bool) error {
	if err := validateTags(tags); err != nil {
		return err
	}
	if len(tags) == 0 && !untagged {
		return errInvalid("runner must have at least one tag when it does not run untagged jobs")
	}
	return nil
}

func (q *root) CreateRunner(ctx context.Context, args struct{ Input createRunnerInput }) (*runnerPayload, error) {
	in := args.Input
	p := &runnerPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		if in.GroupID == nil {
			return errInvalid("shared runners cannot be created with the API: a group ID is required")
		}
		g, err := find[*Group](s, c, *in.GroupID, "group")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permRunnerCreate, g.FullPath); err != nil {
			return err
		}
		if err := firstErr(validateName(in.Name), validateDescription(in.Description),
			validateRunnerTags(in.Tags, in.RunUntaggedJobs)); err != nil {
			return err
		}
		if s.st.runnerByPath(g.FullPath+"/"+in.Name) != nil {
			return errConflict("runner with name %s already exists in group %s", in.Name, g.FullPath)
		}
		rn := &Runner{Meta: s.st.newMeta(s.now()), Name: in.Name, Description: in.Description, GroupID: g.ID,
			CreatedBy: s.subject(c), Disabled: deref(in.Disabled), RunUntaggedJobs: in.RunUntaggedJobs,
			Tags: slices.Clone(in.Tags)}
		s.st.Runners[rn.ID] = rn
		s.runnerChanged(rn)
		p.Runner = s.runnerRes(rn)
		return nil
	}))
}

// runnerChanged starts the runner's agent session once it can log in and
// offers it the queued jobs.
func (s *Server) runnerChanged(rn *Runner) {
	if !rn.Disabled && s.runnerUsable(rn) && len(rn.Sessions) == 0 {
		now := s.now()
		rn.Sessions = []RunnerSession{{ID: newID(), CreatedAt: now, LastContacted: now}}
	}
	s.dispatch()
}

type updateRunnerInput struct {
	ClientMutationID *string
	ID               graphql.ID
	Metadata         *metadataInput
	Description      string
	Disabled         *bool
	RunUntaggedJobs  *bool
	Tags             *[]string
}

// runnerForUpdate finds a runner the caller may change; shared runners need
// admin mode.
func (s *Server) runnerForUpdate(c *caller, id, perm string) (*Runner, error) {
	rn, err := find[*Runner](s, c, id, "runner")
	if err != nil {
		return nil, err
	}
	if rn.shared() {
		if !s.adminMode(c) {
			return nil, errForbidden("only admins with admin mode activated can modify shared runners")
		}
		return rn, nil
	}
	return rn, s.requirePerm(c, perm, s.st.groupPath(rn.GroupID))
}

func (q *root) UpdateRunner(ctx context.Context, args struct{ Input updateRunnerInput }) (*runnerPayload, error) {
	in := args.Input
	p := &runnerPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		rn, err := s.runnerForUpdate(c, string(in.ID), permRunnerUpdate)
		if err != nil {
			return err
		}
		if err := checkVersion(in.Metadata, rn.Version); err != nil {
			return err
		}
		tags, untagged := rn.Tags, rn.RunUntaggedJobs
		if in.Tags != nil {
			tags = slices.Clone(*in.Tags)
		}
		if in.RunUntaggedJobs != nil {
			untagged = *in.RunUntaggedJobs
		}
		if err := firstErr(validateDescription(in.Description), validateRunnerTags(tags, untagged)); err != nil {
			return err
		}
		rn.Description, rn.Tags, rn.RunUntaggedJobs = in.Description, tags, untagged
		if in.Disabled != nil {
			rn.Disabled = *in.Disabled
		}
		touch(&rn.Meta, s.now())
		s.runnerChanged(rn)
		p.Runner = s.runnerRes(rn)
		return nil
	}))
}

type deleteByIDInput struct {
	ClientMutationID *string
	ID               graphql.ID
	Metadata         *metadataInput
}

func (q *root) DeleteRunner(ctx context.Context, args struct{ Input deleteByIDInput }) (*runnerPayload, error) {
	in := args.Input
	p := &runnerPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		rn, err := s.runnerForUpdate(c, string(in.ID), permRunnerDelete)
		if err != nil {
			return err
		}
		if err := checkVersion(in.Metadata, rn.Version); err != nil {
			return err
		}
		p.Runner = s.runnerRes(rn)
		delete(s.st.Runners, rn.ID)
		return nil
	}))
}

type assignSAPayload struct {
	payloadBase
	Runner         *runnerResolver
	ServiceAccount *saResolver
}

type assignSAInput struct {
	ClientMutationID *string
	RunnerID         *string
	ServiceAccountID *string
}

func (q *root) AssignServiceAccountToRunner(ctx context.Context, args struct{ Input assignSAInput }) (*assignSAPayload, error) {
	return q.s.assignSA(ctx, args.Input, true)
}

func (q *root) UnassignServiceAccountFromRunner(ctx context.Context, args struct{ Input assignSAInput }) (*assignSAPayload, error) {
	return q.s.assignSA(ctx, args.Input, false)
}

func (s *Server) assignSA(ctx context.Context, in assignSAInput, assign bool) (*assignSAPayload, error) {
	p := &assignSAPayload{payloadBase: base(in.ClientMutationID)}
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		rn, err := find[*Runner](s, c, deref(in.RunnerID), "runner")
		if err != nil {
			return err
		}
		sa, err := find[*ServiceAccount](s, c, deref(in.ServiceAccountID), "service account")
		if err != nil {
			return err
		}
		if rn.shared() {
			return errInvalid("service account cannot be assigned to shared runner")
		}
		rp := s.st.groupPath(rn.GroupID)
		if err := s.requirePerm(c, permRunnerUpdate, rp); err != nil {
			return err
		}
		has := slices.Contains(rn.ServiceAccountIDs, sa.ID)
		if assign {
			if !isWithin(rp, s.st.groupPath(sa.GroupID)) {
				return errInvalid("service account %s cannot be assigned to runner %s", s.st.saPath(sa), s.st.runnerPath(rn))
			}
			if has {
				return errConflict("service account already assigned to runner")
			}
			rn.ServiceAccountIDs = append(slices.Clone(rn.ServiceAccountIDs), sa.ID)
		} else {
			// Unassigning what is not assigned succeeds, as on the real API
			// (it deletes no row and reports nothing).
			rn.ServiceAccountIDs = slices.DeleteFunc(slices.Clone(rn.ServiceAccountIDs), func(id string) bool { return id == sa.ID })
		}
		touch(&rn.Meta, s.now())
		s.runnerChanged(rn)
		p.Runner, p.ServiceAccount = s.runnerRes(rn), s.saRes(sa)
		return nil
	}))
}

// ---------------------------------------------------------------- service accounts

type jwtClaimInput struct{ Name, Value string }

type trustPolicyInput struct {
	Issuer          string
	BoundClaimsType *string
	BoundClaims     []jwtClaimInput
}

func trustPolicies(in []trustPolicyInput, clientCredentials bool) ([]TrustPolicy, error) {
	if len(in) == 0 && !clientCredentials {
		return nil, errInvalid("at least one OIDC trust policy or client credentials must be configured")
	}
	if len(in) > 10 {
		return nil, errInvalid("a service account cannot have more than 10 OIDC trust policies")
	}
	out := []TrustPolicy{}
	for _, p := range in {
		u, err := url.Parse(p.Issuer)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, errInvalid("OIDC trust policy issuer %q is not a valid URL", p.Issuer)
		}
		if len(p.BoundClaims) == 0 {
			return nil, errInvalid("OIDC trust policy for issuer %s must have at least one bound claim", p.Issuer)
		}
		typ := "STRING"
		if p.BoundClaimsType != nil {
			typ = *p.BoundClaimsType
		}
		tp := TrustPolicy{Issuer: p.Issuer, BoundClaimsType: typ}
		seen := map[string]bool{}
		for _, c := range p.BoundClaims {
			if seen[c.Name] {
				return nil, errInvalid("claim %s appears more than once in the OIDC trust policy for issuer %s", c.Name, p.Issuer)
			}
			seen[c.Name] = true
			if typ == "GLOB" && strings.Trim(c.Value, "*") == "" {
				return nil, errInvalid("glob claim %s cannot only contain wildcards", c.Name)
			}
			tp.BoundClaims = append(tp.BoundClaims, JWTClaim(c))
		}
		out = append(out, tp)
	}
	return out, nil
}

// secretExpiry checks a client secret expiry: between 1 and 90 days ahead,
// 90 days by default.
func (s *Server) secretExpiry(t *graphql.Time) (time.Time, error) {
	now := s.now()
	if t == nil {
		return now.Add(90 * 24 * time.Hour), nil
	}
	if t.Time.Before(now.Add(24*time.Hour)) || t.Time.After(now.Add(90*24*time.Hour)) {
		return time.Time{}, errInvalid("client secret expiration must be between 1 and 90 days from now")
	}
	return t.Time.UTC(), nil
}

type saPayload struct {
	payloadBase
	ServiceAccount *saResolver
	ClientSecret   *string
}

type createSAInput struct {
	ClientMutationID        *string
	Name                    string
	Description             string
	GroupID                 *string
	EnableClientCredentials bool
	ClientSecretExpiresAt   *graphql.Time
	OidcTrustPolicies       []trustPolicyInput
}

func (q *root) CreateServiceAccount(ctx context.Context, args struct{ Input createSAInput }) (*saPayload, error) {
	in := args.Input
	p := &saPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		g, err := find[*Group](s, c, deref(in.GroupID), "group")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permServiceAccountNew, g.FullPath); err != nil {
			return err
		}
		if err := firstErr(validateName(in.Name), validateDescription(in.Description)); err != nil {
			return err
		}
		policies, err := trustPolicies(in.OidcTrustPolicies, in.EnableClientCredentials)
		if err != nil {
			return err
		}
		if s.st.serviceAccountByPath(g.FullPath+"/"+in.Name) != nil {
			return errConflict("Service account with name %s already exists in group %s", in.Name, g.FullPath)
		}
		sa := &ServiceAccount{Meta: s.st.newMeta(s.now()), Name: in.Name, Description: in.Description, GroupID: g.ID,
			CreatedBy: s.subject(c), TrustPolicies: policies}
		if in.EnableClientCredentials {
			secret, err := s.resetClientSecret(sa, in.ClientSecretExpiresAt)
			if err != nil {
				return err
			}
			p.ClientSecret = &secret
		}
		s.st.ServiceAccounts[sa.ID] = sa
		p.ServiceAccount = s.saRes(sa)
		return nil
	}))
}

type updateSAInput struct {
	ClientMutationID        *string
	ID                      graphql.ID
	Metadata                *metadataInput
	Description             string
	EnableClientCredentials *bool
	ClientSecretExpiresAt   *graphql.Time
	OidcTrustPolicies       []trustPolicyInput
}

func (q *root) UpdateServiceAccount(ctx context.Context, args struct{ Input updateSAInput }) (*saPayload, error) {
	in := args.Input
	p := &saPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		sa, err := find[*ServiceAccount](s, c, string(in.ID), "service account")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permServiceAccountUpd, s.st.groupPath(sa.GroupID)); err != nil {
			return err
		}
		if err := firstErr(checkVersion(in.Metadata, sa.Version), validateDescription(in.Description)); err != nil {
			return err
		}
		enable := sa.ClientCredentialsEnabled
		if in.EnableClientCredentials != nil {
			enable = *in.EnableClientCredentials
		}
		policies, err := trustPolicies(in.OidcTrustPolicies, enable)
		if err != nil {
			return err
		}
		if enable && !sa.ClientCredentialsEnabled {
			secret, err := s.resetClientSecret(sa, in.ClientSecretExpiresAt)
			if err != nil {
				return err
			}
			p.ClientSecret = &secret
		} else if !enable {
			sa.ClientCredentialsEnabled, sa.ClientSecretHash, sa.ClientSecretExpiresAt = false, nil, nil
		}
		sa.Description, sa.TrustPolicies = in.Description, policies
		touch(&sa.Meta, s.now())
		p.ServiceAccount = s.saRes(sa)
		return nil
	}))
}

func (q *root) DeleteServiceAccount(ctx context.Context, args struct{ Input deleteByIDInput }) (*saPayload, error) {
	in := args.Input
	p := &saPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		sa, err := find[*ServiceAccount](s, c, string(in.ID), "service account")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permServiceAccountDel, s.st.groupPath(sa.GroupID)); err != nil {
			return err
		}
		if err := checkVersion(in.Metadata, sa.Version); err != nil {
			return err
		}
		p.ServiceAccount = s.saRes(sa)
		s.deleteServiceAccount(sa)
		return nil
	}))
}

func (s *Server) deleteServiceAccount(sa *ServiceAccount) {
	for id, m := range s.st.Memberships {
		if m.ServiceAccountID == sa.ID {
			delete(s.st.Memberships, id)
		}
	}
	for _, rn := range s.st.Runners {
		if slices.Contains(rn.ServiceAccountIDs, sa.ID) {
			rn.ServiceAccountIDs = slices.DeleteFunc(slices.Clone(rn.ServiceAccountIDs), func(id string) bool { return id == sa.ID })
		}
	}
	delete(s.st.ServiceAccounts, sa.ID)
}

type saTokenPayload struct {
	payloadBase
	Token     *string
	ExpiresIn *int32
}

type saTokenInput struct {
	ClientMutationID *string
	ServiceAccountID *string
	Token            string
}

// ServiceAccountCreateToken exchanges an OIDC token for a service-account
// token. Failures are UNAUTHENTICATED top-level errors (HTTP 401); only
// input errors are problems, as on the real API. It needs no caller.
func (q *root) ServiceAccountCreateToken(ctx context.Context, args struct{ Input saTokenInput }) (*saTokenPayload, error) {
	in := args.Input
	p := &saTokenPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	if in.ServiceAccountID == nil || *in.ServiceAccountID == "" {
		return p, p.settle(errInvalid("either serviceAccountId or serviceAccountPath must be specified"))
	}
	tok, ttl, err := s.exchangeOIDCToken(ctx, *in.ServiceAccountID, in.Token)
	if err != nil {
		return nil, err
	}
	p.ClientMutationID = nil // not echoed on success, as on the real API
	exp := int32(ttl / time.Second)
	p.Token, p.ExpiresIn = &tok, &exp
	return p, nil
}

// ---------------------------------------------------------------- memberships

type membershipPayload struct {
	payloadBase
	Namespace  *namespaceResolver
	Membership *membershipResolver
}

type createMembershipInput struct {
	ClientMutationID *string
	NamespacePath    string
	Username         *string
	ServiceAccountID *string
	TeamName         *string
	Role             string
}

func (q *root) CreateNamespaceMembership(ctx context.Context, args struct{ Input createMembershipInput }) (*membershipPayload, error) {
	in := args.Input
	p := &membershipPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		if !s.st.namespaceExists(in.NamespacePath) {
			return errNotFound("namespace %s not found", in.NamespacePath)
		}
		if err := s.requirePerm(c, permMembershipCreate, in.NamespacePath); err != nil {
			return err
		}
		n := 0
		for _, set := range []bool{in.Username != nil, in.ServiceAccountID != nil, in.TeamName != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return errInvalid("exactly one of username, serviceAccountId or teamName must be specified")
		}
		m, err := s.addMembership(c, in.NamespacePath, deref(in.Username), deref(in.ServiceAccountID), deref(in.TeamName), in.Role)
		if err != nil {
			return err
		}
		p.Membership = &membershipResolver{s: s, m: *m}
		p.Namespace = s.namespaceRes(in.NamespacePath)
		return nil
	}))
}

// addMembership adds a membership after its checks. c may be nil for the
// in-process API. Expects s.mu held.
func (s *Server) addMembership(c *caller, nsPath, username, saID, team, role string) (*Membership, error) {
	if _, ok := rolePermissions[role]; !ok {
		return nil, errNotFound("role %s not found", role)
	}
	m := &Membership{NamespacePath: nsPath, Role: role}
	switch {
	case username != "":
		u := s.st.userByName(username)
		if u == nil {
			return nil, errNotFound("user %s not found", username)
		}
		m.UserID = u.ID
	case saID != "":
		var sa *ServiceAccount
		var err error
		if c == nil {
			obj, lerr := s.lookup(saID)
			sa, _ = obj.(*ServiceAccount)
			if lerr != nil || sa == nil {
				err = errNotFound("service account %s not found", saID)
			}
		} else {
			sa, err = find[*ServiceAccount](s, c, saID, "service account")
		}
		if err != nil {
			return nil, err
		}
		if !isWithin(nsPath, s.st.groupPath(sa.GroupID)) {
			return nil, errInvalid("service account %s cannot be a member of %s: it must belong to the namespace's group or one of its parent groups", s.st.saPath(sa), nsPath)
		}
		m.ServiceAccountID = sa.ID
	default:
		return nil, errNotFound("team %s not found", team)
	}
	for _, o := range s.st.Memberships {
		if o.NamespacePath == nsPath && o.UserID == m.UserID && o.ServiceAccountID == m.ServiceAccountID {
			return nil, errConflict("member already exists")
		}
	}
	m.Meta = s.st.newMeta(s.now())
	s.st.Memberships[m.ID] = m
	return m, nil
}

type updateMembershipInput struct {
	ClientMutationID *string
	ID               string
	Role             string
	Metadata         *metadataInput
}

func (q *root) UpdateNamespaceMembership(ctx context.Context, args struct{ Input updateMembershipInput }) (*membershipPayload, error) {
	in := args.Input
	p := &membershipPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		m, err := find[*Membership](s, c, in.ID, "namespace membership")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permMembershipUpdate, m.NamespacePath); err != nil {
			return err
		}
		if err := checkVersion(in.Metadata, m.Version); err != nil {
			return err
		}
		if _, ok := rolePermissions[in.Role]; !ok {
			return errNotFound("role %s not found", in.Role)
		}
		m.Role = in.Role
		touch(&m.Meta, s.now())
		p.Membership = &membershipResolver{s: s, m: *m}
		p.Namespace = s.namespaceRes(m.NamespacePath)
		return nil
	}))
}

type deleteMembershipInput struct {
	ClientMutationID *string
	ID               string
	Metadata         *metadataInput
}

func (q *root) DeleteNamespaceMembership(ctx context.Context, args struct{ Input deleteMembershipInput }) (*membershipPayload, error) {
	in := args.Input
	p := &membershipPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		m, err := find[*Membership](s, c, in.ID, "namespace membership")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permMembershipDelete, m.NamespacePath); err != nil {
			return err
		}
		if err := checkVersion(in.Metadata, m.Version); err != nil {
			return err
		}
		p.Membership = &membershipResolver{s: s, m: *m}
		p.Namespace = s.namespaceRes(m.NamespacePath)
		delete(s.st.Memberships, m.ID)
		return nil
	}))
}

// ---------------------------------------------------------------- admin mode

type adminStatusPayload struct {
	payloadBase
	User *userResolver
}

type activateAdminInput struct {
	ClientMutationID *string
	DurationMinutes  *int32
}

func (q *root) ActivateAdminMode(ctx context.Context, args struct{ Input activateAdminInput }) (*adminStatusPayload, error) {
	in := args.Input
	p := &adminStatusPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		u := s.st.Users[c.userID]
		if u == nil || !u.Admin {
			return errForbidden("only admins can activate admin mode")
		}
		d := int32(30)
		if in.DurationMinutes != nil {
			d = *in.DurationMinutes
		}
		if d < 1 || d > 360 {
			return errInvalid("admin mode duration must be between 1 and 360 minutes")
		}
		exp := s.now().Add(time.Duration(d) * time.Minute)
		u.AdminModeExpiration = &exp
		touch(&u.Meta, s.now())
		p.User = &userResolver{s: s, u: *u}
		return nil
	}))
}

type deactivateAdminInput struct{ ClientMutationID *string }

func (q *root) DeactivateAdminMode(ctx context.Context, args struct{ Input deactivateAdminInput }) (*adminStatusPayload, error) {
	in := args.Input
	p := &adminStatusPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		u := s.st.Users[c.userID]
		if u == nil || !u.Admin {
			return errForbidden("only admins can deactivate admin mode")
		}
		u.AdminModeExpiration = nil
		touch(&u.Meta, s.now())
		p.User = &userResolver{s: s, u: *u}
		return nil
	}))
}
