package api

import (
	"encoding/base64"
	"strings"
	"testing"
)

const (
	wsUUID = "0d9e3f4a-1b2c-4d5e-8f90-123456789abc"
	// The workspace GID from tharsis-api.md §5.
	wsGID = "V18wZDllM2Y0YS0xYjJjLTRkNWUtOGY5MC0xMjM0NTY3ODlhYmM"
)

func gid(code, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(code + "_" + id))
}

func TestNormalizeEndpoint(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "https://tharsis.example.com", want: "https://tharsis.example.com"},
		{in: "https://tharsis.example.com/", want: "https://tharsis.example.com"},
		{in: "https://tharsis.example.com///", want: "https://tharsis.example.com"},
		{in: "  https://tharsis.example.com/  ", want: "https://tharsis.example.com"},
		{in: "tharsis.example.com", want: "https://tharsis.example.com"},
		{in: "localhost:8000", want: "https://localhost:8000"},
		{in: "http://127.0.0.1:8000/", want: "http://127.0.0.1:8000"},
		{in: "HTTPS://Tharsis.example.com", want: "https://Tharsis.example.com"},
		{in: "https://example.com/tharsis/api/", want: "https://example.com/tharsis/api"},
		{in: "https://[::1]:8443", want: "https://[::1]:8443"},
		{in: "", wantErr: "empty"},
		{in: "   ", wantErr: "empty"},
		{in: "ftp://example.com", wantErr: "scheme must be http or https"},
		{in: "https://", wantErr: "host name is missing"},
		{in: "https:///path", wantErr: "host name is missing"},
		{in: "https:example.com", wantErr: "followed by //"},
		{in: "http:/example.com", wantErr: "followed by //"},
		{in: "https://user:pw@example.com", wantErr: "user name or password"},
		{in: "https://example.com?x=1", wantErr: "query string"},
		{in: "https://example.com#frag", wantErr: "fragment"},
		{in: "https://example.com:0", wantErr: "port 0"},
		{in: "https://example.com:99999", wantErr: "port 99999"},
		{in: "https://exa mple.com", wantErr: "invalid API endpoint"},
		{in: "https://example.com:port", wantErr: "invalid API endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeEndpoint(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NormalizeEndpoint(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeEndpoint(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			// Normalising is idempotent.
			if again, err := NormalizeEndpoint(got); err != nil || again != got {
				t.Fatalf("NormalizeEndpoint(%q) = %q, %v; not idempotent", got, again, err)
			}
		})
	}
}

func TestIsGID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{wsGID, true},
		{gid("W", wsUUID), true},
		{gid("RNR", wsUUID), true},
		{gid("ABCDE", wsUUID), true},
		{gid("ABCDEF", wsUUID), false},  // code too long
		{gid("w", wsUUID), false},       // lower-case code
		{gid("", wsUUID), false},        // empty code
		{gid("W1", wsUUID), false},      // digit in code
		{gid("W", "not-a-uuid"), false}, // bad uuid
		{gid("W", wsUUID) + "=", false}, // padding
		{base64.StdEncoding.EncodeToString([]byte("W_" + wsUUID + "??")), false},
		{"X19f", false}, // "___": the reference CLI's false positive
		{"a/b/ws", false},
		{"trn:workspace:a/b", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsGID(tt.in); got != tt.want {
			t.Errorf("IsGID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsTRNAndParseTRN(t *testing.T) {
	tests := []struct {
		in       string
		isTRN    bool
		typ      string
		path     string
		parseErr string
	}{
		{in: "trn:workspace:a/b/ws", isTRN: true, typ: "workspace", path: "a/b/ws"},
		{in: "trn:run:a/ws/" + wsGID, isTRN: true, typ: "run", path: "a/ws/" + wsGID},
		{in: "trn:runner:shared-runner", isTRN: true, typ: "runner", path: "shared-runner"},
		{in: "trn:variable:a/b/terraform/key:with:colons", isTRN: true, typ: "variable", path: "a/b/terraform/key:with:colons"},
		{in: "trn:workspace:", isTRN: true, parseErr: "path is empty"},
		{in: "trn:workspace:/a", isTRN: true, parseErr: "must not start or end"},
		{in: "trn:workspace:a/", isTRN: true, parseErr: "must not start or end"},
		{in: "trn::a", isTRN: true, parseErr: "type is missing"},
		{in: "trn:Work-space:a", isTRN: true, parseErr: "lower-case letters"},
		{in: "trn:workspace", isTRN: true, parseErr: "expected trn:<type>:<path>"},
		{in: "a/b/ws", isTRN: false, parseErr: "not a TRN"},
		{in: "TRN:workspace:a", isTRN: false, parseErr: "not a TRN"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := IsTRN(tt.in); got != tt.isTRN {
				t.Errorf("IsTRN(%q) = %v, want %v", tt.in, got, tt.isTRN)
			}
			typ, path, err := ParseTRN(tt.in)
			if tt.parseErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.parseErr) {
					t.Fatalf("ParseTRN(%q) = %q, %q, %v; want error containing %q", tt.in, typ, path, err, tt.parseErr)
				}
				return
			}
			if err != nil || typ != tt.typ || path != tt.path {
				t.Fatalf("ParseTRN(%q) = %q, %q, %v; want %q, %q", tt.in, typ, path, err, tt.typ, tt.path)
			}
		})
	}
}

