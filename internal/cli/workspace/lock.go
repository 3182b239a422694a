package workspace

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// LockOptions are the inputs of `tharsis workspace lock` and `unlock`.
type LockOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	Workspace string
	Lock      bool
}

// NewCmdLock builds `tharsis workspace lock`; runF replaces the real run in
// tests.
func NewCmdLock(f *cmdutil.Factory, runF func(context.Context, *LockOptions) error) *cobra.Command {
	return newLockCmd(f, runF, true, &cobra.Command{
		Use:   "lock WORKSPACE",
		Short: "Lock a workspace so that no new run starts",
		Long: `Lock a workspace: runs already executing finish, new plans and applies wait
(queuing) until it is unlocked. Locking a locked workspace succeeds without
change. Needs the deployer role.

With -o json the workspace is printed as by 'tharsis workspace get -o json'.`,
		Example: `  tharsis workspace lock ops/network`,
	})
}

// NewCmdUnlock builds `tharsis workspace unlock`; runF replaces the real run
// in tests.
func NewCmdUnlock(f *cmdutil.Factory, runF func(context.Context, *LockOptions) error) *cobra.Command {
	return newLockCmd(f, runF, false, &cobra.Command{
		Use:   "unlock WORKSPACE",
		Short: "Unlock a workspace",
		Long: `Unlock a workspace: runs waiting for it start. Unlocking an unlocked workspace
succeeds without change. Needs the deployer role.

With -o json the workspace is printed as by 'tharsis workspace get -o json'.`,
		Example: `  tharsis workspace unlock ops/network`,
	})
}

func newLockCmd(f *cmdutil.Factory, runF func(context.Context, *LockOptions) error, lock bool, cmd *cobra.Command) *cobra.Command {
	opts := &LockOptions{IO: f.IO, Lock: lock}
	cmd.Args = cmdutil.ExactArgs("WORKSPACE")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		opts.Workspace = args[0]
		opts.JSON = f.JSON()
		opts.APIClient = f.APIClient
		opts.Now = f.Now
		if runF != nil {
			return runF(cmd.Context(), opts)
		}
		return runLock(cmd.Context(), opts)
	}
	admincmd.AddJSONFlag(cmd, f)
	cmd.ValidArgsFunction = complete.Workspaces(f)
	return cmd
}

func runLock(ctx context.Context, opts *LockOptions) error {
	op, verb := "lock workspace", "Locked"
	if !opts.Lock {
		op, verb = "unlock workspace", "Unlocked"
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	cur, err := mustFetch(ctx, client, op, opts.Workspace)
	if err != nil {
		return err
	}
	done := func(w *gql.WorkspaceDetail, msg string) error {
		if opts.JSON {
			return opts.IO.PrintJSON(fromGQL(w))
		}
		_, err := fmt.Fprintln(opts.IO.Out, msg)
		return err
	}
	if cur.Locked == opts.Lock {
		return done(cur, fmt.Sprintf("Workspace %s is already %s.", cur.FullPath, strings.ToLower(verb)))
	}
	var w *gql.WorkspaceDetail
	if opts.Lock {
		resp, err := gql.LockWorkspace(ctx, client.GraphQL(), gql.LockWorkspaceInput{WorkspaceId: &cur.Id})
		if err == nil {
			if err = api.ProblemsOf(op, resp.LockWorkspace.Problems); err == nil && resp.LockWorkspace.Workspace != nil {
				w = &resp.LockWorkspace.Workspace.WorkspaceDetail
			}
		}
		if err != nil {
			return explainLock(admincmd.ExplainWorkspace(api.WithOp(err, op), admincmd.RoleDeployer, cur.FullPath), cur)
		}
	} else {
		resp, err := gql.UnlockWorkspace(ctx, client.GraphQL(), gql.UnlockWorkspaceInput{WorkspaceId: &cur.Id})
		if err == nil {
			if err = api.ProblemsOf(op, resp.UnlockWorkspace.Problems); err == nil && resp.UnlockWorkspace.Workspace != nil {
				w = &resp.UnlockWorkspace.Workspace.WorkspaceDetail
			}
		}
		if err != nil {
			return explainLock(admincmd.ExplainWorkspace(api.WithOp(err, op), admincmd.RoleDeployer, cur.FullPath), cur)
		}
	}
	if w == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no workspace"}
	}
	return done(w, fmt.Sprintf("%s workspace %s.", verb, w.FullPath))
}

// explainLock handles the lock conflicts: a run in progress, or a lock
// state that changed since it was read (then the goal is reached).
func explainLock(err error, cur *gql.WorkspaceDetail) error {
	ae, ok := err.(*api.Error)
	if !ok || ae.Kind != api.KindConflict {
		return err
	}
	c := *ae
	if cur.CurrentApplyRun != nil {
		c.Hint = fmt.Sprintf("Run %s (%s) holds the workspace; wait for it to finish or cancel it.", cur.CurrentApplyRun.Id, cur.CurrentApplyRun.Status)
	}
	return &c
}
