package run_test

import (
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/sandbox/sandboxtest"
)

// THARSIS_NO_SUBSCRIPTIONS makes a run poll: no websocket is opened, and the
// log still arrives whole.
func TestNoSubscriptionsPolls(t *testing.T) {
	srv := sandboxtest.Start(t)
	dir := configDir(t, map[string]string{"main.tf": oneResource})
	res := tharsis(t, clitest.Options{Env: env(srv, "THARSIS_NO_SUBSCRIPTIONS", "true")},
		"apply", ws, "--directory-path", dir, "--auto-approve")
	wantCode(t, res, 0)
	if n := srv.RequestCount("websocket"); n != 0 {
		t.Errorf("%d websocket connections with subscriptions disabled", n)
	}
	wantContains(t, "stdout", res.Stdout, "Apply complete!")

	res = tharsis(t, clitest.Options{Env: env(srv)}, "plan", ws, "--directory-path", dir)
	wantCode(t, res, 0)
	if n := srv.RequestCount("websocket"); n == 0 {
		t.Error("no websocket connection by default: the test proves nothing")
	}
}
