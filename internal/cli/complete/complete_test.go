package complete_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// completion is the parsed output of `tharsis __complete ...`.
type completion struct {
	values    []string // candidates without their descriptions
	descs     []string
	directive string // the ":N" line
}

// complete runs cobra's hidden __complete command as the shell scripts do.
func complete(t *testing.T, env map[string]string, args ...string) completion {
	t.Helper()
	r := clitest.Run(t, clitest.Options{Env: env}, append([]string{"__complete"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("__complete %q: exit %d\nstdout: %q\nstderr: %q", args, r.Code, r.Stdout, r.Stderr)
	}
	// Anything on stderr besides cobra's own debug line would reach the
	// user's terminal in the middle of the command line.
	for _, l := range strings.Split(strings.TrimSpace(r.Stderr), "\n") {
		if l != "" && !strings.HasPrefix(l, "Completion ended with directive:") {
			t.Errorf("__complete %q printed on stderr: %q", args, l)
		}
	}
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	var c completion
	for _, l := range lines {
		if strings.HasPrefix(l, ":") {
			c.directive = l
			continue
		}
		v, d, _ := strings.Cut(l, "\t")
		c.values = append(c.values, v)
		c.descs = append(c.descs, d)
	}
	if c.directive == "" {
		t.Fatalf("__complete %q: no directive line in %q", args, r.Stdout)
	}
	return c
}

const (
	noFile        = ":4" // ShellCompDirectiveNoFileComp
	noFileNoSpace = ":6" // ... | ShellCompDirectiveNoSpace
)

func TestCompletionAgainstSandbox(t *testing.T) {
	e := admintest.Start(t)
	e.OK(t, sandbox.SeedAdmin, "group", "create", "sandbox/team")
	e.OK(t, sandbox.SeedAdmin, "workspace", "create", "sandbox/network")
	e.OK(t, sandbox.SeedAdmin, "workspace", "create", "sandbox/team/app")
	runID := e.StartModuleRun(t, sandbox.SeedAdmin, sandbox.SeedWorkspace, map[string]string{"main.tf": `output "x" { value = 1 }`}, false)

	env := func(user string) map[string]string {
		return map[string]string{"THARSIS_ENDPOINT": e.Srv.URL(), "THARSIS_STATIC_TOKEN": e.Token(user)}
	}
	admin := env(sandbox.SeedAdmin)
	workspaces := []string{"sandbox/demo", "sandbox/network", "sandbox/team/app"}

	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		want      []string // exact candidate values, in order
		directive string
	}{
		{"workspace argument", admin, []string{"workspace", "get", ""}, workspaces, noFile},
		{"workspace prefix", admin, []string{"workspace", "get", "sandbox/n"}, []string{"sandbox/network"}, noFile},
		{"apply", admin, []string{"apply", "sandbox/t"}, []string{"sandbox/team/app"}, noFile},
		{"legacy flags before the argument", admin, []string{"apply", "-auto-approve", "sandbox/d"}, []string{"sandbox/demo"}, noFile},
		{"membership verb on a workspace", admin, []string{"workspace", "list-memberships", "sandbox/d"}, []string{"sandbox/demo"}, noFile},
		{"only the first argument", admin, []string{"workspace", "outputs", "sandbox/demo", ""}, nil, noFile},
		{"a TRN is not looked up", admin, []string{"workspace", "get", "trn:workspace:sa"}, nil, noFile},
		{"group argument", admin, []string{"group", "get", ""}, []string{"sandbox", "sandbox/team"}, noFile},
		{"membership verb on a group", admin, []string{"group", "add-membership", "sandbox/t"}, []string{"sandbox/team"}, noFile},
		{"--group flag", admin, []string{"workspace", "list", "--group", "sandbox/"}, []string{"sandbox/team"}, noFile},
		{"--parent flag", admin, []string{"group", "create", "x", "--parent", ""}, []string{"sandbox", "sandbox/team"}, noFile},
		{"run: workspaces first", admin, []string{"run", "get", ""}, []string{"sandbox/demo/", "sandbox/network/", "sandbox/team/app/"}, noFileNoSpace},
		{"run: partial workspace", admin, []string{"run", "cancel", "sandbox/de"}, []string{"sandbox/demo/"}, noFileNoSpace},
		{"run: inside the workspace", admin, []string{"run", "get", "sandbox/demo/"}, []string{"sandbox/demo/" + runID}, noFile},
		{"run: ID prefix", admin, []string{"run", "logs", "sandbox/demo/" + runID[:4]}, []string{"sandbox/demo/" + runID}, noFile},
		{"run: no match", admin, []string{"run", "logs", "sandbox/demo/zzz"}, nil, noFile},
		{"run: workspace without runs", admin, []string{"run", "watch", "sandbox/network/"}, nil, noFile},
		{"run list takes a workspace", admin, []string{"run", "list", "sandbox/n"}, []string{"sandbox/network"}, noFile},
		{"no access: nothing", env(admintest.Outsider), []string{"workspace", "get", ""}, nil, noFile},
		{"no credentials: nothing", map[string]string{"THARSIS_ENDPOINT": e.Srv.URL()}, []string{"workspace", "get", ""}, nil, noFile},
		{"no endpoint: nothing", map[string]string{}, []string{"group", "get", ""}, nil, noFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := complete(t, tt.env, tt.args...)
			if !slices.Equal(c.values, tt.want) {
				t.Errorf("candidates %q, want %q", c.values, tt.want)
			}
			if c.directive != tt.directive {
				t.Errorf("directive %s, want %s", c.directive, tt.directive)
			}
		})
	}

	// A run candidate is accepted by the run commands as it is, and shows
	// the run's status.
	c := complete(t, admin, "run", "get", "sandbox/demo/")
	if len(c.values) != 1 || !strings.Contains(c.descs[0], string(e.RunStatus(runID))) {
		t.Fatalf("run candidate %q, description %q", c.values, c.descs)
	}
	r := e.OK(t, sandbox.SeedAdmin, "run", "get", c.values[0], "-o", "json")
	if !strings.Contains(r.Stdout, runID) {
		t.Errorf("run get %s: %s", c.values[0], r.Stdout)
	}

	// The profile and endpoint given on the command line are used.
	dir := t.TempDir()
	store := config.NewStore(dir, nil)
	st := &config.Settings{}
	st.SetProfile("default", &config.Profile{Endpoint: "http://127.0.0.1:1"})
	st.SetProfile("sandbox", &config.Profile{Endpoint: e.Srv.URL()})
	if err := store.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	withProfiles := map[string]string{"THARSIS_CONFIG_DIR": dir, "THARSIS_STATIC_TOKEN": e.Token(sandbox.SeedAdmin)}
	if c := complete(t, withProfiles, "workspace", "get", "sandbox/n"); len(c.values) != 0 {
		t.Errorf("default profile (dead endpoint) gave %q", c.values)
	}
	for _, args := range [][]string{
		{"-p", "sandbox", "workspace", "get", "sandbox/n"},
		{"workspace", "get", "--profile", "sandbox", "sandbox/n"},
		{"-profile", "sandbox", "workspace", "get", "sandbox/n"},
		{"--endpoint", e.Srv.URL(), "workspace", "get", "sandbox/n"},
	} {
		if c := complete(t, withProfiles, args...); !slices.Equal(c.values, []string{"sandbox/network"}) {
			t.Errorf("%q: candidates %q", args, c.values)
		}
	}
}

