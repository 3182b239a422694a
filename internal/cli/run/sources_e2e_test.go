package run_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// TestDirectorySource: --directory-path, the current directory by default,
// and ".", ".." and hidden directory names; the run is created from exactly
// one uploaded configuration version holding the directory's files.
func TestDirectorySource(t *testing.T) {
	for _, tc := range []struct {
		name string
		// layout under a temporary root; the configuration lives in cfg.
		cfg string
		// cwd is where the command runs, relative to the root.
		cwd  string
		args []string
	}{
		{name: "--directory-path absolute", cfg: "infra", cwd: ".", args: []string{"--directory-path", "<root>/infra"}},
		{name: "--directory-path relative", cfg: "infra", cwd: ".", args: []string{"--directory-path", "infra"}},
		{name: "current directory by default", cfg: "infra", cwd: "infra"},
		{name: "--directory-path .", cfg: "infra", cwd: "infra", args: []string{"--directory-path", "."}},
		{name: "--directory-path ..", cfg: "infra", cwd: "infra/sub", args: []string{"--directory-path", ".."}},
		{name: "hidden directory", cfg: ".infra", cwd: ".", args: []string{"--directory-path", ".infra"}},
		{name: "inside a hidden directory by default", cfg: ".config/tf", cwd: ".config/tf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t)
			root := t.TempDir()
			writeFiles(t, root, map[string]string{
				filepath.Join(tc.cfg, "main.tf"):         oneResource,
				filepath.Join(tc.cfg, "notes/readme.md"): "kept",
				"outside.tf":                             `resource "terraform_data" "outside" {}`,
			})
			if err := os.MkdirAll(filepath.Join(root, tc.cwd), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Chdir(filepath.Join(root, tc.cwd))
			args := []string{"plan", ws}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "<root>", root))
			}
			res := tharsis(t, clitest.Options{Env: env(srv)}, args...)
			wantCode(t, res, 0)
			r := onlyRun(t, srv, ws)
			cvs := srv.ConfigurationVersions(ws)
			if len(cvs) != 1 || r.ConfigurationVersionID != cvs[0].ID || cvs[0].Status != "uploaded" || !cvs[0].Speculative {
				t.Fatalf("configuration versions %+v for run %+v", cvs, r)
			}
			plan, _ := jobLogs(t, srv, r)
			wantContains(t, "plan log", string(plan), "terraform_data.a", "1 to add")
			wantNotContains(t, "plan log", string(plan), "terraform_data.outside")
			wantContains(t, "stderr", res.Stderr, "Packed 2 files", "Run "+runGID(r)+" created")
		})
	}
}

// TestDirectoryErrors: a missing directory, a file, or a directory without
// Terraform files fails before anything is created.
func TestDirectoryErrors(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"file.tf": oneResource, "empty/readme.md": "x"})
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"absent", []string{"apply", ws, "--directory-path", filepath.Join(root, "nope")}, []string{"does not exist"}},
		{"a file", []string{"apply", ws, "--directory-path", filepath.Join(root, "file.tf")}, []string{"is not a directory"}},
		{"no Terraform files", []string{"plan", ws, "--directory-path", filepath.Join(root, "empty")}, []string{"no Terraform files", "--directory-path"}},
		{"two sources", []string{"plan", ws, "--directory-path", root, "--module-source", "x/y/z"}, []string{"exclusive"}},
		{"module and configuration version", []string{"plan", ws, "--module-source", "x/y/z", "--configuration-version", "abc"}, []string{"exclusive"}},
		{"--module-version alone", []string{"plan", ws, "--directory-path", root, "--module-version", "1.0.0"}, []string{"--module-version needs --module-source"}},
		{"--include-module-prereleases alone", []string{"plan", ws, "--include-module-prereleases"}, []string{"needs --module-source"}},
		{"latest", []string{"plan", ws, "--module-source", "x/y/z", "--module-version", "latest"}, []string{"not a module version"}},
		{"--refresh-only with --destroy", []string{"plan", ws, "--directory-path", root, "--destroy", "--refresh-only"}, []string{"--refresh-only"}},
		{"negative timeout", []string{"plan", ws, "--directory-path", root, "--timeout", "-1s"}, []string{"--timeout"}},
		{"no workspace", []string{"plan", "--directory-path", root}, []string{"workspace"}},
		{"empty workspace", []string{"plan", " ", "--directory-path", root}, []string{"workspace"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t)
			res := tharsis(t, clitest.Options{Env: env(srv)}, tc.args...)
			wantCode(t, res, 64)
			wantContains(t, "stderr", res.Stderr, tc.want...)
			nothingCreated(t, srv)
		})
	}
}

