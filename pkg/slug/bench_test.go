package slug

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goslug "github.com/hashicorp/go-slug"
)

// Benchmarks compare three ways of producing the same upload (a .tar.gz in
// a temp file plus its SHA-256):
//
//	BenchmarkPack          this package, straight from disk
//	BenchmarkGoSlugDirect  go-slug's Pack(dir, file+sha256, true) on the directory
//	BenchmarkCopyThenPack  what the reference CLI does: copy the whole tree to a
//	                       temp dir, set every time to the epoch, then go-slug Pack
//
// Each runs on a small module (20 .tf files), a large one (5,000 .tf files
// by default) and a monorepo (300 .tf files beside 64 MiB of node_modules,
// excluded by .terraformignore, and .git packs), all with a .git directory
// and a .terraform provider binary as a real working directory has. Scale
// with environment variables:
//
//	SLUG_BENCH_LARGE_FILES   number of .tf files of the large tree (default 5000)
//	SLUG_BENCH_PROVIDER_MIB  size of the fake provider binary in MiB (default 4)
//	SLUG_BENCH_MONOREPO_MIB  excluded content of the monorepo in MiB (default 64)
//
// `make bench` (internal/bench) runs the same comparison at the issue's
// sizes, up to a 1 GB monorepo, one process per packing.

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

type benchCase struct {
	name  string
	files int
	// excludedMiB is content that ignore rules leave out: node_modules
	// (.terraformignore) and .git packs, half each.
	excludedMiB int
}

func benchCases() []benchCase {
	return []benchCase{
		{"small", 20, 0},
		{"large", envInt("SLUG_BENCH_LARGE_FILES", 5000), 0},
		{"monorepo", 300, envInt("SLUG_BENCH_MONOREPO_MIB", 64)},
	}
}

// genTree writes a configuration of c.files .tf files spread over
// directories of at most 50 files, plus .git and .terraform content, and
// for a monorepo node_modules excluded by .terraformignore.
func genTree(b *testing.B, c benchCase) string {
	b.Helper()
	n := c.files
	root := b.TempDir()
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	var sb strings.Builder
	for i := range n {
		dir := root
		if n > 50 {
			dir = filepath.Join(root, "modules", fmt.Sprintf("m%03d", i/50))
		}
		sb.Reset()
		for r := range 4 + rng.IntN(8) {
			fmt.Fprintf(&sb, "resource \"aws_instance\" \"r%d_%d\" {\n  ami           = \"ami-%08x\"\n  instance_type = \"t3.%s\"\n  tags = {\n    Name = \"node-%d\"\n    Team = \"team-%d\"\n  }\n}\n\n",
				i, r, rng.Uint32(), []string{"micro", "small", "large"}[rng.IntN(3)], rng.IntN(1000), rng.IntN(20))
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file%04d.tf", i)), []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	extra := map[string]int{
		".git/HEAD":   20,
		".git/config": 300,
		".terraform/providers/registry.terraform.io/hashicorp/aws/5.0.0/linux_amd64/terraform-provider-aws": envInt("SLUG_BENCH_PROVIDER_MIB", 4) << 20,
	}
	for i := range 40 {
		extra[fmt.Sprintf(".git/objects/%02x/%038x", i, i)] = 2000
	}
	if c.excludedMiB > 0 {
		if err := os.WriteFile(filepath.Join(root, ".terraformignore"), []byte("node_modules/\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		half := c.excludedMiB << 19
		for i := range half / (16 << 10) {
			extra[fmt.Sprintf("node_modules/pkg%03d/lib/file%02d.js", i/20, i%20)] = 16 << 10
		}
		extra[".git/objects/pack/pack-0000.pack"] = half
	}
	for p, size := range extra {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return root
}

func BenchmarkPack(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			dir, tmp := genTree(b, c), b.TempDir()
			b.ReportAllocs()
			for b.Loop() {
				res, err := Pack(b.Context(), dir, Options{TempDir: tmp})
				if err != nil {
					b.Fatal(err)
				}
				_ = res.Remove()
			}
		})
	}
}

func BenchmarkPackDeterministic(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			dir, tmp := genTree(b, c), b.TempDir()
			b.ReportAllocs()
			for b.Loop() {
				res, err := Pack(b.Context(), dir, Options{TempDir: tmp, Deterministic: true})
				if err != nil {
					b.Fatal(err)
				}
				_ = res.Remove()
			}
		})
	}
}

// goSlugToTemp is the reference's packing step: go-slug into a temp file
// and a SHA-256 through an io.MultiWriter.
func goSlugToTemp(b *testing.B, dir, tmp string) {
	f, err := os.CreateTemp(tmp, "terraform-slug-*.tar.gz")
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	if _, err := goslug.Pack(dir, io.MultiWriter(f, h), true); err != nil {
		b.Fatal(err)
	}
	_ = h.Sum(nil)
	_ = f.Close()
	_ = os.Remove(f.Name())
}

func BenchmarkGoSlugDirect(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			dir, tmp := genTree(b, c), b.TempDir()
			b.ReportAllocs()
			for b.Loop() {
				goSlugToTemp(b, dir, tmp)
			}
		})
	}
}

func BenchmarkCopyThenPack(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			dir, tmp := genTree(b, c), b.TempDir()
			b.ReportAllocs()
			for b.Loop() {
				cp, err := os.MkdirTemp(tmp, "slug-*")
				if err != nil {
					b.Fatal(err)
				}
				copyTreeEpoch(b, dir, cp)
				goSlugToTemp(b, cp, tmp)
				_ = os.RemoveAll(cp)
			}
		})
	}
}

// copyTreeEpoch copies everything (no ignore rules), recreating symlinks
// and setting times to the epoch, as the reference CLI does before packing.
func copyTreeEpoch(b *testing.B, src, dst string) {
	epoch := time.Unix(0, 0)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
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
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
			if err != nil {
				_ = in.Close()
				return err
			}
			_, err = io.Copy(out, in)
			_ = in.Close()
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
		return os.Chtimes(target, epoch, epoch)
	})
	if err != nil {
		b.Fatal(err)
	}
}
