package serviceaccount

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

// UpdateOptions are the inputs of `tharsis service-account update`.
type UpdateOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	ServiceAccount          string
	Description             admincmd.OptString
	Policies                []string
	ClearPolicies           bool
	EnableClientCredentials admincmd.OptBool
	SecretExpires           string
	Version                 string
}

// NewCmdUpdate builds `tharsis service-account update`; runF replaces the
// real run in tests.
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "update SERVICE_ACCOUNT",
		Short: "Change a service account's trust policies, client credentials or description",
		Long: `Change the settings given; the others stay as they are. --oidc-trust-policy
replaces all the trust policies (see 'service-account create --help' for
the syntax). Turning client credentials on prints a new client secret, once,
on stdout. Needs the deployer role.

With -o json the service account is printed as by 'tharsis service-account
get -o json', without memberships, with "client_secret" when one was made.`,
		Example: `  tharsis service-account update ops/ci --oidc-trust-policy 'issuer=https://gitlab.example.com,bound-claim=project_path=ops/infra'
  tharsis service-account update ops/ci --enable-client-credentials --client-secret-expires 7d
  tharsis service-account update ops/ci --enable-client-credentials=false`,
		Args: cmdutil.ExactArgs("SERVICE_ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ServiceAccount = args[0]
			if !opts.Description.Given && len(opts.Policies) == 0 && !opts.ClearPolicies && !opts.EnableClientCredentials.Given {
				return cmdutil.UsageErrorf("nothing to update: give --description, --oidc-trust-policy, --clear-oidc-trust-policies or --enable-client-credentials")
			}
			if opts.SecretExpires != "" && !(opts.EnableClientCredentials.Given && opts.EnableClientCredentials.Value) {
				return cmdutil.UsageErrorf("--client-secret-expires needs --enable-client-credentials")
			}
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
	fs.Var(&opts.Description, "description", "New description")
	fs.StringArrayVar(&opts.Policies, "oidc-trust-policy", nil, "OIDC trust policy (repeatable); replaces all the current ones")
	fs.BoolVar(&opts.ClearPolicies, "clear-oidc-trust-policies", false, "Remove every trust policy (client credentials must stay on)")
	cmd.MarkFlagsMutuallyExclusive("oidc-trust-policy", "clear-oidc-trust-policies")
	admincmd.BoolVar(fs, &opts.EnableClientCredentials, "enable-client-credentials", "Turn client credentials on (prints a new secret) or off (=false)")
	fs.StringVar(&opts.SecretExpires, "client-secret-expires", "", "When a new client secret expires: a duration (30d) or a date")
	fs.StringVar(&opts.Version, "version", "", "Fail if the service account changed since this version (optimistic locking)")
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runUpdate(ctx context.Context, opts *UpdateOptions) error {
	const op = "update service account"
	version, err := admincmd.Version(opts.Version)
	if err != nil {
		return err
	}
	policies, err := parsePolicies(opts.IO, opts.Policies)
	if err != nil {
		return err
	}
	expires, err := parseExpiry(opts.SecretExpires, opts.Now())
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	n, err := fetch(ctx, client, op, opts.ServiceAccount)
	if err != nil {
		return err
	}
	cur := fromGQL(&n.ServiceAccountDetail)
	// The API takes the description and the policies whole: keep what is
	// not changed.
	in := gql.UpdateServiceAccountInput{
		Id: cur.ID, Description: cur.Description, EnableClientCredentials: opts.EnableClientCredentials.Ptr(),
		ClientSecretExpiresAt: expires,
	}
	if opts.Description.Given {
		in.Description = opts.Description.Value
	}
	switch {
	case opts.ClearPolicies:
		in.OidcTrustPolicies = []gql.OIDCTrustPolicyInput{}
	case len(opts.Policies) > 0:
		in.OidcTrustPolicies = policies
	default:
		in.OidcTrustPolicies = []gql.OIDCTrustPolicyInput{}
		for _, p := range cur.OIDCTrustPolicies {
			in.OidcTrustPolicies = append(in.OidcTrustPolicies, p.input())
		}
	}
	if version == nil {
		version = &cur.Version
	}
	in.Metadata = &gql.ResourceMetadataInput{Version: *version}
	resp, err := gql.UpdateServiceAccount(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.UpdateServiceAccount.Problems)
	}
	if err != nil {
		return admincmd.Explain(api.WithOp(err, op), admincmd.RoleDeployer, cur.GroupPath)
	}
	if resp.UpdateServiceAccount.ServiceAccount == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no service account"}
	}
	sa := fromGQL(&resp.UpdateServiceAccount.ServiceAccount.ServiceAccountDetail)
	sa.ClientSecret = deref(resp.UpdateServiceAccount.ClientSecret)
	if opts.JSON {
		return opts.IO.PrintJSON(sa)
	}
	fmt.Fprintf(opts.IO.Out, "Updated service account %s.\n\n", sa.Path)
	if err := fields(sa, opts.Now()).Print(opts.IO); err != nil {
		return err
	}
	return printSecret(opts.IO, sa)
}
