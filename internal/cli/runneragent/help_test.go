package runneragent_test

import (
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
	"github.com/tharsis-cli/tharsis/internal/cli/runneragent"
)

func TestHelp(t *testing.T) {
	admintest.CheckHelp(t, runneragent.NewCmdRunnerAgent(admintest.Factory()))
}
