package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func testSettings() *Settings {
	return &Settings{
		exists: true,
		Profiles: map[string]*Profile{
			"default": {Endpoint: "https://default.example", CACertFile: "/etc/default.pem"},
			"prod":    {Endpoint: "https://prod.example", TLSSkipVerify: true},
			"empty":   {},
		},
	}
}

func TestResolvePrecedence(t *testing.T) {
	tests := []struct {
		name     string
		flags    Flags
		env      map[string]string
		settings *Settings
		want     Resolved
	}{
		{
			name:     "defaults from the default profile",
			settings: testSettings(),
			want: Resolved{
				Profile: "default", ProfileSource: SourceDefault, ProfileFound: true,
				Endpoint: "https://default.example", EndpointSource: SourceProfile,
				TLSSkipVerifySource: SourceDefault,
				CACertFile:          "/etc/default.pem", CACertFileSource: SourceProfile,
				LogLevel: "off", LogLevelSource: SourceDefault,
			},
		},
		{
			name:     "profile from env",
			env:      map[string]string{"THARSIS_PROFILE": "prod"},
			settings: testSettings(),
			want: Resolved{
				Profile: "prod", ProfileSource: SourceEnv, ProfileFound: true,
				Endpoint: "https://prod.example", EndpointSource: SourceProfile,
				TLSSkipVerify: true, TLSSkipVerifySource: SourceProfile,
				CACertFileSource: SourceDefault,
				LogLevel:         "off", LogLevelSource: SourceDefault,
			},
		},
		{
			name:     "profile flag beats env",
			flags:    Flags{Profile: "default"},
			env:      map[string]string{"THARSIS_PROFILE": "prod"},
			settings: testSettings(),
			want: Resolved{
				Profile: "default", ProfileSource: SourceFlag, ProfileFound: true,
				Endpoint: "https://default.example", EndpointSource: SourceProfile,
				TLSSkipVerifySource: SourceDefault,
				CACertFile:          "/etc/default.pem", CACertFileSource: SourceProfile,
				LogLevel: "off", LogLevelSource: SourceDefault,
			},
		},
		{
			name:     "endpoint env beats profile",
			flags:    Flags{Profile: "prod"},
			env:      map[string]string{"THARSIS_ENDPOINT": "https://env.example"},
			settings: testSettings(),
			want: Resolved{
				Profile: "prod", ProfileSource: SourceFlag, ProfileFound: true,
				Endpoint: "https://env.example", EndpointSource: SourceEnv,
				TLSSkipVerify: true, TLSSkipVerifySource: SourceProfile,
				CACertFileSource: SourceDefault,
				LogLevel:         "off", LogLevelSource: SourceDefault,
			},
		},
		{
			name:     "endpoint flag beats env",
			flags:    Flags{Endpoint: "https://flag.example"},
			env:      map[string]string{"THARSIS_ENDPOINT": "https://env.example"},
			settings: testSettings(),
			want: Resolved{
				Profile: "default", ProfileSource: SourceDefault, ProfileFound: true,
				Endpoint: "https://flag.example", EndpointSource: SourceFlag,
				TLSSkipVerifySource: SourceDefault,
				CACertFile:          "/etc/default.pem", CACertFileSource: SourceProfile,
				LogLevel: "off", LogLevelSource: SourceDefault,
			},
		},
		{
			name: "tls skip verify and CA bundle from env beat profile",
			env: map[string]string{
				"THARSIS_PROFILE": "prod", "THARSIS_TLS_SKIP_VERIFY": "false",
				"THARSIS_CA_CERT_FILE": "/env.pem",
			},
			settings: testSettings(),
			want: Resolved{
				Profile: "prod", ProfileSource: SourceEnv, ProfileFound: true,
				Endpoint: "https://prod.example", EndpointSource: SourceProfile,
				TLSSkipVerify: false, TLSSkipVerifySource: SourceEnv,
				CACertFile: "/env.pem", CACertFileSource: SourceEnv,
				LogLevel: "off", LogLevelSource: SourceDefault,
			},
		},
		{
			name:     "log level: env, flag beats env",
			flags:    Flags{LogLevel: "DEBUG"},
			env:      map[string]string{"THARSIS_CLI_LOG": "warn"},
			settings: testSettings(),
			want: Resolved{
				Profile: "default", ProfileSource: SourceDefault, ProfileFound: true,
				Endpoint: "https://default.example", EndpointSource: SourceProfile,
				TLSSkipVerifySource: SourceDefault,
				CACertFile:          "/etc/default.pem", CACertFileSource: SourceProfile,
				LogLevel: "debug", LogLevelSource: SourceFlag,
			},
		},
		{
			name:     "log level from env",
			env:      map[string]string{"THARSIS_CLI_LOG": "trace"},
			settings: testSettings(),
			want: Resolved{
				Profile: "default", ProfileSource: SourceDefault, ProfileFound: true,
				Endpoint: "https://default.example", EndpointSource: SourceProfile,
				TLSSkipVerifySource: SourceDefault,
				CACertFile:          "/etc/default.pem", CACertFileSource: SourceProfile,
				LogLevel: "trace", LogLevelSource: SourceEnv,
			},
		},
		{
			name: "CI: endpoint in env, no settings file at all",
			env: map[string]string{
				"THARSIS_ENDPOINT": "https://ci.example", "THARSIS_TLS_SKIP_VERIFY": "1",
			},
			settings: &Settings{},
			want: Resolved{
				Profile: "default", ProfileSource: SourceDefault, ProfileFound: false,
				Endpoint: "https://ci.example", EndpointSource: SourceEnv,
				TLSSkipVerify: true, TLSSkipVerifySource: SourceEnv,
				CACertFileSource: SourceDefault,
				LogLevel:         "off", LogLevelSource: SourceDefault,
			},
		},
		{
			name:     "nil settings with endpoint flag",
			flags:    Flags{Endpoint: "https://x.example", Profile: "ci"},
			settings: nil,
			want: Resolved{
				Profile: "ci", ProfileSource: SourceFlag,
				Endpoint: "https://x.example", EndpointSource: SourceFlag,
				TLSSkipVerifySource: SourceDefault, CACertFileSource: SourceDefault,
				LogLevel: "off", LogLevelSource: SourceDefault,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(envOf(tt.env), tt.flags, tt.settings)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if *got != tt.want {
				t.Errorf("Resolve:\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name     string
		flags    Flags
		env      map[string]string
		settings *Settings
		wantMsg  string
		wantHint string
	}{
		{
			name:     "no settings and no endpoint",
			settings: &Settings{},
			wantMsg:  "no Tharsis endpoint configured",
			wantHint: "THARSIS_ENDPOINT",
		},
		{
			name:     "unknown profile lists the known ones",
			flags:    Flags{Profile: "staging"},
			settings: testSettings(),
			wantMsg:  `no profile named "staging" (known profiles: default, empty, prod)`,
			wantHint: "tharsis configure",
		},
		{
			name:     "unknown profile from env",
			env:      map[string]string{"THARSIS_PROFILE": "nope"},
			settings: testSettings(),
			wantMsg:  `no profile named "nope"`,
		},
		{
			name:     "settings file exists but has no profiles",
			settings: &Settings{exists: true},
			wantMsg:  `no profile named "default": no profiles are configured`,
			wantHint: "tharsis configure --profile default",
		},
		{
			name:     "profile without endpoint",
			flags:    Flags{Profile: "empty"},
			settings: testSettings(),
			wantMsg:  `profile "empty" has no endpoint`,
		},
		{
			name:     "bad log level flag",
			flags:    Flags{LogLevel: "verbose"},
			settings: testSettings(),
			wantMsg:  `invalid --log-level "verbose"`,
			wantHint: "off, error, warn, info, debug, trace",
		},
		{
			name:     "bad log level env",
			env:      map[string]string{"THARSIS_CLI_LOG": "loud"},
			settings: testSettings(),
			wantMsg:  `invalid THARSIS_CLI_LOG "loud"`,
		},
		{
			name:     "bad tls env",
			env:      map[string]string{"THARSIS_TLS_SKIP_VERIFY": "maybe"},
			settings: testSettings(),
			wantMsg:  `invalid THARSIS_TLS_SKIP_VERIFY "maybe"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(envOf(tt.env), tt.flags, tt.settings)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *config.Error", err)
			}
			if !strings.Contains(ce.Msg, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", ce.Msg, tt.wantMsg)
			}
			if !strings.Contains(ce.Hint, tt.wantHint) {
				t.Errorf("hint %q does not contain %q", ce.Hint, tt.wantHint)
			}
		})
	}
}

func TestDir(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"THARSIS_CONFIG_DIR": "/cfg", "HOME": "/home/u"}, "/cfg"},
		{map[string]string{"HOME": "/home/u"}, filepath.Join("/home/u", ".tharsis")},
	}
	for _, tt := range tests {
		got, err := Dir(envOf(tt.env))
		if err != nil || got != tt.want {
			t.Errorf("Dir(%v) = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestSaveAndLoadRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", ".tharsis")
	s := NewStore(dir, nil)

	st, err := s.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if st.Exists() {
		t.Fatal("Exists() true for a missing file")
	}
	st.SetProfile("default", &Profile{Endpoint: "https://a.example", TLSSkipVerify: true})
	if err := s.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	if err := s.SetToken("default", "tok-1"); err != nil {
		t.Fatal(err)
	}

	if runtime.GOOS != "windows" {
		if got := mode(t, dir); got != 0o700 {
			t.Errorf("dir mode = %o, want 700", got)
		}
		for _, f := range []string{SettingsFile, CredentialsFile} {
			if got := mode(t, filepath.Join(dir, f)); got != 0o600 {
				t.Errorf("%s mode = %o, want 600", f, got)
			}
		}
	}

	// Exactly the reference CLI's format.
	var raw map[string]map[string]map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, SettingsFile))
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	p := raw["profiles"]["default"]
	if p["endpoint"] != "https://a.example" || p["tlsSkipVerify"] != true {
		t.Errorf("settings.json = %s", b)
	}
	b, _ = os.ReadFile(filepath.Join(dir, CredentialsFile))
	if !bytes.Contains(b, []byte(`"stateTokens": {`)) || !bytes.Contains(b, []byte(`"default": "tok-1"`)) {
		t.Errorf("credentials.json = %s", b)
	}

	st2, err := s.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := st2.Profile("default"); got == nil || got.Endpoint != "https://a.example" || !got.TLSSkipVerify {
		t.Errorf("reloaded profile = %+v", got)
	}
	if tok, _ := s.Token("default"); tok != "tok-1" {
		t.Errorf("Token = %q", tok)
	}
	if tok, _ := s.Token("other"); tok != "" {
		t.Errorf("Token(other) = %q", tok)
	}
	// No temporary files left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want 2: %v", len(entries), entries)
	}
}

func TestUnknownFieldsPreserved(t *testing.T) {
	dir := t.TempDir()
	in := `{"profiles":{"default":{"endpoint":"https://a.example","tlsSkipVerify":false,"color":"blue"}},"version":3}`
	if err := os.WriteFile(filepath.Join(dir, SettingsFile), []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	credsIn := `{"stateTokens":{"default":"t"},"refreshTokens":{"default":"r"}}`
	if err := os.WriteFile(filepath.Join(dir, CredentialsFile), []byte(credsIn), 0o600); err != nil {
		t.Fatal(err)
	}
	s := NewStore(dir, nil)
	st, err := s.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	st.SetProfile("new", &Profile{Endpoint: "https://b.example"})
	if err := s.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	if err := s.SetToken("new", "t2"); err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, SettingsFile))
	_ = json.Unmarshal(b, &out)
	if out["version"] != float64(3) {
		t.Errorf("top-level unknown field lost: %s", b)
	}
	if out["profiles"].(map[string]any)["default"].(map[string]any)["color"] != "blue" {
		t.Errorf("profile unknown field lost: %s", b)
	}
	b, _ = os.ReadFile(filepath.Join(dir, CredentialsFile))
	if !bytes.Contains(b, []byte(`"refreshTokens"`)) {
		t.Errorf("credentials unknown field lost: %s", b)
	}
}

func TestAtomicWriteKeepsOldFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir, nil)
	st := &Settings{}
	st.SetProfile("default", &Profile{Endpoint: "https://old.example"})
	if err := s.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(s.SettingsPath())

	// Simulate a crash between writing the temporary file and renaming it.
	s.rename = func(string, string) error { return errors.New("power cut") }
	st.SetProfile("default", &Profile{Endpoint: "https://new.example"})
	err := s.SaveSettings(st)
	if err == nil || !strings.Contains(err.Error(), "power cut") {
		t.Fatalf("SaveSettings error = %v", err)
	}
	after, _ := os.ReadFile(s.SettingsPath())
	if !bytes.Equal(before, after) {
		t.Errorf("settings changed despite failed write:\n%s", after)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary file left behind: %v", entries)
	}
	// A fresh store still reads the old content.
	st2, err := NewStore(dir, nil).LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := st2.Profile("default"); p.Endpoint != "https://old.example" {
		t.Errorf("endpoint = %q", p.Endpoint)
	}
}

func TestDeleteProfileRemovesToken(t *testing.T) {
	s := NewStore(t.TempDir(), nil)
	st := &Settings{}
	st.SetProfile("a", &Profile{Endpoint: "https://a.example"})
	st.SetProfile("b", &Profile{Endpoint: "https://b.example"})
	if err := s.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	_ = s.SetToken("a", "ta")
	_ = s.SetToken("b", "tb")
	ok, err := s.DeleteProfile("a")
	if err != nil || !ok {
		t.Fatalf("DeleteProfile = %v, %v", ok, err)
	}
	if tok, _ := s.Token("a"); tok != "" {
		t.Errorf("token of deleted profile kept: %q", tok)
	}
	if tok, _ := s.Token("b"); tok != "tb" {
		t.Errorf("other token lost: %q", tok)
	}
	st2, _ := s.LoadSettings()
	if got := st2.ProfileNames(); len(got) != 1 || got[0] != "b" {
		t.Errorf("profiles = %v", got)
	}
	ok, err = s.DeleteProfile("missing")
	if err != nil || ok {
		t.Errorf("DeleteProfile(missing) = %v, %v", ok, err)
	}
}

func TestLegacyMigration(t *testing.T) {
	dir := t.TempDir()
	legacy := `{"profiles":{` +
		`"default":{"tharsisURL":"https://old.example","stateToken":"legacy-token"},` +
		`"kept":{"endpoint":"https://kept.example","tlsSkipVerify":true}}}`
	if err := os.WriteFile(filepath.Join(dir, SettingsFile), []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	var msgs bytes.Buffer
	s := NewStore(dir, &msgs)
	st, err := s.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := st.Profile("default")
	if !ok || p.Endpoint != "https://old.example" {
		t.Fatalf("migrated profile = %+v", p)
	}
	if k, _ := st.Profile("kept"); !k.TLSSkipVerify || k.Endpoint != "https://kept.example" {
		t.Errorf("untouched profile changed: %+v", k)
	}
	if tok, _ := s.Token("default"); tok != "legacy-token" {
		t.Errorf("token = %q", tok)
	}
	bak, err := os.ReadFile(filepath.Join(dir, BackupFile))
	if err != nil || string(bak) != legacy {
		t.Errorf("backup = %q, %v", bak, err)
	}
	b, _ := os.ReadFile(s.SettingsPath())
	if bytes.Contains(b, []byte("tharsisURL")) || bytes.Contains(b, []byte("legacy-token")) {
		t.Errorf("legacy fields left in settings.json: %s", b)
	}
	for _, want := range []string{"Migrating settings", "Backup saved to " + filepath.Join(dir, BackupFile), "migration complete"} {
		if !strings.Contains(msgs.String(), want) {
			t.Errorf("messages %q lack %q", msgs.String(), want)
		}
	}
	// A second load finds nothing to migrate.
	msgs.Reset()
	if _, err := s.LoadSettings(); err != nil {
		t.Fatal(err)
	}
	if msgs.Len() != 0 {
		t.Errorf("migrated twice: %q", msgs.String())
	}
}

func TestLegacyMigrationKeepsNewerToken(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, SettingsFile), []byte(`{"profiles":{"default":{"tharsisURL":"https://x","stateToken":"old"}}}`), 0o600)
	_ = os.WriteFile(filepath.Join(dir, CredentialsFile), []byte(`{"stateTokens":{"default":"new"}}`), 0o600)
	s := NewStore(dir, nil)
	if _, err := s.LoadSettings(); err != nil {
		t.Fatal(err)
	}
	if tok, _ := s.Token("default"); tok != "new" {
		t.Errorf("token = %q, want the newer credentials.json one", tok)
	}
}

func TestInvalidFiles(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, SettingsFile), []byte(`{"profiles":`), 0o600)
	_ = os.WriteFile(filepath.Join(dir, CredentialsFile), []byte(`{"stateTokens":{"a":"SECRET`), 0o600)
	s := NewStore(dir, nil)
	var ce *Error
	if _, err := s.LoadSettings(); !errors.As(err, &ce) || !strings.Contains(ce.Msg, "is not valid") {
		t.Errorf("LoadSettings err = %v", err)
	}
	_, err := s.Token("a")
	if !errors.As(err, &ce) {
		t.Fatalf("Token err = %v", err)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error leaks file content: %v", err)
	}
}
