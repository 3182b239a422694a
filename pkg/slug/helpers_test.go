package slug

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// mkTree creates files under root from a spec: a key ending in "/" is a
// directory, a value starting with "->" is a symlink to the rest of the
// value, anything else is a file with that content.
func mkTree(t testing.TB, root string, spec map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(spec))
	for k := range spec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := spec[k]
		p := filepath.Join(root, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(k, "/"):
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(v, "->"):
			if err := os.Symlink(strings.TrimPrefix(v, "->"), p); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

type tarEntry struct {
	hdr     tar.Header
	content string
}

// readTar decompresses and parses a slug.
func readTar(t testing.TB, data []byte) []tarEntry {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out []tarEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{hdr: *h, content: string(b)})
	}
	return out
}

// summary renders entries as "path" (dir), "path=content" (file) or
// "path->target" (symlink), in archive order.
func summary(entries []tarEntry) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		switch e.hdr.Typeflag {
		case tar.TypeDir:
			out = append(out, e.hdr.Name)
		case tar.TypeSymlink:
			out = append(out, e.hdr.Name+"->"+e.hdr.Linkname)
		default:
			out = append(out, e.hdr.Name+"="+e.content)
		}
	}
	return out
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func packT(t testing.TB, dir string, opts Options) (*Result, []byte) {
	t.Helper()
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	res, err := Pack(t.Context(), dir, opts)
	if err != nil {
		t.Fatalf("Pack(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = res.Remove() })
	return res, readFile(t, res.Path)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
