package executor

import (
	"reflect"
	"sort"
	"testing"
)

func TestParseResourceAddr(t *testing.T) {
	tests := []struct {
		addr    string
		ok      bool
		modules []addrPart
		mode    string
		typ     string
		name    string
		key     instanceKey
	}{
		{addr: "null_resource.a", ok: true, mode: modeManaged, typ: "null_resource", name: "a"},
		{addr: "aws_s3_bucket.b[0]", ok: true, mode: modeManaged, typ: "aws_s3_bucket", name: "b", key: instanceKey{kind: keyInt}},
		{addr: `data.aws_region.r["eu.west[1]"]`, ok: true, mode: modeData, typ: "aws_region", name: "r", key: instanceKey{kind: keyString, s: "eu.west[1]"}},
		{addr: `module.m["k"].module.n[2].null_resource.x`, ok: true,
			modules: []addrPart{{name: "m", key: instanceKey{kind: keyString, s: "k"}}, {name: "n", key: instanceKey{kind: keyInt, i: 2}}},
			mode:    modeManaged, typ: "null_resource", name: "x"},
		{addr: `x.y["a\"b"]`, ok: true, mode: modeManaged, typ: "x", name: "y", key: instanceKey{kind: keyString, s: `a"b`}},
		{addr: "onlyone"},
		{addr: "a.b.c"},
		{addr: "a..b"},
		{addr: "a.b["},
		{addr: "a.b[x]"},
		{addr: "a.b."},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			pa, ok := parseResourceAddr(tt.addr)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if !reflect.DeepEqual(pa.modules, tt.modules) || pa.mode != tt.mode || pa.typ != tt.typ || pa.name != tt.name || pa.key != tt.key {
				t.Errorf("parsed %+v", pa)
			}
			// Formatting what was parsed gives the address back.
			mod := ""
			for _, m := range pa.modules {
				mod = joinModule(mod, "module."+m.name+m.key.String())
			}
			if got := resourceAddr(mod, pa.mode, pa.typ, pa.name, pa.key); got != tt.addr {
				t.Errorf("round trip = %s", got)
			}
		})
	}
}

func TestTargetMatches(t *testing.T) {
	tests := []struct {
		target, addr string
		want         bool
	}{
		{"null_resource.a", "null_resource.a", true},
		{"null_resource.a", "null_resource.a[0]", true},
		{"null_resource.a", `null_resource.a["k"]`, true},
		{"null_resource.a", "null_resource.ab", false},
		{"null_resource.a[0]", "null_resource.a[0]", true},
		{"null_resource.a[0]", "null_resource.a[1]", false},
		{"module.m", "module.m.null_resource.x", true},
		{"module.m", `module.m["k"].null_resource.x`, true},
		{"module.m", "module.mm.null_resource.x", false},
		{" null_resource.a ", "null_resource.a", true},
		{"", "null_resource.a", false},
	}
	for _, tt := range tests {
		if got := targetMatches(tt.target, tt.addr); got != tt.want {
			t.Errorf("targetMatches(%q, %q) = %v, want %v", tt.target, tt.addr, got, tt.want)
		}
	}
}

func TestAddressOrder(t *testing.T) {
	addrs := []string{
		"module.m.a.x", "b.x[10]", "data.a.x", "b.x[2]", "a.y", "module.a.z.z", `b.x["k"]`, "a.x",
	}
	s := newAddrSorter()
	sort.Slice(addrs, func(i, j int) bool { return s.less(addrs[i], addrs[j]) })
	want := []string{"a.x", "a.y", "b.x[2]", "b.x[10]", `b.x["k"]`, "data.a.x", "module.a.z.z", "module.m.a.x"}
	if !reflect.DeepEqual(addrs, want) {
		t.Errorf("order = %q\nwant    %q", addrs, want)
	}
}

func TestQuoteString(t *testing.T) {
	tests := map[string]string{
		"plain":       `"plain"`,
		`a"b\c`:       `"a\"b\\c"`,
		"line\nnext":  `"line\nnext"`,
		"${interp}":   `"$${interp}"`,
		"%{ if }":     `"%%{ if }"`,
		"tab\there":   `"tab\there"`,
		"bell\x07":    `"bell\u0007"`,
		"unicode é ✓": `"unicode é ✓"`,
		"$ alone":     `"$ alone"`,
	}
	for in, want := range tests {
		if got := quoteString(in); got != want {
			t.Errorf("quoteString(%q) = %s, want %s", in, got, want)
		}
	}
}
