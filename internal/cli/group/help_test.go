package group_test

import (
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
	grp "github.com/tharsis-cli/tharsis/internal/cli/group"
)

func TestHelp(t *testing.T) {
	admintest.CheckHelp(t, grp.NewCmdGroup(admintest.Factory()))
}
