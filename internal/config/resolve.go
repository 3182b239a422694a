package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Environment variables read by Resolve.
const (
	EnvProfile       = "THARSIS_PROFILE"
	EnvEndpoint      = "THARSIS_ENDPOINT"
	EnvTLSSkipVerify = "THARSIS_TLS_SKIP_VERIFY"
	EnvCACertFile    = "THARSIS_CA_CERT_FILE"
	EnvLogLevel      = "THARSIS_CLI_LOG"
	EnvConfigDir     = "THARSIS_CONFIG_DIR"
)

// Source says where a resolved value came from.
type Source string

// Sources, in order of precedence.
const (
	SourceFlag    Source = "flag"
	SourceEnv     Source = "env"
	SourceProfile Source = "profile"
	SourceDefault Source = "default"
)

// Flags are the values given on the command line; empty means not given.
type Flags struct {
	Profile  string
	Endpoint string
	LogLevel string
}

// Resolved are the effective settings of one invocation. Precedence for each
// value: flag > environment > profile > default.
type Resolved struct {
	Profile       string // the active profile name
	ProfileSource Source
	// ProfileFound is false when the profile is not in settings.json; that
	// is allowed only when the endpoint comes from a flag or the environment
	// (a CI job needs no settings file).
	ProfileFound bool

	Endpoint       string // as given; normalised by the API client
	EndpointSource Source

	TLSSkipVerify       bool
	TLSSkipVerifySource Source

	CACertFile       string
	CACertFileSource Source

	LogLevel       string
	LogLevelSource Source
}

// LogLevels are the accepted --log-level values, quietest first.
func LogLevels() []string { return []string{"off", "error", "warn", "info", "debug", "trace"} }

// ResolveLogLevel picks the log level: --log-level, then THARSIS_CLI_LOG, then
// "off". It needs no settings file, so logging can start before any is read.
func ResolveLogLevel(getenv func(string) string, flag string) (string, Source, error) {
	v, src, name := flag, SourceFlag, "--log-level"
	if v == "" {
		v, src, name = getenv(EnvLogLevel), SourceEnv, EnvLogLevel
	}
	if v == "" {
		return "off", SourceDefault, nil
	}
	lv := strings.ToLower(strings.TrimSpace(v))
	if !slices.Contains(LogLevels(), lv) {
		return "", "", &Error{
			Msg:  fmt.Sprintf("invalid %s %q", name, v),
			Hint: "use one of " + strings.Join(LogLevels(), ", "),
		}
	}
	return lv, src, nil
}

// ResolveProfileName picks the profile name: -p/--profile, then
// THARSIS_PROFILE, then "default".
func ResolveProfileName(getenv func(string) string, flag string) (string, Source) {
	if flag != "" {
		return flag, SourceFlag
	}
	if v := getenv(EnvProfile); v != "" {
		return v, SourceEnv
	}
	return DefaultProfile, SourceDefault
}

// Resolve computes the effective settings. settings may be empty (no file).
// It touches neither the environment nor the disk: getenv supplies the
// environment.
func Resolve(getenv func(string) string, flags Flags, settings *Settings) (*Resolved, error) {
	r := &Resolved{}
	var err error
	if r.LogLevel, r.LogLevelSource, err = ResolveLogLevel(getenv, flags.LogLevel); err != nil {
		return nil, err
	}
	r.Profile, r.ProfileSource = ResolveProfileName(getenv, flags.Profile)
	prof, found := settings.Profile(r.Profile)
	r.ProfileFound = found

	switch {
	case flags.Endpoint != "":
		r.Endpoint, r.EndpointSource = flags.Endpoint, SourceFlag
	case getenv(EnvEndpoint) != "":
		r.Endpoint, r.EndpointSource = getenv(EnvEndpoint), SourceEnv
	case found && prof.Endpoint != "":
		r.Endpoint, r.EndpointSource = prof.Endpoint, SourceProfile
	case found:
		return nil, &Error{
			Msg:  fmt.Sprintf("profile %q has no endpoint", r.Profile),
			Hint: fmt.Sprintf("run 'tharsis configure --profile %s --http-endpoint <url>'", r.Profile),
		}
	case !settings.Exists():
		return nil, &Error{
			Msg:  "no Tharsis endpoint configured",
			Hint: "run 'tharsis configure' to create a profile, or set THARSIS_ENDPOINT (and THARSIS_STATIC_TOKEN or service account variables in CI)",
		}
	default:
		return nil, unknownProfile(r.Profile, settings)
	}

	r.TLSSkipVerifySource = SourceDefault
	if v := getenv(EnvTLSSkipVerify); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, &Error{
				Msg:  fmt.Sprintf("invalid %s %q", EnvTLSSkipVerify, v),
				Hint: "use true or false",
			}
		}
		r.TLSSkipVerify, r.TLSSkipVerifySource = b, SourceEnv
	} else if found && prof.TLSSkipVerify {
		r.TLSSkipVerify, r.TLSSkipVerifySource = true, SourceProfile
	}

	r.CACertFileSource = SourceDefault
	if v := getenv(EnvCACertFile); v != "" {
		r.CACertFile, r.CACertFileSource = v, SourceEnv
	} else if found && prof.CACertFile != "" {
		r.CACertFile, r.CACertFileSource = prof.CACertFile, SourceProfile
	}
	return r, nil
}

func unknownProfile(name string, settings *Settings) error {
	names := settings.ProfileNames()
	if len(names) == 0 {
		return &Error{
			Msg:  fmt.Sprintf("no profile named %q: no profiles are configured", name),
			Hint: fmt.Sprintf("run 'tharsis configure --profile %s --http-endpoint <url>', or set THARSIS_ENDPOINT", name),
		}
	}
	return &Error{
		Msg:  fmt.Sprintf("no profile named %q (known profiles: %s)", name, strings.Join(names, ", ")),
		Hint: "choose one with -p/--profile or THARSIS_PROFILE, or create it with 'tharsis configure'",
	}
}
