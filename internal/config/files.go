// Package config reads and writes the settings and credentials files and
// resolves the effective settings (profile, endpoint, TLS, log level) from
// flags, environment variables and the active profile.
//
// The files keep the reference CLI's format, so both CLIs can share
// ~/.tharsis:
//
//	settings.json     {"profiles": {"<name>": {"endpoint": "https://…", "tlsSkipVerify": false}}}
//	credentials.json  {"stateTokens": {"<profile>": "<token>"}}
//
// Fields this CLI does not know are kept when a file is rewritten. Profiles
// may also carry "caCertFile" (a PEM bundle to trust), which the reference
// CLI ignores.
//
// Why not viper: viper lower-cases every key (profile names are
// case-sensitive and the file keys are camelCase), reads the real process
// environment (tests must not), and writes files in place. The files are small
// JSON documents, so encoding/json plus an atomic writer is the simpler and
// safer tool.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// File names inside the settings directory.
const (
	SettingsFile    = "settings.json"
	CredentialsFile = "credentials.json"
	BackupFile      = "settings.json.bak"
)

// DefaultProfile is the profile used when none is chosen.
const DefaultProfile = "default"

// Dir returns the settings directory: $THARSIS_CONFIG_DIR, else ~/.tharsis.
func Dir(getenv func(string) string) (string, error) {
	if d := getenv("THARSIS_CONFIG_DIR"); d != "" {
		return d, nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find the home directory (set HOME or THARSIS_CONFIG_DIR): %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".tharsis"), nil
}

// Profile is one entry of settings.json.
type Profile struct {
	Endpoint      string
	TLSSkipVerify bool
	CACertFile    string

	extra map[string]json.RawMessage // fields we do not know, kept on write
}

// Legacy (pre-credentials.json) profile keys, see migrate.
const (
	legacyURLKey   = "tharsisURL"
	legacyTokenKey = "stateToken"
)

// UnmarshalJSON keeps unknown fields.
func (p *Profile) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := take(raw, "endpoint", &p.Endpoint); err != nil {
		return err
	}
	if err := take(raw, "tlsSkipVerify", &p.TLSSkipVerify); err != nil {
		return err
	}
	if err := take(raw, "caCertFile", &p.CACertFile); err != nil {
		return err
	}
	p.extra = raw
	return nil
}

// MarshalJSON writes the known fields and the kept unknown ones.
func (p Profile) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for k, v := range p.extra {
		m[k] = v
	}
	m["endpoint"] = p.Endpoint
	m["tlsSkipVerify"] = p.TLSSkipVerify
	if p.CACertFile != "" {
		m["caCertFile"] = p.CACertFile
	}
	return json.Marshal(m)
}

// take moves key from raw into dst (when present and not null).
func take(raw map[string]json.RawMessage, key string, dst any) error {
	v, ok := raw[key]
	if !ok {
		return nil
	}
	delete(raw, key)
	if string(v) == "null" {
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return fmt.Errorf("field %q: %w", key, err)
	}
	return nil
}

// Settings is settings.json.
type Settings struct {
	Profiles map[string]*Profile

	extra  map[string]json.RawMessage
	exists bool
}

// Exists reports whether the settings file was found on disk.
func (s *Settings) Exists() bool { return s != nil && s.exists }

// Profile returns the named profile.
func (s *Settings) Profile(name string) (*Profile, bool) {
	if s == nil {
		return nil, false
	}
	p, ok := s.Profiles[name]
	return p, ok && p != nil
}

// ProfileNames returns the profile names, sorted.
func (s *Settings) ProfileNames() []string {
	if s == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(s.Profiles))
}

// SetProfile adds or replaces a profile.
func (s *Settings) SetProfile(name string, p *Profile) {
	if s.Profiles == nil {
		s.Profiles = map[string]*Profile{}
	}
	s.Profiles[name] = p
}

// UnmarshalJSON keeps unknown fields.
func (s *Settings) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := take(raw, "profiles", &s.Profiles); err != nil {
		return err
	}
	s.extra = raw
	return nil
}

// MarshalJSON writes the profiles and the kept unknown fields.
func (s Settings) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for k, v := range s.extra {
		m[k] = v
	}
	profiles := s.Profiles
	if profiles == nil {
		profiles = map[string]*Profile{}
	}
	m["profiles"] = profiles
	return json.Marshal(m)
}

// Credentials is credentials.json.
type Credentials struct {
	StateTokens map[string]string

	extra map[string]json.RawMessage
}

// UnmarshalJSON keeps unknown fields.
func (c *Credentials) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := take(raw, "stateTokens", &c.StateTokens); err != nil {
		return err
	}
	c.extra = raw
	return nil
}

// MarshalJSON writes the tokens and the kept unknown fields.
func (c Credentials) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for k, v := range c.extra {
		m[k] = v
	}
	tokens := c.StateTokens
	if tokens == nil {
		tokens = map[string]string{}
	}
	m["stateTokens"] = tokens
	return json.Marshal(m)
}

