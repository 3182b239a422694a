// Package run holds the `tharsis run` commands: create runs (plan, apply,
// destroy) and follow them to the end.
package run

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
)

// NewCmdRun is the `run` noun with its verbs.
func NewCmdRun(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run <command>",
		Short: "Create, follow and act on runs",
		Long: `Create runs from a local directory, a registry module or an existing
configuration version, follow their logs live, and approve, discard or cancel them.

plan, apply and destroy are also available at the top level (tharsis apply ...).`,
		Example: `  tharsis run plan my-group/my-workspace
  tharsis run apply my-group/my-workspace --directory-path ./infra --auto-approve
  tharsis run destroy my-group/my-workspace`,
	}
	cmd.AddCommand(
		NewCmdPlan(f, nil),
		NewCmdApply(f, nil),
		NewCmdDestroy(f, nil),
		NewCmdGet(f, nil),
		NewCmdList(f, nil),
		NewCmdLogs(f, nil),
		NewCmdWatch(f, nil),
		NewCmdVariables(f, nil),
		NewCmdApprove(f, nil),
		NewCmdDiscard(f, nil),
		NewCmdCancel(f, nil),
		NewCmdVCS(f, nil),
	)
	return cmd
}

// NewCmdPlan creates a speculative run: a plan that can never be applied.
func NewCmdPlan(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	return newCreateCmd(f, kindPlan, runF, &cobra.Command{
		Use:   "plan <workspace>",
		Short: "Plan a configuration on a workspace (speculative, never applied)",
		Long: `Create a speculative run: upload the configuration, plan it on the workspace
and stream the plan log. The run can never be applied.

The workspace is a path (group/workspace), a TRN or an ID. The configuration
comes from --directory-path (default: the current directory), --module-source
or --configuration-version.

Exit codes: 0 success (with --detailed-exitcode: no changes), 2 with
--detailed-exitcode when the plan has changes, 1 when the plan failed.`,
		Example: `  tharsis plan my-group/my-workspace
  tharsis plan my-group/my-workspace --directory-path ./infra --tf-var region=eu-west-1
  tharsis plan my-group/my-workspace --destroy --detailed-exitcode`,
	})
}

// NewCmdApply creates a run, shows the plan, asks for approval and applies.
func NewCmdApply(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	return newCreateCmd(f, kindApply, runF, &cobra.Command{
		Use:   "apply <workspace>",
		Short: "Plan and apply a configuration on a workspace",
		Long: `Create a run, stream the plan log, ask for approval and apply.

Approval: on a terminal you are asked; only "yes" approves, anything else
discards the run so the workspace is not left blocked (exit 3). Without a
terminal one line is read from standard input. --auto-approve applies without
asking; --input=false stops after the plan, leaving the run planned for
approval elsewhere (tharsis run approve). With neither and nothing to read
(as in most CI jobs) the command fails (exit 1) rather than pass with nothing
applied.

Ctrl-C asks Tharsis to cancel the run gracefully; a second Ctrl-C forces the
cancel once the server allows it; a third detaches.`,
		Example: `  tharsis apply my-group/my-workspace
  tharsis apply my-group/my-workspace --directory-path ./infra --auto-approve
  echo yes | tharsis apply my-group/my-workspace
  tharsis apply my-group/my-workspace --module-source registry.example.com/grp/vpc/aws --module-version "~> 1.2"`,
	})
}

// NewCmdDestroy plans the destruction of a workspace's resources and applies it.
func NewCmdDestroy(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	return newCreateCmd(f, kindDestroy, runF, &cobra.Command{
		Use:   "destroy <workspace>",
		Short: "Destroy the resources of a workspace",
		Long: `Create a destroy run, stream the plan, ask for approval and apply it.

The configuration comes from --directory-path (which may be empty),
--module-source or --configuration-version. Without any of them, and with no
Terraform files in the current directory, the configuration behind the
workspace's current state is used (as 'tharsis workspace destroy' does).

Approval, Ctrl-C and exit codes work as for apply.`,
		Example: `  tharsis destroy my-group/my-workspace
  tharsis destroy my-group/my-workspace --directory-path ./infra --auto-approve`,
	})
}
