package module

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// UpdateOptions are the inputs of `tharsis module update`.
type UpdateOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	Module        string
	Private       admincmd.OptBool
	RepositoryURL admincmd.OptString
	Labels        []string
	ClearLabels   bool
	Version       string
}

// NewCmdUpdate builds `tharsis module update`; runF replaces the real run
// in tests.
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "update MODULE",
		Short: "Change a module's visibility, repository or labels",
		Long: `Change what is given and keep the rest. --label replaces the whole label set
with the given labels; --clear-labels removes them all. The name, system and
group of a module cannot change.

Needs the owner, deployer or publisher role on the module's group.

With -o json the module is printed as by 'tharsis module get -o json'.`,
		Example: `  tharsis module update ops/vpc/aws --private=false
  tharsis module update ops/vpc/aws --repository-url https://github.com/acme/vpc --label team=net --label tier=core`,
		Args: cmdutil.ExactArgs("MODULE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Module = args[0]
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			opts.Now = f.Now
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runUpdate(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	admincmd.BoolVar(fs, &opts.Private, "private", "Only members of the top-level group see the module")
	fs.Var(&opts.RepositoryURL, "repository-url", "URL of the module's source repository (\"\" to clear)")
	fs.StringArrayVar(&opts.Labels, "label", nil, "Label as key=value, replacing the current labels (repeatable)")
	fs.BoolVar(&opts.ClearLabels, "clear-labels", false, "Remove every label")
	fs.StringVar(&opts.Version, "version", "", "Fail if the module changed since this version (optimistic locking)")
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runUpdate(ctx context.Context, opts *UpdateOptions) error {
	const op = "update module"
	if opts.ClearLabels && len(opts.Labels) > 0 {
		return cmdutil.UsageErrorf("--label and --clear-labels cannot be combined")
	}
	if !opts.Private.Given && !opts.RepositoryURL.Given && len(opts.Labels) == 0 && !opts.ClearLabels {
		return cmdutil.UsageErrorf("nothing to update: give --private, --repository-url, --label or --clear-labels")
	}
	labels, err := labelInputs(opts.Labels)
	if err != nil {
		return err
	}
	version, err := admincmd.Version(opts.Version)
	if err != nil {
		return err
	}
	if _, err := ModuleID(opts.Module); err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	m, err := fetchModule(ctx, client, op, opts.Module)
	if err != nil {
		return err
	}
	in := gql.UpdateTerraformModuleInput{Id: m.Id, Private: opts.Private.Ptr(), RepositoryUrl: opts.RepositoryURL.Ptr()}
	if len(opts.Labels) > 0 || opts.ClearLabels {
		in.Labels = labels // an empty list clears them
	}
	if version != nil {
		in.Metadata = &gql.ResourceMetadataInput{Version: *version}
	}
	resp, err := gql.UpdateTerraformModule(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.UpdateTerraformModule.Problems)
	}
	if err != nil {
		return explain(api.WithOp(err, op+" "+m.ResourcePath), m.GroupPath)
	}
	if resp.UpdateTerraformModule.Module == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no module"}
	}
	out := moduleFromGQL(&resp.UpdateTerraformModule.Module.TerraformModuleDetail)
	if !opts.JSON {
		fmt.Fprintf(opts.IO.Out, "Updated module %s.\n\n", out.ResourcePath)
	}
	return printModule(opts.IO, opts.JSON, out, opts.Now())
}
