package sandbox

import (
	"strings"
	"testing"
)

func TestGroupsWorkspacesAndAdminMode(t *testing.T) {
	h := start(t)
	create := func(name string, parent any) map[string]any {
		return h.mutation(h.token, "createGroup", "CreateGroupInput", "group { id fullPath }", map[string]any{"name": name, "description": "", "parentId": parent})
	}
	if typ, msg := problemOf(create("top", nil)); typ != "FORBIDDEN" || msg != "only admins with admin mode activated can create top-level groups" {
		t.Fatalf("top-level without admin mode: %s %s", typ, msg)
	}
	p := h.mutation(h.token, "activateAdminMode", "ActivateAdminModeInput", "user { adminModeEnabled adminModeExpiration }", map[string]any{"durationMinutes": 10})
	h.noProblems(p)
	if dig(p, "user", "adminModeEnabled") != true {
		t.Fatalf("admin mode = %v", p)
	}
	p = create("top", nil)
	h.noProblems(p)
	h.noProblems(h.mutation(h.token, "deactivateAdminMode", "DeactivateAdminModeInput", "user { adminModeEnabled }", map[string]any{}))

	// The creator owns the new group even without admin mode.
	p = create("child", "trn:group:top")
	h.noProblems(p)
	if str(p, "group", "fullPath") != "top/child" {
		t.Fatalf("group = %v", p)
	}
	if typ, _ := problemOf(create("child", "trn:group:top")); typ != "CONFLICT" {
		t.Fatalf("duplicate group: %s", typ)
	}
	if typ, _ := problemOf(create("Bad Name", "trn:group:top")); typ != "BAD_REQUEST" {
		t.Fatalf("bad name: %s", typ)
	}
	p = h.mutation(h.token, "createWorkspace", "CreateWorkspaceInput", "workspace { id fullPath maxJobDuration terraformVersion labels { key value } runnerTags { inherited namespacePath value } }", map[string]any{
		"name": "ws", "description": "d", "groupId": "trn:group:top/child", "labels": []map[string]any{{"key": "env", "value": "dev"}}})
	h.noProblems(p)
	if str(p, "workspace", "fullPath") != "top/child/ws" || dig(p, "workspace", "maxJobDuration") != float64(720) ||
		dig(p, "workspace", "runnerTags", "inherited") != true {
		t.Fatalf("workspace = %v", p["workspace"])
	}
	p = h.mutation(h.token, "createWorkspace", "CreateWorkspaceInput", "workspace { id }", map[string]any{"name": "ws2", "description": "", "groupId": "trn:group:top", "maxJobDuration": 0})
	if typ, _ := problemOf(p); typ != "BAD_REQUEST" {
		t.Fatalf("maxJobDuration 0: %s", typ)
	}

	// Lists and nested fields.
	d := h.ok(h.gql(`query { groups(first: 10, sort: FULL_PATH_ASC) { totalCount edges { node { fullPath } } }
	  workspaces(first: 10, search: "child") { totalCount }
	  namespace(fullPath: "top/child") { ... on Group { parent { fullPath } workspaces(first: 5) { totalCount } memberships { role { name } } } } }`, nil))
	if dig(d, "groups", "totalCount") != float64(3) || dig(d, "workspaces", "totalCount") != float64(1) ||
		str(d, "namespace", "parent", "fullPath") != "top" || dig(d, "namespace", "workspaces", "totalCount") != float64(1) {
		t.Fatalf("lists = %v", d)
	}

	// Optimistic locking on update.
	r := h.gql(`mutation { updateWorkspace(input: {id: "trn:workspace:top/child/ws", description: "x", metadata: {version: "99"}}) { problems { message } } }`, nil)
	if r.code() != "OPTIMISTIC_LOCK" || r.Data != nil {
		t.Fatalf("stale version: %s", r.Raw)
	}

	// Deleting a non-empty group needs force.
	p = h.mutation(h.token, "deleteGroup", "DeleteGroupInput", "group { id }", map[string]any{"id": "trn:group:top"})
	if typ, msg := problemOf(p); typ != "CONFLICT" || !strings.Contains(msg, "contains subgroups") {
		t.Fatalf("delete non-empty: %s %s", typ, msg)
	}
	h.noProblems(h.mutation(h.token, "deleteGroup", "DeleteGroupInput", "group { id }", map[string]any{"id": "trn:group:top", "force": true}))
	if d := h.ok(h.gql(`query { namespace(fullPath: "top/child/ws") { id } }`, nil)); d["namespace"] != nil {
		t.Fatal("workspace survived its group")
	}
}

