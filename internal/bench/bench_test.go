package bench

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/pkg/slug"
)

// walkStats counts the regular files under dir and their bytes.
func walkStats(t *testing.T, dir string) (files int, bytes int64) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files++
		bytes += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, bytes
}

func TestGenTree(t *testing.T) {
	tests := []struct {
		kind     string
		scale    float64
		excluded []string // prefixes of paths on disk that must not be packed
	}{
		{TreeSmall, 1, []string{".git/"}},
		{TreeLarge, 0.01, []string{".git/"}},
		{TreeMonorepo, 0.002, []string{".git/", "node_modules/", "apps/web/node_modules/", ".terraform/", "envs/env00/.terraform/"}},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tree")
			st, err := GenTree(tc.kind, dir, tc.scale)
			if err != nil {
				t.Fatal(err)
			}
			files, size := walkStats(t, dir)
			if files != st.Files || size != st.Bytes {
				t.Errorf("stats say %d files, %d bytes; disk has %d, %d", st.Files, st.Bytes, files, size)
			}
			l, err := slug.List(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			packed := 0
			for _, f := range l.Files {
				if f.Type == slug.TypeFile {
					packed++
				}
				for _, ex := range tc.excluded {
					if strings.HasPrefix(f.Path, ex) {
						t.Errorf("%s is packed, want it excluded", f.Path)
					}
				}
			}
			if packed != st.PackedFiles || l.ContentSize != st.PackedBytes {
				t.Errorf("stats say %d files, %d bytes packed; the packer keeps %d, %d", st.PackedFiles, st.PackedBytes, packed, l.ContentSize)
			}
			if tc.kind == TreeSmall && st.PackedFiles != 20 {
				t.Errorf("small tree packs %d files, want 20", st.PackedFiles)
			}
			if len(l.Warnings) > 0 {
				t.Errorf("warnings: %q", l.Warnings)
			}
		})
	}
}

func TestGenTreeDeterministic(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	for _, d := range []string{a, b} {
		if _, err := GenTree(TreeSmall, d, 1); err != nil {
			t.Fatal(err)
		}
	}
	da, err := slug.Digest(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	db, err := slug.Digest(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if da != db {
		t.Errorf("two generations differ: %s vs %s", da, db)
	}
}

func TestGenTreeUnknownKind(t *testing.T) {
	if _, err := GenTree("huge", t.TempDir(), 1); err == nil {
		t.Fatal("no error for an unknown kind")
	}
}

// entries lists the names of the regular files of a slug.
func entries(t *testing.T, data []byte) []string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			out = append(out, h.Name)
		}
	}
}

// The three packers must pack the same files, or the comparison is
// meaningless.
func TestPackersAgree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tree")
	st, err := GenTree(TreeMonorepo, dir, 0.002)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range Packers {
		t.Run(p, func(t *testing.T) {
			tmp := t.TempDir()
			out, err := Pack(context.Background(), p, dir, tmp)
			if err != nil {
				t.Fatal(err)
			}
			if out.Size <= 0 || len(out.SHA256) != 64 {
				t.Errorf("output %+v", out)
			}
			left, err := os.ReadDir(tmp)
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != 0 {
				t.Errorf("%d temporary files left behind", len(left))
			}
			// Pack removes its file: pack again, keeping it.
			again, file, err := packKeep(context.Background(), p, dir, tmp)
			if err != nil {
				t.Fatal(err)
			}
			if p != PackerCopy && again != out {
				t.Errorf("packing twice gave %+v and %+v", out, again)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := entries(t, data)
			slices.Sort(got)
			if len(got) != st.PackedFiles {
				t.Errorf("%d files packed, want %d", len(got), st.PackedFiles)
			}
			if want == nil {
				want = got
			} else if !slices.Equal(got, want) {
				t.Errorf("packs other files than %s", PackerTharsis)
			}
		})
	}
	if _, err := Pack(context.Background(), "zip", dir, t.TempDir()); err == nil {
		t.Error("no error for an unknown packer")
	}
}

func TestChildPack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tree")
	if _, err := GenTree(TreeSmall, dir, 1); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := ChildPack(context.Background(), []string{"-packer", PackerGoSlug, "-dir", dir, "-tmp", t.TempDir()}, &out); err != nil {
		t.Fatal(err)
	}
	var po PackOutput
	if err := json.Unmarshal(out.Bytes(), &po); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if po.Size <= 0 {
		t.Errorf("size %d", po.Size)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2 in integer nanoseconds
		{[]time.Duration{10, 30}, 20},
	}
	for _, tc := range tests {
		in := slices.Clone(tc.in)
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("Median reordered its argument")
		}
	}
}

func TestSamples(t *testing.T) {
	ss := Samples{
		{Wall: 3 * time.Millisecond, CPU: 1 * time.Millisecond, MaxRSS: 10},
		{Wall: 1 * time.Millisecond, CPU: 5 * time.Millisecond, MaxRSS: 30},
		{Wall: 2 * time.Millisecond, CPU: 2 * time.Millisecond, MaxRSS: 20},
	}
	if ss.Wall() != 2*time.Millisecond || ss.CPU() != 2*time.Millisecond || ss.MaxRSS() != 30 {
		t.Errorf("wall %v, CPU %v, RSS %d", ss.Wall(), ss.CPU(), ss.MaxRSS())
	}
}

func TestWriteTable(t *testing.T) {
	rows := []Row{
		{"pack small", "0.9x", "<= 1.10x", Pass},
		{"logs|pipe", "1 MiB/s", ">= 20 MiB/s", Miss},
	}
	var b bytes.Buffer
	WriteTable(&b, rows)
	want := `benchmark   measured  target       result
-----------------------------------------
pack small  0.9x      <= 1.10x     pass
logs|pipe   1 MiB/s   >= 20 MiB/s  MISS
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	WriteMarkdown(&b, rows)
	want = "| benchmark | measured | target | result |\n|---|---|---|---|\n" +
		"| pack small | 0.9x | <= 1.10x | pass |\n| logs\\|pipe | 1 MiB/s | >= 20 MiB/s | MISS |\n"
	if b.String() != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestMeasure(t *testing.T) {
	if _, err := os.Stat(TimeBin); err != nil {
		t.Skip("GNU time is not installed")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	var out bytes.Buffer
	s, _, err := Measure(context.Background(), Proc{Path: sh, Args: []string{"-c", "echo hello"}, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "hello\n" {
		t.Errorf("stdout %q", out.String())
	}
	if s.Wall <= 0 || s.MaxRSS <= 0 {
		t.Errorf("sample %+v", s)
	}
	// A failing command is an error quoting its stderr.
	_, _, err = Measure(context.Background(), Proc{Path: sh, Args: []string{"-c", "echo broken >&2; exit 3"}})
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("error %v, want one quoting stderr", err)
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 5, b: new(bytes.Buffer)}
	for _, s := range []string{"abc", "defg", "hi"} {
		if n, err := tb.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got := tb.String(); got != "fghi" && got != "efghi" {
		t.Errorf("tail %q", got)
	}
}
