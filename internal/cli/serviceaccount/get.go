package serviceaccount

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// GetOptions are the inputs of `tharsis service-account get`.
type GetOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	ServiceAccount string
}

// Detail is what `service-account get -o json` prints.
type Detail struct {
	ServiceAccount
	// Memberships are the roles it has, where.
	Memberships []MembershipRef `json:"memberships"`
}

// MembershipRef is one role of a service account.
type MembershipRef struct {
	ID            string `json:"id"`
	NamespacePath string `json:"namespace_path"`
	Role          string `json:"role"`
}

// NewCmdGet builds `tharsis service-account get`; runF replaces the real run
// in tests.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "get SERVICE_ACCOUNT",
		Short: "Show a service account, its trust policies and roles",
		Long: `Show a service account: how it logs in (OIDC trust policies, client
credentials) and the roles it has.

With -o json: {"id", "trn", "name", "path", "group_path", "description",
"client_credentials_enabled", "client_secret_expires_at",
"oidc_trust_policies" [{"issuer", "bound_claims_type" (STRING|GLOB),
"bound_claims" {name: value}}], "created_by", "created_at", "updated_at",
"version", "memberships" [{"id", "namespace_path", "role"}]}; list items
have the same fields without memberships.`,
		Example: `  tharsis service-account get ops/ci
  tharsis service-account get trn:service_account:ops/ci -o json`,
		Args: cmdutil.ExactArgs("SERVICE_ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ServiceAccount = args[0]
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
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	n, err := fetch(ctx, client, "get service account", opts.ServiceAccount)
	if err != nil {
		return err
	}
	d := Detail{ServiceAccount: fromGQL(&n.ServiceAccountDetail), Memberships: []MembershipRef{}}
	for _, e := range n.NamespaceMemberships.Edges {
		if e == nil || e.Node == nil {
			continue
		}
		m := MembershipRef{ID: e.Node.Id, Role: e.Node.Role.Name}
		if e.Node.Namespace != nil && *e.Node.Namespace != nil {
			m.NamespacePath = (*e.Node.Namespace).GetFullPath()
		}
		d.Memberships = append(d.Memberships, m)
	}
	slices.SortFunc(d.Memberships, func(a, b MembershipRef) int { return strings.Compare(a.NamespacePath, b.NamespacePath) })
	if opts.JSON {
		return opts.IO.PrintJSON(d)
	}
	f := fields(d.ServiceAccount, opts.Now())
	var rows [][]string
	for _, m := range d.Memberships {
		rows = append(rows, []string{m.NamespacePath, m.Role})
	}
	f.Table("Roles", []string{"NAMESPACE", "ROLE"}, rows,
		"none: it can do nothing yet. Give it a role: tharsis group add-membership GROUP --service-account "+d.Path+" --role deployer")
	return f.Print(opts.IO)
}
