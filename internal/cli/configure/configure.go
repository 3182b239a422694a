// Package configure implements `tharsis configure`, `configure list` and
// `configure delete`: the profiles in settings.json.
package configure

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// ProfileView is how a profile is shown by configure, configure list and
// their -o json output. It never contains a token.
type ProfileView struct {
	Name          string `json:"name"`
	Endpoint      string `json:"endpoint"`
	TLSSkipVerify bool   `json:"tls_skip_verify"`
	CACertFile    string `json:"ca_cert_file,omitempty"`
	HasToken      bool   `json:"has_token"`
	Active        bool   `json:"active"`
}

// ConfigureOptions are the inputs of `tharsis configure`.
type ConfigureOptions struct {
	IO    *ui.IOStreams
	Store func() (*config.Store, error)
	JSON  bool

	Profile         string // resolved from -p/--profile, THARSIS_PROFILE or "default"
	ProfileExplicit bool   // given by flag or environment (do not prompt for it)
	Endpoint        string // --http-endpoint (or --endpoint-url, or the global --endpoint)

	TLSSkipVerify    bool
	TLSSkipVerifySet bool
	CACertFile       string
	CACertFileSet    bool
}

// NewCmdConfigure builds `tharsis configure` with its list and delete
// subcommands; runF replaces the real run in tests.
func NewCmdConfigure(f *cmdutil.Factory, runF func(context.Context, *ConfigureOptions) error) *cobra.Command {
	opts := &ConfigureOptions{IO: f.IO}
	var endpointURL string
	cmd := &cobra.Command{
		Use:   "configure",
		Short: "Create or update a profile",
		Long: `Create or update a profile in the settings file (~/.tharsis/settings.json, or
$THARSIS_CONFIG_DIR/settings.json).

The profile is chosen with -p/--profile (or THARSIS_PROFILE; default "default").
Without --http-endpoint, on a terminal, configure asks for the profile name and
the endpoint. The endpoint is normalised (https:// is added when no scheme is
given, trailing slashes are removed) and must not be used by another profile.
Changing the endpoint of a profile removes its stored token, which belongs to the
old server.

A CI job does not need a profile at all: set THARSIS_ENDPOINT and a token
(THARSIS_STATIC_TOKEN or service account variables).`,
		Example: `  # interactive
  tharsis configure
  # non-interactive
  tharsis configure --profile prod --http-endpoint https://tharsis.example.com
  # a test server with a self-signed certificate
  tharsis configure -p dev --http-endpoint https://localhost:8000 --insecure-tls-skip-verify
  # a server signed by a private CA
  tharsis configure -p corp --http-endpoint https://tharsis.corp --ca-cert-file ~/corp-ca.pem`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Store = f.ConfigStore
			opts.JSON = f.JSON()
			var src config.Source
			opts.Profile, src = config.ResolveProfileName(f.Getenv, f.Global.Profile)
			opts.ProfileExplicit = src != config.SourceDefault
			switch {
			case cmd.Flags().Changed("http-endpoint"):
				if cmd.Flags().Changed("endpoint-url") && endpointURL != opts.Endpoint {
					return cmdutil.UsageErrorf("--http-endpoint and --endpoint-url disagree; give only --http-endpoint")
				}
			case cmd.Flags().Changed("endpoint-url"):
				opts.Endpoint = endpointURL
			case f.Global.Endpoint != "":
				// The global --endpoint reads naturally here too.
				opts.Endpoint = f.Global.Endpoint
			}
			opts.TLSSkipVerifySet = cmd.Flags().Changed("insecure-tls-skip-verify")
			opts.CACertFileSet = cmd.Flags().Changed("ca-cert-file")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runConfigure(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Endpoint, "http-endpoint", "", "Tharsis API URL, e.g. https://tharsis.example.com")
	cmd.Flags().StringVar(&endpointURL, "endpoint-url", "", "Tharsis API URL")
	_ = cmd.Flags().MarkDeprecated("endpoint-url", "use --http-endpoint")
	cmd.Flags().BoolVar(&opts.TLSSkipVerify, "insecure-tls-skip-verify", false, "Do not verify the server's TLS certificate (testing only)")
	cmd.Flags().StringVar(&opts.CACertFile, "ca-cert-file", "", "PEM file of extra certificate authorities to trust (\"\" removes it)")

	cmd.AddCommand(NewCmdList(f, nil), NewCmdDelete(f, nil))
	return cmd
}

// profileNameRe keeps profile names usable as flag values and file keys.
var profileNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func validateProfileName(name string) error {
	if !profileNameRe.MatchString(name) {
		return cmdutil.UsageErrorf("invalid profile name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", name)
	}
	return nil
}

func runConfigure(ctx context.Context, opts *ConfigureOptions) error {
	store, err := opts.Store()
	if err != nil {
		return err
	}
	settings, err := store.LoadSettings()
	if err != nil {
		return err
	}

	if opts.Endpoint == "" {
		if !opts.IO.CanPrompt() {
			return cmdutil.UsageErrorf("--http-endpoint is required when not running interactively")
		}
		if !opts.ProfileExplicit {
			name, err := opts.IO.Prompt(ctx, "Profile name", opts.Profile)
			if err != nil {
				return err
			}
			opts.Profile = name
		}
		if err := validateProfileName(opts.Profile); err != nil {
			return err
		}
		def := ""
		if p, ok := settings.Profile(opts.Profile); ok {
			def = p.Endpoint
		}
		for opts.Endpoint == "" {
			ep, err := opts.IO.Prompt(ctx, "Tharsis API URL", def)
			if err != nil {
				return err
			}
			if ep == "" {
				fmt.Fprintln(opts.IO.ErrOut, "The API URL is required, e.g. https://tharsis.example.com")
				continue
			}
			if _, err := api.NormalizeEndpoint(ep); err != nil {
				fmt.Fprintln(opts.IO.ErrOut, err)
				continue
			}
			opts.Endpoint = ep
		}
	}
	if err := validateProfileName(opts.Profile); err != nil {
		return err
	}
	endpoint, err := api.NormalizeEndpoint(opts.Endpoint)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}

	for _, name := range settings.ProfileNames() {
		if name == opts.Profile {
			continue
		}
		other, _ := settings.Profile(name)
		if sameEndpoint(other.Endpoint, endpoint) {
			return cmdutil.WithHint(
				fmt.Errorf("endpoint %s is already used by profile %q", endpoint, name),
				fmt.Sprintf("use that profile (-p %s), or delete it first with 'tharsis configure delete %s'", name, name))
		}
	}

	existing, found := settings.Profile(opts.Profile)
	p := &config.Profile{}
	if found {
		p = existing // keeps fields this CLI does not know
	}
	oldEndpoint := p.Endpoint
	p.Endpoint = endpoint
	if opts.TLSSkipVerifySet {
		p.TLSSkipVerify = opts.TLSSkipVerify
	}
	if opts.CACertFileSet {
		p.CACertFile = ""
		if opts.CACertFile != "" {
			abs, err := filepath.Abs(opts.CACertFile)
			if err != nil {
				return err
			}
			if _, err := os.Stat(abs); err != nil {
				return &cmdutil.UsageError{Err: fmt.Errorf("--ca-cert-file: %w", err)}
			}
			p.CACertFile = abs
		}
	}

	if !settings.Exists() {
		fmt.Fprintf(opts.IO.ErrOut, "No settings file yet: creating %s\n", store.SettingsPath())
	}
	tok, err := store.Token(opts.Profile)
	if err != nil {
		return err
	}
	// A token issued by another server must not be sent to the new one.
	if found && tok != "" && !sameEndpoint(oldEndpoint, endpoint) {
		if err := store.SetToken(opts.Profile, ""); err != nil {
			return err
		}
		tok = ""
		fmt.Fprintf(opts.IO.ErrOut, "The endpoint changed: removed the stored token of profile %q. Log in again with 'tharsis sso login%s'.\n",
			opts.Profile, profileFlag(opts.Profile))
	}
	settings.SetProfile(opts.Profile, p)
	if err := store.SaveSettings(settings); err != nil {
		return err
	}

	view := ProfileView{
		Name: opts.Profile, Endpoint: p.Endpoint, TLSSkipVerify: p.TLSSkipVerify,
		CACertFile: p.CACertFile, HasToken: tok != "",
	}
	if opts.JSON {
		return opts.IO.PrintJSON(view)
	}
	st := opts.IO.Styles()
	verb := "Created"
	if found {
		verb = "Updated"
	}
	fmt.Fprintf(opts.IO.Out, "%s profile %s\n", verb, st.Bold.Render(opts.Profile))
	fmt.Fprintf(opts.IO.Out, "  Endpoint:         %s\n", p.Endpoint)
	fmt.Fprintf(opts.IO.Out, "  TLS skip verify:  %v\n", p.TLSSkipVerify)
	if p.CACertFile != "" {
		fmt.Fprintf(opts.IO.Out, "  CA bundle:        %s\n", p.CACertFile)
	}
	if tok == "" {
		fmt.Fprintf(opts.IO.ErrOut, "Next: log in with 'tharsis sso login%s'.\n", profileFlag(opts.Profile))
	}
	return nil
}

func profileFlag(name string) string {
	if name == config.DefaultProfile {
		return ""
	}
	return " -p " + name
}

// sameEndpoint compares endpoints after normalisation (hand-edited files may
// hold unnormalised values).
func sameEndpoint(a, b string) bool {
	na, errA := api.NormalizeEndpoint(a)
	nb, errB := api.NormalizeEndpoint(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return na == nb
}
