package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"
)

const trnPrefix = "trn:"

// NormalizeEndpoint turns what a user typed as the API URL into the form the
// client uses: "https://" is added when there is no scheme, trailing slashes
// are removed, and the result must be an http or https URL with a host and
// without credentials, query or fragment.
func NormalizeEndpoint(s string) (string, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return "", errors.New("the API endpoint is empty: give the Tharsis API URL, e.g. https://tharsis.example.com")
	}
	raw := in
	if lower := strings.ToLower(raw); (strings.HasPrefix(lower, "http:") || strings.HasPrefix(lower, "https:")) && !strings.Contains(raw, "://") {
		return "", fmt.Errorf("invalid API endpoint %q: the scheme must be followed by //, e.g. https://tharsis.example.com", in)
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("invalid API endpoint %q: %v", in, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("invalid API endpoint %q: the scheme must be http or https, not %q", in, u.Scheme)
	case u.Opaque != "":
		return "", fmt.Errorf("invalid API endpoint %q: expected a URL such as https://tharsis.example.com", in)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("invalid API endpoint %q: the host name is missing", in)
	case u.User != nil:
		return "", fmt.Errorf("invalid API endpoint %q: remove the user name or password from the URL (log in with `tharsis sso login` or a service account instead)", in)
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("invalid API endpoint %q: the URL must not have a query string", in)
	case u.Fragment != "" || strings.Contains(in, "#"):
		return "", fmt.Errorf("invalid API endpoint %q: the URL must not have a fragment", in)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("invalid API endpoint %q: port %s is not valid (1-65535)", in, p)
		}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u.String(), nil
}

// IsTRN reports whether s has the form of a Tharsis resource name
// ("trn:<type>:<path>"); like the server, it only checks the prefix, so a
// malformed TRN is passed through and rejected by the server with its own
// message.
func IsTRN(s string) bool { return strings.HasPrefix(s, trnPrefix) }

// IsGID reports whether s is a Tharsis global ID: the unpadded base64url
// encoding of "<CODE>_<uuid>", where CODE is 1 to 5 upper-case letters.
func IsGID(s string) bool {
	if s == "" {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return false
	}
	code, id, ok := strings.Cut(string(b), "_")
	if !ok || len(code) < 1 || len(code) > 5 {
		return false
	}
	for _, r := range code {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return uuid.Validate(id) == nil
}

// ParseTRN splits a TRN into its resource type and path, applying the
// server's rules: the type is lower-case letters and underscores, the path is
// non-empty and neither starts nor ends with "/".
func ParseTRN(s string) (resourceType, path string, err error) {
	if !IsTRN(s) {
		return "", "", fmt.Errorf("%q is not a TRN: a TRN looks like trn:<type>:<path>", s)
	}
	typ, p, ok := strings.Cut(s[len(trnPrefix):], ":")
	if !ok {
		return "", "", fmt.Errorf("invalid TRN %q: expected trn:<type>:<path>", s)
	}
	if typ == "" {
		return "", "", fmt.Errorf("invalid TRN %q: the resource type is missing", s)
	}
	for _, r := range typ {
		if (r < 'a' || r > 'z') && r != '_' {
			return "", "", fmt.Errorf("invalid TRN %q: resource type %q may contain only lower-case letters and underscores", s, typ)
		}
	}
	if p == "" {
		return "", "", fmt.Errorf("invalid TRN %q: the resource path is empty", s)
	}
	if strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return "", "", fmt.Errorf("invalid TRN %q: the resource path must not start or end with /", s)
	}
	return typ, p, nil
}

// NormalizeID converts what a user gave for a resource (a path, a TRN or a
// GID) into an identifier every "…Id" argument accepts: TRNs and GIDs are
// returned unchanged and a path becomes "trn:<resourceType>:<path>" with
// surrounding slashes and spaces trimmed. An input that is empty after
// trimming yields "", so callers can reject it with their own message.
//
// Unlike the reference CLI, a GID is recognised strictly (code and UUID are
// checked), so a name such as "X19f" is never mistaken for one.
func NormalizeID(resourceType, input string) string {
	s := strings.TrimSpace(input)
	if IsTRN(s) || IsGID(s) {
		return s
	}
	s = trimPath(s)
	if s == "" {
		return ""
	}
	return trnPrefix + resourceType + ":" + s
}

// trimPath removes surrounding slashes and white space.
func trimPath(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r == '/' || unicode.IsSpace(r) })
}
