package sandbox

import (
	"encoding/json"
	"fmt"
	"time"
)

// Knobs are the sandbox's fault and timing controls. They can be set at
// start (Options.Knobs, the tharsis-sandbox flags), in process
// (Server.SetKnobs, Server.UpdateKnobs) and over HTTP (PUT /_sandbox/knobs).
type Knobs struct {
	// JobDuration is how long a job takes; its log is written in chunks over
	// that time. 0 runs jobs as fast as possible (every state is still
	// passed through and published).
	JobDuration time.Duration
	// ForceCancelDelay is the wait between a graceful cancel and the moment a
	// force cancel is allowed (15 s on a real installation, the default).
	ForceCancelDelay time.Duration
	// LogVolumeBytes adds about this many bytes of filler lines (with
	// multi-byte UTF-8 characters) to every job log, in many small writes.
	LogVolumeBytes int
	// FailPlan and FailApply make plan or apply jobs fail.
	FailPlan  bool
	FailApply bool
	// IgnoreGracefulCancel makes a running job ignore a graceful cancel: it
	// stays canceling until it is force canceled.
	IgnoreGracefulCancel bool
	// DropWebsocketAfterBytes drops each websocket connection abruptly after
	// that many bytes were written to it (0 = never).
	DropWebsocketAfterBytes int64
	// HTTPFailures is a burst: the next len(HTTPFailures) HTTP requests
	// (other than /health and /_sandbox/) answer these statuses in order,
	// e.g. 429, 503, 503.
	HTTPFailures []int
	// Latency is added to every HTTP request.
	Latency time.Duration
	// RequireRunnerServiceAccount makes a group runner usable only once a
	// service account is assigned to it (its agent needs one to log in).
	RequireRunnerServiceAccount bool
	// MaxLogBytes caps a job's log (10 MiB by default); past it the log is
	// truncated.
	MaxLogBytes int64
	// ModuleUploadFailure, when not 0, is the HTTP status every module
	// package upload (PUT /v1/module-registry/versions/{id}/upload)
	// answers after reading the body, storing nothing.
	ModuleUploadFailure int
}

// DefaultKnobs are the knobs of a sandbox behaving like a real installation.
func DefaultKnobs() Knobs {
	return Knobs{ForceCancelDelay: 15 * time.Second, MaxLogBytes: defaultMaxLogBytes}
}

// knobsJSON is the wire form of Knobs: durations as Go duration strings.
type knobsJSON struct {
	JobDuration                 string `json:"jobDuration"`
	ForceCancelDelay            string `json:"forceCancelDelay"`
	LogVolumeBytes              int    `json:"logVolumeBytes"`
	FailPlan                    bool   `json:"failPlan"`
	FailApply                   bool   `json:"failApply"`
	IgnoreGracefulCancel        bool   `json:"ignoreGracefulCancel"`
	DropWebsocketAfterBytes     int64  `json:"dropWebsocketAfterBytes"`
	HTTPFailures                []int  `json:"httpFailures"`
	Latency                     string `json:"latency"`
	RequireRunnerServiceAccount bool   `json:"requireRunnerServiceAccount"`
	MaxLogBytes                 int64  `json:"maxLogBytes"`
	ModuleUploadFailure         int    `json:"moduleUploadFailure"`
}

// MarshalJSON writes durations as strings such as "1.5s".
func (k Knobs) MarshalJSON() ([]byte, error) {
	fails := k.HTTPFailures
	if fails == nil {
		fails = []int{}
	}
	return json.Marshal(knobsJSON{
		JobDuration:                 k.JobDuration.String(),
		ForceCancelDelay:            k.ForceCancelDelay.String(),
		LogVolumeBytes:              k.LogVolumeBytes,
		FailPlan:                    k.FailPlan,
		FailApply:                   k.FailApply,
		IgnoreGracefulCancel:        k.IgnoreGracefulCancel,
		DropWebsocketAfterBytes:     k.DropWebsocketAfterBytes,
		HTTPFailures:                fails,
		Latency:                     k.Latency.String(),
		RequireRunnerServiceAccount: k.RequireRunnerServiceAccount,
		MaxLogBytes:                 k.MaxLogBytes,
		ModuleUploadFailure:         k.ModuleUploadFailure,
	})
}

// UnmarshalJSON reads the form MarshalJSON writes; fields left out keep
// their current values, so a PUT can change one knob.
func (k *Knobs) UnmarshalJSON(b []byte) error {
	cur, err := k.MarshalJSON()
	if err != nil {
		return err
	}
	var j knobsJSON
	if err := json.Unmarshal(cur, &j); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	var out Knobs
	for _, d := range []struct {
		s   string
		dst *time.Duration
	}{{j.JobDuration, &out.JobDuration}, {j.ForceCancelDelay, &out.ForceCancelDelay}, {j.Latency, &out.Latency}} {
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return fmt.Errorf("invalid duration %q: %w", d.s, err)
		}
		if v < 0 {
			return fmt.Errorf("duration %q is negative", d.s)
		}
		*d.dst = v
	}
	out.LogVolumeBytes = j.LogVolumeBytes
	out.FailPlan = j.FailPlan
	out.FailApply = j.FailApply
	out.IgnoreGracefulCancel = j.IgnoreGracefulCancel
	out.DropWebsocketAfterBytes = j.DropWebsocketAfterBytes
	out.HTTPFailures = j.HTTPFailures
	out.RequireRunnerServiceAccount = j.RequireRunnerServiceAccount
	out.MaxLogBytes = j.MaxLogBytes
	out.ModuleUploadFailure = j.ModuleUploadFailure
	*k = out
	return nil
}

// Knobs returns the current knobs.
func (s *Server) Knobs() Knobs {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	k := s.knobs
	k.HTTPFailures = append([]int(nil), k.HTTPFailures...)
	return k
}

// SetKnobs replaces the knobs.
func (s *Server) SetKnobs(k Knobs) {
	s.UpdateKnobs(func(cur *Knobs) { *cur = k })
}

// UpdateKnobs changes the knobs in place, e.g.
// srv.UpdateKnobs(func(k *sandbox.Knobs) { k.FailPlan = true }).
func (s *Server) UpdateKnobs(f func(*Knobs)) {
	s.knobMu.Lock()
	f(&s.knobs)
	if s.knobs.MaxLogBytes <= 0 {
		s.knobs.MaxLogBytes = defaultMaxLogBytes
	}
	s.knobs.HTTPFailures = append([]int(nil), s.knobs.HTTPFailures...)
	s.knobMu.Unlock()
	// A changed RequireRunnerServiceAccount can make queued jobs runnable.
	s.mu.Lock()
	s.dispatch()
	s.mu.Unlock()
}

// nextHTTPFailure pops the next status of the failure burst (0 when none).
func (s *Server) nextHTTPFailure() int {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	if len(s.knobs.HTTPFailures) == 0 {
		return 0
	}
	st := s.knobs.HTTPFailures[0]
	s.knobs.HTTPFailures = s.knobs.HTTPFailures[1:]
	return st
}
