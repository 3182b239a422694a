package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	goslug "github.com/hashicorp/go-slug"

	"github.com/tharsis-cli/tharsis/pkg/slug"
)

// Packers compared by the packing benchmark.
const (
	PackerTharsis = "tharsis"      // pkg/slug, straight from disk
	PackerGoSlug  = "go-slug"      // go-slug's Pack on the directory, same rules
	PackerCopy    = "copy+go-slug" // the reference CLI: copy the tree, then go-slug
)

// Packers lists the packers in table order.
var Packers = []string{PackerTharsis, PackerGoSlug, PackerCopy}

// PackOutput is what one packing reports.
type PackOutput struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Pack packs dir once with the named packer into a temporary file under
// tmp, which it removes again.
func Pack(ctx context.Context, packer, dir, tmp string) (PackOutput, error) {
	out, file, err := packKeep(ctx, packer, dir, tmp)
	if file != "" {
		_ = os.Remove(file)
	}
	return out, err
}

// packKeep is Pack leaving the package file (its path is returned) for
// the caller to remove.
func packKeep(ctx context.Context, packer, dir, tmp string) (PackOutput, string, error) {
	switch packer {
	case PackerTharsis:
		// As the run engine calls it (runflow.uploadDirectory).
		res, err := slug.Pack(ctx, dir, slug.Options{WarnSize: slug.DefaultWarnSize, TempDir: tmp})
		if err != nil {
			return PackOutput{}, "", err
		}
		return PackOutput{Size: res.Size, SHA256: res.SHA256}, res.Path, nil
	case PackerGoSlug:
		return goSlugPack(dir, tmp)
	case PackerCopy:
		cp, err := os.MkdirTemp(tmp, "slug-*")
		if err != nil {
			return PackOutput{}, "", err
		}
		defer func() { _ = os.RemoveAll(cp) }()
		if err := copyTreeEpoch(ctx, dir, cp); err != nil {
			return PackOutput{}, "", err
		}
		return goSlugPack(cp, tmp)
	}
	return PackOutput{}, "", fmt.Errorf("unknown packer %q", packer)
}

// goSlugPack is the reference CLI's packing step: go-slug with
// dereferencing into a temp file, hashed through an io.MultiWriter.
func goSlugPack(dir, tmp string) (out PackOutput, file string, err error) {
	f, err := os.CreateTemp(tmp, "terraform-slug-*.tar.gz")
	if err != nil {
		return PackOutput{}, "", err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	h := sha256.New()
	if _, err := goslug.Pack(dir, io.MultiWriter(f, h), true); err != nil {
		return PackOutput{}, f.Name(), err
	}
	st, err := f.Stat()
	if err != nil {
		return PackOutput{}, f.Name(), err
	}
	return PackOutput{Size: st.Size(), SHA256: hex.EncodeToString(h.Sum(nil))}, f.Name(), nil
}

// copyTreeEpoch copies the whole tree (no ignore rules), recreating
// symlinks and setting every time to the Unix epoch, as the reference CLI
// does before packing.
func copyTreeEpoch(ctx context.Context, src, dst string) error {
	epoch := time.Unix(0, 0)
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, info.Mode().Perm()); err != nil {
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			if err := copyFile(p, target, info.Mode().Perm()); err != nil {
				return err
			}
		}
		return os.Chtimes(target, epoch, epoch)
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
