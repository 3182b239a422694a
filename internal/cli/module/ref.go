package module

import (
	"fmt"
	"strings"

	goversion "github.com/hashicorp/go-version"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
)

// Identifiers. A module is named by its resource path
// "<group path>/<name>/<system>" (trn:terraform_module:<path>) or its ID; a
// module version by "<group path>/<name>/<system>/<version>"
// (trn:terraform_module_version:<path>) or its ID.

const (
	trnModule        = "terraform_module"
	trnModuleVersion = "terraform_module_version"
)

// ModuleID turns a module path, TRN or ID into an identifier for the API.
// (A source address, which ParseAddress recognises, must be looked up:
// it names the top-level group, not the module's group.)
func ModuleID(arg string) (string, error) {
	s := strings.TrimSpace(arg)
	if s == "" {
		return "", cmdutil.UsageErrorf("the module is empty: give its path (group/name/system), TRN or ID")
	}
	if api.IsGID(s) || api.IsTRN(s) {
		return s, nil
	}
	p := strings.Trim(s, "/")
	if len(strings.Split(p, "/")) < 3 || strings.Contains(p, "//") {
		return "", cmdutil.UsageErrorf("invalid module %q: expected <group>/<name>/<system> (e.g. ops/vpc/aws), a trn:%s:... TRN or an ID", arg, trnModule)
	}
	return api.NormalizeID(trnModule, p), nil
}

// VersionID turns a module version path ("<group>/<name>/<system>/<version>"),
// TRN or ID into an identifier for the API. The version may be written
// with a leading "v", as the API stores it without.
func VersionID(arg string) (string, error) {
	s := strings.TrimSpace(arg)
	if s == "" {
		return "", cmdutil.UsageErrorf("the module version is empty: give <group>/<name>/<system>/<version>, its TRN or its ID")
	}
	if api.IsGID(s) || api.IsTRN(s) {
		return s, nil
	}
	p := strings.Trim(s, "/")
	parts := strings.Split(p, "/")
	if len(parts) < 4 || strings.Contains(p, "//") {
		return "", cmdutil.UsageErrorf("invalid module version %q: expected <group>/<name>/<system>/<version> (e.g. ops/vpc/aws/1.2.0), a trn:%s:... TRN or an ID", arg, trnModuleVersion)
	}
	v, err := ParseVersion(parts[len(parts)-1])
	if err != nil {
		return "", cmdutil.UsageErrorf("invalid module version %q: %v", arg, err)
	}
	parts[len(parts)-1] = v
	return api.NormalizeID(trnModuleVersion, strings.Join(parts, "/")), nil
}

// ParseVersion checks a semantic version the way the API does (an
// optional leading "v", missing minor or patch numbers count as 0, an
// optional pre-release and build) and returns it as the API stores it:
// "v1.2" is "1.2.0".
func ParseVersion(s string) (string, error) {
	v, err := goversion.NewSemver(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("%q is not a semantic version such as 1.2.0 or 2.0.0-beta.1", s)
	}
	return v.String(), nil
}

// Address is a registry module address, <host>/<namespace>/<name>/<system>,
// as --module-source takes it. On Tharsis the namespace is the module's
// top-level group and the host is the API's host.
type Address struct {
	Host, Namespace, Name, System string
}

func (a Address) String() string {
	return a.Host + "/" + a.Namespace + "/" + a.Name + "/" + a.System
}

// ParseAddress parses a registry module address. A scheme (https://) is
// tolerated and dropped; a subdirectory ("//sub") or a version
// ("?ref=", "@") is refused, since --module-version gives the version.
func ParseAddress(s string) (Address, error) {
	in := strings.TrimSpace(s)
	rest := in
	for _, p := range []string{"https://", "http://"} {
		if len(rest) >= len(p) && strings.EqualFold(rest[:len(p)], p) {
			rest = rest[len(p):]
		}
	}
	if strings.Contains(rest, "//") {
		return Address{}, fmt.Errorf("invalid module address %q: a subdirectory (//) cannot be given for a registry module", in)
	}
	if strings.ContainsAny(rest, "?@#") {
		return Address{}, fmt.Errorf("invalid module address %q: give the version with --module-version", in)
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if len(parts) != 4 {
		return Address{}, fmt.Errorf("invalid module address %q: expected <host>/<namespace>/<name>/<system>", in)
	}
	for _, p := range parts {
		if p == "" || strings.TrimSpace(p) != p {
			return Address{}, fmt.Errorf("invalid module address %q: expected <host>/<namespace>/<name>/<system>", in)
		}
	}
	// A group name has neither dots nor colons: this tells a host from
	// the first group of a module path.
	if !strings.ContainsAny(parts[0], ".:") {
		return Address{}, fmt.Errorf("invalid module address %q: %q is not a host name (the address starts with the registry's host, e.g. tharsis.example.com)", in, parts[0])
	}
	return Address{Host: strings.ToLower(parts[0]), Namespace: parts[1], Name: parts[2], System: parts[3]}, nil
}

// splitModulePath splits "<group path>/<name>/<system>" into its parts.
func splitModulePath(p string) (group, name, system string, ok bool) {
	parts := strings.Split(strings.Trim(strings.TrimSpace(p), "/"), "/")
	if len(parts) < 3 {
		return "", "", "", false
	}
	for _, s := range parts {
		if s == "" {
			return "", "", "", false
		}
	}
	n := len(parts)
	return strings.Join(parts[:n-2], "/"), parts[n-2], parts[n-1], true
}
