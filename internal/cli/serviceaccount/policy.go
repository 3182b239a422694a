package serviceaccount

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// TrustPolicy is an OIDC trust policy: tokens from Issuer whose claims
// match BoundClaims (exactly, or as glob patterns) may log in as the
// service account.
type TrustPolicy struct {
	Issuer          string            `json:"issuer"`
	BoundClaimsType string            `json:"bound_claims_type"` // STRING or GLOB
	BoundClaims     map[string]string `json:"bound_claims"`
	// order keeps the claims as given, for the API.
	order []string
}

// PolicyDoc documents --oidc-trust-policy.
const PolicyDoc = `--oidc-trust-policy takes comma-separated key=value fields:
  issuer=URL            the token issuer, e.g. https://gitlab.example.com (required)
  bound-claim=NAME=VAL  a claim the token must have (repeatable, at least one);
                        quote a field that holds a comma: "bound-claim=aud=a,b"
  claims-type=string|glob  how values match: exactly (default) or as glob
                        patterns, where * matches any text
The reference CLI's JSON form works too:
  {"issuer": "URL", "bound_claims_type": "GLOB", "bound_claims": {"sub": "repo:org/*"}}`

// parsePolicy reads one --oidc-trust-policy value. warnings are hints that
// do not stop the command.
func parsePolicy(s string) (p TrustPolicy, warnings []string, err error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		p, err = parsePolicyJSON(s)
	} else {
		p, err = parsePolicyFields(s)
	}
	if err != nil {
		return TrustPolicy{}, nil, fmt.Errorf("invalid --oidc-trust-policy %q: %w", s, err)
	}
	if err := p.validate(); err != nil {
		return TrustPolicy{}, nil, fmt.Errorf("invalid --oidc-trust-policy %q: %w", s, err)
	}
	if p.BoundClaimsType == string(gql.BoundClaimsTypeString) {
		for _, name := range p.order {
			if strings.Contains(p.BoundClaims[name], "*") {
				warnings = append(warnings, fmt.Sprintf("claim %s of the policy for %s contains *, which matches only a literal * unless the policy has claims-type=glob", name, p.Issuer))
			}
		}
	}
	return p, warnings, nil
}

func parsePolicyFields(s string) (TrustPolicy, error) {
	r := csv.NewReader(strings.NewReader(s))
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return TrustPolicy{}, fmt.Errorf("cannot split it into fields: %v", err)
	}
	if _, err := r.Read(); err == nil {
		return TrustPolicy{}, errors.New("it spans several lines")
	}
	p := TrustPolicy{BoundClaimsType: string(gql.BoundClaimsTypeString), BoundClaims: map[string]string{}}
	for _, f := range fields {
		if strings.TrimSpace(f) == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return TrustPolicy{}, fmt.Errorf("field %q is not key=value", f)
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "issuer":
			if p.Issuer != "" {
				return TrustPolicy{}, errors.New("issuer is given twice (use one --oidc-trust-policy per issuer)")
			}
			p.Issuer = strings.TrimSpace(v)
		case "bound-claim", "bound_claim", "claim":
			name, val, ok := strings.Cut(v, "=")
			if !ok {
				return TrustPolicy{}, fmt.Errorf("bound-claim %q is not NAME=VALUE", v)
			}
			if err := p.addClaim(strings.TrimSpace(name), val); err != nil {
				return TrustPolicy{}, err
			}
		case "claims-type", "claims_type", "bound-claims-type", "bound_claims_type", "type":
			t, err := claimsType(v)
			if err != nil {
				return TrustPolicy{}, err
			}
			p.BoundClaimsType = t
		default:
			return TrustPolicy{}, fmt.Errorf("unknown field %q (expected issuer, bound-claim or claims-type)", k)
		}
	}
	return p, nil
}

