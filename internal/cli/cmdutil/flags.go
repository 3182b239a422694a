package cmdutil

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Command groups shown in `tharsis --help`. Set cmd.GroupID to one of these
// (root.go does it for top-level commands).
const (
	GroupRuns       = "runs"
	GroupWorkspaces = "workspaces"
	GroupAdmin      = "admin"
	GroupConfig     = "config"
)

// Groups are the root's command groups, in help order.
func Groups() []*cobra.Group {
	return []*cobra.Group{
		{ID: GroupRuns, Title: "Runs:"},
		{ID: GroupWorkspaces, Title: "Workspaces & groups:"},
		{ID: GroupAdmin, Title: "Administration:"},
		{ID: GroupConfig, Title: "Configuration & auth:"},
	}
}

// EnumValue is a string flag restricted to a set of values; a wrong value is
// a usage error listing the allowed ones.
type EnumValue struct {
	target  *string
	allowed []string
}

// NewEnumValue binds target (already holding the default) to the allowed
// values. Matching is case-insensitive; the stored value is the allowed
// spelling.
func NewEnumValue(target *string, allowed ...string) *EnumValue {
	return &EnumValue{target: target, allowed: allowed}
}

func (e *EnumValue) String() string { return *e.target }
func (e *EnumValue) Type() string   { return "string" }

// Set validates and stores v.
func (e *EnumValue) Set(v string) error {
	for _, a := range e.allowed {
		if strings.EqualFold(v, a) {
			*e.target = a
			return nil
		}
	}
	return fmt.Errorf("must be one of: %s", strings.Join(e.allowed, ", "))
}

// EnumFlag adds an enum flag to fs and registers shell completion of its
// values on cmd.
func EnumFlag(cmd *cobra.Command, fs *pflag.FlagSet, target *string, name, short, def string, allowed []string, usage string) {
	*target = def
	fs.VarP(NewEnumValue(target, allowed...), name, short, fmt.Sprintf("%s: {%s}", usage, strings.Join(allowed, "|")))
	_ = cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return slices.Clone(allowed), cobra.ShellCompDirectiveNoFileComp
	})
}

// ExactArgs requires exactly len(names) arguments and names the missing
// ones: "missing argument: NAME".
func ExactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return UsageErrorf("missing argument: %s", strings.Join(names[len(args):], " "))
		case len(args) > len(names):
			return UsageErrorf("too many arguments: expected %d (%s), got %d", len(names), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// NoArgs rejects positional arguments. For a command with subcommands an
// argument is a mistyped subcommand, and the error suggests the closest ones.
func NoArgs(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return nil
	case cmd.HasAvailableSubCommands():
		return UnknownSubcommand(cmd, args[0])
	}
	return UsageErrorf("unexpected argument %q: %q takes no arguments", args[0], cmd.CommandPath())
}

// UnknownSubcommand is the usage error for `<cmd> <name>` when name is not a
// subcommand of cmd, with suggestions.
func UnknownSubcommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", strings.Join(s, `" or "`))
	}
	return UsageErrorf("%s", msg)
}

// CheckOutputText fails with a usage error when -o json was given to a command
// that only prints text.
func (f *Factory) CheckOutputText(cmd *cobra.Command) error {
	if f.JSON() {
		return UsageErrorf("%q does not support -o json", cmd.CommandPath())
	}
	return nil
}
