package serviceaccount_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
)

type policy struct {
	Issuer string            `json:"issuer"`
	Type   string            `json:"bound_claims_type"`
	Claims map[string]string `json:"bound_claims"`
}

type account struct {
	ID                string   `json:"id"`
	TRN               string   `json:"trn"`
	Path              string   `json:"path"`
	GroupPath         string   `json:"group_path"`
	Description       string   `json:"description"`
	ClientCredentials bool     `json:"client_credentials_enabled"`
	SecretExpiresAt   *string  `json:"client_secret_expires_at"`
	Policies          []policy `json:"oidc_trust_policies"`
	Secret            string   `json:"client_secret"`
	Version           string   `json:"version"`
	Memberships       []struct {
		NamespacePath string `json:"namespace_path"`
		Role          string `json:"role"`
	} `json:"memberships"`
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, s)
	}
	return v
}

const gitlab = "issuer=https://gitlab.example.com,bound-claim=project_path=sandbox/*,bound-claim=ref_protected=true,claims-type=glob"

func TestCreate(t *testing.T) {
	e := admintest.Start(t)
	dep := admintest.Deployer // deployers may manage service accounts

	// With a trust policy only: no secret.
	r := e.OK(t, dep, "service-account", "create", "sandbox/gitlab", "--oidc-trust-policy", gitlab, "--description", "GitLab CI", "-o", "json")
	sa := decode[account](t, r.Stdout)
	if sa.Path != "sandbox/gitlab" || sa.TRN != "trn:service_account:sandbox/gitlab" || sa.ClientCredentials || sa.Secret != "" ||
		len(sa.Policies) != 1 || sa.Policies[0].Type != "GLOB" || sa.Policies[0].Claims["ref_protected"] != "true" ||
		sa.Policies[0].Claims["project_path"] != "sandbox/*" || sa.Description != "GitLab CI" {
		t.Fatalf("created = %+v", sa)
	}
	if strings.Contains(r.Stdout, `"client_secret":`) {
		t.Errorf("client_secret in JSON without one:\n%s", r.Stdout)
	}

	// With client credentials: the secret is shown once, on stdout only.
	r = e.OK(t, dep, "service-account", "create", "ci", "--group", "sandbox", "--enable-client-credentials", "--client-secret-expires", "7d")
	if !strings.Contains(r.Stdout, "Client secret: ") || !strings.Contains(r.Stderr, "shown only this once") {
		t.Fatalf("secret output:\n%s\n%s", r.Stdout, r.Stderr)
	}
	secret := strings.TrimSpace(strings.SplitN(strings.SplitN(r.Stdout, "Client secret: ", 2)[1], "\n", 2)[0])
	if len(secret) < 20 || strings.Contains(r.Stderr, secret) {
		t.Errorf("secret %q (stderr %q)", secret, r.Stderr)
	}
	r = e.OK(t, dep, "service-account", "get", "sandbox/ci")
	if strings.Contains(r.Stdout, secret) || !strings.Contains(r.Stdout, "Client credentials:   yes") {
		t.Errorf("get:\n%s", r.Stdout)
	}
	sa = decode[account](t, e.OK(t, dep, "service-account", "create", "sandbox/ci2", "--enable-client-credentials", "-o", "json").Stdout)
	if sa.Secret == "" || !sa.ClientCredentials || sa.SecretExpiresAt == nil || sa.Policies == nil {
		t.Errorf("json = %+v", sa)
	}

	// A string claim with * gets a warning; the reference CLI's JSON works.
	r = e.OK(t, dep, "service-account", "create", "sandbox/gha", "--oidc-trust-policy",
		`{"issuer":"https://token.actions.githubusercontent.com","bound_claims":{"sub":"repo:org/*"}}`)
	if !strings.Contains(r.Stderr, "Warning: claim sub of the policy for https://token.actions.githubusercontent.com contains *") {
		t.Errorf("no warning: %q", r.Stderr)
	}

	// Mistakes.
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"needs a way to log in"}, "service-account", "create", "sandbox/x")
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"invalid --oidc-trust-policy", "no bound-claim"}, "service-account", "create", "sandbox/x", "--oidc-trust-policy", "issuer=https://a.example")
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"--client-secret-expires needs --enable-client-credentials"}, "service-account", "create", "sandbox/x", "--oidc-trust-policy", gitlab, "--client-secret-expires", "3d")
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"client secret expiration"}, "service-account", "create", "sandbox/x", "--enable-client-credentials", "--client-secret-expires", "365d")
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"already exists"}, "service-account", "create", "sandbox/gitlab", "--enable-client-credentials")
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"belongs to a group"}, "service-account", "create", "lonely", "--enable-client-credentials")
	e.Fail(t, dep, cmdutil.ExitNotFound, []string{"Hint:"}, "service-account", "create", "nope/x", "--enable-client-credentials")
}

