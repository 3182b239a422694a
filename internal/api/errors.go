package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// Kind classifies an API failure so that callers (and the CLI's exit codes)
// can react without parsing messages.
type Kind string

// The kinds of failure. KindTransient is reserved for failures that were
// retried until the retry budget ran out and are safe to try again.
const (
	KindUnauthenticated    Kind = "unauthenticated"
	KindForbidden          Kind = "forbidden"
	KindNotFound           Kind = "not_found"
	KindConflict           Kind = "conflict"
	KindBadRequest         Kind = "bad_request"
	KindRateLimited        Kind = "rate_limited"
	KindTransient          Kind = "transient"
	KindServiceUnavailable Kind = "service_unavailable"
	KindInternal           Kind = "internal"
	KindUnknown            Kind = "unknown"
)

// Error is the error every API call returns. Message is what went wrong and
// Hint, printed separately by the CLI, what the user can do about it.
type Error struct {
	Kind       Kind
	Op         string // what we were doing, e.g. "create run"
	Message    string // the server's message (or ours)
	Hint       string // what the user can do next
	StatusCode int    // HTTP status when known
	Code       string // extensions.code or problem type when known
	Err        error
}

// Error returns "<op>: <message>"; the hint is not included.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if msg == "" {
		msg = strings.ReplaceAll(string(e.Kind), "_", " ")
	}
	if e.Op == "" {
		return msg
	}
	return e.Op + ": " + msg
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain, or KindUnknown.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) && e.Kind != "" {
		return e.Kind
	}
	return KindUnknown
}

// WithOp returns err with its operation set to op: a copy of the *Error in
// its chain, or a new KindUnknown *Error wrapping any other error. It returns
// nil for a nil err.
func WithOp(err error, op string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Op = op
		return &c
	}
	return &Error{Kind: KindUnknown, Op: op, Message: err.Error(), Err: err}
}

// NotFoundError is the error for a lookup that returned null, which is how
// the server answers for a resource that does not exist or that the caller
// may not view (e.g. node(id:) returning null).
func NotFoundError(op, resourceType, id string) error {
	what := strings.ReplaceAll(resourceType, "_", " ")
	return &Error{
		Kind:    KindNotFound,
		Op:      op,
		Message: fmt.Sprintf("%s %s not found", what, id),
		Hint:    hintFor(KindNotFound, ""),
		Code:    "NOT_FOUND",
	}
}

const (
	hintLogin = "Run `tharsis sso login`, or check THARSIS_STATIC_TOKEN / the service account settings of the profile."
	hintCA    = "If the server uses a private certificate authority, point the profile's caCertFile (or THARSIS_CA_CERT_FILE) at a PEM bundle holding it; tlsSkipVerify turns verification off (unsafe, for testing only)."
)

// hintFor is the generic advice for a kind; code refines it.
func hintFor(k Kind, code string) string {
	switch k {
	case KindUnauthenticated:
		return hintLogin
	case KindForbidden:
		return "Ask an owner of the group or workspace for a role that allows this (for example deployer to create and apply runs)."
	case KindNotFound:
		return "Check the path or ID. Tharsis also reports resources you are not allowed to view as not found."
	case KindConflict:
		if code == "OPTIMISTIC_LOCK" {
			return "The resource changed since it was read; read it again and retry."
		}
	case KindRateLimited:
		return "The server is limiting the request rate; wait a moment and try again."
	case KindServiceUnavailable:
		return "The server is unavailable or in maintenance mode; try again later."
	case KindInternal:
		return "The server hit an internal error; try again, and tell the Tharsis administrators if it persists."
	case KindTransient:
		return "This failure is transient: it is safe to run the command again."
	case KindBadRequest:
		if code == "NOT_IMPLEMENTED" {
			return "The server may run an older Tharsis version than this CLI expects."
		}
	}
	return ""
}

