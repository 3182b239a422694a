package module

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// GetOptions are the inputs of `tharsis module get`.
type GetOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	Module string
}

// NewCmdGet builds `tharsis module get`; runF replaces the real run in
// tests.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "get MODULE",
		Short: "Show a module",
		Long: `Show a module: its source address (what runs give as --module-source),
visibility, repository, labels and latest version.

With -o json: {"id", "trn", "name", "system", "group_path", "resource_path",
"registry_namespace", "source", "private", "repository_url", "labels"
{key: value}, "latest_version" {"id", "version", "status"} or null,
"created_by", "created_at", "updated_at", "version"}.`,
		Example: `  tharsis module get ops/vpc/aws
  tharsis module get trn:terraform_module:ops/vpc/aws -o json`,
		Args: cmdutil.ExactArgs("MODULE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Module = args[0]
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			opts.Now = f.Now
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runGet(cmd.Context(), opts)
		},
	}
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runGet(ctx context.Context, opts *GetOptions) error {
	if _, err := ModuleID(opts.Module); err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	m, err := fetchModule(ctx, client, "get module", opts.Module)
	if err != nil {
		return err
	}
	return printModule(opts.IO, opts.JSON, moduleFromGQL(m), opts.Now())
}
