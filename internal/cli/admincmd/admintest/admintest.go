// Package admintest runs the administration commands end to end in tests:
// a sandbox with users of each role, and the whole CLI run in process
// against it.
package admintest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// Users the Env creates, besides the sandbox's admin (an administrator
// who owns group "sandbox").
const (
	Owner    = "olivia" // owner of group sandbox, not an administrator
	Deployer = "dora"   // deployer on group sandbox
	Viewer   = "victor" // viewer on group sandbox
	Outsider = "oscar"  // no membership at all
	Group    = sandbox.SeedGroup
)

// Env is a sandbox with a token per user.
type Env struct {
	Srv    *sandbox.Server
	tokens map[string]string
}

// Start starts a sandbox for the test and creates the users.
func Start(t testing.TB, opts ...sandboxtest.Option) *Env {
	t.Helper()
	srv := sandboxtest.Start(t, opts...)
	e := &Env{Srv: srv, tokens: map[string]string{sandbox.SeedAdmin: srv.AdminToken()}}
	for user, role := range map[string]string{Owner: "owner", Deployer: "deployer", Viewer: "viewer", Outsider: ""} {
		tok, err := srv.CreateUser(user, false)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[user] = tok
		if role != "" {
			if err := srv.AddMembership(Group, "user", user, role); err != nil {
				t.Fatal(err)
			}
		}
	}
	return e
}

// Token returns a user's token.
func (e *Env) Token(user string) string { return e.tokens[user] }

// AddUser creates another user with a role on a namespace ("" for none).
func (e *Env) AddUser(t testing.TB, user, namespace, role string) {
	t.Helper()
	tok, err := e.Srv.CreateUser(user, false)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens[user] = tok
	if role != "" {
		if err := e.Srv.AddMembership(namespace, "user", user, role); err != nil {
			t.Fatal(err)
		}
	}
}

// Options of one CLI invocation.
type Options struct {
	TTY   bool
	Stdin string
}

// Run runs `tharsis args...` as user, without a terminal.
func (e *Env) Run(t testing.TB, user string, args ...string) clitest.Result {
	t.Helper()
	return e.RunWith(t, user, Options{}, args...)
}

// RunWith runs `tharsis args...` as user with options.
func (e *Env) RunWith(t testing.TB, user string, o Options, args ...string) clitest.Result {
	t.Helper()
	env := map[string]string{
		"THARSIS_ENDPOINT":     e.Srv.URL(),
		"THARSIS_STATIC_TOKEN": e.tokens[user],
		"NO_COLOR":             "1",
		"TZ":                   "UTC",
	}
	return clitest.Run(t, clitest.Options{Env: env, TTY: o.TTY, Stdin: o.Stdin}, args...)
}

// OK runs the command as user and fails the test unless it exits 0.
func (e *Env) OK(t testing.TB, user string, args ...string) clitest.Result {
	t.Helper()
	r := e.Run(t, user, args...)
	if r.Code != 0 {
		t.Fatalf("tharsis %s (as %s): exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), user, r.Code, r.Stdout, r.Stderr)
	}
	return r
}

// Fail runs the command as user and fails the test unless it exits with
// code and stderr contains every want.
func (e *Env) Fail(t testing.TB, user string, code int, wants []string, args ...string) clitest.Result {
	t.Helper()
	r := e.Run(t, user, args...)
	if r.Code != code {
		t.Fatalf("tharsis %s (as %s): exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), user, r.Code, code, r.Stdout, r.Stderr)
	}
	for _, w := range wants {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("tharsis %s (as %s): stderr lacks %q:\n%s", strings.Join(args, " "), user, w, r.Stderr)
		}
	}
	return r
}

// Client returns an API client acting as user, for set-up steps the CLI
// does not cover (starting runs).
func (e *Env) Client(t testing.TB, user string) *api.Client {
	t.Helper()
	c, err := api.New(api.Config{Endpoint: e.Srv.URL(), TokenSource: api.StaticTokenSource(e.tokens[user]), Retry: api.RetryPolicy{Max: -1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// StartModuleRun registers a module made of files and starts a run of it
// on the workspace (path), as user; it returns the run's ID.
func (e *Env) StartModuleRun(t testing.TB, user, workspace string, files map[string]string, autoApply bool) string {
	t.Helper()
	source := "sandbox.local/test/" + strings.NewReplacer("/", "-").Replace(workspace) + fmt.Sprintf("/m%d", time.Now().UnixNano())
	mod := map[string][]byte{}
	for k, v := range files {
		mod[k] = []byte(v)
	}
	if err := e.Srv.RegisterModule(source, "1.0.0", mod); err != nil {
		t.Fatal(err)
	}
	ws := "trn:workspace:" + workspace
	version := "1.0.0"
	resp, err := gql.CreateRun(context.Background(), e.Client(t, user).GraphQL(), gql.CreateRunInput{
		WorkspaceId: &ws, ModuleSource: &source, ModuleVersion: &version, AutoApply: &autoApply,
	})
	if err == nil {
		err = api.ProblemsOf("create run", resp.CreateRun.Problems)
	}
	if err != nil {
		t.Fatal(err)
	}
	return resp.CreateRun.Run.Id
}

// WaitFor polls cond every 20ms until it holds, failing the test after
// timeout.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// RunStatus returns a run's status.
func (e *Env) RunStatus(runID string) string {
	r, ok := e.Srv.Run(runID)
	if !ok {
		return ""
	}
	return string(r.Status)
}

// AddServiceAccountToken lets the Env run commands as a service account
// (path "group/name"), under that name.
func (e *Env) AddServiceAccountToken(t testing.TB, path string) {
	t.Helper()
	tok, err := e.Srv.IssueServiceAccountToken(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens[path] = tok
}

// Jobs returns the status of a run's jobs, plan first.
func (e *Env) Jobs(runID string) []sandbox.Job { return e.Srv.Jobs(runID) }

// CheckHelp fails the test for any command under cmd without a short
// description, an example, or a long description.
func CheckHelp(t testing.TB, cmd *cobra.Command) {
	t.Helper()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" || c.Example == "" || c.Long == "" {
			t.Errorf("%s: Short, Long and Example are all needed", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cmd)
}

// Factory is a Factory for building commands in tests.
func Factory() *cmdutil.Factory {
	s, _, _, _ := ui.Test()
	return cmdutil.NewFactory(s, func(string) string { return "" })
}
