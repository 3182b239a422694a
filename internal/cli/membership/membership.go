// Package membership implements the membership verbs that `tharsis group`
// and `tharsis workspace` share: add-membership, list-memberships,
// update-membership and remove-membership. A membership gives a user, a
// service account or a team a role (owner, deployer, viewer, publisher or a
// custom role) on a group, which also applies to everything below it, or on
// a workspace.
package membership

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
)

// Kind is the kind of namespace the verbs act on.
type Kind string

// The namespace kinds.
const (
	KindGroup     Kind = "group"
	KindWorkspace Kind = "workspace"
)

// Commands returns the membership verbs for a noun.
func Commands(f *cmdutil.Factory, kind Kind) []*cobra.Command {
	return []*cobra.Command{
		NewCmdList(f, kind, nil),
		NewCmdAdd(f, kind, nil),
		NewCmdUpdate(f, kind, nil),
		NewCmdRemove(f, kind, nil),
	}
}

// Member types in JSON.
const (
	MemberUser           = "user"
	MemberServiceAccount = "service_account"
	MemberTeam           = "team"
)

// Membership is a membership in JSON.
type Membership struct {
	ID  string `json:"id"`
	TRN string `json:"trn"`
	// NamespacePath is where the membership is set: the namespace listed,
	// or one of its parent groups when Inherited.
	NamespacePath string `json:"namespace_path"`
	Inherited     bool   `json:"inherited"`
	// MemberType is user, service_account or team.
	MemberType string `json:"member_type"`
	// Member is the username, the service account's path or the team name.
	Member    string    `json:"member"`
	MemberID  string    `json:"member_id"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   string    `json:"version"`
}

// fromGQL converts a membership; listed is the namespace being looked at
// ("" when none), to tell inherited memberships.
func fromGQL(m *gql.MembershipDetail, listed string) Membership {
	out := Membership{
		ID: m.Id, TRN: m.Metadata.Trn, Role: m.Role.Name,
		CreatedAt: m.Metadata.CreatedAt, UpdatedAt: m.Metadata.UpdatedAt, Version: m.Metadata.Version,
	}
	if m.Namespace != nil && *m.Namespace != nil {
		out.NamespacePath = (*m.Namespace).GetFullPath()
	}
	out.Inherited = listed != "" && out.NamespacePath != listed
	if m.Member != nil && *m.Member != nil {
		switch mm := (*m.Member).(type) {
		case *gql.MembershipDetailMemberUser:
			out.MemberType, out.Member, out.MemberID = MemberUser, mm.Username, mm.Id
		case *gql.MembershipDetailMemberServiceAccount:
			out.MemberType, out.Member, out.MemberID = MemberServiceAccount, mm.ResourcePath, mm.Id
		case *gql.MembershipDetailMemberTeam:
			out.MemberType, out.Member, out.MemberID = MemberTeam, mm.Name, mm.Id
		}
	}
	return out
}

// describe names a member for people: `user "alice"`.
func describe(memberType, member string) string {
	return fmt.Sprintf("%s %q", strings.ReplaceAll(memberType, "_", " "), member)
}

// principal is --user, --service-account or --team.
type principal struct {
	user, serviceAccount, team string
}

func (p *principal) register(fs *pflag.FlagSet) {
	fs.StringVar(&p.user, "user", "", "The member is this user (username)")
	admincmd.Alias(fs, "user", "username", "use --user")
	admincmd.Alias(fs, "user", "user-id", "")
	fs.StringVar(&p.serviceAccount, "service-account", "", "The member is this service account (path, TRN or ID)")
	admincmd.Alias(fs, "service-account", "service-account-id", "")
	fs.StringVar(&p.team, "team", "", "The member is this team (name)")
	admincmd.Alias(fs, "team", "team-name", "use --team")
	admincmd.Alias(fs, "team", "team-id", "")
}

func (p *principal) given() bool { return p.user != "" || p.serviceAccount != "" || p.team != "" }

// check requires exactly one principal flag when need is set, at most one
// otherwise.
func (p *principal) check(need bool) error {
	n := 0
	for _, s := range []string{p.user, p.serviceAccount, p.team} {
		if s != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return cmdutil.UsageErrorf("give only one of --user, --service-account and --team")
	case n == 0 && need:
		return cmdutil.UsageErrorf("missing member: give --user, --service-account or --team")
	}
	return nil
}

// resolved is a principal after names behind TRNs and IDs were looked up.
type resolved struct {
	memberType string
	// name is the username or team name; for service accounts the value
	// given (path, TRN or ID), see matches.
	name string
	// saID is the service account for the API (TRN or ID).
	saID string
}

func (r resolved) String() string { return describe(r.memberType, r.name) }

// matches reports whether a membership belongs to the principal.
func (r resolved) matches(m Membership) bool {
	if m.MemberType != r.memberType {
		return false
	}
	if r.memberType != MemberServiceAccount {
		return m.Member == r.name
	}
	switch given := strings.TrimSpace(r.name); {
	case api.IsGID(given):
		return m.MemberID == given
	case api.IsTRN(given):
		return "trn:service_account:"+m.Member == given
	default:
		return m.Member == strings.Trim(given, "/")
	}
}

// resolve turns the flags into a principal, looking up the names behind
// the reference CLI's --user-id and --team-id when given IDs.
func (p *principal) resolve(ctx context.Context, client *api.Client) (resolved, error) {
	switch {
	case p.user != "":
		name, err := nameOf(ctx, client, "user", p.user)
		return resolved{memberType: MemberUser, name: name}, err
	case p.team != "":
		name, err := nameOf(ctx, client, "team", p.team)
		return resolved{memberType: MemberTeam, name: name}, err
	default:
		id := api.NormalizeID("service_account", p.serviceAccount)
		return resolved{memberType: MemberServiceAccount, name: p.serviceAccount, saID: id}, nil
	}
}

// nameOf returns the name of a user, team or role given as a name, a TRN
// ("trn:user:alice") or an ID.
func nameOf(ctx context.Context, client *api.Client, typ, s string) (string, error) {
	s = strings.TrimSpace(s)
	if t, p, err := api.ParseTRN(s); err == nil {
		if t != typ {
			return "", cmdutil.UsageErrorf("%q is a %s TRN, not a %s", s, t, typ)
		}
		return p, nil
	}
	if !api.IsGID(s) {
		return s, nil
	}
	resp, err := gql.GetPrincipalName(ctx, client.GraphQL(), s)
	if err != nil {
		return "", api.WithOp(err, "look up "+typ)
	}
	if resp.Node != nil && *resp.Node != nil {
		switch n := (*resp.Node).(type) {
		case *gql.GetPrincipalNameNodeUser:
			if typ == "user" {
				return n.Username, nil
			}
		case *gql.GetPrincipalNameNodeTeam:
			if typ == "team" {
				return n.Name, nil
			}
		case *gql.GetPrincipalNameNodeRole:
			if typ == "role" {
				return n.Name, nil
			}
		}
	}
	return "", admincmd.NotFound("look up "+typ, typ, s)
}

// namespace is a namespace with its memberships.
type namespace struct {
	path        string
	memberships []Membership
}

// fetchNamespace reads a namespace of the kind and its memberships, own and
// inherited.
func fetchNamespace(ctx context.Context, client *api.Client, kind Kind, arg, op string) (*namespace, error) {
	id := api.NormalizeID(string(kind), arg)
	if id == "" {
		return nil, cmdutil.UsageErrorf("the %s is empty: give its path, TRN or ID", kind)
	}
	resp, err := gql.GetNamespaceMemberships(ctx, client.GraphQL(), id)
	if err != nil {
		return nil, admincmd.ExplainIn(api.WithOp(err, op), admincmd.RoleViewer, string(kind), admincmd.PathOf(id))
	}
	if resp.Node == nil || *resp.Node == nil {
		return nil, admincmd.NotFound(op, string(kind), arg)
	}
	var ns namespace
	var list []gql.MembershipDetail
	switch n := (*resp.Node).(type) {
	case *gql.GetNamespaceMembershipsNodeGroup:
		if kind != KindGroup {
			return nil, admincmd.KindMismatch(op, string(kind), arg, "group")
		}
		ns.path = n.FullPath
		for _, m := range n.Memberships {
			list = append(list, m.MembershipDetail)
		}
	case *gql.GetNamespaceMembershipsNodeWorkspace:
		if kind != KindWorkspace {
			return nil, admincmd.KindMismatch(op, string(kind), arg, "workspace")
		}
		ns.path = n.FullPath
		for _, m := range n.Memberships {
			list = append(list, m.MembershipDetail)
		}
	default:
		return nil, admincmd.KindMismatch(op, string(kind), arg, deref((*resp.Node).GetTypename()))
	}
	for i := range list {
		ns.memberships = append(ns.memberships, fromGQL(&list[i], ns.path))
	}
	sortMemberships(ns.memberships)
	return &ns, nil
}

// sortMemberships orders memberships from the top group down, then by
// member type and name.
func sortMemberships(ms []Membership) {
	slices.SortStableFunc(ms, func(a, b Membership) int {
		if c := strings.Count(a.NamespacePath, "/") - strings.Count(b.NamespacePath, "/"); c != 0 {
			return c
		}
		if c := strings.Compare(a.MemberType, b.MemberType); c != 0 {
			return c
		}
		return strings.Compare(a.Member, b.Member)
	})
}

// find returns the principal's membership set on the namespace itself and,
// failing that, one it inherits.
func (ns *namespace) find(p resolved) (own, inherited *Membership) {
	for i := range ns.memberships {
		m := &ns.memberships[i]
		if !p.matches(*m) {
			continue
		}
		if !m.Inherited {
			return m, nil
		}
		if inherited == nil {
			inherited = m
		}
	}
	return nil, inherited
}

// target is the membership an update or remove acts on, and where it is.
type target struct {
	m         Membership
	namespace string
}

// findTarget resolves the argument of update-membership and
// remove-membership: a namespace with a member flag, or a membership ID.
// found is false (with a nil error) when the member has no membership
// there at all.
func findTarget(ctx context.Context, client *api.Client, kind Kind, arg string, p *principal, op string) (t target, found bool, err error) {
	if !p.given() {
		s := strings.TrimSpace(arg)
		if !api.IsGID(s) && !api.IsTRN(s) {
			return t, false, cmdutil.UsageErrorf("%q is not a membership ID: give the %s with --user, --service-account or --team, or the membership's ID (from list-memberships)", arg, kind)
		}
		resp, err := gql.GetMembership(ctx, client.GraphQL(), s)
		if err != nil {
			return t, false, api.WithOp(err, op)
		}
		m, ok := nodeMembership(resp)
		if !ok {
			return t, false, admincmd.NotFound(op, "membership", arg)
		}
		mm := fromGQL(m, "")
		return target{m: mm, namespace: mm.NamespacePath}, true, nil
	}
	ns, err := fetchNamespace(ctx, client, kind, arg, op)
	if err != nil {
		return t, false, err
	}
	who, err := p.resolve(ctx, client)
	if err != nil {
		return t, false, err
	}
	own, inherited := ns.find(who)
	switch {
	case own != nil:
		return target{m: *own, namespace: ns.path}, true, nil
	case inherited != nil:
		return t, false, &api.Error{
			Kind: api.KindConflict, Op: op, Code: "CONFLICT",
			Message: fmt.Sprintf("%s has no membership on %s %s itself: its %s role comes from group %s", who, kind, ns.path, inherited.Role, inherited.NamespacePath),
			Hint:    fmt.Sprintf("Change it where it is set: tharsis group %s %s %s", strings.Fields(op)[0]+"-membership", inherited.NamespacePath, flagFor(who)),
		}
	}
	return target{namespace: ns.path, m: Membership{MemberType: who.memberType, Member: who.name}}, false, nil
}

func nodeMembership(resp *gql.GetMembershipResponse) (*gql.MembershipDetail, bool) {
	if resp.Node == nil || *resp.Node == nil {
		return nil, false
	}
	m, ok := (*resp.Node).(*gql.GetMembershipNodeNamespaceMembership)
	if !ok {
		return nil, false
	}
	return &m.MembershipDetail, true
}

// flagFor is the flag that names the principal on a command line.
func flagFor(r resolved) string {
	switch r.memberType {
	case MemberUser:
		return "--user " + r.name
	case MemberTeam:
		return "--team " + r.name
	}
	return "--service-account " + r.name
}

// roleFlag is --role with the reference CLI's --role-id.
func roleFlag(fs *pflag.FlagSet, role *string) {
	fs.StringVar(role, "role", "", "Role name: owner, deployer, viewer, publisher or a custom role")
	admincmd.Alias(fs, "role", "role-id", "")
}

func completeRoles(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("role", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"owner", "deployer", "viewer", "publisher"}, cobra.ShellCompDirectiveNoFileComp
	})
}

func deref[T any](p *T) T {
	var zero T
	if p != nil {
		return *p
	}
	return zero
}
