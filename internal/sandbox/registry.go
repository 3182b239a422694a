package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/graph-gophers/graphql-go"
	goversion "github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/tharsis-cli/tharsis/internal/sandbox/executor"
)

// The module registry: TerraformModule and TerraformModuleVersion records,
// their GraphQL queries and mutations, and the package upload route
// (PUT /v1/module-registry/versions/{id}/upload). A version whose package
// is uploaded and valid is published into the module store that
// module-source runs resolve against (modules.go), under the source address
// the API reports, <host>/<root group>/<name>/<system>, with its SHA-256
// sum as the run's module digest.

// GID type codes of the registry records.
const (
	gidTerraformModule        = "TMO"
	gidTerraformModuleVersion = "TMV"
)

// Module version statuses (a plain string in the API).
const (
	mvPending          = "pending"
	mvUploadInProgress = "upload_in_progress"
	mvUploaded         = "uploaded"
	mvErrored          = "errored"
)

// DefaultMaxModuleUploadBytes is the real API's default limit on a module
// package upload (ModuleRegistryMaxUploadSize).
const DefaultMaxModuleUploadBytes = 128 << 20

// TerraformModule is a module of the registry.
type TerraformModule struct {
	Meta
	Name          string
	System        string
	GroupID       string
	Private       bool
	RepositoryURL string
	Labels        map[string]string
	CreatedBy     string
}

// TerraformModuleVersion is a published (or publishing) version of a module.
type TerraformModuleVersion struct {
	Meta
	ModuleID        string
	SemanticVersion string
	Status          string
	Error           string
	Diagnostics     string
	SHASum          string // hex
	Latest          bool
	CreatedBy       string
	Submodules      []string
	Examples        []string
	Package         []byte `json:"-"`
}

// registryCatalog holds the registry records. It is guarded by the server
// lock.
type registryCatalog struct {
	modules  map[string]*TerraformModule
	versions map[string]*TerraformModuleVersion
}

func newRegistryCatalog() *registryCatalog {
	return &registryCatalog{modules: map[string]*TerraformModule{}, versions: map[string]*TerraformModuleVersion{}}
}

func (rc *registryCatalog) moduleVersions(moduleID string) []*TerraformModuleVersion {
	var out []*TerraformModuleVersion
	for _, v := range values(rc.versions, func(v *TerraformModuleVersion) int64 { return v.Seq }) {
		if v.ModuleID == moduleID {
			out = append(out, v)
		}
	}
	return out
}

// rootOf returns the first segment of a path: the registry namespace.
func rootOf(p string) string {
	root, _, _ := strings.Cut(p, "/")
	return root
}

// modulePath is "<group path>/<name>/<system>", the module's resource path
// and the path of its TRN. Expects s.mu held.
func (s *Server) modulePath(m *TerraformModule) string {
	return s.st.groupPath(m.GroupID) + "/" + m.Name + "/" + m.System
}

// registryHost is the host part of the source addresses of registry
// modules: the API's host and port, as the real API's service discovery
// host.
func (s *Server) registryHost() string {
	if u, err := url.Parse(s.url); err == nil && u.Host != "" {
		return u.Host
	}
	return "localhost"
}

// moduleSource is the address a module-source run gives for m. Expects s.mu
// held.
func (s *Server) moduleSource(m *TerraformModule) string {
	return s.registryHost() + "/" + rootOf(s.st.groupPath(m.GroupID)) + "/" + m.Name + "/" + m.System
}

func (s *Server) moduleByPath(p string) *TerraformModule {
	rest, system := splitLast(p)
	gp, name := splitLast(rest)
	for _, m := range s.catalog.modules {
		if m.Name == name && m.System == system && s.st.groupPath(m.GroupID) == gp {
			return m
		}
	}
	return nil
}

func (s *Server) lookupRegistryGID(code, id string) any {
	switch code {
	case gidTerraformModule:
		return nilIfNone(s.catalog.modules[id])
	case gidTerraformModuleVersion:
		return nilIfNone(s.catalog.versions[id])
	}
	return s.lookupVCSGID(code, id)
}

