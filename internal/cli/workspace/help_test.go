package workspace_test

import (
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
	ws "github.com/tharsis-cli/tharsis/internal/cli/workspace"
)

func TestHelp(t *testing.T) {
	admintest.CheckHelp(t, ws.NewCmdWorkspace(admintest.Factory()))
}
