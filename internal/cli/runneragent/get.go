package runneragent

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// GetOptions are the inputs of `tharsis runner-agent get`.
type GetOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)
	Now       func() time.Time

	Runner   string
	Sessions int
	Jobs     int
}

// Detail is what `runner-agent get -o json` prints: the runner agent with
// what is needed to tell why its jobs do not start.
type Detail struct {
	Runner
	AssignedServiceAccounts []ServiceAccountRef `json:"assigned_service_accounts"`
	// Sessions are the most recently active sessions of its agent
	// processes, newest first; SessionCount counts them all.
	Sessions     []Session `json:"sessions"`
	SessionCount int       `json:"session_count"`
	// RecentJobs are the jobs it took, newest first; JobCount counts all.
	RecentJobs []Job `json:"recent_jobs"`
	JobCount   int   `json:"job_count"`
	// Warnings explain what keeps it from taking jobs.
	Warnings []string `json:"warnings"`
}

// ServiceAccountRef names a service account.
type ServiceAccountRef struct {
	ID   string `json:"id"`
	Path string `json:"path"`
}

// Session is one runner agent process's session.
type Session struct {
	ID            string    `json:"id"`
	Active        bool      `json:"active"`
	Internal      bool      `json:"internal"`
	LastContacted time.Time `json:"last_contacted"`
	ErrorCount    int       `json:"error_count"`
	CreatedAt     time.Time `json:"created_at"`
}

// Job is a job a runner agent took.
type Job struct {
	ID            string     `json:"id"`
	Type          string     `json:"type"`
	Status        string     `json:"status"`
	Tags          []string   `json:"tags"`
	WorkspacePath string     `json:"workspace_path"`
	RunID         string     `json:"run_id"`
	QueuedAt      *time.Time `json:"queued_at"`
	RunningAt     *time.Time `json:"running_at"`
	FinishedAt    *time.Time `json:"finished_at"`
}

// NewCmdGet builds `tharsis runner-agent get`; runF replaces the real run in
// tests.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "get RUNNER_AGENT",
		Short: "Show a runner agent, its sessions and recent jobs",
		Long: `Show what is needed to tell why jobs do not start: tags, whether it takes
untagged jobs, whether it is disabled, the service accounts its agent can
log in with, the sessions of its agent processes (active, last contact,
errors) and the jobs it took recently, with warnings for what stops it.

With -o json: the fields of a list item ("id", "trn", "name", "path",
"group_path", "type", "description", "disabled", "run_untagged_jobs",
"tags", "created_by", "created_at", "updated_at", "version") plus
"assigned_service_accounts" [{"id", "path"}], "sessions" [{"id", "active",
"internal", "last_contacted", "error_count", "created_at"}],
"session_count", "recent_jobs" [{"id", "type", "status", "tags",
"workspace_path", "run_id", "queued_at", "running_at", "finished_at"}],
"job_count" and "warnings" [text].`,
		Example: `  tharsis runner-agent get ops/gpu-runner
  tharsis runner-agent get trn:runner:ops/gpu-runner --jobs 50 -o json`,
		Args: cmdutil.ExactArgs("RUNNER_AGENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Runner = args[0]
			if opts.Sessions < 0 || opts.Sessions > admincmd.MaxPageSize || opts.Jobs < 0 || opts.Jobs > admincmd.MaxPageSize {
				return cmdutil.UsageErrorf("--sessions and --jobs must be between 0 and %d", admincmd.MaxPageSize)
			}
			opts.JSON = f.JSON()
			opts.APIClient = f.APIClient
			opts.Now = f.Now
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runGet(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&opts.Sessions, "sessions", 5, "How many sessions to show (0-100)")
	fs.IntVar(&opts.Jobs, "jobs", 10, "How many recent jobs to show (0-100)")
	admincmd.AddJSONFlag(cmd, f)
	return cmd
}

func runGet(ctx context.Context, opts *GetOptions) error {
	const op = "get runner agent"
	id, err := normalizeID(opts.Runner)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	resp, err := gql.GetRunnerDetail(ctx, client.GraphQL(), id, opts.Sessions, opts.Jobs)
	if err != nil {
		return admincmd.Explain(api.WithOp(err, op), admincmd.RoleViewer, "")
	}
	if resp.Node == nil || *resp.Node == nil {
		return admincmd.NotFound(op, "runner agent", opts.Runner)
	}
	n, ok := (*resp.Node).(*gql.GetRunnerDetailNodeRunner)
	if !ok {
		return admincmd.KindMismatch(op, "runner agent", opts.Runner, deref((*resp.Node).GetTypename()))
	}
	d := detailOf(n)
	if opts.JSON {
		return opts.IO.PrintJSON(d)
	}
	return printDetail(opts.IO, d, opts.Now())
}

