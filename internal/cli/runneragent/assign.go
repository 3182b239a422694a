package runneragent

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// AssignOptions are the inputs of `tharsis runner-agent
// assign-service-account` and `unassign-service-account`.
type AssignOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	ServiceAccount string
	Runner         string
	Assign         bool
}

// Assignment is what both commands print with -o json.
type Assignment struct {
	RunnerAgent      string `json:"runner_agent"`
	RunnerAgentID    string `json:"runner_agent_id"`
	ServiceAccount   string `json:"service_account"`
	ServiceAccountID string `json:"service_account_id"`
	// Assigned is the state after the command; Changed tells whether the
	// command changed it.
	Assigned bool `json:"assigned"`
	Changed  bool `json:"changed"`
}

// NewCmdAssign builds `tharsis runner-agent assign-service-account`; runF
// replaces the real run in tests.
func NewCmdAssign(f *cmdutil.Factory, runF func(context.Context, *AssignOptions) error) *cobra.Command {
	return newAssignCmd(f, runF, true, &cobra.Command{
		Use:   "assign-service-account SERVICE_ACCOUNT RUNNER_AGENT",
		Short: "Let a runner agent log in with a service account",
		Long: `Assign a service account to a group runner agent: its agent process logs in
with it, and without one the runner agent takes no jobs. The service account
must belong to the runner agent's group or one of its parent groups; shared
runner agents take none. Assigning one that is already assigned succeeds
without change. Both arguments take a path, a TRN or an ID (service account
first, as in the reference CLI). Needs the owner role on the runner agent's
group.

With -o json: {"runner_agent", "runner_agent_id", "service_account",
"service_account_id", "assigned": true, "changed": true|false}.`,
		Example: `  tharsis runner-agent assign-service-account ops/runner-sa ops/gpu-runner
  tharsis runner-agent assign-service-account trn:service_account:ops/runner-sa trn:runner:ops/prod/gpu-runner`,
	})
}

// NewCmdUnassign builds `tharsis runner-agent unassign-service-account`;
// runF replaces the real run in tests.
func NewCmdUnassign(f *cmdutil.Factory, runF func(context.Context, *AssignOptions) error) *cobra.Command {
	return newAssignCmd(f, runF, false, &cobra.Command{
		Use:   "unassign-service-account SERVICE_ACCOUNT RUNNER_AGENT",
		Short: "Stop a runner agent from logging in with a service account",
		Long: `Unassign a service account from a runner agent. Unassigning one that is not
assigned succeeds without change. Both arguments take a path, a TRN or an
ID. Needs the owner role on the runner agent's group.

With -o json: {"runner_agent", "runner_agent_id", "service_account",
"service_account_id", "assigned": false, "changed": true|false}.`,
		Example: `  tharsis runner-agent unassign-service-account ops/runner-sa ops/gpu-runner`,
	})
}

func newAssignCmd(f *cmdutil.Factory, runF func(context.Context, *AssignOptions) error, assign bool, cmd *cobra.Command) *cobra.Command {
	opts := &AssignOptions{IO: f.IO, Assign: assign}
	cmd.Args = cmdutil.ExactArgs("SERVICE_ACCOUNT", "RUNNER_AGENT")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		opts.ServiceAccount, opts.Runner = args[0], args[1]
		opts.JSON = f.JSON()
		opts.APIClient = f.APIClient
		if runF != nil {
			return runF(cmd.Context(), opts)
		}
		return runAssign(cmd.Context(), opts)
	}
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runAssign(ctx context.Context, opts *AssignOptions) error {
	op := "assign service account"
	if !opts.Assign {
		op = "unassign service account"
	}
	saID := api.NormalizeID("service_account", opts.ServiceAccount)
	if saID == "" {
		return cmdutil.UsageErrorf("the service account is empty: give its path, TRN or ID")
	}
	runnerID, err := normalizeID(opts.Runner)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	st, err := assignmentState(ctx, client, op, runnerID, saID, opts)
	if err != nil {
		return err
	}
	res := Assignment{RunnerAgent: st.runner.ResourcePath, RunnerAgentID: st.runner.Id,
		ServiceAccount: st.sa.ResourcePath, ServiceAccountID: st.sa.Id, Assigned: st.assigned}
	done := func(msg string) error {
		if opts.JSON {
			return opts.IO.PrintJSON(res)
		}
		_, err := fmt.Fprintln(opts.IO.Out, msg)
		return err
	}
	sa, rn := st.sa.ResourcePath, st.runner.ResourcePath
	switch {
	case opts.Assign && st.assigned:
		return done(fmt.Sprintf("Service account %s is already assigned to runner agent %s.", sa, rn))
	case !opts.Assign && !st.assigned:
		return done(fmt.Sprintf("Service account %s is not assigned to runner agent %s: nothing to do.", sa, rn))
	}

	in := gql.AssignServiceAccountToRunnerInput{RunnerId: &st.runner.Id, ServiceAccountId: &st.sa.Id}
	if opts.Assign {
		resp, err := gql.AssignServiceAccountToRunner(ctx, client.GraphQL(), in)
		if err == nil {
			err = api.ProblemsOf(op, resp.AssignServiceAccountToRunner.Problems)
		}
		if err != nil {
			if api.KindOf(err) == api.KindConflict {
				// Assigned by someone else in the meantime: the goal is met.
				res.Assigned = true
				return done(fmt.Sprintf("Service account %s is already assigned to runner agent %s.", sa, rn))
			}
			return explainAssign(admincmd.Explain(api.WithOp(err, op), admincmd.RoleOwner, st.runner.GroupPath), st)
		}
		res.Assigned, res.Changed = true, true
		return done(fmt.Sprintf("Assigned service account %s to runner agent %s.", sa, rn))
	}
	resp, err := gql.UnassignServiceAccountFromRunner(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.UnassignServiceAccountFromRunner.Problems)
	}
	if err != nil {
		return explainAssign(admincmd.Explain(api.WithOp(err, op), admincmd.RoleOwner, st.runner.GroupPath), st)
	}
	res.Assigned, res.Changed = false, true
	return done(fmt.Sprintf("Unassigned service account %s from runner agent %s.", sa, rn))
}