func (s *Server) lookupRegistryTRN(t trn) (any, error) {
	switch t.typ {
	case "terraform_module":
		if strings.Count(t.path, "/") < 2 {
			return nil, errInvalid("a Terraform module TRN must have the group path, module name and system separated by a forward slash")
		}
		return nilIfNone(s.moduleByPath(t.path)), nil
	case "terraform_module_version":
		if strings.Count(t.path, "/") < 3 {
			return nil, errInvalid("a Terraform module version TRN must have group path, module name, system, and semver separated by a forward slash")
		}
		mp, ver := splitLast(t.path)
		if m := s.moduleByPath(mp); m != nil {
			for _, v := range s.catalog.moduleVersions(m.ID) {
				if v.SemanticVersion == ver {
					return v, nil
				}
			}
		}
		return nil, nil
	}
	return s.lookupVCSTRN(t)
}

// registryNSPath is nsPathOf for the registry and VCS records: a private
// module is seen by the members of its group, a public one by everybody.
func (s *Server) registryNSPath(obj any) (string, bool, bool) {
	switch o := obj.(type) {
	case *TerraformModule:
		return s.st.groupPath(o.GroupID), !o.Private, true
	case *TerraformModuleVersion:
		if m := s.catalog.modules[o.ModuleID]; m != nil {
			return s.st.groupPath(m.GroupID), !m.Private, true
		}
		return "", false, true
	}
	return s.vcsNSPath(obj)
}

func (s *Server) newRegistryNode(obj any) *nodeResolver {
	switch o := obj.(type) {
	case *TerraformModule:
		return &nodeResolver{id: graphql.ID(toGID(gidTerraformModule, o.ID)), res: s.moduleRes(o)}
	case *TerraformModuleVersion:
		return &nodeResolver{id: graphql.ID(toGID(gidTerraformModuleVersion, o.ID)), res: s.moduleVersionRes(o)}
	}
	return s.newVCSNode(obj)
}

func (n *nodeResolver) ToTerraformModule() (*tfModuleResolver, bool) {
	return as[*tfModuleResolver](n.res)
}

func (n *nodeResolver) ToTerraformModuleVersion() (*tfModuleVersionResolver, bool) {
	return as[*tfModuleVersionResolver](n.res)
}

