// Package admincmd holds what the administration nouns share (workspace,
// group, runner-agent, service-account, their memberships and admin-mode):
// paging flags and list output, key/value blocks for `get`, flag aliases
// for the reference CLI's names, delete confirmation and error advice.
package admincmd

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
)

// jsonFlag is the hidden --json flag: the reference CLI's -json, kept as an
// alias of -o json.
type jsonFlag struct{ g *cmdutil.GlobalOptions }

func (j jsonFlag) String() string   { return strconv.FormatBool(j.g.Output == cmdutil.OutputJSON) }
func (j jsonFlag) Type() string     { return "bool" }
func (j jsonFlag) IsBoolFlag() bool { return true }
func (j jsonFlag) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	if b {
		j.g.Output = cmdutil.OutputJSON
	}
	return nil
}

// AddJSONFlag adds the hidden --json alias of -o json to cmd.
func AddJSONFlag(cmd *cobra.Command, f *cmdutil.Factory) {
	fl := cmd.Flags().VarPF(jsonFlag{f.Global}, "json", "", "Same as -o json")
	fl.NoOptDefVal = "true"
	fl.Hidden = true
}

// Alias registers alias as another name of the existing flag name (they
// share one value). With a deprecation message the alias is hidden and
// warns when used; without one it is only hidden (a reference CLI name that
// keeps working).
func Alias(fs *pflag.FlagSet, name, alias, deprecated string) {
	orig := fs.Lookup(name)
	if orig == nil {
		panic("admincmd.Alias: no flag " + name)
	}
	a := &pflag.Flag{Name: alias, Usage: orig.Usage, Value: orig.Value, DefValue: orig.DefValue, NoOptDefVal: orig.NoOptDefVal}
	fs.AddFlag(a)
	if deprecated != "" {
		Deprecate(fs, alias, deprecated)
	}
	a.Hidden = true
}

// Deprecate marks a flag deprecated: it is hidden, and using it prints a
// warning on stderr (the root command does). pflag's own notice is
// dropped: cobra would print it on stdout, into the command's output.
func Deprecate(fs *pflag.FlagSet, name, msg string) {
	fs.Lookup(name).Deprecated = msg
	fs.SetOutput(io.Discard)
}

// OptBool is a boolean flag that remembers whether it was given, for
// updates where "not given" means "leave as is". It works through aliases,
// unlike FlagSet.Changed.
type OptBool struct {
	Given bool
	Value bool
}

func (o *OptBool) String() string   { return strconv.FormatBool(o.Value) }
func (o *OptBool) Type() string     { return "bool" }
func (o *OptBool) IsBoolFlag() bool { return true }

// Set parses a boolean.
func (o *OptBool) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	o.Given, o.Value = true, b
	return nil
}

// Ptr returns the value when it was given, else nil.
func (o *OptBool) Ptr() *bool {
	if !o.Given {
		return nil
	}
	v := o.Value
	return &v
}

// BoolVar adds an OptBool flag.
func BoolVar(fs *pflag.FlagSet, o *OptBool, name, usage string) {
	fs.VarPF(o, name, "", usage).NoOptDefVal = "true"
}

// OptString is a string flag that remembers whether it was given.
type OptString struct {
	Given bool
	Value string
}

func (o *OptString) String() string { return o.Value }
func (o *OptString) Type() string   { return "string" }

// Set stores s.
func (o *OptString) Set(s string) error {
	o.Given, o.Value = true, s
	return nil
}

// Ptr returns the value when it was given, else nil.
func (o *OptString) Ptr() *string {
	if !o.Given {
		return nil
	}
	v := o.Value
	return &v
}

// SortFlag adds --sort (and the reference CLI's --sort-by) restricted to
// the API's sort values, matched case-insensitively.
func SortFlag(cmd *cobra.Command, target *string, def string, allowed []string) {
	cmdutil.EnumFlag(cmd, cmd.Flags(), target, "sort", "", def, allowed, "Sort order")
	Alias(cmd.Flags(), "sort", "sort-by", "")
}

