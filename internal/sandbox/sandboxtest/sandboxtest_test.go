package sandboxtest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

func TestStart(t *testing.T) {
	srv := Start(t, WithKnobs(func(k *sandbox.Knobs) { k.FailPlan = true }))
	if !srv.Knobs().FailPlan {
		t.Fatal("knob not applied")
	}
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %s", srv.URL())
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/graphql", strings.NewReader(`{"query":"{ me { ... on User { username } } }"}`))
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