// moduleVisibleInList is the filter of terraformModules without a group:
// public modules, and private ones under a root group the caller is a
// member of (anywhere in it), as on the real API.
func (s *Server) moduleVisibleInList(c *caller, m *TerraformModule) bool {
	if !m.Private || s.adminMode(c) {
		return true
	}
	root := rootOf(s.st.groupPath(m.GroupID))
	for _, ms := range s.st.Memberships {
		if ((c.userID != "" && ms.UserID == c.userID) || (c.saID != "" && ms.ServiceAccountID == c.saID)) && isWithin(ms.NamespacePath, root) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- resolvers

type tfModuleResolver struct {
	s      *Server
	m      TerraformModule
	path   string
	source string
}

// moduleRes snapshots a module. Expects s.mu held.
func (s *Server) moduleRes(m *TerraformModule) *tfModuleResolver {
	c := *m
	c.Labels = maps.Clone(m.Labels)
	return &tfModuleResolver{s: s, m: c, path: s.modulePath(m), source: s.moduleSource(m)}
}

func (r *tfModuleResolver) ID() graphql.ID { return graphql.ID(toGID(gidTerraformModule, r.m.ID)) }
func (r *tfModuleResolver) Metadata() *resourceMetadata {
	return metadata(r.m.Meta, makeTRN("terraform_module", r.path))
}
func (r *tfModuleResolver) CreatedBy() string         { return r.m.CreatedBy }
func (r *tfModuleResolver) Source() string            { return r.source }
func (r *tfModuleResolver) Name() string              { return r.m.Name }
func (r *tfModuleResolver) System() string            { return r.m.System }
func (r *tfModuleResolver) Private() bool             { return r.m.Private }
func (r *tfModuleResolver) RepositoryURL() string     { return r.m.RepositoryURL }
func (r *tfModuleResolver) RegistryNamespace() string { return rootOf(r.path) }
func (r *tfModuleResolver) ResourcePath() string      { return r.path }
func (r *tfModuleResolver) GroupPath() string {
	gp, _ := splitLast(r.path)
	gp, _ = splitLast(gp)
	return gp
}
func (r *tfModuleResolver) Group() (*groupResolver, error) {
	var out *groupResolver
	r.s.locked(func() {
		if g := r.s.st.Groups[r.m.GroupID]; g != nil {
			out = &groupResolver{s: r.s, g: *g}
		}
	})
	if out == nil {
		return nil, errNotFound("group %s not found", r.GroupPath())
	}
	return out, nil
}

type moduleLabelResolver struct{ Key, Value string }

func (r *tfModuleResolver) Labels() []*moduleLabelResolver {
	out := []*moduleLabelResolver{}
	for _, k := range slices.Sorted(maps.Keys(r.m.Labels)) {
		out = append(out, &moduleLabelResolver{Key: k, Value: r.m.Labels[k]})
	}
	return out
}

func (r *tfModuleResolver) LatestVersion() *tfModuleVersionResolver {
	var out *tfModuleVersionResolver
	r.s.locked(func() {
		for _, v := range r.s.catalog.moduleVersions(r.m.ID) {
			if v.Latest {
				out = r.s.moduleVersionRes(v)
			}
		}
	})
	return out
}

func (r *tfModuleResolver) Versions(ctx context.Context, args struct {
	pageArgs
	Search *string
	Sort   *string
}) (*connection[*tfModuleVersionResolver], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	if _, err := authorize(ctx); err != nil {
		return nil, err
	}
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var vs []*TerraformModuleVersion
	for _, v := range s.catalog.moduleVersions(r.m.ID) {
		if args.Search == nil || strings.Contains(strings.ToLower(v.SemanticVersion), strings.ToLower(*args.Search)) {
			vs = append(vs, v)
		}
	}
	name := sortItems(vs, args.Sort, func(v *TerraformModuleVersion) Meta { return v.Meta }, func(*TerraformModuleVersion) string { return "" })
	return paginate(vs, func(v *TerraformModuleVersion) string { return v.ID }, args.pageArgs, name, s.moduleVersionRes)
}

type tfModuleVersionResolver struct {
	s        *Server
	v        TerraformModuleVersion
	modPath  string
	moduleID string
}

// moduleVersionRes snapshots a version. Expects s.mu held.
func (s *Server) moduleVersionRes(v *TerraformModuleVersion) *tfModuleVersionResolver {
	c := *v
	c.Package = nil
	c.Submodules, c.Examples = slices.Clone(v.Submodules), slices.Clone(v.Examples)
	res := &tfModuleVersionResolver{s: s, v: c, moduleID: v.ModuleID}
	if m := s.catalog.modules[v.ModuleID]; m != nil {
		res.modPath = s.modulePath(m)
	}
	return res
}

func (r *tfModuleVersionResolver) ID() graphql.ID {
	return graphql.ID(toGID(gidTerraformModuleVersion, r.v.ID))
}
func (r *tfModuleVersionResolver) Metadata() *resourceMetadata {
	return metadata(r.v.Meta, makeTRN("terraform_module_version", r.modPath+"/"+r.v.SemanticVersion))
}
func (r *tfModuleVersionResolver) Module() (*tfModuleResolver, error) {
	var out *tfModuleResolver
	r.s.locked(func() {
		if m := r.s.catalog.modules[r.moduleID]; m != nil {
			out = r.s.moduleRes(m)
		}
	})
	if out == nil {
		return nil, errNotFound("module of version %s not found", r.v.SemanticVersion)
	}
	return out, nil
}
func (r *tfModuleVersionResolver) Version() string     { return r.v.SemanticVersion }
func (r *tfModuleVersionResolver) Status() string      { return r.v.Status }
func (r *tfModuleVersionResolver) Error() string       { return r.v.Error }
func (r *tfModuleVersionResolver) Diagnostics() string { return r.v.Diagnostics }
func (r *tfModuleVersionResolver) ShaSum() string      { return r.v.SHASum }
func (r *tfModuleVersionResolver) Latest() bool        { return r.v.Latest }
func (r *tfModuleVersionResolver) CreatedBy() string   { return r.v.CreatedBy }
func (r *tfModuleVersionResolver) Submodules() []string {
	return append([]string{}, r.v.Submodules...)
}
func (r *tfModuleVersionResolver) Examples() []string { return append([]string{}, r.v.Examples...) }

// ---------------------------------------------------------------- queries

type moduleListArgs struct {
	pageArgs
	Search      *string
	Sort        *string
	LabelFilter *struct{ Labels []labelInput }
}

func (q *root) TerraformModules(ctx context.Context, args moduleListArgs) (*connection[*tfModuleResolver], error) {
	return q.s.listModules(ctx, args, func(c *caller, m *TerraformModule) bool { return q.s.moduleVisibleInList(c, m) })
}

func (r *groupResolver) TerraformModules(ctx context.Context, args struct {
	moduleListArgs
	IncludeInherited *bool
}) (*connection[*tfModuleResolver], error) {
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	var perr error
	r.s.locked(func() { perr = r.s.requirePerm(c, "terraform_module:view", r.g.FullPath) })
	if perr != nil {
		return nil, perr
	}
	inherit := args.IncludeInherited != nil && *args.IncludeInherited
	return r.s.listModules(ctx, args.moduleListArgs, func(_ *caller, m *TerraformModule) bool {
		gp := r.s.st.groupPath(m.GroupID)
		return gp == r.g.FullPath || (inherit && isWithin(r.g.FullPath, gp))
	})
}

func (s *Server) listModules(ctx context.Context, args moduleListArgs, keep func(*caller, *TerraformModule) bool) (*connection[*tfModuleResolver], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ms []*TerraformModule
	for _, m := range values(s.catalog.modules, func(m *TerraformModule) int64 { return m.Seq }) {
		if !keep(c, m) {
			continue
		}
		// The search matches "<registry namespace>/<name>/<system>".
		addr := rootOf(s.st.groupPath(m.GroupID)) + "/" + m.Name + "/" + m.System
		if args.Search != nil && !strings.Contains(strings.ToLower(addr), strings.ToLower(*args.Search)) {
			continue
		}
		if args.LabelFilter != nil && !labelsMatch(m.Labels, args.LabelFilter.Labels) {
			continue
		}
		ms = append(ms, m)
	}
	name := ""
	if args.Sort != nil {
		name = *args.Sort
	}
	if strings.HasPrefix(name, "NAME_") {
		slices.SortStableFunc(ms, func(a, b *TerraformModule) int {
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			return int(a.Seq - b.Seq)
		})
		if name == "NAME_DESC" {
			slices.Reverse(ms)
		}
	} else {
		name = sortItems(ms, args.Sort, func(m *TerraformModule) Meta { return m.Meta }, func(m *TerraformModule) string { return s.st.groupPath(m.GroupID) })
	}
	return paginate(ms, func(m *TerraformModule) string { return m.ID }, args.pageArgs, name, s.moduleRes)
}

func labelsMatch(have map[string]string, want []labelInput) bool {
	for _, l := range want {
		if v, ok := have[l.Key]; !ok || v != l.Value {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- mutations

type modulePayload struct {
	payloadBase
	Module *tfModuleResolver
}

type moduleVersionPayload struct {
	payloadBase
	ModuleVersion *tfModuleVersionResolver
}

type createModuleInput struct {
	ClientMutationID *string
	GroupID          *string
	Name             string
	System           string
	Private          *bool
	RepositoryURL    *string
	Labels           *[]labelInput
}

func moduleLabels(in *[]labelInput) (map[string]string, error) {
	ls, err := validateLabels(in)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, l := range ls {
		out[l.Key] = l.Value
	}
	return out, nil
}

func validateSystem(system string) error {
	if system == "" || strings.ContainsAny(system, "/ ") {
		return errInvalid("invalid module system %q: it must be a single word such as aws", system)
	}
	return nil
}

func (q *root) CreateTerraformModule(ctx context.Context, args struct{ Input *createModuleInput }) (*modulePayload, error) {
	if args.Input == nil {
		return nil, errInvalid("input is required")
	}
	in := *args.Input
	p := &modulePayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		if in.GroupID == nil {
			return errInvalid("either groupPath or groupId must be specified")
		}
		g, err := find[*Group](s, c, *in.GroupID, "group")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, "terraform_module:create", g.FullPath); err != nil {
			return err
		}
		if err := firstErr(validateName(in.Name), validateSystem(in.System)); err != nil {
			return err
		}
		labels, err := moduleLabels(in.Labels)
		if err != nil {
			return err
		}
		root := rootOf(g.FullPath)
		for _, m := range s.catalog.modules {
			if m.Name == in.Name && m.System == in.System && rootOf(s.st.groupPath(m.GroupID)) == root {
				return errConflict("terraform module with name %s and system %s already exists", in.Name, in.System)
			}
		}
		m := &TerraformModule{Meta: s.st.newMeta(s.now()), Name: in.Name, System: in.System, GroupID: g.ID,
			Private: true, RepositoryURL: deref(in.RepositoryURL), Labels: labels, CreatedBy: s.subject(c)}
		if in.Private != nil {
			m.Private = *in.Private
		}
		s.catalog.modules[m.ID] = m
		p.Module = s.moduleRes(m)
		return nil
	}))
}

type updateModuleInput struct {
	ClientMutationID *string
	ID               graphql.ID
	Metadata         *metadataInput
	Private          *bool
	RepositoryURL    *string
	Labels           *[]labelInput
}

func (q *root) UpdateTerraformModule(ctx context.Context, args struct{ Input *updateModuleInput }) (*modulePayload, error) {
	if args.Input == nil {
		return nil, errInvalid("input is required")
	}
	in := *args.Input
	p := &modulePayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		m, err := find[*TerraformModule](s, c, string(in.ID), "module")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, "terraform_module:update", s.st.groupPath(m.GroupID)); err != nil {
			return err
		}
		if err := checkVersion(in.Metadata, m.Version); err != nil {
			return err
		}
		var labels map[string]string
		if in.Labels != nil {
			if labels, err = moduleLabels(in.Labels); err != nil {
				return err
			}
			m.Labels = labels
		}
		if in.Private != nil {
			m.Private = *in.Private
		}
		if in.RepositoryURL != nil {
			m.RepositoryURL = *in.RepositoryURL
		}
		touch(&m.Meta, s.now())
		p.Module = s.moduleRes(m)
		return nil
	}))
}

