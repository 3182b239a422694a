package runview

import (
	"bytes"
	"testing"
)

func strip(chunks ...string) string {
	var out bytes.Buffer
	w := StripANSI(&out)
	for _, c := range chunks {
		_, _ = w.Write([]byte(c))
	}
	return out.String()
}

func TestStripANSI(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"plain text\n", "plain text\n"},
		{"\x1b[1m\x1b[32mApply complete!\x1b[0m\n", "Apply complete!\n"},
		{"a\x1b[38;5;208mb\x1b[0mc", "abc"},
		{"link \x1b]8;;https://x.example\x07text\x1b]8;;\x07 end", "link text end"},
		{"osc with st \x1b]0;title\x1b\\after", "osc with st after"},
		{"two-byte \x1bcreset", "two-byte reset"},
		{"charset \x1b(Bok", "charset ok"},
		{"ünïcødé ✓ 日本語 \x1b[31m🚀\x1b[0m", "ünïcødé ✓ 日本語 🚀"},
		{"broken \x1b[12\nnext", "broken \nnext"},
	} {
		if got := strip(tc.in); got != tc.want {
			t.Errorf("strip(%q) = %q, want %q", tc.in, got, tc.want)
		}
		// Any split into single bytes gives the same result.
		var parts []string
		for i := 0; i < len(tc.in); i++ {
			parts = append(parts, tc.in[i:i+1])
		}
		if got := strip(parts...); got != tc.want {
			t.Errorf("byte-wise strip(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzStripANSI(f *testing.F) {
	for _, s := range []string{"\x1b[1mbold\x1b[0m", "\x1b]8;;u\x07t\x1b]8;;\x07", "日本語\x1b[", "plain"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, cut int) {
		whole := strip(s)
		if cut < 0 {
			cut = -cut
		}
		if len(s) > 0 {
			cut %= len(s) + 1
		} else {
			cut = 0
		}
		if split := strip(s[:cut], s[cut:]); split != whole {
			t.Fatalf("split at %d gives %q, whole gives %q", cut, split, whole)
		}
		if bytes.IndexByte([]byte(whole), 0x1b) >= 0 {
			t.Fatalf("escape byte left in %q", whole)
		}
	})
}
