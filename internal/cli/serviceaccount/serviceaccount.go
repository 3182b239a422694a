// Package serviceaccount implements `tharsis service-account`: list, get,
// create, update and delete. Service accounts are identities for machines:
// CI jobs log in with an OIDC token their platform issues (trust
// policies) or with a client id and secret (client credentials), and
// runner agents log in with one assigned to them.
package serviceaccount

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// NewCmdServiceAccount builds the `service-account` noun with its verbs.
func NewCmdServiceAccount(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "service-account <command>",
		Aliases: []string{"sa"},
		Short:   "Manage service accounts",
		Long: `Service accounts are identities for machines. A CI job logs in with an OIDC
token from its platform that matches one of the account's trust policies,
or with client credentials; a runner agent logs in with one assigned to it.
A service account can do nothing until it is given a role with
'tharsis group add-membership' (or workspace add-membership).

A service account is named by its path (group/name), its TRN
(trn:service_account:group/name) or its ID.`,
		Example: `  tharsis service-account create ops/ci \
      --oidc-trust-policy 'issuer=https://gitlab.example.com,bound-claim=project_path=ops/*,claims-type=glob'
  tharsis group add-membership ops --service-account ops/ci --role deployer
  tharsis service-account list --group ops`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdGet(f, nil),
		NewCmdCreate(f, nil),
		NewCmdUpdate(f, nil),
		NewCmdDelete(f, nil),
		NewCmdLogin(f, nil),
	)
	return cmd
}

// ServiceAccount is a service account in JSON (list items, create,
// update; get adds its memberships).
type ServiceAccount struct {
	ID                       string        `json:"id"`
	TRN                      string        `json:"trn"`
	Name                     string        `json:"name"`
	Path                     string        `json:"path"`
	GroupPath                string        `json:"group_path"`
	Description              string        `json:"description"`
	ClientCredentialsEnabled bool          `json:"client_credentials_enabled"`
	ClientSecretExpiresAt    *time.Time    `json:"client_secret_expires_at"`
	OIDCTrustPolicies        []TrustPolicy `json:"oidc_trust_policies"`
	CreatedBy                string        `json:"created_by"`
	CreatedAt                time.Time     `json:"created_at"`
	UpdatedAt                time.Time     `json:"updated_at"`
	Version                  string        `json:"version"`
	// ClientSecret is only in the output of the create or update that
	// made it; it cannot be read again.
	ClientSecret string `json:"client_secret,omitempty"`
}

func fromGQL(sa *gql.ServiceAccountDetail) ServiceAccount {
	return ServiceAccount{
		ID: sa.Id, TRN: sa.Metadata.Trn, Name: sa.Name, Path: sa.ResourcePath, GroupPath: sa.GroupPath,
		Description: sa.Description, ClientCredentialsEnabled: sa.ClientCredentialsEnabled,
		ClientSecretExpiresAt: sa.ClientSecretExpiresAt, OIDCTrustPolicies: policiesFromGQL(sa.OidcTrustPolicies),
		CreatedBy: sa.CreatedBy, CreatedAt: sa.Metadata.CreatedAt, UpdatedAt: sa.Metadata.UpdatedAt,
		Version: sa.Metadata.Version,
	}
}

func fields(sa ServiceAccount, now time.Time) *admincmd.Fields {
	f := &admincmd.Fields{}
	f.Add("Name", sa.Name).
		Add("Path", sa.Path).
		Add("TRN", sa.TRN).
		Add("ID", sa.ID).
		AddIf("Description", sa.Description)
	cc := "no"
	if sa.ClientCredentialsEnabled {
		cc = "yes (client id: " + sa.ID + ")"
		if sa.ClientSecretExpiresAt != nil {
			cc += "\nsecret expires " + admincmd.Time(*sa.ClientSecretExpiresAt, now)
		}
	}
	f.Add("Client credentials", cc)
	pols := make([]string, len(sa.OIDCTrustPolicies))
	for i, p := range sa.OIDCTrustPolicies {
		pols[i] = p.String()
	}
	if len(pols) == 0 {
		pols = []string{"none"}
	}
	f.Add("OIDC trust policies", strings.Join(pols, "\n"))
	f.Add("Created", admincmd.Time(sa.CreatedAt, now)+" by "+sa.CreatedBy).
		Add("Updated", admincmd.Time(sa.UpdatedAt, now)).
		Add("Version", sa.Version)
	return f
}

func normalizeID(arg string) (string, error) {
	id := api.NormalizeID("service_account", arg)
	if id == "" {
		return "", cmdutil.UsageErrorf("the service account is empty: give its path, TRN or ID")
	}
	return id, nil
}

// fetch reads a service account with its memberships.
func fetch(ctx context.Context, client *api.Client, op, arg string) (*gql.GetServiceAccountDetailNodeServiceAccount, error) {
	id, err := normalizeID(arg)
	if err != nil {
		return nil, err
	}
	resp, err := gql.GetServiceAccountDetail(ctx, client.GraphQL(), id)
	if err != nil {
		return nil, admincmd.Explain(api.WithOp(err, op), admincmd.RoleViewer, "")
	}
	if resp.Node == nil || *resp.Node == nil {
		return nil, admincmd.NotFound(op, "service account", arg)
	}
	n, ok := (*resp.Node).(*gql.GetServiceAccountDetailNodeServiceAccount)
	if !ok {
		return nil, admincmd.KindMismatch(op, "service account", arg, deref((*resp.Node).GetTypename()))
	}
	return n, nil
}

// printSecret prints a new client secret on stdout, and the advice to keep
// it on stderr.
func printSecret(io *ui.IOStreams, sa ServiceAccount) error {
	if sa.ClientSecret == "" {
		return nil
	}
	st := io.ErrStyles()
	if _, err := io.Out.Write([]byte("\nClient ID:     " + sa.ID + "\nClient secret: " + sa.ClientSecret + "\n")); err != nil {
		return err
	}
	_, err := io.ErrOut.Write([]byte(st.Warning.Render("Save the client secret now: it is shown only this once.") + "\n"))
	return err
}

func deref[T any](p *T) T {
	var zero T
	if p != nil {
		return *p
	}
	return zero
}
