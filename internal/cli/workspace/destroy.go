package workspace

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/run"
)

// NewCmdDestroy destroys a workspace's resources (see run.NewCmdWorkspaceDestroy).
func NewCmdDestroy(f *cmdutil.Factory, runF func(context.Context, *run.CreateOptions) error) *cobra.Command {
	return run.NewCmdWorkspaceDestroy(f, runF)
}