type deleteModuleInput struct {
	ClientMutationID *string
	ID               string
}

func (q *root) DeleteTerraformModule(ctx context.Context, args struct{ Input *deleteModuleInput }) (*modulePayload, error) {
	if args.Input == nil {
		return nil, errInvalid("input is required")
	}
	in := *args.Input
	p := &modulePayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		m, err := find[*TerraformModule](s, c, in.ID, "module")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, "terraform_module:delete", s.st.groupPath(m.GroupID)); err != nil {
			return err
		}
		p.Module = s.moduleRes(m)
		s.deleteModule(m)
		return nil
	}))
}

// deleteModule removes a module, its versions and what they published.
// Expects s.mu held.
func (s *Server) deleteModule(m *TerraformModule) {
	src := s.moduleSource(m)
	for _, v := range s.catalog.moduleVersions(m.ID) {
		s.mods.unpublish(src, v.SemanticVersion)
		delete(s.catalog.versions, v.ID)
	}
	delete(s.catalog.modules, m.ID)
}

// deleteGroupModules removes the modules of a group being deleted.
// Expects s.mu held.
func (s *Server) deleteGroupModules(groupID string) {
	for _, m := range values(s.catalog.modules, func(m *TerraformModule) int64 { return m.Seq }) {
		if m.GroupID == groupID {
			s.deleteModule(m)
		}
	}
}