// Version parses the --version flag of updates and deletes (the
// resource's metadata version, for optimistic locking); "" means none.
func Version(s string) (*string, error) {
	if s == "" {
		return nil, nil
	}
	if _, err := strconv.ParseUint(s, 10, 64); err != nil {
		return nil, cmdutil.UsageErrorf("invalid --version %q: expected the resource's version number (see its 'get' output)", s)
	}
	return &s, nil
}

// Role advice. Roles nest: owner can do what deployer can, which can do
// what viewer can.
const (
	RoleOwner    = "owner"
	RoleDeployer = "deployer"
	RoleViewer   = "viewer"
)

// Explain adds advice to an API error for a command that needs role on the
// group groupPath: a FORBIDDEN error names the role and how to get it, and
// errors about admin mode say how to turn it on. Other errors are returned
// unchanged.
func Explain(err error, role, groupPath string) error {
	return ExplainIn(err, role, "group", groupPath)
}

// ExplainWorkspace is Explain for a command that needs role on a workspace.
func ExplainWorkspace(err error, role, workspacePath string) error {
	return ExplainIn(err, role, "workspace", workspacePath)
}

// ExplainIn is Explain for a namespace of the kind ("group" or
// "workspace").
func ExplainIn(err error, role, kind, nsPath string) error {
	var ae *api.Error
	if err == nil || !errors.As(err, &ae) {
		return err
	}
	msg := strings.ToLower(ae.Message)
	c := *ae
	switch {
	case strings.Contains(msg, "admin mode activated"):
		c.Hint = "Tharsis administrators must turn on admin mode for this: run 'tharsis admin-mode activate' (it lasts 30 minutes unless --duration says otherwise)."
	case strings.Contains(msg, "only admins"):
		c.Hint = "Only Tharsis administrators can do this."
	case strings.Contains(msg, "only users are allowed") || strings.Contains(msg, "unsupported caller type"):
		c.Hint = "Service accounts cannot do this: log in as a user ('tharsis sso login') instead."
	case ae.Kind == api.KindForbidden && role != "":
		if nsPath == "" {
			c.Hint = fmt.Sprintf("This needs the %s role on the group or workspace (or a parent group). Ask one of its owners to grant it with 'tharsis group add-membership'.", role)
			break
		}
		c.Hint = fmt.Sprintf("This needs the %s role on %s (or on a parent group). Ask an owner to grant it, e.g.\n"+
			"tharsis %s add-membership %s --user <username> --role %s", role, nsPath, kind, nsPath, role)
	default:
		return err
	}
	return &c
}

// NotFound is the error for a lookup that found nothing: what ("workspace")
// and the identifier the user gave.
func NotFound(op, what, given string) error {
	return &api.Error{
		Kind:    api.KindNotFound,
		Op:      op,
		Message: fmt.Sprintf("%s %q not found", what, given),
		Hint:    "Check the path or ID, and that you are a member of the group that holds it: Tharsis reports what you may not view as not found.",
		Code:    "NOT_FOUND",
	}
}

// KindMismatch is the error for an identifier that names another kind of
// resource (a workspace path given to a group command).
func KindMismatch(op, want, given, got string) error {
	return &api.Error{
		Kind:    api.KindNotFound,
		Op:      op,
		Message: fmt.Sprintf("%q is a %s, not a %s", given, humanType(got), want),
		Code:    "NOT_FOUND",
	}
}

func humanType(typename string) string {
	switch typename {
	case "ServiceAccount":
		return "service account"
	case "NamespaceMembership":
		return "membership"
	case "Runner":
		return "runner agent"
	}
	return strings.ToLower(typename)
}

// SplitPath splits "a/b/c" into its parent "a/b" and name "c".
func SplitPath(p string) (parent, name string) {
	p = strings.Trim(strings.TrimSpace(p), "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}

// PathOf returns the path inside a TRN ("trn:group:a/b" -> "a/b"), or s
// itself for anything else.
func PathOf(s string) string {
	if _, p, err := api.ParseTRN(s); err == nil {
		return p
	}
	return strings.Trim(strings.TrimSpace(s), "/")
}
