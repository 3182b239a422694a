package ui

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestColorDecision(t *testing.T) {
	tests := []struct {
		name    string
		tty     bool
		env     map[string]string
		noColor bool
		want    bool
		wantErr bool // ErrColorEnabled
	}{
		{name: "tty", tty: true, want: true, wantErr: true},
		{name: "not a tty", tty: false, want: false, wantErr: false},
		{name: "NO_COLOR=1", tty: true, env: map[string]string{"NO_COLOR": "1"}},
		{name: "NO_COLOR=yes", tty: true, env: map[string]string{"NO_COLOR": "yes"}},
		{name: "NO_COLOR=0 still disables", tty: true, env: map[string]string{"NO_COLOR": "0"}},
		{name: "NO_COLOR empty is unset", tty: true, env: map[string]string{"NO_COLOR": ""}, want: true, wantErr: true},
		{name: "--no-color", tty: true, noColor: true},
		{name: "TERM=dumb", tty: true, env: map[string]string{"TERM": "dumb"}},
		{name: "CI=true", tty: true, env: map[string]string{"CI": "true"}},
		{name: "CI=false is not CI", tty: true, env: map[string]string{"CI": "false"}, want: true, wantErr: true},
		{name: "GITHUB_ACTIONS", tty: true, env: map[string]string{"GITHUB_ACTIONS": "true"}},
		{name: "GITLAB_CI", tty: true, env: map[string]string{"GITLAB_CI": "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _ := Test()
			s.SetTTY(tt.tty)
			s.ApplyEnv(envOf(tt.env))
			s.SetNoColor(tt.noColor)
			if got := s.ColorEnabled(); got != tt.want {
				t.Errorf("ColorEnabled() = %v, want %v", got, tt.want)
			}
			if got := s.ErrColorEnabled(); got != tt.wantErr {
				t.Errorf("ErrColorEnabled() = %v, want %v", got, tt.wantErr)
			}
			// Styles must follow the decision.
			out := s.Styles().Error.Render("x")
			if colored := out != "x"; colored != tt.want {
				t.Errorf("Styles().Error.Render = %q, colour expected %v", out, tt.want)
			}
		})
	}
}

func TestColorPerStream(t *testing.T) {
	s, _, _, _ := Test()
	s.SetStdoutTTY(false)
	s.SetStderrTTY(true)
	if s.ColorEnabled() {
		t.Error("stdout is piped: no colour expected on stdout")
	}
	if !s.ErrColorEnabled() {
		t.Error("stderr is a terminal: colour expected on stderr")
	}
}

func TestPromptAndSpinnerRules(t *testing.T) {
	tests := []struct {
		name                 string
		in, err              bool
		env                  map[string]string
		wantPrompt, wantSpin bool
	}{
		{"all tty", true, true, nil, true, true},
		{"stdin piped", false, true, nil, false, true},
		{"stderr piped", true, false, nil, false, false},
		{"ci", true, true, map[string]string{"CI": "1"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _ := Test()
			s.SetStdinTTY(tt.in)
			s.SetStderrTTY(tt.err)
			s.ApplyEnv(envOf(tt.env))
			if got := s.CanPrompt(); got != tt.wantPrompt {
				t.Errorf("CanPrompt() = %v, want %v", got, tt.wantPrompt)
			}
			if got := s.SpinnerEnabled(); got != tt.wantSpin {
				t.Errorf("SpinnerEnabled() = %v, want %v", got, tt.wantSpin)
			}
		})
	}
}

func TestProgressPlainLines(t *testing.T) {
	s, _, out, errOut := Test()
	p := s.StartProgress("Uploading")
	p.Update("Uploading")
	p.Update("Waiting")
	p.Stop()
	p.Stop()
	p.Update("after stop")
	if got, want := errOut.String(), "Uploading...\nWaiting...\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	if out.Len() != 0 {
		t.Errorf("progress wrote to stdout: %q", out.String())
	}
}

