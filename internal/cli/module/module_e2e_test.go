package module_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/module"
	"github.com/tharsis-cli/tharsis/internal/sandbox"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
)

const (
	admin = sandbox.SeedAdmin
	dep   = admintest.Deployer
)

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, s)
	}
	return v
}

// moduleDir writes a module whose one resource carries tag, and returns its
// directory.
func moduleDir(t *testing.T, tag string, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"main.tf": `variable "region" {
  type    = string
  default = "none"
}
resource "terraform_data" "m" {
  input = "` + tag + `-${var.region}"
}
output "tag" {
  value = "` + tag + `"
}
`,
		"modules/sub/main.tf": `variable "x" {}`,
		".terraformignore":    "*.secret\n",
		"notes.secret":        "not packed",
	}
	for k, v := range extra {
		files[k] = v
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type listJSON[T any] struct {
	Items    []T `json:"items"`
	PageInfo struct {
		TotalCount int `json:"total_count"`
	} `json:"page_info"`
}

func host(e *admintest.Env) string { return strings.TrimPrefix(e.Srv.URL(), "http://") }

func TestPublishListDelete(t *testing.T) {
	e := admintest.Start(t)

	// Create: the path names the group; the source address uses the
	// top-level group.
	m := decode[module.Module](t, e.OK(t, dep, "module", "create", "sandbox/vpc/aws", "--label", "team=net", "-o", "json").Stdout)
	if m.ResourcePath != "sandbox/vpc/aws" || m.Source != host(e)+"/sandbox/vpc/aws" || !m.Private || m.Labels["team"] != "net" ||
		m.TRN != "trn:terraform_module:sandbox/vpc/aws" || m.LatestVersion != nil {
		t.Fatalf("created %+v", m)
	}
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"already exists", "--if-not-exists"}, "module", "create", "sandbox/vpc/aws")
	r := e.OK(t, dep, "module", "create", "vpc/aws", "--group", "sandbox", "--if-not-exists")
	if !strings.Contains(r.Stderr, "Module sandbox/vpc/aws already exists.") {
		t.Errorf("--if-not-exists: %q", r.Stderr)
	}
	e.Fail(t, admintest.Viewer, cmdutil.ExitAuth, []string{"--role publisher"}, "module", "create", "sandbox/dns/aws")
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"<group>/<name>/<system>"}, "module", "create", "vpc/aws")

	// digest prints what upload-version publishes with; only the content
	// counts.
	dir := moduleDir(t, "v1", nil)
	sum := strings.TrimSpace(e.OK(t, dep, "module", "digest", "--directory-path", dir).Stdout)
	if len(sum) != 64 {
		t.Fatalf("digest %q", sum)
	}
	past := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "main.tf"), past, past); err != nil {
		t.Fatal(err)
	}
	if again := strings.TrimSpace(e.OK(t, dep, "module", "digest", "--directory-path", dir).Stdout); again != sum {
		t.Fatalf("digest changed with the file time: %s != %s", again, sum)
	}

	v := decode[module.Version](t, e.OK(t, dep, "module", "upload-version", "sandbox/vpc/aws", "--version", "v1.0.0", "--directory-path", dir, "-o", "json").Stdout)
	if v.Version != "1.0.0" || v.Status != "uploaded" || v.SHA256 != sum || !v.Latest || v.Module != "sandbox/vpc/aws" ||
		len(v.Submodules) != 1 || v.Submodules[0] != "sub" {
		t.Fatalf("published %+v (digest %s)", v, sum)
	}
	t.Chdir(moduleDir(t, "v11", nil))
	r = e.OK(t, dep, "module", "upload-version", "trn:terraform_module:sandbox/vpc/aws", "--version", "1.1.0")
	for _, want := range []string{"Packed 3 files", "Created version 1.1.0 of sandbox/vpc/aws; uploading..."} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	if !strings.Contains(r.Stdout, "Published module version sandbox/vpc/aws/1.1.0.") || !strings.Contains(r.Stdout, "Status:      uploaded") {
		t.Errorf("stdout:\n%s", r.Stdout)
	}
	e.OK(t, dep, "module", "upload-version", m.ID, "--version", "2.0.0-beta.1", "--directory-path", moduleDir(t, "v2b", nil))

	// A published version cannot be replaced; nothing is left behind.
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"already exists", "delete-version sandbox/vpc/aws/1.0.0"},
		"module", "upload-version", "sandbox/vpc/aws", "--version", "1.0.0", "--directory-path", dir)
	// Bad input is refused before anything is sent.
	before := e.Srv.RequestCount("CreateTerraformModuleVersion")
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"not a semantic version"}, "module", "upload-version", "sandbox/vpc/aws", "--version", "latest", "--directory-path", dir)
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"--version is required"}, "module", "upload-version", "sandbox/vpc/aws", "--directory-path", dir)
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"no Terraform files"}, "module", "upload-version", "sandbox/vpc/aws", "--version", "3.0.0", "--directory-path", t.TempDir())
	if n := e.Srv.RequestCount("CreateTerraformModuleVersion"); n != before {
		t.Errorf("%d versions created by refused commands", n-before)
	}

	// Lists and gets.
	vs := decode[listJSON[module.Version]](t, e.OK(t, admintest.Viewer, "module", "list-versions", "sandbox/vpc/aws", "-o", "json").Stdout)
	if len(vs.Items) != 3 || vs.Items[0].Version != "2.0.0-beta.1" || !vs.Items[0].Latest || vs.Items[2].Version != "1.0.0" {
		t.Fatalf("versions %+v", vs.Items)
	}
	r = e.OK(t, admintest.Viewer, "module", "list-versions", host(e)+"/sandbox/vpc/aws", "--sort", "created_at_asc")
	if lines := strings.Split(strings.TrimSpace(r.Stdout), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "1.0.0\tuploaded\t\t") {
		t.Errorf("list-versions by source address:\n%s", r.Stdout)
	}
	got := decode[module.Version](t, e.OK(t, admintest.Viewer, "module", "get-version", "sandbox/vpc/aws/1.1.0", "-o", "json").Stdout)
	if got.Version != "1.1.0" || got.Latest || got.Status != "uploaded" {
		t.Errorf("get-version %+v", got)
	}
	e.Fail(t, admintest.Viewer, cmdutil.ExitNotFound, []string{`module version "sandbox/vpc/aws/9.9.9" not found`}, "module", "get-version", "sandbox/vpc/aws/9.9.9")
	r = e.OK(t, admintest.Viewer, "module", "get", "sandbox/vpc/aws")
	for _, want := range []string{"Source:          " + host(e) + "/sandbox/vpc/aws", "Latest version:  2.0.0-beta.1 (uploaded)", "Labels:          team=net", "Private:         yes"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("get lacks %q:\n%s", want, r.Stdout)
		}
	}

	e.OK(t, dep, "module", "create", "sandbox/dns/google", "--private=false")
	ms := decode[listJSON[module.Module]](t, e.OK(t, admintest.Viewer, "module", "list", "-o", "json").Stdout)
	if len(ms.Items) != 2 || ms.Items[0].Name != "dns" || ms.Items[1].Name != "vpc" {
		t.Fatalf("list %+v", ms.Items)
	}
	ms = decode[listJSON[module.Module]](t, e.OK(t, admintest.Viewer, "module", "list", "--group", "sandbox", "--label", "team=net", "-o", "json").Stdout)
	if len(ms.Items) != 1 || ms.Items[0].Name != "vpc" {
		t.Fatalf("list --label %+v", ms.Items)
	}
	// The outsider sees only the public module.
	ms = decode[listJSON[module.Module]](t, e.OK(t, admintest.Outsider, "module", "list", "-o", "json").Stdout)
	if len(ms.Items) != 1 || ms.Items[0].Name != "dns" {
		t.Fatalf("outsider list %+v", ms.Items)
	}
	e.Fail(t, admintest.Outsider, cmdutil.ExitNotFound, nil, "module", "get", "sandbox/vpc/aws")

	// Update keeps what is not given.
	m = decode[module.Module](t, e.OK(t, dep, "module", "update", "sandbox/vpc/aws", "--private=false", "--repository-url", "https://git.example.com/vpc", "-o", "json").Stdout)
	if m.Private || m.RepositoryURL != "https://git.example.com/vpc" || m.Labels["team"] != "net" {
		t.Fatalf("updated %+v", m)
	}
	m = decode[module.Module](t, e.OK(t, dep, "module", "update", "sandbox/vpc/aws", "--clear-labels", "-o", "json").Stdout)
	if len(m.Labels) != 0 || m.RepositoryURL == "" {
		t.Fatalf("cleared %+v", m)
	}
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"nothing to update"}, "module", "update", "sandbox/vpc/aws")

	// Deleting the latest version hands "latest" to the highest remaining.
	r = e.OK(t, dep, "module", "delete-version", "sandbox/vpc/aws/2.0.0-beta.1")
	if r.Stdout != "Deleted module version sandbox/vpc/aws/2.0.0-beta.1.\n" {
		t.Errorf("delete-version: %q", r.Stdout)
	}
	vs = decode[listJSON[module.Version]](t, e.OK(t, dep, "module", "list-versions", "sandbox/vpc/aws", "-o", "json").Stdout)
	if len(vs.Items) != 2 || vs.Items[0].Version != "1.1.0" || !vs.Items[0].Latest {
		t.Fatalf("after delete-version %+v", vs.Items)
	}

	// A module with versions is deleted only when confirmed.
	e.Fail(t, dep, cmdutil.ExitUsage, []string{"has published versions", "--force"}, "module", "delete", "sandbox/vpc/aws")
	r = e.RunWith(t, dep, admintest.Options{TTY: true, Stdin: "n\n"}, "module", "delete", "sandbox/vpc/aws")
	if r.Code != cmdutil.ExitCanceled {
		t.Fatalf("declined delete: exit %d\n%s", r.Code, r.Stderr)
	}
	del := decode[module.Deleted](t, e.OK(t, dep, "module", "delete", "sandbox/vpc/aws", "--force", "-o", "json").Stdout)
	if !del.Deleted || del.Path != "sandbox/vpc/aws" {
		t.Errorf("deleted %+v", del)
	}
	if vs := e.Srv.ModuleVersions("sandbox/vpc/aws"); vs != nil {
		t.Errorf("versions left: %+v", vs)
	}
	e.OK(t, dep, "module", "delete", "sandbox/dns/google")
}

