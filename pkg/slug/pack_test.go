package slug

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	goslug "github.com/hashicorp/go-slug"
)

func TestPackContents(t *testing.T) {
	tests := []struct {
		name string
		// tree is created in <tmp>/cfg; outside in <tmp>/outside.
		tree, outside map[string]string
		// absLinks are symlinks created with absolute targets: link path in
		// cfg -> target relative to <tmp>.
		absLinks     map[string]string
		want         []string
		wantWarnings []string
	}{
		{
			name: "ignore rules with negation",
			tree: map[string]string{
				".terraformignore": "*.tf\n!keep.tf\n",
				"drop.tf":          "1",
				"keep.tf":          "2",
				"sub/keep.tf":      "3",
				"sub/drop.tf":      "4",
			},
			want: []string{".terraformignore=*.tf\n!keep.tf\n", "keep.tf=2", "sub/", "sub/keep.tf=3"},
		},
		{
			name: "default exclusions keep .terraform/modules",
			tree: map[string]string{
				"main.tf":                         "m",
				".git/HEAD":                       "ref",
				".terraform/providers/p":          "bin",
				".terraform/terraform.tfstate":    "state",
				".terraform/modules/modules.json": "{}",
				".terraform/modules/vpc/main.tf":  "vpc",
				"mod/.terraform/modules/x/a.tf":   "x",
				"mod/.git/config":                 "c",
			},
			want: []string{
				".terraform/modules/modules.json={}",
				".terraform/modules/vpc/", ".terraform/modules/vpc/main.tf=vpc",
				"main.tf=m",
				"mod/", "mod/.terraform/modules/x/", "mod/.terraform/modules/x/a.tf=x",
			},
		},
		{
			name: "nested .terraformignore is an ordinary file",
			tree: map[string]string{
				"main.tf":              "m",
				"sub/.terraformignore": "*.tf\n",
				"sub/a.tf":             "a",
			},
			want: []string{"main.tf=m", "sub/", "sub/.terraformignore=*.tf\n", "sub/a.tf=a"},
		},
		{
			name: "internal symlinks stay links",
			tree: map[string]string{
				"main.tf":        "m",
				"alias.tf":       "->main.tf",
				"sub/up.tf":      "->../main.tf",
				"dirlink":        "->sub",
				"sub/self":       "->.",
				"modules/a/a.tf": "a",
			},
			want: []string{"alias.tf->main.tf", "dirlink->sub", "main.tf=m", "modules/", "modules/a/", "modules/a/a.tf=a", "sub/", "sub/self->.", "sub/up.tf->../main.tf"},
		},
		{
			name:     "absolute internal symlink stored relative",
			tree:     map[string]string{"main.tf": "m", "sub/x": "x"},
			absLinks: map[string]string{"sub/abs.tf": "cfg/main.tf"},
			want:     []string{"main.tf=m", "sub/", "sub/abs.tf->../main.tf", "sub/x=x"},
		},
		{
			name: "relative symlink climbing out through the directory's own name",
			tree: map[string]string{"main.tf": "m", "round.tf": "->../cfg/main.tf"},
			want: []string{"main.tf=m", "round.tf->main.tf"},
		},
		{
			name:    "external file symlink with a relative target is followed",
			tree:    map[string]string{"main.tf": "m", "common.tf": "->../outside/common.tf"},
			outside: map[string]string{"common.tf": "shared"},
			want:    []string{"common.tf=shared", "main.tf=m"},
		},
		{
			name:     "external file symlink with an absolute target is followed",
			tree:     map[string]string{"main.tf": "m"},
			outside:  map[string]string{"common.tf": "shared-abs"},
			absLinks: map[string]string{"common.tf": "outside/common.tf"},
			want:     []string{"common.tf=shared-abs", "main.tf=m"},
		},
		{
			name: "external directory symlink is followed, links inside it rewritten",
			tree: map[string]string{"main.tf": "m", "lib": "->../outside/lib"},
			outside: map[string]string{
				"lib/a.tf":          "a",
				"lib/b.tf":          "->a.tf",              // outside: followed
				"lib/back.tf":       "->../../cfg/main.tf", // into cfg: a link, relative to lib/
				"lib/nested/n.tf":   "n",
				"lib/.git/HEAD":     "ignored",
				"lib/empty/.keep/":  "",
				"lib/chain.tf":      "->b.tf",
				"lib/nested/up.txt": "->../a.tf",
			},
			want: []string{
				"lib/", "lib/a.tf=a", "lib/b.tf=a", "lib/back.tf->../main.tf", "lib/chain.tf=a",
				"lib/empty/", "lib/empty/.keep/",
				"lib/nested/", "lib/nested/n.tf=n", "lib/nested/up.txt=a",
				"main.tf=m",
			},
		},
		{
			name: "ignore rules apply to paths below a followed directory",
			tree: map[string]string{
				".terraformignore": "/lib/secret.txt\n",
				"main.tf":          "m",
				"lib":              "->../outside/lib",
			},
			outside: map[string]string{"lib/secret.txt": "s", "lib/ok.tf": "ok"},
			want:    []string{".terraformignore=/lib/secret.txt\n", "lib/", "lib/ok.tf=ok", "main.tf=m"},
		},
		{
			name: "directory rule excludes a followed directory without walking it",
			tree: map[string]string{
				".terraformignore": "lib/\n",
				"main.tf":          "m",
				"lib":              "->../outside/loop",
			},
			outside: map[string]string{"loop/self": "->.."}, // would be a loop if walked
			want:    []string{".terraformignore=lib/\n", "main.tf=m"},
		},
		{
			name: "directory matched by name only keeps its contents, with a warning",
			tree: map[string]string{
				".terraformignore":          "node_modules\n",
				"main.tf":                   "m",
				"node_modules/pkg/index.js": "js",
			},
			want:         []string{".terraformignore=node_modules\n", "main.tf=m", "node_modules/pkg/", "node_modules/pkg/index.js=js"},
			wantWarnings: []string{`.terraformignore:1: "node_modules" matches the directory`, `write "node_modules/"`},
		},
		{
			name: "link to an excluded file warns",
			tree: map[string]string{
				".terraformignore": "secret.txt\n",
				"secret.txt":       "s",
				"alias":            "->secret.txt",
			},
			want:         []string{".terraformignore=secret.txt\n", "alias->secret.txt"},
			wantWarnings: []string{"alias points to secret.txt, which .terraformignore excludes"},
		},
		{
			name: "empty directory",
			tree: map[string]string{"empty/": "", "main.tf": ""},
			want: []string{"empty/", "main.tf="},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			cfg := filepath.Join(base, "cfg")
			mkTree(t, cfg, tt.tree)
			mkTree(t, filepath.Join(base, "outside"), tt.outside)
			for link, target := range tt.absLinks {
				if err := os.Symlink(filepath.Join(base, target), filepath.Join(cfg, link)); err != nil {
					t.Fatal(err)
				}
			}
			res, data := packT(t, cfg, Options{})
			got := summary(readTar(t, data))
			if !equalStrings(got, tt.want) {
				t.Errorf("archive entries\n got: %q\nwant: %q", got, tt.want)
			}
			joined := strings.Join(res.Warnings, "\n")
			for _, w := range tt.wantWarnings {
				if !strings.Contains(joined, w) {
					t.Errorf("warnings %q do not contain %q", res.Warnings, w)
				}
			}
			if len(tt.wantWarnings) == 0 && len(res.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", res.Warnings)
			}
			// List must describe the same archive.
			l, err := List(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var listed []string
			for _, e := range readTar(t, data) {
				listed = append(listed, e.hdr.Name)
			}
			var paths []string
			for _, f := range l.Files {
				paths = append(paths, f.Path)
			}
			if !equalStrings(paths, listed) {
				t.Errorf("List paths %q, archive %q", paths, listed)
			}
			// The server unpacks with go-slug: the archive must be accepted.
			if err := goslug.Unpack(bytes.NewReader(data), t.TempDir()); err != nil {
				t.Errorf("go-slug Unpack: %v", err)
			}
		})
	}
}

