package workspace

import (
	"strings"
	"testing"
)

func TestFormatValue(t *testing.T) {
	tests := []struct {
		name, value, typ, want string
	}{
		{"string", `"hi"`, `"string"`, `"hi"`},
		{"escaped string", `"a \"b\"\t"`, `"string"`, `"a \"b\"\t"`},
		{"number", `1.50`, `"number"`, `1.5`},
		{"big number", `12345678901234567890`, `"number"`, `12345678901234567890`},
		{"bool", `true`, `"bool"`, `true`},
		{"null string", `null`, `"string"`, `tostring(null)`},
		{"null list", `null`, `["list","string"]`, `tolist(null) /* of string */`},
		{"list", `["a","b"]`, `["list","string"]`, "tolist([\n  \"a\",\n  \"b\",\n])"},
		{"empty list", `[]`, `["list","string"]`, "tolist([])"},
		{"set", `["a"]`, `["set","string"]`, "toset([\n  \"a\",\n])"},
		{"tuple", `["a",1]`, `["tuple",["string","number"]]`, "[\n  \"a\",\n  1,\n]"},
		{"map", `{"b":"2","a":"1"}`, `["map","string"]`, "tomap({\n  \"a\" = \"1\"\n  \"b\" = \"2\"\n})"},
		{"object", `{"id":1,"tags":["x"]}`, `["object",{"id":"number","tags":["list","string"]}]`,
			"{\n  \"id\" = 1\n  \"tags\" = tolist([\n    \"x\",\n  ])\n}"},
		{"empty object", `{}`, `["object",{}]`, "{}"},
		{"heredoc", `"one\ntwo\n"`, `"string"`, "<<EOT\none\ntwo\n\nEOT"},
		{"heredoc nested", `{"t":"a\nEOT"}`, `["object",{"t":"string"}]`, "{\n  \"t\" = <<-EOT_\n  a\n  EOT\n  EOT_\n}"},
		{"type unknown to us", `{"a":[1,2]}`, `"not a type"`, "{\n  \"a\" = [\n    1,\n    2,\n  ]\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := decodeOutput(tt.value, tt.typ)
			if err != nil {
				t.Fatal(err)
			}
			if got := formatValue(v, 0); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestRawValue(t *testing.T) {
	for _, tt := range []struct{ value, typ, want, err string }{
		{`"a\nb"`, `"string"`, "a\nb", ""},
		{`42`, `"number"`, "42", ""},
		{`false`, `"bool"`, "false", ""},
		{`null`, `"string"`, "", "is null"},
		{`["a"]`, `["list","string"]`, "", "is a list of string"},
	} {
		v, err := decodeOutput(tt.value, tt.typ)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rawValue("x", v)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err = %v", tt.value, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %q %v", tt.value, got, err)
		}
	}
}

func TestParseMinutes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		err  bool
	}{{"90", 90, false}, {"2h", 120, false}, {"1h30m", 90, false}, {"90s", 0, true}, {"soon", 0, true}, {"-1h", 0, true}} {
		got, err := parseMinutes(tt.in)
		if tt.err != (err != nil) || (err == nil && *got != tt.want) {
			t.Errorf("%q: %v %v", tt.in, got, err)
		}
	}
	if got, err := parseMinutes(""); got != nil || err != nil {
		t.Error("empty")
	}
}