func TestDeleteWorkspaceWithState(t *testing.T) {
	h := start(t)
	id := h.newRun(false, map[string]any{"autoApply": true})
	h.waitStatus(id, runApplied)
	p := h.mutation(h.token, "deleteWorkspace", "DeleteWorkspaceInput", "workspace { id }", map[string]any{"id": "trn:workspace:" + SeedWorkspace})
	if typ, msg := problemOf(p); typ != "CONFLICT" || msg != "run associated with the current state version was not a destroy run" {
		t.Fatalf("delete with resources: %s %s", typ, msg)
	}
	h.noProblems(h.mutation(h.token, "deleteWorkspace", "DeleteWorkspaceInput", "workspace { id }", map[string]any{"id": "trn:workspace:" + SeedWorkspace, "force": true}))
	if len(h.s.Runs(SeedWorkspace)) != 0 {
		t.Fatal("runs survived")
	}
}

func TestMembershipsAndServiceAccounts(t *testing.T) {
	h := start(t)
	if _, err := h.s.CreateUser("uma", false); err != nil {
		t.Fatal(err)
	}
	add := func(in map[string]any) map[string]any {
		in["namespacePath"] = SeedWorkspace
		return h.mutation(h.token, "createNamespaceMembership", "CreateNamespaceMembershipInput",
			"membership { id role { name } member { __typename ... on User { username } ... on ServiceAccount { resourcePath } } } namespace { fullPath }", in)
	}
	p := add(map[string]any{"username": "uma", "role": "viewer"})
	h.noProblems(p)
	mid := str(p, "membership", "id")
	if str(p, "membership", "member", "username") != "uma" || str(p, "namespace", "fullPath") != SeedWorkspace {
		t.Fatalf("membership = %v", p)
	}
	if typ, msg := problemOf(add(map[string]any{"username": "uma", "role": "viewer"})); typ != "CONFLICT" || msg != "member already exists" {
		t.Fatalf("duplicate: %s %s", typ, msg)
	}
	if typ, _ := problemOf(add(map[string]any{"username": "nobody", "role": "viewer"})); typ != "NOT_FOUND" {
		t.Fatalf("unknown user: %s", typ)
	}
	if typ, _ := problemOf(add(map[string]any{"username": "uma", "role": "king"})); typ != "NOT_FOUND" {
		t.Fatalf("unknown role: %s", typ)
	}
	h.noProblems(h.mutation(h.token, "updateNamespaceMembership", "UpdateNamespaceMembershipInput", "membership { role { name } }", map[string]any{"id": mid, "role": "deployer"}))

	// Service accounts: validation, secret once, membership.
	csa := func(in map[string]any) map[string]any {
		in["groupId"], in["description"] = "trn:group:"+SeedGroup, ""
		if _, ok := in["oidcTrustPolicies"]; !ok {
			in["oidcTrustPolicies"] = []any{}
		}
		return h.mutation(h.token, "createServiceAccount", "CreateServiceAccountInput", "serviceAccount { id resourcePath clientCredentialsEnabled clientSecretExpiresAt } clientSecret", in)
	}
	if typ, msg := problemOf(csa(map[string]any{"name": "a", "enableClientCredentials": false})); typ != "BAD_REQUEST" || msg != "at least one OIDC trust policy or client credentials must be configured" {
		t.Fatalf("no auth method: %s %s", typ, msg)
	}
	p = csa(map[string]any{"name": "deployer-sa", "enableClientCredentials": true})
	h.noProblems(p)
	if str(p, "clientSecret") == "" || dig(p, "serviceAccount", "clientCredentialsEnabled") != true || str(p, "serviceAccount", "resourcePath") != "sandbox/deployer-sa" {
		t.Fatalf("service account = %v", p)
	}
	sa := str(p, "serviceAccount", "id")
	p = add(map[string]any{"serviceAccountId": sa, "role": "deployer"})
	h.noProblems(p)
	if str(p, "membership", "member", "resourcePath") != "sandbox/deployer-sa" {
		t.Fatalf("sa membership = %v", p)
	}
	d := h.ok(h.gql(`query($id: String!) { node(id: $id) { ... on ServiceAccount { namespaceMemberships(first: 5) { totalCount } } } }`, map[string]any{"id": sa}))
	if dig(d, "node", "namespaceMemberships", "totalCount") != float64(1) {
		t.Fatalf("sa memberships = %v", d)
	}
	// A token that is not a JWT is refused: UNAUTHENTICATED, HTTP 401 (oidc_test.go covers the exchange).
	r := h.gqlAs("", `mutation($id: String!) { serviceAccountCreateToken(input: {serviceAccountId: $id, token: "x.y.z"}) { token problems { message } } }`, map[string]any{"id": sa})
	if r.Status != 401 || r.code() != "UNAUTHENTICATED" {
		t.Fatalf("token exchange: %d %s", r.Status, r.Raw)
	}
	h.noProblems(h.mutation(h.token, "deleteServiceAccount", "DeleteServiceAccountInput", "serviceAccount { id }", map[string]any{"id": sa}))
	h.noProblems(h.mutation(h.token, "deleteNamespaceMembership", "DeleteNamespaceMembershipInput", "membership { id }", map[string]any{"id": mid}))
	d = h.ok(h.gql(`query { namespace(fullPath: "sandbox/demo") { memberships { id } } }`, nil))
	if n := len(dig(d, "namespace", "memberships").([]any)); n != 1 { // the admin's, inherited from the group
		t.Fatalf("memberships left: %d", n)
	}
}

