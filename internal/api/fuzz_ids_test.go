package api

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// FuzzParseTRN: a TRN that parses is exactly "trn:" + type + ":" + path,
// with a type of lower-case letters and underscores and a path that is
// neither empty nor starts or ends with "/"; NormalizeID keeps it as it
// is. Anything else is refused with a message, never a panic.
func FuzzParseTRN(f *testing.F) {
	for _, s := range []string{"trn:workspace:a/b", "trn:run:x", "trn:service_account:g/sa", "trn::a", "trn:x:", "trn:x:/a", "trn:x:a/",
		"trn:Work:a", "trn:x", "trn:", "TRN:x:a", "a/b", "", "trn:x:a:b", "trn:x:🚀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, path, err := ParseTRN(s)
		if err != nil {
			if err.Error() == "" || typ != "" || path != "" {
				t.Fatalf("ParseTRN(%q) = %q, %q, %v", s, typ, path, err)
			}
			return
		}
		if s != trnPrefix+typ+":"+path {
			t.Fatalf("ParseTRN(%q) = %q, %q: does not rebuild the input", s, typ, path)
		}
		if typ == "" || strings.Trim(typ, "abcdefghijklmnopqrstuvwxyz_") != "" {
			t.Fatalf("ParseTRN(%q): type %q", s, typ)
		}
		if path == "" || strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") {
			t.Fatalf("ParseTRN(%q): path %q", s, path)
		}
		if !IsTRN(s) || IsGID(s) {
			t.Fatalf("%q parses as a TRN but IsTRN = %v, IsGID = %v", s, IsTRN(s), IsGID(s))
		}
		if strings.TrimSpace(s) == s {
			if got := NormalizeID("workspace", s); got != s {
				t.Fatalf("NormalizeID changed the TRN %q to %q", s, got)
			}
		}
	})
}

// FuzzIsGID: a GID is the unpadded base64url encoding of "<CODE>_<uuid>"
// with CODE of 1 to 5 upper-case letters. IsGID accepts exactly those
// encodings (built here from the fuzzer's code and UUID bytes) and, for
// any string it accepts, the decoding has that form and encodes back to
// the same string.
func FuzzIsGID(f *testing.F) {
	f.Add("W", []byte("0123456789abcdef"), "V18wNDMwMjU5Ny03N2ZkLTQ5ODQtYTE2MC1iNzMzYzQ3OTY0MDU")
	f.Add("CV", []byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "X19f")
	f.Add("TOOLONG", []byte("0123456789abcdef"), "")
	f.Add("r", []byte("0123456789abcdef"), "Ul8xMjM0==")
	f.Fuzz(func(t *testing.T, code string, id []byte, s string) {
		// Constructive: a well-formed GID is recognised, and only then.
		if len(id) == 16 {
			u, _ := uuid.FromBytes(id)
			gid := base64.RawURLEncoding.EncodeToString([]byte(code + "_" + u.String()))
			valid := len(code) >= 1 && len(code) <= 5 && strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
			if IsGID(gid) != valid {
				t.Fatalf("IsGID(%q) (code %q) = %v, want %v", gid, code, IsGID(gid), valid)
			}
			if valid && NormalizeID("run", gid) != gid {
				t.Fatalf("NormalizeID changed the GID %q", gid)
			}
		}
		// Any string: what IsGID accepts has the form, canonically encoded.
		if !IsGID(s) {
			return
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || base64.RawURLEncoding.EncodeToString(b) != s {
			t.Fatalf("IsGID(%q) but it is not canonical unpadded base64url (%v)", s, err)
		}
		c, rest, ok := strings.Cut(string(b), "_")
		if !ok || len(c) < 1 || len(c) > 5 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" || uuid.Validate(rest) != nil {
			t.Fatalf("IsGID(%q) but it decodes to %q", s, b)
		}
		if IsTRN(s) {
			t.Fatalf("%q is both a GID and a TRN", s)
		}
	})
}

// FuzzNormalizeEndpoint: an accepted endpoint is an http(s) URL with a
// host and a valid port, without credentials, query, fragment or trailing
// slash, and normalising it again changes nothing.
func FuzzNormalizeEndpoint(f *testing.F) {
	for _, s := range []string{"https://tharsis.example.com", "tharsis.example.com/", "HTTP://127.0.0.1:8000/api//", " https://h ", "https:h",
		"ftp://h", "https://u:p@h", "https://h/?q", "https://h/#f", "https://h:0", "https://h:99999", "https://[::1]:443", "https://%zz",
		"//h", "https://", "http://h:80/a%2Fb/", "h:8000", "https://h/p#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := NormalizeEndpoint(s)
		if err != nil {
			if err.Error() == "" || out != "" {
				t.Fatalf("NormalizeEndpoint(%q) = %q, %v", s, out, err)
			}
			return
		}
		u, perr := url.Parse(out)
		if perr != nil {
			t.Fatalf("NormalizeEndpoint(%q) = %q, which does not parse: %v", s, out, perr)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
			strings.HasSuffix(out, "/") || strings.Contains(out, "#") {
			t.Fatalf("NormalizeEndpoint(%q) = %q", s, out)
		}
		if again, err := NormalizeEndpoint(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, out, again, err)
		}
	})
}
