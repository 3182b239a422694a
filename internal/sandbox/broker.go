package sandbox

import (
	"context"
	"sync"
)

// event is a change notification: a run or a job was inserted or updated.
// It carries a snapshot taken when the change was made, so subscribers see
// every status the record passed through.
type event struct {
	action string // INSERT or UPDATE
	run    *Run
	job    *Job
}

// broker fans change events out to subscriptions. publish never blocks:
// each subscriber has an unbounded queue drained by its own goroutine.
type broker struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	filter func(event) bool
	mu     sync.Mutex
	queue  []event
	wake   chan struct{}
}

func newBroker() *broker { return &broker{subs: map[*subscriber]struct{}{}} }

func (b *broker) publish(ev event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if !s.filter(ev) {
			continue
		}
		s.mu.Lock()
		s.queue = append(s.queue, ev)
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// subscribe returns a channel of the events passing filter, closed when ctx ends.
func (b *broker) subscribe(ctx context.Context, filter func(event) bool) <-chan event {
	return b.subscribeWith(ctx, filter, func(f func()) bool { go f(); return true })
}

// subscribeWith is subscribe with the goroutine started by run (which
// reports false when it declined: the channel is then closed at once).
func (b *broker) subscribeWith(ctx context.Context, filter func(event) bool, run func(func()) bool) <-chan event {
	s := &subscriber{filter: filter, wake: make(chan struct{}, 1)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	out := make(chan event)
	started := run(func() {
		defer close(out)
		defer func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
		}()
		for {
			s.mu.Lock()
			q := s.queue
			s.queue = nil
			s.mu.Unlock()
			for _, ev := range q {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-s.wake:
			case <-ctx.Done():
				return
			}
		}
	})
	if !started {
		b.mu.Lock()
		delete(b.subs, s)
		b.mu.Unlock()
		close(out)
	}
	return out
}
