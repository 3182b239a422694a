package sandbox

import (
	"strings"
)

// Objects that are not records of their own.
type (
	stateOutputRef struct {
		sv *StateVersion
		i  int
	}
	runnerSessionRef struct {
		runner *Runner
		i      int
	}
	roleRef struct{ name string }
)

// lookup resolves a GID or TRN to a record (nil when there is none). Plan
// and apply ids resolve to their run, as on the real API. Expects s.mu held.
func (s *Server) lookup(id string) (any, error) {
	rf, err := parseRef(id)
	if err != nil {
		return nil, err
	}
	if rf.isTRN {
		return s.lookupTRN(rf.trn)
	}
	return s.lookupGID(rf.gidCode, rf.id), nil
}

func (s *Server) lookupGID(code, id string) any {
	st := s.st
	switch code {
	case gidGroup:
		return nilIfNone(st.Groups[id])
	case gidWorkspace:
		return nilIfNone(st.Workspaces[id])
	case gidRun:
		return nilIfNone(st.Runs[id])
	case gidPlan:
		return nilIfNone(st.runByPlanID(id))
	case gidApply:
		return nilIfNone(st.runByApplyID(id))
	case gidJob:
		return nilIfNone(st.Jobs[id])
	case gidConfigVersion:
		return nilIfNone(st.ConfigVersions[id])
	case gidStateVersion:
		return nilIfNone(st.StateVersions[id])
	case gidStateOutput:
		for _, sv := range st.StateVersions {
			for i, o := range sv.Outputs {
				if o.ID == id {
					return stateOutputRef{sv: sv, i: i}
				}
			}
		}
	case gidServiceAccount:
		return nilIfNone(st.ServiceAccounts[id])
	case gidRunner:
		return nilIfNone(st.Runners[id])
	case gidRunnerSession:
		for _, r := range st.Runners {
			for i, ss := range r.Sessions {
				if ss.ID == id {
					return runnerSessionRef{runner: r, i: i}
				}
			}
		}
	case gidUser:
		return nilIfNone(st.Users[id])
	case gidMembership:
		return nilIfNone(st.Memberships[id])
	case gidVariable:
		return nilIfNone(st.Variables[id])
	case gidRole:
		if name := roleByID(id); name != "" {
			return roleRef{name: name}
		}
	default:
		return s.lookupRegistryGID(code, id)
	}
	return nil
}

// nilIfNone turns a typed nil pointer into an untyped nil.
func nilIfNone[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}

