package adminmode_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

const admin = sandbox.SeedAdmin

type status struct {
	Username  string     `json:"username"`
	Admin     bool       `json:"admin"`
	Enabled   bool       `json:"admin_mode_enabled"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func decode(t *testing.T, s string) status {
	t.Helper()
	var v status
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, s)
	}
	return v
}

func TestActivateDeactivate(t *testing.T) {
	e := admintest.Start(t)
	if r := e.OK(t, admin, "admin-mode", "status"); r.Stdout != "Admin mode is off for admin.\n" {
		t.Errorf("status: %q", r.Stdout)
	}
	before := time.Now()
	s := decode(t, e.OK(t, admin, "admin-mode", "activate", "--duration", "2h", "-o", "json").Stdout)
	if !s.Admin || !s.Enabled || s.ExpiresAt == nil || s.ExpiresAt.Before(before.Add(119*time.Minute)) || s.ExpiresAt.After(time.Now().Add(121*time.Minute)) {
		t.Fatalf("activate = %+v", s)
	}
	// The default is 30 minutes; `admin` is an alias of the noun.
	r := e.OK(t, admin, "admin", "activate")
	if !strings.HasPrefix(r.Stdout, "Admin mode is on for admin until ") || !strings.Contains(r.Stdout, "(in 29m)") && !strings.Contains(r.Stdout, "(in 30m)") {
		t.Errorf("activate: %q", r.Stdout)
	}
	if s = decode(t, e.OK(t, admin, "admin-mode", "status", "--json").Stdout); !s.Enabled {
		t.Errorf("status = %+v", s)
	}
	// Admin mode changes what an administrator may do.
	e.OK(t, admin, "group", "create", "platform")
	if r = e.OK(t, admin, "admin-mode", "deactivate"); r.Stdout != "Admin mode is off for admin.\n" {
		t.Errorf("deactivate: %q", r.Stdout)
	}
	e.Fail(t, admin, cmdutil.ExitAuth, []string{"tharsis admin-mode activate"}, "group", "create", "platform2")

	for _, d := range []string{"7h", "30s", "90s", "0s1ms"} {
		e.Fail(t, admin, cmdutil.ExitUsage, []string{"invalid --duration"}, "admin-mode", "activate", "--duration", d)
	}
	e.Fail(t, admin, cmdutil.ExitUsage, []string{"invalid argument"}, "admin-mode", "activate", "--duration", "soon")
}

func TestNotAnAdministrator(t *testing.T) {
	e := admintest.Start(t)
	owner := admintest.Owner
	if r := e.OK(t, owner, "admin-mode", "status"); r.Stdout != "olivia is not a Tharsis administrator: admin mode is not available.\n" {
		t.Errorf("status: %q", r.Stdout)
	}
	wants := []string{"only admins can activate admin mode", "Hint: Only Tharsis administrators"}
	e.Fail(t, owner, cmdutil.ExitAuth, wants, "admin-mode", "activate")
	e.Fail(t, admintest.Viewer, cmdutil.ExitAuth, []string{"only admins can deactivate admin mode"}, "admin-mode", "deactivate")

	// Service accounts have no admin mode.
	e.OK(t, owner, "service-account", "create", "sandbox/ci", "--enable-client-credentials")
	e.OK(t, owner, "group", "add-membership", "sandbox", "--service-account", "sandbox/ci", "--role", "viewer")
	e.AddServiceAccountToken(t, "sandbox/ci")
	e.Fail(t, "sandbox/ci", cmdutil.ExitAuth, []string{"service accounts have no admin mode"}, "admin-mode", "status")
}
