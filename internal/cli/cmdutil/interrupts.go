package cmdutil

import (
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// ErrInterrupted is the cancellation cause of the command context after an
// interrupt that no command claimed.
var ErrInterrupted = errors.New("interrupted")

// Interrupts routes SIGINT and SIGTERM to the running command.
//
// By default (nobody claimed them) the first interrupt cancels the command's
// context with cause ErrInterrupted and the CLI exits 130 once the command
// returns; a second interrupt exits 130 at once, even if the command is stuck.
//
// A command that wants to react itself (a run: the first interrupt asks the
// server to cancel the run, the second forces the cancel, the third detaches)
// calls Claim. While claimed, the context is not cancelled and every signal
// is sent to the claimant's channel instead:
//
//	sigs, release := f.Interrupts.Claim()
//	defer release()
//	for n := 1; ; n++ {
//		select {
//		case <-sigs: // n-th interrupt
//		case <-ctx.Done(): ...
//		}
//	}
type Interrupts struct {
	mu        sync.Mutex
	count     int
	claimed   chan os.Signal
	onDefault func(n int)
}

// NewInterrupts returns a router with no signal source; Notify connects it to
// the process's signals and tests call Deliver.
func NewInterrupts() *Interrupts { return &Interrupts{} }

// Notify starts forwarding SIGINT and SIGTERM of the process. stop undoes it.
func (i *Interrupts) Notify() (stop func()) {
	ch := make(chan os.Signal, 4)
	done := make(chan struct{})
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		for {
			select {
			case s := <-ch:
				i.Deliver(s)
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
		})
	}
}

// Deliver handles one signal: to the claimant if any, else the default
// action.
func (i *Interrupts) Deliver(sig os.Signal) {
	i.mu.Lock()
	i.count++
	n := i.count
	if i.claimed != nil {
		select {
		case i.claimed <- sig:
		default: // the claimant is behind; it already has signals to handle
		}
		i.mu.Unlock()
		return
	}
	fn := i.onDefault
	i.mu.Unlock()
	if fn != nil {
		fn(n)
	}
}

// Claim takes over interrupt handling until release is called. Claims do not
// nest: a second Claim replaces the first.
func (i *Interrupts) Claim() (signals <-chan os.Signal, release func()) {
	ch := make(chan os.Signal, 8)
	i.mu.Lock()
	i.claimed = ch
	i.count = 0
	i.mu.Unlock()
	return ch, func() {
		i.mu.Lock()
		if i.claimed == ch {
			i.claimed = nil
		}
		i.mu.Unlock()
	}
}

// SetDefault sets the action for unclaimed interrupts; n counts the
// interrupts received so far. cli.Main installs it.
func (i *Interrupts) SetDefault(fn func(n int)) {
	i.mu.Lock()
	i.onDefault = fn
	i.mu.Unlock()
}
