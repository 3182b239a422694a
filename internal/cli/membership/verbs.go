package membership

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// Options are the inputs of the membership verbs.
type Options struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	Kind Kind
	// Arg is the namespace (path, TRN or ID), or for update and remove
	// without a member flag, the membership's ID.
	Arg     string
	Role    string
	Version string
	who     principal
}

func newOptions(f *cmdutil.Factory, kind Kind) *Options {
	return &Options{IO: f.IO, Kind: kind}
}

func (o *Options) bind(f *cmdutil.Factory, args []string) {
	o.JSON = f.JSON()
	o.APIClient = f.APIClient
	if len(args) > 0 {
		o.Arg = args[0]
	}
}

// SetMember sets the member for tests and other callers: one of user,
// serviceAccount and team.
func (o *Options) SetMember(user, serviceAccount, team string) {
	o.who = principal{user: user, serviceAccount: serviceAccount, team: team}
}

// NewCmdList builds `<noun> list-memberships`.
func NewCmdList(f *cmdutil.Factory, kind Kind, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f, kind)
	arg := upper(kind)
	cmd := &cobra.Command{
		Use:   "list-memberships " + arg,
		Short: fmt.Sprintf("List who has which role on a %s", kind),
		Long: fmt.Sprintf(`List the memberships that apply to a %s: its own and those inherited from
its parent groups (marked in the NAMESPACE column).

With -o json: {"items": [{"id", "trn", "namespace_path", "inherited",
"member_type" (user|service_account|team), "member", "member_id", "role",
"created_at", "updated_at", "version"}], "page_info": {...}}.`, kind),
		Example: fmt.Sprintf(`  tharsis %[1]s list-memberships %[2]s
  tharsis %[1]s list-memberships %[2]s -o json`, kind, example(kind)),
		Args: cmdutil.ExactArgs(arg),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.bind(f, args)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runList(cmd.Context(), opts)
		},
	}
	admincmd.AddJSONFlag(cmd, f)
	cmd.ValidArgsFunction = complete.Namespace(f, string(kind))
	return cmd
}

func runList(ctx context.Context, opts *Options) error {
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	ns, err := fetchNamespace(ctx, client, opts.Kind, opts.Arg, "list memberships")
	if err != nil {
		return err
	}
	pg := admincmd.Page[Membership]{Items: ns.memberships, TotalCount: len(ns.memberships)}
	return admincmd.PrintList(opts.IO, opts.JSON, pg, admincmd.Table[Membership]{
		Plural: "memberships",
		Header: []string{"MEMBER", "TYPE", "ROLE", "NAMESPACE", "ID"},
		Row: func(m Membership) []string {
			where := m.NamespacePath
			if m.Inherited {
				where += " (inherited)"
			}
			return []string{m.Member, m.MemberType, m.Role, where, m.ID}
		},
	})
}

// NewCmdAdd builds `<noun> add-membership`.
func NewCmdAdd(f *cmdutil.Factory, kind Kind, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f, kind)
	arg := upper(kind)
	cmd := &cobra.Command{
		Use:   "add-membership " + arg + " (--user NAME | --service-account SA | --team NAME) --role ROLE",
		Short: fmt.Sprintf("Give a user, service account or team a role on a %s", kind),
		Long: fmt.Sprintf(`Give a user, a service account or a team a role on a %[1]s. Built-in roles:
owner (everything, including memberships and runner agents), deployer
(create and apply runs, manage workspaces, groups and service accounts),
viewer (read only) and publisher (modules and providers); custom roles work
by name. A role on a group applies to everything below it.

A service account can only be a member of its own group, of groups below it
and of their workspaces. Adding a member who already has that role here
succeeds without change. Needs the owner role.

With -o json the new membership is printed (see list-memberships).`, kind),
		Example: fmt.Sprintf(`  tharsis %[1]s add-membership %[2]s --service-account ops/ci --role deployer
  tharsis %[1]s add-membership %[2]s --user alice --role viewer`, kind, example(kind)),
		Args: cmdutil.ExactArgs(arg),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.bind(f, args)
			if err := opts.who.check(true); err != nil {
				return err
			}
			if opts.Role == "" {
				return cmdutil.UsageErrorf("missing --role: owner, deployer, viewer, publisher or a custom role")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runAdd(cmd.Context(), opts)
		},
	}
	opts.who.register(cmd.Flags())
	roleFlag(cmd.Flags(), &opts.Role)
	completeRoles(cmd)
	admincmd.AddJSONFlag(cmd, f)
	cmd.ValidArgsFunction = complete.Namespace(f, string(kind))
	return cmd
}

