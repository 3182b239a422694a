package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli"
	"github.com/tharsis-cli/tharsis/internal/cli/clitest"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		r := clitest.Run(t, clitest.Options{}, args...)
		if r.Code != 0 {
			t.Fatalf("%v: exit %d, stderr %q", args, r.Code, r.Stderr)
		}
		want := "tharsis version "
		if !strings.HasPrefix(r.Stdout, want) || !strings.Contains(r.Stdout, runtime.GOOS+"/"+runtime.GOARCH) {
			t.Errorf("%v: stdout = %q", args, r.Stdout)
		}
	}
	r := clitest.Run(t, clitest.Options{}, "version", "-o", "json")
	var v map[string]string
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("version -o json: %v: %q", err, r.Stdout)
	}
	for _, k := range []string{"version", "commit", "go", "os", "arch"} {
		if v[k] == "" {
			t.Errorf("version -o json lacks %q: %v", k, v)
		}
	}
	if v["go"] != runtime.Version() {
		t.Errorf("go = %q", v["go"])
	}
}

func TestCompletion(t *testing.T) {
	markers := map[string]string{
		"bash":       "complete -o default -F __start_tharsis tharsis",
		"zsh":        "#compdef tharsis",
		"fish":       "complete -c tharsis",
		"powershell": "Register-ArgumentCompleter",
	}
	for shell, marker := range markers {
		r := clitest.Run(t, clitest.Options{}, "completion", shell)
		if r.Code != 0 || !strings.Contains(r.Stdout, marker) {
			t.Errorf("completion %s: exit %d, output lacks %q (len %d), stderr %q", shell, r.Code, marker, len(r.Stdout), r.Stderr)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
		help    string
	}{
		{[]string{"bogus"}, `unknown command "bogus" for "tharsis"`, "tharsis"},
		{[]string{"confgure"}, `did you mean "configure"?`, "tharsis"},
		{[]string{"whoami", "--nope"}, "unknown flag: --nope", "tharsis whoami"},
		{[]string{"whoami", "extra"}, `unexpected argument "extra"`, "tharsis whoami"},
		{[]string{"-o", "yaml", "version"}, `must be one of: text, json`, "tharsis version"},
		{[]string{"version", "--log-level", "loud"}, `must be one of: off, error, warn, info, debug, trace`, "tharsis version"},
		{[]string{"completion"}, "missing argument: SHELL", "tharsis completion"},
		{[]string{"completion", "tcsh"}, `invalid argument "tcsh"`, "tharsis completion"},
		{[]string{"completion", "bash", "zsh"}, "too many arguments", "tharsis completion"},
		{[]string{"configure", "delete"}, "missing argument: NAME", "tharsis configure delete"},
		{[]string{"configure", "lsit"}, `did you mean "list"?`, "tharsis configure"},
		{[]string{"configure", "--no-color=maybe"}, `invalid boolean "maybe"`, "tharsis configure"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := clitest.Run(t, clitest.Options{}, tt.args...)
			if r.Code != cmdutil.ExitUsage {
				t.Errorf("exit %d, want 64; stderr %q", r.Code, r.Stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			if !strings.HasPrefix(lines[0], "Error: ") || !strings.Contains(lines[0], tt.wantErr) {
				t.Errorf("first line %q, want an error containing %q", lines[0], tt.wantErr)
			}
			if want := "Run '" + tt.help + " --help' for usage."; lines[len(lines)-1] != want {
				t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
			}
			if r.Stdout != "" {
				t.Errorf("stdout = %q", r.Stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	r := clitest.Run(t, clitest.Options{})
	if r.Code != 0 {
		t.Fatalf("exit %d", r.Code)
	}
	for _, want := range []string{"Configuration & auth:", "whoami", "configure", "--profile", "THARSIS_PROFILE"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, r.Stdout)
		}
	}
	// Every command has an example.
	r = clitest.Run(t, clitest.Options{}, "configure", "list", "--help")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Examples:") {
		t.Errorf("configure list --help: %d %q", r.Code, r.Stdout)
	}
}

func TestGlobalFlagsAnywhere(t *testing.T) {
	r := clitest.Run(t, clitest.Options{}, "version", "-o", "json")
	r2 := clitest.Run(t, clitest.Options{}, "-o", "json", "version")
	if r.Code != 0 || r.Stdout != r2.Stdout {
		t.Errorf("-o after and before the command differ: %q vs %q", r.Stdout, r2.Stdout)
	}
}

// configured returns an environment with one profile "default" and a token.
func configured(t *testing.T) map[string]string {
	dir := t.TempDir()
	store := config.NewStore(dir, nil)
	st := &config.Settings{}
	st.SetProfile("default", &config.Profile{Endpoint: "https://a.example"})
	if err := store.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"THARSIS_CONFIG_DIR": dir}
}

func TestColour(t *testing.T) {
	// The header of `configure list` is bold on a colour terminal.
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		color bool
	}{
		{"tty", nil, nil, true},
		{"NO_COLOR", map[string]string{"NO_COLOR": "1"}, nil, false},
		{"--no-color", nil, []string{"--no-color"}, false},
		{"TERM=dumb", map[string]string{"TERM": "dumb"}, nil, false},
		{"CI", map[string]string{"CI": "true"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := configured(t)
			for k, v := range tt.env {
				env[k] = v
			}
			args := append([]string{"configure", "list"}, tt.args...)
			r := clitest.Run(t, clitest.Options{Env: env, TTY: true}, args...)
			if r.Code != 0 {
				t.Fatalf("exit %d: %s", r.Code, r.Stderr)
			}
			if got := strings.Contains(r.Stdout, "\x1b["); got != tt.color {
				t.Errorf("colour = %v, want %v:\n%q", got, tt.color, r.Stdout)
			}
		})
	}
	// Not a terminal: no colour and tab-separated.
	r := clitest.Run(t, clitest.Options{Env: configured(t)}, "configure", "list")
	if strings.Contains(r.Stdout, "\x1b[") || r.Stdout != "*\tdefault\thttps://a.example\tfalse\tnone\n" {
		t.Errorf("piped output = %q", r.Stdout)
	}
}

func TestPanicIsReportedAsBug(t *testing.T) {
	setup := func(f *cmdutil.Factory) {
		f.ConfigStore = func() (*config.Store, error) { panic("boom") }
	}
	r := clitest.Run(t, clitest.Options{Setup: setup}, "configure", "list")
	if r.Code != 1 {
		t.Errorf("exit %d, want 1", r.Code)
	}
	if !strings.Contains(r.Stderr, "crashed (this is a bug): boom") || strings.Contains(r.Stderr, "goroutine ") {
		t.Errorf("stderr = %q", r.Stderr)
	}
	r = clitest.Run(t, clitest.Options{Setup: setup}, "configure", "list", "--log-level", "debug")
	if !strings.Contains(r.Stderr, "goroutine ") {
		t.Errorf("stack missing at debug level: %q", r.Stderr)
	}
}

func TestInterruptCancelsCommand(t *testing.T) {
	// `configure` waits at a prompt; the first interrupt cancels it: exit 130.
	intr := cmdutil.NewInterrupts()
	s, _, _, _ := ui.Test()
	errOut := &syncBuffer{}
	s.ErrOut = errOut
	pr, pw := io.Pipe()
	defer pw.Close()
	s.In = pr
	s.SetTTY(true)
	done := make(chan clitest.Result, 1)
	go func() {
		done <- clitest.Run(t, clitest.Options{Streams: s, Interrupts: intr}, "configure")
	}()
	waitFor(t, func() bool { return strings.Contains(errOut.String(), "Profile name") })
	intr.Deliver(os.Interrupt)
	select {
	case r := <-done:
		if r.Code != cmdutil.ExitInterrupted {
			t.Errorf("exit %d, want 130", r.Code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the interrupt did not end the command")
	}
}

func TestSecondInterruptForcesExit(t *testing.T) {
	// A command that ignores its context still ends on the second interrupt.
	intr := cmdutil.NewInterrupts()
	stuck := make(chan struct{})
	entered := make(chan struct{})
	defer close(stuck)
	setup := func(f *cmdutil.Factory) {
		f.ConfigStore = func() (*config.Store, error) {
			close(entered)
			<-stuck
			return nil, context.Canceled
		}
	}
	done := make(chan clitest.Result, 1)
	go func() {
		done <- clitest.Run(t, clitest.Options{Setup: setup, Interrupts: intr}, "configure", "list")
	}()
	<-entered
	intr.Deliver(os.Interrupt)
	intr.Deliver(os.Interrupt)
	select {
	case r := <-done:
		if r.Code != cmdutil.ExitInterrupted {
			t.Errorf("exit %d, want 130", r.Code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the second interrupt did not end the command")
	}
}

// syncBuffer is a buffer written by the command and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond (for output written by another goroutine) with a
// generous deadline; it asserts no timing.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("condition not reached")
		}
	}
}

func TestEveryCommandHasExampleAndGroup(t *testing.T) {
	s, _, _, _ := ui.Test()
	root := cli.NewRootCmd(cmdutil.NewFactory(s, func(string) string { return "" }))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		if c.Example == "" {
			t.Errorf("%q has no Example", c.CommandPath())
		}
		if c.Short == "" {
			t.Errorf("%q has no Short description", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
