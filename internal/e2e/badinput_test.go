package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tharsis-cli/tharsis/internal/e2e"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
)

// badEnv is what one bad-input case needs from the shared fixtures.
type badEnv struct {
	srv     *sandbox.Server
	html    string // an endpoint answering with an HTML page, like a login proxy
	tlsURL  string // an HTTPS endpoint with a certificate nobody trusts
	viewer  string // token of a user with the viewer role on the seed group
	dir     string // a directory with a valid configuration
	t       *testing.T
	scratch string // a private directory for the case's files
}

// file writes a file in the case's scratch directory and returns its path.
func (b *badEnv) file(name, content string) string {
	b.t.Helper()
	p := filepath.Join(b.scratch, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		b.t.Fatal(err)
	}
	return p
}

// tree writes files under a new directory in the scratch directory.
func (b *badEnv) tree(name string, files map[string]string) string {
	b.t.Helper()
	d := filepath.Join(b.scratch, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		b.t.Fatal(err)
	}
	for n, c := range files {
		b.file(filepath.Join(name, n), c)
	}
	return d
}

func (b *badEnv) symlink(target, name string) string {
	b.t.Helper()
	p := filepath.Join(b.scratch, name)
	if err := os.Symlink(target, p); err != nil {
		b.t.Fatal(err)
	}
	return p
}

// badCase is one invocation with bad input. args and env may be built from
// the fixtures.
type badCase struct {
	name string
	// args returns the command line; env the variables added to the
	// default ones (endpoint and admin token of the sandbox); a "" value
	// removes a default.
	args func(b *badEnv) []string
	env  func(b *badEnv) map[string]string
	code int
	// msg must match the Error: line.
	msg string
	// root: the case needs permissions that root ignores.
	root bool
}

func wsArgs(verb string, b *badEnv, more ...string) []string {
	return append([]string{verb, ws, "--directory-path", b.dir}, more...)
}

func fixed(args ...string) func(*badEnv) []string {
	return func(*badEnv) []string { return args }
}

func withEnv(kv ...string) func(*badEnv) map[string]string {
	return func(*badEnv) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
}

// unknownGID is a well-formed global ID of a run that does not exist.
var unknownGID = base64.RawURLEncoding.EncodeToString([]byte("R_00000000-0000-4000-8000-000000000000"))

