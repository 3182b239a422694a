// Package version implements `tharsis version`.
package version

import (
	"context"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/build"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// Info is what `tharsis version -o json` prints.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// Current returns the version information of this binary.
func Current() Info {
	v, c := build.Info()
	return Info{Version: v, Commit: c, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
}

// String is the one-line text form, also used by `tharsis --version`.
func (i Info) String() string {
	return fmt.Sprintf("tharsis version %s (commit %s, %s, %s/%s)", i.Version, i.Commit, i.Go, i.OS, i.Arch)
}

// VersionOptions are the inputs of `tharsis version`.
type VersionOptions struct {
	IO   *ui.IOStreams
	JSON bool
	Info Info
}

// NewCmdVersion builds `tharsis version`; runF replaces the real run in tests.
func NewCmdVersion(f *cmdutil.Factory, runF func(context.Context, *VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of tharsis",
		Long:  "Print the version, commit, Go version and platform of this tharsis binary.",
		Example: `  tharsis version
  tharsis version -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.JSON = f.JSON()
			opts.Info = Current()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runVersion(cmd.Context(), opts)
		},
	}
}

func runVersion(_ context.Context, opts *VersionOptions) error {
	if opts.JSON {
		return opts.IO.PrintJSON(opts.Info)
	}
	_, err := fmt.Fprintln(opts.IO.Out, opts.Info.String())
	return err
}
