package module

import (
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
)

const gid = "VE1PXzFmM2I0YzVkLTZlN2YtNDg5MC1hYmNkLWVmMDEyMzQ1Njc4OQ" // TMO_<uuid>

func TestModuleID(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		usage    bool
	}{
		{in: "ops/vpc/aws", want: "trn:terraform_module:ops/vpc/aws"},
		{in: " /ops/net/vpc/aws/ ", want: "trn:terraform_module:ops/net/vpc/aws"},
		{in: "trn:terraform_module:ops/vpc/aws", want: "trn:terraform_module:ops/vpc/aws"},
		{in: gid, want: gid},
		{in: "", usage: true},
		{in: "vpc/aws", usage: true},
		{in: "ops//aws", usage: true},
	} {
		got, err := ModuleID(tc.in)
		if tc.usage {
			if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
				t.Errorf("ModuleID(%q) = %q, %v; want a usage error", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ModuleID(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestVersionID(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		usage    bool
	}{
		{in: "ops/vpc/aws/1.2.0", want: "trn:terraform_module_version:ops/vpc/aws/1.2.0"},
		{in: "ops/vpc/aws/v1.2.0", want: "trn:terraform_module_version:ops/vpc/aws/1.2.0"},
		{in: "ops/vpc/aws/1.2", want: "trn:terraform_module_version:ops/vpc/aws/1.2.0"},
		{in: "ops/net/vpc/aws/2.0.0-beta.1+build.5", want: "trn:terraform_module_version:ops/net/vpc/aws/2.0.0-beta.1+build.5"},
		{in: "trn:terraform_module_version:ops/vpc/aws/1.0.0", want: "trn:terraform_module_version:ops/vpc/aws/1.0.0"},
		{in: gid, want: gid},
		{in: "ops/vpc/aws", usage: true},
		{in: "ops/vpc/aws/latest", usage: true},
		{in: "ops/vpc/aws/~> 1.0", usage: true},
		{in: "", usage: true},
	} {
		got, err := VersionID(tc.in)
		if tc.usage {
			if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
				t.Errorf("VersionID(%q) = %q, %v; want a usage error", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("VersionID(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "1.2.3", want: "1.2.3"},
		{in: "v1.2.3", want: "1.2.3"},
		{in: " 1.2.3 ", want: "1.2.3"},
		{in: "1", want: "1.0.0"},
		{in: "1.2.0-rc.1", want: "1.2.0-rc.1"},
		{in: "1.2.0+meta", want: "1.2.0+meta"},
		{in: "latest", bad: true},
		{in: ">= 1.0", bad: true},
		{in: "1.2.3.4", want: "1.2.3.4"}, // go-version, which the server uses, allows more segments
		{in: "", bad: true},
	} {
		got, err := ParseVersion(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("ParseVersion(%q) = %q, %v; want %q (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestParseAddress(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Address
		bad  bool
	}{
		{in: "tharsis.example.com/ops/vpc/aws", want: Address{"tharsis.example.com", "ops", "vpc", "aws"}},
		{in: "https://Tharsis.Example.com/ops/vpc/aws/", want: Address{"tharsis.example.com", "ops", "vpc", "aws"}},
		{in: "127.0.0.1:8000/sandbox/vpc/aws", want: Address{"127.0.0.1:8000", "sandbox", "vpc", "aws"}},
		{in: "localhost:8000/sandbox/vpc/aws", want: Address{"localhost:8000", "sandbox", "vpc", "aws"}},
		{in: "localhost/sandbox/vpc/aws", bad: true}, // could be the module path localhost/sandbox/vpc/aws
		{in: "ops/vpc/aws", bad: true},                           // no host
		{in: "registry/ops/vpc/aws", bad: true},                  // "registry" is not a host name
		{in: "tharsis.example.com/ops/vpc/aws//sub", bad: true},  // subdirectory
		{in: "tharsis.example.com/ops/vpc/aws?ref=1", bad: true}, // version in the address
		{in: "tharsis.example.com/ops/sub/vpc/aws", bad: true},   // a namespace is a top-level group
		{in: "", bad: true},
	} {
		got, err := ParseAddress(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("ParseAddress(%q) = %+v, %v; want %+v (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
		if want := tc.want.Host + "/" + tc.want.Namespace + "/vpc/aws"; !tc.bad && got.String() != want {
			t.Errorf("String() = %q, want %q", got.String(), want)
		}
	}
}
