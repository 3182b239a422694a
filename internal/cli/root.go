// Package cli assembles the command tree (NewRootCmd) and runs it (Main).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tharsis-cli/tharsis/internal/cli/adminmode"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/completion"
	"github.com/tharsis-cli/tharsis/internal/cli/configure"
	"github.com/tharsis-cli/tharsis/internal/cli/group"
	"github.com/tharsis-cli/tharsis/internal/cli/module"
	"github.com/tharsis-cli/tharsis/internal/cli/run"
	"github.com/tharsis-cli/tharsis/internal/cli/runneragent"
	"github.com/tharsis-cli/tharsis/internal/cli/serviceaccount"
	"github.com/tharsis-cli/tharsis/internal/cli/sso"
	"github.com/tharsis-cli/tharsis/internal/cli/version"
	"github.com/tharsis-cli/tharsis/internal/cli/whoami"
	"github.com/tharsis-cli/tharsis/internal/cli/workspace"
	"github.com/tharsis-cli/tharsis/internal/config"
)

// entry is one top-level command and its help group ("" = "Additional
// Commands").
type entry struct {
	group string
	new   func(*cmdutil.Factory) *cobra.Command
}

// topLevel lists the top-level commands in help order. Adding a noun is one
// line here: its package exports NewCmdNoun(f) returning the noun with its
// verbs; a single verb with the NewCmdX(f, runF) shape is wrapped in verb().
func topLevel() []entry {
	return []entry{
		{cmdutil.GroupRuns, run.NewCmdRun},
		{cmdutil.GroupRuns, verb(run.NewCmdPlan)},
		{cmdutil.GroupRuns, verb(run.NewCmdApply)},
		{cmdutil.GroupRuns, verb(run.NewCmdDestroy)},
		{cmdutil.GroupWorkspaces, workspace.NewCmdWorkspace},
		{cmdutil.GroupWorkspaces, group.NewCmdGroup},
		{cmdutil.GroupWorkspaces, module.NewCmdModule},
		{cmdutil.GroupAdmin, runneragent.NewCmdRunnerAgent},
		{cmdutil.GroupAdmin, serviceaccount.NewCmdServiceAccount},
		{cmdutil.GroupAdmin, adminmode.NewCmdAdminMode},
		{cmdutil.GroupConfig, verb(configure.NewCmdConfigure)},
		{cmdutil.GroupConfig, verb(whoami.NewCmdWhoami)},
		{cmdutil.GroupConfig, sso.NewCmdSSO},
		{"", verb(version.NewCmdVersion)},
		{"", verb(completion.NewCmdCompletion)},
	}
}

// verb adapts a NewCmdX(f, runF) constructor to the top-level list.
func verb[O any](newCmd func(*cmdutil.Factory, func(context.Context, *O) error) *cobra.Command) func(*cmdutil.Factory) *cobra.Command {
	return func(f *cmdutil.Factory) *cobra.Command { return newCmd(f, nil) }
}

// NewRootCmd builds the whole command tree.
func NewRootCmd(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "tharsis",
		Short: "Tharsis from the command line",
		Long: `tharsis runs Terraform on Tharsis: plan and apply workspaces, follow runs, and
manage workspaces, groups, runner agents and service accounts.

Settings live in ~/.tharsis (THARSIS_CONFIG_DIR). In CI, THARSIS_ENDPOINT plus a
token (THARSIS_STATIC_TOKEN or service account variables) is enough.`,
		Example: `  tharsis configure --http-endpoint https://tharsis.example.com
  tharsis sso login
  tharsis whoami
  tharsis -p prod whoami -o json`,
		Version:       version.Current().Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		CompletionOptions: cobra.CompletionOptions{
			DisableDefaultCmd: true, // `tharsis completion` is ours
		},
	}
	root.SetVersionTemplate(version.Current().String() + "\n")

	g := f.Global
	pf := root.PersistentFlags()
	pf.StringVarP(&g.Profile, "profile", "p", "", `Profile to use (env THARSIS_PROFILE; default "default")`)
	pf.StringVar(&g.Endpoint, "endpoint", "", "Tharsis API URL, overriding the profile (env THARSIS_ENDPOINT)")
	cmdutil.EnumFlag(root, pf, &g.Output, "output", "o", cmdutil.OutputText, []string{cmdutil.OutputText, cmdutil.OutputJSON}, "Output format")
	noColor := pf.VarPF(&noColorValue{f: f}, "no-color", "", "Disable colour (also NO_COLOR=1)")
	noColor.NoOptDefVal = "true"
	cmdutil.EnumFlag(root, pf, &g.LogLevel, "log-level", "", "", config.LogLevels(), "Debug logs on stderr (env THARSIS_CLI_LOG; default off)")
	_ = root.RegisterFlagCompletionFunc("profile", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return configure.ProfileNames(f), cobra.ShellCompDirectiveNoFileComp
	})

	used := map[string]bool{}
	for _, e := range topLevel() {
		c := e.new(f)
		c.GroupID = e.group
		used[e.group] = true
		root.AddCommand(c)
	}
	// Only groups with commands, so the help has no empty sections.
	for _, g := range cmdutil.Groups() {
		if used[g.ID] {
			root.AddGroup(g)
		}
	}

	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.UsageError{Err: err}
	})
	finish(root)
	return root
}

// noColorValue is --no-color: it switches colour off on the streams as soon
// as the flag is parsed, whatever command runs.
type noColorValue struct{ f *cmdutil.Factory }

func (v *noColorValue) String() string   { return fmt.Sprint(v.f.Global.NoColor) }
func (v *noColorValue) Type() string     { return "bool" }
func (v *noColorValue) IsBoolFlag() bool { return true }
func (v *noColorValue) Set(s string) error {
	var b bool
	switch strings.ToLower(s) {
	case "true", "1", "t", "yes":
		b = true
	case "false", "0", "f", "no":
	default:
		return fmt.Errorf("invalid boolean %q", s)
	}
	v.f.Global.NoColor = b
	v.f.IO.SetNoColor(b)
	return nil
}

// finish walks the tree so that every command behaves the same way: argument
// errors are usage errors (exit 64), and a command that only groups
// subcommands prints its help, or a usage error for an unknown subcommand.
func finish(c *cobra.Command) {
	// pflag prints deprecation notices on the flag set's output, which would
	// land on stdout and corrupt -o json; warnDeprecatedFlags prints them on
	// stderr instead.
	c.Flags().SetOutput(io.Discard)
	c.PersistentFlags().SetOutput(io.Discard)
	if c.HasSubCommands() && !c.Runnable() {
		c.Args = unknownSubcommand
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			warnDeprecatedFlags(cmd)
			return run(cmd, args)
		}
	}
	if orig := c.Args; orig != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := orig(cmd, args)
			if err == nil {
				return nil
			}
			if _, ok := errors.AsType[*cmdutil.UsageError](err); ok {
				return err
			}
			return &cmdutil.UsageError{Err: err}
		}
	}
	for _, sub := range c.Commands() {
		finish(sub)
	}
}

// warnDeprecatedFlags prints pflag's deprecation notices on stderr: cobra
// sends them to an internal buffer nobody reads.
func warnDeprecatedFlags(cmd *cobra.Command) {
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if fl.Deprecated != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "Warning: --%s is deprecated: %s\n", fl.Name, fl.Deprecated)
		}
	})
}

func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return cmdutil.UnknownSubcommand(cmd, args[0])
}
