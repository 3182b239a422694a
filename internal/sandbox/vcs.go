package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/graph-gophers/graphql-go"

	"github.com/tharsis-cli/tharsis/pkg/slug"
)

// The simulated VCS link. A real installation links a workspace to a
// repository of a VCS provider (GitHub, GitLab); the sandbox links it to a
// local directory standing for the repository (LinkWorkspaceToDirectory).
// createVCSRun behaves as on the real API: it records a "manual" VCS event
// (pending) and returns; in the background the repository is packed (the
// link's module directory, or its root), a configuration version that
// points to the event is uploaded, a run is created from it, and the event
// goes finished, or errored with a message. The reference of a run (branch,
// tag or commit) is recorded on the event; every reference reads the
// directory as it is.

// GID type codes of the VCS records.
const (
	gidVCSLink  = "WPL"
	gidVCSEvent = "VE"
)

// VCSLink links a workspace to a repository (here: a local directory).
type VCSLink struct {
	Meta
	WorkspaceID         string
	Directory           string
	RepositoryPath      string
	Branch              string
	ModuleDirectory     *string
	TagRegex            *string
	GlobPatterns        []string
	AutoSpeculativePlan bool
	WebhookDisabled     bool
	CreatedBy           string
}

// VCSEvent records what started (or failed to start) a VCS run.
type VCSEvent struct {
	Meta
	WorkspaceID         string
	CommitID            *string
	SourceReferenceName *string
	ErrorMessage        *string
	RepositoryURL       string
	Type                string
	Status              string
}

// vcsState holds the links and events. It is guarded by the server lock.
type vcsState struct {
	links    map[string]*VCSLink // by workspace ID
	events   map[string]*VCSEvent
	cvEvents map[string]string // configuration version ID -> event ID
}

func newVCSState() *vcsState {
	return &vcsState{links: map[string]*VCSLink{}, events: map[string]*VCSEvent{}, cvEvents: map[string]string{}}
}

func (v *vcsState) linkByID(id string) *VCSLink {
	for _, l := range v.links {
		if l.ID == id {
			return l
		}
	}
	return nil
}

// LinkWorkspaceToDirectory links the workspace at wsPath to a "repository"
// that is the local directory dir, on branch (default "main"). moduleDir,
// when not empty, is the directory inside the repository that holds the
// Terraform configuration. Linking again replaces the link.
func (s *Server) LinkWorkspaceToDirectory(wsPath, dir, branch, moduleDir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if branch == "" {
		branch = "main"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.st.workspaceByPath(wsPath)
	if w == nil {
		return fmt.Errorf("no workspace %q", wsPath)
	}
	l := &VCSLink{Meta: s.st.newMeta(s.now()), WorkspaceID: w.ID, Directory: abs, RepositoryPath: filepath.ToSlash(abs),
		Branch: branch, GlobPatterns: []string{}, CreatedBy: "system"}
	if moduleDir != "" {
		l.ModuleDirectory = &moduleDir
	}
	s.vcs.links[w.ID] = l
	return nil
}

// VCSEvents returns snapshots of a workspace's VCS events, oldest first.
func (s *Server) VCSEvents(wsPath string) []VCSEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.st.workspaceByPath(wsPath)
	if w == nil {
		return nil
	}
	var out []VCSEvent
	for _, e := range values(s.vcs.events, func(e *VCSEvent) int64 { return e.Seq }) {
		if e.WorkspaceID == w.ID {
			out = append(out, *e)
		}
	}
	return out
}

// RunVCSEvent returns the VCS event behind a run's configuration version
// (given the run's GID), if any.
func (s *Server) RunVCSEvent(runGID string) (VCSEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, id, err := parseGID(runGID)
	r := s.st.Runs[id]
	if err != nil || r == nil {
		return VCSEvent{}, false
	}
	if e := s.vcs.events[s.vcs.cvEvents[r.ConfigurationVersionID]]; e != nil {
		return *e, true
	}
	return VCSEvent{}, false
}

