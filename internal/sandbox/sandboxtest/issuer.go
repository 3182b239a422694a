package sandboxtest

import (
	"context"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// StartIssuer runs a test OIDC issuer (a CI system's token issuer) for the
// test on 127.0.0.1; t.Cleanup stops it.
func StartIssuer(t testing.TB) *sandbox.OIDCIssuer {
	t.Helper()
	iss, err := sandbox.StartOIDCIssuer(context.Background(), nil)
	if err != nil {
		t.Fatalf("oidc issuer: %v", err)
	}
	t.Cleanup(func() {
		if err := iss.Close(); err != nil {
			t.Errorf("oidc issuer close: %v", err)
		}
	})
	return iss
}