func TestFailedUploadIsCleanedUp(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  sandboxtest.Option
		args []string
		// sent: whether anything reached the server
		sent  bool
		wants []string
	}{
		{
			name:  "upload route fails",
			opt:   sandboxtest.WithKnobs(func(k *sandbox.Knobs) { k.ModuleUploadFailure = http.StatusBadRequest }),
			sent:  true,
			wants: []string{"simulated module upload failure", "Deleted the unfinished version sandbox/m/aws/1.0.0.", "run the command again"},
		},
		{
			name:  "server size limit",
			opt:   sandboxtest.WithOptions(func(o *sandbox.Options) { o.MaxModuleUploadBytes = 128 }),
			sent:  true,
			wants: []string{"exceeds maximum size of 128 bytes", "Deleted the unfinished version"},
		},
		{
			name:  "client size limit",
			args:  []string{"--max-upload-size", "100"},
			wants: []string{"the module package exceeds 100 B", "nothing was sent", ".terraformignore"},
		},
		{
			name:  "package rejected by the server",
			args:  []string{"--directory-path", "bad"},
			sent:  true,
			wants: []string{"The server rejected module version sandbox/m/aws/1.0.0: failed validation", `"filename":"broken.tf"`, "the version ended errored", "Deleted the unfinished version"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []sandboxtest.Option
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			e := admintest.Start(t, opts...)
			e.OK(t, dep, "module", "create", "sandbox/m/aws")
			good := moduleDir(t, "x", nil)
			bad := moduleDir(t, "x", map[string]string{"broken.tf": "resource \"x\" {\n"})
			args := []string{"module", "upload-version", "sandbox/m/aws", "--version", "1.0.0", "--directory-path", good}
			for i, a := range tc.args {
				if a == "bad" {
					tc.args[i] = bad
				}
			}
			args = append(args, tc.args...)
			e.Fail(t, dep, cmdutil.ExitFailure, tc.wants, args...)
			if vs := e.Srv.ModuleVersions("sandbox/m/aws"); len(vs) != 0 {
				t.Fatalf("versions left behind: %+v", vs)
			}
			created := e.Srv.RequestCount("CreateTerraformModuleVersion")
			if tc.sent != (created == 1) || (!tc.sent && e.Srv.RequestCount("module_upload") != 0) {
				t.Errorf("versions created %d, uploads %d; sent = %v", created, e.Srv.RequestCount("module_upload"), tc.sent)
			}
			// The same version can be published once the cause is gone.
			if tc.name == "client size limit" || tc.name == "package rejected by the server" {
				v := decode[module.Version](t, e.OK(t, dep, "module", "upload-version", "sandbox/m/aws", "--version", "1.0.0", "--directory-path", good, "-o", "json").Stdout)
				if v.Status != "uploaded" {
					t.Errorf("republished %+v", v)
				}
			}
		})
	}
}

