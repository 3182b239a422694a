package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/viper"
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

// Keys of the layered settings (see layers).
const (
	keyProfile       = "profile"
	keyEndpoint      = "endpoint"
	keyTLSSkipVerify = "tls_skip_verify"
	keyCACertFile    = "ca_cert_file"
	keyLogLevel      = "log_level"
)

// layers holds one invocation's settings in a private viper instance, whose
// precedence does the resolving: flags (viper's flag layer) over the
// environment (its config layer, fed from the injected getenv rather than
// the process, so tests can run side by side) over the profile (its
// defaults layer, which also carries the built-in defaults).
type layers struct {
	v     *viper.Viper
	flags map[string]string
	env   map[string]any
	prof  map[string]bool
}

func newLayers(getenv func(string) string, flags Flags) *layers {
	l := &layers{v: viper.New(), flags: map[string]string{}, env: map[string]any{}, prof: map[string]bool{}}
	for key, val := range map[string]string{keyProfile: flags.Profile, keyEndpoint: flags.Endpoint, keyLogLevel: flags.LogLevel} {
		if val != "" {
			l.flags[key] = val
			_ = l.v.BindFlagValue(key, flagValue{key, val})
		}
	}
	for key, name := range map[string]string{keyProfile: EnvProfile, keyEndpoint: EnvEndpoint,
		keyTLSSkipVerify: EnvTLSSkipVerify, keyCACertFile: EnvCACertFile, keyLogLevel: EnvLogLevel} {
		if val := getenv(name); val != "" {
			l.env[key] = val
		}
	}
	_ = l.v.MergeConfigMap(l.env)
	l.v.SetDefault(keyProfile, DefaultProfile)
	l.v.SetDefault(keyLogLevel, "off")
	return l
}

// setProfile puts a profile's values under the flags and the environment.
func (l *layers) setProfile(p *Profile) {
	set := func(key string, val any, present bool) {
		if present {
			l.v.SetDefault(key, val)
			l.prof[key] = true
		}
	}
	set(keyEndpoint, p.Endpoint, p.Endpoint != "")
	set(keyTLSSkipVerify, p.TLSSkipVerify, p.TLSSkipVerify)
	set(keyCACertFile, p.CACertFile, p.CACertFile != "")
}

// get returns a setting and the layer it came from.
func (l *layers) get(key string) (string, Source) {
	val := l.v.GetString(key)
	switch {
	case l.flags[key] != "":
		return val, SourceFlag
	case l.env[key] != nil:
		return val, SourceEnv
	case l.prof[key]:
		return val, SourceProfile
	}
	return val, SourceDefault
}

// flagValue presents a flag given on the command line to viper.
type flagValue struct{ name, val string }

func (f flagValue) HasChanged() bool    { return true }
func (f flagValue) Name() string        { return f.name }
func (f flagValue) ValueString() string { return f.val }
func (f flagValue) ValueType() string   { return "string" }

// ResolveLogLevel picks the log level: --log-level, then THARSIS_CLI_LOG, then
// "off". It needs no settings file, so logging can start before any is read.
func ResolveLogLevel(getenv func(string) string, flag string) (string, Source, error) {
	return newLayers(getenv, Flags{LogLevel: flag}).logLevel()
}

func (l *layers) logLevel() (string, Source, error) {
	v, src := l.get(keyLogLevel)
	if src == SourceDefault {
		return "off", SourceDefault, nil
	}
	name := EnvLogLevel
	if src == SourceFlag {
		name = "--log-level"
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
	return newLayers(getenv, Flags{Profile: flag}).get(keyProfile)
}

// Resolve computes the effective settings. settings may be empty (no file).
// It touches neither the environment nor the disk: getenv supplies the
// environment.
func Resolve(getenv func(string) string, flags Flags, settings *Settings) (*Resolved, error) {
	l := newLayers(getenv, flags)
	r := &Resolved{}
	var err error
	if r.LogLevel, r.LogLevelSource, err = l.logLevel(); err != nil {
		return nil, err
	}
	r.Profile, r.ProfileSource = l.get(keyProfile)
	prof, found := settings.Profile(r.Profile)
	r.ProfileFound = found
	if found {
		l.setProfile(prof)
	}

	r.Endpoint, r.EndpointSource = l.get(keyEndpoint)
	if r.EndpointSource == SourceDefault {
		switch {
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
	}

	var skip string
	skip, r.TLSSkipVerifySource = l.get(keyTLSSkipVerify)
	if r.TLSSkipVerifySource != SourceDefault {
		b, err := strconv.ParseBool(skip)
		if err != nil {
			return nil, &Error{
				Msg:  fmt.Sprintf("invalid %s %q", EnvTLSSkipVerify, skip),
				Hint: "use true or false",
			}
		}
		r.TLSSkipVerify = b
	}
	r.CACertFile, r.CACertFileSource = l.get(keyCACertFile)
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
