package adminmode_test

import (
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
	"github.com/tharsis-cli/tharsis/internal/cli/adminmode"
)

func TestHelp(t *testing.T) {
	admintest.CheckHelp(t, adminmode.NewCmdAdminMode(admintest.Factory()))
}