// badCases are the bad inputs; the README's exit code table documents the
// codes.
var badCases = []badCase{
	// ---- flags and arguments (64)
	{name: "unknown flag", args: func(b *badEnv) []string { return wsArgs("apply", b, "--no-such-flag") }, code: 64, msg: `unknown flag: --no-such-flag`},
	{name: "unknown command", args: fixed("frobnicate"), code: 64, msg: `unknown command "frobnicate"`},
	{name: "unknown subcommand", args: fixed("run", "frobnicate"), code: 64, msg: `frobnicate`},
	{name: "missing workspace argument", args: fixed("apply"), code: 64, msg: `workspace`},
	{name: "two workspaces", args: func(b *badEnv) []string { return wsArgs("apply", b, "other/ws") }, code: 64, msg: `argument`},
	{name: "blank workspace", args: func(b *badEnv) []string { return []string{"apply", " ", "--directory-path", b.dir} }, code: 64, msg: `workspace`},
	{name: "bad duration", args: func(b *badEnv) []string { return wsArgs("apply", b, "--timeout", "soon") }, code: 64, msg: `soon`},
	{name: "negative duration", args: func(b *badEnv) []string { return wsArgs("apply", b, "--timeout", "-1s") }, code: 64, msg: `timeout`},
	{name: "bad output format", args: func(b *badEnv) []string { return append([]string{"-o", "yaml"}, wsArgs("apply", b)...) }, code: 64, msg: `yaml`},
	{name: "bad log level", args: func(b *badEnv) []string { return append([]string{"--log-level", "loud"}, wsArgs("apply", b)...) }, code: 64, msg: `loud`},
	{name: "two sources", args: func(b *badEnv) []string { return wsArgs("apply", b, "--module-source", "a/b/c") }, code: 64, msg: `module-source|directory-path`},
	{name: "module version without source", args: func(b *badEnv) []string { return wsArgs("apply", b, "--module-version", "1.0.0") }, code: 64, msg: `module-version`},
	{name: "latest as module version", args: fixed("apply", ws, "--module-source", "reg/mod/aws", "--module-version", "latest"), code: 64, msg: `latest`},
	{name: "refresh-only destroy", args: func(b *badEnv) []string { return wsArgs("plan", b, "--destroy", "--refresh-only") }, code: 64, msg: `refresh-only`},
	{name: "refresh-only on destroy", args: func(b *badEnv) []string { return wsArgs("destroy", b, "--refresh-only") }, code: 64, msg: `unknown flag: --refresh-only`},
	{name: "variable without value", args: func(b *badEnv) []string { return wsArgs("apply", b, "--tf-var", "region") }, code: 64, msg: `--tf-var #1: expected key=value`},
	{name: "variable with empty name", args: func(b *badEnv) []string { return wsArgs("apply", b, "--tf-var", "=x") }, code: 64, msg: `name|key`},
	{name: "variable with invalid name", args: func(b *badEnv) []string { return wsArgs("apply", b, "--tf-var", "1bad=x") }, code: 64, msg: `1bad`},
	{name: "environment variable without value", args: func(b *badEnv) []string { return wsArgs("apply", b, "--env-var", "TOKEN") }, code: 64, msg: `--env-var #1: expected KEY=value`},
	{name: "negative upload limit", args: func(b *badEnv) []string { return wsArgs("apply", b, "--max-upload-size", "-5") }, code: 64, msg: `max-upload-size`},
	{name: "run list limit out of range", args: fixed("run", "list", ws, "--limit", "0"), code: 64, msg: `limit`},
	{name: "run get without an ID", args: fixed("run", "get"), code: 64, msg: `RUN|run`},
	{name: "workspace get with extra arguments", args: fixed("workspace", "get", ws, "extra"), code: 64, msg: `argument`},

	// ---- variable and environment files (64)
	{name: "missing tfvars file", args: func(b *badEnv) []string {
		return wsArgs("apply", b, "--tf-var-file", filepath.Join(b.scratch, "nope.tfvars"))
	}, code: 64, msg: `nope.tfvars`},
	{name: "tfvars syntax error", args: func(b *badEnv) []string {
		return wsArgs("apply", b, "--tf-var-file", b.file("bad.tfvars", "region = \"eu\nzone = \n"))
	}, code: 64, msg: `bad.tfvars`},
	{name: "tfvars with an expression", args: func(b *badEnv) []string {
		return wsArgs("apply", b, "--tf-var-file", b.file("expr.tfvars", "region = var.other\n"))
	}, code: 64, msg: `expr.tfvars`},
	{name: "tfvars with a block", args: func(b *badEnv) []string {
		return wsArgs("apply", b, "--tf-var-file", b.file("block.tfvars", "resource \"x\" \"y\" {}\n"))
	}, code: 64, msg: `block.tfvars`},
	{name: "invalid tfvars JSON", args: func(b *badEnv) []string {
		return wsArgs("apply", b, "--tf-var-file", b.file("bad.tfvars.json", `{"region": `))
	}, code: 64, msg: `bad.tfvars.json`},
	{name: "tfvars JSON that is not an object", args: func(b *badEnv) []string {
		return wsArgs("apply", b, "--tf-var-file", b.file("list.tfvars.json", `["a"]`))
	}, code: 64, msg: `list.tfvars.json`},
	{name: "tfvars file is a directory", args: func(b *badEnv) []string {
		return wsArgs("apply", b, "--tf-var-file", b.tree("vars.tfvars", nil))
	}, code: 64, msg: `vars.tfvars`},
	{name: "binary tfvars file", args: func(b *badEnv) []string {
		return wsArgs("apply", b, "--tf-var-file", b.file("bin.tfvars", "\x00\x01\xff\xfe = \x00"))
	}, code: 64, msg: `bin.tfvars`},
	{name: "bad terraform.tfvars in the directory", args: func(b *badEnv) []string {
		return []string{"apply", ws, "--directory-path", b.tree("cfg", map[string]string{"main.tf": oneResource, "terraform.tfvars": "a = \n"})}
	}, code: 64, msg: `terraform.tfvars`},
	{name: "bad auto tfvars in the directory", args: func(b *badEnv) []string {
		return []string{"apply", ws, "--directory-path", b.tree("cfg", map[string]string{"main.tf": oneResource, "x.auto.tfvars.json": "{"})}
	}, code: 64, msg: `x.auto.tfvars.json`},
	{name: "missing env file", args: func(b *badEnv) []string {
		return wsArgs("apply", b, "--env-var-file", filepath.Join(b.scratch, "nope.env"))
	}, code: 64, msg: `nope.env`},
	{name: "env file syntax error", args: func(b *badEnv) []string {
		return wsArgs("apply", b, "--env-var-file", b.file("bad.env", "GOOD=1\nthis is not an assignment\n"))
	}, code: 64, msg: `bad.env`},
	{name: "env file unterminated quote", args: func(b *badEnv) []string {
		return wsArgs("apply", b, "--env-var-file", b.file("quote.env", "A=\"open\n"))
	}, code: 64, msg: `quote.env`},
	{name: "env file is a directory", args: func(b *badEnv) []string {
		return wsArgs("apply", b, "--env-var-file", b.tree("envdir", nil))
	}, code: 64, msg: `envdir`},

	// ---- directories (64)
	{name: "missing directory", args: func(b *badEnv) []string {
		return []string{"apply", ws, "--directory-path", filepath.Join(b.scratch, "absent")}
	}, code: 64, msg: `absent`},
	{name: "directory is a file", args: func(b *badEnv) []string {
		return []string{"apply", ws, "--directory-path", b.file("main.tf", oneResource)}
	}, code: 64, msg: `main.tf`},
	{name: "empty directory", args: func(b *badEnv) []string { return []string{"apply", ws, "--directory-path", b.tree("empty", nil)} }, code: 64, msg: `\.tf`},
	{name: "directory without .tf files for a plan", args: func(b *badEnv) []string {
		return []string{"plan", ws, "--directory-path", b.tree("docs", map[string]string{"README.md": "# hi\n", "vars.tfvars": "a = 1\n"})}
	}, code: 64, msg: `\.tf`},
	{name: "unreadable directory", root: true, args: func(b *badEnv) []string {
		d := b.tree("locked", map[string]string{"main.tf": oneResource})
		if err := os.Chmod(d, 0o000); err != nil {
			b.t.Fatal(err)
		}
		b.t.Cleanup(func() { _ = os.Chmod(d, 0o755) })
		return []string{"apply", ws, "--directory-path", d}
	}, code: 64, msg: `locked|permission`},
	{name: "dangling directory symlink", args: func(b *badEnv) []string {
		return []string{"apply", ws, "--directory-path", b.symlink(filepath.Join(b.scratch, "gone"), "link")}
	}, code: 64, msg: `link|gone`},
	// A link to a file or directory outside is followed and packed, as
	// go-slug and Terraform do (pkg/slug); one that climbs back to an
	// ancestor of the directory, or leads nowhere, is bad input.
	{name: "symlink escaping to an ancestor", args: func(b *badEnv) []string {
		d := b.tree("cfg", map[string]string{"main.tf": oneResource})
		if err := os.Symlink("..", filepath.Join(d, "up")); err != nil {
			b.t.Fatal(err)
		}
		return []string{"apply", ws, "--directory-path", d}
	}, code: 64, msg: `symlink loop: .*up`},
	{name: "symlink escaping to an absolute ancestor", args: func(b *badEnv) []string {
		d := b.tree("cfg", map[string]string{"main.tf": oneResource})
		if err := os.Symlink(b.scratch, filepath.Join(d, "root")); err != nil {
			b.t.Fatal(err)
		}
		return []string{"apply", ws, "--directory-path", d}
	}, code: 64, msg: `symlink loop: .*root`},
	{name: "symlink escaping to nothing", args: func(b *badEnv) []string {
		d := b.tree("cfg", map[string]string{"main.tf": oneResource})
		if err := os.Symlink(filepath.Join(b.scratch, "gone", "secret.tf"), filepath.Join(d, "escape.tf")); err != nil {
			b.t.Fatal(err)
		}
		return []string{"apply", ws, "--directory-path", d}
	}, code: 64, msg: `dangling symlink: .*escape.tf`},
	{name: "dangling symlink inside", args: func(b *badEnv) []string {
		d := b.tree("cfg", map[string]string{"main.tf": oneResource})
		if err := os.Symlink("missing.tf", filepath.Join(d, "vars.tf")); err != nil {
			b.t.Fatal(err)
		}
		return []string{"apply", ws, "--directory-path", d}
	}, code: 64, msg: `dangling symlink: .*vars.tf`},
	{name: "symlink loop", args: func(b *badEnv) []string {
		d := b.tree("cfg", map[string]string{"main.tf": oneResource})
		if err := os.Symlink("b", filepath.Join(d, "a")); err != nil {
			b.t.Fatal(err)
		}
		if err := os.Symlink("a", filepath.Join(d, "b")); err != nil {
			b.t.Fatal(err)
		}
		return []string{"apply", ws, "--directory-path", d}
	}, code: 64, msg: `symlink loop`},
	{name: "symlink loop through a followed directory", args: func(b *badEnv) []string {
		d := b.tree("cfg", map[string]string{"main.tf": oneResource})
		ext := b.tree("ext", map[string]string{"x.txt": "x"})
		if err := os.Symlink(ext, filepath.Join(d, "lib")); err != nil {
			b.t.Fatal(err)
		}
		if err := os.Symlink(ext, filepath.Join(ext, "self")); err != nil {
			b.t.Fatal(err)
		}
		return []string{"apply", ws, "--directory-path", d}
	}, code: 64, msg: `symlink loop`},
	{name: "configuration over the upload limit", args: func(b *badEnv) []string {
		d := b.tree("big", map[string]string{"main.tf": oneResource, "data.bin": strings.Repeat("0123456789abcdef", 4096)})
		return []string{"apply", ws, "--directory-path", d, "--max-upload-size", "512"}
	}, code: 64, msg: `size limit`},
	{name: "unreadable file", root: true, args: func(b *badEnv) []string {
		d := b.tree("cfg", map[string]string{"main.tf": oneResource, "secret.tf": oneResource})
		if err := os.Chmod(filepath.Join(d, "secret.tf"), 0o000); err != nil {
			b.t.Fatal(err)
		}
		return []string{"apply", ws, "--directory-path", d}
	}, code: 64, msg: `secret.tf`},

	// ---- things that do not exist (5)
	{name: "unknown workspace", args: func(b *badEnv) []string { return []string{"apply", "sandbox/absent", "--directory-path", b.dir} }, code: 5, msg: `sandbox/absent`},
	{name: "workspace in an unknown group", args: func(b *badEnv) []string { return []string{"plan", "nowhere/ws", "--directory-path", b.dir} }, code: 5, msg: `nowhere/ws`},
	{name: "workspace by an unknown ID", args: func(b *badEnv) []string {
		return []string{"apply", base64.RawURLEncoding.EncodeToString([]byte("W_00000000-0000-4000-8000-000000000000")), "--directory-path", b.dir}
	}, code: 5, msg: `not found`},
	{name: "unknown configuration version", args: fixed("apply", ws, "--configuration-version", base64.RawURLEncoding.EncodeToString([]byte("CV_00000000-0000-4000-8000-000000000000"))), code: 5, msg: `configuration version .* not found`},
	{name: "garbage configuration version", args: fixed("apply", ws, "--configuration-version", "nope"), code: 5, msg: `configuration version "nope"`},
	// The API reports an unknown module as invalid input to createRun.
	{name: "unknown module", args: fixed("apply", ws, "--module-source", "sandbox/nothing/aws"), code: 1, msg: `module sandbox/nothing/aws not found`},
	{name: "unknown run", args: fixed("run", "get", unknownGID), code: 5, msg: `not found`},
	{name: "garbage run ID", args: fixed("run", "get", "not-a-run"), code: 5, msg: `not-a-run`},
	{name: "cancel an unknown run", args: fixed("run", "cancel", unknownGID), code: 5, msg: `not found`},
	{name: "logs of an unknown run", args: fixed("run", "logs", unknownGID), code: 5, msg: `not found`},
	{name: "approve an unknown run", args: fixed("run", "approve", unknownGID), code: 5, msg: `not found`},
	{name: "unknown workspace (get)", args: fixed("workspace", "get", "sandbox/absent"), code: 5, msg: `sandbox/absent`},
	{name: "unknown group", args: fixed("group", "get", "no-such-group"), code: 5, msg: `no-such-group`},
	{name: "workspaces of an unknown group", args: fixed("workspace", "list", "--group", "no-such-group"), code: 5, msg: `no-such-group`},
	{name: "unknown runner agent", args: fixed("runner-agent", "get", "sandbox/no-such-runner"), code: 5, msg: `no-such-runner`},
	{name: "unknown service account", args: fixed("service-account", "get", "sandbox/no-such-sa"), code: 5, msg: `no-such-sa`},

	// ---- who you are (4)
	{name: "a viewer applies", args: func(b *badEnv) []string { return wsArgs("apply", b, "--auto-approve") },
		env: func(b *badEnv) map[string]string { return map[string]string{"THARSIS_STATIC_TOKEN": b.viewer} }, code: 4, msg: `create`},
	{name: "a viewer destroys", args: func(b *badEnv) []string { return wsArgs("destroy", b, "--auto-approve") },
		env: func(b *badEnv) map[string]string { return map[string]string{"THARSIS_STATIC_TOKEN": b.viewer} }, code: 4, msg: `create`},
	{name: "garbage token", args: func(b *badEnv) []string { return wsArgs("apply", b) }, env: withEnv("THARSIS_STATIC_TOKEN", "garbage"), code: 4, msg: `.`},
	{name: "expired token", args: func(b *badEnv) []string { return wsArgs("apply", b) },
		env: func(b *badEnv) map[string]string {
			tok, err := b.srv.IssueToken(sandbox.SeedAdmin, -time.Minute)
			if err != nil {
				b.t.Fatal(err)
			}
			return map[string]string{"THARSIS_STATIC_TOKEN": tok}
		}, code: 4, msg: `expired`},
	{name: "token signed by someone else", args: func(b *badEnv) []string { return wsArgs("apply", b) },
		env: func(b *badEnv) map[string]string {
			return map[string]string{"THARSIS_STATIC_TOKEN": forgedToken(b.t, b.srv.URL())}
		}, code: 4, msg: `.`},
	{name: "no credentials at all", args: func(b *badEnv) []string { return wsArgs("apply", b) }, env: withEnv("THARSIS_STATIC_TOKEN", ""), code: 4, msg: `token|log in|credential`},
	{name: "wrong client secret", args: func(b *badEnv) []string { return wsArgs("apply", b) },
		env: withEnv("THARSIS_STATIC_TOKEN", "", "THARSIS_CLIENT_ID", "sandbox/nobody", "THARSIS_CLIENT_SECRET", "wrong"), code: 4, msg: `.`},
	{name: "service account without a token", args: func(b *badEnv) []string { return wsArgs("apply", b) },
		env: withEnv("THARSIS_STATIC_TOKEN", "", "THARSIS_SERVICE_ACCOUNT_ID", "sandbox/ci"), code: 4, msg: `THARSIS_SERVICE_ACCOUNT_ID is set but there is no OIDC token`},
	{name: "service account with a garbage OIDC token", args: func(b *badEnv) []string { return wsArgs("apply", b) },
		env: withEnv("THARSIS_STATIC_TOKEN", "", "THARSIS_SERVICE_ACCOUNT_ID", "sandbox/ci", "THARSIS_SERVICE_ACCOUNT_TOKEN", "not-a-jwt"), code: 4, msg: `.`},

	// ---- endpoints and the network
	{name: "endpoint with a bad scheme", args: func(b *badEnv) []string { return wsArgs("apply", b) }, env: withEnv("THARSIS_ENDPOINT", "ftp://tharsis.example.com"), code: 1, msg: `scheme`},
	{name: "endpoint with credentials", args: func(b *badEnv) []string { return wsArgs("apply", b) }, env: withEnv("THARSIS_ENDPOINT", "https://user:pw@tharsis.example.com"), code: 1, msg: `user name or password`},
	{name: "endpoint with a query", args: func(b *badEnv) []string {
		return append([]string{"--endpoint", "https://tharsis.example.com/?x=1"}, wsArgs("apply", b)...)
	}, code: 1, msg: `query`},
	{name: "endpoint with a bad port", args: func(b *badEnv) []string { return wsArgs("apply", b) }, env: withEnv("THARSIS_ENDPOINT", "http://127.0.0.1:99999"), code: 1, msg: `port`},
	{name: "endpoint missing //", args: func(b *badEnv) []string { return wsArgs("apply", b) }, env: withEnv("THARSIS_ENDPOINT", "https:tharsis.example.com"), code: 1, msg: `//`},
	{name: "HTTPS to a plain HTTP server", args: func(b *badEnv) []string { return wsArgs("apply", b) },
		env: func(b *badEnv) map[string]string {
			return map[string]string{"THARSIS_ENDPOINT": strings.Replace(b.srv.URL(), "http://", "https://", 1)}
		}, code: 1, msg: `does not speak TLS`},
	{name: "untrusted certificate", args: func(b *badEnv) []string { return wsArgs("apply", b) },
		env: func(b *badEnv) map[string]string { return map[string]string{"THARSIS_ENDPOINT": b.tlsURL} }, code: 1, msg: `not trusted`},
	{name: "a proxy answers with an HTML page", args: func(b *badEnv) []string { return wsArgs("apply", b) },
		env: func(b *badEnv) map[string]string { return map[string]string{"THARSIS_ENDPOINT": b.html} }, code: 1, msg: `did not answer like a Tharsis API`},

	// ---- settings
	{name: "no settings and no endpoint", args: func(b *badEnv) []string { return wsArgs("apply", b) }, env: withEnv("THARSIS_ENDPOINT", ""), code: 1, msg: `profile|endpoint`},
	{name: "unknown profile", args: func(b *badEnv) []string { return append([]string{"-p", "prod"}, wsArgs("apply", b)...) },
		env: func(b *badEnv) map[string]string {
			d := b.tree("settings", map[string]string{"settings.json": `{"profiles":{"default":{"endpoint":"https://tharsis.example.com"}}}`})
			return map[string]string{"THARSIS_CONFIG_DIR": d, "THARSIS_ENDPOINT": ""}
		}, code: 1, msg: `no profile named "prod" \(known profiles: default\)`},
	{name: "profile without an endpoint", args: func(b *badEnv) []string { return wsArgs("apply", b) },
		env: func(b *badEnv) map[string]string {
			d := b.tree("settings", map[string]string{"settings.json": `{"profiles":{"default":{}}}`})
			return map[string]string{"THARSIS_CONFIG_DIR": d, "THARSIS_ENDPOINT": ""}
		}, code: 1, msg: `profile "default" has no endpoint`},
	{name: "bad TLS setting in the environment", args: func(b *badEnv) []string { return wsArgs("apply", b) }, env: withEnv("THARSIS_TLS_SKIP_VERIFY", "maybe"), code: 1, msg: `maybe`},
	{name: "CA bundle that does not exist", args: func(b *badEnv) []string { return wsArgs("apply", b) },
		env: func(b *badEnv) map[string]string {
			return map[string]string{"THARSIS_CA_CERT_FILE": filepath.Join(b.scratch, "ca.pem")}
		}, code: 1, msg: `ca.pem`},
	{name: "CA bundle without certificates", args: func(b *badEnv) []string { return wsArgs("apply", b) },
		env: func(b *badEnv) map[string]string {
			return map[string]string{"THARSIS_CA_CERT_FILE": b.file("ca.pem", "not a certificate\n")}
		}, code: 1, msg: `no PEM certificate`},
	{name: "settings file is not JSON", args: func(b *badEnv) []string { return wsArgs("apply", b) },
		env: func(b *badEnv) map[string]string {
			d := b.tree("settings", map[string]string{"settings.json": "{not json"})
			return map[string]string{"THARSIS_CONFIG_DIR": d, "THARSIS_ENDPOINT": ""}
		}, code: 1, msg: `settings.json`},
	{name: "bad log level in the environment", args: func(b *badEnv) []string { return wsArgs("apply", b) }, env: withEnv("THARSIS_CLI_LOG", "loud"), code: 1, msg: `loud`},
}

