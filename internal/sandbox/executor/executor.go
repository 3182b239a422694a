// Package executor is the sandbox's simulated Terraform: a deterministic,
// pure-Go stand-in that reads a configuration's .tf files, plans changes
// against a recorded state and writes Terraform-like plan and apply logs.
//
// Nothing here talks to a cloud or runs a terraform binary. Resource IDs and
// computed attributes are derived from hashes of addresses and attributes, and
// logs carry no times, so the same request always yields the same bytes.
//
// How the simulation stands in for providers:
//
//   - A resource's attributes are its configured arguments (nested blocks
//     become lists of objects) plus "id". Attributes that expressions read
//     but the block does not set (aws_s3_bucket.b.arn) are computed: shown
//     as "(known after apply)" when the object is created and given a
//     deterministic value.
//   - Planning computes every value concretely and marks what real Terraform
//     would not know yet; the plan log prints those as "(known after apply)"
//     and Apply only replays the plan, so it cannot fail.
//   - Changing "triggers", "triggers_replace" or "keepers", or any argument
//     of a random_* resource, replaces the object; other changes update it
//     in place and keep its ID.
//   - terraform_data's output follows its input; random_string and
//     random_password get a deterministic result of the configured length.
//   - Data sources are read while planning unless their configuration depends
//     on values known only after apply; they never count as changes.
package executor

import (
	"encoding/json"
)

// Resource is one resource instance in a state.
type Resource struct {
	Address    string         // e.g. "null_resource.a", "aws_s3_bucket.b[0]", "module.m.null_resource.x"
	Mode       string         // "managed" | "data"
	Module     string         // "" or "module.m"
	Type, Name string         //
	Attributes map[string]any // JSON-compatible values (numbers are float64); always includes "id"
	// SensitivePaths lists attribute paths holding sensitive values, in the
	// plan's notation (["password"], ["tags"]["token"]). Keep it with the
	// state: later plans use it to hide old values in diffs.
	SensitivePaths []string
}

// Output is one root module output in a state.
type Output struct {
	Name      string
	Value     json.RawMessage // JSON-encoded value, e.g. "\"hi\"" or 3 or {"a":1}
	Type      json.RawMessage // JSON-encoded Terraform type, e.g. "\"string\"", ["list","string"]
	Sensitive bool
}

// State is the part of a Terraform state the sandbox keeps.
type State struct {
	Serial    int
	Resources []Resource
	Outputs   []Output
}

// PlanRequest is everything a plan needs.
type PlanRequest struct {
	Files     map[string][]byte // path (slash-separated, relative to the root module) -> content
	Prior     State
	Variables map[string]string // run variables of category terraform, raw as the API stores them
	// SensitiveVariables names the Variables that are sensitive in Tharsis;
	// like Tharsis, the plan fails unless their declarations are sensitive.
	SensitiveVariables []string
	Destroy            bool
	RefreshOnly        bool
	Refresh            bool
	Targets            []string // resource addresses; a target selects the resource and its instances
	Color              bool     // ANSI colour codes in logs
}

// Summary counts a plan's changes like the API's PlanSummary.
type Summary struct{ Add, Change, Destroy, Import, Drift, OutputAdd, OutputChange, OutputDestroy int }

// Change is one planned resource change. Action is "create", "update",
// "delete" or "replace".
type Change struct{ Address, Action string }

// Plan is the result of MakePlan.
type Plan struct {
	Changes    []Change
	Summary    Summary
	HasChanges bool  // resource or output changes
	Planned    State // the state apply will produce
	Log        []byte

	// UndeclaredVariables lists request variables the root module does not
	// declare; Tharsis ignores them with a warning (also written to Log).
	UndeclaredVariables []string

	// ops is what Apply replays, in order.
	ops         []applyOp
	destroy     bool
	targeted    bool
	rootOutputs []Output
}

// PlanError reports a configuration error. Log holds Terraform-like
// "Error: ..." diagnostics for the job log.
type PlanError struct {
	Log []byte
	Msg string
}

func (e *PlanError) Error() string { return e.Msg }

// MakePlan plans req. Configuration problems are returned as *PlanError.
func MakePlan(req PlanRequest) (*Plan, error) {
	return newPlanner(req).plan()
}

// Apply returns the state p produces (Serial incremented) and the apply log.
// Planning already computed every value, so applying cannot fail.
func Apply(p *Plan, color bool) (State, []byte) {
	st := cloneState(p.Planned)
	return st, renderApplyLog(p, newStyle(color))
}

func cloneState(s State) State {
	out := State{Serial: s.Serial}
	for _, r := range s.Resources {
		r.Attributes = cloneAny(r.Attributes).(map[string]any)
		if r.SensitivePaths != nil {
			r.SensitivePaths = append([]string(nil), r.SensitivePaths...)
		}
		out.Resources = append(out.Resources, r)
	}
	for _, o := range s.Outputs {
		o.Value = append(json.RawMessage(nil), o.Value...)
		o.Type = append(json.RawMessage(nil), o.Type...)
		out.Outputs = append(out.Outputs, o)
	}
	return out
}

func cloneAny(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = cloneAny(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = cloneAny(e)
		}
		return s
	default:
		return v
	}
}
