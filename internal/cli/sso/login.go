package sso

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/auth"
	"github.com/tharsis-cli/tharsis/internal/build"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// The loopback redirect, as the reference CLI registers it with identity
// providers: http://localhost:<port>/login with a port in 21000-21199.
const (
	firstPort    = 21000
	lastPort     = 21199
	callbackPath = "/login"

	// internalClientID and internalScope are the internal identity
	// provider's (authType BASIC).
	internalClientID = "tharsis"
	internalScope    = "openid tharsis"

	// EnvNoBrowser set to a true value stops `sso login` from opening a
	// browser (it prints the URL and waits).
	EnvNoBrowser = "THARSIS_NO_BROWSER"
)

// LoginOptions are the inputs of `tharsis sso login`.
type LoginOptions struct {
	IO                 *ui.IOStreams
	JSON               bool
	Getenv             func(string) string
	Now                func() time.Time
	Logger             *slog.Logger
	Config             func() (*config.Resolved, error)
	ConfigStore        func() (*config.Store, error)
	AnonymousAPIClient func() (*api.Client, error)

	NoBrowser bool
	Timeout   time.Duration
	// OpenBrowser opens a URL; tests replace it.
	OpenBrowser func(ctx context.Context, url string) error
	// FirstPort and LastPort bound the callback port.
	FirstPort, LastPort int
}

// LoginResult is what `sso login -o json` prints (never the token).
type LoginResult struct {
	Profile         string     `json:"profile"`
	Endpoint        string     `json:"endpoint"`
	AuthType        string     `json:"auth_type"`
	Username        string     `json:"username,omitempty"`
	Email           string     `json:"email,omitempty"`
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	CredentialsFile string     `json:"credentials_file"`
}