// Store reads and writes the files of one settings directory. Every write is
// atomic: a reader sees the old file or the new one, never a partial one.
// Concurrent writers are not serialised (the last rename wins).
type Store struct {
	dir  string
	msgs io.Writer

	// rename is os.Rename; tests replace it to simulate a crash before the
	// new file is put in place.
	rename func(oldpath, newpath string) error
}

// NewStore returns a store for dir. Migration messages are written to msgs
// (stderr); nil discards them.
func NewStore(dir string, msgs io.Writer) *Store {
	if msgs == nil {
		msgs = io.Discard
	}
	return &Store{dir: dir, msgs: msgs, rename: os.Rename}
}

// Dir is the settings directory.
func (s *Store) Dir() string { return s.dir }

// SettingsPath is the path of settings.json.
func (s *Store) SettingsPath() string { return filepath.Join(s.dir, SettingsFile) }

// CredentialsPath is the path of credentials.json.
func (s *Store) CredentialsPath() string { return filepath.Join(s.dir, CredentialsFile) }

// LoadSettings reads settings.json. A missing file gives empty settings whose
// Exists is false. Profiles in the legacy inline shape are migrated (see
// migrate).
func (s *Store) LoadSettings() (*Settings, error) {
	b, err := os.ReadFile(s.SettingsPath())
	if errors.Is(err, fs.ErrNotExist) {
		return &Settings{Profiles: map[string]*Profile{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading settings: %w", err)
	}
	st := &Settings{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, &Error{
			Msg:  fmt.Sprintf("settings file %s is not valid: %v", s.SettingsPath(), err),
			Hint: "fix or remove the file, then run 'tharsis configure'",
		}
	}
	st.exists = true
	if st.Profiles == nil {
		st.Profiles = map[string]*Profile{}
	}
	for name, p := range st.Profiles {
		if p == nil {
			delete(st.Profiles, name)
		}
	}
	if needsMigration(st) {
		if err := s.migrate(st, b); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// SaveSettings writes settings.json atomically (creating the directory).
func (s *Store) SaveSettings(st *Settings) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := s.writeFile(SettingsFile, append(b, '\n')); err != nil {
		return err
	}
	st.exists = true
	return nil
}

// LoadCredentials reads credentials.json; a missing file means no tokens.
func (s *Store) LoadCredentials() (*Credentials, error) {
	c := &Credentials{}
	b, err := os.ReadFile(s.CredentialsPath())
	if errors.Is(err, fs.ErrNotExist) {
		c.StateTokens = map[string]string{}
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading credentials: %w", err)
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, &Error{
			// Never quote the content: it holds tokens.
			Msg:  fmt.Sprintf("credentials file %s is not valid JSON", s.CredentialsPath()),
			Hint: "remove the file and log in again with 'tharsis sso login'",
		}
	}
	if c.StateTokens == nil {
		c.StateTokens = map[string]string{}
	}
	return c, nil
}

// SaveCredentials writes credentials.json atomically (creating the directory).
func (s *Store) SaveCredentials(c *Credentials) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return s.writeFile(CredentialsFile, append(b, '\n'))
}

// Token returns the stored token of a profile, or "" when there is none. It
// reads the file on every call so a token refreshed by another process (for
// example a concurrent `sso login`) is picked up.
func (s *Store) Token(profile string) (string, error) {
	c, err := s.LoadCredentials()
	if err != nil {
		return "", err
	}
	return c.StateTokens[profile], nil
}

// SetToken stores (or, with an empty token, removes) the token of a profile.
func (s *Store) SetToken(profile, token string) error {
	c, err := s.LoadCredentials()
	if err != nil {
		return err
	}
	if token == "" {
		if _, ok := c.StateTokens[profile]; !ok {
			return nil
		}
		delete(c.StateTokens, profile)
	} else {
		c.StateTokens[profile] = token
	}
	return s.SaveCredentials(c)
}

// DeleteProfile removes a profile and its stored token. It reports whether
// the profile existed.
func (s *Store) DeleteProfile(name string) (bool, error) {
	st, err := s.LoadSettings()
	if err != nil {
		return false, err
	}
	if _, ok := st.Profile(name); !ok {
		return false, nil
	}
	// Token first: a crash in between leaves a profile without a token,
	// never a token without its profile.
	if err := s.SetToken(name, ""); err != nil {
		return false, err
	}
	delete(st.Profiles, name)
	return true, s.SaveSettings(st)
}

// Error is a configuration error with a hint telling the user what to do.
type Error struct {
	Msg  string
	Hint string
}

func (e *Error) Error() string { return e.Msg }

// ErrorHint is shown by the CLI on a separate "Hint:" line.
func (e *Error) ErrorHint() string { return e.Hint }
