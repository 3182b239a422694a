// Package cmdutil is what every command shares: the Factory (streams,
// environment, global options, lazily built config and API client), exit
// codes and error printing, interrupt routing and small flag/argument
// helpers.
package cmdutil

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/auth"
	"github.com/tharsis-cli/tharsis/internal/build"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// GlobalOptions are the root's persistent flags. Empty strings mean "not
// given on the command line" (the environment and the profile decide).
type GlobalOptions struct {
	Profile  string // -p/--profile
	Endpoint string // --endpoint
	Output   string // -o/--output: "text" or "json"
	NoColor  bool   // --no-color
	LogLevel string // --log-level
}

// Output formats.
const (
	OutputText = "text"
	OutputJSON = "json"
)

// Factory gives commands what they need. The func fields are built lazily
// on first use (flags are parsed by then) and memoised; tests replace them.
type Factory struct {
	IO         *ui.IOStreams
	Getenv     func(string) string
	Global     *GlobalOptions
	Now        func() time.Time
	Interrupts *Interrupts
	// Environ lists the environment as NAME=value entries (for TF_VAR_*);
	// nil means an empty environment.
	Environ func() []string

	// ConfigStore is the settings directory (settings.json,
	// credentials.json).
	ConfigStore func() (*config.Store, error)
	// Config is the resolved configuration: profile, endpoint, TLS, log
	// level (flag > env > profile > default).
	Config func() (*config.Resolved, error)
	// Credentials is the token source of the active profile and a
	// description of it (never the token).
	Credentials func() (api.TokenSource, auth.Description, error)
	// APIClient is the authenticated API client for the resolved endpoint.
	APIClient func() (*api.Client, error)
	// AnonymousAPIClient is an API client for the same endpoint and TLS
	// settings that sends no credentials: for logging in (authSettings,
	// service-account token exchanges).
	AnonymousAPIClient func() (*api.Client, error)
	// Logger logs to stderr at --log-level (off by default), with secrets
	// redacted.
	Logger func() *slog.Logger
}

// NewFactory returns a Factory for the given streams and environment.
func NewFactory(io *ui.IOStreams, getenv func(string) string) *Factory {
	f := &Factory{
		IO:         io,
		Getenv:     getenv,
		Global:     &GlobalOptions{Output: OutputText},
		Now:        time.Now,
		Interrupts: NewInterrupts(),
	}
	f.Logger = sync.OnceValue(func() *slog.Logger {
		// An invalid THARSIS_CLI_LOG is reported by Config; logging just
		// stays off.
		level, _, err := config.ResolveLogLevel(f.Getenv, f.Global.LogLevel)
		if err != nil {
			level = "off"
		}
		return NewLogger(f.IO.ErrOut, level)
	})
	f.ConfigStore = sync.OnceValues(func() (*config.Store, error) {
		dir, err := config.Dir(f.Getenv)
		if err != nil {
			return nil, err
		}
		return config.NewStore(dir, f.IO.ErrOut), nil
	})
	f.Config = sync.OnceValues(func() (*config.Resolved, error) {
		store, err := f.ConfigStore()
		if err != nil {
			return nil, err
		}
		settings, err := store.LoadSettings()
		if err != nil {
			return nil, err
		}
		cfg, err := config.Resolve(f.Getenv, config.Flags{
			Profile:  f.Global.Profile,
			Endpoint: f.Global.Endpoint,
			LogLevel: f.Global.LogLevel,
		}, settings)
		if err != nil {
			return nil, err
		}
		f.Logger().Debug("configuration",
			"profile", cfg.Profile, "profile_from", cfg.ProfileSource,
			"endpoint", cfg.Endpoint, "endpoint_from", cfg.EndpointSource,
			"tls_skip_verify", cfg.TLSSkipVerify, "ca_cert_file", cfg.CACertFile,
			"settings_dir", store.Dir())
		return cfg, nil
	})
	type creds struct {
		ts   api.TokenSource
		desc auth.Description
		err  error
	}
	resolveCreds := sync.OnceValue(func() creds {
		cfg, err := f.Config()
		if err != nil {
			return creds{err: err}
		}
		store, err := f.ConfigStore()
		if err != nil {
			return creds{err: err}
		}
		// One token source per command: exchanged tokens are cached and
		// renewed by it, never exchanged twice.
		ts, desc, err := auth.New(auth.Options{
			Getenv:  f.Getenv,
			Profile: cfg.Profile,
			Store:   store,
			NewExchanger: func() (auth.Exchanger, error) {
				c, err := f.AnonymousAPIClient()
				if err != nil {
					return nil, err
				}
				return auth.NewAPIExchanger(c), nil
			},
			Now:    f.Now,
			Logger: f.Logger(),
			Warn:   func(msg string) { fmt.Fprintln(f.IO.ErrOut, "Warning: "+msg) },
		})
		if err != nil {
			return creds{err: err}
		}
		f.Logger().Debug("credential", "credential", desc.String())
		return creds{ts, desc, nil}
	})
	f.Credentials = func() (api.TokenSource, auth.Description, error) {
		c := resolveCreds()
		return c.ts, c.desc, c.err
	}
	newClient := func(authenticated bool) (*api.Client, error) {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		endpoint, err := api.NormalizeEndpoint(cfg.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("%w (endpoint from %s)", err, describeSource(cfg.EndpointSource, config.EnvEndpoint, "--endpoint", cfg.Profile))
		}
		var ts api.TokenSource
		if authenticated {
			if ts, _, err = f.Credentials(); err != nil {
				return nil, err
			}
		}
		return api.New(api.Config{
			Endpoint:      endpoint,
			TokenSource:   ts,
			TLSSkipVerify: cfg.TLSSkipVerify,
			CACertFile:    cfg.CACertFile,
			UserAgent:     build.UserAgent(),
			Logger:        f.Logger(),
		})
	}
	f.APIClient = sync.OnceValues(func() (*api.Client, error) { return newClient(true) })
	f.AnonymousAPIClient = sync.OnceValues(func() (*api.Client, error) { return newClient(false) })
	return f
}

// describeSource names where a setting came from, for error messages.
func describeSource(src config.Source, env, flag, profile string) string {
	switch src {
	case config.SourceFlag:
		return flag
	case config.SourceEnv:
		return env
	case config.SourceProfile:
		return fmt.Sprintf("profile %q", profile)
	}
	return string(src)
}

// JSON reports whether -o json was given.
func (f *Factory) JSON() bool { return f.Global.Output == OutputJSON }

// PrintJSON writes v to stdout as one indented JSON document.
func (f *Factory) PrintJSON(v any) error { return f.IO.PrintJSON(v) }

// PrintJSONLine writes v to stdout as one line of JSON (event streams).
func (f *Factory) PrintJSONLine(v any) error { return f.IO.PrintJSONLine(v) }
