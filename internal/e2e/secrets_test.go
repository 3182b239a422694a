package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/sandbox"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
)

// binEnv is a private world for the real binary: its own HOME, settings
// directory, TMPDIR and working directory, so that every file it writes
// can be inspected.
type binEnv struct {
	t                   *testing.T
	bin                 string
	home, cfg, tmp, cwd string
	vars                map[string]string
}

func newBinEnv(t *testing.T, vars map[string]string) *binEnv {
	t.Helper()
	// The settings directory does not exist yet: the CLI creates it.
	cfg := filepath.Join(t.TempDir(), "tharsis")
	return &binEnv{t: t, bin: tharsisBinary(t), home: t.TempDir(), cfg: cfg, tmp: t.TempDir(), cwd: t.TempDir(), vars: vars}
}

func (e *binEnv) environ(extra map[string]string) []string {
	env := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": e.home, "THARSIS_CONFIG_DIR": e.cfg, "TMPDIR": e.tmp,
		"NO_COLOR": "1", "THARSIS_NO_BROWSER": "1",
	}
	for k, v := range e.vars {
		env[k] = v
	}
	for k, v := range extra {
		if v == "" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

type binResult struct {
	code           int
	stdout, stderr string
}

// run runs the binary to its end.
func (e *binEnv) run(extra map[string]string, stdin string, args ...string) binResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env, cmd.Dir = e.environ(extra), e.cwd
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		e.t.Fatalf("run %v: %v", args, err)
	}
	r := binResult{code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errOut.String()}
	e.t.Logf("tharsis %s\nexit %d\n--- stdout (%d bytes) ---\n%s\n--- stderr ---\n%s", strings.Join(args, " "), r.code, len(r.stdout), clip(r.stdout), clip(r.stderr))
	return r
}

// ssoLogin runs `sso login` and plays the browser with the URL it prints.
func (e *binEnv) ssoLogin(args ...string) binResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, append([]string{"sso", "login"}, args...)...)
	cmd.Env, cmd.Dir = e.environ(nil), e.cwd
	var out bytes.Buffer
	cmd.Stdout = &out
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	var errOut bytes.Buffer
	browsed := make(chan error, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		re := regexp.MustCompile(`http://127\.0\.0\.1:\d+/oauth/authorize\?\S+`)
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			errOut.WriteString(sc.Text() + "\n")
			if u := re.FindString(sc.Text()); u != "" && !sent {
				sent = true
				go func() {
					resp, err := http.Get(u) // follows the redirect to the CLI's callback
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					browsed <- err
				}()
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	_ = cmd.Wait()
	pw.Close()
	<-scanned
	select {
	case err := <-browsed:
		if err != nil {
			e.t.Errorf("browser: %v", err)
		}
	default:
		e.t.Error("sso login printed no login URL")
	}
	r := binResult{code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errOut.String()}
	e.t.Logf("tharsis sso login %s\nexit %d\n--- stdout ---\n%s\n--- stderr ---\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// files returns every regular file in the binary's private directories.
func (e *binEnv) files() map[string][]byte {
	e.t.Helper()
	out := map[string][]byte{}
	for _, root := range []string{e.home, e.cfg, e.tmp, e.cwd} {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				e.t.Errorf("read %s: %v", p, err)
				return nil
			}
			out[p] = b
			return nil
		})
	}
	return out
}

