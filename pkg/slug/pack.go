package slug

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"
)

// DefaultWarnSize is a reasonable Options.WarnSize: configurations are
// usually a few kilobytes, so 10 MiB almost always means something that
// should be in .terraformignore.
const DefaultWarnSize = 10 << 20

// largestCount is how many files TooLargeError and the size warning name.
const largestCount = 5

// Options control Pack.
type Options struct {
	// MaxSize is the largest package (compressed bytes) accepted; packing
	// stops as soon as it is exceeded. 0 means no limit.
	MaxSize int64
	// WarnSize adds a warning naming the largest files when the package is
	// at least this many bytes. 0 means no warning; see DefaultWarnSize.
	WarnSize int64
	// Deterministic makes the archive depend only on the content: every
	// modification time is the Unix epoch and permissions are normalised to
	// 0755 for directories and executable files, 0644 for other files.
	// (Owners are never stored, and entries always come in the same order.)
	// It costs nothing measurable, but run uploads leave it off so that
	// file times are preserved as Terraform's own packer preserves them.
	Deterministic bool
	// TempDir is where the package file is created; "" means os.TempDir().
	TempDir string
}

// Result describes a package written by Pack.
type Result struct {
	// Path is the temporary .tar.gz file; the caller removes it (Remove).
	Path string
	// Size is the size of the file in bytes; SHA256 its hex digest.
	Size   int64
	SHA256 string
	// Files is the number of regular files packed and ContentSize the sum of
	// their sizes.
	Files       int
	ContentSize int64
	// Largest lists the largest files packed, largest first (at most 5).
	Largest []File
	// Warnings are messages for the user: ignore-file problems, skipped
	// special files, links left dangling by ignore rules, a large package.
	Warnings []string
}

// Open opens the package for reading (for an upload, which can Seek back
// to retry).
func (r *Result) Open() (*os.File, error) { return os.Open(r.Path) }