// TestModuleSource: a run from a registry module uploads nothing, resolves
// the version (constraint, latest, prereleases) and never reads variable
// files from the current directory.
func TestModuleSource(t *testing.T) {
	const src = "registry.sandbox.local/sandbox/mod/aws"
	mod := func(v string) map[string][]byte {
		return map[string][]byte{"main.tf": []byte(`variable "region" {
  type    = string
  default = "default-region"
}
resource "terraform_data" "m" {
  input = "` + v + `-${var.region}"
}
`)}
	}
	for _, tc := range []struct {
		name        string
		args        []string
		wantVersion string
	}{
		{"latest", nil, "1.2.0"},
		{"constraint", []string{"--module-version", "~> 1.1.0"}, "1.1.3"},
		{"exact", []string{"--module-version", "1.0.0"}, "1.0.0"},
		{"prereleases", []string{"--include-module-prereleases"}, "2.0.0-beta.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSandbox(t)
			for _, v := range []string{"1.0.0", "1.1.3", "1.2.0", "2.0.0-beta.1"} {
				if err := srv.RegisterModule(src, v, mod(v)); err != nil {
					t.Fatal(err)
				}
			}
			// Variable files in the current directory belong to some
			// other configuration: a module run must not send them.
			t.Chdir(configDir(t, map[string]string{
				"main.tf":                  oneResource,
				"terraform.tfvars":         `region = "from-cwd"`,
				"x.auto.tfvars":            `other = "from-cwd"`,
				"terraform.tfvars.json":    `{"json": "from-cwd"}`,
				"y.auto.tfvars.json":       `{"json2": "from-cwd"}`,
				"sub/terraform.tfvars":     `region = "sub"`,
				".hidden/terraform.tfvars": `region = "hidden"`,
			}))
			args := append([]string{"apply", ws, "--module-source", src, "--auto-approve"}, tc.args...)
			res := tharsis(t, clitest.Options{Env: env(srv, "TF_VAR_region", "from-env")}, args...)
			wantCode(t, res, 0)
			r := onlyRun(t, srv, ws)
			if r.ModuleSource == nil || *r.ModuleSource != src || r.ModuleVersion == nil || *r.ModuleVersion != tc.wantVersion {
				t.Fatalf("run module %v %v, want %s %s", r.ModuleSource, r.ModuleVersion, src, tc.wantVersion)
			}
			if r.Status != "applied" {
				t.Fatalf("run status %s", r.Status)
			}
			if n := len(srv.ConfigurationVersions(ws)); n != 0 || srv.RequestCount("upload") != 0 {
				t.Fatalf("a module run uploaded %d configuration versions", n)
			}
			// Only TF_VAR_region from the environment reaches the run.
			if got := runVars(r, "terraform"); len(got) != 1 || got["region"] != "from-env" {
				t.Fatalf("terraform variables %v, want only region=from-env", got)
			}
			plan, _ := jobLogs(t, srv, r)
			wantContains(t, "plan log", string(plan), tc.wantVersion+"-from-env")
		})
	}
}

// TestModuleSourceUnknown: a module the registry does not have fails at
// createRun, before any run exists.
func TestModuleSourceUnknown(t *testing.T) {
	srv := startSandbox(t)
	res := tharsis(t, clitest.Options{Env: env(srv)}, "plan", ws, "--module-source", "registry.sandbox.local/a/b/c")
	if res.Code == 0 {
		t.Fatal("want a failure")
	}
	wantContains(t, "stderr", res.Stderr, "registry.sandbox.local/a/b/c")
	if n := len(srv.Runs(ws)); n != 0 {
		t.Fatalf("%d runs", n)
	}
}

