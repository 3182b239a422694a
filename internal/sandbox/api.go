package sandbox

import (
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// In-process API for tests and the tharsis-sandbox command.

// IssueToken returns a user-session token for username valid for ttl (a
// negative ttl gives an expired token, for 401 tests).
func (s *Server) IssueToken(username string, ttl time.Duration) (string, error) {
	s.mu.Lock()
	u := s.st.userByName(username)
	s.mu.Unlock()
	if u == nil {
		return "", fmt.Errorf("no user %q", username)
	}
	return s.signer.issue(s.url, tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: toGID(gidUser, u.ID)},
		Type:             tokenTypeUser,
	}, s.now(), ttl)
}

// CreateUser adds a user and returns a token for it valid for 24 hours.
func (s *Server) CreateUser(username string, admin bool) (string, error) {
	if err := validateName(username); err != nil {
		return "", err
	}
	s.mu.Lock()
	if s.st.userByName(username) != nil {
		s.mu.Unlock()
		return "", fmt.Errorf("user %q already exists", username)
	}
	u := &User{Meta: s.st.newMeta(s.now()), Username: username, Email: username + "@sandbox.local", Admin: admin, Active: true}
	s.st.Users[u.ID] = u
	s.mu.Unlock()
	return s.IssueToken(username, 24*time.Hour)
}

// CreateServiceAccount adds a service account with client credentials to
// the group at groupPath and returns its resource path.
func (s *Server) CreateServiceAccount(groupPath, name string) (string, error) {
	if err := validateName(name); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.groupByPath(groupPath)
	if g == nil {
		return "", fmt.Errorf("no group %q", groupPath)
	}
	if s.st.serviceAccountByPath(groupPath+"/"+name) != nil {
		return "", fmt.Errorf("service account %s/%s already exists", groupPath, name)
	}
	sa := &ServiceAccount{Meta: s.st.newMeta(s.now()), Name: name, GroupID: g.ID, CreatedBy: "system", TrustPolicies: []TrustPolicy{}}
	if _, err := s.resetClientSecret(sa, nil); err != nil {
		return "", err
	}
	s.st.ServiceAccounts[sa.ID] = sa
	return s.st.saPath(sa), nil
}