// failOps makes open and readDir fail with EACCES for one base name: a
// root user can read any file, so chmod cannot provoke these errors.
func failOps(name string) fsOps {
	ops := osOps()
	ops.open = func(p string) (*os.File, error) {
		if filepath.Base(p) == name {
			return nil, &fs.PathError{Op: "open", Path: p, Err: syscall.EACCES}
		}
		return os.Open(p)
	}
	ops.readDir = func(p string) ([]fs.DirEntry, error) {
		if filepath.Base(p) == name {
			return nil, &fs.PathError{Op: "open", Path: p, Err: syscall.EACCES}
		}
		return os.ReadDir(p)
	}
	return ops
}

func TestPackErrors(t *testing.T) {
	tests := []struct {
		name     string
		tree     map[string]string
		outside  map[string]string
		dir      string // relative to the temp base; default "cfg"
		ops      fsOps
		wantErr  error
		wantText []string
	}{
		{
			name:     "internal symlink loop",
			tree:     map[string]string{"main.tf": "m", "a": "->b", "b": "->a"},
			wantErr:  ErrSymlinkLoop,
			wantText: []string{"symlink loop", filepath.Join("cfg", "a"), "-> b"},
		},
		{
			name:     "external symlink chain loop",
			tree:     map[string]string{"main.tf": "m", "x": "->../outside/p"},
			outside:  map[string]string{"p": "->q", "q": "->p"},
			wantErr:  ErrSymlinkLoop,
			wantText: []string{"symlink loop", filepath.Join("cfg", "x")},
		},
		{
			name:     "directory symlink to an ancestor",
			tree:     map[string]string{"main.tf": "m", "sub/up": "->../.."},
			wantErr:  ErrSymlinkLoop,
			wantText: []string{"symlink loop", filepath.Join("cfg", "sub", "up"), "-> ../.."},
		},
		{
			name:     "external directory containing a link back out",
			tree:     map[string]string{"main.tf": "m", "lib": "->../outside/lib"},
			outside:  map[string]string{"lib/again": "->../lib"},
			wantErr:  ErrSymlinkLoop,
			wantText: []string{"symlink loop", filepath.Join("cfg", "lib")},
		},
		{
			name:     "dangling internal symlink",
			tree:     map[string]string{"main.tf": "m", "gone.tf": "->missing.tf"},
			wantErr:  ErrDanglingSymlink,
			wantText: []string{"dangling symlink", filepath.Join("cfg", "gone.tf"), "missing.tf"},
		},
		{
			name:     "dangling external symlink",
			tree:     map[string]string{"main.tf": "m", "gone.tf": "->../outside/missing.tf"},
			wantErr:  ErrDanglingSymlink,
			wantText: []string{"dangling symlink", filepath.Join("cfg", "gone.tf"), "../outside/missing.tf"},
		},
		{
			name:     "missing directory",
			dir:      "nope",
			wantErr:  fs.ErrNotExist,
			wantText: []string{"nope"},
		},
		{
			name:     "not a directory",
			tree:     map[string]string{"main.tf": "m"},
			dir:      "cfg/main.tf",
			wantErr:  ErrNotDirectory,
			wantText: []string{filepath.Join("cfg", "main.tf"), "is not a directory"},
		},
		{
			name:     "unreadable file",
			tree:     map[string]string{"main.tf": "m", "sub/secret.tf": "s"},
			ops:      failOps("secret.tf"),
			wantErr:  fs.ErrPermission,
			wantText: []string{"cannot open", filepath.Join("cfg", "sub", "secret.tf"), "permission denied"},
		},
		{
			name:     "unreadable directory",
			tree:     map[string]string{"main.tf": "m", "priv/x.tf": "s"},
			ops:      failOps("priv"),
			wantErr:  fs.ErrPermission,
			wantText: []string{"cannot read directory", filepath.Join("cfg", "priv"), "permission denied"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			mkTree(t, filepath.Join(base, "cfg"), tt.tree)
			mkTree(t, filepath.Join(base, "outside"), tt.outside)
			dir := "cfg"
			if tt.dir != "" {
				dir = tt.dir
			}
			// Name the directory relatively, as a user would.
			t.Chdir(base)
			ops := tt.ops
			if ops.open == nil {
				ops = osOps()
			}
			tmp := t.TempDir()
			_, err := pack(t.Context(), dir, Options{TempDir: tmp}, ops)
			if err == nil {
				t.Fatal("Pack succeeded, want an error")
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v (%T) is not %v", err, err, tt.wantErr)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			assertEmptyDir(t, tmp)
			// List reports the same problems, except unreadable file content.
			if tt.name != "unreadable file" {
				if _, err := list(t.Context(), dir, ops); !errors.Is(err, tt.wantErr) {
					t.Errorf("List error %v, want %v", err, tt.wantErr)
				}
			}
		})
	}
}

// TestPackUnreadableChmod provokes a real permission error, which only
// works when the tests do not run as root (root reads any file; the
// injected failures of TestPackErrors cover that case).
func TestPackUnreadableChmod(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: chmod 000 does not stop root from reading; TestPackErrors covers this with injected failures")
	}
	dir := t.TempDir()
	mkTree(t, dir, map[string]string{"main.tf": "m", "secret.tf": "s"})
	p := filepath.Join(dir, "secret.tf")
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	_, err := Pack(t.Context(), dir, Options{TempDir: t.TempDir()})
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), p) {
		t.Fatalf("error %v, want a permission error naming %s", err, p)
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func randomBytes(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPackSizeLimit(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, map[string]string{
		"main.tf":        "m",
		"blobs/big.bin":  randomBytes(t, 600<<10), // random data does not compress
		"blobs/mid.bin":  randomBytes(t, 300<<10),
		"z/late.bin":     randomBytes(t, 200<<10),
		"small/tiny.txt": "t",
	})
	tmp := t.TempDir()
	_, err := Pack(t.Context(), dir, Options{MaxSize: 256 << 10, TempDir: tmp})
	var tl *TooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("error %v, want *TooLargeError", err)
	}
	if tl.Limit != 256<<10 || tl.Size <= tl.Limit {
		t.Errorf("Size %d Limit %d", tl.Size, tl.Limit)
	}
	// The largest files of the whole tree, including one not reached yet.
	wantOrder := []string{"blobs/big.bin", "blobs/mid.bin", "z/late.bin"}
	if len(tl.Largest) < 3 {
		t.Fatalf("Largest = %v", tl.Largest)
	}
	for i, p := range wantOrder {
		if tl.Largest[i].Path != p {
			t.Errorf("Largest[%d] = %s, want %s", i, tl.Largest[i].Path, p)
		}
	}
	for _, s := range []string{"256.0 KiB", "blobs/big.bin (600.0 KiB)", "blobs/mid.bin", ".terraformignore"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
	assertEmptyDir(t, tmp)

	// Under the limit it succeeds.
	res, _ := packT(t, dir, Options{MaxSize: 4 << 20})
	if res.Size > 4<<20 || res.Files != 5 {
		t.Errorf("Size %d Files %d", res.Size, res.Files)
	}
}

func TestPackWarnSize(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, map[string]string{"main.tf": "m", "data/blob.bin": randomBytes(t, 64<<10)})
	tests := []struct {
		name     string
		warnSize int64
		want     bool
	}{
		{"disabled", 0, false},
		{"below threshold", 1 << 20, false},
		{"above threshold", 32 << 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := packT(t, dir, Options{WarnSize: tt.warnSize})
			joined := strings.Join(res.Warnings, "\n")
			got := strings.Contains(joined, "the configuration package is")
			if got != tt.want {
				t.Fatalf("warnings %q, want size warning %v", res.Warnings, tt.want)
			}
			if got && !strings.Contains(joined, "data/blob.bin (64.0 KiB)") {
				t.Errorf("warning %q does not name the largest file", joined)
			}
		})
	}
}

