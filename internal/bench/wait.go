package bench

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// WaitReference is the window the waiting targets are set for.
const WaitReference = time.Minute

// waitCase is one waiting scenario.
type waitCase struct {
	name   string
	queue  string // "locked": the workspace is locked (run in queuing); "runner": no runner has the workspace's tag (plan_queued)
	target int    // at most this many requests per WaitReference
	proc   func(b *box, ws string) Proc
}

// wait: how many API requests the CLI makes while its run sits queued,
// for the two ways a run waits (the workspace is locked; no runner agent
// can take the job), with subscriptions and with polling. Each scenario has
// its own sandbox, so they run at once and every request counted is the
// one child's.
func (d *Driver) wait(ctx context.Context) error {
	dir, _, err := d.tree(TreeSmall)
	if err != nil {
		return err
	}
	sub := func(verb string) func(b *box, ws string) Proc {
		return func(b *box, ws string) Proc {
			args := []string{verb, ws, "--directory-path", dir}
			if verb == "apply" {
				args = append(args, "--auto-approve")
			}
			return d.cliProcIn(b, args...)
		}
	}
	poll := func(apply bool) func(b *box, ws string) Proc {
		return func(b *box, ws string) Proc {
			args := []string{"run", "-poll", "-workspace", ws, "-dir", dir}
			if apply {
				args = append(args, "-apply")
			}
			return d.selfProcIn(b, args...)
		}
	}
	cases := []waitCase{
		{"workspace locked, subscription (tharsis apply)", "locked", 10, sub("apply")},
		{"workspace locked, polling (engine)", "locked", 40, poll(true)},
		{"no runner, subscription (tharsis plan)", "runner", 10, sub("plan")},
		{"no runner, polling (engine)", "runner", 40, poll(false)},
	}
	type result struct {
		n    int
		byOp string
		err  error
	}
	results := make([]result, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, byOp, err := d.waitCase(ctx, i, c)
			results[i] = result{n, byOp, err}
		}()
	}
	wg.Wait()
	for i, c := range cases {
		r := results[i]
		if r.err != nil {
			return fmt.Errorf("%s: %w", c.name, r.err)
		}
		d.printf("  %s: %s\n", c.name, r.byOp)
		row := Row{
			Benchmark: fmt.Sprintf("wait: queued %s, %s: API requests", ms(d.cfg.Wait), c.name),
			Measured:  fmt.Sprint(r.n),
			Target:    fmt.Sprintf("<= %d", c.target),
			Status:    check(r.n <= c.target),
		}
		if d.cfg.Wait != WaitReference {
			// Start-up requests do not scale with the window: only the
			// reference window is judged.
			row.Target = fmt.Sprintf("<= %d per %s", c.target, ms(WaitReference))
			row.Status = Info
		}
		d.add(row)
	}
	return nil
}

// waitCase prepares a sandbox where c's run cannot start and counts the
// requests of its child.
func (d *Driver) waitCase(ctx context.Context, i int, c waitCase) (int, string, error) {
	b, err := newBox(filepath.Join(d.cfg.Work, fmt.Sprintf("home-wait-%d", i)))
	if err != nil {
		return 0, "", err
	}
	defer b.close()
	ws, gid, err := b.workspace("wait")
	if err != nil {
		return 0, "", err
	}
	wantStatus := "queuing"
	switch c.queue {
	case "locked":
		resp, err := gql.LockWorkspace(ctx, b.client.GraphQL(), gql.LockWorkspaceInput{WorkspaceId: &gid})
		if err != nil {
			return 0, "", err
		}
		if err := api.ProblemsOf("lock workspace", resp.LockWorkspace.Problems); err != nil {
			return 0, "", err
		}
	case "runner":
		wantStatus = "plan_queued"
		resp, err := gql.UpdateWorkspace(ctx, b.client.GraphQL(), gql.UpdateWorkspaceInput{
			Id: &gid, RunnerTags: &gql.NamespaceRunnerTagsInput{Inherit: false, Tags: []string{"bench-no-such-runner"}},
		})
		if err != nil {
			return 0, "", err
		}
		if err := api.ProblemsOf("update workspace", resp.UpdateWorkspace.Problems); err != nil {
			return 0, "", err
		}
	}
	return d.countWhileQueued(ctx, b, c.proc(b, ws), ws, wantStatus)
}

// setupOps are the requests the CLI makes before its run exists:
// packaging ends in an upload to a new configuration version, then the run
// is created. runflow.Create also reads the workspace once first.
var setupOps = []string{"CreateConfigurationVersion", "upload", "GetConfigurationVersion", "CreateRun"}

// countWhileQueued starts p, waits for its run to reach status, lets it
// wait there for Wait, then kills p. It returns the requests made from the
// run's creation on: every request since p started (the sandbox is p's
// alone) less those that created the run. Counting from a snapshot taken
// when the run is first seen would race with the requests the CLI sends
// right after createRun.
func (d *Driver) countWhileQueued(ctx context.Context, b *box, p Proc, ws, status string) (int, string, error) {
	before, err := b.requestCounts(ctx)
	if err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.Path, p.Args...)
	cmd.Env = p.Env
	errb := &tailBuffer{max: 4 << 10, b: new(bytes.Buffer)}
	cmd.Stderr = errb
	if err := cmd.Start(); err != nil {
		return 0, "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cancel() // kills the child if it is still running
		<-exited
	}()

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	for {
		if r, ok := b.lastRun(ws); ok {
			if r.Status == status {
				break
			}
			if r.Status != "pending" && r.Status != "queuing" {
				return 0, "", fmt.Errorf("run %s is %s, not %s", r.ID, r.Status, status)
			}
		}
		select {
		case <-tick.C:
		case err := <-exited:
			exited <- err
			return 0, "", fmt.Errorf("%s exited before its run was queued: %v: %s", p.Path, err, errb)
		case <-deadline.C:
			return 0, "", fmt.Errorf("%s had no queued run within a minute: %s", p.Path, errb)
		case <-ctx.Done():
			return 0, "", ctx.Err()
		}
	}
	window := time.NewTimer(d.cfg.Wait)
	defer window.Stop()
	select {
	case <-window.C:
	case err := <-exited:
		exited <- err
		return 0, "", fmt.Errorf("%s exited while its run was queued: %v: %s", p.Path, err, errb)
	case <-ctx.Done():
		return 0, "", ctx.Err()
	}
	after, err := b.requestCounts(ctx)
	if err != nil {
		return 0, "", err
	}
	if r, ok := b.lastRun(ws); !ok || r.Status != status {
		return 0, "", fmt.Errorf("the run left %s during the window", status)
	}
	diff := map[string]int{}
	for k, v := range after {
		if n := v - before[k]; n > 0 {
			diff[k] = n
		}
	}
	setup := 0
	for _, k := range setupOps {
		setup += diff[k]
		delete(diff, k)
	}
	if diff["GetWorkspace"] > 0 {
		setup++
		diff["GetWorkspace"]--
	}
	total := 0
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(diff)) {
		if n := diff[k]; n > 0 {
			total += n
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	return total, fmt.Sprintf("%s (and %d requests before the run existed)", strings.Join(parts, ", "), setup), nil
}
