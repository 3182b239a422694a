package runflow

import "time"

// EventType names what an Event reports.
type EventType string

// The events the engine emits, in the order a run normally produces them.
const (
	EventPackaged      EventType = "packaged"       // the configuration was packed: Files, Bytes, SHA256
	EventUploaded      EventType = "uploaded"       // the configuration version exists and holds the slug: ConfigurationVersionID
	EventRunCreated    EventType = "run_created"    // RunID, WorkspacePath
	EventStatus        EventType = "status"         // the run, plan or apply status changed
	EventQueued        EventType = "queued"         // why the run is waiting: Message, Hint
	EventLog           EventType = "log"            // a chunk of job log: Phase, JobID, Offset, Data
	EventLogTruncated  EventType = "log_truncated"  // the server truncated the job's log
	EventPlanSummary   EventType = "plan_summary"   // Summary
	EventCancelRequest EventType = "cancel_request" // a cancel was sent: Force, ForceAvailableAt
	EventNotice        EventType = "notice"         // anything else worth telling: Message
)

// Event is one observation of the engine. Fields not relevant to the Type are
// left empty; the struct doubles as the line-delimited JSON event format.
type Event struct {
	Type EventType `json:"type"`
	Time time.Time `json:"time"`

	RunID         string `json:"run_id,omitempty"`
	WorkspacePath string `json:"workspace,omitempty"`

	Status      string `json:"status,omitempty"`
	PlanStatus  string `json:"plan_status,omitempty"`
	ApplyStatus string `json:"apply_status,omitempty"`

	Phase  string `json:"phase,omitempty"` // plan | apply
	JobID  string `json:"job_id,omitempty"`
	Offset int64  `json:"offset,omitempty"`
	// Data holds log bytes exactly as the server stored them.
	Data []byte `json:"-"`
	// Text is Data as a string, for the JSON event stream.
	Text string `json:"data,omitempty"`

	Files                  int    `json:"files,omitempty"`
	Bytes                  int64  `json:"bytes,omitempty"`
	SHA256                 string `json:"sha256,omitempty"`
	ConfigurationVersionID string `json:"configuration_version_id,omitempty"`

	Summary *Summary `json:"summary,omitempty"`

	Force            bool       `json:"force,omitempty"`
	ForceAvailableAt *time.Time `json:"force_cancel_available_at,omitempty"`

	Message string `json:"message,omitempty"`
	Hint    string `json:"hint,omitempty"`
}

// Summary is a plan's change summary.
type Summary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Destroy int `json:"destroy"`
	Import  int `json:"import"`
	Drift   int `json:"drift"`

	OutputAdd     int `json:"output_add"`
	OutputChange  int `json:"output_change"`
	OutputDestroy int `json:"output_destroy"`
}

// SummaryOf extracts the plan summary of a run.
func SummaryOf(r *Run) Summary {
	s := r.Plan.Summary
	return Summary{
		Add: s.ResourceAdditions, Change: s.ResourceChanges, Destroy: s.ResourceDestructions,
		Import: s.ResourceImports, Drift: s.ResourceDrift,
		OutputAdd: s.OutputAdditions, OutputChange: s.OutputChanges, OutputDestroy: s.OutputDestructions,
	}
}
