package module

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
	"github.com/tharsis-cli/tharsis/pkg/slug"
)

// DigestOptions are the inputs of `tharsis module digest`.
type DigestOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	Directory string
}

// DigestResult is what `module digest -o json` prints.
type DigestResult struct {
	Directory string `json:"directory"`
	SHA256    string `json:"sha256"`
}

// NewCmdDigest builds `tharsis module digest`; runF replaces the real run
// in tests.
func NewCmdDigest(f *cmdutil.Factory, runF func(context.Context, *DigestOptions) error) *cobra.Command {
	opts := &DigestOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "digest",
		Short: "Print the SHA-256 a directory would be published with",
		Long: `Print the SHA-256 of the deterministic package of a directory (default: the
current one): the sum 'tharsis module upload-version' publishes it with, and
which a run of that version reports as its module digest. Only the content
counts: file times, owners and umask do not change it. Nothing is sent.

With -o json: {"directory", "sha256"}.`,
		Example: `  tharsis module digest
  tharsis module digest --directory-path ./modules/vpc -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.JSON = f.JSON()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDigest(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Directory, "directory-path", "", "Directory holding the module (default: the current directory)")
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runDigest(ctx context.Context, opts *DigestOptions) error {
	dir, err := moduleDirectory(opts.Directory)
	if err != nil {
		return err
	}
	sum, err := slug.Digest(ctx, dir)
	if err != nil {
		return fmt.Errorf("digest %s: %w", dir, err)
	}
	if opts.JSON {
		return opts.IO.PrintJSON(DigestResult{Directory: dir, SHA256: sum})
	}
	_, err = fmt.Fprintln(opts.IO.Out, sum)
	return err
}