// runResult is the part of `tharsis apply -o json` these tests read.
type runResult struct {
	RunID         string `json:"run_id"`
	Status        string `json:"status"`
	Outcome       string `json:"outcome"`
	ModuleSource  string `json:"module_source"`
	ModuleVersion string `json:"module_version"`
}

func TestRunPublishedModule(t *testing.T) {
	e := admintest.Start(t)
	e.OK(t, dep, "module", "create", "sandbox/vpc/aws")
	sums := map[string]string{}
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0-beta.1"} {
		pv := decode[module.Version](t, e.OK(t, dep, "module", "upload-version", "sandbox/vpc/aws", "--version", v,
			"--directory-path", moduleDir(t, "tag"+v, nil), "-o", "json").Stdout)
		sums[v] = pv.SHA256
	}
	src := decode[module.Module](t, e.OK(t, dep, "module", "get", "sandbox/vpc/aws", "-o", "json").Stdout).Source
	if src != host(e)+"/sandbox/vpc/aws" {
		t.Fatalf("source %s", src)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		// Consecutive runs use different versions, so each has changes.
		{"exact", []string{"--module-version", "1.0.0"}, "1.0.0"},
		{"constraint", []string{"--module-version", "~> 1.0"}, "1.1.0"},
		{"exact prerelease", []string{"--module-version", "1.2.0-beta.1"}, "1.2.0-beta.1"},
		{"latest", nil, "1.1.0"},
		{"constraint with prereleases", []string{"--module-version", ">= 1.1", "--include-module-prereleases"}, "1.2.0-beta.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"apply", sandbox.SeedWorkspace, "--module-source", src, "--auto-approve", "--tf-var", "region=eu", "-o", "json"}, tc.args...)
			res := decode[runResult](t, e.OK(t, dep, args...).Stdout)
			if res.Status != "applied" || res.ModuleSource != src || res.ModuleVersion != tc.want {
				t.Fatalf("run %+v, want version %s", res, tc.want)
			}
			r, ok := e.Srv.Run(res.RunID)
			if !ok || r.ModuleDigest == nil || *r.ModuleDigest != sums[tc.want] {
				t.Fatalf("module digest %v, want the published SHA-256 %s", r.ModuleDigest, sums[tc.want])
			}
			var plan []byte
			for _, j := range e.Srv.Jobs(res.RunID) {
				if j.Type == "plan" {
					plan = e.Srv.JobLog(sandbox.GID("job", j.ID))
				}
			}
			if !strings.Contains(string(plan), "tag"+tc.want+"-eu") {
				t.Errorf("the plan did not use version %s:\n%s", tc.want, plan)
			}
		})
	}
	// A constraint nothing satisfies, and a deleted version, fail clearly.
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"no version of module", "matches ~> 3.0"},
		"plan", sandbox.SeedWorkspace, "--module-source", src, "--module-version", "~> 3.0")
	e.OK(t, dep, "module", "delete-version", "sandbox/vpc/aws/1.0.0")
	e.Fail(t, dep, cmdutil.ExitFailure, []string{"no version of module"},
		"plan", sandbox.SeedWorkspace, "--module-source", src, "--module-version", "1.0.0")
	// The destroy run resolves the module again.
	res := decode[runResult](t, e.OK(t, dep, "destroy", sandbox.SeedWorkspace, "--module-source", src, "--auto-approve", "-o", "json").Stdout)
	if res.Status != "applied" || res.ModuleVersion != "1.1.0" {
		t.Fatalf("destroy %+v", res)
	}
}

func TestHelp(t *testing.T) {
	admintest.CheckHelp(t, module.NewCmdModule(admintest.Factory()))
}