// codeKinds maps extensions.code values (and problem types) to kinds.
var codeKinds = map[string]Kind{
	"UNAUTHENTICATED":       KindUnauthenticated,
	"UNAUTHORIZED":          KindUnauthenticated,
	"FORBIDDEN":             KindForbidden,
	"NOT_FOUND":             KindNotFound,
	"BAD_REQUEST":           KindBadRequest,
	"NOT_IMPLEMENTED":       KindBadRequest,
	"CONFLICT":              KindConflict,
	"OPTIMISTIC_LOCK":       KindConflict,
	"RATE_LIMIT_EXCEEDED":   KindRateLimited,
	"SERVICE_UNAVAILABLE":   KindServiceUnavailable,
	"INTERNAL_SERVER_ERROR": KindInternal,
}

// kindForStatus maps an HTTP status to a kind.
func kindForStatus(status int) Kind {
	switch {
	case status == http.StatusUnauthorized:
		return KindUnauthenticated
	case status == http.StatusForbidden:
		return KindForbidden
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusConflict:
		return KindConflict
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		return KindServiceUnavailable
	case status >= 500:
		return KindInternal
	case status >= 400:
		return KindBadRequest
	}
	return KindUnknown
}

// kindFromMessage guesses the kind of an error without a code, as sent over
// the websocket, where the server adds no extensions.
func kindFromMessage(msg string) Kind {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "not found") || strings.Contains(m, "does not exist"):
		return KindNotFound
	case strings.Contains(m, "not authorized") || strings.Contains(m, "forbidden"):
		return KindForbidden
	case strings.Contains(m, "unauthenticated") || strings.Contains(m, "unauthorized") || strings.Contains(m, "token is expired"):
		return KindUnauthenticated
	}
	return KindUnknown
}

func gqlCode(e *gqlerror.Error) string {
	if e == nil || e.Extensions == nil {
		return ""
	}
	c, _ := e.Extensions["code"].(string)
	return c
}

// GraphQLError turns top-level GraphQL errors into an *Error; it returns nil
// for an empty list. It serves both HTTP responses (which carry
// extensions.code) and subscription payloads (which do not: the kind is then
// guessed from the message).
func GraphQLError(op string, errs gqlerror.List) error {
	if e := graphQLError(op, 0, errs); e != nil {
		return e
	}
	return nil
}

func graphQLError(op string, status int, errs gqlerror.List) *Error {
	var list gqlerror.List
	for _, e := range errs {
		if e != nil {
			list = append(list, e)
		}
	}
	if len(list) == 0 {
		return nil
	}
	// The first error with a code we know decides the kind.
	primary := list[0]
	for _, e := range list {
		if _, ok := codeKinds[gqlCode(e)]; ok {
			primary = e
			break
		}
	}
	code := gqlCode(primary)
	kind, ok := codeKinds[code]
	switch {
	case ok:
	case status >= 400:
		kind = kindForStatus(status)
	case code == "":
		kind = kindFromMessage(primary.Message)
	default:
		kind = KindUnknown
	}
	msgs := []string{primary.Message}
	seen := map[string]bool{primary.Message: true}
	for _, e := range list {
		if len(msgs) == 5 {
			break
		}
		if !seen[e.Message] {
			seen[e.Message] = true
			msgs = append(msgs, e.Message)
		}
	}
	msg := strings.Join(msgs, "; ")
	if msg == "" {
		msg = "the server returned an error without a message"
	}
	return &Error{
		Kind:       kind,
		Op:         op,
		Message:    msg,
		Hint:       hintFor(kind, code),
		StatusCode: status,
		Code:       code,
		Err:        list,
	}
}

// ProblemsError turns the problems of a mutation payload into an *Error; it
// returns nil when there are none. The kind comes from the problem type.
func ProblemsError(op string, problems []gql.ProblemFields) error {
	if len(problems) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(problems))
	for _, p := range problems {
		m := p.Message
		if len(p.Field) > 0 {
			m = fmt.Sprintf("%s (field %s)", m, strings.Join(p.Field, "."))
		}
		msgs = append(msgs, m)
	}
	code := string(problems[0].Type)
	kind, ok := codeKinds[code]
	if !ok {
		kind = KindUnknown
	}
	return &Error{
		Kind:    kind,
		Op:      op,
		Message: strings.Join(msgs, "; "),
		Hint:    hintFor(kind, code),
		Code:    code,
	}
}

