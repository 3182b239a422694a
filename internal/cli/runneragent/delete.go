package runneragent

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

// DeleteOptions are the inputs of `tharsis runner-agent delete`.
type DeleteOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	Runner  string
	Version string
}

// Deleted is what `runner-agent delete -o json` prints.
type Deleted struct {
	Deleted bool   `json:"deleted"`
	ID      string `json:"id"`
	Path    string `json:"path"`
}

// NewCmdDelete builds `tharsis runner-agent delete`; runF replaces the real
// run in tests.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "delete RUNNER_AGENT",
		Short: "Delete a runner agent",
		Long: `Delete a runner agent. Its agent processes can no longer log in, and jobs
that only it could take stay queued. Needs the owner role.

With -o json: {"deleted": true, "id", "path"}.`,
		Example: `  tharsis runner-agent delete ops/gpu-runner`,
		Args:    cmdutil.ExactArgs("RUNNER_AGENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Runner = args[0]
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDelete(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Version, "version", "", "Fail if the runner agent changed since this version (optimistic locking)")
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runDelete(ctx context.Context, opts *DeleteOptions) error {
	const op = "delete runner agent"
	version, err := admincmd.Version(opts.Version)
	if err != nil {
		return err
	}
	id, err := normalizeID(opts.Runner)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	cur, err := fetch(ctx, client, id, op, opts.Runner)
	if err != nil {
		return err
	}
	in := gql.DeleteRunnerInput{Id: cur.ID}
	if version != nil {
		in.Metadata = &gql.ResourceMetadataInput{Version: *version}
	}
	resp, err := gql.DeleteRunner(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.DeleteRunner.Problems)
	}
	if err != nil {
		return admincmd.Explain(api.WithOp(err, op), admincmd.RoleOwner, cur.GroupPath)
	}
	if opts.JSON {
		return opts.IO.PrintJSON(Deleted{Deleted: true, ID: cur.ID, Path: cur.Path})
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Deleted runner agent %s.\n", cur.Path)
	return err
}
