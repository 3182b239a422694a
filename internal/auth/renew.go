package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Token is a Tharsis token obtained by an exchange.
type Token struct {
	Value string
	// ExpiresIn is the lifetime the server reported (expires_in); 0 when it
	// said nothing, and the JWT's exp claim is used instead.
	ExpiresIn time.Duration
}

// Renewal timing.
const (
	// maxGuard is how long before expiry a token is renewed at most: the
	// brief's "at least 60 s before it expires" for 15-minute tokens.
	maxGuard = 60 * time.Second
	// defaultLifetime is assumed when neither expires_in nor exp tells.
	defaultLifetime = 5 * time.Minute
)

// guardFor is the renewal margin for a token of the given lifetime: 60 s,
// or a quarter of the lifetime for short-lived tokens (a 3-second sandbox
// token is renewed after about 2 s instead of on every request).
func guardFor(lifetime time.Duration) time.Duration {
	return min(maxGuard, lifetime/4)
}

// renewingSource caches a token obtained by fetch and fetches a new one
// when the cached one is about to expire. It is safe for concurrent use:
// concurrent callers share one fetch, and a caller whose context ends stops
// waiting without disturbing the others.
type renewingSource struct {
	what  string // for logs: "service account token exchange", ...
	fetch func(ctx context.Context) (Token, error)
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	value   string
	renewAt time.Time
	expires time.Time

	sf singleflight.Group
}

func newRenewingSource(what string, fetch func(context.Context) (Token, error), now func() time.Time, log *slog.Logger) *renewingSource {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &renewingSource{what: what, fetch: fetch, now: now, log: log}
}

// Token returns the cached token, renewing it first when it is within its
// guard band of expiry.
func (s *renewingSource) Token(ctx context.Context) (string, error) {
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if v, ok := s.cached(); ok {
			return v, nil
		}
		ch := s.sf.DoChan("token", func() (any, error) { return s.renew(ctx) })
		select {
		case r := <-ch:
			if r.Err == nil {
				return r.Val.(string), nil
			}
			// The caller that led the shared renewal gave up; try again
			// with ours when it is still alive.
			if isContextError(r.Err) && ctx.Err() == nil {
				continue
			}
			return "", r.Err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

func (s *renewingSource) cached() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.value == "" || !s.now().Before(s.renewAt) {
		return "", false
	}
	return s.value, true
}

func (s *renewingSource) renew(ctx context.Context) (string, error) {
	start := s.now()
	tok, err := s.fetch(ctx)
	if err != nil {
		s.log.Debug("auth: token renewal failed", "via", s.what, "error", err)
		return "", err
	}
	// expires_in counts from when the server answered; measuring from the
	// request's start keeps the estimate on the safe side and is immune to
	// clock skew between this machine and the server.
	var expires time.Time
	switch {
	case tok.ExpiresIn > 0:
		expires = start.Add(tok.ExpiresIn)
	default:
		if exp := tokenExpiry(tok.Value); !exp.IsZero() {
			expires = exp
		} else {
			expires = start.Add(defaultLifetime)
		}
	}
	lifetime := expires.Sub(start)
	renewAt := expires.Add(-guardFor(max(lifetime, 0)))
	s.mu.Lock()
	s.value, s.renewAt, s.expires = tok.Value, renewAt, expires
	s.mu.Unlock()
	s.log.Debug("auth: obtained token", "via", s.what, "lifetime", lifetime.Round(time.Millisecond), "renew_in", renewAt.Sub(start).Round(time.Millisecond))
	return tok.Value, nil
}

// ExpiresAt is when the cached token expires; false before the first
// exchange.
func (s *renewingSource) ExpiresAt() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expires, !s.expires.IsZero()
}

// Invalidate drops the cached token if it is still token, so that the next
// call renews it. The API client calls it when the server rejected token
// with 401 (a clock skew or a revoked signing key can do that before the
// expected expiry).
func (s *renewingSource) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.value == token {
		s.value, s.renewAt = "", time.Time{}
		s.log.Debug("auth: cached token dropped after the server rejected it", "via", s.what)
	}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Invalidator is implemented by token sources that can drop a token the
// server rejected, so the next request carries a renewed one.
type Invalidator interface {
	Invalidate(token string)
}

// Expirer is implemented by token sources that know when their token
// expires.
type Expirer interface {
	// ExpiresAt returns the expiry of the current token; false when it is
	// not known (yet).
	ExpiresAt() (time.Time, bool)
}

// ExpiresAt returns the expiry of the token ts currently hands out, when ts
// knows it.
func ExpiresAt(ts any) (time.Time, bool) {
	if e, ok := ts.(Expirer); ok {
		return e.ExpiresAt()
	}
	return time.Time{}, false
}