func TestNormalizeID(t *testing.T) {
	tests := []struct {
		typ, in, want string
	}{
		{"workspace", "a/b/ws", "trn:workspace:a/b/ws"},
		{"workspace", "/a/b/ws/", "trn:workspace:a/b/ws"},
		{"workspace", "  a/b/ws  ", "trn:workspace:a/b/ws"},
		{"group", "top", "trn:group:top"},
		{"workspace", "trn:workspace:a/b/ws", "trn:workspace:a/b/ws"},
		{"workspace", "trn:group:a", "trn:group:a"}, // a TRN of another type is the server's to reject
		{"workspace", wsGID, wsGID},
		{"workspace", " " + wsGID + " ", wsGID},
		{"service_account", "grp/sa", "trn:service_account:grp/sa"},
		{"runner", "X19f", "trn:runner:X19f"}, // decodes to "___" but is no GID
		{"workspace", "", ""},
		{"workspace", "///", ""},
	}
	for _, tt := range tests {
		if got := NormalizeID(tt.typ, tt.in); got != tt.want {
			t.Errorf("NormalizeID(%q, %q) = %q, want %q", tt.typ, tt.in, got, tt.want)
		}
	}
}

// FuzzNormalizeID checks the invariants of NormalizeID: it is idempotent,
// keeps TRNs and GIDs, and turns anything else into a TRN that ParseTRN
// accepts (or "" for blank input).
func FuzzNormalizeID(f *testing.F) {
	for _, s := range []string{"a/b/ws", "/a/", "trn:workspace:a", wsGID, "X19f", "", "/", " a ", "trn:", "a//b"} {
		f.Add("workspace", s)
	}
	f.Fuzz(func(t *testing.T, typ, in string) {
		if typ == "" || strings.Trim(typ, "abcdefghijklmnopqrstuvwxyz_") != "" {
			t.Skip()
		}
		got := NormalizeID(typ, in)
		if again := NormalizeID(typ, got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, got, again)
		}
		trimmed := strings.TrimSpace(in)
		switch {
		case IsTRN(trimmed) || IsGID(trimmed):
			if got != trimmed {
				t.Fatalf("NormalizeID(%q, %q) = %q; TRNs and GIDs must be unchanged", typ, in, got)
			}
		case trimPath(trimmed) == "":
			if got != "" {
				t.Fatalf("NormalizeID(%q, %q) = %q, want empty", typ, in, got)
			}
		default:
			gt, gp, err := ParseTRN(got)
			if err != nil {
				t.Fatalf("NormalizeID(%q, %q) = %q, which does not parse: %v", typ, in, got, err)
			}
			if gt != typ || gp != trimPath(trimmed) {
				t.Fatalf("NormalizeID(%q, %q) = %q: type %q path %q", typ, in, got, gt, gp)
			}
		}
	})
}