// NewCmdLogin builds `tharsis sso login`; runF replaces the real run in
// tests.
func NewCmdLogin(f *cmdutil.Factory, runF func(context.Context, *LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{IO: f.IO, FirstPort: firstPort, LastPort: lastPort}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in with your browser (single sign-on)",
		Long: `Log in to the profile's Tharsis API with your browser and store the token in
the profile (credentials.json, readable by you only).

The API's auth settings decide where you log in: Tharsis itself, or the
OIDC identity provider it is configured with. The login uses the
authorization-code flow with PKCE and a callback on
http://localhost:<port>/login, with the port in 21000-21199.

When no browser can be opened (an SSH session, --no-browser or
THARSIS_NO_BROWSER=1), open the printed URL in a browser on this machine;
the command waits until the login completes or --timeout passes.

Session tokens are short-lived (5 minutes by default on Tharsis) and cannot
be renewed: for CI and long runs use a service account (see
'tharsis service-account login' and docs/authentication.md).`,
		Example: `  tharsis sso login
  tharsis -p prod sso login --no-browser
  tharsis sso login -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.JSON = f.JSON()
			opts.Getenv = f.Getenv
			opts.Now = f.Now
			opts.Logger = f.Logger()
			opts.Config = f.Config
			opts.ConfigStore = f.ConfigStore
			opts.AnonymousAPIClient = f.AnonymousAPIClient
			if v := strings.TrimSpace(f.Getenv(EnvNoBrowser)); v != "" {
				if b, err := strconv.ParseBool(v); err != nil || b {
					opts.NoBrowser = true
				}
			}
			if opts.OpenBrowser == nil {
				opts.OpenBrowser = func(ctx context.Context, u string) error { return openBrowser(ctx, f.Getenv, u) }
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return RunLogin(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.NoBrowser, "no-browser", false, "Print the login URL instead of opening a browser (env THARSIS_NO_BROWSER)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "How long to wait for the login to complete")
	return cmd
}

// provider is where the login happens.
type provider struct {
	authType string // BASIC or OIDC
	issuer   string
	clientID string
	scopes   []string
}

// RunLogin runs the login.
func RunLogin(ctx context.Context, opts *LoginOptions) error {
	if opts.Timeout <= 0 {
		return cmdutil.UsageErrorf("--timeout must be positive")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	store, err := opts.ConfigStore()
	if err != nil {
		return err
	}
	client, err := opts.AnonymousAPIClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	prov, err := loginProvider(ctx, client)
	if err != nil {
		return err
	}
	hc := client.HTTPClient()
	endpoints, supported, err := discover(ctx, hc, prov.issuer)
	if err != nil {
		return err
	}
	if prov.authType == "OIDC" && len(prov.scopes) == 0 {
		prov.scopes = supported
	}
	if !slices.Contains(prov.scopes, "openid") {
		prov.scopes = append([]string{"openid"}, prov.scopes...)
	}

	ln, port, err := listen(opts.FirstPort, opts.LastPort)
	if err != nil {
		return err
	}
	conf := &oauth2.Config{
		ClientID:    prov.clientID,
		Endpoint:    oauth2.Endpoint{AuthURL: endpoints.Authorization, TokenURL: endpoints.Token, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: fmt.Sprintf("http://localhost:%d%s", port, callbackPath),
		Scopes:      prov.scopes,
	}
	state := randomString()
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	codes := make(chan callbackResult, 1)
	srv := &http.Server{Handler: callbackHandler(state, codes), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()

	w := opts.IO.ErrOut
	host := hostOf(prov.issuer)
	fmt.Fprintf(w, "Logging in to %s for profile %q.\n", host, cfg.Profile)
	opened := false
	if !opts.NoBrowser {
		if err := opts.OpenBrowser(ctx, authURL); err != nil {
			fmt.Fprintf(w, "Could not open a browser (%v).\n", err)
		} else {
			opened = true
		}
	}
	if opened {
		fmt.Fprintf(w, "Your browser has been opened. If it did not open the login page, open this URL:\n\n  %s\n\n", authURL)
	} else {
		fmt.Fprintf(w, "Open this URL in a browser on this machine to log in:\n\n  %s\n\n", authURL)
	}
	fmt.Fprintf(w, "Waiting for the login to complete (up to %s; Ctrl-C to cancel)...\n", opts.Timeout)

	var code string
	select {
	case r := <-codes:
		if r.err != nil {
			return r.err
		}
		code = r.code
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return cmdutil.WithHint(fmt.Errorf("sso login: no login completed within %s", opts.Timeout),
				"Open the printed URL in a browser on this machine, or run again with a longer --timeout.")
		}
		return ctx.Err()
	}

	token, err := exchange(ctx, conf, hc, code, verifier, prov.authType)
	if err != nil {
		return err
	}
	if err := store.SetToken(cfg.Profile, token); err != nil {
		return fmt.Errorf("store the token: %w", err)
	}
	opts.Logger.Debug("sso: token stored", "profile", cfg.Profile, "file", store.CredentialsPath())

	res := LoginResult{Profile: cfg.Profile, Endpoint: client.Endpoint(), AuthType: prov.authType, CredentialsFile: store.CredentialsPath()}
	if c, err := auth.ParseClaims(token); err == nil && !c.ExpiresAt.IsZero() {
		exp := c.ExpiresAt.UTC()
		res.ExpiresAt = &exp
	}
	// Confirm the token works and say who it belongs to.
	if who, err := whoIs(ctx, cfg, client.Endpoint(), token, opts.Logger); err != nil {
		fmt.Fprintf(w, "Warning: logged in, but the API did not accept the new token: %v\n", err)
	} else {
		res.Username, res.Email = who.Username, who.Email
	}
	if opts.JSON {
		return opts.IO.PrintJSON(res)
	}
	st := opts.IO.ErrStyles()
	msg := fmt.Sprintf("Logged in to %s", res.Endpoint)
	if res.Username != "" {
		msg += " as " + res.Username
	}
	msg += fmt.Sprintf(" (profile %q).", cfg.Profile)
	fmt.Fprintln(w, st.Success.Render(msg))
	if res.ExpiresAt != nil {
		fmt.Fprintf(w, "The session expires at %s; run '%s' again then.\n", res.ExpiresAt.Local().Format("2006-01-02 15:04:05 MST"), auth.LoginCommand(cfg.Profile))
	}
	return nil
}

// loginProvider reads authSettings (no credentials needed).
func loginProvider(ctx context.Context, client *api.Client) (provider, error) {
	resp, err := gql.AuthSettings(ctx, client.GraphQL())
	if err != nil {
		return provider{}, api.WithOp(err, "read the API's auth settings")
	}
	if resp.AuthSettings == nil {
		return provider{}, errors.New("read the API's auth settings: the server returned none")
	}
	s := resp.AuthSettings
	switch string(s.AuthType) {
	case "BASIC":
		return provider{authType: "BASIC", issuer: client.Endpoint(), clientID: internalClientID, scopes: strings.Fields(internalScope)}, nil
	case "OIDC":
		if s.Oidc == nil || s.Oidc.IssuerUrl == "" || s.Oidc.ClientId == "" {
			return provider{}, errors.New("read the API's auth settings: OIDC is configured without an issuer or client id")
		}
		return provider{authType: "OIDC", issuer: strings.TrimRight(s.Oidc.IssuerUrl, "/"), clientID: s.Oidc.ClientId, scopes: strings.Fields(s.Oidc.Scope)}, nil
	}
	return provider{}, fmt.Errorf("read the API's auth settings: unknown auth type %q", s.AuthType)
}

type oidcEndpoints struct {
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
}

// discover reads the issuer's OpenID configuration.
func discover(ctx context.Context, hc *http.Client, issuer string) (oidcEndpoints, []string, error) {
	const op = "read the identity provider's OpenID configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return oidcEndpoints{}, nil, &api.Error{Kind: api.KindBadRequest, Op: op, Message: err.Error()}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return oidcEndpoints{}, nil, api.WithOp(err, op)
	}
	if err := api.CheckResponse(op, resp); err != nil {
		return oidcEndpoints{}, nil, err
	}
	defer resp.Body.Close()
	var doc struct {
		oidcEndpoints
		Scopes []string `json:"scopes_supported"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil || doc.Authorization == "" || doc.Token == "" {
		return oidcEndpoints{}, nil, &api.Error{Kind: api.KindUnknown, Op: op, Message: issuer + " did not return authorization and token endpoints"}
	}
	return doc.oidcEndpoints, doc.Scopes, nil
}

// listen takes the first free port of the range on 127.0.0.1.
func listen(first, last int) (net.Listener, int, error) {
	var lastErr error
	for p := first; p <= last; p++ {
		ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			return ln, p, nil
		}
		lastErr = err
	}
	return nil, 0, cmdutil.WithHint(fmt.Errorf("sso login: no free port for the login callback in %d-%d: %v", first, last, lastErr),
		"Close other logins in progress, or free a port in that range.")
}