func runAdd(ctx context.Context, opts *Options) error {
	const op = "add membership"
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	role, err := nameOf(ctx, client, "role", opts.Role)
	if err != nil {
		return err
	}
	ns, err := fetchNamespace(ctx, client, opts.Kind, opts.Arg, op)
	if err != nil {
		return err
	}
	who, err := opts.who.resolve(ctx, client)
	if err != nil {
		return err
	}
	if own, _ := ns.find(who); own != nil {
		if own.Role != role {
			return &api.Error{
				Kind: api.KindConflict, Op: op, Code: "CONFLICT",
				Message: fmt.Sprintf("%s is already a member of %s %s, with the role %s", who, opts.Kind, ns.path, own.Role),
				Hint:    fmt.Sprintf("Change the role with: tharsis %s update-membership %s %s --role %s", opts.Kind, ns.path, flagFor(who), role),
			}
		}
		if opts.JSON {
			return opts.IO.PrintJSON(own)
		}
		_, err := fmt.Fprintf(opts.IO.Out, "%s already has the role %s on %s %s.\n", sentence(who.String()), role, opts.Kind, ns.path)
		return err
	}
	in := gql.CreateNamespaceMembershipInput{NamespacePath: ns.path, Role: role}
	switch who.memberType {
	case MemberUser:
		in.Username = &who.name
	case MemberTeam:
		in.TeamName = &who.name
	default:
		in.ServiceAccountId = &who.saID
	}
	resp, err := gql.CreateNamespaceMembership(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.CreateNamespaceMembership.Problems)
	}
	if err != nil {
		return explainAdd(admincmd.ExplainIn(api.WithOp(err, op), admincmd.RoleOwner, string(opts.Kind), ns.path), who, ns.path)
	}
	m := resp.CreateNamespaceMembership.Membership
	if m == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no membership"}
	}
	out := fromGQL(&m.MembershipDetail, ns.path)
	if opts.JSON {
		return opts.IO.PrintJSON(out)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Gave %s the role %s on %s %s.\n", describe(out.MemberType, out.Member), out.Role, opts.Kind, ns.path)
	return err
}

// explainAdd adds advice for the API's membership rules.
func explainAdd(err error, who resolved, nsPath string) error {
	ae, ok := err.(*api.Error)
	if !ok {
		return err
	}
	c := *ae
	switch {
	case ae.Kind == api.KindBadRequest && who.memberType == MemberServiceAccount:
		c.Hint = fmt.Sprintf("A service account can only be a member of the group it belongs to, of groups below it and of their workspaces; create one in %s's group (or a parent group) instead.", nsPath)
	case ae.Kind == api.KindNotFound && containsAny(ae.Message, "role"):
		c.Hint = "Built-in roles are owner, deployer, viewer and publisher; custom roles are named as created."
	case ae.Kind == api.KindNotFound && who.memberType != MemberServiceAccount:
		c.Hint = fmt.Sprintf("Check the %s name: %s.", who.memberType, who.name)
	default:
		return err
	}
	return &c
}

// NewCmdUpdate builds `<noun> update-membership`.
func NewCmdUpdate(f *cmdutil.Factory, kind Kind, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f, kind)
	arg := upper(kind)
	cmd := &cobra.Command{
		Use:   "update-membership (" + arg + " (--user NAME | --service-account SA | --team NAME) | MEMBERSHIP_ID) --role ROLE",
		Short: "Change a member's role",
		Long: fmt.Sprintf(`Change the role of a member of a %[1]s. Name the member with --user,
--service-account or --team (the membership must be set on this %[1]s, not
inherited), or give the membership's ID from list-memberships. Setting the
role a member already has succeeds without change. Needs the owner role.

With -o json the membership is printed (see list-memberships).`, kind),
		Example: fmt.Sprintf(`  tharsis %[1]s update-membership %[2]s --user alice --role deployer
  tharsis %[1]s update-membership TlNfNmE2MWQ... --role viewer`, kind, example(kind)),
		Args: cmdutil.ExactArgs(arg + "|MEMBERSHIP_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.bind(f, args)
			if err := opts.who.check(false); err != nil {
				return err
			}
			if opts.Role == "" {
				return cmdutil.UsageErrorf("missing --role: owner, deployer, viewer, publisher or a custom role")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runUpdate(cmd.Context(), opts)
		},
	}
	opts.who.register(cmd.Flags())
	roleFlag(cmd.Flags(), &opts.Role)
	completeRoles(cmd)
	cmd.Flags().StringVar(&opts.Version, "version", "", "Fail if the membership changed since this version (optimistic locking)")
	admincmd.AddJSONFlag(cmd, f)
	cmd.ValidArgsFunction = complete.Namespace(f, string(kind))
	return cmd
}

