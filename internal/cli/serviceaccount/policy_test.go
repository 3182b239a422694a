package serviceaccount

import (
	"strings"
	"testing"
	"time"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in, want string // want: String() of the policy, or "error: <part of the message>"
		warn     string
	}{
		{in: "issuer=https://gitlab.example.com,bound-claim=sub=repo:org/x:*,claims-type=glob",
			want: "issuer=https://gitlab.example.com,bound-claim=sub=repo:org/x:*,claims-type=glob"},
		{in: "issuer=https://a.example,claim=aud=x,bound-claim=ref=main",
			want: "issuer=https://a.example,bound-claim=aud=x,bound-claim=ref=main,claims-type=string"},
		{in: ` issuer=https://a.example, "bound-claim=aud=a,b", type=GLOB `,
			want: "issuer=https://a.example,bound-claim=aud=a,b,claims-type=glob"},
		{in: "issuer=https://a.example,bound-claim=sub=x*", want: "issuer=https://a.example,bound-claim=sub=x*,claims-type=string",
			warn: "claim sub of the policy for https://a.example contains *"},
		{in: "issuer=https://a.example,bound-claim=sub=", want: "issuer=https://a.example,bound-claim=sub=,claims-type=string"},
		{in: `{"issuer":"https://token.actions.githubusercontent.com","bound_claims_type":"GLOB","bound_claims":{"sub":"repo:o/*","aud":"x"}}`,
			want: "issuer=https://token.actions.githubusercontent.com,bound-claim=aud=x,bound-claim=sub=repo:o/*,claims-type=glob"},
		{in: `{"issuer":"https://i.example","boundClaims":[{"name":"b","value":"1"},{"name":"a","value":"2"}]}`,
			want: "issuer=https://i.example,bound-claim=b=1,bound-claim=a=2,claims-type=string"},
		{in: "bound-claim=sub=x", want: "error: issuer is missing"},
		{in: "issuer=https://a.example", want: "error: no bound-claim"},
		{in: "issuer=gitlab.example.com,bound-claim=sub=x", want: "error: not an http(s) URL"},
		{in: "issuer=https://a.example,bound-claim=sub", want: "error: not NAME=VALUE"},
		{in: "issuer=https://a.example,bound-claim=sub=1,bound-claim=sub=2", want: "error: claim sub is given twice"},
		{in: "issuer=https://a.example,issuer=https://b.example,bound-claim=sub=1", want: "error: issuer is given twice"},
		{in: "issuer=https://a.example,bound-claim=sub=1,claims-type=regex", want: `error: claims type "regex"`},
		{in: "issuer=https://a.example,color=red", want: `error: unknown field "color"`},
		{in: "issuer=https://a.example,oops", want: `error: field "oops" is not key=value`},
		{in: `issuer=https://a.example,"bound-claim=sub=1`, want: "error: cannot split it into fields"},
		{in: `{"issuer": 3}`, want: "error: issuer must be a string"},
		{in: `{"issuer":"https://a.example","bound_claims":{"sub":"x"}} {}`, want: "error: text after the object"},
		{in: `{"issuer":"https://a.example","bound_claims":"x"}`, want: "error: must map claim names to values"},
		{in: `{"issuer":"https://a.example","extra":1}`, want: `error: unknown field "extra"`},
		{in: "issuer=https://a.example,bound-claim= =x", want: "error: empty or has spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, warns, err := parsePolicy(tt.in)
			if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "invalid --oidc-trust-policy") {
					t.Fatalf("err = %v, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.String() != tt.want {
				t.Errorf("policy = %s\nwant     %s", p, tt.want)
			}
			if tt.warn == "" && len(warns) > 0 || tt.warn != "" && (len(warns) != 1 || !strings.Contains(warns[0], tt.warn)) {
				t.Errorf("warnings = %q", warns)
			}
			// The API input keeps the claims in the order given.
			in := p.input()
			if len(in.BoundClaims) != len(p.BoundClaims) || string(*in.BoundClaimsType) != p.BoundClaimsType || in.Issuer != p.Issuer {
				t.Errorf("input = %+v", in)
			}
		})
	}
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		"issuer=https://gitlab.example.com,bound-claim=sub=repo:org/x:*,claims-type=glob",
		`"bound-claim=a=b,c",issuer=http://x`,
		`{"issuer":"https://x","bound_claims":{"a":"b"}}`,
		`{"issuer":"https://x","boundClaims":[{"name":"a","value":"b"}]}`,
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, _, err := parsePolicy(s)
		if err != nil {
			return
		}
		// A policy that parses is complete, and its one-line form parses
		// back to the same policy when its values need no quoting.
		if p.Issuer == "" || len(p.BoundClaims) == 0 || len(p.order) != len(p.BoundClaims) {
			t.Fatalf("incomplete policy %+v from %q", p, s)
		}
		if strings.ContainsAny(p.String(), "\"\n\r") {
			return
		}
		for _, v := range p.BoundClaims {
			if strings.Contains(v, ",") {
				return
			}
		}
		q, _, err := parsePolicy(p.String())
		if err != nil || q.String() != p.String() {
			t.Fatalf("round trip of %q: %v %q", p.String(), err, q.String())
		}
	})
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Time
		err  bool
	}{
		{in: "30d", want: now.Add(30 * 24 * time.Hour)},
		{in: "36h", want: now.Add(36 * time.Hour)},
		{in: "2026-03-01", want: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{in: "2026-03-01T10:00:00+02:00", want: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)},
		{in: "0d", err: true}, {in: "-5h", err: true}, {in: "soon", err: true}, {in: "1.5d", err: true},
	} {
		got, err := parseExpiry(tt.in, now)
		if tt.err {
			if err == nil {
				t.Errorf("%q accepted", tt.in)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%q = %v, %v", tt.in, got, err)
		}
	}
	if got, err := parseExpiry("", now); got != nil || err != nil {
		t.Errorf("empty = %v %v", got, err)
	}
}