// IssueServiceAccountToken returns a service-account token for the service
// account at path ("group/name") valid for ttl (Options.ServiceAccountTokenTTL
// when 0), as a
// successful serviceAccountCreateToken would.
func (s *Server) IssueServiceAccountToken(path string, ttl time.Duration) (string, error) {
	if ttl == 0 {
		ttl = s.serviceAccountTokenTTL()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sa := s.st.serviceAccountByPath(path)
	if sa == nil {
		return "", fmt.Errorf("no service account %q", path)
	}
	return s.issueServiceAccountToken(sa, ttl, "oidc_relying_party")
}

// AddMembership gives a member a role (owner, deployer, viewer, publisher)
// on a group or workspace. memberKind is "user" (memberName = username) or
// "service_account" (memberName = its resource path).
func (s *Server) AddMembership(namespacePath, memberKind, memberName, role string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.namespaceExists(namespacePath) {
		return fmt.Errorf("no namespace %q", namespacePath)
	}
	var err error
	switch memberKind {
	case "user":
		_, err = s.addMembership(nil, namespacePath, memberName, "", "", role)
	case "service_account":
		sa := s.st.serviceAccountByPath(memberName)
		if sa == nil {
			return fmt.Errorf("no service account %q", memberName)
		}
		_, err = s.addMembership(nil, namespacePath, "", toGID(gidServiceAccount, sa.ID), "", role)
	default:
		return fmt.Errorf("unknown member kind %q", memberKind)
	}
	return err
}

// SetNamespaceVariable sets a variable on a group or workspace; runs of
// workspaces under it inherit it.
func (s *Server) SetNamespaceVariable(namespacePath, category, key, value string, sensitive bool) error {
	if category != "terraform" && category != "environment" {
		return fmt.Errorf("category must be terraform or environment")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.namespaceExists(namespacePath) {
		return fmt.Errorf("no namespace %q", namespacePath)
	}
	for _, v := range s.st.Variables {
		if v.NamespacePath == namespacePath && v.Category == category && v.Key == key {
			v.Value, v.Sensitive, v.VersionID = value, sensitive, newID()
			touch(&v.Meta, s.now())
			return nil
		}
	}
	v := &NamespaceVariable{Meta: s.st.newMeta(s.now()), NamespacePath: namespacePath, Category: category,
		Key: key, Value: value, Sensitive: sensitive, VersionID: newID()}
	s.st.Variables[v.ID] = v
	return nil
}

// CreateWorkspace adds a workspace to an existing group.
func (s *Server) CreateWorkspace(groupPath, name string) error {
	if err := validateName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.groupByPath(groupPath)
	if g == nil {
		return fmt.Errorf("no group %q", groupPath)
	}
	if s.st.namespaceExists(groupPath + "/" + name) {
		return fmt.Errorf("namespace %s/%s already exists", groupPath, name)
	}
	w := s.newWorkspace(g, name, "", "system")
	s.st.Workspaces[w.ID] = w
	return nil
}

// Runs returns snapshots of a workspace's runs, oldest first.
func (s *Server) Runs(workspacePath string) []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.st.workspaceByPath(workspacePath)
	if w == nil {
		return nil
	}
	var out []Run
	for _, r := range s.st.workspaceRuns(w.ID) {
		out = append(out, r.clone())
	}
	return out
}

// Run returns a snapshot of the run with the given GID.
func (s *Server) Run(gid string) (Run, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, id, err := parseGID(gid)
	if r := s.st.Runs[id]; err == nil && r != nil {
		return r.clone(), true
	}
	return Run{}, false
}

// ConfigurationVersions returns snapshots of a workspace's configuration
// versions, oldest first.
func (s *Server) ConfigurationVersions(workspacePath string) []ConfigurationVersion {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.st.workspaceByPath(workspacePath)
	if w == nil {
		return nil
	}
	var out []ConfigurationVersion
	for _, cv := range values(s.st.ConfigVersions, func(c *ConfigurationVersion) int64 { return c.Seq }) {
		if cv.WorkspaceID == w.ID {
			c := *cv
			c.Data = slices.Clone(cv.Data)
			out = append(out, c)
		}
	}
	return out
}

// Jobs returns snapshots of a run's jobs (plan first), given the run's GID.
func (s *Server) Jobs(runGID string) []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, id, err := parseGID(runGID)
	r := s.st.Runs[id]
	if err != nil || r == nil {
		return nil
	}
	ids := slices.Clone(r.Plan.JobIDs)
	if r.Apply != nil {
		ids = append(ids, r.Apply.JobIDs...)
	}
	var out []Job
	for _, jid := range ids {
		if j := s.st.Jobs[jid]; j != nil {
			c := *j
			c.Log = nil
			out = append(out, c)
		}
	}
	return out
}

// JobLog returns a job's log so far, given the job's GID.
func (s *Server) JobLog(jobGID string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, id, err := parseGID(jobGID)
	if j := s.st.Jobs[id]; err == nil && j != nil {
		return slices.Clone(j.Log.data)
	}
	return nil
}

// Workspace returns a snapshot of the workspace at path.
func (s *Server) Workspace(path string) (Workspace, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.st.workspaceByPath(path); w != nil {
		return *w, true
	}
	return Workspace{}, false
}

// GID returns the global id the API gives a record of the given kind
// ("workspace", "run", "job", ...) with model id id.
func GID(kind, id string) string {
	codes := map[string]string{
		"workspace": gidWorkspace, "group": gidGroup, "run": gidRun, "plan": gidPlan, "apply": gidApply,
		"job": gidJob, "configuration_version": gidConfigVersion, "state_version": gidStateVersion,
		"service_account": gidServiceAccount, "runner": gidRunner, "user": gidUser,
	}
	return toGID(codes[kind], id)
}