type createModuleVersionInput struct {
	ClientMutationID *string
	ModuleID         *string
	Version          string
	ShaSum           string
}

func (q *root) CreateTerraformModuleVersion(ctx context.Context, args struct{ Input *createModuleVersionInput }) (*moduleVersionPayload, error) {
	if args.Input == nil {
		return nil, errInvalid("input is required")
	}
	in := *args.Input
	p := &moduleVersionPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		if in.ModuleID == nil {
			return errInvalid("either modulePath or moduleId must be specified")
		}
		m, err := find[*TerraformModule](s, c, *in.ModuleID, "module")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, "terraform_module:update", s.st.groupPath(m.GroupID)); err != nil {
			return err
		}
		sv, err := goversion.NewSemver(in.Version)
		if err != nil {
			return errInvalid("invalid semantic version: %v", err)
		}
		sum, err := hex.DecodeString(in.ShaSum)
		if err != nil || len(sum) != sha256.Size {
			return errInvalid("invalid shaSum: expected the hex SHA-256 sum of the module package")
		}
		ver := sv.String()
		latest := true
		var prev *TerraformModuleVersion
		for _, v := range s.catalog.moduleVersions(m.ID) {
			if v.SemanticVersion == ver {
				return errConflict("terraform module version %s already exists", ver)
			}
			if v.Latest {
				prev = v
			}
		}
		if prev != nil {
			if pv, err := goversion.NewSemver(prev.SemanticVersion); err == nil && !sv.GreaterThan(pv) {
				latest = false
			}
		}
		now := s.now()
		if latest && prev != nil {
			prev.Latest = false
			touch(&prev.Meta, now)
		}
		v := &TerraformModuleVersion{Meta: s.st.newMeta(now), ModuleID: m.ID, SemanticVersion: ver, Status: mvPending,
			SHASum: hex.EncodeToString(sum), Latest: latest, CreatedBy: s.subject(c), Submodules: []string{}, Examples: []string{}}
		s.catalog.versions[v.ID] = v
		p.ModuleVersion = s.moduleVersionRes(v)
		return nil
	}))
}

