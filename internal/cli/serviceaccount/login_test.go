package serviceaccount_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
)

func TestLoginPrintsAToken(t *testing.T) {
	srv := sandboxtest.Start(t)
	iss := sandboxtest.StartIssuer(t)
	sa, err := srv.CreateServiceAccount(sandbox.SeedGroup, "login-ci")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddTrustPolicy(sa, sandbox.TrustPolicy{Issuer: iss.URL(), BoundClaims: []sandbox.JWTClaim{{Name: "sub", Value: "job-1"}}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddMembership(sandbox.SeedGroup, "service_account", sa, "viewer"); err != nil {
		t.Fatal(err)
	}
	oidc, _ := iss.Mint(map[string]any{"sub": "job-1"}, time.Minute)
	wrong, _ := iss.Mint(map[string]any{"sub": "job-2"}, time.Minute)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(oidc+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"THARSIS_ENDPOINT": srv.URL()}

	tests := []struct {
		name  string
		args  []string
		stdin string
		env   map[string]string
		code  int
		want  string // in stderr
	}{
		{name: "--token", args: []string{sa, "--token", oidc}},
		{name: "--token-file, TRN", args: []string{"trn:service_account:" + sa, "--token-file", file}},
		{name: "--token-file -", args: []string{sa, "--token-file", "-"}, stdin: oidc},
		{name: "from the environment", args: []string{sa}, env: map[string]string{"THARSIS_SERVICE_ACCOUNT_TOKEN": oidc}},
		{name: "claims do not match", args: []string{sa, "--token", wrong}, code: cmdutil.ExitAuth, want: `with subject "job-2"`},
		{name: "no token", args: []string{sa}, code: cmdutil.ExitUsage, want: "no OIDC token"},
		{name: "both flags", args: []string{sa, "--token", oidc, "--token-file", file}, code: cmdutil.ExitUsage, want: "cannot be used together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			for k, v := range tt.env {
				e[k] = v
			}
			for _, json := range []bool{false, true} {
				args := append([]string{"service-account", "login"}, tt.args...)
				if json {
					args = append(args, "-o", "json")
				}
				r := clitest.Run(t, clitest.Options{Env: e, Stdin: tt.stdin}, args...)
				if r.Code != tt.code {
					t.Fatalf("exit %d, want %d: %s", r.Code, tt.code, r.Stderr)
				}
				if strings.Contains(r.Stderr, oidc) || strings.Contains(r.Stderr, wrong) || strings.Contains(r.Stdout, oidc) {
					t.Errorf("the OIDC token was printed")
				}
				if tt.code != 0 {
					if !strings.Contains(r.Stderr, tt.want) {
						t.Errorf("stderr lacks %q: %s", tt.want, r.Stderr)
					}
					continue
				}
				tok := checkLoginOutput(t, r, json)
				// The printed token works, and it is on stdout only.
				w := clitest.Run(t, clitest.Options{Env: map[string]string{"THARSIS_ENDPOINT": srv.URL(), "THARSIS_STATIC_TOKEN": tok}}, "whoami", "-o", "json")
				if w.Code != 0 || !strings.Contains(w.Stdout, `"resource_path": "`+sa+`"`) {
					t.Errorf("whoami with the token: %d %s%s", w.Code, w.Stdout, w.Stderr)
				}
				if strings.Contains(r.Stderr, tok) {
					t.Error("the Tharsis token is on stderr")
				}
			}
		})
	}
}

func checkLoginOutput(t *testing.T, r clitest.Result, asJSON bool) string {
	t.Helper()
	if !asJSON {
		tok := strings.TrimSuffix(r.Stdout, "\n")
		if strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") {
			t.Fatalf("stdout is not one token line: %q", r.Stdout)
		}
		if !strings.Contains(r.Stderr, "valid until") {
			t.Errorf("stderr = %q", r.Stderr)
		}
		return tok
	}
	var out struct {
		Token     string    `json:"token"`
		ExpiresIn int       `json:"expires_in"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("stdout: %v: %q", err, r.Stdout)
	}
	if out.Token == "" || out.ExpiresIn != 900 || out.ExpiresAt.Before(time.Now().Add(14*time.Minute)) {
		t.Errorf("json = %+v", out)
	}
	return out.Token
}
