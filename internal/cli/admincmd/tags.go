package admincmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
)

// RunnerTags are a namespace's effective runner tags in JSON: jobs of its
// workspaces only go to runner agents that have all of them.
type RunnerTags struct {
	Tags      []string `json:"tags"`
	Inherited bool     `json:"inherited"`
	// NamespacePath is where the tags are set (a parent group when
	// inherited).
	NamespacePath string `json:"namespace_path"`
}

// NewRunnerTags copies the API's value.
func NewRunnerTags(inherited bool, from string, tags []string) RunnerTags {
	if tags == nil {
		tags = []string{}
	}
	return RunnerTags{Tags: tags, Inherited: inherited, NamespacePath: from}
}

// String renders the tags for people.
func (r RunnerTags) String() string {
	s := "none"
	if len(r.Tags) > 0 {
		s = strings.Join(r.Tags, ", ")
	}
	if r.Inherited && r.NamespacePath != "" {
		s += " (inherited from " + r.NamespacePath + ")"
	}
	return s
}

// RunnerTagFlags are --runner-tag and --inherit-runner-tags.
type RunnerTagFlags struct {
	Tags    []string
	Inherit bool
	clear   bool
}

// Register adds the flags to cmd; withClear adds --clear-runner-tags (for
// updates).
func (r *RunnerTagFlags) Register(cmd *cobra.Command, withClear bool) {
	fs := cmd.Flags()
	fs.StringSliceVar(&r.Tags, "runner-tag", nil, "Runner tag for the jobs of this namespace (repeatable, or comma-separated); replaces inherited tags")
	fs.BoolVar(&r.Inherit, "inherit-runner-tags", false, "Use the parent group's runner tags")
	if withClear {
		fs.BoolVar(&r.clear, "clear-runner-tags", false, "Set no runner tags here (and do not inherit any)")
	}
	cmd.MarkFlagsMutuallyExclusive("runner-tag", "inherit-runner-tags")
	if withClear {
		cmd.MarkFlagsMutuallyExclusive("runner-tag", "clear-runner-tags")
		cmd.MarkFlagsMutuallyExclusive("inherit-runner-tags", "clear-runner-tags")
	}
}

// Input returns the API input, or nil when no flag was given.
func (r *RunnerTagFlags) Input() (*gql.NamespaceRunnerTagsInput, error) {
	for _, t := range r.Tags {
		if strings.TrimSpace(t) == "" {
			return nil, cmdutil.UsageErrorf("invalid --runner-tag %q: a tag cannot be empty", t)
		}
	}
	switch {
	case r.Inherit:
		return &gql.NamespaceRunnerTagsInput{Inherit: true}, nil
	case r.clear:
		return &gql.NamespaceRunnerTagsInput{Inherit: false, Tags: []string{}}, nil
	case len(r.Tags) > 0:
		return &gql.NamespaceRunnerTagsInput{Inherit: false, Tags: r.Tags}, nil
	}
	return nil, nil
}

// Given reports whether any runner tag flag was given.
func (r *RunnerTagFlags) Given() bool { return r.Inherit || r.clear || len(r.Tags) > 0 }

// ParseKeyValue splits "key=value" for flags such as --label.
func ParseKeyValue(flag, s string) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return "", "", cmdutil.UsageErrorf("invalid --%s %q: expected key=value", flag, s)
	}
	return k, v, nil
}

// Plural returns "1 workspace" or "2 workspaces".
func Plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
