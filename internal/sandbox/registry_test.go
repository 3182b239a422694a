package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const moduleFields = `module { id source name system groupPath resourcePath registryNamespace private repositoryUrl
  metadata { trn } labels { key value } latestVersion { version } }`

const versionFields = `moduleVersion { id version status error shaSum latest submodules examples metadata { trn } module { resourcePath } }`

// poll calls cond every 10ms until it holds, failing after 10s.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func (h *harness) createModule(token string, in map[string]any) map[string]any {
	h.t.Helper()
	return h.mutation(token, "createTerraformModule", "CreateTerraformModuleInput", moduleFields, in)
}

func (h *harness) createModuleVersion(token, moduleID, version, sha string) map[string]any {
	h.t.Helper()
	return h.mutation(token, "createTerraformModuleVersion", "CreateTerraformModuleVersionInput", versionFields,
		map[string]any{"moduleId": moduleID, "version": version, "shaSum": sha})
}

func (h *harness) uploadModule(token, versionID string, body []byte) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPut, h.s.URL()+"/v1/module-registry/versions/"+versionID+"/upload", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// publish creates and uploads a version of the module, waiting until it
// is uploaded.
func (h *harness) publish(moduleID, modulePath, version string, files map[string]string) string {
	h.t.Helper()
	pkg := makeSlug(files)
	p := h.createModuleVersion(h.token, moduleID, version, shaHex(pkg))
	h.noProblems(p)
	if st, body := h.uploadModule(h.token, str(p, "moduleVersion", "id"), pkg); st != 200 {
		h.t.Fatalf("upload %d %s", st, body)
	}
	poll(h.t, "version "+version+" uploaded", func() bool { return h.s.ModuleVersionStatus(modulePath, version) == mvUploaded })
	return str(p, "moduleVersion", "id")
}

func moduleConfig(v string) map[string]string {
	return map[string]string{
		"main.tf":                  `resource "terraform_data" "m" { input = "` + v + `" }`,
		"modules/net/main.tf":      `variable "x" {}`,
		"examples/basic/main.tf":   `module "m" { source = "../.." }`,
		"examples/basic/README.md": "x",
	}
}

