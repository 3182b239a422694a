package serviceaccount

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// CreateOptions are the inputs of `tharsis service-account create`.
type CreateOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	// Name is the service account's name, or its full path without Group.
	Name                    string
	Group                   string
	Description             string
	Policies                []string
	EnableClientCredentials bool
	SecretExpires           string
}

// NewCmdCreate builds `tharsis service-account create`; runF replaces the
// real run in tests.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "create (GROUP/NAME | NAME --group GROUP) (--oidc-trust-policy POLICY... | --enable-client-credentials)",
		Short: "Create a service account",
		Long: `Create a service account in a group. It logs in with an OIDC token matching
one of its trust policies, or with client credentials, so it needs at least
one --oidc-trust-policy or --enable-client-credentials. Give it a role next
('tharsis group add-membership'). Needs the deployer role.

` + PolicyDoc + `

With --enable-client-credentials the client secret is printed once, on
stdout, and can never be read again (a new one needs 'service-account
update --enable-client-credentials=false' then '=true').

With -o json the service account is printed as by 'tharsis service-account
get -o json', without memberships, with "client_secret" when one was made.`,
		Example: `  tharsis service-account create ops/gitlab-ci \
      --oidc-trust-policy 'issuer=https://gitlab.example.com,bound-claim=project_path=ops/*,bound-claim=ref_protected=true,claims-type=glob'
  tharsis service-account create deployer --group ops --enable-client-credentials --client-secret-expires 30d
  tharsis service-account create ops/gha --oidc-trust-policy \
      '{"issuer":"https://token.actions.githubusercontent.com","bound_claims":{"sub":"repo:org/infra:ref:refs/heads/main"}}'`,
		Args: cmdutil.ExactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if len(opts.Policies) == 0 && !opts.EnableClientCredentials {
				return cmdutil.UsageErrorf("a service account needs a way to log in: give --oidc-trust-policy and/or --enable-client-credentials")
			}
			if opts.SecretExpires != "" && !opts.EnableClientCredentials {
				return cmdutil.UsageErrorf("--client-secret-expires needs --enable-client-credentials")
			}
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			opts.Now = f.Now
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCreate(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Group, "group", "", "Group of the service account (path, TRN or ID)")
	admincmd.Alias(fs, "group", "group-id", "")
	fs.StringVar(&opts.Description, "description", "", "Description")
	fs.StringArrayVar(&opts.Policies, "oidc-trust-policy", nil, "OIDC trust policy (repeatable; see above)")
	fs.BoolVar(&opts.EnableClientCredentials, "enable-client-credentials", false, "Let it log in with a client id and secret")
	fs.StringVar(&opts.SecretExpires, "client-secret-expires", "", "When the client secret expires: a duration (30d, 720h) or a date (1 to 90 days ahead; default 90 days)")
	admincmd.AddJSONFlag(cmd, f)
	_ = cmd.RegisterFlagCompletionFunc("group", complete.GroupFlag(f))
	return cmd
}

// parsePolicies reads the --oidc-trust-policy values and prints their
// warnings.
func parsePolicies(io *ui.IOStreams, specs []string) ([]gql.OIDCTrustPolicyInput, error) {
	out := []gql.OIDCTrustPolicyInput{} // the API's list is non-null
	for _, s := range specs {
		p, warns, err := parsePolicy(s)
		if err != nil {
			return nil, &cmdutil.UsageError{Err: err}
		}
		st := io.ErrStyles()
		for _, w := range warns {
			fmt.Fprintf(io.ErrOut, "%s %s\n", st.Warning.Render("Warning:"), w)
		}
		out = append(out, p.input())
	}
	return out, nil
}

func runCreate(ctx context.Context, opts *CreateOptions) error {
	const op = "create service account"
	parent, name := opts.Group, strings.TrimSpace(opts.Name)
	switch {
	case parent == "":
		parent, name = admincmd.SplitPath(name)
		if parent == "" {
			return cmdutil.UsageErrorf("a service account belongs to a group: give GROUP/%s, or --group GROUP", name)
		}
	case strings.Contains(strings.Trim(name, "/"), "/"):
		return cmdutil.UsageErrorf("give either a full path or a name with --group, not both (%q)", opts.Name)
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
	groupID := api.NormalizeID("group", parent)
	resp, err := gql.CreateServiceAccount(ctx, client.GraphQL(), gql.CreateServiceAccountInput{
		Name: name, Description: opts.Description, GroupId: &groupID,
		EnableClientCredentials: opts.EnableClientCredentials, ClientSecretExpiresAt: expires,
		OidcTrustPolicies: policies,
	})
	if err == nil {
		err = api.ProblemsOf(op, resp.CreateServiceAccount.Problems)
	}
	if err != nil {
		return admincmd.Explain(api.WithOp(err, op), admincmd.RoleDeployer, admincmd.PathOf(parent))
	}
	if resp.CreateServiceAccount.ServiceAccount == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no service account"}
	}
	sa := fromGQL(&resp.CreateServiceAccount.ServiceAccount.ServiceAccountDetail)
	sa.ClientSecret = deref(resp.CreateServiceAccount.ClientSecret)
	if opts.JSON {
		return opts.IO.PrintJSON(sa)
	}
	fmt.Fprintf(opts.IO.Out, "Created service account %s.\n\n", sa.Path)
	if err := fields(sa, opts.Now()).Print(opts.IO); err != nil {
		return err
	}
	if err := printSecret(opts.IO, sa); err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "\nIt can do nothing until it has a role, e.g.:\n  tharsis group add-membership %s --service-account %s --role deployer\n", sa.GroupPath, sa.Path)
	return err
}
