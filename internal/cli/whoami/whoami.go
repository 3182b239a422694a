// Package whoami implements `tharsis whoami`.
package whoami

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/auth"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/config"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// WhoamiOptions are the inputs of `tharsis whoami`.
type WhoamiOptions struct {
	IO          *ui.IOStreams
	JSON        bool
	Now         func() time.Time
	Config      func() (*config.Resolved, error)
	Credentials func() (api.TokenSource, auth.Description, error)
	APIClient   func() (*api.Client, error)
}

// Identity is what `tharsis whoami -o json` prints.
type Identity struct {
	Type string `json:"type"` // "user" or "service_account"
	ID   string `json:"id"`
	TRN  string `json:"trn,omitempty"`

	// Users.
	Username         string `json:"username,omitempty"`
	Email            string `json:"email,omitempty"`
	Admin            *bool  `json:"admin,omitempty"`
	AdminModeEnabled *bool  `json:"admin_mode_enabled,omitempty"`

	// Service accounts.
	Name         string `json:"name,omitempty"`
	GroupPath    string `json:"group_path,omitempty"`
	ResourcePath string `json:"resource_path,omitempty"`

	Endpoint       string           `json:"endpoint"`
	EndpointSource config.Source    `json:"endpoint_source"`
	Profile        string           `json:"profile"`
	Credential     auth.Description `json:"credential"`
	// CredentialExpiresAt is when the token in use expires, when known
	// (exchanged tokens are renewed before then).
	CredentialExpiresAt *time.Time `json:"credential_expires_at,omitempty"`
}

// NewCmdWhoami builds `tharsis whoami`; runF replaces the real run in tests.
func NewCmdWhoami(f *cmdutil.Factory, runF func(context.Context, *WhoamiOptions) error) *cobra.Command {
	opts := &WhoamiOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show who you are logged in as",
		Long: `Ask the API who the current credential belongs to (a user or a service
account) and show it with the endpoint, the profile and which credential was
used (service account via OIDC token exchange or client credentials, static
token, or the token stored by 'tharsis sso login') and when its token
expires. The token itself is never shown. Exits 4 when the credential is
missing, expired or rejected.`,
		Example: `  tharsis whoami
  tharsis whoami -p prod -o json
  THARSIS_ENDPOINT=https://tharsis.example.com THARSIS_STATIC_TOKEN=... tharsis whoami`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.JSON = f.JSON()
			opts.Now = f.Now
			opts.Config = f.Config
			opts.Credentials = f.Credentials
			opts.APIClient = f.APIClient
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runWhoami(cmd.Context(), opts)
		},
		Aliases: []string{"caller-identity"}, // the reference CLI's name
	}
}

func runWhoami(ctx context.Context, opts *WhoamiOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	ts, desc, err := opts.Credentials()
	if err != nil {
		return err
	}
	resp, err := gql.Me(ctx, client.GraphQL())
	if err != nil {
		return api.WithOp(err, "get caller identity")
	}
	if resp.Me == nil || *resp.Me == nil {
		return &api.Error{
			Kind:    api.KindUnauthenticated,
			Op:      "get caller identity",
			Message: "the server did not recognise the credential",
			Hint:    "Run 'tharsis sso login', or check THARSIS_STATIC_TOKEN / the service account settings.",
		}
	}
	id := Identity{
		Endpoint:       client.Endpoint(),
		EndpointSource: cfg.EndpointSource,
		Profile:        cfg.Profile,
		Credential:     desc,
	}
	if exp, ok := auth.ExpiresAt(ts); ok {
		exp = exp.UTC()
		id.CredentialExpiresAt = &exp
	}
	switch me := (*resp.Me).(type) {
	case *gql.MeMeUser:
		id.Type = "user"
		id.ID, id.TRN = me.Id, me.Metadata.Trn
		id.Username, id.Email = me.Username, me.Email
		id.Admin, id.AdminModeEnabled = &me.Admin, &me.AdminModeEnabled
	case *gql.MeMeServiceAccount:
		id.Type = "service_account"
		id.ID, id.TRN = me.Id, me.Metadata.Trn
		id.Name, id.GroupPath, id.ResourcePath = me.Name, me.GroupPath, me.ResourcePath
	default:
		return errors.New("get caller identity: the server answered with an unknown caller type")
	}
	if opts.JSON {
		return opts.IO.PrintJSON(id)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	return printText(opts.IO, id, now())
}

func printText(io *ui.IOStreams, id Identity, now time.Time) error {
	st := io.Styles()
	var rows [][2]string
	switch id.Type {
	case "user":
		user := id.Username
		if id.Email != "" {
			user += " <" + id.Email + ">"
		}
		rows = append(rows, [2]string{"User", st.Bold.Render(user)})
		rows = append(rows, [2]string{"Admin", yesNo(*id.Admin)})
	case "service_account":
		rows = append(rows, [2]string{"Service account", st.Bold.Render(id.ResourcePath)})
	}
	endpoint := id.Endpoint
	switch id.EndpointSource {
	case config.SourceEnv:
		endpoint += " (from " + config.EnvEndpoint + ")"
	case config.SourceFlag:
		endpoint += " (from --endpoint)"
	}
	rows = append(rows,
		[2]string{"Endpoint", endpoint},
		[2]string{"Profile", id.Profile},
		[2]string{"Credential", id.Credential.String()},
	)
	if id.CredentialExpiresAt != nil {
		rows = append(rows, [2]string{"Expires", expiresText(*id.CredentialExpiresAt, now, id.Credential.Kind)})
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s  %s\n", width+1, r[0]+":", r[1])
	}
	_, err := fmt.Fprint(io.Out, b.String())
	return err
}

// expiresText says when the token expires, and that exchanged tokens are
// renewed.
func expiresText(exp, now time.Time, kind auth.Kind) string {
	s := exp.Local().Format("2006-01-02 15:04:05 MST")
	if d := exp.Sub(now).Round(time.Second); d > 0 {
		s += " (in " + d.String() + ")"
	}
	if kind == auth.KindServiceAccount || kind == auth.KindClientCredentials {
		s += ", renewed automatically"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