func TestModuleRegistry(t *testing.T) {
	h := start(t)
	p := h.createModule(h.token, map[string]any{"groupId": "trn:group:sandbox", "name": "vpc", "system": "aws",
		"labels": []any{map[string]any{"key": "team", "value": "net"}}})
	h.noProblems(p)
	mod := p["module"].(map[string]any)
	host := strings.TrimPrefix(h.s.URL(), "http://")
	if got := str(mod, "source"); got != host+"/sandbox/vpc/aws" {
		t.Fatalf("source = %q", got)
	}
	if str(mod, "metadata", "trn") != "trn:terraform_module:sandbox/vpc/aws" || str(mod, "resourcePath") != "sandbox/vpc/aws" ||
		str(mod, "groupPath") != "sandbox" || str(mod, "registryNamespace") != "sandbox" || mod["private"] != true {
		t.Fatalf("module = %v", mod)
	}
	modID := str(mod, "id")

	// The same name and system in the same root group conflict.
	if typ, _ := problemOf(h.createModule(h.token, map[string]any{"groupId": "trn:group:sandbox", "name": "vpc", "system": "aws"})); typ != "CONFLICT" {
		t.Fatalf("duplicate: %s", typ)
	}
	if typ, _ := problemOf(h.createModule(h.token, map[string]any{"groupId": "trn:group:sandbox", "name": "Bad Name", "system": "aws"})); typ != "BAD_REQUEST" {
		t.Fatalf("bad name: %s", typ)
	}

	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0-beta.1"} {
		h.publish(modID, "sandbox/vpc/aws", v, moduleConfig(v))
	}
	// 2.0.0-beta.1 is greater than 1.1.0, so it is the latest.
	d := h.ok(h.gql(`query($id: String!) { node(id: $id) { ... on TerraformModuleVersion { version latest status submodules examples shaSum } } }`,
		map[string]any{"id": "trn:terraform_module_version:sandbox/vpc/aws/1.1.0"}))
	if n := d["node"].(map[string]any); n["latest"] != false || n["status"] != "uploaded" ||
		fmt.Sprint(n["submodules"]) != "[net]" || fmt.Sprint(n["examples"]) != "[basic]" {
		t.Fatalf("1.1.0 = %v", n)
	}
	if typ, _ := problemOf(h.createModuleVersion(h.token, modID, "1.0.0", shaHex([]byte("x")))); typ != "CONFLICT" {
		t.Fatalf("duplicate version: %s", typ)
	}
	if typ, _ := problemOf(h.createModuleVersion(h.token, modID, "one", shaHex([]byte("x")))); typ != "BAD_REQUEST" {
		t.Fatalf("bad version: %s", typ)
	}

	// Module-source runs resolve against the published versions, with the
	// version's SHA-256 sum as digest.
	src := host + "/sandbox/vpc/aws"
	for _, tc := range []struct {
		version     any
		prereleases bool
		want        string
	}{
		{nil, false, "1.1.0"},
		{"1.0.0", false, "1.0.0"},
		{"~> 1.0", false, "1.1.0"},
		{nil, true, "2.0.0-beta.1"},
		{"2.0.0-beta.1", false, "2.0.0-beta.1"},
	} {
		in := map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace, "moduleSource": src, "speculative": true,
			"includeModulePrereleases": tc.prereleases}
		if tc.version != nil {
			in["moduleVersion"] = tc.version
		}
		rp := h.createRunAs(h.token, in)
		h.noProblems(rp)
		r := h.waitStatus(str(rp, "run", "id"), "planned_and_finished")
		if *r.ModuleVersion != tc.want {
			t.Errorf("version %v prereleases %v: got %s, want %s", tc.version, tc.prereleases, *r.ModuleVersion, tc.want)
		}
		vs := h.s.ModuleVersions("sandbox/vpc/aws")
		for _, v := range vs {
			if v.SemanticVersion == tc.want && *r.ModuleDigest != v.SHASum {
				t.Errorf("digest %s, want %s", *r.ModuleDigest, v.SHASum)
			}
		}
	}

	// Deleting the latest version makes the highest remaining one latest
	// and unpublishes it.
	latest := h.ok(h.gql(`query($id: String!) { node(id: $id) { ... on TerraformModule { latestVersion { id version } } } }`,
		map[string]any{"id": modID}))
	lid := str(latest, "node", "latestVersion", "id")
	dp := h.mutation(h.token, "deleteTerraformModuleVersion", "DeleteTerraformModuleVersionInput", "moduleVersion { version }", map[string]any{"id": lid})
	h.noProblems(dp)
	latest = h.ok(h.gql(`query($id: String!) { node(id: $id) { ... on TerraformModule { latestVersion { version } versions(first: 10) { totalCount } } } }`,
		map[string]any{"id": modID}))
	if str(latest, "node", "latestVersion", "version") != "1.1.0" || dig(latest, "node", "versions", "totalCount") != float64(2) {
		t.Fatalf("after delete: %v", latest)
	}
	rp := h.createRunAs(h.token, map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace, "moduleSource": src, "moduleVersion": "2.0.0-beta.1"})
	if typ, msg := problemOf(rp); typ != "BAD_REQUEST" || !strings.Contains(msg, "no version") {
		t.Fatalf("deleted version still resolves: %s %s", typ, msg)
	}

	// Lists: search over "<namespace>/<name>/<system>", labels, groups.
	h.noProblems(h.createModule(h.token, map[string]any{"groupId": "trn:group:sandbox", "name": "dns", "system": "gcp", "private": false}))
	list := func(q string, vars map[string]any) string {
		d := h.ok(h.gql(q, vars))
		var names []string
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				if n, ok := x["name"].(string); ok {
					names = append(names, n)
				}
				for _, e := range x {
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(d)
		return strings.Join(names, ",")
	}
	if got := list(`{ terraformModules(first: 10, sort: NAME_ASC) { edges { node { name } } } }`, nil); got != "dns,vpc" {
		t.Errorf("list = %s", got)
	}
	if got := list(`{ terraformModules(first: 10, search: "sandbox/vpc") { edges { node { name } } } }`, nil); got != "vpc" {
		t.Errorf("search = %s", got)
	}
	if got := list(`{ terraformModules(first: 10, labelFilter: {labels: [{key: "team", value: "net"}]}) { edges { node { name } } } }`, nil); got != "vpc" {
		t.Errorf("labels = %s", got)
	}

	// A private module is invisible to a caller with no membership; a
	// public one is visible to everybody.
	tok, err := h.s.CreateUser("outsider", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := list(`{ terraformModules(first: 10) { edges { node { name } } } }`, nil); got == "" {
		t.Fatal("admin sees no module")
	}
	d = h.ok(h.gqlAs(tok, `{ terraformModules(first: 10) { edges { node { name } } } }`, nil))
	if edges := dig(d, "terraformModules", "edges").([]any); len(edges) != 1 || str(edges[0], "node", "name") != "dns" {
		t.Errorf("outsider sees %v", edges)
	}
	d = h.ok(h.gqlAs(tok, `query($id: String!) { node(id: $id) { id } }`, map[string]any{"id": modID}))
	if d["node"] != nil {
		t.Errorf("outsider sees the private module: %v", d)
	}

	// Deleting the module removes its versions from module-source runs.
	h.noProblems(h.mutation(h.token, "deleteTerraformModule", "DeleteTerraformModuleInput", "module { id }", map[string]any{"id": modID}))
	rp = h.createRunAs(h.token, map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace, "moduleSource": src})
	if typ, _ := problemOf(rp); typ != "BAD_REQUEST" {
		t.Fatalf("deleted module still resolves: %v", rp)
	}
}