// deleteWorkspaceVCS removes the link and events of a workspace being
// deleted. Expects s.mu held.
func (s *Server) deleteWorkspaceVCS(wsID string) {
	delete(s.vcs.links, wsID)
	for id, e := range s.vcs.events {
		if e.WorkspaceID == wsID {
			delete(s.vcs.events, id)
		}
	}
	for cv, ev := range s.vcs.cvEvents {
		if s.vcs.events[ev] == nil {
			delete(s.vcs.cvEvents, cv)
		}
	}
}

// ---------------------------------------------------------------- lookup hooks

func (s *Server) lookupVCSGID(code, id string) any {
	switch code {
	case gidVCSLink:
		return nilIfNone(s.vcs.linkByID(id))
	case gidVCSEvent:
		return nilIfNone(s.vcs.events[id])
	}
	return nil
}

func (s *Server) lookupVCSTRN(t trn) (any, error) {
	wsChild := func(code string) (string, string, bool) {
		wsPath, g := splitLast(t.path)
		c, id, err := parseGID(g)
		w := s.st.workspaceByPath(wsPath)
		if err != nil || c != code || w == nil {
			return "", "", false
		}
		return w.ID, id, true
	}
	switch t.typ {
	case "workspace_vcs_provider_link":
		if wsID, id, ok := wsChild(gidVCSLink); ok {
			if l := s.vcs.links[wsID]; l != nil && l.ID == id {
				return l, nil
			}
		}
		return nil, nil
	case "vcs_event":
		if wsID, id, ok := wsChild(gidVCSEvent); ok {
			if e := s.vcs.events[id]; e != nil && e.WorkspaceID == wsID {
				return e, nil
			}
		}
		return nil, nil
	}
	return nil, errInvalid("invalid identifier format: TRN type %q is not supported", t.typ)
}

func (s *Server) vcsNSPath(obj any) (string, bool, bool) {
	wsPath := func(id string) string {
		if w := s.st.Workspaces[id]; w != nil {
			return w.FullPath
		}
		return ""
	}
	switch o := obj.(type) {
	case *VCSLink:
		return wsPath(o.WorkspaceID), false, true
	case *VCSEvent:
		return wsPath(o.WorkspaceID), false, true
	}
	return "", false, false
}

func (s *Server) newVCSNode(obj any) *nodeResolver {
	switch o := obj.(type) {
	case *VCSLink:
		return &nodeResolver{id: graphql.ID(toGID(gidVCSLink, o.ID)), res: s.vcsLinkRes(o)}
	case *VCSEvent:
		return &nodeResolver{id: graphql.ID(toGID(gidVCSEvent, o.ID)), res: s.vcsEventRes(o)}
	}
	return nil
}

func (n *nodeResolver) ToWorkspaceVCSProviderLink() (*vcsLinkResolver, bool) {
	return as[*vcsLinkResolver](n.res)
}

func (n *nodeResolver) ToVCSEvent() (*vcsEventResolver, bool) { return as[*vcsEventResolver](n.res) }

// ---------------------------------------------------------------- resolvers

type vcsLinkResolver struct {
	l      VCSLink
	wsPath string
}

// vcsLinkRes snapshots a link. Expects s.mu held.
func (s *Server) vcsLinkRes(l *VCSLink) *vcsLinkResolver {
	c := *l
	c.GlobPatterns = slices.Clone(l.GlobPatterns)
	res := &vcsLinkResolver{l: c}
	if w := s.st.Workspaces[l.WorkspaceID]; w != nil {
		res.wsPath = w.FullPath
	}
	return res
}

