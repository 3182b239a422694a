package config

import (
	"encoding/json"
	"fmt"
	"path/filepath"
)

// Old versions of the reference CLI kept the token inside settings.json:
//
//	{"profiles": {"default": {"tharsisURL": "https://…", "stateToken": "…"}}}
//
// needsMigration reports whether any profile still has that shape.
func needsMigration(st *Settings) bool {
	for _, p := range st.Profiles {
		if _, ok := p.extra[legacyURLKey]; ok {
			return true
		}
		if _, ok := p.extra[legacyTokenKey]; ok {
			return true
		}
	}
	return false
}

// migrate moves legacy profiles to the current shape: tharsisURL becomes
// endpoint and stateToken moves to credentials.json. The original file is
// kept as settings.json.bak. Credentials are written before settings, so an
// interrupted migration is simply done again on the next run.
func (s *Store) migrate(st *Settings, original []byte) error {
	fmt.Fprintln(s.msgs, "Migrating settings to the new format...")
	if err := s.writeFile(BackupFile, original); err != nil {
		return fmt.Errorf("migrating settings: %w", err)
	}
	fmt.Fprintf(s.msgs, "Backup saved to %s\n", filepath.Join(s.dir, BackupFile))

	creds, err := s.LoadCredentials()
	if err != nil {
		return fmt.Errorf("migrating settings: %w", err)
	}
	for name, p := range st.Profiles {
		var url, token string
		if raw, ok := p.extra[legacyURLKey]; ok {
			if err := json.Unmarshal(raw, &url); err != nil {
				return fmt.Errorf("migrating profile %q: %s is not a string", name, legacyURLKey)
			}
			delete(p.extra, legacyURLKey)
		}
		if raw, ok := p.extra[legacyTokenKey]; ok {
			if err := json.Unmarshal(raw, &token); err != nil {
				return fmt.Errorf("migrating profile %q: %s is not a string", name, legacyTokenKey)
			}
			delete(p.extra, legacyTokenKey)
		}
		if p.Endpoint == "" {
			p.Endpoint = url
		}
		// A token already in credentials.json is newer than the legacy one.
		if token != "" && creds.StateTokens[name] == "" {
			creds.StateTokens[name] = token
		}
	}
	if err := s.SaveCredentials(creds); err != nil {
		return fmt.Errorf("migrating settings: %w", err)
	}
	if err := s.SaveSettings(st); err != nil {
		return fmt.Errorf("migrating settings: %w", err)
	}
	fmt.Fprintln(s.msgs, "Settings migration complete.")
	return nil
}