func TestModuleUploadFailures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		knob       int
		maxBytes   int64
		badSum     bool
		wantStatus int
		wantFinal  string
		wantError  string
	}{
		{name: "knob", knob: http.StatusServiceUnavailable, wantStatus: 503, wantFinal: mvPending},
		{name: "too large", maxBytes: 64, wantStatus: 413, wantFinal: mvPending},
		{name: "checksum", badSum: true, wantStatus: 200, wantFinal: mvErrored, wantError: "does not match received checksum"},
		{name: "not a package", wantStatus: 200, wantFinal: mvErrored, wantError: "failed to unpack"},
		{name: "syntax error", wantStatus: 200, wantFinal: mvErrored, wantError: "failed validation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := DefaultKnobs()
			k.ModuleUploadFailure = tc.knob
			s, err := New(Options{Knobs: k, MaxModuleUploadBytes: tc.maxBytes})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(""); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			h := &harness{t: t, s: s, token: s.AdminToken()}
			p := h.createModule(h.token, map[string]any{"groupId": "trn:group:sandbox", "name": "m", "system": "aws"})
			h.noProblems(p)
			pkg := makeSlug(moduleConfig("1.0.0"))
			switch tc.name {
			case "not a package":
				pkg = []byte("not a tar.gz")
			case "syntax error":
				pkg = makeSlug(map[string]string{"main.tf": "resource \"x\" {\n", "ok.tf": "locals {}\n"})
			}
			sum := shaHex(pkg)
			if tc.badSum {
				sum = shaHex([]byte("other"))
			}
			vp := h.createModuleVersion(h.token, str(p, "module", "id"), "1.0.0", sum)
			h.noProblems(vp)
			st, body := h.uploadModule(h.token, str(vp, "moduleVersion", "id"), pkg)
			if st != tc.wantStatus {
				t.Fatalf("upload %d %s", st, body)
			}
			if tc.wantFinal != mvPending {
				poll(t, "final status", func() bool { return h.s.ModuleVersionStatus("sandbox/m/aws", "1.0.0") == tc.wantFinal })
				vs := h.s.ModuleVersions("sandbox/m/aws")
				if !strings.Contains(vs[0].Error, tc.wantError) {
					t.Errorf("error %q", vs[0].Error)
				}
				if tc.name == "syntax error" && !strings.Contains(vs[0].Diagnostics, `"filename":"main.tf"`) {
					t.Errorf("diagnostics %q", vs[0].Diagnostics)
				}
				// A second upload is refused.
				if st, _ := h.uploadModule(h.token, str(vp, "moduleVersion", "id"), pkg); st != 409 {
					t.Errorf("second upload: %d", st)
				}
				return
			}
			if got := h.s.ModuleVersionStatus("sandbox/m/aws", "1.0.0"); got != mvPending {
				t.Errorf("status %s", got)
			}
		})
	}
}

