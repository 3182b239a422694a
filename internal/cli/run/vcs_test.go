package run

import (
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

func TestMatchEvent(t *testing.T) {
	s := func(v string) *string { return &v }
	sha := strings.Repeat("ab", 20)
	events := []*gql.VCSEventFields{ // newest first, as the API lists them
		{Id: "E5", Type: "manual", SourceReferenceName: s("main")},
		{Id: "E4", Type: "branch", SourceReferenceName: s("main")},
		{Id: "E3", Type: "manual", CommitId: s(sha)},
		{Id: "E2", Type: "manual", SourceReferenceName: s("main")},
		{Id: "E1", Type: "manual", SourceReferenceName: s("main")},
	}
	for _, tc := range []struct {
		name string
		seen []string
		ref  string
		want string
	}{
		{"oldest new manual event of the reference", []string{"E1"}, "main", "E2"},
		{"webhook events do not count", []string{"E1", "E2", "E3"}, "main", "E5"},
		{"a commit matches the commit", nil, sha, "E3"},
		{"nothing new", []string{"E1", "E2", "E3", "E4", "E5"}, "main", ""},
		{"other reference", nil, "v1.0.0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			for _, id := range tc.seen {
				seen[id] = true
			}
			got := ""
			if ev := matchEvent(events, seen, tc.ref); ev != nil {
				got = ev.Id
			}
			if got != tc.want {
				t.Errorf("matchEvent = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRefText(t *testing.T) {
	l := &VCSLink{RepositoryPath: "acme/infra", Branch: "main"}
	sub := &VCSLink{RepositoryPath: "acme/infra", Branch: "main", ModuleDirectory: "net"}
	for _, tc := range []struct {
		ref  string
		link *VCSLink
		want string
	}{
		{"main", l, "branch main"},
		{"v1.2.0", l, "reference v1.2.0"},
		{strings.Repeat("0f", 20), sub, "commit " + strings.Repeat("0f", 20) + ", directory net"},
		{strings.Repeat("0F", 20), l, "commit " + strings.Repeat("0F", 20)},
		{strings.Repeat("0g", 20), l, "reference " + strings.Repeat("0g", 20)},
	} {
		if got := refText(tc.ref, tc.link); got != tc.want {
			t.Errorf("refText(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
	if got := sub.String(); got != "acme/infra, branch main, directory net" {
		t.Errorf("String() = %q", got)
	}
}
