// Package adminmode implements `tharsis admin-mode`: activate, deactivate
// and status. Tharsis administrators hold no special rights until they turn
// admin mode on, for at most 6 hours; then they may, for example, create
// top-level groups and change shared runner agents.
package adminmode

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// MaxDuration is the longest admin mode the API grants.
const MaxDuration = 360 * time.Minute

// NewCmdAdminMode builds the `admin-mode` noun with its verbs.
func NewCmdAdminMode(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "admin-mode <command>",
		Aliases: []string{"admin"},
		Short:   "Turn administrator mode on or off",
		Long: `Tharsis administrators act as ordinary users until they turn admin mode on.
In admin mode they may create top-level groups, change shared runner agents
and see every namespace. It lasts 30 minutes unless --duration says
otherwise (at most 6 hours) and can be turned off early.`,
		Example: `  tharsis admin-mode activate --duration 1h
  tharsis group create platform
  tharsis admin-mode deactivate`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(NewCmdActivate(f, nil), NewCmdDeactivate(f, nil), NewCmdStatus(f, nil))
	return cmd
}

// Options are the inputs of the admin-mode verbs.
type Options struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	// Duration of activate; 0 leaves it to the server (30 minutes).
	Duration time.Duration
}

// Status is what the admin-mode verbs print with -o json.
type Status struct {
	Username         string     `json:"username"`
	Admin            bool       `json:"admin"`
	AdminModeEnabled bool       `json:"admin_mode_enabled"`
	ExpiresAt        *time.Time `json:"expires_at"`
}

func bind(f *cmdutil.Factory, opts *Options) {
	opts.JSON = f.JSON()
	opts.APIClient = f.APIClient
	opts.Now = f.Now
}

const jsonDoc = `With -o json: {"username", "admin", "admin_mode_enabled", "expires_at"}.`

// NewCmdActivate builds `tharsis admin-mode activate`; runF replaces the real
// run in tests.
func NewCmdActivate(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "activate [--duration DURATION]",
		Short: "Turn admin mode on",
		Long: `Turn admin mode on for --duration (whole minutes, at most 6h; default 30m).
Only Tharsis administrators can. Activating again restarts the period.

` + jsonDoc,
		Example: `  tharsis admin-mode activate
  tharsis admin-mode activate --duration 2h`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Duration != 0 && (opts.Duration < time.Minute || opts.Duration > MaxDuration || opts.Duration%time.Minute != 0) {
				return cmdutil.UsageErrorf("invalid --duration %s: give whole minutes between 1m and 6h", opts.Duration)
			}
			bind(f, opts)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runActivate(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.Duration, "duration", 0, "How long admin mode lasts, e.g. 45m or 2h (default 30m, at most 6h)")
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

// NewCmdDeactivate builds `tharsis admin-mode deactivate`; runF replaces the
// real run in tests.
func NewCmdDeactivate(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "deactivate",
		Short: "Turn admin mode off",
		Long: `Turn admin mode off before it expires.

` + jsonDoc,
		Example: `  tharsis admin-mode deactivate`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bind(f, opts)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDeactivate(cmd.Context(), opts)
		},
	}
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

// NewCmdStatus builds `tharsis admin-mode status`; runF replaces the real run
// in tests.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether admin mode is on",
		Long: `Show whether you are an administrator and whether admin mode is on, until
when.

` + jsonDoc,
		Example: `  tharsis admin-mode status`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bind(f, opts)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStatus(cmd.Context(), opts)
		},
	}
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runActivate(ctx context.Context, opts *Options) error {
	const op = "activate admin mode"
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	in := gql.ActivateAdminModeInput{}
	if opts.Duration > 0 {
		m := int(opts.Duration / time.Minute)
		in.DurationMinutes = &m
	}
	resp, err := gql.ActivateAdminMode(ctx, client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf(op, resp.ActivateAdminMode.Problems)
	}
	if err != nil {
		return explain(api.WithOp(err, op))
	}
	u := resp.ActivateAdminMode.User
	if u == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no user"}
	}
	return printStatus(opts, Status{Username: u.Username, Admin: u.Admin, AdminModeEnabled: u.AdminModeEnabled, ExpiresAt: u.AdminModeExpiration})
}

func runDeactivate(ctx context.Context, opts *Options) error {
	const op = "deactivate admin mode"
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	resp, err := gql.DeactivateAdminMode(ctx, client.GraphQL(), gql.DeactivateAdminModeInput{})
	if err == nil {
		err = api.ProblemsOf(op, resp.DeactivateAdminMode.Problems)
	}
	if err != nil {
		return explain(api.WithOp(err, op))
	}
	u := resp.DeactivateAdminMode.User
	if u == nil {
		return &api.Error{Kind: api.KindInternal, Op: op, Message: "the server returned no user"}
	}
	return printStatus(opts, Status{Username: u.Username, Admin: u.Admin, AdminModeEnabled: u.AdminModeEnabled, ExpiresAt: u.AdminModeExpiration})
}

func runStatus(ctx context.Context, opts *Options) error {
	const op = "get admin mode"
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	resp, err := gql.Me(ctx, client.GraphQL())
	if err != nil {
		return api.WithOp(err, op)
	}
	if resp.Me == nil || *resp.Me == nil {
		return &api.Error{Kind: api.KindUnauthenticated, Op: op, Message: "the server did not recognise the credential"}
	}
	u, ok := (*resp.Me).(*gql.MeMeUser)
	if !ok {
		return &api.Error{Kind: api.KindForbidden, Op: op, Message: "service accounts have no admin mode: only users can be administrators"}
	}
	return printStatus(opts, Status{Username: u.Username, Admin: u.Admin, AdminModeEnabled: u.AdminModeEnabled, ExpiresAt: u.AdminModeExpiration})
}

// explain says who can use admin mode.
func explain(err error) error {
	ae, ok := err.(*api.Error)
	if !ok || ae.Kind != api.KindForbidden {
		return err
	}
	c := *ae
	c.Hint = "Only Tharsis administrators (users with the admin flag) have admin mode; ask one to do this for you."
	return &c
}

func printStatus(opts *Options, s Status) error {
	if !s.AdminModeEnabled || (s.ExpiresAt != nil && !s.ExpiresAt.After(opts.Now())) {
		s.AdminModeEnabled = false
	}
	if opts.JSON {
		return opts.IO.PrintJSON(s)
	}
	var msg string
	switch {
	case !s.Admin:
		msg = fmt.Sprintf("%s is not a Tharsis administrator: admin mode is not available.", s.Username)
	case s.AdminModeEnabled && s.ExpiresAt != nil:
		msg = fmt.Sprintf("Admin mode is on for %s until %s (%s).", s.Username,
			s.ExpiresAt.Local().Format("2006-01-02 15:04:05 MST"), admincmd.Ago(*s.ExpiresAt, opts.Now()))
	case s.AdminModeEnabled:
		msg = fmt.Sprintf("Admin mode is on for %s.", s.Username)
	default:
		msg = fmt.Sprintf("Admin mode is off for %s.", s.Username)
	}
	_, err := fmt.Fprintln(opts.IO.Out, msg)
	return err
}
