package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	goversion "github.com/hashicorp/go-version"
)

// moduleRegistry holds the modules module-source runs resolve against.
// It is guarded by the server lock.
type moduleRegistry struct {
	mods map[string]map[string]map[string][]byte // source -> version -> files
	// digests are the SHA-256 sums of versions published through the
	// registry API (registry.go), reported as the run's module digest
	// instead of the hash of the files.
	digests map[string]map[string]string
}

func newModuleRegistry() *moduleRegistry {
	return &moduleRegistry{mods: map[string]map[string]map[string][]byte{}, digests: map[string]map[string]string{}}
}

// publish adds a version uploaded to the registry API.
func (m *moduleRegistry) publish(source, version string, files map[string][]byte, digest string) {
	src := normalizeSource(source)
	if m.mods[src] == nil {
		m.mods[src] = map[string]map[string][]byte{}
	}
	if m.digests[src] == nil {
		m.digests[src] = map[string]string{}
	}
	m.mods[src][version] = files
	m.digests[src][version] = digest
}

// unpublish removes a version (deleted from the registry API).
func (m *moduleRegistry) unpublish(source, version string) {
	src := normalizeSource(source)
	delete(m.mods[src], version)
	delete(m.digests[src], version)
	if len(m.mods[src]) == 0 {
		delete(m.mods, src)
		delete(m.digests, src)
	}
}

func (m *moduleRegistry) files(source, version string) (map[string][]byte, bool) {
	f, ok := m.mods[normalizeSource(source)][version]
	return f, ok
}

// normalizeSource drops a leading scheme so "https://host/a/b/c" and
// "host/a/b/c" name the same module.
func normalizeSource(src string) string {
	for _, p := range []string{"https://", "http://"} {
		src = strings.TrimPrefix(src, p)
	}
	return strings.TrimSuffix(src, "/")
}

// resolve picks the newest registered version of source matching the
// constraint (all versions when nil), skipping prereleases unless asked.
func (m *moduleRegistry) resolve(source string, constraint *string, prereleases bool) (string, string, error) {
	versions := m.mods[normalizeSource(source)]
	if len(versions) == 0 {
		return "", "", errInvalid("failed to resolve module source: module %s not found in the sandbox's module registry", source)
	}
	var cons goversion.Constraints
	if constraint != nil {
		c, err := goversion.NewConstraint(*constraint)
		if err != nil {
			return "", "", errInvalid("module version is not a valid semver version or constraint expression")
		}
		cons = c
	}
	var best *goversion.Version
	bestRaw := ""
	for raw := range versions {
		v, err := goversion.NewVersion(raw)
		if err != nil {
			continue
		}
		if v.Prerelease() != "" && !prereleases {
			// An exact pin on a prerelease still selects it.
			if constraint == nil || strings.TrimPrefix(*constraint, "=") != raw {
				continue
			}
		}
		if cons != nil && !cons.Check(v) && !(v.Prerelease() != "" && prereleases && cons.Check(v.Core())) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestRaw = v, raw
		}
	}
	if best == nil {
		want := "any version"
		if constraint != nil {
			want = *constraint
		}
		return "", "", errInvalid("failed to resolve module source: no version of module %s matches %s", source, want)
	}
	if d, ok := m.digests[normalizeSource(source)][bestRaw]; ok {
		return bestRaw, d, nil
	}
	return bestRaw, digest(versions[bestRaw]), nil
}

// digest is a stable hash of a module's files, shown as Run.moduleDigest.
func digest(files map[string][]byte) string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(files[name]))
		h.Write(files[name])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RegisterModule makes a module version available to module-source runs.
// source is the address runs give (e.g. "sandbox.local/sandbox/demo/null");
// files maps slash-separated paths to contents.
func (s *Server) RegisterModule(source, version string, files map[string][]byte) error {
	if _, err := goversion.NewSemver(version); err != nil {
		return fmt.Errorf("module version %q is not a semantic version: %w", version, err)
	}
	cp := make(map[string][]byte, len(files))
	for k, v := range files {
		cp[k] = append([]byte(nil), v...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	src := normalizeSource(source)
	if s.mods.mods[src] == nil {
		s.mods.mods[src] = map[string]map[string][]byte{}
	}
	s.mods.mods[src][version] = cp
	delete(s.mods.digests[src], version)
	return nil
}

// LoadModulesDir registers every module version under dir. The layout is
// <dir>/<source>/<version>/..., e.g.
// modules/sandbox.local/sandbox/null/aws/1.0.0/main.tf registers source
// "sandbox.local/sandbox/null/aws" version "1.0.0". A directory is a version
// when its name is a semantic version.
func (s *Server) LoadModulesDir(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || p == dir {
			return nil
		}
		if _, verr := goversion.NewSemver(d.Name()); verr != nil {
			return nil
		}
		rel, err := filepath.Rel(dir, filepath.Dir(p))
		if err != nil || rel == "." {
			return nil
		}
		files := map[string][]byte{}
		werr := filepath.WalkDir(p, func(fp string, fd fs.DirEntry, err error) error {
			if err != nil || fd.IsDir() {
				return err
			}
			b, err := os.ReadFile(fp)
			if err != nil {
				return err
			}
			r, _ := filepath.Rel(p, fp)
			files[filepath.ToSlash(r)] = b
			return nil
		})
		if werr != nil {
			return werr
		}
		if err := s.RegisterModule(filepath.ToSlash(rel), d.Name(), files); err != nil {
			return err
		}
		return filepath.SkipDir
	})
}
