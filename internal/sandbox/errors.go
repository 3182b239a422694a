package sandbox

import (
	"errors"
	"fmt"
)

// code is an error class of the real API. The GraphQL handler turns it into
// extensions.code, mutations into a problem type, REST handlers into a status.
type code string

const (
	codeInternal     code = "INTERNAL_SERVER_ERROR"
	codeInvalid      code = "BAD_REQUEST"
	codeConflict     code = "CONFLICT"
	codeNotFound     code = "NOT_FOUND"
	codeForbidden    code = "FORBIDDEN"
	codeUnauthorized code = "UNAUTHENTICATED"
	codeOptimistic   code = "OPTIMISTIC_LOCK"
	codeUnavailable  code = "SERVICE_UNAVAILABLE"
	codeTooLarge     code = "TOO_LARGE" // REST only (413); GraphQL reports it as internal
)

// apiError is an error with an API error class.
type apiError struct {
	code code
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func newErr(c code, format string, args ...any) error {
	return &apiError{code: c, msg: fmt.Sprintf(format, args...)}
}

func errInvalid(format string, args ...any) error  { return newErr(codeInvalid, format, args...) }
func errConflict(format string, args ...any) error { return newErr(codeConflict, format, args...) }
func errNotFound(format string, args ...any) error { return newErr(codeNotFound, format, args...) }
func errForbidden(format string, args ...any) error {
	return newErr(codeForbidden, format, args...)
}

// errorCode returns the API class of err (internal when it has none).
func errorCode(err error) code {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.code
	}
	return codeInternal
}

// problemTypes are the classes a mutation reports as problems rather than
// top-level errors, as the real API does.
var problemTypes = map[code]string{
	codeInvalid:     "BAD_REQUEST",
	codeConflict:    "CONFLICT",
	codeNotFound:    "NOT_FOUND",
	codeForbidden:   "FORBIDDEN",
	codeUnavailable: "SERVICE_UNAVAILABLE",
}

// restStatus maps an error class to the REST status of the real API.
func restStatus(err error) int {
	switch errorCode(err) {
	case codeInvalid:
		return 400
	case codeConflict:
		return 409
	case codeNotFound:
		return 404
	case codeForbidden:
		return 403
	case codeUnauthorized:
		return 401
	case codeTooLarge:
		return 413
	case codeUnavailable:
		return 503
	default:
		return 500
	}
}
