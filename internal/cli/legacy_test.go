package cli

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

func TestRewriteLegacyArgs(t *testing.T) {
	s, _, _, _ := ui.Test()
	root := NewRootCmd(cmdutil.NewFactory(s, func(string) string { return "" }))
	for _, tc := range []struct {
		name string
		in   []string
		want []string
		warn bool
	}{
		{"new style untouched", []string{"apply", "--auto-approve", "grp/ws"}, []string{"apply", "--auto-approve", "grp/ws"}, false},
		{"single-dash bool", []string{"apply", "-auto-approve", "grp/ws"}, []string{"apply", "--auto-approve", "grp/ws"}, false},
		{"single-dash with =", []string{"apply", "-directory-path=./infra", "grp/ws"}, []string{"apply", "--directory-path=./infra", "grp/ws"}, false},
		{"single-dash with value", []string{"plan", "-tf-var", "k=v", "grp/ws"}, []string{"plan", "--tf-var", "k=v", "grp/ws"}, false},
		{"global before command", []string{"-p", "prod", "apply", "-auto-approve", "ws"}, []string{"-p", "prod", "apply", "--auto-approve", "ws"}, false},
		{"long global single-dash", []string{"-profile", "prod", "-log", "debug", "whoami"}, []string{"--profile", "prod", "--log-level", "debug", "whoami"}, false},
		{"json alias", []string{"run", "get", "-json", "R1"}, []string{"run", "get", "--output=json", "R1"}, false},
		{"deprecated bool form", []string{"apply", "-auto-approve", "true", "ws"}, []string{"apply", "--auto-approve=true", "ws"}, true},
		{"refresh false", []string{"plan", "-refresh", "false", "ws"}, []string{"plan", "--refresh=false", "ws"}, true},
		{"flag value is not a subcommand", []string{"-p", "run", "whoami"}, []string{"-p", "run", "whoami"}, false},
		{"help and version", []string{"-version"}, []string{"--version"}, false},
		{"command help", []string{"apply", "-help"}, []string{"apply", "--help"}, false},
		{"unknown single-dash left alone", []string{"apply", "-bogus", "ws"}, []string{"apply", "-bogus", "ws"}, false},
		{"shorthand cluster left alone", []string{"run", "logs", "-f", "R1"}, []string{"run", "logs", "-f", "R1"}, false},
		{"after terminator", []string{"plan", "--", "-auto-approve"}, []string{"plan", "--", "-auto-approve"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warned := false
			got := rewriteLegacyArgs(root, tc.in, func(string) { warned = true })
			if !slices.Equal(got, tc.want) {
				t.Errorf("rewrite(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if warned != tc.warn {
				t.Errorf("warned = %v, want %v", warned, tc.warn)
			}
		})
	}
}

func TestDeprecatedFlagNoticeOnStderrOnly(t *testing.T) {
	s, _, out, errOut := ui.Test()
	env := map[string]string{"THARSIS_CONFIG_DIR": t.TempDir()}
	code := Main(context.Background(), []string{"configure", "-p", "x", "--endpoint-url", "http://localhost:1", "-o", "json"}, s,
		func(k string) string { return env[k] })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if strings.Contains(out.String(), "deprecated") {
		t.Errorf("deprecation notice on stdout: %q", out.String())
	}
	if !strings.Contains(errOut.String(), "deprecated") {
		t.Errorf("no deprecation notice on stderr: %q", errOut.String())
	}
}