func detailOf(n *gql.GetRunnerDetailNodeRunner) Detail {
	d := Detail{
		Runner:                  fromGQL(&n.RunnerDetail),
		AssignedServiceAccounts: []ServiceAccountRef{},
		Sessions:                []Session{},
		SessionCount:            n.Sessions.TotalCount,
		RecentJobs:              []Job{},
		JobCount:                n.Jobs.TotalCount,
		Warnings:                []string{},
	}
	for _, e := range n.AssignedServiceAccounts.Edges {
		if e != nil && e.Node != nil {
			d.AssignedServiceAccounts = append(d.AssignedServiceAccounts, ServiceAccountRef{ID: e.Node.Id, Path: e.Node.ResourcePath})
		}
	}
	for _, e := range n.Sessions.Edges {
		if e != nil && e.Node != nil {
			s := e.Node
			d.Sessions = append(d.Sessions, Session{ID: s.Id, Active: s.Active, Internal: s.Internal,
				LastContacted: s.LastContacted, ErrorCount: s.ErrorCount, CreatedAt: s.Metadata.CreatedAt})
		}
	}
	for _, e := range n.Jobs.Edges {
		if e != nil && e.Node != nil {
			j := e.Node
			tags := j.Tags
			if tags == nil {
				tags = []string{}
			}
			d.RecentJobs = append(d.RecentJobs, Job{ID: j.Id, Type: string(j.Type), Status: string(j.Status), Tags: tags,
				WorkspacePath: j.Workspace.FullPath, RunID: j.Run.Id,
				QueuedAt: j.Timestamps.QueuedAt, RunningAt: j.Timestamps.RunningAt, FinishedAt: j.Timestamps.FinishedAt})
		}
	}
	d.Warnings = diagnose(d)
	return d
}

// diagnose says what keeps the runner agent from taking jobs.
func diagnose(d Detail) []string {
	var w []string
	if d.Disabled {
		w = append(w, fmt.Sprintf("It is disabled, so it takes no jobs. Enable it: tharsis runner-agent update %s --disabled=false", d.Path))
	}
	if d.Type == "group" && len(d.AssignedServiceAccounts) == 0 {
		w = append(w, fmt.Sprintf("No service account is assigned: its agent logs in with one, so without it jobs stay queued. "+
			"Assign one from %s or a parent group: tharsis runner-agent assign-service-account SERVICE_ACCOUNT %s", d.GroupPath, d.Path))
	}
	active := false
	for _, s := range d.Sessions {
		active = active || s.Active
		if s.ErrorCount > 0 {
			w = append(w, fmt.Sprintf("Session %s reported %s.", s.ID, admincmd.Plural(s.ErrorCount, "error", "errors")))
		}
	}
	if !d.Disabled && !active {
		w = append(w, "No active session: no runner agent process is connected with this identity.")
	}
	if w == nil {
		w = []string{}
	}
	return w
}

func printDetail(io *ui.IOStreams, d Detail, now time.Time) error {
	f := fields(d.Runner, now)
	sas := make([]string, len(d.AssignedServiceAccounts))
	for i, sa := range d.AssignedServiceAccounts {
		sas[i] = sa.Path
	}
	saText := strings.Join(sas, "\n")
	if d.Type == "shared" {
		saText = "not used (shared runner agent)"
	} else if saText == "" {
		saText = "none"
	}
	f.Add("Service accounts", saText)

	var sessions [][]string
	for _, s := range d.Sessions {
		sessions = append(sessions, []string{s.ID, admincmd.YesNo(s.Active), admincmd.Time(s.LastContacted, now), strconv.Itoa(s.ErrorCount)})
	}
	f.Table(fmt.Sprintf("Sessions (%d of %d)", len(d.Sessions), d.SessionCount),
		[]string{"ID", "ACTIVE", "LAST CONTACT", "ERRORS"}, sessions, "none: no runner agent process has connected")
	var jobs [][]string
	for _, j := range d.RecentJobs {
		jobs = append(jobs, []string{j.ID, j.Type, j.Status, j.WorkspacePath, admincmd.TimePtr(j.QueuedAt, now)})
	}
	f.Table(fmt.Sprintf("Recent jobs (%d of %d)", len(d.RecentJobs), d.JobCount),
		[]string{"JOB", "TYPE", "STATUS", "WORKSPACE", "QUEUED"}, jobs, "none")
	f.Notes("Warnings", d.Warnings)
	return f.Print(io)
}
