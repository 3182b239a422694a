package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// Permissions of the settings directory and its files: they hold tokens.
const (
	dirPerm  os.FileMode = 0o700
	filePerm os.FileMode = 0o600
)

// writeFile replaces name in the store directory with data: it writes a
// temporary file in the same directory, syncs it and renames it over the old
// file, then syncs the directory. A crash at any point leaves either the old
// file or the new one.
func (s *Store) writeFile(name string, data []byte) (err error) {
	if err := os.MkdirAll(s.dir, dirPerm); err != nil {
		return fmt.Errorf("creating settings directory: %w", err)
	}
	path := filepath.Join(s.dir, name)
	tmp, err := os.CreateTemp(s.dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	// CreateTemp uses 0600 already; be explicit in case that ever changes.
	if err = tmp.Chmod(filePerm); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = s.rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(s.dir)
	return nil
}

// syncDir makes the rename durable. Not every platform can sync a directory
// (Windows cannot), so failures are ignored.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
