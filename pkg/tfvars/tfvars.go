// Package tfvars collects Terraform input variables for a Tharsis run from
// the places Terraform itself reads them, with Terraform's precedence:
//
//  1. environment variables TF_VAR_<name> (lowest);
//  2. <dir>/terraform.tfvars, then <dir>/terraform.tfvars.json;
//  3. <dir>/*.auto.tfvars and *.auto.tfvars.json, in lexical order of the
//     file names (not recursive);
//  4. --tf-var-file and --tf-var flags interleaved in command-line order
//     (highest): a later flag overrides an earlier one whatever its kind, as
//     Terraform's -var-file and -var do. (The reference CLI applied all
//     variable files before all -tf-var flags.)
//
// Files are parsed with hashicorp/hcl/v2 (native syntax, or JSON for names
// ending in ".json"): only top-level attributes are allowed, and their
// expressions are evaluated without variables or functions, as Terraform
// evaluates .tfvars files.
//
// Values are encoded for the Tharsis API: a string is sent as its raw text,
// any other value (number, bool, list, tuple, map, object, null) as its
// JSON encoding, which the Tharsis job executor parses as HCL for variables
// of non-string types. --tf-var values and TF_VAR_ values are raw text and
// are sent as given.
//
//	vars, err := tfvars.Load(dir, os.Environ(), []tfvars.Arg{
//		tfvars.FileArg("prod.tfvars"), tfvars.VarArg("region=eu-west-1"),
//	}, true)
package tfvars

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Variable is one Terraform variable value.
type Variable struct {
	Key   string
	Value string // raw for strings, JSON for every other type
	// Source tells where the value came from: "terraform.tfvars:3",
	// "--tf-var #2", "TF_VAR_region".
	Source string
}

// ArgKind distinguishes the two variable flags.
type ArgKind uint8

const (
	// KindFile is a --tf-var-file flag: Value is a path.
	KindFile ArgKind = iota + 1
	// KindVar is a --tf-var flag: Value is "key=value".
	KindVar
)

// Arg is one --tf-var-file or --tf-var flag; Load takes them in
// command-line order.
type Arg struct {
	Kind  ArgKind
	Value string
}

// FileArg returns a --tf-var-file argument.
func FileArg(path string) Arg { return Arg{Kind: KindFile, Value: path} }

// VarArg returns a --tf-var argument.
func VarArg(kv string) Arg { return Arg{Kind: KindVar, Value: kv} }

const envPrefix = "TF_VAR_"

// Load returns the variables for a run, sorted by key, with the value of
// highest precedence for each key (see the package comment). environ holds
// "NAME=value" entries (os.Environ(); nil for none). With autoLoad false the
// files in dir are not read (for a run from a module source, where dir is
// not the configuration).
func Load(dir string, environ []string, args []Arg, autoLoad bool) ([]Variable, error) {
	vals := map[string]Variable{}
	set := func(vs []Variable) {
		for _, v := range vs {
			vals[v.Key] = v
		}
	}
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		key, ok := strings.CutPrefix(name, envPrefix)
		if !ok || key == "" { // Terraform ignores a bare TF_VAR_ too
			continue
		}
		if err := checkKey(key); err != nil {
			return nil, fmt.Errorf("environment variable %s: %w", name, err)
		}
		set([]Variable{{Key: key, Value: value, Source: name}})
	}
	if autoLoad {
		files, err := autoFiles(dir)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			vs, err := ParseFile(f)
			if err != nil {
				return nil, err
			}
			set(vs)
		}
	}
	nFile, nVar := 0, 0
	for _, a := range args {
		switch a.Kind {
		case KindFile:
			nFile++
			if !strings.HasSuffix(a.Value, ".tfvars") && !strings.HasSuffix(a.Value, ".tfvars.json") {
				return nil, fmt.Errorf("--tf-var-file #%d %q: a variables file name must end in .tfvars or .tfvars.json", nFile, a.Value)
			}
			vs, err := ParseFile(a.Value)
			if err != nil {
				return nil, fmt.Errorf("--tf-var-file #%d: %w", nFile, err)
			}
			set(vs)
		case KindVar:
			nVar++
			v, err := ParseVarFlag(a.Value, nVar)
			if err != nil {
				return nil, err
			}
			set([]Variable{v})
		default:
			return nil, fmt.Errorf("tfvars: argument of unknown kind %d", a.Kind)
		}
	}
	out := make([]Variable, 0, len(vals))
	for _, v := range vals {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// autoFiles lists the variable files Terraform loads by itself from dir, in
// the order it applies them.
func autoFiles(dir string) ([]string, error) {
	var files []string
	for _, name := range []string{"terraform.tfvars", "terraform.tfvars.json"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	// os.ReadDir sorts by name, as Terraform does, mixing both suffixes.
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".auto.tfvars") || strings.HasSuffix(n, ".auto.tfvars.json")) {
			files = append(files, filepath.Join(dir, n))
		}
	}
	return files, nil
}

