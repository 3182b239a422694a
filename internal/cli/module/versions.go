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

// ListVersionsOptions are the inputs of `tharsis module list-versions`.
type ListVersionsOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	Module string
	Search string
	Sort   string
	Page   admincmd.PageFlags
}

// NewCmdListVersions builds `tharsis module list-versions`; runF replaces
// the real run in tests.
func NewCmdListVersions(f *cmdutil.Factory, runF func(context.Context, *ListVersionsOptions) error) *cobra.Command {
	opts := &ListVersionsOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "list-versions MODULE",
		Short: "List the versions of a module",
		Long: `List the versions of a module, newest first, with their status: pending
(created, no package yet), upload_in_progress (being checked), uploaded
(usable by runs) or errored.

` + admincmd.ListDoc,
		Example: `  tharsis module list-versions ops/vpc/aws
  tharsis module list-versions ops/vpc/aws --search 1.2 -o json`,
		Args: cmdutil.ExactArgs("MODULE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.Page.Validate(); err != nil {
				return err
			}
			opts.Module = args[0]
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			opts.Now = f.Now
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runListVersions(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Search, "search", "", "Only versions containing this text")
	admincmd.SortFlag(cmd, &opts.Sort, string(gql.TerraformModuleVersionSortCreatedAtDesc), enumStrings(gql.AllTerraformModuleVersionSort))
	opts.Page.Register(cmd)
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runListVersions(ctx context.Context, opts *ListVersionsOptions) error {
	const op = "list module versions"
	if _, err := ModuleID(opts.Module); err != nil {
		return err
	}
	var search *string
	if opts.Search != "" {
		search = &opts.Search
	}
	sort := gql.TerraformModuleVersionSort(opts.Sort)
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	id, err := moduleRef(ctx, client, op, opts.Module)
	if err != nil {
		return err
	}
	pg, err := admincmd.Collect(ctx, opts.Page, func(ctx context.Context, first int, after *string) (admincmd.Page[Version], error) {
		var out admincmd.Page[Version]
		resp, err := gql.ListTerraformModuleVersions(ctx, client.GraphQL(), id, first, after, search, &sort)
		if err != nil {
			return out, api.WithOp(err, op)
		}
		if resp.Node == nil || *resp.Node == nil {
			return out, admincmd.NotFound(op, "module", opts.Module)
		}
		m, ok := (*resp.Node).(*gql.ListTerraformModuleVersionsNodeTerraformModule)
		if !ok {
			return out, admincmd.KindMismatch(op, "module", opts.Module, deref((*resp.Node).GetTypename()))
		}
		c := m.Versions
		out.TotalCount, out.HasNextPage, out.EndCursor = c.TotalCount, c.PageInfo.HasNextPage, deref(c.PageInfo.EndCursor)
		for _, e := range c.Edges {
			if e != nil && e.Node != nil {
				out.Items = append(out.Items, versionFromGQL(&e.Node.TerraformModuleVersionDetail))
			}
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	now := opts.Now()
	return admincmd.PrintList(opts.IO, opts.JSON, pg, admincmd.Table[Version]{
		Plural: "versions",
		Header: []string{"VERSION", "STATUS", "LATEST", "SHA-256", "CREATED"},
		Row: func(v Version) []string {
			sum := v.SHA256
			if len(sum) > 12 {
				sum = sum[:12]
			}
			latest := ""
			if v.Latest {
				latest = "latest"
			}
			return []string{v.Version, v.Status, latest, sum, admincmd.Ago(v.CreatedAt, now)}
		},
	})
}

// GetVersionOptions are the inputs of `tharsis module get-version`.
type GetVersionOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	Version string
}

// NewCmdGetVersion builds `tharsis module get-version`; runF replaces the
// real run in tests.
func NewCmdGetVersion(f *cmdutil.Factory, runF func(context.Context, *GetVersionOptions) error) *cobra.Command {
	opts := &GetVersionOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "get-version MODULE_VERSION",
		Short: "Show a module version",
		Long: `Show a module version, given as <group>/<name>/<system>/<version>, its TRN
(trn:terraform_module_version:...) or its ID: status, SHA-256 of its
package, submodules and examples, and the error and diagnostics of a
version that failed the server's checks.

With -o json: {"id", "trn", "module", "source", "version", "status",
"latest", "sha256", "error", "diagnostics", "submodules", "examples",
"created_by", "created_at", "updated_at"}.`,
		Example: `  tharsis module get-version ops/vpc/aws/1.2.0
  tharsis module get-version trn:terraform_module_version:ops/vpc/aws/1.2.0 -o json`,
		Args: cmdutil.ExactArgs("MODULE_VERSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Version = args[0]
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			opts.Now = f.Now
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runGetVersion(cmd.Context(), opts)
		},
	}
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runGetVersion(ctx context.Context, opts *GetVersionOptions) error {
	if _, err := VersionID(opts.Version); err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	v, err := fetchVersion(ctx, client, "get module version", opts.Version)
	if err != nil {
		return err
	}
	return printVersion(opts.IO, opts.JSON, versionFromGQL(v), opts.Now())
}

// DeleteVersionOptions are the inputs of `tharsis module delete-version`.
type DeleteVersionOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	Version string
}

// NewCmdDeleteVersion builds `tharsis module delete-version`; runF replaces
// the real run in tests.
func NewCmdDeleteVersion(f *cmdutil.Factory, runF func(context.Context, *DeleteVersionOptions) error) *cobra.Command {
	opts := &DeleteVersionOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "delete-version MODULE_VERSION",
		Short: "Delete a module version",
		Long: `Delete a module version, given as <group>/<name>/<system>/<version>, its TRN
or its ID. When it was the latest version, the highest remaining version
becomes the latest. Runs can no longer select it.

Needs the owner, deployer or publisher role on the module's group.

With -o json: {"deleted": true, "id", "path"} where path is
<group>/<name>/<system>/<version>.`,
		Example: `  tharsis module delete-version ops/vpc/aws/1.2.0`,
		Args:    cmdutil.ExactArgs("MODULE_VERSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Version = args[0]
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDeleteVersion(cmd.Context(), opts)
		},
	}
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runDeleteVersion(ctx context.Context, opts *DeleteVersionOptions) error {
	const op = "delete module version"
	if _, err := VersionID(opts.Version); err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	v, err := fetchVersion(ctx, client, op, opts.Version)
	if err != nil {
		return err
	}
	path := v.Module.ResourcePath + "/" + v.Version
	if err := deleteVersion(ctx, client, v.Id); err != nil {
		group, _, _, _ := splitModulePath(v.Module.ResourcePath)
		return explain(api.WithOp(err, op+" "+path), group)
	}
	if opts.JSON {
		return opts.IO.PrintJSON(Deleted{Deleted: true, ID: v.Id, Path: path})
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Deleted module version %s.\n", path)
	return err
}

func deleteVersion(ctx context.Context, client *api.Client, id string) error {
	resp, err := gql.DeleteTerraformModuleVersion(ctx, client.GraphQL(), gql.DeleteTerraformModuleVersionInput{Id: id})
	if err != nil {
		return err
	}
	return api.ProblemsOf("delete module version", resp.DeleteTerraformModuleVersion.Problems)
}