func TestReadLine(t *testing.T) {
	s, in, _, _ := Test()
	in.WriteString("first\r\nsecond\nlast")
	ctx := context.Background()
	for _, want := range []string{"first", "second", "last"} {
		got, err := s.ReadLine(ctx)
		if err != nil || got != want {
			t.Fatalf("ReadLine() = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := s.ReadLine(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("ReadLine at end = %v, want io.EOF", err)
	}
}

func TestReadLineCancelKeepsPendingLine(t *testing.T) {
	pr, pw := io.Pipe()
	s, _, _, _ := Test()
	s.In = pr
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.ReadLine(ctx)
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ReadLine after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadLine ignored the cancelled context")
	}
	// The abandoned read is still pending; its line goes to the next caller.
	go func() { _, _ = pw.Write([]byte("answer\n")) }()
	got, err := s.ReadLine(context.Background())
	if err != nil || got != "answer" {
		t.Fatalf("ReadLine() = %q, %v; want answer", got, err)
	}
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		input string
		def   bool
		want  bool
	}{
		{"y\n", false, true},
		{"YES\n", false, true},
		{"n\n", true, false},
		{"\n", true, true},
		{"\n", false, false},
		{"maybe\nyes\n", false, true},
	}
	for _, tt := range tests {
		s, in, _, errOut := Test()
		s.SetTTY(true)
		in.WriteString(tt.input)
		got, err := s.Confirm(context.Background(), "Apply?", tt.def)
		if err != nil || got != tt.want {
			t.Errorf("Confirm(%q, def=%v) = %v, %v; want %v", tt.input, tt.def, got, err, tt.want)
		}
		if !strings.Contains(errOut.String(), "Apply? [") {
			t.Errorf("prompt not written to stderr: %q", errOut.String())
		}
	}
}

func TestPromptNotInteractive(t *testing.T) {
	s, in, _, _ := Test()
	in.WriteString("y\n")
	if _, err := s.Confirm(context.Background(), "ok?", false); !errors.Is(err, ErrNotInteractive) {
		t.Errorf("Confirm without a TTY: err = %v, want ErrNotInteractive", err)
	}
	if _, err := s.Prompt(context.Background(), "name", "x"); !errors.Is(err, ErrNotInteractive) {
		t.Errorf("Prompt without a TTY: err = %v, want ErrNotInteractive", err)
	}
}

func TestPromptDefault(t *testing.T) {
	s, in, _, errOut := Test()
	s.SetTTY(true)
	in.WriteString("\n  prod  \n")
	got, err := s.Prompt(context.Background(), "Profile name", "default")
	if err != nil || got != "default" {
		t.Fatalf("Prompt() = %q, %v; want default", got, err)
	}
	got, err = s.Prompt(context.Background(), "Profile name", "default")
	if err != nil || got != "prod" {
		t.Fatalf("Prompt() = %q, %v; want prod", got, err)
	}
	if !strings.Contains(errOut.String(), "Profile name [default]: ") {
		t.Errorf("prompt text = %q", errOut.String())
	}
}

func TestTable(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		s, _, out, _ := Test()
		tb := s.NewTable("NAME", "ENDPOINT")
		tb.AddRow("default", "https://a.example")
		tb.AddRow("prod", "https://b\texample")
		if err := tb.Render(); err != nil {
			t.Fatal(err)
		}
		want := "default\thttps://a.example\nprod\thttps://b example\n"
		if out.String() != want {
			t.Errorf("got %q, want %q", out.String(), want)
		}
	})
	t.Run("tty aligned", func(t *testing.T) {
		s, _, out, _ := Test()
		s.SetStdoutTTY(true)
		s.SetNoColor(true)
		tb := s.NewTable("NAME", "ENDPOINT", "TOKEN")
		tb.AddRow("default", "https://a.example", "yes")
		tb.AddRow("p", "https://long.example.com")
		if err := tb.Render(); err != nil {
			t.Fatal(err)
		}
		want := "" +
			"NAME     ENDPOINT                  TOKEN\n" +
			"default  https://a.example         yes\n" +
			"p        https://long.example.com\n"
		if out.String() != want {
			t.Errorf("got\n%s\nwant\n%s", out.String(), want)
		}
	})
	t.Run("tty colour header keeps alignment", func(t *testing.T) {
		s, _, out, _ := Test()
		s.SetStdoutTTY(true)
		tb := s.NewTable("A", "B")
		tb.AddRow("long-value", "x")
		if err := tb.Render(); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(out.String(), "\n")
		if !strings.Contains(lines[0], "\x1b[") {
			t.Errorf("header not styled on a colour TTY: %q", lines[0])
		}
		if lines[1] != "long-value  x" {
			t.Errorf("row = %q", lines[1])
		}
	})
}

func TestPrintJSON(t *testing.T) {
	s, _, out, _ := Test()
	if err := s.PrintJSON(map[string]any{"a": "<b>", "n": 1}); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"a\": \"<b>\",\n  \"n\": 1\n}\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	var v map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Errorf("not one JSON document: %v", err)
	}
}

func TestTerminalWidth(t *testing.T) {
	s, _, _, _ := Test()
	if got := s.TerminalWidth(); got != DefaultWidth {
		t.Errorf("default width = %d", got)
	}
	s.SetTerminalWidth(132)
	if got := s.TerminalWidth(); got != 132 {
		t.Errorf("width = %d", got)
	}
}