func TestModuleSourceRuns(t *testing.T) {
	h := start(t)
	mod := func(greet string) map[string][]byte {
		return map[string][]byte{"main.tf": []byte(`output "v" { value = "` + greet + `" }` + "\nresource \"null_resource\" \"m\" {}\n")}
	}
	src := "sandbox.local/sandbox/demo/null"
	for v, g := range map[string]string{"1.0.0": "one", "1.2.0": "onetwo", "2.0.0-beta.1": "beta"} {
		if err := h.s.RegisterModule(src, v, mod(g)); err != nil {
			t.Fatal(err)
		}
	}
	ws := "trn:workspace:" + SeedWorkspace
	tests := []struct {
		name    string
		in      map[string]any
		version string
		problem string
	}{
		{"latest by default", map[string]any{"moduleSource": src}, "1.2.0", ""},
		{"constraint", map[string]any{"moduleSource": src, "moduleVersion": "~> 1.0.0"}, "1.0.0", ""},
		{"v prefix", map[string]any{"moduleSource": src, "moduleVersion": "v1.0.0"}, "1.0.0", ""},
		{"prereleases", map[string]any{"moduleSource": src, "includeModulePrereleases": true}, "2.0.0-beta.1", ""},
		{"empty version", map[string]any{"moduleSource": src, "moduleVersion": ""}, "", "module version cannot be empty; please specify a valid semantic version"},
		{"latest", map[string]any{"moduleSource": src, "moduleVersion": "latest"}, "", "'latest' is not a valid module version; please specify a valid semantic version"},
		{"no match", map[string]any{"moduleSource": src, "moduleVersion": ">= 3"}, "", "failed to resolve module source: no version"},
		{"unknown module", map[string]any{"moduleSource": "sandbox.local/x/y/z"}, "", "failed to resolve module source"},
		{"both", map[string]any{"moduleSource": src, "configurationVersionId": "x"}, "", "must supply configuration version ID or module source but not both"},
		{"neither", map[string]any{}, "", "must supply either configuration version ID or module source"},
		{"version without source", map[string]any{"configurationVersionId": "x", "moduleVersion": "1"}, "", "must supply configuration version ID or module version but not both"},
		{"refresh-only destroy", map[string]any{"moduleSource": src, "refreshOnly": true, "isDestroy": true}, "", "refresh_only is not allowed with destroy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in["workspaceId"] = ws
			tc.in["speculative"] = true
			p := h.mutation(h.token, "createRun", "CreateRunInput", "run { id moduleVersion moduleDigest moduleSource }", tc.in)
			if tc.problem != "" {
				if typ, msg := problemOf(p); typ != "BAD_REQUEST" || !strings.HasPrefix(msg, tc.problem) {
					t.Fatalf("problem %s %q", typ, msg)
				}
				return
			}
			h.noProblems(p)
			if str(p, "run", "moduleVersion") != tc.version || len(str(p, "run", "moduleDigest")) != 64 {
				t.Fatalf("run = %v", p["run"])
			}
			h.waitStatus(str(p, "run", "id"), runPlannedAndFinished)
		})
	}
}
