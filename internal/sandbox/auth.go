package sandbox

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// caller is an authenticated subject: a user or a service account.
type caller struct {
	userID string
	saID   string
}

type ctxKey int

const (
	callerKey ctxKey = iota
	authErrKey
)

// withAuth returns ctx carrying the caller of the bearer token in header h,
// or the authentication error, which only surfaces when a resolver needs a
// caller (as on the real API, anonymous requests go through).
func (s *Server) withAuth(ctx context.Context, h string) context.Context {
	if h == "" {
		return ctx
	}
	if len(h) <= 7 || !strings.EqualFold(h[:6], "bearer") {
		return context.WithValue(ctx, authErrKey, newErr(codeUnauthorized, "invalid authorization header format"))
	}
	c, err := s.callerFromToken(h[7:])
	if err != nil {
		return context.WithValue(ctx, authErrKey, err)
	}
	return context.WithValue(ctx, callerKey, c)
}

func (s *Server) callerFromToken(raw string) (*caller, error) {
	claims, err := s.signer.verify(s.url, raw, s.now())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch claims.Type {
	case tokenTypeUser:
		_, id, gerr := parseGID(claims.Subject)
		if gerr != nil || s.st.Users[id] == nil {
			return nil, newErr(codeUnauthorized, "user associated with token not found")
		}
		if !s.st.Users[id].Active {
			return nil, newErr(codeUnauthorized, "user is not active")
		}
		return &caller{userID: id}, nil
	case tokenTypeServiceAccount:
		_, id, gerr := parseGID(claims.ServiceAccountID)
		if gerr != nil || s.st.ServiceAccounts[id] == nil {
			return nil, newErr(codeUnauthorized, "service account associated with token not found")
		}
		return &caller{saID: id}, nil
	default:
		return nil, newErr(codeUnauthorized, "unsupported token type %q", claims.Type)
	}
}

// authorize returns the caller of ctx or an UNAUTHENTICATED error.
func authorize(ctx context.Context) (*caller, error) {
	if c, ok := ctx.Value(callerKey).(*caller); ok {
		return c, nil
	}
	if err, ok := ctx.Value(authErrKey).(error); ok {
		return nil, err
	}
	return nil, newErr(codeUnauthorized, "Authorization is required")
}

func bearer(r *http.Request) string { return r.Header.Get("Authorization") }

// subject is how the real API names a caller in createdBy fields and
// messages: the user's email or the service account's resource path.
func (s *Server) subject(c *caller) string {
	if c.userID != "" {
		if u := s.st.Users[c.userID]; u != nil {
			return u.Email
		}
		return ""
	}
	if sa := s.st.ServiceAccounts[c.saID]; sa != nil {
		return s.st.saPath(sa)
	}
	return ""
}

func (s *Server) adminMode(c *caller) bool {
	if c.userID == "" {
		return false
	}
	u := s.st.Users[c.userID]
	return u != nil && u.Admin && u.AdminModeExpiration != nil && s.now().Before(*u.AdminModeExpiration)
}

// Permissions, <resource type>:<action> as on the real API.
const (
	permGroupView          = "group:view"
	permGroupCreate        = "group:create"
	permGroupUpdate        = "group:update"
	permGroupDelete        = "group:delete"
	permWorkspaceView      = "workspace:view"
	permWorkspaceCreate    = "workspace:create"
	permWorkspaceUpdate    = "workspace:update"
	permWorkspaceDelete    = "workspace:delete"
	permMembershipView     = "namespace_membership:view"
	permMembershipCreate   = "namespace_membership:create"
	permMembershipUpdate   = "namespace_membership:update"
	permMembershipDelete   = "namespace_membership:delete"
	permRunView            = "run:view"
	permRunCreate          = "run:create"
	permJobView            = "job:view"
	permRunnerView         = "runner:view"
	permRunnerCreate       = "runner:create"
	permRunnerUpdate       = "runner:update"
	permRunnerDelete       = "runner:delete"
	permVariableView       = "variable:view"
	permVariableViewValue  = "variable:view_value"
	permStateVersionView   = "state_version:view"
	permCVView             = "configuration_version:view"
	permCVCreate           = "configuration_version:create"
	permCVUpdate           = "configuration_version:update"
	permServiceAccountView = "service_account:view"
	permServiceAccountNew  = "service_account:create"
	permServiceAccountUpd  = "service_account:update"
	permServiceAccountDel  = "service_account:delete"
)

