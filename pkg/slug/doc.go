// Package slug packs a Terraform configuration directory into a "slug", the
// .tar.gz archive that Tharsis (like Terraform Cloud) accepts as a
// configuration version or module version.
//
// The archive is read straight from disk, written to a temporary file as it
// streams, and hashed and counted on the way:
//
//	res, err := slug.Pack(ctx, dir, slug.Options{MaxSize: 128 << 20, WarnSize: slug.DefaultWarnSize})
//	if err != nil { ... }          // *slug.PathError, *slug.TooLargeError, ctx.Err(), ...
//	defer res.Remove()
//	f, _ := res.Open()             // upload res.Size bytes; res.SHA256 is the hex digest
//	for _, w := range res.Warnings { ... }
//
//	listing, err := slug.List(ctx, dir)   // --dry-run: entries and sizes, no archive
//	digest, err := slug.Digest(ctx, dir)  // deterministic digest, e.g. for module versions
//
// # What goes in
//
// The rules are those of hashicorp/go-slug v1.0.0's Pack(dir, w, true),
// which Terraform and the reference Tharsis CLI use:
//
//   - <dir>/.terraformignore is honoured with go-slug's exact matching rules
//     (see ignore.go); .terraformignore files in subdirectories have no
//     effect. .git/ and .terraform/ are always excluded, except
//     .terraform/modules/.
//   - A symlink whose target lies inside the directory is stored as a
//     symlink. A symlink pointing outside is followed and its target (file
//     or whole directory) is packed in its place. Relative targets work,
//     since nothing is copied first.
//   - Entries come in filepath.Walk order (names sorted within each
//     directory), with go-slug's header fields: name, permission bits,
//     modification time in whole seconds, size, link target. No owner, user
//     or group names are stored. gzip uses BestSpeed.
//
// Where go-slug fails, crashes or produces an archive that the server's
// unpacking rejects, this package instead:
//
//   - returns a *PathError naming the path for a symlink loop (go-slug
//     recurses until the stack overflows), a dangling symlink (go-slug stores
//     internal dangling links silently), an unreadable file or directory, a
//     missing directory or one that is not a directory;
//   - stores absolute symlinks into the directory, and links found inside
//     followed directories, as relative links (go-slug stores them as they
//     are, and its Unpack then refuses them as pointing outside);
//   - matches ignore rules against paths in the archive also below a
//     followed directory symlink (go-slug matches them relative to the
//     link's target, so "/lib/x" or "lib/" did not apply to a linked lib);
//   - skips a .terraformignore line made only of blanks, or a lone "!"
//     (go-slug panics with an index out of range on both);
//   - returns an error for an unreadable .terraformignore (go-slug prints a
//     warning to stderr and packs everything), and returns warnings
//     instead of printing them;
//   - emits a directory entry for a followed directory symlink, so an
//     empty linked directory survives;
//   - skips sockets, FIFOs and devices with a warning (the reference CLI's
//     copy step blocks forever on a FIFO).
//
// # Why not go-slug's Packer
//
// go-slug's Packer is not used for writing because it cannot provide what
// is needed here: it has no context, no deterministic header mode, no
// listing without reading content, no per-file sizes for naming the largest
// files, it writes warnings to os.Stderr, and it has the failure modes
// listed above, the stack overflow on a symlink loop being fatal to the
// process. It is also slow on large trees: it ranges over its rules by
// value, so every rule's regular expression is compiled again for every
// path (about 40% of its packing time on a 5,000-file tree). Its ignore-rule
// engine lives in an internal package, so the same
// rules are implemented here and checked against go-slug by differential
// tests. go-slug is still what unpacks in the tests (slug.Unpack, the server
// side's code path).
//
// # Deterministic mode
//
// Options.Deterministic (always on for Digest) sets every modification time
// to the Unix epoch and normalises permissions (0755 for directories and
// executable files, 0644 otherwise). The walk order already depends only on
// names and the gzip header carries no time or name, so identical content
// gives identical bytes. It is a per-header switch, so uploads that leave
// it off pay nothing for it.
package slug