// assignment is what the API says about a runner agent and a service
// account before a change.
type assignment struct {
	runner   *gql.GetRunnerAssignmentRunner
	sa       *gql.GetRunnerAssignmentServiceAccount
	assigned bool
}

// assignmentState reads both sides and whether the service account is
// assigned, paging through the runner agent's service accounts.
func assignmentState(ctx context.Context, client *api.Client, op, runnerID, saID string, opts *AssignOptions) (*assignment, error) {
	var st assignment
	var after *string
	for {
		resp, err := gql.GetRunnerAssignment(ctx, client.GraphQL(), runnerID, saID, after)
		if err != nil {
			return nil, admincmd.Explain(api.WithOp(err, op), admincmd.RoleViewer, "")
		}
		if resp.Runner == nil || *resp.Runner == nil {
			return nil, admincmd.NotFound(op, "runner agent", opts.Runner)
		}
		rn, ok := (*resp.Runner).(*gql.GetRunnerAssignmentRunner)
		if !ok {
			return nil, admincmd.KindMismatch(op, "runner agent", opts.Runner, deref((*resp.Runner).GetTypename()))
		}
		if resp.ServiceAccount == nil || *resp.ServiceAccount == nil {
			return nil, admincmd.NotFound(op, "service account", opts.ServiceAccount)
		}
		sa, ok := (*resp.ServiceAccount).(*gql.GetRunnerAssignmentServiceAccount)
		if !ok {
			return nil, admincmd.KindMismatch(op, "service account", opts.ServiceAccount, deref((*resp.ServiceAccount).GetTypename()))
		}
		st.runner, st.sa = rn, sa
		c := rn.AssignedServiceAccounts
		st.assigned = st.assigned || slices.ContainsFunc(c.Edges,
			func(e *gql.GetRunnerAssignmentRunnerAssignedServiceAccountsServiceAccountConnectionEdgesServiceAccountEdge) bool {
				return e != nil && e.Node != nil && e.Node.Id == sa.Id
			})
		next := deref(c.PageInfo.EndCursor)
		if st.assigned || !c.PageInfo.HasNextPage || next == "" || (after != nil && *after == next) {
			return &st, nil
		}
		after = &next
	}
}

// explainAssign turns the API's assignment rules into plain explanations.
func explainAssign(err error, st *assignment) error {
	ae, ok := err.(*api.Error)
	if !ok || ae.Kind != api.KindBadRequest {
		return err
	}
	c := *ae
	msg := strings.ToLower(ae.Message)
	switch {
	case strings.Contains(msg, "shared runner"):
		c.Message = fmt.Sprintf("runner agent %s is a shared runner agent: shared runner agents belong to the Tharsis installation and take no service accounts", st.runner.ResourcePath)
		c.Hint = "Assign service accounts to group runner agents only (tharsis runner-agent list --group GROUP)."
	case strings.Contains(msg, "cannot be assigned"):
		c.Message = fmt.Sprintf("service account %s cannot be assigned to runner agent %s: it belongs to group %s, but it must belong to the runner agent's group %s or one of that group's parents",
			st.sa.ResourcePath, st.runner.ResourcePath, st.sa.GroupPath, st.runner.GroupPath)
		c.Hint = fmt.Sprintf("Create a service account in %s (tharsis service-account create NAME --group %s ...) or in one of its parent groups.", st.runner.GroupPath, st.runner.GroupPath)
	default:
		return err
	}
	return &c
}
