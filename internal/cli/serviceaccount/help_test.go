package serviceaccount_test

import (
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd/admintest"
	"github.com/tharsis-cli/tharsis/internal/cli/serviceaccount"
)

func TestHelp(t *testing.T) {
	admintest.CheckHelp(t, serviceaccount.NewCmdServiceAccount(admintest.Factory()))
}
