package complete

import (
	"testing"
	"time"
)

func TestHelpers(t *testing.T) {
	gid := "Ul8xMjM0NTY3OC0xMjM0LTEyMzQtMTIzNC0xMjM0NTY3ODkwMTI" // R_12345678-1234-1234-1234-123456789012
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"", true}, {"ops/net", true}, {"ops/", true},
		{"trn:workspace:ops", false}, {gid, false}, {"a b", false},
	} {
		if got := isPathPrefix(tt.in); got != tt.want {
			t.Errorf("isPathPrefix(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}

	if search("") != nil || search("/") != nil {
		t.Error("an empty prefix must list everything")
	}
	if s := search("/ops/net/"); s == nil || *s != "ops/net" {
		t.Errorf("search(/ops/net/) = %v", s)
	}

	for _, tt := range []struct{ value, desc, want string }{
		{"ops/net", "", "ops/net"},
		{"ops/net", "  Network\tof ops\nsecond line", "ops/net\tNetwork of ops"},
	} {
		if got := candidate(tt.value, tt.desc); got != tt.want {
			t.Errorf("candidate(%q, %q) = %q, want %q", tt.value, tt.desc, got, tt.want)
		}
	}

	at := time.Date(2026, 7, 1, 12, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	for _, tt := range []struct {
		status               string
		created              time.Time
		by                   string
		destroy, speculative bool
		want                 string
	}{
		{"applied", at, "alice", false, false, "applied, 2026-07-01 10:30 UTC, alice"},
		{"planned_and_finished", at, "", false, true, "planned_and_finished, plan, 2026-07-01 10:30 UTC"},
		{"planned", time.Time{}, "ci", true, false, "planned, destroy, ci"},
	} {
		if got := runDescription(tt.status, tt.created, tt.by, tt.destroy, tt.speculative); got != tt.want {
			t.Errorf("runDescription = %q, want %q", got, tt.want)
		}
	}
}