func TestProfileCompletion(t *testing.T) {
	dir := t.TempDir()
	store := config.NewStore(dir, nil)
	st := &config.Settings{}
	for _, name := range []string{"prod", "default", "Staging"} {
		st.SetProfile(name, &config.Profile{Endpoint: "https://" + strings.ToLower(name) + ".example.com"})
	}
	if err := store.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"THARSIS_CONFIG_DIR": dir}
	want := st.ProfileNames()
	for _, args := range [][]string{
		{"-p", ""},
		{"--profile", ""},
		{"workspace", "list", "-p", ""},
		{"configure", "delete", ""},
	} {
		c := complete(t, env, args...)
		if !slices.Equal(c.values, want) || c.directive != noFile {
			t.Errorf("%q: %q %s, want %q", args, c.values, c.directive, want)
		}
	}
	// No settings file: nothing, quietly.
	if c := complete(t, map[string]string{"THARSIS_CONFIG_DIR": t.TempDir()}, "-p", ""); len(c.values) != 0 {
		t.Errorf("no settings: %q", c.values)
	}
}

// TestDeadEndpointIsQuiet checks that an endpoint that refuses connections
// or never answers ends the completion (within the completion timeout; no
// timing is asserted) with no candidates and nothing printed.
func TestDeadEndpointIsQuiet(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Accept connections and never answer.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			if ctx.Err() != nil {
				return
			}
		}
	}()
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + refused.Addr().String()
	refused.Close()

	for name, endpoint := range map[string]string{"refused": refusedURL, "silent": "http://" + ln.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"THARSIS_ENDPOINT": endpoint, "THARSIS_STATIC_TOKEN": "x"}
			for _, args := range [][]string{{"workspace", "get", ""}, {"run", "get", "a/b/"}, {"group", "get", ""}} {
				done := make(chan completion, 1)
				go func() { done <- complete(t, env, args...) }()
				select {
				case c := <-done:
					if len(c.values) != 0 {
						t.Errorf("%q: candidates %q", args, c.values)
					}
				case <-time.After(time.Minute):
					t.Fatalf("%q: the completion did not give up", args)
				}
			}
		})
	}
}