// viewPerms is what every built-in role grants.
var viewPerms = []string{
	permGroupView, permWorkspaceView, permMembershipView, permRunView, permJobView,
	permRunnerView, permVariableView, permStateVersionView, permCVView, permServiceAccountView,
	"gpg_key:view", "terraform_provider:view", "terraform_module:view", "managed_identity:view",
	"vcs_provider:view", "terraform_provider_mirror:view", "federated_registry:view",
}

// rolePermissions are the built-in roles (contract §3.3).
var rolePermissions = map[string][]string{
	"owner": append(slices.Clone(viewPerms),
		permGroupCreate, permGroupUpdate, permGroupDelete,
		permWorkspaceCreate, permWorkspaceUpdate, permWorkspaceDelete,
		permMembershipCreate, permMembershipUpdate, permMembershipDelete,
		permRunCreate, permRunnerCreate, permRunnerUpdate, permRunnerDelete,
		"variable:create", "variable:update", "variable:delete", permVariableViewValue,
		"state_version:view_data", "state_version:create",
		permCVCreate, permCVUpdate,
		permServiceAccountNew, permServiceAccountUpd, permServiceAccountDel,
		"terraform_module:create", "terraform_module:update", "terraform_module:delete"),
	"deployer": append(slices.Clone(viewPerms),
		permGroupCreate, permGroupUpdate, permGroupDelete,
		permWorkspaceCreate, permWorkspaceUpdate, permWorkspaceDelete,
		permRunCreate,
		"variable:create", "variable:update", "variable:delete", permVariableViewValue,
		"state_version:view_data", "state_version:create",
		permCVCreate, permCVUpdate,
		permServiceAccountNew, permServiceAccountUpd, permServiceAccountDel,
		"terraform_module:create", "terraform_module:update", "terraform_module:delete"),
	"publisher": append(slices.Clone(viewPerms),
		"terraform_module:create", "terraform_module:update", "terraform_module:delete",
		"terraform_provider:create", "terraform_provider:update", "terraform_provider:delete"),
	"viewer": slices.Clone(viewPerms),
}

var roleDescriptions = map[string]string{
	"owner":     "Full access to a namespace, including its memberships.",
	"deployer":  "Create and apply runs, and manage resources, without managing memberships.",
	"publisher": "Publish modules and providers; read access otherwise.",
	"viewer":    "Read-only access.",
}

// roleIDs are fixed ids so role GIDs are stable across restarts.
var roleIDs = map[string]string{
	"owner":     "623c83ea-23fe-4de6-874a-a99ccf6a76fc",
	"deployer":  "8aa7adba-b769-471f-8ebb-3215f33991cb",
	"publisher": "028fa46b-23ba-443f-a24f-61edcde148ff",
	"viewer":    "52da70fd-37b0-4349-bb64-fb4659bcf5f5",
}

func roleByID(id string) string {
	for name, rid := range roleIDs {
		if rid == id {
			return name
		}
	}
	return ""
}

// callerPerms returns the union of permissions the caller's memberships grant
// on nsPath; memberships on a group apply to everything under it.
func (s *Server) callerPerms(c *caller, nsPath string) map[string]bool {
	out := map[string]bool{}
	anc := ancestors(nsPath)
	for _, m := range s.st.Memberships {
		if !slices.Contains(anc, m.NamespacePath) {
			continue
		}
		if (c.userID != "" && m.UserID == c.userID) || (c.saID != "" && m.ServiceAccountID == c.saID) {
			for _, p := range rolePermissions[m.Role] {
				out[p] = true
			}
		}
	}
	return out
}

// requirePerm returns nil when the caller holds perm on nsPath, FORBIDDEN
// when it has some access there, and NOT_FOUND when it has none (contract
// §3.3). Admins with admin mode on hold every permission.
func (s *Server) requirePerm(c *caller, perm, nsPath string) error {
	if s.adminMode(c) {
		return nil
	}
	perms := s.callerPerms(c, nsPath)
	if perms[perm] {
		return nil
	}
	kind, subj := "user", s.subject(c)
	if c.saID != "" {
		kind = "service account"
	}
	if len(perms) > 0 {
		return errForbidden("%s %s is not authorized to perform the requested operation: ensure that the %s has been added as a member to the group/workspace with the role required to perform the requested operation", kind, subj, kind)
	}
	return errNotFound("either the requested resource does not exist or the %s %s is not authorized to perform the requested operation: ensure that the %s has been added as a member to the group/workspace with the role required to perform the requested operation", kind, subj, kind)
}

// canView reports whether the caller can see the namespace at all.
func (s *Server) canView(c *caller, nsPath string) bool {
	return s.adminMode(c) || len(s.callerPerms(c, nsPath)) > 0
}
