package run

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/runflow"
)

// VCSOptions are the flags of `tharsis run vcs`.
type VCSOptions struct {
	CreateOptions
	// Reference is the branch, tag or commit to run; "" means the link's
	// branch.
	Reference string

	// pollMin and pollMax bound the wait between looks for the run.
	pollMin, pollMax time.Duration
}

// NewCmdVCS is `tharsis run vcs`: a run from the repository linked to a
// workspace, followed like `run apply`.
func NewCmdVCS(f *cmdutil.Factory, runF func(context.Context, *VCSOptions) error) *cobra.Command {
	opts := &VCSOptions{CreateOptions: CreateOptions{F: f, Kind: kindApply, Input: true}}
	cmd := &cobra.Command{
		Use:   "vcs <workspace>",
		Short: "Run the configuration of the repository linked to a workspace",
		Long: `Start a run from the repository a workspace is linked to (its VCS provider
link): Tharsis fetches the linked branch (or --reference: another branch, a
tag or a commit SHA), takes the link's module directory and creates the run.
The command then finds that run and follows it as 'tharsis apply' does:
logs, approval (or --auto-approve), Ctrl-C, -o json and exit codes.

A workspace without a link is refused with a message; 'tharsis workspace get'
shows a workspace's link.

Exit codes: as for apply; 1 also when Tharsis could not start the run from
the repository (the reason is printed).`,
		Example: `  tharsis run vcs ops/network
  tharsis run vcs ops/network --reference v1.4.0 --auto-approve
  tharsis run vcs ops/network --reference 3f2c1e0d4b5a69788766554433221100ffeeddcc --destroy`,
		Args: cmdutil.ExactArgs("workspace"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Workspace = args[0]
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runVCS(c.Context(), opts)
		},
		ValidArgsFunction: complete.Workspaces(f),
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&opts.Reference, "reference", "", "branch, tag or commit `SHA` to run (default: the link's branch)")
	fs.StringVar(&opts.Reference, "reference-name", "", "same as --reference")
	_ = fs.MarkHidden("reference-name")
	fs.BoolVar(&opts.Destroy, "destroy", false, "destroy the resources instead of applying the configuration")
	fs.BoolVar(&opts.AutoApprove, "auto-approve", false, "apply without asking for approval")
	fs.BoolVar(&opts.Input, "input", true, "ask for approval; --input=false stops after the plan, leaving the run for approval elsewhere")
	fs.BoolVar(&opts.DetailedExitcode, "detailed-exitcode", false, "exit 2 when the plan succeeded with changes (and nothing was applied)")
	fs.DurationVar(&opts.Timeout, "timeout", 0, "give up after this `duration` (exit 124; the run is left as it is)")
	fs.BoolVar(&opts.Events, "events", false, "write line-delimited JSON events to stdout as the run progresses")
	fs.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only the job logs and errors")
	fs.StringVar(&opts.DotenvFile, "dotenv", "", "also write the result as KEY=value lines to this `file`")
	return cmd
}

func runVCS(ctx context.Context, o *VCSOptions) error {
	if strings.TrimSpace(o.Workspace) == "" {
		return cmdutil.UsageErrorf("the workspace argument is empty")
	}
	if o.Timeout < 0 {
		return cmdutil.UsageErrorf("--timeout must not be negative")
	}
	client, err := o.F.APIClient()
	if err != nil {
		return err
	}
	s := newSession(ctx, &o.CreateOptions, client)
	defer s.close()
	s.result.Kind = "vcs"
	run, err := s.startVCSRun(client, o)
	if err != nil {
		if s.ctx.Err() != nil {
			err = s.contextError(err)
		}
		return s.finish(s.failBeforeRun(err))
	}
	return s.drive(run)
}

// VCSLink is a workspace's link to a repository.
type VCSLink struct {
	ID                  string   `json:"id"`
	RepositoryPath      string   `json:"repository_path"`
	Branch              string   `json:"branch"`
	ModuleDirectory     string   `json:"module_directory,omitempty"`
	TagRegex            string   `json:"tag_regex,omitempty"`
	GlobPatterns        []string `json:"glob_patterns"`
	AutoSpeculativePlan bool     `json:"auto_speculative_plan"`
	WebhookDisabled     bool     `json:"webhook_disabled"`
}

// String is the link in one line: "acme/infra, branch main, directory
// network".
func (l *VCSLink) String() string {
	s := l.RepositoryPath + ", branch " + l.Branch
	if l.ModuleDirectory != "" {
		s += ", directory " + l.ModuleDirectory
	}
	return s
}

