package cmdutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

func TestExitCode(t *testing.T) {
	apiErr := func(k api.Kind) error { return &api.Error{Kind: k, Op: "op", Message: "m"} }
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain", errors.New("x"), 1},
		{"unauthenticated", apiErr(api.KindUnauthenticated), 4},
		{"forbidden", apiErr(api.KindForbidden), 4},
		{"not found", apiErr(api.KindNotFound), 5},
		{"transient", apiErr(api.KindTransient), 6},
		{"rate limited", apiErr(api.KindRateLimited), 6},
		{"service unavailable", apiErr(api.KindServiceUnavailable), 6},
		{"conflict", apiErr(api.KindConflict), 1},
		{"bad request", apiErr(api.KindBadRequest), 1},
		{"internal", apiErr(api.KindInternal), 1},
		{"unknown", apiErr(api.KindUnknown), 1},
		{"wrapped api error", fmt.Errorf("ctx: %w", apiErr(api.KindNotFound)), 5},
		{"usage", UsageErrorf("bad"), 64},
		{"wrapped usage", fmt.Errorf("x: %w", UsageErrorf("bad")), 64},
		{"explicit code wins", &ExitError{Code: 3, Err: apiErr(api.KindNotFound)}, 3},
		{"explicit silent", &ExitError{Code: 2}, 2},
		{"hinted", WithHint(apiErr(api.KindForbidden), "ask"), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestPrintError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "api error with hint",
			err:  &api.Error{Kind: api.KindUnauthenticated, Op: "get caller identity", Message: "token is expired", Hint: "Run `tharsis sso login`."},
			want: "Error: get caller identity: token is expired\nHint: Run `tharsis sso login`.\n",
		},
		{
			name: "config error hint",
			err:  &config.Error{Msg: "no Tharsis endpoint configured", Hint: "run 'tharsis configure'"},
			want: "Error: no Tharsis endpoint configured\nHint: run 'tharsis configure'\n",
		},
		{
			name: "usage error points at help",
			err:  UsageErrorf("missing argument: NAME"),
			want: "Error: missing argument: NAME\nRun 'tharsis configure delete --help' for usage.\n",
		},
		{
			name: "hints are not repeated and multi-line hints are indented",
			err:  WithHint(&api.Error{Op: "x", Message: "y", Hint: "a\nb"}, "a\nb"),
			want: "Error: x: y\nHint: a\n      b\n",
		},
		{
			name: "the lines of a multi-line error are indented under one Error line",
			err:  errors.Join(errors.New("a.tfvars:1:2: Missing value"), errors.New(""), errors.New("a.tfvars:1:1: Unclosed object")),
			want: "Error: a.tfvars:1:2: Missing value\n       a.tfvars:1:1: Unclosed object\n",
		},
		{
			name: "silent exit",
			err:  &ExitError{Code: 2},
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, out, errOut := ui.Test()
			PrintError(s, tt.err, "tharsis configure delete")
			if errOut.String() != tt.want {
				t.Errorf("stderr:\n%q\nwant\n%q", errOut.String(), tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout written: %q", out.String())
			}
		})
	}
}

func TestInterrupts(t *testing.T) {
	i := NewInterrupts()
	var defaults []int
	i.SetDefault(func(n int) { defaults = append(defaults, n) })
	i.Deliver(os.Interrupt)
	i.Deliver(os.Interrupt)
	if fmt.Sprint(defaults) != "[1 2]" {
		t.Fatalf("default handler calls = %v", defaults)
	}

	sigs, release := i.Claim()
	i.Deliver(os.Interrupt)
	i.Deliver(syscall.SIGTERM)
	if got := <-sigs; got != os.Interrupt {
		t.Errorf("first claimed signal = %v", got)
	}
	if got := <-sigs; got != syscall.SIGTERM {
		t.Errorf("second claimed signal = %v", got)
	}
	if len(defaults) != 2 {
		t.Errorf("default handler ran while claimed: %v", defaults)
	}
	release()
	i.Deliver(os.Interrupt)
	if len(defaults) != 3 {
		t.Errorf("default handler not restored after release: %v", defaults)
	}
}

