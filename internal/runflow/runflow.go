// Package runflow is the run engine: it packages and uploads a configuration,
// creates a run, follows it (status, queue reasons, job logs) and acts on it
// (apply, cancel, discard). It never prints: everything it observes is
// reported as an Event to the Sink, which a renderer turns into text or JSON.
package runflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/Khan/genqlient/graphql"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// API is what the engine needs from the API client; *api.Client satisfies it.
type API interface {
	GraphQL() graphql.Client
	NewSubscriptionClient() graphql.WebSocketClient
	UploadConfigurationVersion(ctx context.Context, workspaceID, cvID string, body io.ReadSeeker, size int64) error
}

// Run is the engine's view of a run: the fields every command needs.
type Run = gql.RunFields

// Engine drives runs against the API. The zero values of the tuning fields
// select sensible defaults.
type Engine struct {
	API  API
	Sink func(Event)
	Now  func() time.Time

	// PollMin and PollMax bound the run-polling backoff used when no
	// subscription is available.
	PollMin, PollMax time.Duration
	// PollSubscribed is the safety poll interval while a run subscription
	// is connected (events do the real work).
	PollSubscribed time.Duration
	// QueueHintAfter is how long a run may wait in a queued state before the
	// engine looks for the reason and reports it.
	QueueHintAfter time.Duration
	// BeforeCreate, when set, is called right before the createRun mutation
	// is sent; an error stops Create there (nothing is created).
	BeforeCreate func() error
	// DisableSubscriptions forces polling (for tests and broken proxies).
	DisableSubscriptions bool

	mu       sync.Mutex
	streamed map[string]bool // job IDs whose logs were (or are being) streamed
	done     map[string]bool // job IDs whose log streams have ended
	told     map[string]bool // "<run>/summary" and the like: said once per engine
}

// SkipJobLogs marks jobs whose logs Follow must not stream (already shown).
func (e *Engine) SkipJobLogs(jobIDs ...string) {
	for _, id := range jobIDs {
		e.once(&e.streamed, id)
	}
}

// once reports whether key is new to this engine, remembering it.
func (e *Engine) once(set *map[string]bool, key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if *set == nil {
		*set = map[string]bool{}
	}
	if (*set)[key] {
		return false
	}
	(*set)[key] = true
	return true
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) emit(ev Event) {
	if e.Sink == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	e.Sink(ev)
}

func (e *Engine) pollMin() time.Duration { return orDefault(e.PollMin, 500*time.Millisecond) }
func (e *Engine) pollMax() time.Duration { return orDefault(e.PollMax, 3*time.Second) }
func (e *Engine) pollSubscribed() time.Duration {
	return orDefault(e.PollSubscribed, 15*time.Second)
}
func (e *Engine) queueHintAfter() time.Duration {
	return orDefault(e.QueueHintAfter, 10*time.Second)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// GetRun reads a run by GID or TRN.
func (e *Engine) GetRun(ctx context.Context, id string) (*Run, error) {
	resp, err := gql.GetRun(ctx, e.API.GraphQL(), id)
	if err != nil {
		return nil, wrapErr("read run", err)
	}
	if resp.Node == nil {
		return nil, notFound("run", id)
	}
	r, ok := (*resp.Node).(*gql.GetRunNodeRun)
	if !ok {
		return nil, &api.Error{Kind: api.KindBadRequest, Op: "read run",
			Message: fmt.Sprintf("%s is not a run", id),
			Hint:    "pass a run ID (a GID or a trn:run:... TRN)"}
	}
	return &r.RunFields, nil
}

// GetWorkspace reads a workspace by path, TRN or GID.
func (e *Engine) GetWorkspace(ctx context.Context, ref string) (*gql.WorkspaceFields, error) {
	id := api.NormalizeID("workspace", ref)
	resp, err := gql.GetWorkspace(ctx, e.API.GraphQL(), id)
	if err != nil {
		return nil, wrapErr("read workspace", err)
	}
	if resp.Node == nil {
		return nil, notFound("workspace", ref)
	}
	w, ok := (*resp.Node).(*gql.GetWorkspaceNodeWorkspace)
	if !ok {
		return nil, &api.Error{Kind: api.KindBadRequest, Op: "read workspace",
			Message: fmt.Sprintf("%s is not a workspace", ref),
			Hint:    "pass a workspace path (group/workspace), a trn:workspace:... TRN or a GID"}
	}
	return &w.WorkspaceFields, nil
}

func notFound(kind, ref string) error {
	return &api.Error{Kind: api.KindNotFound, Op: "read " + kind,
		Message: fmt.Sprintf("%s %q was not found, or you are not allowed to see it", kind, ref),
		Hint:    fmt.Sprintf("check the %s's path or ID, and that you are a member of its group", kind)}
}

// wrapErr names the operation on errors from the API client.
func wrapErr(op string, err error) error {
	var ae *api.Error
	if errors.As(err, &ae) {
		if ae.Op == "" {
			cp := *ae
			cp.Op = op
			return &cp
		}
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