type deleteModuleVersionInput struct {
	ClientMutationID *string
	ID               graphql.ID
	Metadata         *metadataInput
}

func (q *root) DeleteTerraformModuleVersion(ctx context.Context, args struct{ Input *deleteModuleVersionInput }) (*moduleVersionPayload, error) {
	if args.Input == nil {
		return nil, errInvalid("input is required")
	}
	in := *args.Input
	p := &moduleVersionPayload{payloadBase: base(in.ClientMutationID)}
	s := q.s
	return p, p.settle(s.mutate(ctx, func(c *caller) error {
		v, err := find[*TerraformModuleVersion](s, c, string(in.ID), "module version")
		if err != nil {
			return err
		}
		m := s.catalog.modules[v.ModuleID]
		if err := s.requirePerm(c, "terraform_module:update", s.st.groupPath(m.GroupID)); err != nil {
			return err
		}
		if err := checkVersion(in.Metadata, v.Meta.Version); err != nil {
			return err
		}
		p.ModuleVersion = s.moduleVersionRes(v)
		s.mods.unpublish(s.moduleSource(m), v.SemanticVersion)
		delete(s.catalog.versions, v.ID)
		if v.Latest {
			// The highest remaining version becomes the latest.
			var best *TerraformModuleVersion
			var bestV *goversion.Version
			for _, o := range s.catalog.moduleVersions(m.ID) {
				ov, err := goversion.NewSemver(o.SemanticVersion)
				if err == nil && (bestV == nil || ov.GreaterThan(bestV)) {
					best, bestV = o, ov
				}
			}
			if best != nil {
				best.Latest = true
				touch(&best.Meta, s.now())
			}
		}
		return nil
	}))
}

// ---------------------------------------------------------------- package upload

// serveModuleUpload stores a module version's package (tar.gz). Like the
// real API it answers once the package is stored and checks it
// asynchronously: the version goes upload_in_progress, then uploaded, or
// errored (checksum mismatch, unreadable package, Terraform syntax errors,
// reported as diagnostics).
func (s *Server) serveModuleUpload(w http.ResponseWriter, r *http.Request) {
	s.count("module_upload")
	ctx := s.withAuth(r.Context(), bearer(r))
	c, err := authorize(ctx)
	if err != nil {
		restError(w, err)
		return
	}
	vid := r.PathValue("id")
	code, id, err := parseGID(vid)
	if err != nil || code != gidTerraformModuleVersion {
		restError(w, errInvalid("the id must be a valid module version ID"))
		return
	}
	check := func() error {
		v := s.catalog.versions[id]
		if v == nil || !s.visible(c, v) {
			return errNotFound("module version with id %s not found", id)
		}
		if err := s.requirePerm(c, "terraform_module:update", s.st.groupPath(s.catalog.modules[v.ModuleID].GroupID)); err != nil {
			return err
		}
		switch v.Status {
		case mvUploadInProgress:
			return errConflict("module package upload is already in progress")
		case mvUploaded, mvErrored:
			return errConflict("module package already uploaded")
		}
		return nil
	}
	s.mu.Lock()
	err = check()
	s.mu.Unlock()
	if err != nil {
		restError(w, err)
		return
	}
	limit := s.opts.MaxModuleUploadBytes
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			restError(w, newErr(codeTooLarge, "upload failed, module size exceeds maximum size of %d bytes", limit))
			return
		}
		restError(w, errInvalid("failed to read the request body: %v", err))
		return
	}
	if st := s.Knobs().ModuleUploadFailure; st != 0 {
		s.count("http_failure")
		writeJSON(w, st, map[string]string{"detail": fmt.Sprintf("simulated module upload failure with status %d (ModuleUploadFailure knob)", st)})
		return
	}
	s.mu.Lock()
	if err := check(); err != nil {
		s.mu.Unlock()
		restError(w, err)
		return
	}
	v := s.catalog.versions[id]
	v.Package, v.Status = body, mvUploadInProgress
	touch(&v.Meta, s.now())
	s.mu.Unlock()
	s.goTrack(func() { s.processModulePackage(id) })
	w.WriteHeader(http.StatusOK)
}

