package configure_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/configure"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

type env struct {
	t   *testing.T
	dir string
}

func newEnv(t *testing.T) *env { return &env{t: t, dir: filepath.Join(t.TempDir(), "cfg")} }

func (e *env) run(o clitest.Options, args ...string) clitest.Result {
	e.t.Helper()
	if o.Env == nil {
		o.Env = map[string]string{}
	}
	o.Env["THARSIS_CONFIG_DIR"] = e.dir
	return clitest.Run(e.t, o, args...)
}

func (e *env) store() *config.Store { return config.NewStore(e.dir, nil) }

func (e *env) settings() *config.Settings {
	e.t.Helper()
	st, err := e.store().LoadSettings()
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func TestConfigureNonInteractive(t *testing.T) {
	e := newEnv(t)
	r := e.run(clitest.Options{}, "configure", "--http-endpoint", "localhost:8000/")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "Created profile default") || !strings.Contains(r.Stdout, "https://localhost:8000") {
		t.Errorf("stdout = %q", r.Stdout)
	}
	if !strings.Contains(r.Stderr, "creating "+filepath.Join(e.dir, "settings.json")) {
		t.Errorf("stderr = %q", r.Stderr)
	}
	p, ok := e.settings().Profile("default")
	if !ok || p.Endpoint != "https://localhost:8000" || p.TLSSkipVerify {
		t.Errorf("profile = %+v", p)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(e.dir)
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("dir mode %o", fi.Mode().Perm())
		}
		fi, _ = os.Stat(filepath.Join(e.dir, "settings.json"))
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("file mode %o", fi.Mode().Perm())
		}
	}

	// Global -p/--profile picks the profile; TLS and the deprecated alias work.
	r = e.run(clitest.Options{}, "configure", "--profile", "prod", "--endpoint-url", "https://prod.example", "--insecure-tls-skip-verify")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "Warning: --endpoint-url is deprecated: use --http-endpoint") {
		t.Errorf("no deprecation notice: %q", r.Stderr)
	}
	p, _ = e.settings().Profile("prod")
	if p.Endpoint != "https://prod.example" || !p.TLSSkipVerify {
		t.Errorf("prod = %+v", p)
	}

	// Updating keeps TLS when not given, and THARSIS_PROFILE selects the profile.
	r = e.run(clitest.Options{Env: map[string]string{"THARSIS_PROFILE": "prod"}, TTY: false}, "configure", "--http-endpoint", "https://prod2.example", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	var v configure.ProfileView
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("json: %v: %q", err, r.Stdout)
	}
	if v.Name != "prod" || v.Endpoint != "https://prod2.example" || !v.TLSSkipVerify {
		t.Errorf("json = %+v", v)
	}
}

func TestConfigureWithoutFlagsNotInteractiveIsUsageError(t *testing.T) {
	e := newEnv(t)
	r := e.run(clitest.Options{}, "configure")
	if r.Code != cmdutil.ExitUsage {
		t.Errorf("exit %d, want 64", r.Code)
	}
	if !strings.Contains(r.Stderr, "--http-endpoint is required") || !strings.Contains(r.Stderr, "Run 'tharsis configure --help' for usage.") {
		t.Errorf("stderr = %q", r.Stderr)
	}
	// CI counts as non-interactive even on a terminal.
	r = e.run(clitest.Options{TTY: true, Env: map[string]string{"CI": "true"}}, "configure")
	if r.Code != cmdutil.ExitUsage {
		t.Errorf("CI: exit %d, want 64", r.Code)
	}
	if _, err := os.Stat(e.dir); !os.IsNotExist(err) {
		t.Errorf("settings directory created by a failed configure")
	}
}