// TestConfigurationVersionSource: a run from an uploaded configuration
// version uploads nothing new.
func TestConfigurationVersionSource(t *testing.T) {
	srv := startSandbox(t)
	dir := configDir(t, map[string]string{"main.tf": oneResource})
	// An apply left for approval uploads a configuration version that
	// later applies may use (a speculative plan's could only be planned).
	wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--directory-path", dir, "--input=false"), 0)
	cvs := srv.ConfigurationVersions(ws)
	if len(cvs) != 1 || cvs[0].Speculative {
		t.Fatalf("%d configuration versions", len(cvs))
	}
	cvID := sandbox.GID("configuration_version", cvs[0].ID)

	// Run from another directory without Terraform files: the flag decides.
	t.Chdir(t.TempDir())
	res := tharsis(t, clitest.Options{Env: env(srv)}, "apply", ws, "--configuration-version", cvID, "--auto-approve")
	wantCode(t, res, 0)
	runs := srv.Runs(ws)
	if len(runs) != 2 || len(srv.ConfigurationVersions(ws)) != 1 {
		t.Fatalf("%d runs, %d configuration versions; want 2 and 1", len(runs), len(srv.ConfigurationVersions(ws)))
	}
	if r := runs[1]; r.ConfigurationVersionID != cvs[0].ID || r.Status != "applied" {
		t.Fatalf("second run: configuration version %s status %s", r.ConfigurationVersionID, r.Status)
	}
	wantNotContains(t, "stderr", res.Stderr, "Packed", "Uploaded")

	// A speculative plan may use it too.
	wantCode(t, tharsis(t, clitest.Options{Env: env(srv)}, "plan", ws, "--configuration-version", cvID), 0)
	if runs := srv.Runs(ws); len(runs) != 3 || runs[2].Apply != nil || runs[2].ConfigurationVersionID != cvs[0].ID {
		t.Fatalf("speculative run from the configuration version: %+v", runs[len(runs)-1])
	}

	// An unknown configuration version creates nothing.
	res = tharsis(t, clitest.Options{Env: env(srv)}, "plan", ws, "--configuration-version", "Q19ub25leGlzdGVudA")
	if res.Code == 0 {
		t.Fatal("want a failure for an unknown configuration version")
	}
	if n := len(srv.Runs(ws)); n != 3 {
		t.Fatalf("%d runs after a failed create", n)
	}
}

// TestWorkspaceIdentifiers: the workspace may be a path, a TRN or a GID,
// through `run plan` and the top-level verbs alike.
func TestWorkspaceIdentifiers(t *testing.T) {
	srv := startSandbox(t)
	w, _ := srv.Workspace(ws)
	dir := configDir(t, map[string]string{"main.tf": oneResource})
	for i, args := range [][]string{
		{"run", "plan", ws},
		{"plan", "trn:workspace:" + ws},
		{"run", "plan", sandbox.GID("workspace", w.ID)},
	} {
		res := tharsis(t, clitest.Options{Env: env(srv)}, append(args, "--directory-path", dir)...)
		wantCode(t, res, 0)
		if n := len(srv.Runs(ws)); n != i+1 {
			t.Fatalf("%d runs after %d commands", n, i+1)
		}
	}
	res := tharsis(t, clitest.Options{Env: env(srv)}, "plan", "sandbox/nope", "--directory-path", dir)
	wantCode(t, res, 5)
	wantContains(t, "stderr", res.Stderr, "sandbox/nope")
}

// runVars returns the run's variables of a category as a map.
func runVars(r sandbox.Run, category string) map[string]string {
	out := map[string]string{}
	for _, v := range r.Variables {
		if v.Category == category && v.NamespacePath == nil {
			out[v.Key] = v.Value
		}
	}
	return out
}