// GetVCSLink reads the VCS provider link of a workspace (path, TRN or ID).
// It returns the workspace's full path, and a nil link when the workspace
// is not linked; a workspace that does not exist is a not-found error.
func GetVCSLink(ctx context.Context, client *api.Client, workspace string) (string, *VCSLink, error) {
	const op = "read workspace"
	resp, err := gql.GetWorkspaceVCSLink(ctx, client.GraphQL(), api.NormalizeID("workspace", workspace))
	if err != nil {
		return "", nil, api.WithOp(err, op)
	}
	if resp.Node == nil || *resp.Node == nil {
		return "", nil, &api.Error{Kind: api.KindNotFound, Op: op,
			Message: fmt.Sprintf("workspace %q was not found, or you are not allowed to see it", workspace),
			Hint:    "check the workspace's path or ID, and that you are a member of its group"}
	}
	w, ok := (*resp.Node).(*gql.GetWorkspaceVCSLinkNodeWorkspace)
	if !ok {
		return "", nil, &api.Error{Kind: api.KindBadRequest, Op: op, Message: fmt.Sprintf("%s is not a workspace", workspace),
			Hint: "pass a workspace path (group/workspace), a trn:workspace:... TRN or a GID"}
	}
	l := w.WorkspaceVcsProviderLink
	if l == nil {
		return w.FullPath, nil, nil
	}
	return w.FullPath, &VCSLink{
		ID: l.Id, RepositoryPath: l.RepositoryPath, Branch: l.Branch, ModuleDirectory: vcsStr(l.ModuleDirectory),
		TagRegex: vcsStr(l.TagRegex), GlobPatterns: slices.Clone(l.GlobPatterns),
		AutoSpeculativePlan: l.AutoSpeculativePlan, WebhookDisabled: l.WebhookDisabled,
	}, nil
}

func vcsStr(p *string) string {
	if p != nil {
		return *p
	}
	return ""
}

// vcsLookback is how many of the newest VCS events and runs each look
// reads.
const vcsLookback = 20

// startVCSRun asks Tharsis for a run from the linked repository and finds
// it. createVCSRun does not return the run: it records a "manual" VCS
// event and creates the run in the background, from a configuration
// version that points to the event. So the events are read before the
// call, the new event matching the reference is picked out after it, and
// the run whose configuration version carries that event is the one. An
// event that ends "errored" means no run will come.
func (s *session) startVCSRun(client *api.Client, o *VCSOptions) (*runflow.Run, error) {
	wsPath, link, err := GetVCSLink(s.prepCtx, client, o.Workspace)
	if err != nil {
		return nil, err
	}
	if link == nil {
		return nil, cmdutil.WithHint(fmt.Errorf("workspace %s is not linked to a repository: there is nothing to run from version control", wsPath),
			"Link it to a repository with a VCS provider in Tharsis (workspace settings), or upload a configuration with 'tharsis apply "+wsPath+" --directory-path DIR'.")
	}
	ref := strings.TrimSpace(o.Reference)
	shown := ref
	if shown == "" {
		shown = link.Branch
	}
	what := "a run"
	if o.Destroy {
		what = "a destroy run"
	}
	s.note("Starting %s of %s (%s) on workspace %s.\n", what, link.RepositoryPath, refText(shown, link), wsPath)

	wsID := "trn:workspace:" + wsPath
	before, err := gql.VCSRunProgress(s.prepCtx, client.GraphQL(), wsID, vcsLookback)
	if err != nil {
		return nil, api.WithOp(err, "read VCS events")
	}
	seen := map[string]bool{}
	for _, ev := range vcsEvents(before) {
		seen[ev.Id] = true
	}
	if err := s.prepCtx.Err(); err != nil {
		return nil, err
	}

	in := gql.CreateVCSRunInput{WorkspaceId: &wsID, IsDestroy: &o.Destroy}
	if ref != "" {
		in.ReferenceName = &ref
	}
	// Once sent, the mutation is allowed to finish: the run may be created
	// whatever happens here.
	resp, err := gql.CreateVCSRun(context.WithoutCancel(s.ctx), client.GraphQL(), in)
	if err == nil {
		err = api.ProblemsOf("create VCS run", resp.CreateVCSRun.Problems)
	}
	if err != nil {
		err = api.WithOp(err, "create VCS run")
		if strings.Contains(strings.ToLower(err.Error()), "not linked") {
			return nil, cmdutil.WithHint(err, "Link the workspace to a repository with a VCS provider in Tharsis first.")
		}
		return nil, err
	}

	run, err := s.findVCSRun(client, o, wsID, seen, shown)
	if err != nil {
		if s.interrupted() && errors.Is(err, context.Canceled) {
			return nil, &cmdutil.ExitError{Code: cmdutil.ExitInterrupted, Err: fmt.Errorf(
				"interrupted while waiting for the run: Tharsis may still start it from %s; see 'tharsis run list %s'", link.RepositoryPath, wsPath)}
		}
		return nil, err
	}
	s.eng.Sink(runflow.Event{Type: runflow.EventRunCreated, Time: time.Now(), RunID: run.Id, WorkspacePath: wsPath, Status: string(run.Status)})
	return run, nil
}

