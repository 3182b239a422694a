package slug

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// EntryType is the kind of an archive entry.
type EntryType uint8

// Entry types.
const (
	TypeFile EntryType = iota + 1
	TypeDir
	TypeSymlink
)

// String returns "file", "dir" or "symlink".
func (t EntryType) String() string {
	switch t {
	case TypeFile:
		return "file"
	case TypeDir:
		return "dir"
	case TypeSymlink:
		return "symlink"
	}
	return fmt.Sprintf("EntryType(%d)", uint8(t))
}

// File is one entry of a configuration package.
type File struct {
	// Path is the slash-separated path inside the archive, relative to the
	// configuration directory; directory paths end in "/".
	Path string
	Type EntryType
	// Size is the content size of a regular file (0 for other types).
	Size int64
	// Mode holds the permission bits read from disk.
	Mode fs.FileMode
	// Link is the target stored for a symlink entry.
	Link string
	// Source is the file the content is read from when a symlink pointing
	// outside the directory was followed; empty otherwise.
	Source string
}

// Sentinel errors, wrapped in *PathError.
var (
	ErrSymlinkLoop     = errors.New("symlink loop")
	ErrDanglingSymlink = errors.New("dangling symlink")
	ErrNotDirectory    = errors.New("not a directory")
)

// PathError reports a problem with one path of the configuration. Path is
// the configuration directory as the caller named it joined with the
// entry's path, so a user can find the file.
type PathError struct {
	Op   string // what was being done: "open", "read", "read directory", "stat", "follow"
	Path string
	Link string // the symlink target as written, for symlink errors
	Err  error
}

