package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/config"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestResolve(t *testing.T) {
	store := config.NewStore(t.TempDir(), nil)
	if err := store.SetToken("default", "stored-default"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		env       map[string]string
		profile   string
		wantKind  Kind
		wantToken string
		wantErr   string
		wantHint  string
	}{
		{name: "static token beats stored", env: map[string]string{"THARSIS_STATIC_TOKEN": " tok-static-123 \n"}, profile: "default",
			wantKind: KindStaticToken, wantToken: "tok-static-123"},
		{name: "stored token", profile: "default", wantKind: KindProfileToken, wantToken: "stored-default"},
		{name: "nothing", profile: "prod", wantErr: `no credentials for profile "prod"`,
			wantHint: "tharsis sso login -p prod"},
		{name: "nothing, default profile", profile: "default", env: map[string]string{"THARSIS_STATIC_TOKEN": "  "},
			wantKind: KindProfileToken, wantToken: "stored-default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, d, err := Resolve(envOf(tt.env), tt.profile, store)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if api.KindOf(err) != api.KindUnauthenticated {
					t.Errorf("kind = %v", api.KindOf(err))
				}
				ae := err.(*api.Error)
				if !strings.Contains(ae.Hint, tt.wantHint) || !strings.Contains(ae.Hint, "THARSIS_STATIC_TOKEN") ||
					!strings.Contains(ae.Hint, "THARSIS_SERVICE_ACCOUNT_ID") {
					t.Errorf("hint = %q", ae.Hint)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Kind != tt.wantKind {
				t.Errorf("kind = %v, want %v", d.Kind, tt.wantKind)
			}
			tok, err := ts.Token(context.Background())
			if err != nil || tok != tt.wantToken {
				t.Errorf("Token() = %q, %v; want %q", tok, err, tt.wantToken)
			}
			if strings.Contains(d.String(), tt.wantToken) {
				t.Errorf("description leaks the token: %q", d.String())
			}
		})
	}
}

func TestStoredTokenIsReread(t *testing.T) {
	store := config.NewStore(t.TempDir(), nil)
	_ = store.SetToken("p", "first")
	ts, d, err := Resolve(envOf(nil), "p", store)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.String(), store.CredentialsPath()) || !strings.Contains(d.String(), `"p"`) {
		t.Errorf("description = %q", d.String())
	}
	// Another process (sso login) refreshes the token.
	if err := config.NewStore(store.Dir(), nil).SetToken("p", "second"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := ts.Token(context.Background()); tok != "second" {
		t.Errorf("Token() = %q, want the refreshed token", tok)
	}
	// And removes it (sso logout).
	_ = store.SetToken("p", "")
	if _, err := ts.Token(context.Background()); api.KindOf(err) != api.KindUnauthenticated {
		t.Errorf("Token() after removal: err = %v", err)
	}
}