func refText(ref string, l *VCSLink) string {
	kind := "reference"
	switch {
	case ref == l.Branch:
		kind = "branch"
	case isCommit(ref):
		kind = "commit"
	}
	s := kind + " " + ref
	if l.ModuleDirectory != "" {
		s += ", directory " + l.ModuleDirectory
	}
	return s
}

// isCommit reports whether ref is a full commit SHA, which Tharsis records
// as the event's commit rather than its branch or tag.
func isCommit(ref string) bool {
	if len(ref) != 40 {
		return false
	}
	_, err := hex.DecodeString(ref)
	return err == nil
}

func vcsEvents(p *gql.VCSRunProgressResponse) []*gql.VCSEventFields {
	var out []*gql.VCSEventFields
	if p == nil || p.Node == nil || *p.Node == nil {
		return out
	}
	w, ok := (*p.Node).(*gql.VCSRunProgressNodeWorkspace)
	if !ok {
		return out
	}
	for _, e := range w.VcsEvents.Edges {
		if e != nil && e.Node != nil {
			out = append(out, &e.Node.VCSEventFields)
		}
	}
	return out
}

// matchEvent picks the event createVCSRun recorded: the oldest event that
// was not there before the call, is manual, and names the reference.
func matchEvent(events []*gql.VCSEventFields, seen map[string]bool, ref string) *gql.VCSEventFields {
	var match *gql.VCSEventFields
	for _, ev := range events { // newest first
		if seen[ev.Id] || ev.Type != "manual" {
			continue
		}
		if vcsStr(ev.SourceReferenceName) == ref || vcsStr(ev.CommitId) == ref {
			match = ev
		}
	}
	return match
}

// findVCSRun waits for the event of the VCS run and then for its run. The
// event shows up at once (createVCSRun records it before answering); the
// run follows once Tharsis has fetched the repository.
func (s *session) findVCSRun(client *api.Client, o *VCSOptions, wsID string, seen map[string]bool, ref string) (*runflow.Run, error) {
	delay := vcsDuration(o.pollMin, 250*time.Millisecond)
	maxDelay := vcsDuration(o.pollMax, 2*time.Second)
	const patience = 10 // looks after the event ended, or before it shows up
	eventID, misses, told := "", 0, false
	for {
		p, err := gql.VCSRunProgress(s.prepCtx, client.GraphQL(), wsID, vcsLookback)
		if err != nil {
			return nil, api.WithOp(err, "read VCS events")
		}
		events := vcsEvents(p)
		var ev *gql.VCSEventFields
		if eventID == "" {
			if ev = matchEvent(events, seen, ref); ev != nil {
				eventID = ev.Id
			}
		} else if i := slices.IndexFunc(events, func(e *gql.VCSEventFields) bool { return e.Id == eventID }); i >= 0 {
			ev = events[i]
		}
		if ev != nil && ev.Status == "errored" {
			return nil, fmt.Errorf("could not start the run from %s: %s", ev.RepositoryUrl, vcsText(vcsStr(ev.ErrorMessage), "no reason given"))
		}
		if eventID != "" {
			for _, e := range p.Runs.Edges {
				if e == nil || e.Node == nil || e.Node.ConfigurationVersion == nil || e.Node.ConfigurationVersion.VcsEvent == nil {
					continue
				}
				if e.Node.ConfigurationVersion.VcsEvent.Id == eventID {
					return s.eng.GetRun(s.prepCtx, e.Node.Id)
				}
			}
		}
		switch {
		case ev == nil || ev.Status != "pending":
			// No event yet, or it finished and the run is not listed yet.
			if misses++; misses > patience {
				if ev == nil {
					return nil, errors.New("create VCS run: Tharsis accepted the request but its VCS event was not found; see 'tharsis run list' for the workspace")
				}
				return nil, fmt.Errorf("create VCS run: the VCS event %s finished but its run was not found; see 'tharsis run list' for the workspace", ev.Id)
			}
		case !told:
			s.note("Waiting for Tharsis to fetch the repository...\n")
			told = true
		}
		t := time.NewTimer(delay)
		select {
		case <-s.prepCtx.Done():
			t.Stop()
			return nil, s.prepCtx.Err()
		case <-t.C:
		}
		delay = min(delay*2, maxDelay)
	}
}

func vcsText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func vcsDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
