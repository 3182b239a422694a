package workspace_test

import (
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
)

func TestGetShowsVCSLink(t *testing.T) {
	e := admintest.Start(t)
	dep := admintest.Deployer
	r := e.OK(t, dep, "workspace", "get", "sandbox/demo")
	if strings.Contains(r.Stdout, "Repository:") {
		t.Fatalf("an unlinked workspace shows a repository:\n%s", r.Stdout)
	}
	if err := e.Srv.LinkWorkspaceToDirectory("sandbox/demo", t.TempDir(), "main", "infra"); err != nil {
		t.Fatal(err)
	}
	r = e.OK(t, dep, "workspace", "get", "sandbox/demo")
	if !strings.Contains(r.Stdout, "Repository:") || !strings.Contains(r.Stdout, "branch main, directory infra") {
		t.Errorf("get does not show the link:\n%s", r.Stdout)
	}
	w := decode[struct {
		VCSLink *struct {
			Branch          string `json:"branch"`
			ModuleDirectory string `json:"module_directory"`
		} `json:"vcs_link"`
	}](t, e.OK(t, dep, "workspace", "get", "sandbox/demo", "-o", "json").Stdout)
	if w.VCSLink == nil || w.VCSLink.Branch != "main" || w.VCSLink.ModuleDirectory != "infra" {
		t.Errorf("json vcs_link = %+v", w.VCSLink)
	}
}