func TestPackSHA256AndSize(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, map[string]string{"main.tf": "m", "a/b.tf": strings.Repeat("x", 100000)})
	res, data := packT(t, dir, Options{})
	sum := sha256.Sum256(data)
	if res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 %s, file hashes to %x", res.SHA256, sum)
	}
	if res.Size != int64(len(data)) {
		t.Errorf("Size %d, file has %d bytes", res.Size, len(data))
	}
	if res.Files != 2 || res.ContentSize != 100001 {
		t.Errorf("Files %d ContentSize %d", res.Files, res.ContentSize)
	}
	if err := res.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(res.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file still there after Remove: %v", err)
	}
	if err := res.Remove(); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

func TestDeterministic(t *testing.T) {
	spec := map[string]string{
		"main.tf":       "m",
		"run.sh":        "#!/bin/sh\n",
		"mod/a.tf":      "a",
		"mod/link.tf":   "->a.tf",
		"mod/deep/b.tf": strings.Repeat("b", 5000),
		"empty/":        "",
		"long/" + strings.Repeat("n", 120) + ".tf": "long name needs a PAX or GNU header",
	}
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	mkTree(t, a, spec)
	mkTree(t, b, spec)
	// Same content, different times and permission bits (a different umask).
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	_ = filepath.WalkDir(b, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if d.Type()&fs.ModeSymlink == 0 {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	})
	for _, p := range []string{"run.sh"} {
		_ = os.Chmod(filepath.Join(a, p), 0o700)
		_ = os.Chmod(filepath.Join(b, p), 0o775)
	}
	_ = os.Chmod(filepath.Join(b, "main.tf"), 0o664)

	resA, dataA := packT(t, a, Options{Deterministic: true})
	resB, dataB := packT(t, b, Options{Deterministic: true})
	if !bytes.Equal(dataA, dataB) || resA.SHA256 != resB.SHA256 {
		t.Fatalf("deterministic packages differ: %s vs %s", resA.SHA256, resB.SHA256)
	}
	for _, e := range readTar(t, dataA) {
		if !e.hdr.ModTime.Equal(time.Unix(0, 0)) || e.hdr.Uid != 0 || e.hdr.Gid != 0 || e.hdr.Uname != "" || e.hdr.Gname != "" {
			t.Errorf("%s: header not normalised: %+v", e.hdr.Name, e.hdr)
		}
		want := int64(0o644)
		switch {
		case e.hdr.Typeflag == tar.TypeSymlink:
			want = 0o777
		case e.hdr.Typeflag == tar.TypeDir, e.hdr.Name == "run.sh":
			want = 0o755
		}
		if e.hdr.Mode != want {
			t.Errorf("%s: mode %o, want %o", e.hdr.Name, e.hdr.Mode, want)
		}
	}
	// Digest is the deterministic package's SHA-256.
	for _, d := range []string{a, b} {
		got, err := Digest(t.Context(), d)
		if err != nil {
			t.Fatal(err)
		}
		if got != resA.SHA256 {
			t.Errorf("Digest(%s) = %s, want %s", d, got, resA.SHA256)
		}
	}
	// Without the option the times are kept, so the packages differ.
	_, plainA := packT(t, a, Options{})
	_, plainB := packT(t, b, Options{})
	if bytes.Equal(plainA, plainB) {
		t.Error("non-deterministic packages of trees with different times are identical")
	}
	// A content change changes the digest.
	if err := os.WriteFile(filepath.Join(b, "mod", "a.tf"), []byte("A"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := Digest(t.Context(), b); got == resA.SHA256 {
		t.Error("digest did not change with the content")
	}
}

func TestPackCancel(t *testing.T) {
	dir := t.TempDir()
	spec := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		spec[n+".tf"] = n
	}
	mkTree(t, dir, spec)

	t.Run("cancelled while packing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		opened := 0
		ops := osOps()
		ops.open = func(p string) (*os.File, error) {
			opened++
			if opened == 3 {
				cancel()
			}
			return os.Open(p)
		}
		tmp := t.TempDir()
		_, err := pack(ctx, dir, Options{TempDir: tmp}, ops)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if opened > 4 {
			t.Errorf("kept packing after cancellation: opened %d files", opened)
		}
		assertEmptyDir(t, tmp)
	})
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		tmp := t.TempDir()
		if _, err := Pack(ctx, dir, Options{TempDir: tmp}); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		assertEmptyDir(t, tmp)
		if _, err := Digest(ctx, dir); !errors.Is(err, context.Canceled) {
			t.Fatalf("Digest error %v, want context.Canceled", err)
		}
	})
}

