package sandbox

import (
	"encoding/base64"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// GID type codes of the real API (§5 of the contract).
const (
	gidWorkspace      = "W"
	gidGroup          = "G"
	gidRun            = "R"
	gidPlan           = "P"
	gidApply          = "A"
	gidJob            = "J"
	gidConfigVersion  = "C"
	gidStateVersion   = "SV"
	gidStateOutput    = "SO"
	gidServiceAccount = "SA"
	gidRunner         = "RNR"
	gidRunnerSession  = "RS"
	gidUser           = "U"
	gidTeam           = "T"
	gidVariable       = "V"
	gidVariableVer    = "VV"
	gidMembership     = "NM"
	gidRole           = "RL"
)

func newID() string { return uuid.NewString() }

// toGID encodes a model id as the API's global id.
func toGID(typeCode, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typeCode + "_" + id))
}

var gidCodeRE = regexp.MustCompile(`^[A-Z]{1,5}$`)

// parseGID decodes a global id into its type code and model id.
func parseGID(s string) (typeCode, id string, err error) {
	raw, decErr := base64.RawURLEncoding.DecodeString(s)
	if decErr != nil {
		return "", "", errInvalid("invalid identifier format: value %q is neither a valid TRN nor GID", s)
	}
	code, rest, ok := strings.Cut(string(raw), "_")
	if !ok || !gidCodeRE.MatchString(code) {
		return "", "", errInvalid("invalid identifier format: value %q is neither a valid TRN nor GID", s)
	}
	if _, uerr := uuid.Parse(rest); uerr != nil {
		return "", "", errInvalid("invalid identifier format: value %q is neither a valid TRN nor GID", s)
	}
	return code, rest, nil
}

// trn is a parsed Tharsis resource name, trn:<type>:<path>.
type trn struct {
	typ  string
	path string
}

func (t trn) String() string { return "trn:" + t.typ + ":" + t.path }

func makeTRN(typ, path string) string { return "trn:" + typ + ":" + path }

func parseTRN(s string) (trn, bool, error) {
	if !strings.HasPrefix(s, "trn:") {
		return trn{}, false, nil
	}
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[1] == "" {
		return trn{}, true, errInvalid("not a valid TRN: %q", s)
	}
	p := parts[2]
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return trn{}, true, errInvalid("not a valid TRN: resource path cannot be empty or start or end with '/': %q", s)
	}
	return trn{typ: parts[1], path: p}, true, nil
}

// ref is an identifier given as an argument: either a GID or a TRN.
type ref struct {
	gidCode string
	id      string
	trn     trn
	isTRN   bool
}

// parseRef accepts a GID or a TRN; a bare path is rejected, like the real API.
func parseRef(s string) (ref, error) {
	t, isTRN, err := parseTRN(s)
	if err != nil {
		return ref{}, err
	}
	if isTRN {
		return ref{trn: t, isTRN: true}, nil
	}
	c, id, err := parseGID(s)
	if err != nil {
		return ref{}, err
	}
	return ref{gidCode: c, id: id}, nil
}

// splitLast splits "a/b/c" into "a/b" and "c".
func splitLast(p string) (string, string) {
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

var nameRE = regexp.MustCompile(`^[0-9a-z](?:[0-9a-z\-_]{0,62}[0-9a-z])?$`)

func validateName(name string) error {
	if !nameRE.MatchString(name) {
		return errInvalid("Invalid name, name can only include lowercase letters and numbers with - and _ supported in non leading and trailing positions. Max length is 64 characters")
	}
	return nil
}

func validateDescription(d string) error {
	if len([]rune(d)) > 100 {
		return errInvalid("invalid description, cannot be greater than 100 characters")
	}
	return nil
}
