// Package complete holds the dynamic shell completions that need the API:
// workspace paths, group paths and run IDs. (Profile names are completed
// from the settings file by the configure package.)
//
// A completion runs while the user waits at a TAB, so it must be fast and
// invisible: every API lookup shares one short deadline (Timeout), nothing
// is retried, and any failure (no settings, no credentials, a dead
// endpoint, a refused request) yields no candidates. Nothing is ever
// printed: the shell scripts read cobra's candidate list on stdout, and a
// warning there would become a candidate.
//
// Wire them with ValidArgsFunction or RegisterFlagCompletionFunc:
//
//	ValidArgsFunction: complete.Workspaces(f),
//	_ = cmd.RegisterFlagCompletionFunc("group", complete.GroupFlag(f))
package complete

import (
	"context"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/auth"
	"github.com/tharsis-cli/tharsis/internal/build"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/config"
)

// Timeout bounds all the API requests of one completion.
const Timeout = 2 * time.Second

// Limit is how many candidates one lookup asks the API for.
const Limit = 20

// Func is a cobra completion function.
type Func = cobra.CompletionFunc

// none is the answer when there is nothing to offer: no candidates and no
// file names either (a workspace path is never a local file).
func none() ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// firstArg limits fn to the first positional argument.
func firstArg(fn Func) Func {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return none()
		}
		return fn(cmd, args, toComplete)
	}
}

// withClient runs fn with an API client for the profile and endpoint the
// command line selects (cobra has parsed -p and --endpoint by now), under
// one Timeout for everything, including a service-account token exchange.
// The Factory's own client is not used: it retries for a minute and prints
// warnings.
func withClient(cmd *cobra.Command, f *cmdutil.Factory, fn func(ctx context.Context, c *api.Client) ([]string, cobra.ShellCompDirective)) ([]string, cobra.ShellCompDirective) {
	parent := cmd.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, Timeout)
	defer cancel()
	c, err := newClient(f)
	if err != nil {
		return none()
	}
	return fn(ctx, c)
}

// newClient builds a quiet client: no retries, short request timeout, no
// logs, no warnings.
func newClient(f *cmdutil.Factory) (*api.Client, error) {
	dir, err := config.Dir(f.Getenv)
	if err != nil {
		return nil, err
	}
	store := config.NewStore(dir, nil)
	settings, err := store.LoadSettings()
	if err != nil {
		return nil, err
	}
	cfg, err := config.Resolve(f.Getenv, config.Flags{Profile: f.Global.Profile, Endpoint: f.Global.Endpoint}, settings)
	if err != nil {
		return nil, err
	}
	base := api.Config{
		Endpoint:       cfg.Endpoint,
		TLSSkipVerify:  cfg.TLSSkipVerify,
		CACertFile:     cfg.CACertFile,
		UserAgent:      build.UserAgent(),
		RequestTimeout: Timeout,
		Retry:          api.RetryPolicy{Max: -1},
	}
	ts, _, err := auth.New(auth.Options{
		Getenv:  f.Getenv,
		Profile: cfg.Profile,
		Store:   store,
		NewExchanger: func() (auth.Exchanger, error) {
			c, err := api.New(base)
			if err != nil {
				return nil, err
			}
			return auth.NewAPIExchanger(c), nil
		},
		HTTPClient: &http.Client{Timeout: Timeout},
		Now:        f.Now,
	})
	if err != nil {
		return nil, err
	}
	authed := base
	authed.TokenSource = ts
	return api.New(authed)
}
