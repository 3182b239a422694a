package workspace

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// An output as the API stores it: value and type are JSON documents (the
// type in cty's JSON form, e.g. "string" or ["list","string"]).

// decodeOutput turns an output's JSON value and type into a cty value; an
// unreadable type falls back to the type implied by the value.
func decodeOutput(valueJSON, typeJSON string) (cty.Value, error) {
	ty, err := ctyjson.UnmarshalType([]byte(typeJSON))
	if err != nil {
		if ty, err = ctyjson.ImpliedType([]byte(valueJSON)); err != nil {
			return cty.NilVal, err
		}
	}
	return ctyjson.Unmarshal([]byte(valueJSON), ty)
}

// formatValue renders a value the way `terraform output` does: strings
// quoted (heredocs when multi-line), collections wrapped in tolist(),
// toset() and tomap(), objects and tuples as literals, nested values
// indented by two spaces.
func formatValue(v cty.Value, indent int) string {
	ty := v.Type()
	if v.IsNull() {
		switch {
		case ty == cty.String:
			return "tostring(null)"
		case ty == cty.Number:
			return "tonumber(null)"
		case ty == cty.Bool:
			return "tobool(null)"
		case ty.IsListType():
			return "tolist(null) /* of " + ty.ElementType().FriendlyName() + " */"
		case ty.IsSetType():
			return "toset(null) /* of " + ty.ElementType().FriendlyName() + " */"
		case ty.IsMapType():
			return "tomap(null) /* of " + ty.ElementType().FriendlyName() + " */"
		case ty == cty.DynamicPseudoType:
			return "null"
		}
		return "null /* " + ty.FriendlyName() + " */"
	}
	if !v.IsKnown() {
		return "(known after apply)"
	}
	switch {
	case ty == cty.String:
		if s, ok := heredoc(v.AsString(), indent); ok {
			return s
		}
		return strconv.Quote(v.AsString())
	case ty == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case ty == cty.Bool:
		return strconv.FormatBool(v.True())
	case ty.IsObjectType():
		return mapping(v, indent)
	case ty.IsTupleType():
		return sequence(v, indent)
	case ty.IsListType():
		return "tolist(" + sequence(v, indent) + ")"
	case ty.IsSetType():
		return "toset(" + sequence(v, indent) + ")"
	case ty.IsMapType():
		return "tomap(" + mapping(v, indent) + ")"
	}
	return fmt.Sprintf("%#v", v)
}

// heredoc renders a multi-line string as <<EOT ... EOT (<<- when nested),
// lengthening the delimiter until no line equals it.
func heredoc(s string, indent int) (string, bool) {
	lines := strings.Split(s, "\n")
	if len(lines) < 2 {
		return "", false
	}
	delim := "EOT"
	for clash := true; clash; {
		clash = false
		for _, l := range lines {
			if strings.TrimSpace(l) == delim {
				delim += "_"
				clash = true
				break
			}
		}
	}
	op := "<<"
	if indent > 0 {
		op = "<<-"
	}
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	b.WriteString(op + delim)
	for _, l := range lines {
		b.WriteString("\n" + pad + l)
	}
	b.WriteString("\n" + pad + delim)
	return b.String(), true
}

func mapping(v cty.Value, indent int) string {
	var b strings.Builder
	b.WriteByte('{')
	pad := strings.Repeat(" ", indent+2)
	n := 0
	for it := v.ElementIterator(); it.Next(); n++ {
		k, e := it.Element()
		b.WriteString("\n" + pad + formatValue(k, indent+2) + " = " + formatValue(e, indent+2))
	}
	if n > 0 {
		b.WriteString("\n" + strings.Repeat(" ", indent))
	}
	b.WriteByte('}')
	return b.String()
}

func sequence(v cty.Value, indent int) string {
	var b strings.Builder
	b.WriteByte('[')
	pad := strings.Repeat(" ", indent+2)
	n := 0
	for it := v.ElementIterator(); it.Next(); n++ {
		_, e := it.Element()
		b.WriteString("\n" + pad + formatValue(e, indent+2) + ",")
	}
	if n > 0 {
		b.WriteString("\n" + strings.Repeat(" ", indent))
	}
	b.WriteByte(']')
	return b.String()
}

// rawValue is `terraform output -raw`: strings, numbers and booleans only.
func rawValue(name string, v cty.Value) (string, error) {
	if v.IsNull() {
		return "", fmt.Errorf("output %q is null: -raw cannot print it", name)
	}
	switch v.Type() {
	case cty.String:
		return v.AsString(), nil
	case cty.Number:
		return v.AsBigFloat().Text('f', -1), nil
	case cty.Bool:
		return strconv.FormatBool(v.True()), nil
	}
	return "", fmt.Errorf("output %q is a %s: --raw prints only strings, numbers and booleans; use -o json", name, v.Type().FriendlyName())
}
