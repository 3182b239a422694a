// Package runview turns run-engine events into what a person or a program
// reads: job logs byte for byte, status lines, queue reasons and the plan
// summary in text mode, or one JSON object per line in event mode. It never
// calls the API.
package runview

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/briandowns/spinner"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/runflow"
)

// Mode selects the output contract.
type Mode int

const (
	// Text writes logs to Logs and everything else, for people, to Status.
	Text Mode = iota
	// Events writes every event as a line of JSON to Logs (stdout) and
	// nothing else.
	Events
)

// Options configures a Renderer.
type Options struct {
	Mode Mode
	// Logs receives job log bytes (stdout in text mode, stderr with -o json)
	// or the event stream.
	Logs io.Writer
	// Status receives status lines, queue reasons and summaries (stderr).
	Status io.Writer
	// Color enables ANSI styling of status lines.
	Color bool
	// Spinner shows an animated spinner on Status while the run waits; only
	// for a terminal.
	Spinner bool
	// Quiet hides status lines (logs and errors still flow).
	Quiet bool
	// StripANSI removes escape sequences (Terraform's colours) from job
	// logs; set when the user asked for no colour (--no-color, NO_COLOR).
	// Otherwise logs are written byte for byte as the job wrote them.
	StripANSI bool
}

// Renderer is safe for concurrent use: the engine emits from several
// goroutines (run watcher, log streams).
type Renderer struct {
	mu    sync.Mutex
	opts  Options
	style styles
	spin  *spinner.Spinner

	lastStatus string
	logOpen    map[string]bool // phases whose log header was printed
	atLineEnd  bool            // the last log byte written was a newline (or nothing yet)
}

type styles struct {
	dim, bold, ok, warn, bad lipgloss.Style
}

// New returns a Renderer.
func New(opts Options) *Renderer {
	if opts.StripANSI && opts.Mode == Text {
		opts.Logs = StripANSI(opts.Logs)
	}
	r := &Renderer{opts: opts, logOpen: map[string]bool{}, atLineEnd: true}
	lr := lipgloss.NewRenderer(opts.Status)
	if opts.Color {
		lr.SetColorProfile(termenv.ANSI)
	} else {
		lr.SetColorProfile(termenv.Ascii)
	}
	r.style = styles{
		dim:  lr.NewStyle().Faint(true),
		bold: lr.NewStyle().Bold(true),
		ok:   lr.NewStyle().Foreground(lipgloss.Color("2")),
		warn: lr.NewStyle().Foreground(lipgloss.Color("3")),
		bad:  lr.NewStyle().Foreground(lipgloss.Color("1")),
	}
	if opts.Spinner && opts.Mode == Text && !opts.Quiet {
		r.spin = spinner.New(spinner.CharSets[11], 120*time.Millisecond, spinner.WithWriter(opts.Status))
	}
	return r
}

// Handle renders one event.
func (r *Renderer) Handle(ev runflow.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.opts.Mode == Events {
		b, err := json.Marshal(ev)
		if err == nil {
			b = append(b, '\n')
			_, _ = r.opts.Logs.Write(b)
		}
		return
	}
	r.text(ev)
}

// Stop ends the spinner; call it before printing anything else.
func (r *Renderer) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopSpinner()
}

// Printf writes a status line (text mode only), keeping clear of the spinner.
func (r *Renderer) Printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.opts.Mode != Text {
		return
	}
	r.stopSpinner()
	fmt.Fprintf(r.opts.Status, format, args...)
}

func (r *Renderer) stopSpinner() {
	if r.spin != nil && r.spin.Active() {
		r.spin.Stop()
	}
}

func (r *Renderer) status(format string, args ...any) {
	if r.opts.Quiet {
		return
	}
	r.stopSpinner()
	r.endLogLine()
	fmt.Fprintf(r.opts.Status, format+"\n", args...)
}

// endLogLine makes sure a status line never glues onto a log line that did
// not end with a newline, when both go to the same terminal. It writes to
// Status, never into the log stream, so the log stays byte-exact.
func (r *Renderer) endLogLine() {
	if !r.atLineEnd && r.opts.Spinner {
		fmt.Fprintln(r.opts.Status)
		r.atLineEnd = true
	}
}