func TestListGetUpdateDelete(t *testing.T) {
	e := admintest.Start(t)
	owner := admintest.Owner
	e.OK(t, owner, "group", "create", "sandbox/sub")
	e.OK(t, owner, "service-account", "create", "sandbox/a", "--oidc-trust-policy", gitlab)
	e.OK(t, owner, "service-account", "create", "sandbox/sub/b", "--enable-client-credentials", "--description", "the b")
	e.OK(t, owner, "runner-agent", "create", "sandbox/sub/r", "--tag", "x")
	e.OK(t, owner, "runner-agent", "assign-service-account", "sandbox/a", "sandbox/sub/r")
	e.OK(t, owner, "group", "add-membership", "sandbox/sub", "--service-account", "sandbox/a", "--role", "deployer")

	r := e.OK(t, owner, "service-account", "list", "--group", "sandbox/sub")
	if r.Stdout != "sandbox/sub/b\ttrue\t\tthe b\n" {
		t.Errorf("list: %q", r.Stdout)
	}
	r = e.OK(t, owner, "service-account", "list", "--namespace-path", "sandbox/sub", "--include-inherited")
	if r.Stdout != "sandbox/a\tfalse\thttps://gitlab.example.com\t\nsandbox/sub/b\ttrue\t\tthe b\n" {
		t.Errorf("inherited: %q", r.Stdout)
	}
	if r = e.OK(t, owner, "service-account", "list", "--group", "sandbox/sub", "--include-inherited", "--search", "b"); r.Stdout != "sandbox/sub/b\ttrue\t\tthe b\n" {
		t.Errorf("search: %q", r.Stdout)
	}
	r = e.OK(t, owner, "service-account", "list", "--runner-agent", "sandbox/sub/r", "-o", "json")
	page := decode[struct{ Items []account }](t, r.Stdout)
	if len(page.Items) != 1 || page.Items[0].Path != "sandbox/a" {
		t.Errorf("runner's: %+v", page)
	}
	e.Fail(t, owner, cmdutil.ExitUsage, []string{"give --group GROUP, or --runner-agent"}, "service-account", "list")

	// get shows the roles.
	sa := decode[account](t, e.OK(t, owner, "service-account", "get", "sandbox/a", "-o", "json").Stdout)
	if len(sa.Memberships) != 1 || sa.Memberships[0].NamespacePath != "sandbox/sub" || sa.Memberships[0].Role != "deployer" {
		t.Errorf("memberships = %+v", sa.Memberships)
	}
	r = e.OK(t, owner, "service-account", "get", "trn:service_account:sandbox/sub/b")
	if !strings.Contains(r.Stdout, "Roles:\n  none: it can do nothing yet") {
		t.Errorf("get b:\n%s", r.Stdout)
	}

	// update keeps what is not given.
	e.Fail(t, owner, cmdutil.ExitUsage, []string{"nothing to update"}, "service-account", "update", "sandbox/a")
	up := decode[account](t, e.OK(t, owner, "service-account", "update", "sandbox/a", "--description", "now described", "-o", "json").Stdout)
	if up.Description != "now described" || len(up.Policies) != 1 || up.Policies[0].Claims["project_path"] != "sandbox/*" {
		t.Errorf("update description = %+v", up)
	}
	up = decode[account](t, e.OK(t, owner, "service-account", "update", sa.ID, "-o", "json",
		"--oidc-trust-policy", "issuer=https://one.example,bound-claim=sub=1",
		"--oidc-trust-policy", "issuer=https://two.example,bound-claim=sub=2").Stdout)
	if len(up.Policies) != 2 || up.Policies[1].Issuer != "https://two.example" || up.Description != "now described" || up.Secret != "" {
		t.Errorf("update policies = %+v", up)
	}
	// Clearing every way to log in is refused by the server.
	e.Fail(t, owner, cmdutil.ExitFailure, []string{"at least one OIDC trust policy or client credentials"}, "service-account", "update", "sandbox/a", "--clear-oidc-trust-policies")
	r = e.OK(t, owner, "service-account", "update", "sandbox/a", "--enable-client-credentials", "--clear-oidc-trust-policies")
	if !strings.Contains(r.Stdout, "Client secret: ") || !strings.Contains(r.Stdout, "OIDC trust policies:  none") {
		t.Errorf("enable:\n%s", r.Stdout)
	}
	up = decode[account](t, e.OK(t, owner, "service-account", "update", "sandbox/a", "--enable-client-credentials=false", "--oidc-trust-policy", gitlab, "-o", "json").Stdout)
	if up.ClientCredentials || up.Secret != "" || len(up.Policies) != 1 {
		t.Errorf("disable = %+v", up)
	}
	e.Fail(t, owner, cmdutil.ExitFailure, []string{"version"}, "service-account", "update", "sandbox/a", "--description", "x", "--version", "1")

	// delete takes its memberships and assignments with it.
	if r = e.OK(t, owner, "service-account", "delete", "sandbox/a"); r.Stdout != "Deleted service account sandbox/a.\n" {
		t.Errorf("delete: %q", r.Stdout)
	}
	if r = e.OK(t, owner, "service-account", "list", "--runner-agent", "sandbox/sub/r"); r.Stderr != "No service accounts found.\n" {
		t.Errorf("after delete: %q %q", r.Stdout, r.Stderr)
	}
	e.Fail(t, owner, cmdutil.ExitNotFound, []string{`service account "sandbox/a" not found`}, "service-account", "get", "sandbox/a")
}

func TestPermissions(t *testing.T) {
	e := admintest.Start(t)
	e.OK(t, admintest.Owner, "service-account", "create", "sandbox/sa", "--enable-client-credentials")
	v := admintest.Viewer
	e.OK(t, v, "service-account", "get", "sandbox/sa")
	e.OK(t, v, "service-account", "list", "--group", "sandbox")
	forbidden := []string{"is not authorized", "Hint: This needs the deployer role on sandbox"}
	e.Fail(t, v, cmdutil.ExitAuth, forbidden, "service-account", "create", "sandbox/x", "--enable-client-credentials")
	e.Fail(t, v, cmdutil.ExitAuth, forbidden, "service-account", "update", "sandbox/sa", "--description", "x")
	e.Fail(t, v, cmdutil.ExitAuth, forbidden, "service-account", "delete", "sandbox/sa")
	e.Fail(t, admintest.Outsider, cmdutil.ExitNotFound, []string{`service account "sandbox/sa" not found`}, "service-account", "get", "sandbox/sa")
}