// TestBadInput runs the real binary on every bad input: each must print
// one clear error (an "Error:" line, perhaps hints), exit with its
// documented code, never panic, and create nothing on the server.
func TestBadInput(t *testing.T) {
	if len(badCases) < 60 {
		t.Fatalf("only %d cases", len(badCases))
	}
	bin := tharsisBinary(t)
	srv := sandboxtest.Start(t)
	viewer, err := srv.CreateUser("viewer", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddMembership(sandbox.SeedGroup, "user", "viewer", "viewer"); err != nil {
		t.Fatal(err)
	}
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><html><body><h1>Sign in to the corporate proxy</h1></body></html>")
	}))
	t.Cleanup(html.Close)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request went through an untrusted TLS connection: %s %s", r.Method, r.URL)
	}))
	t.Cleanup(tlsSrv.Close)
	dir := configDir(t, map[string]string{"main.tf": oneResource})
	mutations := mutationNames(t)

	names := map[string]bool{}
	for _, c := range badCases {
		if names[c.name] {
			t.Fatalf("two cases named %q", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.root && os.Geteuid() == 0 {
				t.Skip("root reads whatever the permissions say")
			}
			// Each case talks through its own proxy, which counts what
			// this case sent.
			p, err := e2e.NewProxy(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			b := &badEnv{srv: srv, html: html.URL, tlsURL: tlsSrv.URL, viewer: viewer, dir: dir, t: t, scratch: t.TempDir()}
			env := map[string]string{
				"PATH":                 os.Getenv("PATH"),
				"HOME":                 t.TempDir(),
				"THARSIS_CONFIG_DIR":   t.TempDir(),
				"THARSIS_ENDPOINT":     p.URL(),
				"THARSIS_STATIC_TOKEN": srv.AdminToken(),
			}
			if c.env != nil {
				for k, v := range c.env(b) {
					if v == "" {
						delete(env, k)
						continue
					}
					env[k] = v
				}
			}
			args := c.args(b)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Env = nil
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Stdin = nil
			err = cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if err != nil && code < 0 {
				t.Fatalf("run: %v", err)
			}
			t.Logf("tharsis %s\nexit %d\n--- stdout ---\n%s--- stderr ---\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
			if code != c.code {
				t.Errorf("exit code %d, want %d", code, c.code)
			}
			wantOneError(t, stderr.String())
			wantNoPanic(t, stdout.String())
			for _, l := range strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n") {
				if !strings.HasPrefix(l, "Error: ") && !strings.HasPrefix(l, "Hint: ") && !strings.HasPrefix(l, "      ") &&
					!strings.HasPrefix(l, "Run '") && !strings.HasPrefix(l, "Packed ") && !strings.HasPrefix(l, "Warning: ") {
					t.Errorf("unexpected line on stderr: %q", l)
				}
			}
			if m := regexp.MustCompile(`(?m)^Error: .*$`).FindString(stderr.String()); !regexp.MustCompile(c.msg).MatchString(m) {
				t.Errorf("the error %q does not match %q", m, c.msg)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout is not empty")
			}
			if code == 64 {
				// Bad flags, arguments and input files are found before
				// anything is sent that could change something.
				for op := range mutations {
					if n := p.Count(op); n > 0 {
						t.Errorf("%d %s requests were sent", n, op)
					}
				}
				if n := p.Count("upload"); n > 0 {
					t.Errorf("%d uploads were sent", n)
				}
			}
			wantNothingCreated(t, srv)
		})
	}
}