// ParseVarFlag parses the value of the pos-th --tf-var flag (1-based):
// "key=value", split at the first "=". The value is kept exactly as given;
// the key must be a valid Terraform variable name.
func ParseVarFlag(s string, pos int) (Variable, error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok {
		return Variable{}, fmt.Errorf("--tf-var #%d: expected key=value, got no \"=\"", pos)
	}
	if err := checkKey(key); err != nil {
		return Variable{}, fmt.Errorf("--tf-var #%d: %w: expected key=value", pos, err)
	}
	return Variable{Key: key, Value: value, Source: fmt.Sprintf("--tf-var #%d", pos)}, nil
}

// checkKey validates a variable name as Terraform does: an HCL identifier
// (letters, digits, underscores and dashes, not starting with a digit or a
// dash).
func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty variable name")
	case strings.TrimSpace(key) != key || strings.ContainsAny(key, " \t\r\n"):
		return fmt.Errorf("variable name %q contains whitespace", key)
	case !hclsyntax.ValidIdentifier(key):
		return fmt.Errorf("%q is not a valid Terraform variable name", key)
	}
	return nil
}

// ParseFile reads a variables file: JSON when the name ends in ".json",
// HCL native syntax otherwise.
func ParseFile(path string) ([]Variable, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("reading variables file %s: %w", path, err)
	}
	return Parse(src, path)
}

// Parse parses the content of a variables file named filename (used for
// the format and in messages).
func Parse(src []byte, filename string) ([]Variable, error) {
	var (
		file  *hcl.File
		diags hcl.Diagnostics
	)
	if strings.HasSuffix(filename, ".json") {
		file, diags = hcljson.Parse(src, filename)
	} else {
		file, diags = hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	}
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	attrs, diags := file.Body.JustAttributes()
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	vars := make([]Variable, 0, len(attrs))
	for name, attr := range attrs {
		pos := attr.NameRange.Start
		if err := checkKey(name); err != nil {
			return nil, fmt.Errorf("%s:%d:%d: %w", filename, pos.Line, pos.Column, err)
		}
		val, diags := attr.Expr.Value(nil)
		if diags.HasErrors() {
			return nil, diagError(diags)
		}
		s, err := encode(val)
		if err != nil {
			at := attr.Expr.Range().Start
			return nil, fmt.Errorf("%s:%d:%d: variable %s: %w", filename, at.Line, at.Column, name, err)
		}
		vars = append(vars, Variable{Key: name, Value: s, Source: fmt.Sprintf("%s:%d", filename, pos.Line)})
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].Key < vars[j].Key })
	return vars, nil
}

// encode turns a value into what the Tharsis API takes: raw text for a
// string, JSON for anything else.
func encode(v cty.Value) (string, error) {
	if !v.IsWhollyKnown() {
		return "", errors.New("value is not known") // impossible without variables; kept as a guard
	}
	if v.Type() == cty.String && !v.IsNull() {
		return v.AsString(), nil
	}
	if err := checkNumbers(v); err != nil {
		return "", err
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// maxExp bounds the binary exponent of numbers (2^±4096, about 10^±1233):
// far beyond any real variable, yet the JSON encoding writes numbers out in
// full, so "1e10000000" would take seconds to encode into a 10 MB value and
// a few more digits in the exponent would take hours.
const maxExp = 4096

// checkNumbers rejects numbers that JSON cannot represent (infinities) or
// that are too large or small to write out in full.
func checkNumbers(v cty.Value) error {
	return cty.Walk(v, func(_ cty.Path, v cty.Value) (bool, error) {
		if v.IsNull() || !v.IsKnown() || v.Type() != cty.Number {
			return true, nil
		}
		f := v.AsBigFloat()
		if f.IsInf() {
			return false, errors.New("infinite numbers are not allowed")
		}
		if e := f.MantExp(nil); f.Sign() != 0 && (e > maxExp || e < -maxExp) {
			// Not formatted: writing such a number out is the slow part.
			return false, fmt.Errorf("number out of range: about 10^%d (the limit is 10^±1233)", int(float64(e)*0.30103))
		}
		return true, nil
	})
}

// diagError formats HCL error diagnostics as "file:line:col: summary: detail",
// one per line.
func diagError(diags hcl.Diagnostics) error {
	var errs []error
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if r := d.Subject; r != nil {
			msg = fmt.Sprintf("%s:%d:%d: %s", r.Filename, r.Start.Line, r.Start.Column, msg)
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}
