package executor

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// The texts below imitate the shape of Terraform's output; the wording is
// our own except for the short headline phrases tools look for.

func renderPlanLog(p *planner, res *planResult) []byte {
	st := p.st
	var b bytes.Buffer
	for _, name := range p.undeclared {
		b.WriteString(st.yellow(fmt.Sprintf("WARNING: Run variable %q has a value but is not declared in the root module; it is ignored.", name)) + "\n")
	}
	for _, line := range res.refresh {
		b.WriteString(st.bold(line) + "\n")
	}
	for _, op := range res.reads {
		b.WriteString(st.bold(op.addr+": Reading...") + "\n")
		b.WriteString(st.bold(op.addr+": Read complete after 0s [id="+op.id+"]") + "\n")
	}
	plan := res.plan
	showResources := !p.req.RefreshOnly && len(res.changes) > 0
	switch {
	case showResources:
		b.WriteString("\n")
		writeLegend(&b, st, res.changes)
		b.WriteString("\nTerraform will perform the following actions:\n")
		for _, cv := range res.changes {
			b.WriteString("\n")
			writeChange(&b, st, cv)
		}
		s := plan.Summary
		fmt.Fprintf(&b, "\n%s %d to add, %d to change, %d to destroy.\n", st.bold("Plan:"), s.Add, s.Change, s.Destroy)
		writeOutputChanges(&b, st, res.outputs)
	case len(res.outputs) > 0:
		writeOutputChanges(&b, st, res.outputs)
		b.WriteString("\n")
		if p.req.RefreshOnly {
			b.WriteString("This is a refresh-only plan: Terraform will not act on these differences.\n" +
				"Apply it to record the updated values in the state without changing any\n" +
				"remote objects.\n")
		} else {
			b.WriteString("Applying this plan will record the new output values in the state\n" +
				"without changing any real infrastructure.\n")
		}
	case p.req.Destroy:
		b.WriteString("\n" + st.boldGreen("No changes.") + st.bold(" No objects need to be destroyed.") + "\n\n")
		b.WriteString("The state holds no objects to destroy: none were created yet, or they\n" +
			"were already removed.\n")
	case p.req.RefreshOnly:
		b.WriteString("\n" + st.boldGreen("No changes.") + st.bold(" Your infrastructure still matches the configuration.") + "\n\n")
		b.WriteString("Terraform checked the recorded objects and found no differences since\n" +
			"the last apply.\n")
	default:
		b.WriteString("\n" + st.boldGreen("No changes.") + st.bold(" Your infrastructure matches the configuration.") + "\n\n")
		b.WriteString("Terraform compared the configuration with the recorded state and found\n" +
			"nothing to change.\n")
	}
	var warnings hcl.Diagnostics
	for _, d := range p.warnings {
		if d.Severity == hcl.DiagWarning {
			warnings = append(warnings, d)
		}
	}
	if plan.targeted {
		warnings = append(warnings, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Resource targeting is in effect",
			Detail: "This plan was made with -target, so it may not include every change the current configuration calls for.\n\n" +
				"Use targeting only in exceptional cases, such as recovering from a mistake, and run an untargeted plan afterwards to check that nothing was left out.",
		})
	}
	if len(warnings) > 0 {
		b.WriteString("\n")
		b.Write(renderDiags(dedupeDiags(warnings), p.files, st))
	}
	return b.Bytes()
}

func writeLegend(b *bytes.Buffer, st style, changes []changeView) {
	used := map[string]bool{}
	for _, cv := range changes {
		used[headerSymbol(cv)] = true
	}
	b.WriteString("Terraform used the selected providers to generate the following execution\n" +
		"plan. Resource actions are indicated with the following symbols:\n")
	for _, l := range []struct{ sym, text string }{
		{"+", "create"},
		{"~", "update in-place"},
		{"-", "destroy"},
		{"-/+", "destroy and then create replacement"},
		{"+/-", "create replacement and then destroy"},
		{"<=", "read (data resources)"},
	} {
		if !used[l.sym] {
			continue
		}
		pad := "  "
		switch len(l.sym) {
		case 2:
			pad = " "
		case 3:
			pad = ""
		}
		b.WriteString(pad + st.symbol(l.sym) + " " + l.text + "\n")
	}
}

func headerSymbol(cv changeView) string {
	switch cv.action {
	case actCreate:
		return "+"
	case actUpdate:
		return "~"
	case actDelete:
		return "-"
	case actReplace:
		if cv.cbd {
			return "+/-"
		}
		return "-/+"
	case actReadApply:
		return "<="
	}
	return " "
}

