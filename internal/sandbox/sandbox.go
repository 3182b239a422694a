// Package sandbox is a local Tharsis-compatible API server: GraphQL over HTTP
// and graphql-ws from the project's schema subset, the configuration-version
// upload route, service discovery, bearer-token auth with roles, the run,
// plan, apply and job state machines, a simulated Terraform executor and
// fault knobs. Tests start it in process; tharsis-sandbox runs it for demos.
//
// In tests:
//
//	srv, err := sandbox.Start(ctx, sandbox.Options{Knobs: sandbox.Knobs{ForceCancelDelay: time.Second}})
//	defer srv.Close()
//	srv.URL()          // http://127.0.0.1:PORT, the API URL (THARSIS_ENDPOINT)
//	srv.AdminToken()   // token of the seeded admin user (owner of group "sandbox")
//
// (sandboxtest.Start(t) does the same and registers Cleanup.) Seed: group
// "sandbox", workspace "sandbox/demo", admin user "admin" and a shared runner
// "sandbox-runner" that runs untagged jobs.
//
// Other helpers for tests: New/Start, CreateUser, CreateServiceAccount,
// AddTrustPolicy, ResetServiceAccountClientSecret, AddMembership,
// IssueToken, IssueServiceAccountToken, RegisterModule,
// LoadModulesDir, LinkWorkspaceToDirectory (a simulated VCS link whose
// repository is a local directory, see vcs.go), SetNamespaceVariable,
// SetKnobs/UpdateKnobs/Knobs, RequestCount, AdminKey, and snapshots for
// assertions: Runs, ConfigurationVersions, Jobs, JobLog, Workspace,
// ModuleVersions, ModuleVersionStatus, VCSEvents, RunVCSEvent.
//
// Module registry: modules and versions created with the GraphQL API and
// uploaded to PUT /v1/module-registry/versions/{id}/upload (at most
// Options.MaxModuleUploadBytes) are published, once uploaded, to the store
// module-source runs use, under the address TerraformModule.source reports:
// <host:port>/<root group>/<name>/<system> (see registry.go).
//
// Identity: serviceAccountCreateToken verifies external OIDC tokens against
// the service account's trust policies, fetching the issuer's discovery
// document and keys over HTTP (loopback only by default); StartOIDCIssuer
// runs such an issuer for tests. Exchanged tokens live
// Options.ServiceAccountTokenTTL; the internal identity provider approves
// logins as Options.SSOUser.
//
// HTTP routes: /graphql (POST/GET, and websocket upgrades with the graphql-ws
// subprotocol), PUT /tfe/v2/workspaces/{ws}/configuration-versions/{cv}/upload,
// PUT /v1/module-registry/versions/{id}/upload,
// /.well-known/terraform.json, /.well-known/openid-configuration,
// /oauth/discovery/keys, the internal identity provider (GET /oauth/authorize,
// POST /oauth/token; see Options.SSOUser), POST /v1/serviceaccounts/token
// (client credentials), /health, and the admin routes /_sandbox/knobs (GET,
// PUT) and /_sandbox/requests (GET), which need the header
// X-Sandbox-Admin-Key: <AdminKey()>.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/graph-gophers/graphql-go"
)

// Seeded names.
const (
	SeedGroup     = "sandbox"
	SeedWorkspace = "sandbox/demo"
	SeedAdmin     = "admin"
	SeedRunner    = "sandbox-runner"
)

// DefaultTerraformVersion is the version new workspaces get.
const DefaultTerraformVersion = "1.11.4"

// terraformVersions are the versions terraformCLIVersions reports.
var terraformVersions = []string{"1.9.8", "1.10.5", "1.11.4"}

