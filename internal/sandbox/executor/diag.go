package executor

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/mitchellh/go-wordwrap"
)

// wrapWidth matches the width Terraform uses when it is not on a terminal.
const wrapWidth = 76

func errorDiag(summary, detail string, subject *hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: subject}
}

// sortDiags orders diagnostics by file and position so logs are stable.
func sortDiags(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil && b == nil:
			return false
		case a == nil:
			return false
		case b == nil:
			return true
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
}

// dedupeDiags drops repeats (the same summary at the same place), which
// happen when one bad expression is evaluated for several instances.
func dedupeDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	seen := map[string]bool{}
	var out hcl.Diagnostics
	for _, d := range diags {
		key := d.Summary + "\x00" + d.Detail
		if d.Subject != nil {
			key += "\x00" + d.Subject.String()
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, d)
	}
	return out
}

// renderDiags writes diagnostics in Terraform's boxed layout.
func renderDiags(diags hcl.Diagnostics, files map[string][]byte, st style) []byte {
	var b bytes.Buffer
	for _, d := range diags {
		renderDiag(&b, d, files, st)
	}
	return b.Bytes()
}

func renderDiag(b *bytes.Buffer, d *hcl.Diagnostic, files map[string][]byte, st style) {
	colour, label := st.red, "Error: "
	if d.Severity == hcl.DiagWarning {
		colour, label = st.yellow, "Warning: "
	}
	var lines []string
	lines = append(lines, st.bold(colour(label))+st.bold(d.Summary))
	if d.Subject != nil {
		lines = append(lines, "")
		lines = append(lines, fmt.Sprintf("  on %s line %d:", d.Subject.Filename, d.Subject.Start.Line))
		if src, ok := sourceLine(files, d.Subject); ok {
			lines = append(lines, fmt.Sprintf("%4d: %s", d.Subject.Start.Line, src))
		}
	}
	if d.Detail != "" {
		lines = append(lines, "")
		for _, para := range strings.Split(d.Detail, "\n") {
			lines = append(lines, strings.Split(wordwrap.WrapString(para, wrapWidth), "\n")...)
		}
	}
	b.WriteString(colour("╷") + "\n")
	for _, l := range lines {
		if l == "" {
			b.WriteString(colour("│") + "\n")
			continue
		}
		b.WriteString(colour("│") + " " + l + "\n")
	}
	b.WriteString(colour("╵") + "\n")
}

func sourceLine(files map[string][]byte, r *hcl.Range) (string, bool) {
	src, ok := files[r.Filename]
	if !ok || r.Start.Line < 1 {
		return "", false
	}
	lines := strings.Split(string(src), "\n")
	if r.Start.Line > len(lines) {
		return "", false
	}
	return strings.TrimRight(lines[r.Start.Line-1], " \t\r"), true
}

// planError turns error diagnostics into a *PlanError.
func planError(diags hcl.Diagnostics, files map[string][]byte, st style) *PlanError {
	diags = dedupeDiags(diags)
	sortDiags(diags)
	var errs []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, diagString(d))
		}
	}
	return &PlanError{Log: renderDiags(diags, files, st), Msg: strings.Join(errs, "; ")}
}

func diagString(d *hcl.Diagnostic) string {
	s := d.Summary
	if d.Detail != "" {
		s += ": " + d.Detail
	}
	if d.Subject != nil {
		s = fmt.Sprintf("%s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, s)
	}
	return s
}
