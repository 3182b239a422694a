package sandbox

import (
	"net/http"
	"testing"

	"github.com/Khan/genqlient/graphql"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

type bearerDoer struct{ token string }

func (b bearerDoer) Do(r *http.Request) (*http.Response, error) {
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultClient.Do(r)
}

// The CLI's generated operations run against the sandbox unchanged.
func TestGeneratedOperations(t *testing.T) {
	h := start(t)
	ctx := t.Context()
	c := graphql.NewClient(h.s.URL()+"/graphql", bearerDoer{h.token})
	ptr := func(s string) *string { return &s }
	yes := true

	if me, err := gql.Me(ctx, c); err != nil || me.Me == nil {
		t.Fatalf("Me: %v", err)
	}
	if _, err := gql.ServerVersion(ctx, c); err != nil {
		t.Fatalf("ServerVersion: %v", err)
	}
	if _, err := gql.AuthSettings(ctx, c); err != nil {
		t.Fatalf("AuthSettings: %v", err)
	}
	wsr, err := gql.GetWorkspace(ctx, c, "trn:workspace:"+SeedWorkspace)
	if err != nil || wsr.Node == nil {
		t.Fatalf("GetWorkspace: %v", err)
	}
	ws, ok := (*wsr.Node).(*gql.GetWorkspaceNodeWorkspace)
	if !ok || ws.WorkspaceFields.FullPath != SeedWorkspace {
		t.Fatalf("GetWorkspace: %T", *wsr.Node)
	}
	cvr, err := gql.CreateConfigurationVersion(ctx, c, gql.CreateConfigurationVersionInput{WorkspaceId: ptr(ws.WorkspaceFields.Id)})
	if err != nil || len(cvr.CreateConfigurationVersion.Problems) > 0 {
		t.Fatalf("CreateConfigurationVersion: %v %v", err, cvr)
	}
	cv := cvr.CreateConfigurationVersion.ConfigurationVersion.Id
	if st, body := h.upload(h.token, ws.WorkspaceFields.Id, cv, makeSlug(map[string]string{"main.tf": testConfig})); st != 200 {
		t.Fatalf("upload %d %s", st, body)
	}
	if _, err := gql.GetConfigurationVersion(ctx, c, cv); err != nil {
		t.Fatalf("GetConfigurationVersion: %v", err)
	}
	rr, err := gql.CreateRun(ctx, c, gql.CreateRunInput{WorkspaceId: ptr(ws.WorkspaceFields.Id), ConfigurationVersionId: &cv,
		Variables: []gql.RunVariableInput{{Category: gql.VariableCategoryTerraform, Key: "name", Value: "genqlient"}}})
	if err != nil || len(rr.CreateRun.Problems) > 0 {
		t.Fatalf("CreateRun: %v %+v", err, rr)
	}
	id := rr.CreateRun.Run.Id
	h.waitStatus(id, runPlanned)
	if _, err := gql.GetRun(ctx, c, id); err != nil {
		t.Fatalf("GetRun: %v", err)
	}
	if _, err := gql.GetRunVariables(ctx, c, id); err != nil {
		t.Fatalf("GetRunVariables: %v", err)
	}
	if _, err := gql.GetRunSensitiveValues(ctx, c, id); err != nil {
		t.Fatalf("GetRunSensitiveValues: %v", err)
	}
	job := toGID(gidJob, h.latestJob(id).ID)
	if _, err := gql.GetJob(ctx, c, job); err != nil {
		t.Fatalf("GetJob: %v", err)
	}
	if _, err := gql.GetJobLogs(ctx, c, job, 0, maxLogReadBytes); err != nil {
		t.Fatalf("GetJobLogs: %v", err)
	}
	if _, err := gql.ListRuns(ctx, c, ws.WorkspaceFields.Id, 10, nil); err != nil {
		t.Fatalf("ListRuns: %v", err)
	}
	if ar, err := gql.ApplyRun(ctx, c, gql.ApplyRunInput{RunId: id}); err != nil || len(ar.ApplyRun.Problems) > 0 {
		t.Fatalf("ApplyRun: %v", err)
	}
	h.waitStatus(id, runApplied)
	dr, err := gql.DestroyWorkspace(ctx, c, gql.DestroyWorkspaceInput{WorkspaceId: ptr(ws.WorkspaceFields.Id)})
	if err != nil || len(dr.DestroyWorkspace.Problems) > 0 {
		t.Fatalf("DestroyWorkspace: %v", err)
	}
	did := dr.DestroyWorkspace.Run.Id
	h.waitStatus(did, runPlanned)
	if r, err := gql.DiscardRun(ctx, c, gql.DiscardRunInput{RunId: did}); err != nil || len(r.DiscardRun.Problems) > 0 {
		t.Fatalf("DiscardRun: %v", err)
	}
	cr, err := gql.CancelRun(ctx, c, gql.CancelRunInput{RunId: did, Force: &yes})
	if err != nil || len(cr.CancelRun.Problems) != 1 || cr.CancelRun.Problems[0].Type != gql.ProblemTypeBadRequest {
		t.Fatalf("CancelRun of a discarded run: %v %+v", err, cr)
	}
}
