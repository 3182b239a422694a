package membership

import (
	"strings"
	"testing"
)

func TestMatches(t *testing.T) {
	sa := Membership{MemberType: MemberServiceAccount, Member: "ops/ci", MemberID: "U0FfOGQ4ZjY4ZTAtNmJjZS00N2JhLWE5ZjQtN2VhNmUwMmQ3ZGIx"}
	user := Membership{MemberType: MemberUser, Member: "alice"}
	tests := []struct {
		p    resolved
		m    Membership
		want bool
	}{
		{resolved{memberType: MemberServiceAccount, name: "ops/ci"}, sa, true},
		{resolved{memberType: MemberServiceAccount, name: "/ops/ci/"}, sa, true},
		{resolved{memberType: MemberServiceAccount, name: "trn:service_account:ops/ci"}, sa, true},
		{resolved{memberType: MemberServiceAccount, name: sa.MemberID}, sa, true},
		{resolved{memberType: MemberServiceAccount, name: "ops/other"}, sa, false},
		{resolved{memberType: MemberUser, name: "ops/ci"}, sa, false},
		{resolved{memberType: MemberUser, name: "alice"}, user, true},
		{resolved{memberType: MemberTeam, name: "alice"}, user, false},
	}
	for _, tt := range tests {
		if got := tt.p.matches(tt.m); got != tt.want {
			t.Errorf("%+v matches %+v = %v", tt.p, tt.m, got)
		}
	}
}

func TestSortAndFind(t *testing.T) {
	ms := []Membership{
		{NamespacePath: "a/b", MemberType: MemberUser, Member: "zed"},
		{NamespacePath: "a", MemberType: MemberUser, Member: "bob", Inherited: true, Role: "viewer"},
		{NamespacePath: "a/b", MemberType: MemberServiceAccount, Member: "a/ci"},
		{NamespacePath: "a", MemberType: MemberUser, Member: "amy", Inherited: true},
		{NamespacePath: "a/b", MemberType: MemberUser, Member: "bob", Role: "owner"},
	}
	sortMemberships(ms)
	var got []string
	for _, m := range ms {
		got = append(got, m.NamespacePath+":"+m.Member)
	}
	if strings.Join(got, " ") != "a:amy a:bob a/b:a/ci a/b:bob a/b:zed" {
		t.Errorf("order = %v", got)
	}
	ns := &namespace{path: "a/b", memberships: ms}
	if own, inh := ns.find(resolved{memberType: MemberUser, name: "bob"}); own == nil || own.Role != "owner" || inh != nil {
		t.Errorf("bob: %+v %+v", own, inh)
	}
	if own, inh := ns.find(resolved{memberType: MemberUser, name: "amy"}); own != nil || inh == nil || inh.NamespacePath != "a" {
		t.Errorf("amy: %+v %+v", own, inh)
	}
	if own, inh := ns.find(resolved{memberType: MemberUser, name: "nobody"}); own != nil || inh != nil {
		t.Error("nobody found")
	}
}

func TestPrincipalCheck(t *testing.T) {
	for _, tt := range []struct {
		p    principal
		need bool
		ok   bool
	}{
		{principal{user: "a"}, true, true},
		{principal{}, true, false},
		{principal{}, false, true},
		{principal{user: "a", team: "b"}, false, false},
	} {
		if err := tt.p.check(tt.need); (err == nil) != tt.ok {
			t.Errorf("%+v need=%v: %v", tt.p, tt.need, err)
		}
	}
}