// Remove deletes the package file; removing it twice is not an error.
func (r *Result) Remove() error {
	if err := os.Remove(r.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// TooLargeError is returned by Pack when the package exceeds
// Options.MaxSize.
type TooLargeError struct {
	// Size is how many compressed bytes had been produced when packing
	// stopped: the full package is at least this large.
	Size  int64
	Limit int64
	// Largest are the largest files of the configuration, largest first.
	Largest []File
}

func (e *TooLargeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "configuration package exceeds the size limit of %s (stopped after %s)", FormatSize(e.Limit), FormatSize(e.Size))
	if len(e.Largest) > 0 {
		b.WriteString("; largest files: ")
		b.WriteString(describeFiles(e.Largest))
		b.WriteString("; exclude files that Terraform does not need with .terraformignore")
	}
	return b.String()
}

// Listing is what List returns.
type Listing struct {
	// Files are the entries Pack would write, in archive order, including
	// directories and symlinks.
	Files       []File
	ContentSize int64
	Warnings    []string
}

// Pack writes the package for the configuration in dir to a temporary
// file, computing its size and SHA-256 as it streams. When ctx is cancelled
// packing stops and the file is removed. Errors name the offending path
// (*PathError), or are a *TooLargeError.
func Pack(ctx context.Context, dir string, opts Options) (*Result, error) {
	return pack(ctx, dir, opts, osOps())
}

func pack(ctx context.Context, dir string, opts Options, ops fsOps) (res *Result, err error) {
	w, err := newWalker(ctx, dir, ops)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(opts.TempDir, "tharsis-slug-*.tar.gz")
	if err != nil {
		return nil, fmt.Errorf("creating the package file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	out := &sink{w: f, h: sha256.New(), limit: opts.MaxSize}
	st, err := write(w, out, opts.Deterministic)
	if errors.Is(err, errTooLarge) {
		return nil, tooLarge(ctx, dir, out, opts.MaxSize, ops)
	}
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing the package file: %w", err)
	}
	res = &Result{
		Path:        f.Name(),
		Size:        out.n,
		SHA256:      hex.EncodeToString(out.h.Sum(nil)),
		Files:       st.files,
		ContentSize: st.content,
		Largest:     st.largest,
		Warnings:    w.warnings,
	}
	if opts.WarnSize > 0 && res.Size >= opts.WarnSize {
		msg := fmt.Sprintf("the configuration package is %s", FormatSize(res.Size))
		if len(st.largest) > 0 {
			msg += "; largest files: " + describeFiles(st.largest) + "; exclude files that Terraform does not need with .terraformignore"
		}
		res.Warnings = append(res.Warnings, msg)
	}
	return res, nil
}

// Digest returns the hex SHA-256 of the deterministic package of dir
// without writing it anywhere: the same content gives the same digest
// whatever the file times, owners and umask. It equals the SHA256 of
// Pack with Deterministic set, for the same Go release (the digest covers
// gzip output, so a change in compress/flate could change it).
func Digest(ctx context.Context, dir string) (string, error) {
	w, err := newWalker(ctx, dir, osOps())
	if err != nil {
		return "", err
	}
	out := &sink{h: sha256.New()}
	if _, err := write(w, out, true); err != nil {
		return "", err
	}
	return hex.EncodeToString(out.h.Sum(nil)), nil
}

// List returns the entries Pack would write, without reading any file
// content (for --dry-run). It reports the same path errors, except for files
// that cannot be read.
func List(ctx context.Context, dir string) (*Listing, error) {
	return list(ctx, dir, osOps())
}

func list(ctx context.Context, dir string, ops fsOps) (*Listing, error) {
	w, err := newWalker(ctx, dir, ops)
	if err != nil {
		return nil, err
	}
	l := &Listing{}
	w.visit = func(e *entry) error {
		l.Files = append(l.Files, e.File)
		l.ContentSize += e.Size
		return nil
	}
	if err := w.walk(); err != nil {
		return nil, err
	}
	l.Warnings = w.warnings
	return l, nil
}

func tooLarge(ctx context.Context, dir string, out *sink, limit int64, ops fsOps) error {
	e := &TooLargeError{Size: out.n + out.refused, Limit: limit}
	// Name the largest files of the whole configuration, not just of the
	// part packed before the limit was hit; listing only stats files.
	if l, err := list(ctx, dir, ops); err == nil {
		var top topFiles
		for _, f := range l.Files {
			top.add(f)
		}
		e.Largest = top
	}
	return e
}

var errTooLarge = errors.New("package size limit exceeded")

// sink receives the compressed stream: it writes it to the file (if any),
// hashes and counts it, and enforces the size limit.
type sink struct {
	w       io.Writer
	h       hash.Hash
	n       int64
	limit   int64
	refused int64 // bytes of the write that crossed the limit
}

func (s *sink) Write(p []byte) (int, error) {
	if s.limit > 0 && s.n+int64(len(p)) > s.limit {
		s.refused = int64(len(p))
		return 0, errTooLarge
	}
	if s.w != nil {
		if n, err := s.w.Write(p); err != nil {
			s.n += int64(n)
			return n, err
		}
	}
	s.h.Write(p)
	s.n += int64(len(p))
	return len(p), nil
}

// stats are gathered while packing.
type stats struct {
	files   int
	content int64
	largest topFiles
}

// topFiles keeps the largest regular files, largest first.
type topFiles []File

func (t *topFiles) add(f File) {
	if f.Type != TypeFile {
		return
	}
	if len(*t) == largestCount && (*t)[largestCount-1].Size >= f.Size {
		return
	}
	i := sort.Search(len(*t), func(i int) bool { return (*t)[i].Size < f.Size })
	if len(*t) < largestCount {
		*t = append(*t, File{})
	}
	copy((*t)[i+1:], (*t)[i:])
	(*t)[i] = f
}

var epoch = time.Unix(0, 0)

// write streams the package of the walked directory to out: tar, gzip
// (BestSpeed, as go-slug), then a large buffer so the file sees few big
// writes instead of flate's many small ones.
func write(w *walker, out io.Writer, deterministic bool) (*stats, error) {
	bw := bufio.NewWriterSize(out, 256<<10)
	gz, err := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	st := &stats{}
	// One buffer for all files; reading through it (rather than io.Copy)
	// also avoids a 32 KiB allocation per file and lets a cancellation stop
	// the copy of a large file.
	buf := make([]byte, 128<<10)
	w.visit = func(e *entry) error {
		hdr := tar.Header{
			Format:  tar.FormatUnknown, // as go-slug: USTAR when possible, mtime in whole seconds
			Name:    e.Path,
			Mode:    int64(e.Mode),
			ModTime: e.modTime,
		}
		switch e.Type {
		case TypeDir:
			hdr.Typeflag = tar.TypeDir
		case TypeSymlink:
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = e.Link
		default:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = e.Size
		}
		if deterministic {
			hdr.ModTime = epoch
			hdr.Mode = int64(normalMode(e.Type, e.Mode))
		}
		if e.Type != TypeFile {
			return tw.WriteHeader(&hdr)
		}
		// Open before writing the header so an unreadable file fails cleanly.
		f, err := w.ops.open(e.disk)
		if err != nil {
			return &PathError{Op: "open", Path: w.shownPath(e.Path), Err: unwrapPathErr(err)}
		}
		defer func() { _ = f.Close() }()
		if err := tw.WriteHeader(&hdr); err != nil {
			return err
		}
		if err := copyFile(w, tw, f, e, buf); err != nil {
			return err
		}
		st.files++
		st.content += e.Size
		st.largest.add(e.File)
		return nil
	}
	if err := w.walk(); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return st, nil
}

// copyFile copies exactly e.Size bytes of f, failing if the file changed
// size since it was listed (the tar header already promised e.Size).
func copyFile(w *walker, tw io.Writer, f *os.File, e *entry, buf []byte) error {
	var n int64
	for {
		select {
		case <-w.done:
			return w.ctx.Err()
		default:
		}
		r, err := f.Read(buf)
		if r > 0 {
			if n+int64(r) > e.Size {
				return &PathError{Op: "read", Path: w.shownPath(e.Path), Err: errors.New("file grew while being packed")}
			}
			if _, werr := tw.Write(buf[:r]); werr != nil {
				return werr
			}
			n += int64(r)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return &PathError{Op: "read", Path: w.shownPath(e.Path), Err: unwrapPathErr(err)}
		}
	}
	if n != e.Size {
		return &PathError{Op: "read", Path: w.shownPath(e.Path), Err: errors.New("file shrank while being packed")}
	}
	return nil
}

func normalMode(t EntryType, m fs.FileMode) fs.FileMode {
	switch {
	case t == TypeSymlink:
		return 0o777
	case t == TypeDir, m&0o111 != 0:
		return 0o755
	}
	return 0o644
}

func describeFiles(files []File) string {
	parts := make([]string, len(files))
	for i, f := range files {
		parts[i] = fmt.Sprintf("%s (%s)", f.Path, FormatSize(f.Size))
	}
	return strings.Join(parts, ", ")
}

// FormatSize renders a byte count for people: "512 B", "1.5 KiB", "12.0 MiB".
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