func TestUnpackRoundTrip(t *testing.T) {
	base := t.TempDir()
	cfg := filepath.Join(base, "cfg")
	mkTree(t, cfg, map[string]string{
		"main.tf":           "resource \"x\" \"y\" {}\n",
		"variables.tf":      strings.Repeat("variable \"v\" {}\n", 1000),
		"modules/a/main.tf": "a",
		"modules/a/link.tf": "->../../main.tf",
		"scripts/run.sh":    "#!/bin/sh\necho hi\n",
		"ext.tf":            "->../shared.tf",
		"empty/":            "",
	})
	mkTree(t, base, map[string]string{"shared.tf": "shared"})
	if err := os.Chmod(filepath.Join(cfg, "scripts", "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, data := packT(t, cfg, Options{})
	out := t.TempDir()
	if err := goslug.Unpack(bytes.NewReader(data), out); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"main.tf":           "resource \"x\" \"y\" {}\n",
		"variables.tf":      strings.Repeat("variable \"v\" {}\n", 1000),
		"modules/a/main.tf": "a",
		"modules/a/link.tf": "resource \"x\" \"y\" {}\n", // read through the link
		"scripts/run.sh":    "#!/bin/sh\necho hi\n",
		"ext.tf":            "shared",
	}
	for p, want := range files {
		if got := string(readFile(t, filepath.Join(out, p))); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if target, err := os.Readlink(filepath.Join(out, "modules", "a", "link.tf")); err != nil || target != "../../main.tf" {
		t.Errorf("link.tf: %q, %v", target, err)
	}
	if info, err := os.Lstat(filepath.Join(out, "ext.tf")); err != nil || !info.Mode().IsRegular() {
		t.Errorf("ext.tf should be a regular file: %v %v", info, err)
	}
	if info, err := os.Stat(filepath.Join(out, "scripts", "run.sh")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("run.sh mode: %v %v", info, err)
	}
	// go-slug's Unpack only creates directories that hold something, so the
	// "empty/" entry (checked in TestPackContents) does not come back.
}

func TestList(t *testing.T) {
	base := t.TempDir()
	cfg := filepath.Join(base, "cfg")
	mkTree(t, cfg, map[string]string{
		"main.tf":   "12345",
		"sub/b.tf":  "12",
		"alias":     "->main.tf",
		"ext.tf":    "->../o.tf",
		".git/HEAD": "x",
	})
	mkTree(t, base, map[string]string{"o.tf": "outside"})
	l, err := List(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Path: "alias", Type: TypeSymlink, Mode: 0o777, Link: "main.tf"},
		{Path: "ext.tf", Type: TypeFile, Size: 7, Mode: 0o644, Source: filepath.Join(base, "o.tf")},
		{Path: "main.tf", Type: TypeFile, Size: 5, Mode: 0o644},
		{Path: "sub/", Type: TypeDir, Mode: 0o755},
		{Path: "sub/b.tf", Type: TypeFile, Size: 2, Mode: 0o644},
	}
	if len(l.Files) != len(want) {
		t.Fatalf("List = %+v", l.Files)
	}
	for i := range want {
		got := l.Files[i]
		// The resolved source may differ if the temp dir is itself behind a symlink.
		if got.Source != "" && want[i].Source != "" {
			got.Source = want[i].Source
		}
		if got != want[i] {
			t.Errorf("Files[%d] = %+v, want %+v", i, got, want[i])
		}
	}
	if l.ContentSize != 14 {
		t.Errorf("ContentSize %d", l.ContentSize)
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{10 << 20, "10.0 MiB"}, {3 << 30, "3.0 GiB"},
	}
	for _, tt := range tests {
		if got := FormatSize(tt.n); got != tt.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// TestPackFileChanged covers a file whose size changes between the walk's
// stat and the read: the tar header already promised the old size.
func TestPackFileChanged(t *testing.T) {
	tests := []struct {
		name, replacement, want string
	}{
		{"grew", "0123456789-and-more", "file grew while being packed"},
		{"shrank", "01", "file shrank while being packed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mkTree(t, dir, map[string]string{"main.tf": "0123456789"})
			other := filepath.Join(t.TempDir(), "other")
			if err := os.WriteFile(other, []byte(tt.replacement), 0o644); err != nil {
				t.Fatal(err)
			}
			ops := osOps()
			ops.open = func(string) (*os.File, error) { return os.Open(other) }
			tmp := t.TempDir()
			_, err := pack(t.Context(), dir, Options{TempDir: tmp}, ops)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "main.tf") {
				t.Fatalf("error %v, want %q naming main.tf", err, tt.want)
			}
			assertEmptyDir(t, tmp)
		})
	}
}

// TestPackRootSymlink names the directory through a symlink: links inside
// may point below the real path or below the named one, and both must be
// recognised as internal (kept as links), not followed.
func TestPackRootSymlink(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	mkTree(t, real, map[string]string{"main.tf": "m", "sub/x.tf": "x"})
	named := filepath.Join(base, "named")
	if err := os.Symlink("real", named); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"via-real.tf": filepath.Join(real, "main.tf"), "via-named.tf": filepath.Join(named, "sub", "x.tf")} {
		if err := os.Symlink(target, filepath.Join(real, link)); err != nil {
			t.Fatal(err)
		}
	}
	_, data := packT(t, named, Options{})
	want := []string{"main.tf=m", "sub/", "sub/x.tf=x", "via-named.tf->sub/x.tf", "via-real.tf->main.tf"}
	if got := summary(readTar(t, data)); !equalStrings(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
}
