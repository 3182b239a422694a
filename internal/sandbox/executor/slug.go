package executor

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

const (
	// maxSlugBytes bounds what ReadSlug keeps in memory.
	maxSlugBytes = 64 << 20
	// maxAuxFileBytes bounds non-Terraform files kept for file() and
	// templatefile(); larger ones (archives, binaries) are skipped.
	maxAuxFileBytes = 1 << 20
)

// ReadSlug extracts a configuration from a go-slug tar.gz stream: every
// Terraform file (*.tf, *.tf.json, *.tfvars, *.tfvars.json) at any depth, so
// local module directories come along, plus small other files that
// file() and templatefile() may read. Paths are slash-separated and
// relative to the root module; .terraform and .git directories are skipped.
func ReadSlug(r io.Reader) (map[string][]byte, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read slug: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	links := map[string]string{}
	total := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read slug: %w", err)
		}
		name, ok := slugPath(hdr.Name)
		if !ok {
			return nil, fmt.Errorf("read slug: illegal path %q", hdr.Name)
		}
		if name == "" || skippedDir(name) {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			if !isTerraformFile(name) && hdr.Size > maxAuxFileBytes {
				continue
			}
			total += int(hdr.Size)
			if hdr.Size < 0 || total > maxSlugBytes {
				return nil, fmt.Errorf("read slug: configuration is larger than %d bytes", maxSlugBytes)
			}
			b, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
			if err != nil {
				return nil, fmt.Errorf("read slug: %s: %w", name, err)
			}
			files[name] = b
		case tar.TypeSymlink:
			target := hdr.Linkname
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(name), target)
			}
			if t, ok := slugPath(target); ok {
				links[name] = t
			}
		}
	}
	// go-slug keeps symlinks that stay inside the directory; resolve those
	// that point at files.
	for name, target := range links {
		if b, ok := files[target]; ok {
			files[name] = b
		}
	}
	return files, nil
}

func isTerraformFile(name string) bool {
	for _, suffix := range []string{".tf", ".tf.json", ".tfvars", ".tfvars.json"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

func skippedDir(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if part == ".terraform" || part == ".git" {
			return true
		}
	}
	return false
}

// slugPath cleans an archive path; ok is false if it escapes the root.
func slugPath(name string) (string, bool) {
	name = strings.ReplaceAll(name, "\\", "/")
	if path.IsAbs(name) {
		return "", false
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", true
	}
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	return clean, true
}

// cleanSlugPath normalizes a Files key from a caller.
func cleanSlugPath(name string) string {
	clean, ok := slugPath(name)
	if !ok {
		return name
	}
	return clean
}