func TestVCSRun(t *testing.T) {
	h := start(t)
	repo := t.TempDir()
	for name, content := range map[string]string{"infra/main.tf": testConfig, "README.md": "repo"} {
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	create := func(in map[string]any) map[string]any {
		return h.mutation(h.token, "createVCSRun", "CreateVCSRunInput", "", in)
	}
	ws := "trn:workspace:" + SeedWorkspace
	if typ, msg := problemOf(create(map[string]any{"workspaceId": ws})); typ != "BAD_REQUEST" || !strings.Contains(msg, "is not linked") {
		t.Fatalf("unlinked: %s %s", typ, msg)
	}
	if err := h.s.LinkWorkspaceToDirectory(SeedWorkspace, repo, "main", "infra"); err != nil {
		t.Fatal(err)
	}
	d := h.ok(h.gql(`query($id: String!) { node(id: $id) { ... on Workspace { workspaceVcsProviderLink { repositoryPath branch moduleDirectory metadata { trn } } } } }`,
		map[string]any{"id": ws}))
	if l := dig(d, "node", "workspaceVcsProviderLink"); str(l, "branch") != "main" || str(l, "moduleDirectory") != "infra" ||
		str(l, "repositoryPath") != filepath.ToSlash(repo) || !strings.HasPrefix(str(l, "metadata", "trn"), "trn:workspace_vcs_provider_link:sandbox/demo/") {
		t.Fatalf("link = %v", l)
	}

	sha := strings.Repeat("ab", 20)
	for _, tc := range []struct {
		ref        string
		destroy    bool
		wantRef    string
		wantCommit string
	}{
		{"", false, "main", ""},
		{"v1.2.0", false, "v1.2.0", ""},
		{sha, true, "", sha},
	} {
		h.noProblems(create(map[string]any{"workspaceId": ws, "referenceName": tc.ref, "isDestroy": tc.destroy}))
		var ev VCSEvent
		poll(t, "event done", func() bool {
			evs := h.s.VCSEvents(SeedWorkspace)
			ev = evs[len(evs)-1]
			return ev.Status != "pending"
		})
		if ev.Status != "finished" || ev.Type != "manual" || deref(ev.SourceReferenceName) != tc.wantRef || deref(ev.CommitID) != tc.wantCommit {
			t.Fatalf("event %+v", ev)
		}
		d := h.ok(h.gql(`query($id: String!) { runs(workspaceId: $id, first: 1, sort: CREATED_AT_DESC) { edges { node { id isDestroy
			configurationVersion { vcsEvent { id status sourceReferenceName commitId } } } } } }`, map[string]any{"id": ws}))
		n := dig(d, "runs", "edges").([]any)[0]
		if str(n, "node", "configurationVersion", "vcsEvent", "id") != toGID(gidVCSEvent, ev.ID) || dig(n, "node", "isDestroy") != tc.destroy {
			t.Fatalf("run %v", n)
		}
		r := h.waitRun(str(n, "node", "id"), "plan done", func(r Run) bool { return r.Status == "planned" || runIsComplete(r.Status) })
		if tc.destroy {
			// Nothing was applied: nothing to destroy.
			if r.Status != "planned_and_finished" {
				t.Fatalf("destroy run status %s", r.Status)
			}
			continue
		}
		if r.Status != "planned" {
			t.Fatalf("run status %s", r.Status)
		}
		h.noProblems(h.runAction("discardRun", "DiscardRunInput", str(n, "node", "id"), nil))
	}

	// A module directory missing from the repository errors the event.
	if err := h.s.LinkWorkspaceToDirectory(SeedWorkspace, repo, "", "nope"); err != nil {
		t.Fatal(err)
	}
	h.noProblems(create(map[string]any{"workspaceId": ws}))
	var ev VCSEvent
	poll(t, "event errored", func() bool {
		evs := h.s.VCSEvents(SeedWorkspace)
		ev = evs[len(evs)-1]
		return ev.Status != "pending"
	})
	if ev.Status != "errored" || ev.ErrorMessage == nil || !strings.Contains(*ev.ErrorMessage, "failed to download repository") {
		t.Fatalf("event %+v", ev)
	}
	d = h.ok(h.gql(`query($id: String!) { node(id: $id) { ... on Workspace { vcsEvents(first: 10, sort: CREATED_AT_DESC) { totalCount edges { node { status errorMessage } } } } } }`,
		map[string]any{"id": ws}))
	if dig(d, "node", "vcsEvents", "totalCount") != float64(4) || str(dig(d, "node", "vcsEvents", "edges").([]any)[0], "node", "status") != "errored" {
		t.Fatalf("events %v", d)
	}
}