func (e *PathError) Error() string {
	switch {
	case errors.Is(e.Err, ErrSymlinkLoop):
		if e.Link == "" {
			return fmt.Sprintf("symlink loop: %s is reached again through a symlink", e.Path)
		}
		return fmt.Sprintf("symlink loop: %s -> %s", e.Path, e.Link)
	case errors.Is(e.Err, ErrDanglingSymlink):
		return fmt.Sprintf("dangling symlink: %s -> %s: target does not exist", e.Path, e.Link)
	case errors.Is(e.Err, ErrNotDirectory):
		return fmt.Sprintf("%s is not a directory", e.Path)
	case e.Op == "configuration directory":
		return fmt.Sprintf("configuration directory %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("cannot %s %s: %v", e.Op, e.Path, e.Err)
}

func (e *PathError) Unwrap() error { return e.Err }

// fsOps are the file-system calls whose failures tests need to provoke
// (running as root, chmod cannot make a file unreadable).
type fsOps struct {
	open    func(name string) (*os.File, error)
	readDir func(name string) ([]fs.DirEntry, error)
}

func osOps() fsOps { return fsOps{open: os.Open, readDir: os.ReadDir} }

// entry is what the walker hands to its visitor.
type entry struct {
	File
	modTime time.Time
	disk    string // the file to read the content from
}

// viaLink records the symlink that led the walk outside the directory.
type viaLink struct {
	arch, target string
}

// walker produces the entries of a configuration directory in archive
// order: the order of filepath.Walk (names sorted within each directory,
// a directory's contents right after it), which is also go-slug's order.
// The order depends only on the names, so it is deterministic.
type walker struct {
	ctx      context.Context
	done     <-chan struct{}
	shown    string // the directory as the caller named it
	root     string // absolute path with symlinks resolved; the walk reads here
	lexical  string // absolute path as named; links may point below either form
	rules    *ruleset
	ops      fsOps
	stack    []fs.FileInfo // directories being walked, for loop detection
	warned   map[*rule]bool
	warnings []string
	visit    func(*entry) error
}

func newWalker(ctx context.Context, dir string, ops fsOps) (*walker, error) {
	if dir == "" {
		return nil, &PathError{Op: "configuration directory", Path: `""`, Err: errors.New("no directory given")}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, &PathError{Op: "configuration directory", Path: dir, Err: err}
	}
	info, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &PathError{Op: "configuration directory", Path: dir, Err: fs.ErrNotExist}
		}
		return nil, &PathError{Op: "configuration directory", Path: dir, Err: unwrapPathErr(err)}
	}
	if !info.IsDir() {
		return nil, &PathError{Op: "configuration directory", Path: dir, Err: ErrNotDirectory}
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, &PathError{Op: "configuration directory", Path: dir, Err: unwrapPathErr(err)}
	}
	w := &walker{
		ctx:     ctx,
		done:    ctx.Done(),
		shown:   dir,
		root:    root,
		lexical: filepath.Clean(abs),
		ops:     ops,
		warned:  map[*rule]bool{},
	}
	// Unlike go-slug, which warns and falls back to the defaults, an
	// unreadable ignore file is an error: silently uploading the files it
	// was meant to exclude could leak secrets.
	content, err := os.ReadFile(filepath.Join(root, ".terraformignore"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, &PathError{Op: "read", Path: filepath.Join(dir, ".terraformignore"), Err: unwrapPathErr(err)}
	}
	w.rules, w.warnings = newRuleset(content)
	return w, nil
}

func (w *walker) walk() error {
	info, err := os.Stat(w.root)
	if err != nil {
		return &PathError{Op: "stat", Path: w.shown, Err: unwrapPathErr(err)}
	}
	w.stack = append(w.stack[:0], info)
	return w.walkDir(w.root, "", nil)
}

func (w *walker) warnf(format string, args ...any) {
	w.warnings = append(w.warnings, fmt.Sprintf(format, args...))
}

// shownPath turns an archive path into a path the user can find.
func (w *walker) shownPath(arch string) string {
	return filepath.Join(w.shown, filepath.FromSlash(strings.TrimSuffix(arch, "/")))
}

func (w *walker) walkDir(dirReal, dirArch string, via *viaLink) error {
	des, err := w.ops.readDir(dirReal)
	if err != nil {
		return &PathError{Op: "read directory", Path: w.shownPath(dirArch), Err: unwrapPathErr(err)}
	}
	for _, de := range des {
		select {
		case <-w.done:
			return w.ctx.Err()
		default:
		}
		name := de.Name()
		real := filepath.Join(dirReal, name)
		arch := dirArch + name
		r := w.rules.match(arch)
		t := de.Type()
		switch {
		case t.IsDir():
			err = w.dir(de, real, arch, r, via)
		case r.excluded:
			continue
		case t&fs.ModeSymlink != 0:
			err = w.symlink(de, real, dirReal, arch, via)
		case t.IsRegular():
			err = w.file(de, real, arch)
		default:
			w.warnf("skipped %s: not a regular file, directory or symlink", w.shownPath(arch))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) info(de fs.DirEntry, arch string) (fs.FileInfo, error) {
	info, err := de.Info()
	if err != nil {
		return nil, &PathError{Op: "stat", Path: w.shownPath(arch), Err: unwrapPathErr(err)}
	}
	return info, nil
}

func (w *walker) file(de fs.DirEntry, real, arch string) error {
	info, err := w.info(de, arch)
	if err != nil {
		return err
	}
	return w.visit(&entry{
		File:    File{Path: arch, Type: TypeFile, Size: info.Size(), Mode: info.Mode().Perm()},
		modTime: info.ModTime(),
		disk:    real,
	})
}

func (w *walker) dir(de fs.DirEntry, real, arch string, byName matchResult, via *viaLink) error {
	info, err := w.info(de, arch)
	if err != nil {
		return err
	}
	transparent := false
	if byName.excluded {
		// go-slug drops only the directory's own entry and still walks it.
		transparent = true
		if r := byName.rule; r.line > 0 && !w.warned[r] && !w.rules.match(arch+"/").excluded {
			w.warned[r] = true
			w.warnf(".terraformignore:%d: %q matches the directory %s by name only, so its contents are still packed; write %q to exclude the whole directory",
				r.line, r.source, w.shownPath(arch), strings.TrimPrefix(r.source, "!")+"/")
		}
	} else if r := w.rules.match(arch + "/"); r.excluded {
		if r.dominating {
			return nil
		}
		transparent = true
	}
	return w.descend(info, real, arch, transparent, via)
}

func (w *walker) descend(info fs.FileInfo, real, arch string, transparent bool, via *viaLink) error {
	for _, seen := range w.stack {
		if os.SameFile(seen, info) {
			if via != nil {
				return &PathError{Op: "follow", Path: w.shownPath(via.arch), Link: via.target, Err: ErrSymlinkLoop}
			}
			return &PathError{Op: "walk", Path: w.shownPath(arch), Err: ErrSymlinkLoop}
		}
	}
	if !transparent {
		err := w.visit(&entry{
			File:    File{Path: arch + "/", Type: TypeDir, Mode: info.Mode().Perm()},
			modTime: info.ModTime(),
		})
		if err != nil {
			return err
		}
	}
	w.stack = append(w.stack, info)
	err := w.walkDir(real, arch+"/", via)
	w.stack = w.stack[:len(w.stack)-1]
	return err
}

// symlink handles a symlink that no ignore rule excludes by name. A target
// inside the directory is stored as a link (after checking that it
// resolves); a target outside is followed and its content packed in the
// link's place, as go-slug does with dereferencing on and as Terraform's
// own packer does.
func (w *walker) symlink(de fs.DirEntry, real, dirReal, arch string, via *viaLink) error {
	target, err := os.Readlink(real)
	if err != nil {
		return &PathError{Op: "read symlink", Path: w.shownPath(arch), Err: unwrapPathErr(err)}
	}
	absTarget := target
	if !filepath.IsAbs(target) {
		absTarget = filepath.Join(dirReal, target)
	} else {
		absTarget = filepath.Clean(target)
	}
	if rel, ok := w.inside(absTarget); ok {
		return w.internalLink(de, real, arch, target, rel, via)
	}

	// The link leaves the directory: follow it. os.Stat reports a dangling
	// chain (ENOENT) and a chain of links that loops (ELOOP).
	tinfo, err := os.Stat(real)
	if err != nil {
		return w.linkErr(arch, target, err)
	}
	resolved, err := filepath.EvalSymlinks(real)
	if err != nil {
		return w.linkErr(arch, target, err)
	}
	switch {
	case tinfo.IsDir():
		// Unlike go-slug, rules are matched against the path in the archive
		// (lib/x), not the path inside the link's target (x), so anchored and
		// directory rules apply to followed directories as the user wrote them.
		transparent := false
		if r := w.rules.match(arch + "/"); r.excluded {
			if r.dominating {
				return nil
			}
			transparent = true
		}
		return w.descend(tinfo, resolved, arch, transparent, &viaLink{arch: arch, target: target})
	case tinfo.Mode().IsRegular():
		return w.visit(&entry{
			File:    File{Path: arch, Type: TypeFile, Size: tinfo.Size(), Mode: tinfo.Mode().Perm(), Source: resolved},
			modTime: tinfo.ModTime(),
			disk:    resolved,
		})
	}
	w.warnf("skipped %s: symlink to %s, which is not a regular file or directory", w.shownPath(arch), target)
	return nil
}

func (w *walker) internalLink(de fs.DirEntry, real, arch, target, rel string, via *viaLink) error {
	if _, err := os.Stat(real); err != nil {
		return w.linkErr(arch, target, err)
	}
	info, err := w.info(de, arch)
	if err != nil {
		return err
	}
	link := filepath.ToSlash(target)
	// Keep the target as written when it resolves inside the archive from
	// the link's position. Otherwise (absolute target, a relative target
	// that climbs out through the directory's own name, or a link met inside
	// a followed directory, whose position in the archive differs from its
	// place on disk) store the equivalent relative target: go-slug keeps
	// these verbatim and the server then rejects the archive when unpacking.
	if via != nil || filepath.IsAbs(target) || escapes(path.Join(path.Dir(arch), link)) {
		link = relativeLink(arch, rel)
	}
	if rel != "." && w.excludedTarget(rel, real) {
		w.warnf("symlink %s points to %s, which .terraformignore excludes: the link will dangle in the package", w.shownPath(arch), target)
	}
	return w.visit(&entry{
		File:    File{Path: arch, Type: TypeSymlink, Mode: info.Mode().Perm(), Link: link},
		modTime: info.ModTime(),
	})
}

// excludedTarget reports whether the ignore rules leave the target of an
// internal link (rel; real is the link on disk) out of the package.
func (w *walker) excludedTarget(rel, real string) bool {
	if info, err := os.Stat(real); err == nil && info.IsDir() {
		// A directory matched by name only is still walked (see ignore.go).
		r := w.rules.match(rel + "/")
		return r.excluded && r.dominating
	}
	return w.rules.match(rel).excluded
}

// inside reports whether the clean absolute path p lies within the
// configuration directory, and its slash-separated path relative to it.
func (w *walker) inside(p string) (string, bool) {
	for _, root := range [2]string{w.root, w.lexical} {
		if p == root {
			return ".", true
		}
		prefix := root
		if !strings.HasSuffix(prefix, string(os.PathSeparator)) {
			prefix += string(os.PathSeparator)
		}
		if strings.HasPrefix(p, prefix) {
			return filepath.ToSlash(p[len(prefix):]), true
		}
	}
	return "", false
}

func escapes(p string) bool {
	return p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/")
}

// relativeLink returns the link text that reaches rel (relative to the
// archive root) from the entry at arch.
func relativeLink(arch, rel string) string {
	from := filepath.FromSlash(path.Dir(arch))
	r, err := filepath.Rel(from, filepath.FromSlash(rel))
	if err != nil {
		return rel
	}
	return filepath.ToSlash(r)
}

func (w *walker) linkErr(arch, target string, err error) error {
	pe := &PathError{Op: "follow", Path: w.shownPath(arch), Link: target, Err: unwrapPathErr(err)}
	switch {
	case errors.Is(err, syscall.ELOOP), isTooManyLinks(err):
		pe.Err = ErrSymlinkLoop
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		pe.Err = ErrDanglingSymlink
	}
	return pe
}

// isTooManyLinks recognises filepath.EvalSymlinks' loop error, which has no
// sentinel value.
func isTooManyLinks(err error) bool {
	return err != nil && strings.Contains(err.Error(), "too many links")
}

// unwrapPathErr drops an *fs.PathError's absolute path: our messages name
// the path as the user wrote it.
func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
