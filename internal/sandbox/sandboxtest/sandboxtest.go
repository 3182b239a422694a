// Package sandboxtest starts an in-process sandbox for tests.
//
//	srv := sandboxtest.Start(t)                       // fast jobs, real-installation defaults otherwise
//	srv := sandboxtest.Start(t, sandboxtest.WithKnobs(func(k *sandbox.Knobs) { k.FailPlan = true }))
//
// The server listens on 127.0.0.1 on a free port and is closed by t.Cleanup.
package sandboxtest

import (
	"testing"
	"time"

	"github.com/tharsis-cli/tharsis/internal/sandbox"
)

// Option changes the sandbox options before it starts.
type Option func(*sandbox.Options)

// WithKnobs changes the knobs the sandbox starts with.
func WithKnobs(f func(*sandbox.Knobs)) Option {
	return func(o *sandbox.Options) { f(&o.Knobs) }
}

// WithOptions changes any option.
func WithOptions(f func(*sandbox.Options)) Option {
	return func(o *sandbox.Options) { f(o) }
}

// Start runs a sandbox for the test. Jobs run as fast as possible and a
// force cancel is allowed one second after a graceful one; options change
// that.
func Start(t testing.TB, opts ...Option) *sandbox.Server {
	t.Helper()
	o := sandbox.Options{Knobs: sandbox.DefaultKnobs()}
	o.Knobs.ForceCancelDelay = time.Second
	for _, f := range opts {
		f(&o)
	}
	srv, err := sandbox.New(o)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("sandbox close: %v", err)
		}
	})
	return srv
}