// Options configure a sandbox.
type Options struct {
	// Knobs start as DefaultKnobs() when zero.
	Knobs Knobs
	// Logger receives server logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock (time.Now by default). Tests may move it forward, e.g.
	// past forceCancelAvailableAt.
	Now func() time.Time
	// MaxUploadBytes caps a configuration-version upload (413 past it);
	// default 64 MiB.
	MaxUploadBytes int64
	// MaxModuleUploadBytes caps a module package upload (413 past it);
	// default DefaultMaxModuleUploadBytes (128 MiB), as on a real
	// installation.
	MaxModuleUploadBytes int64
	// ModulesDir holds modules for module-source runs, laid out as
	// <source>/<version>/*.tf (see LoadModulesDir).
	ModulesDir string
	// AdminKey guards /_sandbox/; a random key when empty.
	AdminKey string
	// AdminTokenTTL is the lifetime of AdminToken (default 24 h).
	AdminTokenTTL time.Duration

	// ServiceAccountTokenTTL is the lifetime of the tokens
	// serviceAccountCreateToken and /v1/serviceaccounts/token issue (15
	// minutes, expiresIn 900, by default). Tests shorten it to prove that
	// clients renew tokens during long runs.
	ServiceAccountTokenTTL time.Duration
	// SessionTokenTTL is the lifetime of the user tokens /oauth/token issues
	// (5 minutes by default, as on a real installation).
	SessionTokenTTL time.Duration
	// SSOUser is the user the internal identity provider logs in: the
	// sandbox has no browser sessions, so /oauth/authorize approves every
	// valid request as this user. Empty: /oauth/authorize sends the browser
	// to a login page that explains this, and no code is issued.
	SSOUser string
	// OIDCHTTPClient fetches OIDC discovery documents and keys of external
	// issuers for serviceAccountCreateToken; LoopbackHTTPClient() by
	// default.
	OIDCHTTPClient *http.Client
}

// Server is a running sandbox.
type Server struct {
	opts   Options
	log    *slog.Logger
	signer *signer
	schema *graphql.Schema
	broker *broker

	connMu   sync.Mutex
	newConns map[net.Conn]struct{} // accepted, no request yet (see trackConn)

	mu      sync.Mutex // guards st, jobCtl, modules, catalog, vcs
	st      *store
	ctl     map[string]*jobControl
	mods    *moduleRegistry
	catalog *registryCatalog // the module registry API (registry.go)
	vcs     *vcsState        // simulated VCS links (vcs.go)

	knobMu sync.Mutex
	knobs  Knobs

	reqMu     sync.Mutex
	reqCounts map[string]int

	oidcHTTP *http.Client
	idpMu    sync.Mutex
	codes    map[string]*authCode // internal identity provider: pending authorization codes

	url        string
	adminKey   string
	adminToken string
	ln         net.Listener
	httpSrv    *http.Server
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	closeOnce  sync.Once
	wgMu       sync.Mutex // orders wg.Add against Close
	closed     bool
	started    time.Time
}

// New builds a sandbox with its seed data; Start makes it listen.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = 64 << 20
	}
	if opts.MaxModuleUploadBytes <= 0 {
		opts.MaxModuleUploadBytes = DefaultMaxModuleUploadBytes
	}
	if opts.AdminTokenTTL <= 0 {
		opts.AdminTokenTTL = 24 * time.Hour
	}
	if opts.SessionTokenTTL <= 0 {
		opts.SessionTokenTTL = 5 * time.Minute
	}
	if opts.OIDCHTTPClient == nil {
		opts.OIDCHTTPClient = LoopbackHTTPClient()
	}
	k := opts.Knobs
	if k.ForceCancelDelay == 0 && k.MaxLogBytes == 0 && !k.IgnoreGracefulCancel && k.JobDuration == 0 &&
		k.LogVolumeBytes == 0 && !k.FailPlan && !k.FailApply && k.DropWebsocketAfterBytes == 0 &&
		len(k.HTTPFailures) == 0 && k.Latency == 0 && !k.RequireRunnerServiceAccount && k.ModuleUploadFailure == 0 {
		k = DefaultKnobs()
	}
	if k.MaxLogBytes <= 0 {
		k.MaxLogBytes = defaultMaxLogBytes
	}
	sg, err := newSigner()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:      opts,
		log:       opts.Logger,
		signer:    sg,
		broker:    newBroker(),
		st:        newStore(),
		ctl:       map[string]*jobControl{},
		mods:      newModuleRegistry(),
		catalog:   newRegistryCatalog(),
		vcs:       newVCSState(),
		knobs:     k,
		reqCounts: map[string]int{},
		oidcHTTP:  opts.OIDCHTTPClient,
		codes:     map[string]*authCode{},
		adminKey:  opts.AdminKey,
		started:   opts.Now().UTC(),
	}
	if s.adminKey == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		s.adminKey = hex.EncodeToString(b)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.schema, err = newSchema(s)
	if err != nil {
		return nil, err
	}
	if err := s.seed(); err != nil {
		return nil, err
	}
	if opts.ModulesDir != "" {
		if err := s.LoadModulesDir(opts.ModulesDir); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start builds a sandbox and makes it listen on 127.0.0.1 on a free port.
// The server closes when ctx ends (or on Close, whichever comes first).
func Start(ctx context.Context, opts Options) (*Server, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, func() { _ = s.Close() })
	return s, nil
}