func (r *Renderer) text(ev runflow.Event) {
	switch ev.Type {
	case runflow.EventPackaged:
		r.status("%s %s, %s (sha256 %s)", r.style.dim.Render("Packed"), plural(ev.Files, "file"), HumanBytes(ev.Bytes), short(ev.SHA256))
	case runflow.EventUploaded:
		r.status("%s configuration version %s", r.style.dim.Render("Uploaded"), ev.ConfigurationVersionID)
	case runflow.EventRunCreated:
		r.status("Run %s created on workspace %s", r.style.bold.Render(ev.RunID), ev.WorkspacePath)
	case runflow.EventStatus:
		if ev.Status == r.lastStatus {
			return
		}
		r.lastStatus = ev.Status
		label := StatusLabel(ev.Status)
		if r.spin != nil && runflow.Queued(runStatus(ev.Status)) {
			r.stopSpinner()
			r.endLogLine()
			r.spin.Suffix = " " + label
			r.spin.Start()
			return
		}
		r.status("%s %s", r.style.dim.Render("Status:"), r.colorStatus(ev.Status, label))
	case runflow.EventQueued:
		r.status("%s %s", r.style.warn.Render("Waiting:"), ev.Message)
		if ev.Hint != "" {
			r.status("  %s %s", r.style.dim.Render("Hint:"), ev.Hint)
		}
		// The run still waits: keep showing that it does.
		if r.spin != nil && !r.opts.Quiet && runflow.Queued(runStatus(r.lastStatus)) {
			r.spin.Start()
		}
	case runflow.EventLog:
		if r.spin != nil {
			r.stopSpinner()
		}
		if !r.logOpen[ev.Phase] && !r.opts.Quiet {
			r.logOpen[ev.Phase] = true
			r.endLogLine()
			fmt.Fprintf(r.opts.Status, "%s\n", r.style.dim.Render("── "+ev.Phase+" log ──"))
		}
		if len(ev.Data) > 0 {
			_, _ = r.opts.Logs.Write(ev.Data)
			r.atLineEnd = ev.Data[len(ev.Data)-1] == '\n'
		}
	case runflow.EventLogTruncated:
		r.status("%s %s", r.style.warn.Render("Note:"), ev.Message)
	case runflow.EventPlanSummary:
		if ev.Summary != nil {
			r.status("%s", r.style.bold.Render(SummaryLine(*ev.Summary)))
		}
	case runflow.EventCancelRequest:
		if ev.Force {
			r.status("%s", r.style.warn.Render("Force cancel requested."))
		} else {
			r.status("%s", r.style.warn.Render("Cancel requested; waiting for the run to stop..."))
		}
	case runflow.EventNotice:
		r.status("%s %s", r.style.warn.Render("Note:"), ev.Message)
	}
}

func (r *Renderer) colorStatus(status, label string) string {
	switch status {
	case "applied", "planned_and_finished", "planned":
		return r.style.ok.Render(label)
	case "errored":
		return r.style.bad.Render(label)
	case "canceled", "discarded":
		return r.style.warn.Render(label)
	}
	return label
}

// SummaryLine is Terraform's plan summary sentence.
func SummaryLine(s runflow.Summary) string {
	if s.Add == 0 && s.Change == 0 && s.Destroy == 0 && s.Import == 0 {
		if s.OutputAdd+s.OutputChange+s.OutputDestroy > 0 {
			return "Plan: no resource changes; outputs will change."
		}
		return "No changes. The infrastructure matches the configuration."
	}
	line := fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy.", s.Add, s.Change, s.Destroy)
	if s.Import > 0 {
		line = fmt.Sprintf("Plan: %d to import, %d to add, %d to change, %d to destroy.", s.Import, s.Add, s.Change, s.Destroy)
	}
	return line
}

// StatusLabel describes a run status in words.
func StatusLabel(s string) string {
	switch s {
	case "pending":
		return "pending"
	case "queuing":
		return "queued: waiting for the workspace"
	case "plan_queued":
		return "plan queued: waiting for a runner"
	case "planning":
		return "planning"
	case "planned":
		return "planned: waiting for approval"
	case "planned_and_finished":
		return "planned and finished"
	case "queuing_apply":
		return "apply queued: waiting for the workspace"
	case "apply_queued":
		return "apply queued: waiting for a runner"
	case "applying":
		return "applying"
	case "applied":
		return "applied"
	case "errored":
		return "errored"
	case "canceled":
		return "canceled"
	case "discarded":
		return "discarded"
	}
	return s
}

// HumanBytes formats a byte count with binary units.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func runStatus(s string) gql.RunStatus { return gql.RunStatus(s) }

// plural writes a count with its noun: "1 file", "3 files".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