// processModulePackage checks an uploaded package and publishes it.
func (s *Server) processModulePackage(id string) {
	s.mu.Lock()
	v := s.catalog.versions[id]
	if v == nil || v.Status != mvUploadInProgress {
		s.mu.Unlock()
		return
	}
	pkg, want := v.Package, v.SHASum
	s.mu.Unlock()

	sum := sha256.Sum256(pkg)
	got := hex.EncodeToString(sum[:])
	var files map[string][]byte
	var failure string
	if got != want {
		failure = fmt.Sprintf("Expected checksum of %s does not match received checksum %s", want, got)
	} else if f, err := executor.ReadSlug(bytes.NewReader(pkg)); err != nil {
		failure = "failed to unpack the module package: " + err.Error()
	} else {
		files = f
	}
	diagnostics := ""
	if failure == "" {
		if diags := moduleDiagnostics(files); len(diags) > 0 {
			b, _ := json.Marshal(diags)
			diagnostics, failure = string(b), "failed validation"
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	v = s.catalog.versions[id]
	if v == nil { // deleted meanwhile
		return
	}
	m := s.catalog.modules[v.ModuleID]
	if failure != "" || m == nil {
		v.Status, v.Error, v.Diagnostics = mvErrored, failure, diagnostics
		touch(&v.Meta, s.now())
		return
	}
	v.Submodules, v.Examples = nestedModules(files, "modules/"), nestedModules(files, "examples/")
	v.Status = mvUploaded
	touch(&v.Meta, s.now())
	s.mods.publish(s.moduleSource(m), v.SemanticVersion, files, v.SHASum)
}

// moduleDiagnostic is one problem found in a module package, in the shape
// the real API stores (terraform-config-inspect's diagnostics).
type moduleDiagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	Pos      *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
	} `json:"pos,omitempty"`
}

// moduleDiagnostics parses every Terraform file of a package and returns
// its syntax errors.
func moduleDiagnostics(files map[string][]byte) []moduleDiagnostic {
	p := hclparse.NewParser()
	var out []moduleDiagnostic
	for _, name := range slices.Sorted(maps.Keys(files)) {
		var diags hcl.Diagnostics
		switch {
		case strings.HasPrefix(name, ".terraform/"):
			continue
		case strings.HasSuffix(name, ".tf"):
			_, diags = p.ParseHCL(files[name], name)
		case strings.HasSuffix(name, ".tf.json"):
			_, diags = p.ParseJSON(files[name], name)
		}
		for _, d := range diags {
			if d.Severity != hcl.DiagError {
				continue
			}
			md := moduleDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
			if d.Subject != nil {
				md.Pos = &struct {
					Filename string `json:"filename"`
					Line     int    `json:"line"`
				}{d.Subject.Filename, d.Subject.Start.Line}
			}
			out = append(out, md)
		}
	}
	return out
}

// nestedModules lists the directories directly under prefix that hold
// Terraform files (a module's submodules or examples).
func nestedModules(files map[string][]byte, prefix string) []string {
	seen := map[string]bool{}
	for p := range files {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		dir, file, ok := strings.Cut(rest, "/")
		if ok && !strings.Contains(file, "/") && (strings.HasSuffix(file, ".tf") || strings.HasSuffix(file, ".tf.json")) {
			seen[dir] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// ---------------------------------------------------------------- in-process API

// ModuleVersionStatus returns the status of the version of the registry
// module at modulePath ("group/name/system"), or "" when there is none.
func (s *Server) ModuleVersionStatus(modulePath, version string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.moduleByPath(modulePath); m != nil {
		for _, v := range s.catalog.moduleVersions(m.ID) {
			if v.SemanticVersion == version {
				return v.Status
			}
		}
	}
	return ""
}

// ModuleVersions returns the versions of the registry module at modulePath
// ("group/name/system"), oldest first, without their packages.
func (s *Server) ModuleVersions(modulePath string) []TerraformModuleVersion {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.moduleByPath(modulePath)
	if m == nil {
		return nil
	}
	var out []TerraformModuleVersion
	for _, v := range s.catalog.moduleVersions(m.ID) {
		c := *v
		c.Package = nil
		out = append(out, c)
	}
	return out
}