// Problem is what every generated problem type of a mutation payload offers.
type Problem[T any] interface {
	*T
	GetMessage() string
	GetField() []string
	GetType() gql.ProblemType
}

// ProblemsOf is ProblemsError for the generated per-mutation problem types,
// e.g. api.ProblemsOf("create run", resp.CreateRun.Problems).
func ProblemsOf[T any, P Problem[T]](op string, problems []T) error {
	if len(problems) == 0 {
		return nil
	}
	fields := make([]gql.ProblemFields, len(problems))
	for i := range problems {
		p := P(&problems[i])
		fields[i] = gql.ProblemFields{Message: p.GetMessage(), Field: p.GetField(), Type: p.GetType()}
	}
	return ProblemsError(op, fields)
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// CheckResponse returns nil for a 2xx response. Otherwise it reads (at most
// 1 MiB of) the body, closes it and returns an *Error describing the status
// and the server's message, for REST calls made with Client.HTTPClient.
func CheckResponse(op string, resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return responseError(op, resp.StatusCode, resp.Header.Get("Content-Type"), body)
}

// apiErrorBody covers the error bodies Tharsis sends: GraphQL responses,
// {"error": "..."} from the GraphQL handler, {"detail": "..."} from REST
// routes and JSON:API error lists from the TFE routes.
type apiErrorBody struct {
	Errors json.RawMessage `json:"errors"`
	Error  *string         `json:"error"`
	Detail *string         `json:"detail"`
}

type looseError struct {
	Message    string         `json:"message"`
	Title      string         `json:"title"`
	Detail     string         `json:"detail"`
	Extensions map[string]any `json:"extensions"`
}

// responseError maps a non-2xx (or undecodable) HTTP response to an *Error.
func responseError(op string, status int, contentType string, body []byte) *Error {
	kind := kindForStatus(status)
	e := &Error{Kind: kind, Op: op, StatusCode: status}
	var b apiErrorBody
	if err := json.Unmarshal(body, &b); err != nil || !looksLikeJSONObject(body) {
		if len(strings.TrimSpace(string(body))) == 0 {
			e.Message = "the server answered " + statusText(status) + " with an empty body"
			e.Hint = hintForStatus(kind, status)
			return e
		}
		return notAPIError(op, status, contentType)
	}
	switch {
	case len(b.Errors) > 0 && string(b.Errors) != "null":
		var list []looseError
		if json.Unmarshal(b.Errors, &list) == nil && len(list) > 0 {
			gl := make(gqlerror.List, 0, len(list))
			for _, le := range list {
				m := le.Message
				if m == "" {
					m = strings.TrimSpace(le.Title + ": " + le.Detail)
					m = strings.Trim(m, ": ")
				}
				gl = append(gl, &gqlerror.Error{Message: m, Extensions: le.Extensions})
			}
			ge := graphQLError(op, status, gl)
			if status >= 400 && ge.Code == "" {
				ge.Hint = hintForStatus(ge.Kind, status)
			}
			return ge
		}
		e.Message = "the server answered " + statusText(status)
	case b.Error != nil:
		e.Message = *b.Error
	case b.Detail != nil:
		e.Message = *b.Detail
	default:
		e.Message = "the server answered " + statusText(status)
	}
	if e.Message == "" {
		e.Message = "the server answered " + statusText(status)
	}
	e.Hint = hintForStatus(kind, status)
	return e
}

func hintForStatus(k Kind, status int) string {
	if status == http.StatusRequestEntityTooLarge {
		return "The request is larger than the server accepts."
	}
	return hintFor(k, "")
}

func looksLikeJSONObject(b []byte) bool {
	s := strings.TrimSpace(string(b))
	return strings.HasPrefix(s, "{")
}

func statusText(status int) string {
	if t := http.StatusText(status); t != "" {
		return fmt.Sprintf("HTTP %d %s", status, t)
	}
	return fmt.Sprintf("HTTP %d", status)
}

// notAPIError is for answers that are not JSON, e.g. a proxy's or the UI's
// HTML page.
func notAPIError(op string, status int, contentType string) *Error {
	ct := contentType
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		ct = mt
	}
	if ct == "" {
		ct = "none"
	}
	kind := kindForStatus(status)
	if status < 400 {
		kind = KindUnknown
	}
	return &Error{
		Kind:       kind,
		Op:         op,
		Message:    fmt.Sprintf("the endpoint did not answer like a Tharsis API (%s, content type %s)", statusText(status), ct),
		Hint:       "Check that the endpoint is the Tharsis API URL (not the web UI) and that no proxy or login page is intercepting requests (HTTPS_PROXY/NO_PROXY).",
		StatusCode: status,
	}
}