func TestLoggerRedacts(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "trace")
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	h := http.Header{"Authorization": {"Bearer abc.def"}, "Content-Type": {"application/json"}}
	log.Debug("request", "token", "s3cret", "headers", h, "url", "https://x/graphql",
		"body", `{"token":"`+jwt+`"}`, "note", "bearer zzz-top", "err", errors.New("bad token "+jwt))
	log.Log(context.Background(), LevelTrace, "trace line")
	out := buf.String()
	for _, secret := range []string{"s3cret", "abc.def", jwt, "zzz-top"} {
		if strings.Contains(out, secret) {
			t.Errorf("log leaks %q:\n%s", secret, out)
		}
	}
	for _, keep := range []string{"https://x/graphql", "application/json", "level=TRACE", "trace line"} {
		if !strings.Contains(out, keep) {
			t.Errorf("log lacks %q:\n%s", keep, out)
		}
	}

	buf.Reset()
	off := NewLogger(&buf, "off")
	off.Error("nothing")
	if buf.Len() != 0 {
		t.Errorf("off logger wrote %q", buf.String())
	}
	warn := NewLogger(&buf, "warn")
	warn.Info("hidden")
	warn.Warn("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown") {
		t.Errorf("warn logger output %q", buf.String())
	}
}

func TestEnumValue(t *testing.T) {
	var v string
	cmd := &cobra.Command{Use: "x"}
	EnumFlag(cmd, cmd.Flags(), &v, "output", "o", "text", []string{"text", "json"}, "Output format")
	if v != "text" {
		t.Fatalf("default = %q", v)
	}
	if err := cmd.Flags().Set("output", "JSON"); err != nil || v != "json" {
		t.Errorf("Set(JSON) = %v, value %q", err, v)
	}
	if err := cmd.Flags().Set("output", "yaml"); err == nil || !strings.Contains(err.Error(), "text, json") {
		t.Errorf("Set(yaml) = %v", err)
	}
}

func TestArgs(t *testing.T) {
	parent := &cobra.Command{Use: "configure"}
	parent.AddCommand(&cobra.Command{Use: "list", Run: func(*cobra.Command, []string) {}})
	leaf := &cobra.Command{Use: "delete"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"exact ok", ExactArgs("A", "B")(leaf, []string{"1", "2"}), ""},
		{"exact missing", ExactArgs("A", "B")(leaf, []string{"1"}), "missing argument: B"},
		{"exact extra", ExactArgs("A")(leaf, []string{"1", "2"}), "too many arguments: expected 1 (A), got 2"},
		{"no args ok", NoArgs(leaf, nil), ""},
		{"no args", NoArgs(leaf, []string{"x"}), `unexpected argument "x"`},
		{"mistyped subcommand", NoArgs(parent, []string{"lsit"}), `unknown command "lsit" for "configure"; did you mean "list"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				if tt.err != nil {
					t.Fatalf("err = %v", tt.err)
				}
				return
			}
			if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", tt.err, tt.want)
			}
			if ExitCode(tt.err) != ExitUsage {
				t.Errorf("exit code = %d", ExitCode(tt.err))
			}
		})
	}
}

func TestFactoryConfigCI(t *testing.T) {
	// A CI job: endpoint and token in the environment, no settings file.
	env := map[string]string{
		"THARSIS_CONFIG_DIR":   t.TempDir(),
		"THARSIS_ENDPOINT":     "tharsis.example.com/",
		"THARSIS_STATIC_TOKEN": "tok",
	}
	s, _, _, _ := ui.Test()
	f := NewFactory(s, func(k string) string { return env[k] })
	cfg, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.EndpointSource != config.SourceEnv || cfg.Profile != "default" {
		t.Errorf("config = %+v", cfg)
	}
	c, err := f.APIClient()
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != "https://tharsis.example.com" {
		t.Errorf("endpoint = %q", c.Endpoint())
	}
	_, desc, _ := f.Credentials()
	if desc.Source != "THARSIS_STATIC_TOKEN" {
		t.Errorf("credential = %+v", desc)
	}
	// Memoised.
	c2, _ := f.APIClient()
	if c2 != c {
		t.Error("APIClient built twice")
	}
}

func TestFactoryBadEndpointNamesItsSource(t *testing.T) {
	env := map[string]string{"THARSIS_CONFIG_DIR": t.TempDir(), "THARSIS_STATIC_TOKEN": "tok"}
	s, _, _, _ := ui.Test()
	f := NewFactory(s, func(k string) string { return env[k] })
	f.Global.Endpoint = "ftp://x"
	_, err := f.APIClient()
	if err == nil || !strings.Contains(err.Error(), "(endpoint from --endpoint)") {
		t.Errorf("err = %v", err)
	}
}
