package cmdutil

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
)

// LevelTrace is below slog.LevelDebug: request and response bodies.
const LevelTrace = slog.LevelDebug - 4

// slogLevel maps a --log-level value; ok is false for "off".
func slogLevel(level string) (slog.Level, bool) {
	switch level {
	case "trace":
		return LevelTrace, true
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return 0, false
}

// NewLogger returns a text logger on w at the given --log-level, or a logger
// that discards everything for "off". Values that look like secrets are
// redacted (see RedactAttr).
func NewLogger(w io.Writer, level string) *slog.Logger {
	lv, ok := slogLevel(level)
	if !ok {
		return slog.New(discardHandler{})
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: lv,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 {
				switch a.Key {
				case slog.TimeKey:
					return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05.000"))
				case slog.LevelKey:
					if l, ok := a.Value.Any().(slog.Level); ok && l <= LevelTrace {
						return slog.String(slog.LevelKey, "TRACE")
					}
				}
			}
			return RedactAttr(a)
		},
	}))
}

type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (d discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discardHandler) WithGroup(string) slog.Handler           { return d }

const redacted = "[REDACTED]"

var (
	// Attribute keys whose values are never logged.
	secretKey = regexp.MustCompile(`(?i)(token|authorization|password|passwd|secret|cookie|api[-_]?key|credential_value|private[-_]?key)`)
	// Bearer values and JWTs anywhere inside a string.
	bearerRe = regexp.MustCompile(`(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*`)
	jwtRe    = regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`)
)

// RedactAttr hides secrets in a log attribute: values of keys that name a
// secret, Authorization and Cookie headers, bearer tokens and JWTs inside
// strings.
func RedactAttr(a slog.Attr) slog.Attr {
	if secretKey.MatchString(a.Key) && a.Value.Kind() != slog.KindGroup {
		return slog.String(a.Key, redacted)
	}
	switch a.Value.Kind() {
	case slog.KindString:
		return slog.String(a.Key, RedactString(a.Value.String()))
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case http.Header:
			return slog.Any(a.Key, redactHeader(v))
		case error:
			return slog.String(a.Key, RedactString(v.Error()))
		}
	}
	return a
}

// RedactString hides bearer tokens and JWTs inside s.
func RedactString(s string) string {
	if !strings.Contains(s, "eyJ") && !strings.Contains(strings.ToLower(s), "bearer") {
		return s
	}
	s = bearerRe.ReplaceAllString(s, "$1 "+redacted)
	return jwtRe.ReplaceAllString(s, redacted)
}

func redactHeader(h http.Header) http.Header {
	c := h.Clone()
	for k := range c {
		if secretKey.MatchString(k) {
			c[k] = []string{redacted}
		}
	}
	return c
}