func TestConfigureInteractive(t *testing.T) {
	e := newEnv(t)
	r := e.run(clitest.Options{TTY: true, Stdin: "staging\nnot a url\nstaging.example.com\n"}, "configure")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	for _, want := range []string{"Profile name [default]: ", "Tharsis API URL: ", "invalid API endpoint"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q: %q", want, r.Stderr)
		}
	}
	p, ok := e.settings().Profile("staging")
	if !ok || p.Endpoint != "https://staging.example.com" {
		t.Errorf("profile = %+v", p)
	}

	// With -p, only the endpoint is asked, defaulting to the current one.
	r = e.run(clitest.Options{TTY: true, Stdin: "\n", Env: map[string]string{"NO_COLOR": "1"}}, "-p", "staging", "configure")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if strings.Contains(r.Stderr, "Profile name") || !strings.Contains(r.Stderr, "Tharsis API URL [https://staging.example.com]: ") {
		t.Errorf("stderr = %q", r.Stderr)
	}
	if !strings.Contains(r.Stdout, "Updated profile staging") {
		t.Errorf("stdout = %q", r.Stdout)
	}
}

func TestConfigureRejects(t *testing.T) {
	e := newEnv(t)
	if r := e.run(clitest.Options{}, "configure", "-p", "a", "--http-endpoint", "https://a.example"); r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"duplicate endpoint", []string{"-p", "b", "--http-endpoint", "a.example/"}, 1, `endpoint https://a.example is already used by profile "a"`},
		{"invalid endpoint", []string{"-p", "b", "--http-endpoint", "ftp://x"}, 64, "scheme must be http or https"},
		{"invalid profile name", []string{"-p", "bad name", "--http-endpoint", "https://c.example"}, 64, `invalid profile name "bad name"`},
		{"missing CA file", []string{"-p", "c", "--http-endpoint", "https://c.example", "--ca-cert-file", "/nonexistent.pem"}, 64, "--ca-cert-file"},
		{"positional argument", []string{"extra"}, 64, `unknown command "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(clitest.Options{}, append([]string{"configure"}, tt.args...)...)
			if r.Code != tt.wantCode || !strings.Contains(r.Stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.Code, r.Stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
	if names := e.settings().ProfileNames(); len(names) != 1 {
		t.Errorf("profiles after rejected commands: %v", names)
	}
}

func TestConfigureEndpointChangeDropsToken(t *testing.T) {
	e := newEnv(t)
	e.run(clitest.Options{}, "configure", "--http-endpoint", "https://a.example")
	if err := e.store().SetToken("default", "tok-a"); err != nil {
		t.Fatal(err)
	}
	// Same endpoint (normalised): the token stays.
	r := e.run(clitest.Options{}, "configure", "--http-endpoint", "https://a.example/", "--insecure-tls-skip-verify")
	if tok, _ := e.store().Token("default"); tok != "tok-a" || r.Code != 0 {
		t.Fatalf("token = %q after same-endpoint update (exit %d)", tok, r.Code)
	}
	r = e.run(clitest.Options{}, "configure", "--http-endpoint", "https://b.example")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if tok, _ := e.store().Token("default"); tok != "" {
		t.Errorf("token of the old server kept: %q", tok)
	}
	if !strings.Contains(r.Stderr, "removed the stored token") {
		t.Errorf("stderr = %q", r.Stderr)
	}
}

func TestConfigureCACertFile(t *testing.T) {
	e := newEnv(t)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	_ = os.WriteFile(ca, []byte("pem"), 0o600)
	r := e.run(clitest.Options{}, "configure", "--http-endpoint", "https://a.example", "--ca-cert-file", ca)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if p, _ := e.settings().Profile("default"); p.CACertFile != ca {
		t.Errorf("caCertFile = %q", p.CACertFile)
	}
	// The profile's CA bundle is part of the resolved configuration.
	cfg, err := config.Resolve(func(string) string { return "" }, config.Flags{}, e.settings())
	if err != nil || cfg.CACertFile != ca {
		t.Errorf("resolved CA = %q, %v", cfg.CACertFile, err)
	}
	r = e.run(clitest.Options{}, "configure", "--http-endpoint", "https://a.example", "--ca-cert-file", "")
	if p, _ := e.settings().Profile("default"); r.Code != 0 || p.CACertFile != "" {
		t.Errorf("caCertFile not removed: %q", p.CACertFile)
	}
}

func TestListAndDelete(t *testing.T) {
	e := newEnv(t)
	// No profiles yet.
	r := e.run(clitest.Options{}, "configure", "list")
	if r.Code != 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "No profiles configured") {
		t.Errorf("empty list: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	r = e.run(clitest.Options{}, "configure", "list", "-o", "json")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "[]" {
		t.Errorf("empty json list: %q", r.Stdout)
	}

	e.run(clitest.Options{}, "configure", "--http-endpoint", "https://a.example")
	e.run(clitest.Options{}, "configure", "-p", "prod", "--http-endpoint", "https://p.example", "--insecure-tls-skip-verify")
	_ = e.store().SetToken("prod", "SECRET-TOKEN")

	r = e.run(clitest.Options{TTY: true, Env: map[string]string{"NO_COLOR": "1", "THARSIS_PROFILE": "prod"}}, "configure", "list")
	want := "" +
		"CURRENT  PROFILE  ENDPOINT           TLS SKIP VERIFY  TOKEN\n" +
		"         default  https://a.example  false            none\n" +
		"*        prod     https://p.example  true             stored\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("list:\n%s\nwant\n%s", r.Stdout, want)
	}
	r = e.run(clitest.Options{}, "configure", "list", "-o", "json")
	if strings.Contains(r.Stdout, "SECRET-TOKEN") {
		t.Fatalf("list prints a token: %s", r.Stdout)
	}
	var views []configure.ProfileView
	if err := json.Unmarshal([]byte(r.Stdout), &views); err != nil || len(views) != 2 {
		t.Fatalf("json list: %v %q", err, r.Stdout)
	}
	if !views[1].HasToken || views[0].HasToken || !views[0].Active {
		t.Errorf("views = %+v", views)
	}

	r = e.run(clitest.Options{}, "configure", "delete", "nope")
	if r.Code != cmdutil.ExitNotFound || !strings.Contains(r.Stderr, `no profile named "nope"`) || !strings.Contains(r.Stderr, "known profiles: default, prod") {
		t.Errorf("delete unknown: %d %q", r.Code, r.Stderr)
	}
	r = e.run(clitest.Options{}, "configure", "delete", "prod")
	if r.Code != 0 || r.Stdout != "Deleted profile prod and its stored token.\n" {
		t.Errorf("delete: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if tok, _ := e.store().Token("prod"); tok != "" {
		t.Errorf("token kept after delete")
	}
	if names := e.settings().ProfileNames(); len(names) != 1 || names[0] != "default" {
		t.Errorf("profiles = %v", names)
	}
	r = e.run(clitest.Options{}, "configure", "rm", "default", "-o", "json")
	if r.Code != 0 || !strings.Contains(r.Stdout, `"deleted": "default"`) {
		t.Errorf("delete json: %q", r.Stdout)
	}
}

func TestLegacySettingsAreMigratedOnUse(t *testing.T) {
	e := newEnv(t)
	_ = os.MkdirAll(e.dir, 0o700)
	legacy := `{"profiles":{"default":{"tharsisURL":"https://old.example","stateToken":"legacy"}}}`
	_ = os.WriteFile(filepath.Join(e.dir, "settings.json"), []byte(legacy), 0o600)
	r := e.run(clitest.Options{}, "configure", "list", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "Migrating settings") || strings.Contains(r.Stdout, "Migrating") {
		t.Errorf("migration messages must be on stderr only: out %q err %q", r.Stdout, r.Stderr)
	}
	var views []configure.ProfileView
	if err := json.Unmarshal([]byte(r.Stdout), &views); err != nil || len(views) != 1 || views[0].Endpoint != "https://old.example" || !views[0].HasToken {
		t.Errorf("views = %+v (%v)", views, err)
	}
}

func TestRunFInjection(t *testing.T) {
	// The runF seam receives parsed options without touching the disk.
	var got *configure.ConfigureOptions
	io, _, _, _ := ui.Test()
	f := cmdutil.NewFactory(io, func(k string) string {
		if k == "THARSIS_PROFILE" {
			return "envprof"
		}
		return ""
	})
	cmd := configure.NewCmdConfigure(f, func(_ context.Context, o *configure.ConfigureOptions) error {
		got = o
		return nil
	})
	cmd.SetArgs([]string{"--http-endpoint", "https://x.example", "--insecure-tls-skip-verify"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Profile != "envprof" || !got.ProfileExplicit || got.Endpoint != "https://x.example" ||
		!got.TLSSkipVerify || !got.TLSSkipVerifySet || got.CACertFileSet {
		t.Errorf("options = %+v", got)
	}
}
