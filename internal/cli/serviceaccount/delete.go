package serviceaccount

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// DeleteOptions are the inputs of `tharsis service-account delete`.
type DeleteOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	ServiceAccount string
	Version        string
}

// Deleted is what `service-account delete -o json` prints.
type Deleted struct {
	Deleted bool   `json:"deleted"`
	ID      string `json:"id"`
	Path    string `json:"path"`
}

// NewCmdDelete builds `tharsis service-account delete`; runF replaces the
// real run in tests.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "delete SERVICE_ACCOUNT",
		Short: "Delete a service account",
		Long: `Delete a service account with its memberships and runner agent assignments;
tokens it holds stop working when they expire. Needs the deployer role.

With -o json: {"deleted": true, "id", "path"}.`,
		Example: `  tharsis service-account delete ops/old-ci`,
		Args:    cmdutil.ExactArgs("SERVICE_ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ServiceAccount = args[0]
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDelete(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Version, "version", "", "Fail if the service account changed since this version (optimistic locking)")
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runDelete(ctx context.Context, opts *DeleteOptions) error {
	const op = "delete service account"
	version, err := admincmd.Version(opts.Version)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	n, err := fetch(ctx, client, op, opts.ServiceAccount)
	if err != nil {
		return err
	}
	in := gql.DeleteServiceAccountInput{Id: n.Id}
	if version != nil {
		in.Metadata = &gql.ResourceMetadataInput{Version: *version}
	}
	resp, err := gql.DeleteServiceAccount(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.DeleteServiceAccount.Problems)
	}
	if err != nil {
		return admincmd.Explain(api.WithOp(err, op), admincmd.RoleDeployer, n.GroupPath)
	}
	if opts.JSON {
		return opts.IO.PrintJSON(Deleted{Deleted: true, ID: n.Id, Path: n.ResourcePath})
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Deleted service account %s.\n", n.ResourcePath)
	return err
}