func (r *vcsLinkResolver) gid() string    { return toGID(gidVCSLink, r.l.ID) }
func (r *vcsLinkResolver) ID() graphql.ID { return graphql.ID(r.gid()) }
func (r *vcsLinkResolver) Metadata() *resourceMetadata {
	return metadata(r.l.Meta, makeTRN("workspace_vcs_provider_link", r.wsPath+"/"+r.gid()))
}
func (r *vcsLinkResolver) CreatedBy() string         { return r.l.CreatedBy }
func (r *vcsLinkResolver) RepositoryPath() string    { return r.l.RepositoryPath }
func (r *vcsLinkResolver) ModuleDirectory() *string  { return r.l.ModuleDirectory }
func (r *vcsLinkResolver) Branch() string            { return r.l.Branch }
func (r *vcsLinkResolver) TagRegex() *string         { return r.l.TagRegex }
func (r *vcsLinkResolver) GlobPatterns() []string    { return append([]string{}, r.l.GlobPatterns...) }
func (r *vcsLinkResolver) AutoSpeculativePlan() bool { return r.l.AutoSpeculativePlan }
func (r *vcsLinkResolver) WebhookDisabled() bool     { return r.l.WebhookDisabled }

type vcsEventResolver struct {
	s      *Server
	e      VCSEvent
	wsPath string
}

// vcsEventRes snapshots an event. Expects s.mu held.
func (s *Server) vcsEventRes(e *VCSEvent) *vcsEventResolver {
	res := &vcsEventResolver{s: s, e: *e}
	if w := s.st.Workspaces[e.WorkspaceID]; w != nil {
		res.wsPath = w.FullPath
	}
	return res
}

func (r *vcsEventResolver) gid() string    { return toGID(gidVCSEvent, r.e.ID) }
func (r *vcsEventResolver) ID() graphql.ID { return graphql.ID(r.gid()) }
func (r *vcsEventResolver) Metadata() *resourceMetadata {
	return metadata(r.e.Meta, makeTRN("vcs_event", r.wsPath+"/"+r.gid()))
}
func (r *vcsEventResolver) ErrorMessage() *string        { return r.e.ErrorMessage }
func (r *vcsEventResolver) CommitID() *string            { return r.e.CommitID }
func (r *vcsEventResolver) SourceReferenceName() *string { return r.e.SourceReferenceName }
func (r *vcsEventResolver) RepositoryURL() string        { return r.e.RepositoryURL }
func (r *vcsEventResolver) Type() string                 { return r.e.Type }
func (r *vcsEventResolver) Status() string               { return r.e.Status }
func (r *vcsEventResolver) Workspace() (*workspaceResolver, error) {
	var out *workspaceResolver
	r.s.locked(func() {
		if w := r.s.st.Workspaces[r.e.WorkspaceID]; w != nil {
			out = r.s.workspaceRes(w)
		}
	})
	if out == nil {
		return nil, errNotFound("workspace of VCS event %s not found", r.gid())
	}
	return out, nil
}

func (r *workspaceResolver) WorkspaceVcsProviderLink(ctx context.Context) (*vcsLinkResolver, error) {
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	var out *vcsLinkResolver
	r.s.locked(func() {
		if err = r.s.requirePerm(c, permWorkspaceView, r.w.FullPath); err != nil {
			return
		}
		if l := r.s.vcs.links[r.w.ID]; l != nil {
			out = r.s.vcsLinkRes(l)
		}
	})
	return out, err
}

func (r *workspaceResolver) VcsEvents(ctx context.Context, args struct {
	pageArgs
	Sort *string
}) (*connection[*vcsEventResolver], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	c, err := authorize(ctx)
	if err != nil {
		return nil, err
	}
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.requirePerm(c, "vcs_provider:view", r.w.FullPath); err != nil {
		return nil, err
	}
	var evs []*VCSEvent
	for _, e := range values(s.vcs.events, func(e *VCSEvent) int64 { return e.Seq }) {
		if e.WorkspaceID == r.w.ID {
			evs = append(evs, e)
		}
	}
	name := sortItems(evs, args.Sort, func(e *VCSEvent) Meta { return e.Meta }, func(*VCSEvent) string { return "" })
	return paginate(evs, func(e *VCSEvent) string { return e.ID }, args.pageArgs, name, s.vcsEventRes)
}