// wantNothingCreated checks that the sandbox holds no run, configuration
// version, workspace or group besides its seed, and received no upload.
// (The cases share the sandbox: whichever case created something, the
// next check fails.)
func wantNothingCreated(t *testing.T, srv *sandbox.Server) {
	t.Helper()
	if n := requestCounts(t, srv)["upload"]; n > 0 {
		t.Errorf("the sandbox received %d uploads", n)
	}
	if n := len(srv.Runs(ws)); n != 0 {
		t.Errorf("%d runs exist", n)
	}
	if n := len(srv.ConfigurationVersions(ws)); n != 0 {
		t.Errorf("%d configuration versions exist", n)
	}
}

// mutationNames lists the CLI's GraphQL mutations from its operation files.
func mutationNames(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../api/gql/operations/*.graphql")
	if err != nil || len(files) == 0 {
		t.Fatalf("operation files: %v", err)
	}
	re := regexp.MustCompile(`(?m)^mutation\s+([A-Za-z0-9_]+)`)
	out := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = true
		}
	}
	if !out["CreateRun"] || !out["CreateConfigurationVersion"] {
		t.Fatalf("mutations found: %v", out)
	}
	return out
}

// forgedToken is a well-formed JWT for the sandbox's admin, signed by a
// key the sandbox does not know.
func forgedToken(t *testing.T, issuer string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": issuer, "sub": sandbox.SeedAdmin, "aud": "tharsis", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
	})
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