func (s *Server) lookupTRN(t trn) (any, error) {
	st := s.st
	// wsChild resolves "<wsPath>/<gid>" paths: the gid must be of the
	// expected type and the record must belong to that workspace.
	wsChild := func(p, code string) (string, string, bool) {
		wsPath, g := splitLast(p)
		c, id, err := parseGID(g)
		if err != nil || c != code || st.workspaceByPath(wsPath) == nil {
			return "", "", false
		}
		return st.workspaceByPath(wsPath).ID, id, true
	}
	switch t.typ {
	case "group":
		return nilIfNone(st.groupByPath(t.path)), nil
	case "workspace":
		return nilIfNone(st.workspaceByPath(t.path)), nil
	case "run", "plan", "apply":
		p := t.path
		if t.typ != "run" {
			var last string
			p, last = splitLast(p)
			if last != t.typ {
				return nil, nil
			}
		}
		if wsID, id, ok := wsChild(p, gidRun); ok {
			if r := st.Runs[id]; r != nil && r.WorkspaceID == wsID {
				return r, nil
			}
		}
	case "job":
		if wsID, id, ok := wsChild(t.path, gidJob); ok {
			if j := st.Jobs[id]; j != nil && j.WorkspaceID == wsID {
				return j, nil
			}
		}
	case "configuration_version":
		if wsID, id, ok := wsChild(t.path, gidConfigVersion); ok {
			if cv := st.ConfigVersions[id]; cv != nil && cv.WorkspaceID == wsID {
				return cv, nil
			}
		}
	case "state_version":
		if wsID, id, ok := wsChild(t.path, gidStateVersion); ok {
			if sv := st.StateVersions[id]; sv != nil && sv.WorkspaceID == wsID {
				return sv, nil
			}
		}
	case "service_account":
		return nilIfNone(st.serviceAccountByPath(t.path)), nil
	case "runner":
		return nilIfNone(st.runnerByPath(t.path)), nil
	case "runner_session":
		rp, g := splitLast(t.path)
		c, id, err := parseGID(g)
		if err != nil || c != gidRunnerSession {
			return nil, nil
		}
		if r := st.runnerByPath(rp); r != nil {
			for i, ss := range r.Sessions {
				if ss.ID == id {
					return runnerSessionRef{runner: r, i: i}, nil
				}
			}
		}
	case "user":
		return nilIfNone(st.userByName(t.path)), nil
	case "role":
		if _, ok := roleIDs[t.path]; ok {
			return roleRef{name: t.path}, nil
		}
	case "namespace_membership":
		ns, g := splitLast(t.path)
		c, id, err := parseGID(g)
		if err == nil && c == gidMembership {
			if m := st.Memberships[id]; m != nil && m.NamespacePath == ns {
				return m, nil
			}
		}
	case "variable":
		parts := strings.Split(t.path, "/")
		if len(parts) >= 3 {
			ns := strings.Join(parts[:len(parts)-2], "/")
			cat, key := parts[len(parts)-2], parts[len(parts)-1]
			for _, v := range st.Variables {
				if v.NamespacePath == ns && v.Category == cat && v.Key == key {
					return v, nil
				}
			}
		}
	default:
		return s.lookupRegistryTRN(t)
	}
	return nil, nil
}

// nsPathOf returns the namespace whose memberships govern access to obj;
// public objects (users, roles, shared runners) are visible to every caller.
func (s *Server) nsPathOf(obj any) (path string, public bool) {
	st := s.st
	wsPath := func(id string) string {
		if w := st.Workspaces[id]; w != nil {
			return w.FullPath
		}
		return ""
	}
	switch o := obj.(type) {
	case *Group:
		return o.FullPath, false
	case *Workspace:
		return o.FullPath, false
	case *Run:
		return wsPath(o.WorkspaceID), false
	case *Job:
		return wsPath(o.WorkspaceID), false
	case *ConfigurationVersion:
		return wsPath(o.WorkspaceID), false
	case *StateVersion:
		return wsPath(o.WorkspaceID), false
	case stateOutputRef:
		return wsPath(o.sv.WorkspaceID), false
	case *ServiceAccount:
		return st.groupPath(o.GroupID), false
	case *Runner:
		if o.shared() {
			return "", true
		}
		return st.groupPath(o.GroupID), false
	case runnerSessionRef:
		if o.runner.shared() {
			return "", true
		}
		return st.groupPath(o.runner.GroupID), false
	case *Membership:
		return o.NamespacePath, false
	case *NamespaceVariable:
		return o.NamespacePath, false
	}
	if p, public, ok := s.registryNSPath(obj); ok {
		return p, public
	}
	return "", true
}

// visible reports whether the caller may see obj at all.
func (s *Server) visible(c *caller, obj any) bool {
	p, public := s.nsPathOf(obj)
	return public || s.canView(c, p)
}

// find resolves id to a record of type T the caller can see. No record, a
// record of another type and no access all give NOT_FOUND, as on the real
// API. Expects s.mu held.
func find[T any](s *Server, c *caller, id, what string) (T, error) {
	var zero T
	if id == "" {
		return zero, errInvalid("%s ID is required", what)
	}
	obj, err := s.lookup(id)
	if err != nil {
		return zero, err
	}
	t, ok := obj.(T)
	if !ok {
		return zero, errNotFound("%s with ID %s not found", what, id)
	}
	if p, public := s.nsPathOf(obj); !public && !s.canView(c, p) {
		return zero, s.requirePerm(c, "view", p)
	}
	return t, nil
}