// tokenError marks a failure of the TokenSource, so it is never retried.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// notSentError marks a transport failure that happened before a connection
// to the server existed, so the request provably never reached it.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// isCertError reports TLS certificate verification failures.
func isCertError(err error) bool {
	var (
		cv  *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		ci  x509.CertificateInvalidError
		uae *x509.UnknownAuthorityError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &uae) || errors.As(err, &hn) || errors.As(err, &ci)
}

// isPermanentTransportError reports transport failures that a retry cannot fix.
func isPermanentTransportError(err error) bool {
	var te *tokenError
	if errors.As(err, &te) || isCertError(err) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return true
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{
		"server gave HTTP response to HTTPS client",
		"unsupported protocol scheme",
		"stopped after 10 redirects",
		"invalid header",
		"certificate is not trusted",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// transportError maps an error from sending a request (no HTTP response) to
// an *Error. host names the server for the messages; mutation tells whether
// the outcome on the server may be unknown.
func transportError(op, host string, err error, mutation bool) *Error {
	var te *tokenError
	if errors.As(err, &te) {
		var ae *Error
		if errors.As(te.err, &ae) {
			c := *ae
			if c.Op == "" {
				c.Op = op
			}
			return &c
		}
		return &Error{Kind: KindUnauthenticated, Op: op, Message: "could not get an access token: " + te.err.Error(), Hint: hintLogin, Err: te.err}
	}
	e := &Error{Kind: KindUnknown, Op: op, Err: err}
	var (
		dns *net.DNSError
		hn  x509.HostnameError
		ci  x509.CertificateInvalidError
		rh  tls.RecordHeaderError
	)
	_, notSent := errors.AsType[*notSentError](err)
	switch {
	case errors.Is(err, context.Canceled):
		e.Message = "canceled"
		e.Hint = ""
	case errors.As(err, &hn):
		e.Message = fmt.Sprintf("the TLS certificate of %s is not valid for that name: %v", host, hn)
		e.Hint = "Check the host name in the endpoint; it must match the server's certificate."
	case errors.As(err, &ci):
		e.Message = fmt.Sprintf("the TLS certificate of %s is not valid: %v", host, ci)
		e.Hint = hintCA
	case isCertError(err):
		e.Message = fmt.Sprintf("the TLS certificate of %s is not trusted: %s", host, innermost(err))
		e.Hint = hintCA
	case errors.As(err, &rh) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		e.Message = fmt.Sprintf("%s does not speak TLS on that port", host)
		e.Hint = "Use an http:// endpoint if the server does not use TLS, or check the port."
	case errors.As(err, &dns):
		e.Message = fmt.Sprintf("cannot resolve host %s: %s", dns.Name, dns.Err)
		e.Hint = "Check the endpoint in the profile and your network or DNS settings."
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Message = fmt.Sprintf("connection to %s refused", host)
		e.Hint = "Check that the endpoint is correct and that the Tharsis API is running and reachable."
	case isTimeout(err):
		e.Message = fmt.Sprintf("no response from %s in time", host)
		e.Hint = "Check your network connection and that the endpoint is reachable."
	default:
		e.Message = fmt.Sprintf("request to %s failed: %s", host, innermost(err))
		e.Hint = "Check your network connection and the endpoint."
	}
	if mutation && !notSent && !errors.Is(err, context.Canceled) {
		e.Message += "; the server may or may not have applied the change"
		e.Hint = "Check the current state (for example list the runs) before trying again."
	}
	return e
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// innermost strips the "Post \"url\": " prefixes of url.Error.
func innermost(err error) string {
	for {
		var ue *url.Error
		if !errors.As(err, &ue) {
			return err.Error()
		}
		err = ue.Err
	}
}