// parsePolicyJSON reads the reference CLI's form (snake_case, claims as a
// map) and the API's (camelCase, claims as a list of {name, value}).
func parsePolicyJSON(s string) (TrustPolicy, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&raw); err != nil {
		return TrustPolicy{}, fmt.Errorf("bad JSON: %v", err)
	}
	if dec.More() {
		return TrustPolicy{}, errors.New("bad JSON: text after the object")
	}
	p := TrustPolicy{BoundClaimsType: string(gql.BoundClaimsTypeString), BoundClaims: map[string]string{}}
	for k, v := range raw {
		switch k {
		case "issuer":
			if err := json.Unmarshal(v, &p.Issuer); err != nil {
				return TrustPolicy{}, errors.New("issuer must be a string")
			}
		case "bound_claims_type", "boundClaimsType":
			var t string
			if err := json.Unmarshal(v, &t); err != nil {
				return TrustPolicy{}, fmt.Errorf("%s must be a string", k)
			}
			ct, err := claimsType(t)
			if err != nil {
				return TrustPolicy{}, err
			}
			p.BoundClaimsType = ct
		case "bound_claims", "boundClaims":
			var m map[string]string
			var list []struct{ Name, Value string }
			switch {
			case json.Unmarshal(v, &m) == nil:
				names := make([]string, 0, len(m))
				for n := range m {
					names = append(names, n)
				}
				slices.Sort(names)
				for _, n := range names {
					if err := p.addClaim(n, m[n]); err != nil {
						return TrustPolicy{}, err
					}
				}
			case json.Unmarshal(v, &list) == nil:
				for _, c := range list {
					if err := p.addClaim(c.Name, c.Value); err != nil {
						return TrustPolicy{}, err
					}
				}
			default:
				return TrustPolicy{}, fmt.Errorf("%s must map claim names to values", k)
			}
		default:
			return TrustPolicy{}, fmt.Errorf("unknown field %q (expected issuer, bound_claims and bound_claims_type)", k)
		}
	}
	return p, nil
}

func claimsType(s string) (string, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "STRING", "EXACT":
		return string(gql.BoundClaimsTypeString), nil
	case "GLOB":
		return string(gql.BoundClaimsTypeGlob), nil
	}
	return "", fmt.Errorf("claims type %q: expected string or glob", s)
}

func (p *TrustPolicy) addClaim(name, value string) error {
	if name == "" || strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return fmt.Errorf("claim name %q is empty or has spaces", name)
	}
	if _, dup := p.BoundClaims[name]; dup {
		return fmt.Errorf("claim %s is given twice", name)
	}
	if p.BoundClaims == nil {
		p.BoundClaims = map[string]string{}
	}
	p.BoundClaims[name] = value
	p.order = append(p.order, name)
	return nil
}

func (p *TrustPolicy) validate() error {
	if p.Issuer == "" {
		return errors.New("issuer is missing")
	}
	u, err := url.Parse(p.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("issuer %q is not an http(s) URL", p.Issuer)
	}
	if len(p.BoundClaims) == 0 {
		return errors.New("no bound-claim: a policy needs at least one claim to match, such as bound-claim=sub=VALUE")
	}
	return nil
}

// input converts a policy for the API.
func (p TrustPolicy) input() gql.OIDCTrustPolicyInput {
	t := gql.BoundClaimsType(p.BoundClaimsType)
	in := gql.OIDCTrustPolicyInput{Issuer: p.Issuer, BoundClaimsType: &t, BoundClaims: []gql.JWTClaimInput{}}
	order := p.order
	if len(order) != len(p.BoundClaims) {
		order = slices.Sorted(func(yield func(string) bool) {
			for k := range p.BoundClaims {
				if !yield(k) {
					return
				}
			}
		})
	}
	for _, n := range order {
		in.BoundClaims = append(in.BoundClaims, gql.JWTClaimInput{Name: n, Value: p.BoundClaims[n]})
	}
	return in
}

// policiesFromGQL converts the API's policies.
func policiesFromGQL(ps []gql.ServiceAccountDetailOidcTrustPoliciesOIDCTrustPolicy) []TrustPolicy {
	out := []TrustPolicy{}
	for _, p := range ps {
		tp := TrustPolicy{Issuer: p.Issuer, BoundClaimsType: string(p.BoundClaimsType), BoundClaims: map[string]string{}}
		for _, c := range p.BoundClaims {
			tp.BoundClaims[c.Name] = c.Value
			tp.order = append(tp.order, c.Name)
		}
		out = append(out, tp)
	}
	return out
}

// String renders a policy on one line, in the flag's syntax.
func (p TrustPolicy) String() string {
	parts := []string{"issuer=" + p.Issuer}
	order := p.order
	if len(order) != len(p.BoundClaims) {
		order = nil
		for k := range p.BoundClaims {
			order = append(order, k)
		}
		slices.Sort(order)
	}
	for _, n := range order {
		parts = append(parts, "bound-claim="+n+"="+p.BoundClaims[n])
	}
	parts = append(parts, "claims-type="+strings.ToLower(p.BoundClaimsType))
	return strings.Join(parts, ",")
}

// parseExpiry reads --client-secret-expires: a duration from now ("30d",
// "720h") or a date or time ("2026-12-31", RFC 3339).
func parseExpiry(s string, now time.Time) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && fmt.Sprint(days) == n && days > 0 {
			t := now.Add(time.Duration(days) * 24 * time.Hour)
			return &t, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		t := now.Add(d)
		return &t, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return &t, nil
		}
	}
	return nil, fmt.Errorf("invalid --client-secret-expires %q: give a duration (30d, 720h) or a date (2026-12-31)", s)
}