func runUpdate(ctx context.Context, opts *Options) error {
	const op = "update membership"
	version, err := admincmd.Version(opts.Version)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	role, err := nameOf(ctx, client, "role", opts.Role)
	if err != nil {
		return err
	}
	t, found, err := findTarget(ctx, client, opts.Kind, opts.Arg, &opts.who, op)
	if err != nil {
		return err
	}
	if !found {
		return &api.Error{Kind: api.KindNotFound, Op: op, Code: "NOT_FOUND",
			Message: fmt.Sprintf("%s is not a member of %s %s", describe(t.m.MemberType, t.m.Member), opts.Kind, t.namespace),
			Hint:    fmt.Sprintf("Add it with: tharsis %s add-membership %s ... --role %s", opts.Kind, t.namespace, role)}
	}
	if t.m.Role == role && version == nil {
		if opts.JSON {
			return opts.IO.PrintJSON(t.m)
		}
		_, err := fmt.Fprintf(opts.IO.Out, "%s already has the role %s on %s.\n", sentence(describe(t.m.MemberType, t.m.Member)), role, t.namespace)
		return err
	}
	if version == nil {
		version = &t.m.Version
	}
	resp, err := gql.UpdateNamespaceMembership(ctx, client.GraphQL(), gql.UpdateNamespaceMembershipInput{
		Id: t.m.ID, Role: role, Metadata: &gql.ResourceMetadataInput{Version: *version},
	})
	if err == nil {
		err = api.ProblemsOf(op, resp.UpdateNamespaceMembership.Problems)
	}
	if err != nil {
		return explainAdd(admincmd.ExplainIn(api.WithOp(err, op), admincmd.RoleOwner, string(opts.Kind), t.namespace), resolved{memberType: t.m.MemberType}, t.namespace)
	}
	m := resp.UpdateNamespaceMembership.Membership
	if m == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no membership"}
	}
	out := fromGQL(&m.MembershipDetail, t.namespace)
	if opts.JSON {
		return opts.IO.PrintJSON(out)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Changed the role of %s on %s from %s to %s.\n", describe(out.MemberType, out.Member), t.namespace, t.m.Role, out.Role)
	return err
}

// NewCmdRemove builds `<noun> remove-membership`.
func NewCmdRemove(f *cmdutil.Factory, kind Kind, runF func(context.Context, *Options) error) *cobra.Command {
	opts := newOptions(f, kind)
	arg := upper(kind)
	cmd := &cobra.Command{
		Use:   "remove-membership (" + arg + " (--user NAME | --service-account SA | --team NAME) | MEMBERSHIP_ID)",
		Short: "Take a member's role away",
		Long: fmt.Sprintf(`Remove a membership set on a %[1]s: name the member with --user,
--service-account or --team, or give the membership's ID. Removing a member
that has no membership there succeeds without change; one whose role is
inherited from a parent group must be removed there. Needs the owner role.

With -o json: {"removed": true|false, "membership": {...}}.`, kind),
		Example: fmt.Sprintf(`  tharsis %[1]s remove-membership %[2]s --service-account ops/ci
  tharsis %[1]s remove-membership TlNfNmE2MWQ...`, kind, example(kind)),
		Args: cmdutil.ExactArgs(arg + "|MEMBERSHIP_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.bind(f, args)
			if err := opts.who.check(false); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRemove(cmd.Context(), opts)
		},
	}
	opts.who.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.Version, "version", "", "Fail if the membership changed since this version (optimistic locking)")
	admincmd.AddJSONFlag(cmd, f)
	cmd.ValidArgsFunction = complete.Namespace(f, string(kind))
	return cmd
}

// removeResult is what remove-membership prints with -o json.
type removeResult struct {
	Removed    bool        `json:"removed"`
	Membership *Membership `json:"membership"`
}

func runRemove(ctx context.Context, opts *Options) error {
	const op = "remove membership"
	version, err := admincmd.Version(opts.Version)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	t, found, err := findTarget(ctx, client, opts.Kind, opts.Arg, &opts.who, op)
	if err != nil {
		return err
	}
	if !found {
		if opts.JSON {
			return opts.IO.PrintJSON(removeResult{})
		}
		_, err := fmt.Fprintf(opts.IO.Out, "%s is not a member of %s %s: nothing to remove.\n", sentence(describe(t.m.MemberType, t.m.Member)), opts.Kind, t.namespace)
		return err
	}
	if version == nil {
		version = &t.m.Version
	}
	resp, err := gql.DeleteNamespaceMembership(ctx, client.GraphQL(), gql.DeleteNamespaceMembershipInput{
		Id: t.m.ID, Metadata: &gql.ResourceMetadataInput{Version: *version},
	})
	if err == nil {
		err = api.ProblemsOf(op, resp.DeleteNamespaceMembership.Problems)
	}
	if err != nil {
		return admincmd.ExplainIn(api.WithOp(err, op), admincmd.RoleOwner, string(opts.Kind), t.namespace)
	}
	if opts.JSON {
		return opts.IO.PrintJSON(removeResult{Removed: true, Membership: &t.m})
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Removed %s (role %s) from %s.\n", describe(t.m.MemberType, t.m.Member), t.m.Role, t.namespace)
	return err
}

func upper(k Kind) string {
	if k == KindGroup {
		return "GROUP"
	}
	return "WORKSPACE"
}

func example(k Kind) string {
	if k == KindGroup {
		return "ops"
	}
	return "ops/network"
}

func containsAny(s string, subs ...string) bool {
	s = strings.ToLower(s)
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// sentence capitalises the first letter, for text that starts a sentence.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
