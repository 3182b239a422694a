// Package module implements `tharsis module`: the Tharsis module registry
// (list, get, create, update, delete; list-versions, get-version,
// delete-version; upload-version and digest).
package module

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// NewCmdModule builds the `module` noun with its verbs.
func NewCmdModule(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "module <command>",
		Aliases: []string{"modules"},
		Short:   "Publish and manage modules in the Tharsis module registry",
		Long: `The Tharsis module registry stores versions of Terraform modules in groups.
A module is named by its path <group>/<name>/<system> (e.g. ops/vpc/aws), its
TRN (trn:terraform_module:ops/vpc/aws), its ID or its source address; a
version by <group>/<name>/<system>/<version>, its TRN or its ID.

Runs use a published module with
  tharsis apply WORKSPACE --module-source <host>/<top-level group>/<name>/<system> --module-version "~> 1.2"
where <host> is the Tharsis API's host ('tharsis module get' prints the
exact address as "Source").`,
		Example: `  tharsis module create ops/vpc/aws --private=false
  tharsis module upload-version ops/vpc/aws --version 1.2.0 --directory-path ./vpc
  tharsis module list-versions ops/vpc/aws
  tharsis apply ops/network --module-source tharsis.example.com/ops/vpc/aws --module-version "~> 1.2"`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdGet(f, nil),
		NewCmdCreate(f, nil),
		NewCmdUpdate(f, nil),
		NewCmdDelete(f, nil),
		NewCmdListVersions(f, nil),
		NewCmdGetVersion(f, nil),
		NewCmdDeleteVersion(f, nil),
		NewCmdUploadVersion(f, nil),
		NewCmdDigest(f, nil),
	)
	return cmd
}