// Start listens on addr (host:port; "" = 127.0.0.1:0) and serves in the
// background until Close.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("sandbox listens on loopback addresses only, not %q", host)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	tok, err := s.IssueToken(SeedAdmin, s.opts.AdminTokenTTL)
	if err != nil {
		_ = ln.Close()
		return err
	}
	s.adminToken = tok
	s.httpSrv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		ConnState:         s.trackConn,
	}
	s.goTrack(func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox server stopped", "err", err)
		}
	})
	return nil
}

// URL is the API URL, e.g. http://127.0.0.1:43127 (no trailing slash).
func (s *Server) URL() string { return s.url }

// AdminToken is a token of the seeded admin user, valid for AdminTokenTTL.
func (s *Server) AdminToken() string { return s.adminToken }

// AdminKey is the value of the X-Sandbox-Admin-Key header /_sandbox/ needs.
func (s *Server) AdminKey() string { return s.adminKey }

// Close stops the server, its jobs and its subscriptions, and waits for them.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.wgMu.Lock()
		s.closed = true
		s.wgMu.Unlock()
		s.cancel()
		if s.httpSrv != nil {
			// Shutdown treats a connection that never sent a request as
			// busy for 5 seconds; clients leave those behind when a dial
			// races a cancellation, so close them first.
			s.closeNewConns()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = s.httpSrv.Shutdown(ctx)
			cancel()
			if err != nil {
				err = s.httpSrv.Close()
			}
		}
		s.wg.Wait()
	})
	return err
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

// trackConn remembers connections that have not sent a request yet.
func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.newConns == nil {
		s.newConns = map[net.Conn]struct{}{}
	}
	if st == http.StateNew {
		s.newConns[c] = struct{}{}
	} else {
		delete(s.newConns, c)
	}
}

func (s *Server) closeNewConns() {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	for c := range s.newConns {
		_ = c.Close()
	}
	s.newConns = nil
}

// enter registers work Close must wait for; false once Close has begun.
// The caller calls s.wg.Done when the work ends.
func (s *Server) enter() bool {
	s.wgMu.Lock()
	defer s.wgMu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// goTrack runs f as a server goroutine Close waits for; it reports false
// (and does not run f) once Close has begun.
func (s *Server) goTrack(f func()) bool {
	if !s.enter() {
		return false
	}
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

func (s *Server) seed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	admin := &User{Meta: s.st.newMeta(now), Username: SeedAdmin, Email: SeedAdmin + "@sandbox.local", Admin: true, Active: true}
	s.st.Users[admin.ID] = admin
	g := &Group{Meta: s.st.newMeta(now), Name: SeedGroup, Description: "Seeded by tharsis-sandbox", FullPath: SeedGroup, CreatedBy: admin.Email}
	s.st.Groups[g.ID] = g
	m := &Membership{Meta: s.st.newMeta(now), NamespacePath: g.FullPath, UserID: admin.ID, Role: "owner"}
	s.st.Memberships[m.ID] = m
	_, name := splitLast(SeedWorkspace)
	w := s.newWorkspace(g, name, "Seeded by tharsis-sandbox", admin.Email)
	s.st.Workspaces[w.ID] = w
	r := &Runner{Meta: s.st.newMeta(now), Name: SeedRunner, Description: "Shared runner of the sandbox", CreatedBy: "system", RunUntaggedJobs: true, Tags: []string{}}
	r.Sessions = []RunnerSession{{ID: newID(), CreatedAt: now, LastContacted: now, Internal: true}}
	s.st.Runners[r.ID] = r
	return nil
}

func (s *Server) newWorkspace(g *Group, name, desc, createdBy string) *Workspace {
	return &Workspace{
		Meta: s.st.newMeta(s.now()), Name: name, Description: desc, GroupID: g.ID,
		FullPath: g.FullPath + "/" + name, CreatedBy: createdBy, MaxJobDuration: 720,
		TerraformVersion: DefaultTerraformVersion, Labels: []Label{},
	}
}