type callbackResult struct {
	code string
	err  error
}

// callbackHandler receives the redirect. Requests without the right state
// (a favicon, a stale tab, a forged link) are refused and the login keeps
// waiting; an error from the provider ends it.
func callbackHandler(state string, out chan<- callbackResult) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+callbackPath, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != state {
			page(w, http.StatusBadRequest, "This login link is not the one tharsis is waiting for. Run 'tharsis sso login' again.")
			return
		}
		if e := q.Get("error"); e != "" {
			msg := e
			if d := q.Get("error_description"); d != "" {
				msg += ": " + d
			}
			page(w, http.StatusBadRequest, "The login failed: "+msg)
			select {
			case out <- callbackResult{err: fmt.Errorf("sso login: the identity provider refused the login: %s", msg)}:
			default:
			}
			return
		}
		code := q.Get("code")
		if code == "" {
			page(w, http.StatusBadRequest, "The identity provider sent no authorization code.")
			return
		}
		page(w, http.StatusOK, "You are logged in to Tharsis. You can close this page and return to the terminal.")
		select {
		case out <- callbackResult{code: code}:
		default: // a second callback: the first one won
		}
	})
	return mux
}

func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><html><head><title>Tharsis login</title></head><body><p>%s</p></body></html>\n", html.EscapeString(msg))
}

// exchange trades the code for the token to store: the ID token of an
// external provider (the API verifies it against the provider), or the
// access token of the internal one. It sends Origin: http://localhost,
// which providers need for browser-style (SPA) PKCE clients, and retries
// without it when Azure refuses cross-origin redemption.
func exchange(ctx context.Context, conf *oauth2.Config, hc *http.Client, code, verifier, authType string) (string, error) {
	const op = "exchange the authorization code"
	try := func(origin bool) (*oauth2.Token, error) {
		c := *hc
		if origin {
			c.Transport = originTransport{base: hc.Transport}
		}
		return conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, &c), code, oauth2.VerifierOption(verifier))
	}
	tok, err := try(true)
	if err != nil && strings.Contains(err.Error(), "AADSTS9002326") {
		tok, err = try(false)
	}
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			msg := re.ErrorDescription
			if msg == "" {
				msg = strings.TrimSpace(string(re.Body))
				var d struct {
					Detail string `json:"detail"`
				}
				if json.Unmarshal(re.Body, &d) == nil && d.Detail != "" {
					msg = d.Detail
				}
			}
			return "", &api.Error{Kind: api.KindUnauthenticated, Op: op, StatusCode: re.Response.StatusCode, Message: msg,
				Hint: "Run 'tharsis sso login' again; the code is valid for one minute and can be used once."}
		}
		return "", api.WithOp(err, op)
	}
	if authType == "OIDC" {
		if id, _ := tok.Extra("id_token").(string); id != "" {
			return id, nil
		}
	}
	if tok.AccessToken != "" {
		return tok.AccessToken, nil
	}
	return "", &api.Error{Kind: api.KindUnauthenticated, Op: op, Message: "no token found in the identity provider's response"}
}

type originTransport struct{ base http.RoundTripper }

func (t originTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Origin", "http://localhost")
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

type identity struct{ Username, Email string }

// whoIs asks the API who the new token belongs to.
func whoIs(ctx context.Context, cfg *config.Resolved, endpoint, token string, log *slog.Logger) (identity, error) {
	c, err := api.New(api.Config{
		Endpoint: endpoint, TokenSource: api.StaticTokenSource(token),
		TLSSkipVerify: cfg.TLSSkipVerify, CACertFile: cfg.CACertFile,
		UserAgent: build.UserAgent(), Logger: log, Retry: api.RetryPolicy{Max: 1},
	})
	if err != nil {
		return identity{}, err
	}
	resp, err := gql.Me(ctx, c.GraphQL())
	if err != nil {
		return identity{}, err
	}
	if resp.Me != nil && *resp.Me != nil {
		if u, ok := (*resp.Me).(*gql.MeMeUser); ok {
			return identity{Username: u.Username, Email: u.Email}, nil
		}
	}
	return identity{}, nil
}

func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return u
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