// Module is a module in JSON (get, list items, create, update).
type Module struct {
	ID                string `json:"id"`
	TRN               string `json:"trn"`
	Name              string `json:"name"`
	System            string `json:"system"`
	GroupPath         string `json:"group_path"`
	ResourcePath      string `json:"resource_path"`
	RegistryNamespace string `json:"registry_namespace"`
	// Source is the address runs give as --module-source.
	Source        string            `json:"source"`
	Private       bool              `json:"private"`
	RepositoryURL string            `json:"repository_url"`
	Labels        map[string]string `json:"labels"`
	// LatestVersion is null until a version exists.
	LatestVersion *VersionRef `json:"latest_version"`
	CreatedBy     string      `json:"created_by"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
	Version       string      `json:"version"`
}

// VersionRef names a module version.
type VersionRef struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Status  string `json:"status"`
}

// Version is a module version in JSON.
type Version struct {
	ID      string `json:"id"`
	TRN     string `json:"trn"`
	Module  string `json:"module"` // resource path
	Source  string `json:"source"`
	Version string `json:"version"`
	// Status is pending, upload_in_progress, uploaded or errored.
	Status      string    `json:"status"`
	Latest      bool      `json:"latest"`
	SHA256      string    `json:"sha256"`
	Error       string    `json:"error,omitempty"`
	Diagnostics string    `json:"diagnostics,omitempty"`
	Submodules  []string  `json:"submodules"`
	Examples    []string  `json:"examples"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func moduleFromGQL(m *gql.TerraformModuleDetail) Module {
	out := Module{
		ID: m.Id, TRN: m.Metadata.Trn, Name: m.Name, System: m.System, GroupPath: m.GroupPath,
		ResourcePath: m.ResourcePath, RegistryNamespace: m.RegistryNamespace, Source: m.Source,
		Private: m.Private, RepositoryURL: m.RepositoryUrl, Labels: map[string]string{},
		CreatedBy: m.CreatedBy, CreatedAt: m.Metadata.CreatedAt, UpdatedAt: m.Metadata.UpdatedAt, Version: m.Metadata.Version,
	}
	for _, l := range m.Labels {
		out.Labels[l.Key] = l.Value
	}
	if v := m.LatestVersion; v != nil {
		out.LatestVersion = &VersionRef{ID: v.Id, Version: v.Version, Status: v.Status}
	}
	return out
}

func versionFromGQL(v *gql.TerraformModuleVersionDetail) Version {
	return Version{
		ID: v.Id, TRN: v.Metadata.Trn, Module: v.Module.ResourcePath, Source: v.Module.Source, Version: v.Version,
		Status: v.Status, Latest: v.Latest, SHA256: v.ShaSum, Error: v.Error, Diagnostics: v.Diagnostics,
		Submodules: nonNil(v.Submodules), Examples: nonNil(v.Examples),
		CreatedBy: v.CreatedBy, CreatedAt: v.Metadata.CreatedAt, UpdatedAt: v.Metadata.UpdatedAt,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// labelsText renders labels sorted by key: "a=1, b=2".
func labelsText(m map[string]string) string {
	parts := []string{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func moduleFields(m Module, now time.Time) *admincmd.Fields {
	f := &admincmd.Fields{}
	f.Add("Name", m.Name).
		Add("System", m.System).
		Add("Path", m.ResourcePath).
		Add("Source", m.Source).
		Add("TRN", m.TRN).
		Add("ID", m.ID).
		Add("Private", admincmd.YesNo(m.Private)).
		AddIf("Repository", m.RepositoryURL).
		Add("Labels", labelsText(m.Labels))
	if v := m.LatestVersion; v != nil {
		f.Add("Latest version", v.Version+" ("+v.Status+")")
	} else {
		f.Add("Latest version", "none yet (publish one with 'tharsis module upload-version')")
	}
	f.Add("Created", admincmd.Time(m.CreatedAt, now)+" by "+m.CreatedBy).
		Add("Updated", admincmd.Time(m.UpdatedAt, now)).
		Add("Version", m.Version)
	return f
}

func versionFields(v Version, now time.Time) *admincmd.Fields {
	f := &admincmd.Fields{}
	f.Add("Module", v.Module).
		Add("Version", v.Version).
		Add("Status", v.Status).
		Add("Latest", admincmd.YesNo(v.Latest)).
		Add("SHA-256", v.SHA256).
		Add("Source", v.Source).
		Add("TRN", v.TRN).
		Add("ID", v.ID)
	if len(v.Submodules) > 0 {
		f.Add("Submodules", strings.Join(v.Submodules, ", "))
	}
	if len(v.Examples) > 0 {
		f.Add("Examples", strings.Join(v.Examples, ", "))
	}
	f.AddIf("Error", v.Error).
		AddIf("Diagnostics", v.Diagnostics).
		Add("Created", admincmd.Time(v.CreatedAt, now)+" by "+v.CreatedBy)
	return f
}

func printModule(io *ui.IOStreams, asJSON bool, m Module, now time.Time) error {
	if asJSON {
		return io.PrintJSON(m)
	}
	return moduleFields(m, now).Print(io)
}

func printVersion(io *ui.IOStreams, asJSON bool, v Version, now time.Time) error {
	if asJSON {
		return io.PrintJSON(v)
	}
	return versionFields(v, now).Print(io)
}

// fetchModule reads a module by path, TRN, ID or source address; a
// not-found error when there is none (or the caller may not view it).
func fetchModule(ctx context.Context, client *api.Client, op, arg string) (*gql.TerraformModuleDetail, error) {
	if a, err := ParseAddress(arg); err == nil {
		return fetchByAddress(ctx, client, op, a, arg)
	}
	id, err := ModuleID(arg)
	if err != nil {
		return nil, err
	}
	resp, err := gql.GetTerraformModule(ctx, client.GraphQL(), id)
	if err != nil {
		return nil, api.WithOp(err, op)
	}
	if resp.Node == nil || *resp.Node == nil {
		return nil, admincmd.NotFound(op, "module", arg)
	}
	m, ok := (*resp.Node).(*gql.GetTerraformModuleNodeTerraformModule)
	if !ok {
		return nil, admincmd.KindMismatch(op, "module", arg, deref((*resp.Node).GetTypename()))
	}
	return &m.TerraformModuleDetail, nil
}

// fetchByAddress finds the module a source address names: the address
// holds the top-level group, not the module's group, so the module is
// searched for. The host is not checked: the server may be known under
// another name than the one the CLI uses.
func fetchByAddress(ctx context.Context, client *api.Client, op string, a Address, given string) (*gql.TerraformModuleDetail, error) {
	search := a.Namespace + "/" + a.Name + "/" + a.System
	var after *string
	for {
		resp, err := gql.ListTerraformModules(ctx, client.GraphQL(), admincmd.MaxPageSize, after, &search, nil, nil)
		if err != nil {
			return nil, api.WithOp(err, op)
		}
		c := resp.TerraformModules
		for _, e := range c.Edges {
			if e == nil || e.Node == nil {
				continue
			}
			m := &e.Node.TerraformModuleDetail
			if m.RegistryNamespace == a.Namespace && m.Name == a.Name && m.System == a.System {
				return m, nil
			}
		}
		if !c.PageInfo.HasNextPage || c.PageInfo.EndCursor == nil {
			return nil, admincmd.NotFound(op, "module", given)
		}
		after = c.PageInfo.EndCursor
	}
}

// moduleRef is the API id of the module arg names (a source address is
// looked up).
func moduleRef(ctx context.Context, client *api.Client, op, arg string) (string, error) {
	if _, err := ParseAddress(arg); err == nil {
		m, err := fetchModule(ctx, client, op, arg)
		if err != nil {
			return "", err
		}
		return m.Id, nil
	}
	return ModuleID(arg)
}

// fetchVersion reads a module version by path, TRN or ID.
func fetchVersion(ctx context.Context, client *api.Client, op, arg string) (*gql.TerraformModuleVersionDetail, error) {
	id, err := VersionID(arg)
	if err != nil {
		return nil, err
	}
	return fetchVersionID(ctx, client, op, id, arg)
}

func fetchVersionID(ctx context.Context, client *api.Client, op, id, given string) (*gql.TerraformModuleVersionDetail, error) {
	resp, err := gql.GetTerraformModuleVersion(ctx, client.GraphQL(), id)
	if err != nil {
		return nil, api.WithOp(err, op)
	}
	if resp.Node == nil || *resp.Node == nil {
		return nil, admincmd.NotFound(op, "module version", given)
	}
	v, ok := (*resp.Node).(*gql.GetTerraformModuleVersionNodeTerraformModuleVersion)
	if !ok {
		return nil, admincmd.KindMismatch(op, "module version", given, deref((*resp.Node).GetTypename()))
	}
	return &v.TerraformModuleVersionDetail, nil
}

// explain adds role advice to an API error of a command that needs to
// publish on the module's group.
func explain(err error, groupPath string) error {
	if api.KindOf(err) == api.KindForbidden && groupPath != "" {
		ae, ok := err.(*api.Error)
		if ok {
			c := *ae
			c.Hint = "Publishing modules needs the owner, deployer or publisher role on " + groupPath +
				" (or a parent group). Ask an owner to grant it, e.g.\ntharsis group add-membership " + groupPath + " --user <username> --role publisher"
			return &c
		}
	}
	return admincmd.Explain(err, "", groupPath)
}

func deref[T any](p *T) T {
	var zero T
	if p != nil {
		return *p
	}
	return zero
}
