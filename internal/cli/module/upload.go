package module

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
	"github.com/tharsis-cli/tharsis/pkg/slug"
)

// DefaultMaxUploadSize is what a Tharsis server accepts by default for a
// module package (its module registry upload limit, 128 MiB).
const DefaultMaxUploadSize = 128 << 20

// UploadOptions are the inputs of `tharsis module upload-version`.
type UploadOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	Module    string
	Version   string
	Directory string
	MaxSize   int64

	// pollMin and pollMax bound the wait between status checks.
	pollMin, pollMax time.Duration
}

// NewCmdUploadVersion builds `tharsis module upload-version`; runF replaces
// the real run in tests.
func NewCmdUploadVersion(f *cmdutil.Factory, runF func(context.Context, *UploadOptions) error) *cobra.Command {
	opts := &UploadOptions{IO: f.IO, MaxSize: DefaultMaxUploadSize}
	cmd := &cobra.Command{
		Use:   "upload-version MODULE --version SEMVER",
		Short: "Package a directory and publish it as a module version",
		Long: `Publish a new version of a module from a directory (default: the current
one):

  1. the directory is packed with the same packer as runs (.terraformignore
     is honoured; .git and .terraform are left out) in deterministic mode, so
     the same content always gives the same SHA-256 ('tharsis module digest'
     prints it without publishing). A package larger than --max-upload-size
     (128 MiB, what the server accepts by default) is refused before anything
     is sent;
  2. the version is created with the package's SHA-256;
  3. the package is uploaded;
  4. the command waits until the server has checked the package: the version
     is then "uploaded" and runs can use it.

When the upload fails, or the server rejects the package (status
"errored"; its error and diagnostics are printed), the half-created version
is deleted, so the same version can be published again.

Needs the owner, deployer or publisher role on the module's group.

With -o json the version is printed as by 'tharsis module get-version -o json'.`,
		Example: `  tharsis module upload-version ops/vpc/aws --version 1.2.0
  tharsis module upload-version ops/vpc/aws --version 2.0.0-beta.1 --directory-path ./modules/vpc`,
		Args: cmdutil.ExactArgs("MODULE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Module = args[0]
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			opts.Now = f.Now
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runUpload(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Version, "version", "", "Semantic version to publish, e.g. 1.2.0 or 2.0.0-beta.1 (required)")
	fs.StringVar(&opts.Directory, "directory-path", "", "Directory holding the module (default: the current directory)")
	fs.Int64Var(&opts.MaxSize, "max-upload-size", DefaultMaxUploadSize, "Refuse a package larger than this many `bytes` (the server's limit)")
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runUpload(ctx context.Context, opts *UploadOptions) error {
	const op = "upload module version"
	if strings.TrimSpace(opts.Version) == "" {
		return cmdutil.UsageErrorf("--version is required: the semantic version to publish, e.g. 1.2.0")
	}
	version, err := ParseVersion(opts.Version)
	if err != nil {
		return cmdutil.UsageErrorf("invalid --version: %v", err)
	}
	if _, err := ModuleID(opts.Module); err != nil {
		return err
	}
	if opts.MaxSize <= 0 {
		return cmdutil.UsageErrorf("--max-upload-size must be positive")
	}
	dir, err := moduleDirectory(opts.Directory)
	if err != nil {
		return err
	}

	// Pack first: a package the server would refuse is never announced to it.
	pkg, err := slug.Pack(ctx, dir, slug.Options{Deterministic: true, MaxSize: opts.MaxSize, WarnSize: slug.DefaultWarnSize})
	if err != nil {
		if tl, ok := errors.AsType[*slug.TooLargeError](err); ok {
			return cmdutil.WithHint(fmt.Errorf("%s: the module package exceeds %s (stopped after %s); nothing was sent",
				op, slug.FormatSize(tl.Limit), slug.FormatSize(tl.Size)),
				"Leave out what the module does not need with a .terraformignore file. The server refuses packages over its limit (128 MiB by default).")
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	defer func() { _ = pkg.Remove() }()
	errOut := opts.IO.ErrOut
	for _, w := range pkg.Warnings {
		fmt.Fprintf(errOut, "Note: %s\n", w)
	}
	fmt.Fprintf(errOut, "Packed %s (%s), SHA-256 %s.\n", admincmd.Plural(pkg.Files, "file", "files"), slug.FormatSize(pkg.Size), pkg.SHA256)

	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	m, err := fetchModule(ctx, client, op, opts.Module)
	if err != nil {
		return err
	}
	path := m.ResourcePath + "/" + version

	resp, err := gql.CreateTerraformModuleVersion(ctx, client.GraphQL(), gql.CreateTerraformModuleVersionInput{
		ModuleId: &m.Id, Version: version, ShaSum: pkg.SHA256,
	})
	if err == nil {
		err = api.ProblemsOf("create module version", resp.CreateTerraformModuleVersion.Problems)
	}
	if err != nil {
		err = api.WithOp(err, "create module version "+path)
		if api.KindOf(err) == api.KindConflict {
			return cmdutil.WithHint(err, fmt.Sprintf("Versions cannot be replaced: publish a new version, or delete this one first with 'tharsis module delete-version %s'.", path))
		}
		return explain(err, m.GroupPath)
	}
	created := resp.CreateTerraformModuleVersion.ModuleVersion
	if created == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no module version"}
	}
	vid := created.Id
	fmt.Fprintf(errOut, "Created version %s of %s; uploading...\n", created.Version, m.ResourcePath)

	f, err := pkg.Open()
	if err == nil {
		err = client.UploadModuleVersion(ctx, vid, f, pkg.Size)
		_ = f.Close()
	}
	if err != nil {
		return cleanUp(ctx, client, errOut, vid, path, api.WithOp(err, op+" "+path))
	}

	v, err := waitChecked(ctx, client, opts, vid, path)
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.WithHint(err, fmt.Sprintf("The package was uploaded; see whether the server accepted it with 'tharsis module get-version %s'.", path))
		}
		return err
	}
	if v.Status != "uploaded" {
		fmt.Fprintf(errOut, "The server rejected module version %s: %s\n", path, orNone(v.Error))
		if v.Diagnostics != "" {
			fmt.Fprintf(errOut, "Diagnostics:\n%s\n", strings.TrimSpace(v.Diagnostics))
		}
		return cleanUp(ctx, client, errOut, vid, path, &cmdutil.ExitError{Code: cmdutil.ExitFailure,
			Err: fmt.Errorf("%s %s: the version ended %s: %s", op, path, v.Status, orNone(v.Error))})
	}
	out := versionFromGQL(v)
	if opts.JSON {
		return opts.IO.PrintJSON(out)
	}
	fmt.Fprintf(opts.IO.Out, "Published module version %s.\n\n", path)
	return versionFields(out, opts.Now()).Print(opts.IO)
}

func orNone(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

// moduleDirectory resolves --directory-path and checks that it holds
// Terraform files.
func moduleDirectory(d string) (string, error) {
	if d == "" {
		d = "."
	}
	abs, err := filepath.Abs(d)
	if err != nil {
		return "", cmdutil.UsageErrorf("bad --directory-path %q: %v", d, err)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", cmdutil.UsageErrorf("directory %s does not exist", d)
	case err != nil:
		return "", cmdutil.UsageErrorf("cannot read directory %s: %v", d, err)
	case !st.IsDir():
		return "", cmdutil.UsageErrorf("%s is not a directory", d)
	}
	found := false
	err = filepath.WalkDir(abs, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == abs {
				return err
			}
			return nil
		}
		if e.IsDir() {
			if p != abs && strings.HasPrefix(e.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if n := e.Name(); strings.HasSuffix(n, ".tf") || strings.HasSuffix(n, ".tf.json") {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return "", cmdutil.UsageErrorf("cannot read directory %s: %v", d, err)
	}
	if !found {
		return "", cmdutil.WithHint(cmdutil.UsageErrorf("no Terraform files (.tf or .tf.json) in %s", abs),
			"run from the module's directory or pass --directory-path DIR")
	}
	return abs, nil
}

// waitChecked polls the version until the server has checked its package
// (status uploaded or errored).
func waitChecked(ctx context.Context, client *api.Client, opts *UploadOptions, id, path string) (*gql.TerraformModuleVersionDetail, error) {
	delay := orDefault(opts.pollMin, 200*time.Millisecond)
	maxDelay := orDefault(opts.pollMax, 2*time.Second)
	told := false
	for {
		v, err := fetchVersionID(ctx, client, "read module version", id, path)
		if err != nil {
			return nil, err
		}
		switch v.Status {
		case "uploaded", "errored":
			return v, nil
		}
		if !told {
			fmt.Fprintf(opts.IO.ErrOut, "Waiting for the server to check the package (status %s)...\n", v.Status)
			told = true
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, maxDelay)
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// cleanUp deletes a version whose upload failed, even when ctx was
// cancelled (an interrupt must not leave it behind), and returns cause with
// what happened to the version.
func cleanUp(ctx context.Context, client *api.Client, errOut io.Writer, id, path string, cause error) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := deleteVersion(dctx, client, id); err != nil {
		return cmdutil.WithHint(cause, fmt.Sprintf("The version could not be deleted (%v): delete it with 'tharsis module delete-version %s' before publishing it again.", err, path))
	}
	fmt.Fprintf(errOut, "Deleted the unfinished version %s.\n", path)
	return cmdutil.WithHint(cause, "The unfinished version was deleted: run the command again to publish it.")
}