// jwtRE finds anything that looks like a JWT: every Tharsis and OIDC token.
var jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+`)

// noSecrets fails when a secret, or any JWT, is in the command's output or
// in a file it wrote; tokenFile may hold JWTs (the credentials file).
func (e *binEnv) noSecrets(what string, r binResult, secrets []string, tokenFile string) {
	e.t.Helper()
	check := func(where, s string) {
		for _, sec := range secrets {
			if sec != "" && strings.Contains(s, sec) {
				e.t.Errorf("%s: %s holds a secret (%.6s...)", what, where, sec)
			}
		}
		if m := jwtRE.FindString(s); m != "" {
			e.t.Errorf("%s: %s holds a token (%.12s...)", what, where, m)
		}
	}
	check("stdout", r.stdout)
	check("stderr", r.stderr)
	for p, b := range e.files() {
		if p == tokenFile {
			continue
		}
		check(p, string(b))
	}
}

// TestSecrets drives the flows that handle secrets (SSO login, service
// account exchanges with an OIDC token and with client credentials,
// sensitive variables) through the real binary with --log-level debug and
// -o json, and looks for every token, client secret and sensitive value
// in stdout, stderr and every file the binary wrote. They may appear only
// where the user asked: the credentials file after `sso login`, stdout of
// `service-account login` and of `run variables --show-sensitive`.
func TestSecrets(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandboxtest.WithOptions(func(o *sandbox.Options) { o.SSOUser = sandbox.SeedAdmin }))
	iss := sandboxtest.StartIssuer(t)
	sa, secret := serviceAccount(t, srv)
	if err := srv.AddTrustPolicy(sa, sandbox.TrustPolicy{Issuer: iss.URL(), BoundClaims: []sandbox.JWTClaim{{Name: "sub", Value: "ci"}}}); err != nil {
		t.Fatal(err)
	}
	oidc, err := iss.Mint(map[string]any{"sub": "ci"}, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tfSecret, envSecret := "tf-"+randHex(t), "env-"+randHex(t)
	if err := srv.SetNamespaceVariable(sandbox.SeedGroup, "terraform", "db_password", tfSecret, true); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetNamespaceVariable(sandbox.SeedGroup, "environment", "API_KEY", envSecret, true); err != nil {
		t.Fatal(err)
	}
	secrets := []string{oidc, secret, srv.AdminToken(), tfSecret, envSecret}

	e := newBinEnv(t, nil)
	if err := os.WriteFile(filepath.Join(e.cwd, "main.tf"), []byte(`variable "db_password" {
  type      = string
  sensitive = true
}
resource "terraform_data" "db" {
  input = var.db_password
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ok := func(r binResult) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "level=DEBUG msg=\"api: request\"") {
			t.Errorf("no debug log of the requests on stderr")
		}
	}
	debugJSON := []string{"--log-level", "debug", "-o", "json"}

	// SSO: the token lands in the credentials file, readable by the user
	// only, and nowhere else.
	if r := e.run(nil, "", append(debugJSON, "configure", "--http-endpoint", srv.URL())...); r.code != 0 {
		t.Fatalf("configure: exit %d", r.code)
	}
	r := e.ssoLogin(debugJSON...)
	ok(r)
	creds := filepath.Join(e.cfg, "credentials.json")
	b, err := os.ReadFile(creds)
	if err != nil {
		t.Fatal(err)
	}
	ssoToken := jwtRE.FindString(string(b))
	if ssoToken == "" {
		t.Fatalf("no token in %s", creds)
	}
	all := append([]string{ssoToken}, secrets...)
	e.noSecrets("sso login", r, all, creds)
	wantPrivateSettings(t, e.cfg)

	// A run with the SSO token, inheriting the sensitive variables.
	r = e.run(nil, "", append(debugJSON, "apply", ws, "--auto-approve")...)
	ok(r)
	e.noSecrets("apply (sso)", r, all, creds)
	var res struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.RunID == "" {
		t.Fatalf("apply -o json: %v: %q", err, r.stdout)
	}
	r = e.run(nil, "", append(debugJSON, "run", "variables", res.RunID)...)
	ok(r)
	e.noSecrets("run variables", r, all, creds)
	if !strings.Contains(r.stdout, "db_password") || !strings.Contains(r.stdout, "API_KEY") {
		t.Errorf("run variables does not list the sensitive variables")
	}
	// Asked for: the values, on stdout only.
	r = e.run(nil, "", append(debugJSON, "run", "variables", res.RunID, "--show-sensitive")...)
	ok(r)
	if !strings.Contains(r.stdout, tfSecret) || !strings.Contains(r.stdout, envSecret) {
		t.Errorf("--show-sensitive does not show the values")
	}
	e.noSecrets("run variables --show-sensitive (stderr, files)", binResult{stderr: r.stderr}, all, creds)

	// Service account exchanges: nothing is stored, nothing is shown.
	saEnv := map[string]string{"THARSIS_ENDPOINT": srv.URL(), "THARSIS_SERVICE_ACCOUNT_ID": sa, "THARSIS_SERVICE_ACCOUNT_TOKEN": oidc}
	ccEnv := map[string]string{"THARSIS_ENDPOINT": srv.URL(), "THARSIS_CLIENT_ID": sa, "THARSIS_CLIENT_SECRET": secret}
	for name, env := range map[string]map[string]string{"oidc": saEnv, "client credentials": ccEnv} {
		before := e.files()
		r = e.run(env, "", append(debugJSON, "apply", ws, "--auto-approve")...)
		ok(r)
		e.noSecrets("apply ("+name+")", r, all, creds)
		r = e.run(env, "", append(debugJSON, "whoami")...)
		ok(r)
		e.noSecrets("whoami ("+name+")", r, all, creds)
		if after := e.files(); !sameFiles(before, after) {
			t.Errorf("%s: the exchanges changed files: %v", name, keys(after))
		}
	}

	// Asked for: `service-account login` prints the exchanged token on
	// stdout, and only there.
	r = e.run(map[string]string{"THARSIS_ENDPOINT": srv.URL()}, oidc, append(debugJSON, "service-account", "login", sa, "--token-file", "-")...)
	ok(r)
	if jwtRE.FindString(r.stdout) == "" {
		t.Errorf("service-account login printed no token")
	}
	e.noSecrets("service-account login (stderr, files)", binResult{stderr: r.stderr}, all, creds)
	wantPrivateSettings(t, e.cfg)
}

// wantPrivateSettings checks that the settings directory and its files are
// the user's only.
func wantPrivateSettings(t *testing.T, dir string) {
	t.Helper()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("settings directory %s: %v %v", dir, fi.Mode(), err)
	}
	for _, name := range []string{"settings.json", "credentials.json"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
}

func sameFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func randHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestSettingsSurviveACrash kills `tharsis configure` at random moments
// while it rewrites a large settings file: whenever it dies, the file is
// the old one or the new one, whole, and readable by the user only.
func TestSettingsSurviveACrash(t *testing.T) {
	t.Parallel()
	e := newBinEnv(t, nil)
	// A large file makes each rewrite take long enough to be interrupted.
	profiles := map[string]any{}
	for i := range 3000 {
		profiles[fmt.Sprintf("p%04d", i)] = map[string]any{"endpoint": fmt.Sprintf("https://h%04d.example.com", i), "note": strings.Repeat("x", 200)}
	}
	raw, _ := json.Marshal(map[string]any{"profiles": profiles})
	path := filepath.Join(e.cfg, "settings.json")
	if err := os.MkdirAll(e.cfg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	known := 3000
	// How long one rewrite takes (the fastest of three), to spread the
	// kills over it.
	var took time.Duration
	for i := range 3 {
		start := time.Now()
		if r := e.run(nil, "", "-p", fmt.Sprintf("timing%d", i), "configure", "--http-endpoint", fmt.Sprintf("https://timing%d.example.com", i)); r.code != 0 {
			t.Fatalf("configure: exit %d", r.code)
		}
		if d := time.Since(start); took == 0 || d < took {
			took = d
		}
		known++
	}
	// A write that crashed earlier left its temporary file: it is ignored.
	if err := os.WriteFile(filepath.Join(e.cfg, ".settings.json.tmp-123"), raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	interrupted := 0
	for i := range 25 {
		name := fmt.Sprintf("new%02d", i)
		cmd := exec.Command(e.bin, "-p", name, "configure", "--http-endpoint", fmt.Sprintf("https://new%02d.example.com", i))
		cmd.Env, cmd.Dir = e.environ(nil), e.cwd
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Somewhere between start-up and the end of the rewrite.
		delay := took * time.Duration(i) / 25
		timer := time.NewTimer(delay)
		<-timer.C
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("after kill %d: %v", i, err)
		}
		var s struct {
			Profiles map[string]json.RawMessage `json:"profiles"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("after kill %d the settings file is broken: %v", i, err)
		}
		switch len(s.Profiles) {
		case known: // the old file
			interrupted++
		case known + 1: // the new one
			if _, ok := s.Profiles[name]; !ok {
				t.Fatalf("after kill %d: a profile appeared that is not %s", i, name)
			}
			known++
		default:
			t.Fatalf("after kill %d: %d profiles, want %d or %d", i, len(s.Profiles), known, known+1)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("after kill %d: mode %v, %v", i, fi.Mode(), err)
		}
	}
	tmps, _ := filepath.Glob(filepath.Join(e.cfg, ".settings.json.tmp-*"))
	t.Logf("a rewrite takes %s; %d of 25 were killed before the new file was in place, %d of them while writing it", took, interrupted, len(tmps)-1)
	// A later command still works with what is there.
	if r := e.run(nil, "", "configure", "list"); r.code != 0 {
		t.Fatalf("configure list after the crashes: exit %d", r.code)
	}
}

// TestTLSVerification: certificates are verified unless the profile (or
// THARSIS_TLS_SKIP_VERIFY) turns verification off; a CA bundle makes a
// private certificate trusted with verification on.
func TestTLSVerification(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t)
	u, _ := url.Parse(srv.URL())
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	t.Cleanup(front.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	tok := map[string]string{"THARSIS_STATIC_TOKEN": srv.AdminToken()}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"THARSIS_STATIC_TOKEN": srv.AdminToken()}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		profile []string // configure flags; nil: no profile, THARSIS_ENDPOINT
		env     map[string]string
		code    int
		msg     string
	}{
		{name: "verified by default", env: with("THARSIS_ENDPOINT", front.URL), code: 1, msg: "not trusted"},
		{name: "verified for a profile", profile: []string{}, env: tok, code: 1, msg: "not trusted"},
		{name: "off in the profile", profile: []string{"--insecure-tls-skip-verify"}, env: tok, code: 0},
		{name: "the environment turns it back on", profile: []string{"--insecure-tls-skip-verify"}, env: with("THARSIS_TLS_SKIP_VERIFY", "false"), code: 1, msg: "not trusted"},
		{name: "off in the environment", env: with("THARSIS_ENDPOINT", front.URL, "THARSIS_TLS_SKIP_VERIFY", "true"), code: 0},
		{name: "a CA bundle in the environment", env: with("THARSIS_ENDPOINT", front.URL, "THARSIS_CA_CERT_FILE", caFile), code: 0},
		{name: "a CA bundle in the profile", profile: []string{"--ca-cert-file", caFile}, env: tok, code: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newBinEnv(t, nil)
			if tc.profile != nil {
				if r := e.run(nil, "", append([]string{"configure", "--http-endpoint", front.URL}, tc.profile...)...); r.code != 0 {
					t.Fatalf("configure: exit %d", r.code)
				}
			}
			r := e.run(tc.env, "", "whoami")
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d", r.code, tc.code)
			}
			if tc.msg != "" {
				wantOneError(t, r.stderr)
				if !strings.Contains(r.stderr, tc.msg) {
					t.Errorf("stderr does not say %q", tc.msg)
				}
			}
		})
	}
}