func (r *cvResolver) VcsEvent() *vcsEventResolver {
	var out *vcsEventResolver
	r.s.locked(func() {
		if e := r.s.vcs.events[r.s.vcs.cvEvents[r.cv.ID]]; e != nil {
			out = r.s.vcsEventRes(e)
		}
	})
	return out
}

// ---------------------------------------------------------------- createVCSRun

type createVCSRunInput struct {
	ClientMutationID *string
	WorkspaceID      *string
	ReferenceName    *string
	IsDestroy        *bool
}

// commitRE is what the real API takes for a commit hash rather than a
// branch or tag name.
var commitRE = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

func (q *root) CreateVCSRun(ctx context.Context, args struct{ Input createVCSRunInput }) (*payloadBase, error) {
	in := args.Input
	p := base(in.ClientMutationID)
	s := q.s
	return &p, p.settle(s.mutate(ctx, func(c *caller) error {
		w, err := find[*Workspace](s, c, deref(in.WorkspaceID), "workspace")
		if err != nil {
			return err
		}
		if err := s.requirePerm(c, permRunCreate, w.FullPath); err != nil {
			return err
		}
		l := s.vcs.links[w.ID]
		if l == nil {
			return errInvalid("Workspace %s is not linked to a VCS provider", w.FullPath)
		}
		ref := l.Branch
		if in.ReferenceName != nil && *in.ReferenceName != "" {
			ref = *in.ReferenceName
		}
		e := &VCSEvent{Meta: s.st.newMeta(s.now()), WorkspaceID: w.ID, RepositoryURL: "file://" + l.Directory,
			Type: "manual", Status: "pending"}
		if commitRE.MatchString(ref) {
			e.CommitID = &ref
		} else {
			e.SourceReferenceName = &ref
		}
		s.vcs.events[e.ID] = e
		link, caller, destroy := *l, *c, deref(in.IsDestroy)
		s.goTrack(func() { s.handleVCSRun(&caller, &link, e.ID, destroy) })
		return nil
	}))
}

// handleVCSRun packs the linked directory, uploads it as a configuration
// version of the event and creates the run, as the real API's background
// task does; a failure marks the event errored.
func (s *Server) handleVCSRun(c *caller, l *VCSLink, eventID string, destroy bool) {
	err := s.createVCSRunFrom(c, l, eventID, destroy)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.vcs.events[eventID]
	if e == nil {
		return
	}
	e.Status = "finished"
	if err != nil {
		msg := err.Error()
		e.Status, e.ErrorMessage = "errored", &msg
	}
	touch(&e.Meta, s.now())
}

func (s *Server) createVCSRunFrom(c *caller, l *VCSLink, eventID string, destroy bool) error {
	dir := l.Directory
	if l.ModuleDirectory != nil {
		dir = filepath.Join(dir, filepath.FromSlash(*l.ModuleDirectory))
	}
	data, err := packDirectory(s.ctx, dir)
	if err != nil {
		return fmt.Errorf("failed to download repository %s archive: %v", l.RepositoryPath, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.st.Workspaces[l.WorkspaceID]
	if w == nil {
		return errors.New("workspace no longer exists")
	}
	if destroy && w.PreventDestroyPlan {
		return fmt.Errorf("failed to create a run for repository %s: Workspace does not allow destroy plan", l.RepositoryPath)
	}
	cv := &ConfigurationVersion{Meta: s.st.newMeta(s.now()), WorkspaceID: w.ID, Status: "uploaded", CreatedBy: s.subject(c), Data: data}
	s.st.ConfigVersions[cv.ID] = cv
	s.vcs.cvEvents[cv.ID] = eventID
	r := s.newRun(c, w, false)
	r.ConfigurationVersionID = cv.ID
	r.IsDestroy = destroy
	r.Variables = s.runVariables(w, nil)
	return s.insertRun(r)
}

// packDirectory returns the configuration package of dir.
func packDirectory(ctx context.Context, dir string) ([]byte, error) {
	res, err := slug.Pack(ctx, dir, slug.Options{Deterministic: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Remove() }()
	return os.ReadFile(res.Path)
}
