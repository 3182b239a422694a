package sandbox

import (
	"time"

	"github.com/tharsis-cli/tharsis/internal/sandbox/executor"
)

// The models below are the sandbox's records. They are plain data with
// exported fields so the store can be serialised later; resolvers work on
// copies taken under the server lock, so a record is only changed in place
// while the lock is held, and slices are replaced rather than mutated.

// Meta is the metadata every record carries.
type Meta struct {
	ID        string
	Seq       int64 // insertion order: ties in timestamps still sort stably
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// User is a human caller.
type User struct {
	Meta
	Username            string
	Email               string
	Admin               bool
	Active              bool
	AdminModeExpiration *time.Time
}

// Group is a namespace that holds groups and workspaces.
type Group struct {
	Meta
	Name        string
	Description string
	FullPath    string
	ParentID    string
	CreatedBy   string
	RunnerTags  *[]string // nil: inherited
}

// Label is a workspace label.
type Label struct{ Key, Value string }

// Workspace is a namespace that runs Terraform.
type Workspace struct {
	Meta
	Name                  string
	Description           string
	GroupID               string
	FullPath              string
	CreatedBy             string
	MaxJobDuration        int32
	TerraformVersion      string
	PreventDestroyPlan    bool
	Labels                []Label
	Locked                bool
	DirtyState            bool
	Destroyed             bool
	CurrentStateVersionID string
	CurrentApplyRunID     string
	RunnerTags            *[]string
}

// ConfigurationVersion is an uploaded Terraform configuration.
type ConfigurationVersion struct {
	Meta
	WorkspaceID string
	Status      string
	Speculative bool
	CreatedBy   string
	Data        []byte
}

// StateOutput is one output of a state version.
type StateOutput struct {
	ID        string
	Name      string
	Value     string // JSON text
	Type      string // JSON text
	Sensitive bool
}

// StateVersion is a recorded Terraform state.
type StateVersion struct {
	Meta
	WorkspaceID string
	RunID       string
	CreatedBy   string
	State       executor.State
	Outputs     []StateOutput
}

// RunVariable is a variable of a run.
type RunVariable struct {
	NamespacePath *string
	Category      string
	Key           string
	Value         string
	Sensitive     bool
	VersionID     *string
}

// PlanSummary counts the changes of a plan.
type PlanSummary struct {
	Add, Change, Destroy, Import, Drift, OutputAdd, OutputChange, OutputDestroy int32
}

// Plan is a run's plan node.
type Plan struct {
	ID           string
	Status       string
	ErrorMessage *string
	HasChanges   bool
	Summary      PlanSummary
	DiffSize     int32
	JobIDs       []string // attempts, latest last
	UpdatedAt    time.Time
}

// Apply is a run's apply node.
type Apply struct {
	ID           string
	Status       string
	ErrorMessage *string
	TriggeredBy  *string
	Comment      string
	JobIDs       []string
	UpdatedAt    time.Time
}

// Run is a Terraform run.
type Run struct {
	Meta
	WorkspaceID            string
	CreatedBy              string
	Status                 string
	IsDestroy              bool
	ConfigurationVersionID string
	ModuleSource           *string
	ModuleVersion          *string
	ModuleDigest           *string
	Comment                string
	TerraformVersion       string
	TargetAddresses        []string
	Refresh                bool
	RefreshOnly            bool
	AutoApply              bool
	ForceCanceled          bool
	ForceCanceledBy        *string
	ForceCancelAvailableAt *time.Time
	Variables              []RunVariable
	StateVersionID         string
	Plan                   Plan
	Apply                  *Apply

	// PlanResult is the executor's plan, kept for the apply job.
	PlanResult *executor.Plan `json:"-"`
}

func (r *Run) speculative() bool { return r.Apply == nil }

func (r *Run) clone() Run {
	c := *r
	if r.Apply != nil {
		a := *r.Apply
		c.Apply = &a
	}
	return c
}

// JobTimestamps are the times a job entered its states.
type JobTimestamps struct {
	QueuedAt, PendingAt, RunningAt, FinishedAt *time.Time
}

// Job is a plan or apply execution.
type Job struct {
	Meta
	RunID           string
	WorkspaceID     string
	Type            string
	Status          string
	Timestamps      JobTimestamps
	CancelRequested bool
	ForceCanceled   bool
	RunnerID        string
	RunnerPath      *string
	Tags            []string
	MaxJobDuration  int32
	Log             *logBuffer `json:"-"`
}

// RunnerSession is a runner agent's session.
type RunnerSession struct {
	ID            string
	CreatedAt     time.Time
	LastContacted time.Time
	Internal      bool
	ErrorCount    int32
}

// Runner is a runner agent.
type Runner struct {
	Meta
	Name              string
	Description       string
	GroupID           string // "" for a shared runner
	CreatedBy         string
	Disabled          bool
	RunUntaggedJobs   bool
	Tags              []string
	ServiceAccountIDs []string
	Sessions          []RunnerSession
}

func (r *Runner) shared() bool { return r.GroupID == "" }

// JWTClaim is a bound claim of a trust policy.
type JWTClaim struct{ Name, Value string }

// TrustPolicy is a service account's OIDC trust policy.
type TrustPolicy struct {
	Issuer          string
	BoundClaimsType string
	BoundClaims     []JWTClaim
}

// ServiceAccount is a machine identity.
type ServiceAccount struct {
	Meta
	Name                     string
	Description              string
	GroupID                  string
	CreatedBy                string
	ClientCredentialsEnabled bool
	ClientSecretHash         []byte
	ClientSecretExpiresAt    *time.Time
	TrustPolicies            []TrustPolicy
}

// Membership gives a member a role on a namespace.
type Membership struct {
	Meta
	NamespacePath    string
	UserID           string
	ServiceAccountID string
	Role             string
}

// NamespaceVariable is a variable set on a group or workspace.
type NamespaceVariable struct {
	Meta
	NamespacePath string
	Category      string
	Key           string
	Value         string
	Sensitive     bool
	VersionID     string
}
