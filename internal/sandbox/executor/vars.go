package executor

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
)

// rootValue is a root module variable's value before type conversion.
type rootValue struct {
	val    cty.Value
	source string     // where it came from, for messages
	rng    *hcl.Range // the defining expression, when it came from a file
}

// rootValues collects values for the root module's variables: automatically
// loaded .tfvars files first, then the request's run variables, which win.
// It returns the names of request variables the module does not declare.
func rootValues(root *module, files map[string][]byte, raw map[string]string, sensitive []string) (map[string]rootValue, []string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := map[string]rootValue{}
	for _, name := range autoVarFiles(files) {
		var f *hcl.File
		var d hcl.Diagnostics
		if strings.HasSuffix(name, ".json") {
			f, d = hcljson.Parse(files[name], name)
		} else {
			f, d = hclsyntax.ParseConfig(files[name], name, hcl.InitialPos)
		}
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		attrs, d := f.Body.JustAttributes()
		diags = append(diags, d...)
		for _, k := range sortedKeys(attrs) {
			a := attrs[k]
			v, d := a.Expr.Value(nil)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			// Terraform only warns about undeclared values in files.
			if _, ok := root.vars[k]; ok {
				out[k] = rootValue{val: v, source: name, rng: a.Expr.Range().Ptr()}
			}
		}
	}
	isSensitive := map[string]bool{}
	for _, k := range sensitive {
		isSensitive[k] = true
	}
	var undeclared []string
	for _, k := range sortedKeys(raw) {
		decl, ok := root.vars[k]
		if !ok {
			undeclared = append(undeclared, k)
			continue
		}
		if isSensitive[k] && !decl.sensitive {
			diags = append(diags, errorDiag("Sensitive value for a non-sensitive variable",
				fmt.Sprintf("The run variable %q is sensitive, but its declaration in %s does not set sensitive = true. Sensitive variables can only be passed to variables declared sensitive.", k, decl.decl.Filename), &decl.decl))
			continue
		}
		v, err := parseRaw(decl, raw[k], decl.sensitive || isSensitive[k])
		if err != nil {
			diags = append(diags, errorDiag("Invalid value for input variable",
				fmt.Sprintf("The value given for variable %q is not valid: %s.", k, err), &decl.decl))
			continue
		}
		out[k] = rootValue{val: v, source: "run variable"}
	}
	return out, undeclared, diags
}

// parseRaw interprets a run variable's raw text the way the Tharsis job
// executor does: as a plain string for string variables (and for untyped
// ones whose text is not a literal expression), else as an HCL expression.
func parseRaw(decl *variable, raw string, hide bool) (cty.Value, error) {
	if decl.typed && decl.typ == cty.String {
		return cty.StringVal(raw), nil
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), "<value for var."+decl.name+">", hcl.InitialPos)
	parsed := !diags.HasErrors()
	if parsed {
		v, d := expr.Value(nil)
		if !d.HasErrors() {
			return v, nil
		}
	}
	if !decl.typed {
		return cty.StringVal(raw), nil
	}
	shown := raw
	if len(shown) > 40 {
		shown = shown[:40] + "..."
	}
	shown = quoteString(shown)
	if hide {
		shown = "the (sensitive) value"
	}
	msg := fmt.Sprintf("%s is not a valid %s value", shown, decl.typ.FriendlyNameForConstraint())
	if !parsed {
		msg += " (" + strings.ToLower(firstSummary(diags)) + ")"
	}
	return cty.NilVal, errors.New(msg)
}

func firstSummary(diags hcl.Diagnostics) string {
	if len(diags) == 0 {
		return "invalid expression"
	}
	if d := diags[0]; d.Detail != "" {
		return strings.TrimSuffix(d.Detail, ".")
	}
	return diags[0].Summary
}

// autoVarFiles lists the root module's terraform.tfvars and *.auto.tfvars
// files (and their .json forms) in the order Terraform loads them.
func autoVarFiles(files map[string][]byte) []string {
	var first, auto []string
	for name := range files {
		if path.Dir(name) != "." {
			continue
		}
		switch {
		case name == "terraform.tfvars" || name == "terraform.tfvars.json":
			first = append(first, name)
		case strings.HasSuffix(name, ".auto.tfvars") || strings.HasSuffix(name, ".auto.tfvars.json"):
			auto = append(auto, name)
		}
	}
	sort.Strings(first)
	sort.Strings(auto)
	return append(first, auto...)
}