func writeChange(b *bytes.Buffer, st style, cv changeView) {
	var what string
	switch cv.action {
	case actCreate:
		what = "will be created"
	case actUpdate:
		what = "will be updated in-place"
	case actDelete:
		what = "will be destroyed"
	case actReplace:
		what = "must be replaced"
	case actReadApply:
		what = "will be read during apply"
	}
	b.WriteString("  " + st.bold("# "+cv.addr) + " " + what + "\n")
	if cv.reason != "" {
		b.WriteString("  # " + cv.reason + "\n")
	}
	if cv.action == actReadApply {
		b.WriteString("  # (config refers to values not yet known)\n")
	}
	sym := headerSymbol(cv)
	pad := "  "
	switch len(sym) {
	case 2:
		pad = " "
	case 3:
		pad = ""
	}
	kind := "resource"
	if cv.mode == modeData {
		kind = "data"
	}
	fmt.Fprintf(b, "%s%s %s %s %s {\n", pad, st.symbol(sym), kind, quoteString(cv.typ), quoteString(cv.name))
	d := &differ{b: b, st: st}
	switch cv.action {
	case actCreate, actReadApply:
		keys := nonNullKeys(cv.after)
		w := keyWidthPlain(keys)
		for _, k := range keys {
			d.whole(6, "+", padKey(k, w)+" = ", cv.after.fields[k], "", "")
		}
	case actDelete:
		keys := nonNullKeys(cv.before)
		w := keyWidthPlain(keys)
		for _, k := range keys {
			d.whole(6, "-", padKey(k, w)+" = ", cv.before.fields[k], "", " -> null")
		}
	case actUpdate, actReplace:
		keys := unionKeys(cv.before.keys, cv.after.keys)
		var shown []string
		hidden := 0
		for _, k := range keys {
			if k != "id" && rvEqual(cv.before.fields[k], cv.after.fields[k]) {
				if !cv.before.fields[k].isNull() {
					hidden++
				}
				continue
			}
			shown = append(shown, k)
		}
		w := keyWidthPlain(shown)
		for _, k := range shown {
			note := ""
			if cv.forces[k] {
				note = " " + st.red("# forces replacement")
			}
			d.change(6, padKey(k, w), cv.before.fields[k], cv.after.fields[k], note)
		}
		d.hidden(8, hidden, "attribute")
	}
	b.WriteString("    }\n")
}

func nonNullKeys(v *rv) []string {
	var out []string
	for _, k := range v.keys {
		if !v.fields[k].isNull() {
			out = append(out, k)
		}
	}
	return out
}

func keyWidthPlain(keys []string) int {
	w := 0
	for _, k := range keys {
		w = max(w, len(k))
	}
	return w
}

func writeOutputChanges(b *bytes.Buffer, st style, outs []outputView) {
	if len(outs) == 0 {
		return
	}
	b.WriteString("\nChanges to Outputs:\n")
	names := make([]string, len(outs))
	for i, o := range outs {
		names[i] = o.name
	}
	w := keyWidthPlain(names)
	d := &differ{b: b, st: st}
	for _, o := range outs {
		d.change(2, padKey(o.name, w), o.before, o.after, "")
	}
}

func renderApplyLog(p *Plan, st style) []byte {
	var b bytes.Buffer
	for _, op := range p.ops {
		switch op.verb {
		case "create":
			b.WriteString(st.bold(op.addr+": Creating...") + "\n")
			b.WriteString(st.bold(op.addr+": Creation complete after 0s [id="+op.id+"]") + "\n")
		case "update":
			b.WriteString(st.bold(op.addr+": Modifying... [id="+op.id+"]") + "\n")
			b.WriteString(st.bold(op.addr+": Modifications complete after 0s [id="+op.id+"]") + "\n")
		case "delete":
			b.WriteString(st.bold(op.addr+": Destroying... [id="+op.id+"]") + "\n")
			b.WriteString(st.bold(op.addr+": Destruction complete after 0s") + "\n")
		case "read":
			b.WriteString(st.bold(op.addr+": Reading...") + "\n")
			b.WriteString(st.bold(op.addr+": Read complete after 0s [id="+op.id+"]") + "\n")
		}
	}
	if p.targeted {
		b.WriteString("\n")
		b.Write(renderDiags(hcl.Diagnostics{{
			Severity: hcl.DiagWarning,
			Summary:  "Applied changes may be incomplete",
			Detail: "The plan was made with -target, so some changes the configuration calls for may not have been applied. " +
				"Run a plan without targets to check for remaining changes.",
		}}, nil, st))
	}
	s := p.Summary
	if p.destroy {
		b.WriteString("\n" + st.boldGreen(fmt.Sprintf("Destroy complete! Resources: %d destroyed.", s.Destroy)) + "\n")
		return b.Bytes()
	}
	b.WriteString("\n" + st.boldGreen(fmt.Sprintf("Apply complete! Resources: %d added, %d changed, %d destroyed.", s.Add, s.Change, s.Destroy)) + "\n")
	if len(p.rootOutputs) == 0 {
		return b.Bytes()
	}
	b.WriteString("\n" + st.boldGreen("Outputs:") + "\n\n")
	for _, o := range p.rootOutputs {
		b.WriteString(o.Name + " = ")
		if o.Sensitive {
			b.WriteString("<sensitive>\n")
			continue
		}
		var v any
		if err := json.Unmarshal(o.Value, &v); err != nil {
			b.Write(o.Value)
		} else {
			plainValue(&b, 0, makeRV(v, nil))
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}
