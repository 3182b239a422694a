package cmdutil

import (
	"errors"
	"fmt"

	"github.com/tharsis-cli/tharsis/internal/api"
)

// Exit codes (docs/development.md, "Exit codes").
const (
	ExitOK          = 0   // success (also: a plan with no changes)
	ExitFailure     = 1   // the run errored, or any other failure
	ExitChanges     = 2   // --detailed-exitcode: the plan succeeded and has changes
	ExitCanceled    = 3   // the run was canceled or discarded, or approval was declined
	ExitAuth        = 4   // not authenticated or not authorized
	ExitNotFound    = 5   // not found
	ExitTransient   = 6   // transient failure after retries: safe to retry
	ExitUsage       = 64  // usage error (bad flags or arguments)
	ExitTimeout     = 124 // --timeout expired
	ExitInterrupted = 130 // interrupted and detached
)

// ExitError ends the command with an explicit exit code. Err is printed like
// any error; with a nil Err nothing is printed (the command already said
// what happened).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// UsageError is a mistake in the command line: bad flags, wrong number of
// arguments, invalid values. It exits 64 and points at the command's help.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// UsageErrorf returns a *UsageError with a formatted message.
func UsageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// HintError adds a hint (printed on its own "Hint:" line) to an error.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string     { return e.Err.Error() }
func (e *HintError) Unwrap() error     { return e.Err }
func (e *HintError) ErrorHint() string { return e.Hint }

// WithHint wraps err with a hint; nil stays nil.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &HintError{Err: err, Hint: hint}
}

// ExitCode maps an error to the process exit code: explicit ExitError codes
// first, then usage errors, then the API error kind.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if e, ok := errors.AsType[*ExitError](err); ok {
		return e.Code
	}
	if _, ok := errors.AsType[*UsageError](err); ok {
		return ExitUsage
	}
	switch api.KindOf(err) {
	case api.KindUnauthenticated, api.KindForbidden:
		return ExitAuth
	case api.KindNotFound:
		return ExitNotFound
	case api.KindTransient, api.KindRateLimited, api.KindServiceUnavailable:
		return ExitTransient
	}
	return ExitFailure
}
