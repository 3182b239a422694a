package run

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/runflow"
	"github.com/tharsis-cli/tharsis/pkg/envfile"
	"github.com/tharsis-cli/tharsis/pkg/slug"
	"github.com/tharsis-cli/tharsis/pkg/tfvars"
)

type kind int

const (
	kindPlan kind = iota
	kindApply
	kindDestroy
	kindWatch
	kindApprove
	kindWorkspaceDestroy
)

func (k kind) String() string {
	return [...]string{"plan", "apply", "destroy", "watch", "approve", "workspace destroy"}[k]
}

// CreateOptions are the flags of plan, apply and destroy.
type CreateOptions struct {
	F    *cmdutil.Factory
	Kind kind

	Workspace string

	Directory              string
	DirectorySet           bool
	ModuleSource           string
	ModuleVersion          string
	IncludePrereleases     bool
	ConfigurationVersionID string

	TFVars  []tfvars.Arg
	EnvVars []envfile.Arg

	Targets          []string
	Refresh          bool
	RefreshOnly      bool
	Destroy          bool // plan --destroy
	TerraformVersion string
	Comment          string

	AutoApprove      bool
	Input            bool
	AutoApply        bool
	DetailedExitcode bool
	Timeout          time.Duration
	DryRun           bool
	Events           bool
	Quiet            bool
	DotenvFile       string
	MaxSlugSize      int64
}

func newCreateCmd(f *cmdutil.Factory, k kind, runF func(context.Context, *CreateOptions) error, cmd *cobra.Command) *cobra.Command {
	opts := &CreateOptions{F: f, Kind: k, Refresh: true, Input: true}
	cmd.Args = cmdutil.ExactArgs("workspace")
	cmd.ValidArgsFunction = complete.Workspaces(f)
	cmd.RunE = func(c *cobra.Command, args []string) error {
		opts.Workspace = args[0]
		opts.DirectorySet = c.Flags().Changed("directory-path")
		if runF != nil {
			return runF(c.Context(), opts)
		}
		return runCreate(c.Context(), opts)
	}

	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&opts.Directory, "directory-path", "", "Terraform configuration `directory` to upload (default: the current directory)")
	fs.StringVar(&opts.ModuleSource, "module-source", "", "run a registry module instead of a local directory")
	fs.StringVar(&opts.ModuleVersion, "module-version", "", "module `version` or constraint (default: the latest)")
	fs.BoolVar(&opts.IncludePrereleases, "include-module-prereleases", false, "let the latest version or a constraint select a pre-release")
	fs.StringVar(&opts.ConfigurationVersionID, "configuration-version", "", "re-run an uploaded configuration version (`ID`)")
	addVariableFlags(fs, opts)
	fs.StringArrayVar(&opts.Targets, "target", nil, "limit the run to this resource `address` (repeatable)")
	fs.BoolVar(&opts.Refresh, "refresh", true, "refresh the state before planning (--refresh=false to skip)")
	if k != kindDestroy {
		fs.BoolVar(&opts.RefreshOnly, "refresh-only", false, "only refresh the state; plan no resource changes")
	}
	if k == kindPlan {
		fs.BoolVar(&opts.Destroy, "destroy", false, "plan the destruction of every resource")
	}
	fs.StringVar(&opts.TerraformVersion, "terraform-version", "", "Terraform `version` for this run (default: the workspace's)")
	fs.StringVar(&opts.Comment, "comment", "", "comment stored with the run")
	if k != kindPlan {
		fs.BoolVar(&opts.AutoApprove, "auto-approve", false, "apply without asking for approval")
		fs.BoolVar(&opts.Input, "input", true, "ask for approval; --input=false stops after the plan, leaving the run for approval elsewhere")
		fs.BoolVar(&opts.AutoApply, "auto-apply", false, "let Tharsis start the apply itself once the plan has changes")
	}
	fs.BoolVar(&opts.DetailedExitcode, "detailed-exitcode", false, "exit 2 when the plan succeeded with changes (and nothing was applied)")
	fs.DurationVar(&opts.Timeout, "timeout", 0, "give up after this `duration` (exit 124; the run is left as it is), e.g. 30m")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "show the files that would be uploaded and the package size; create nothing")
	fs.BoolVar(&opts.Events, "events", false, "write line-delimited JSON events to stdout as the run progresses")
	fs.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only the job logs and errors")
	fs.StringVar(&opts.DotenvFile, "dotenv", "", "also write the result as KEY=value lines to this `file` (GitLab dotenv reports)")
	fs.Int64Var(&opts.MaxSlugSize, "max-upload-size", 0, "refuse to upload a configuration larger than this many `bytes` (0: no limit)")
	return cmd
}

// sourceError is wrong input: it exits 64 like any usage error.
func sourceError(format string, args ...any) error { return cmdutil.UsageErrorf(format, args...) }

