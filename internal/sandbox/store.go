package sandbox

import (
	"slices"
	"strings"
	"time"
)

// store is the in-memory database. Every method expects the server lock held.
type store struct {
	seq             int64
	Users           map[string]*User
	Groups          map[string]*Group
	Workspaces      map[string]*Workspace
	ConfigVersions  map[string]*ConfigurationVersion
	StateVersions   map[string]*StateVersion
	Runs            map[string]*Run
	Jobs            map[string]*Job
	Runners         map[string]*Runner
	ServiceAccounts map[string]*ServiceAccount
	Memberships     map[string]*Membership
	Variables       map[string]*NamespaceVariable
}

func newStore() *store {
	return &store{
		Users:           map[string]*User{},
		Groups:          map[string]*Group{},
		Workspaces:      map[string]*Workspace{},
		ConfigVersions:  map[string]*ConfigurationVersion{},
		StateVersions:   map[string]*StateVersion{},
		Runs:            map[string]*Run{},
		Jobs:            map[string]*Job{},
		Runners:         map[string]*Runner{},
		ServiceAccounts: map[string]*ServiceAccount{},
		Memberships:     map[string]*Membership{},
		Variables:       map[string]*NamespaceVariable{},
	}
}

func (st *store) newMeta(now time.Time) Meta {
	st.seq++
	return Meta{ID: newID(), Seq: st.seq, Version: 1, CreatedAt: now, UpdatedAt: now}
}

func touch(m *Meta, now time.Time) {
	m.Version++
	m.UpdatedAt = now
}

// values returns the records of m in insertion order.
func values[T any](m map[string]*T, seq func(*T) int64) []*T {
	out := make([]*T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *T) int { return int(seq(a) - seq(b)) })
	return out
}

func (st *store) groupByPath(p string) *Group {
	for _, g := range st.Groups {
		if g.FullPath == p {
			return g
		}
	}
	return nil
}

func (st *store) workspaceByPath(p string) *Workspace {
	for _, w := range st.Workspaces {
		if w.FullPath == p {
			return w
		}
	}
	return nil
}

func (st *store) userByName(name string) *User {
	for _, u := range st.Users {
		if u.Username == name {
			return u
		}
	}
	return nil
}

func (st *store) groupPath(id string) string {
	if g := st.Groups[id]; g != nil {
		return g.FullPath
	}
	return ""
}

func (st *store) serviceAccountByPath(p string) *ServiceAccount {
	gp, name := splitLast(p)
	for _, sa := range st.ServiceAccounts {
		if sa.Name == name && st.groupPath(sa.GroupID) == gp {
			return sa
		}
	}
	return nil
}

func (st *store) runnerByPath(p string) *Runner {
	gp, name := splitLast(p)
	for _, r := range st.Runners {
		if r.Name == name && st.groupPath(r.GroupID) == gp {
			return r
		}
	}
	return nil
}

func (st *store) runnerPath(r *Runner) string {
	if r.shared() {
		return r.Name
	}
	return st.groupPath(r.GroupID) + "/" + r.Name
}

func (st *store) saPath(sa *ServiceAccount) string {
	return st.groupPath(sa.GroupID) + "/" + sa.Name
}

func (st *store) runByPlanID(id string) *Run {
	for _, r := range st.Runs {
		if r.Plan.ID == id {
			return r
		}
	}
	return nil
}

func (st *store) runByApplyID(id string) *Run {
	for _, r := range st.Runs {
		if r.Apply != nil && r.Apply.ID == id {
			return r
		}
	}
	return nil
}

func (st *store) workspaceRuns(wsID string) []*Run {
	var out []*Run
	for _, r := range values(st.Runs, func(r *Run) int64 { return r.Seq }) {
		if r.WorkspaceID == wsID {
			out = append(out, r)
		}
	}
	return out
}

// ancestors returns p and its parent paths, nearest first: a/b/c, a/b, a.
func ancestors(p string) []string {
	var out []string
	for p != "" {
		out = append(out, p)
		p, _ = splitLast(p)
	}
	return out
}

// isWithin reports whether path equals prefix or lies under it.
func isWithin(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// namespaceExists reports whether a group or workspace has the path.
func (st *store) namespaceExists(p string) bool {
	return st.groupByPath(p) != nil || st.workspaceByPath(p) != nil
}

// effectiveRunnerTags returns the runner tags of a namespace and the path
// they come from, walking up the groups while tags are inherited.
func (st *store) effectiveRunnerTags(nsPath string) ([]string, string, bool) {
	inherited := false
	for _, p := range ancestors(nsPath) {
		var tags *[]string
		if w := st.workspaceByPath(p); w != nil {
			tags = w.RunnerTags
		} else if g := st.groupByPath(p); g != nil {
			tags = g.RunnerTags
		}
		if tags != nil {
			return slices.Clone(*tags), p, inherited
		}
		inherited = true
	}
	// Nothing set anywhere: the empty default comes from the root group.
	anc := ancestors(nsPath)
	root := anc[len(anc)-1]
	return []string{}, root, root != nsPath
}