// prepare checks every input and builds the engine's spec. Nothing is sent
// to the server before it succeeds.
func (o *CreateOptions) prepare() (runflow.Spec, error) {
	spec := runflow.Spec{
		Workspace:              o.Workspace,
		ModuleSource:           o.ModuleSource,
		ModuleVersion:          o.ModuleVersion,
		IncludePrereleases:     o.IncludePrereleases,
		ConfigurationVersionID: o.ConfigurationVersionID,
		Speculative:            o.Kind == kindPlan,
		Destroy:                o.Kind == kindDestroy || o.Destroy,
		AutoApply:              o.AutoApply,
		Refresh:                o.Refresh,
		RefreshOnly:            o.RefreshOnly,
		Targets:                o.Targets,
		TerraformVersion:       o.TerraformVersion,
		Comment:                o.Comment,
		Slug:                   slug.Options{MaxSize: o.MaxSlugSize, WarnSize: slug.DefaultWarnSize},
	}
	if strings.TrimSpace(o.Workspace) == "" {
		return spec, sourceError("the workspace argument is empty")
	}
	if o.MaxSlugSize < 0 {
		return spec, sourceError("--max-upload-size must not be negative (0: no limit)")
	}
	sources := 0
	for _, set := range []bool{o.DirectorySet, o.ModuleSource != "", o.ConfigurationVersionID != ""} {
		if set {
			sources++
		}
	}
	if sources > 1 {
		return spec, sourceError("--directory-path, --module-source and --configuration-version are exclusive: give one")
	}
	if o.ModuleVersion != "" && o.ModuleSource == "" {
		return spec, sourceError("--module-version needs --module-source")
	}
	if o.IncludePrereleases && o.ModuleSource == "" {
		return spec, sourceError("--include-module-prereleases needs --module-source")
	}
	if strings.EqualFold(o.ModuleVersion, "latest") {
		return spec, sourceError(`"latest" is not a module version: leave --module-version out to get the latest`)
	}
	if o.RefreshOnly && spec.Destroy {
		return spec, sourceError("--refresh-only cannot be combined with a destroy plan")
	}
	if o.Timeout < 0 {
		return spec, sourceError("--timeout must not be negative")
	}

	autoLoad := false
	if sources == 0 || o.DirectorySet {
		dir, err := o.resolveDirectory()
		if err != nil {
			return spec, err
		}
		spec.Directory = dir
		autoLoad = dir != ""
	}

	tfv, err := tfvars.Load(spec.Directory, o.environ(), o.TFVars, autoLoad)
	if err != nil {
		return spec, cmdutil.UsageErrorf("%v", err)
	}
	for _, v := range tfv {
		spec.Variables = append(spec.Variables, runflow.Variable{Key: v.Key, Value: v.Value, Category: "terraform"})
	}
	env, err := envfile.Load(o.EnvVars)
	if err != nil {
		return spec, cmdutil.UsageErrorf("%v", err)
	}
	for _, v := range env {
		spec.Variables = append(spec.Variables, runflow.Variable{Key: v.Key, Value: v.Value, Category: "environment"})
	}
	return spec, nil
}

func (o *CreateOptions) environ() []string {
	if o.F.Environ != nil {
		return o.F.Environ()
	}
	return nil
}

// resolveDirectory finds the configuration directory. It returns "" for a
// destroy run with no directory given and no Terraform files in the current
// one: the run then uses the configuration behind the workspace's state.
func (o *CreateOptions) resolveDirectory() (string, error) {
	dir := o.Directory
	if !o.DirectorySet {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("cannot read the current directory: %w", err)
		}
		dir = wd
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", sourceError("bad --directory-path %q: %v", dir, err)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if o.Kind == kindDestroy {
			if o.DirectorySet {
				// An absent directory is an empty configuration for a destroy.
				return "", nil
			}
		}
		return "", sourceError("directory %s does not exist", dir)
	case err != nil:
		return "", sourceError("cannot read directory %s: %v", dir, err)
	case !st.IsDir():
		return "", sourceError("%s is not a directory", dir)
	}
	has, err := hasTerraformFiles(abs)
	if err != nil {
		return "", sourceError("cannot read directory %s: %v", dir, err)
	}
	if !has {
		switch {
		case o.Kind == kindDestroy && !o.DirectorySet:
			return "", nil
		case o.Kind == kindDestroy || o.Destroy:
			return abs, nil // an empty configuration destroys everything
		default:
			return "", cmdutil.WithHint(sourceError("no Terraform files (.tf or .tf.json) in %s", abs),
				"run from your configuration's directory or pass --directory-path DIR")
		}
	}
	return abs, nil
}

// hasTerraformFiles looks for a .tf or .tf.json file in dir or below,
// skipping hidden and .terraform directories under it (but never dir
// itself, so ".", ".." and ".infra" work).
func hasTerraformFiles(dir string) (bool, error) {
	found := false
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if n := d.Name(); strings.HasSuffix(n, ".tf") || strings.HasSuffix(n, ".tf.json") {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found, err
}
