package executor

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// maxModuleDepth stops a module that calls itself.
const maxModuleDepth = 16

// The block schemas below are read-only.
var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "terraform"},
	{Type: "provider", LabelNames: []string{"name"}},
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "output", LabelNames: []string{"name"}},
	{Type: "module", LabelNames: []string{"name"}},
	{Type: "resource", LabelNames: []string{"type", "name"}},
	{Type: "data", LabelNames: []string{"type", "name"}},
	{Type: "moved"},
	{Type: "import"},
	{Type: "removed"},
	{Type: "check", LabelNames: []string{"name"}},
}}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
		{Name: "nullable"}, {Name: "ephemeral"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true}, {Name: "error_message", Required: true},
}}

var outputSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "value", Required: true}, {Name: "description"}, {Name: "sensitive"},
		{Name: "depends_on"}, {Name: "ephemeral"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "precondition"}},
}

var moduleCallSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "source", Required: true}, {Name: "version"}, {Name: "count"}, {Name: "for_each"},
	{Name: "providers"}, {Name: "depends_on"},
}}

var resourceMetaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "count"}, {Name: "for_each"}, {Name: "provider"}, {Name: "depends_on"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "lifecycle"},
		{Type: "provisioner", LabelNames: []string{"type"}},
		{Type: "connection"},
	},
}

var lifecycleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "create_before_destroy"}, {Name: "prevent_destroy"}, {Name: "ignore_changes"},
		{Name: "replace_triggered_by"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "precondition"}, {Type: "postcondition"}},
}

// resourceMetaNames are the resource arguments that are not attributes.
var resourceMetaNames = map[string]bool{
	"count": true, "for_each": true, "provider": true, "depends_on": true,
	"lifecycle": true, "provisioner": true, "connection": true,
}

type module struct {
	dir       string   // "" for the root, else a slash path such as "modules/net"
	names     []string // module call names from the root
	vars      map[string]*variable
	locals    map[string]*local
	resources map[string]*resourceCfg // by "type.name" or "data.type.name"
	outputs   map[string]*outputCfg
	calls     map[string]*moduleCall
	// refAttrs holds, per resource key, attribute names that expressions in
	// this module read; those not set in configuration become computed.
	refAttrs map[string]map[string]bool
}

type variable struct {
	name       string
	typ        cty.Type
	defaults   *typeexpr.Defaults
	typed      bool
	def        cty.Value
	hasDefault bool
	sensitive  bool
	nullable   bool
	validation []validationCfg
	decl       hcl.Range
}

type validationCfg struct{ condition, message hcl.Expression }

type local struct {
	name string
	expr hcl.Expression
}

type outputCfg struct {
	name      string
	expr      hcl.Expression
	sensitive bool
	decl      hcl.Range
}

type moduleCall struct {
	name           string
	source         string
	count, forEach hcl.Expression
	args           map[string]*hcl.Attribute
	decl           hcl.Range
	child          *module
}

type resourceCfg struct {
	mode, typ, name string
	count, forEach  hcl.Expression
	syn             *hclsyntax.Body // native syntax body, walked directly
	jsonAttrs       hcl.Attributes  // JSON syntax: the non-meta arguments
	configNames     map[string]bool // top-level argument and block names
	preventDestroy  bool
	cbd             bool
	ignoreAll       bool
	ignore          map[string]bool
	decl            hcl.Range
}

func (r *resourceCfg) key() string {
	if r.mode == modeData {
		return "data." + r.typ + "." + r.name
	}
	return r.typ + "." + r.name
}

const (
	modeManaged = "managed"
	modeData    = "data"
)

type loader struct {
	files map[string][]byte
	diags hcl.Diagnostics
}

// loadConfig parses the root module and, recursively, local child modules.
func loadConfig(files map[string][]byte) (*module, hcl.Diagnostics) {
	l := &loader{files: files}
	root := l.loadModule("", nil, nil)
	return root, l.diags
}

func isConfigFile(name string) bool {
	return strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json")
}

func (l *loader) moduleFiles(dir string) []string {
	var names []string
	for name := range l.files {
		d := path.Dir(name)
		if d == "." {
			d = ""
		}
		if d == dir && isConfigFile(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func (l *loader) loadModule(dir string, names []string, callRange *hcl.Range) *module {
	m := &module{
		dir: dir, names: names,
		vars: map[string]*variable{}, locals: map[string]*local{},
		resources: map[string]*resourceCfg{}, outputs: map[string]*outputCfg{},
		calls: map[string]*moduleCall{}, refAttrs: map[string]map[string]bool{},
	}
	fileNames := l.moduleFiles(dir)
	if len(fileNames) == 0 && callRange != nil {
		l.diags = append(l.diags, errorDiag("Unreadable module directory",
			fmt.Sprintf("The directory %q contains no Terraform configuration files.", dir), callRange))
		return m
	}
	for _, name := range fileNames {
		base := path.Base(name)
		if base == "override.tf" || base == "override.tf.json" ||
			strings.HasSuffix(base, "_override.tf") || strings.HasSuffix(base, "_override.tf.json") {
			l.diags = append(l.diags, errorDiag("Override files are not supported",
				fmt.Sprintf("The sandbox executor does not merge override files; remove %s or merge it into the configuration.", name),
				&hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos}))
			continue
		}
		var f *hcl.File
		var diags hcl.Diagnostics
		if strings.HasSuffix(name, ".json") {
			f, diags = hcljson.Parse(l.files[name], name)
		} else {
			f, diags = hclsyntax.ParseConfig(l.files[name], name, hcl.InitialPos)
		}
		l.diags = append(l.diags, diags...)
		if f == nil || diags.HasErrors() {
			continue
		}
		l.loadFile(m, f, strings.HasSuffix(name, ".json"))
	}
	for _, name := range sortedKeys(m.calls) {
		call := m.calls[name]
		if len(names) >= maxModuleDepth {
			l.diags = append(l.diags, errorDiag("Module nesting too deep",
				fmt.Sprintf("Module %q is nested more than %d levels deep; does it call itself?", name, maxModuleDepth), &call.decl))
			continue
		}
		childDir := path.Clean(path.Join(dir, call.source))
		if childDir == "." {
			childDir = ""
		}
		if childDir == ".." || strings.HasPrefix(childDir, "../") {
			l.diags = append(l.diags, errorDiag("Module source outside the configuration",
				fmt.Sprintf("Module %q has source %q, which points outside the uploaded configuration.", name, call.source), &call.decl))
			continue
		}
		call.child = l.loadModule(childDir, append(append([]string(nil), names...), name), &call.decl)
		for argName, attr := range call.args {
			if _, ok := call.child.vars[argName]; !ok {
				l.diags = append(l.diags, errorDiag("Unsupported argument",
					fmt.Sprintf("An argument named %q is not expected here: module %q declares no such input variable.", argName, name), &attr.NameRange))
			}
		}
	}
	return m
}

func (l *loader) loadFile(m *module, f *hcl.File, isJSON bool) {
	content, diags := f.Body.Content(fileSchema)
	l.diags = append(l.diags, diags...)
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "variable":
			l.loadVariable(m, blk, isJSON)
		case "locals":
			attrs, diags := blk.Body.JustAttributes()
			l.diags = append(l.diags, diags...)
			for _, name := range sortedKeys(attrs) {
				attr := attrs[name]
				if _, dup := m.locals[name]; dup {
					l.diags = append(l.diags, errorDiag("Duplicate local value definition",
						fmt.Sprintf("A local value named %q was already defined. Local value names must be unique within a module.", name), &attr.NameRange))
					continue
				}
				m.locals[name] = &local{name: name, expr: attr.Expr}
				m.noteRefs(attr.Expr)
			}
		case "output":
			l.loadOutput(m, blk)
		case "module":
			l.loadModuleCall(m, blk)
		case "resource", "data":
			l.loadResource(m, blk)
		}
		// terraform, provider, moved, import, removed and check blocks do not
		// affect the simulated plan.
	}
}

func (l *loader) loadVariable(m *module, blk *hcl.Block, isJSON bool) {
	name := blk.Labels[0]
	if !hclsyntax.ValidIdentifier(name) {
		l.diags = append(l.diags, errorDiag("Invalid variable name", "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.", &blk.LabelRanges[0]))
		return
	}
	if _, dup := m.vars[name]; dup {
		l.diags = append(l.diags, errorDiag("Duplicate variable declaration",
			fmt.Sprintf("A variable named %q was already declared. Variable names must be unique within a module.", name), &blk.DefRange))
		return
	}
	v := &variable{name: name, typ: cty.DynamicPseudoType, nullable: true, decl: blk.DefRange}
	content, diags := blk.Body.Content(variableSchema)
	l.diags = append(l.diags, diags...)
	if attr, ok := content.Attributes["type"]; ok {
		expr := attr.Expr
		if isJSON {
			// In JSON the type is a string holding a type expression.
			var s string
			sv, d := attr.Expr.Value(nil)
			if !d.HasErrors() && sv.Type() == cty.String && sv.IsKnown() && !sv.IsNull() {
				s = sv.AsString()
			}
			parsed, d := hclsyntax.ParseExpression([]byte(s), attr.Expr.Range().Filename, attr.Expr.Range().Start)
			if d.HasErrors() {
				l.diags = append(l.diags, d...)
				return
			}
			expr = parsed
		}
		ty, defaults, d := typeexpr.TypeConstraintWithDefaults(expr)
		l.diags = append(l.diags, d...)
		if d.HasErrors() {
			return
		}
		v.typ, v.defaults, v.typed = ty, defaults, true
	}
	for _, flag := range []struct {
		name string
		dst  *bool
	}{{"sensitive", &v.sensitive}, {"nullable", &v.nullable}} {
		if attr, ok := content.Attributes[flag.name]; ok {
			b, ok := l.literalBool(attr)
			if ok {
				*flag.dst = b
			}
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		val, d := attr.Expr.Value(nil)
		l.diags = append(l.diags, d...)
		if !d.HasErrors() {
			if v.defaults != nil {
				val = v.defaults.Apply(val)
			}
			conv, err := convert.Convert(val, v.typ)
			if err != nil {
				l.diags = append(l.diags, errorDiag("Invalid default value for variable",
					fmt.Sprintf("This default value is not compatible with the variable's type constraint: %s.", err), attr.Expr.Range().Ptr()))
			} else {
				v.def, v.hasDefault = conv, true
			}
		}
	}
	for _, vb := range content.Blocks {
		vc, d := vb.Body.Content(validationSchema)
		l.diags = append(l.diags, d...)
		if d.HasErrors() {
			continue
		}
		v.validation = append(v.validation, validationCfg{condition: vc.Attributes["condition"].Expr, message: vc.Attributes["error_message"].Expr})
	}
	m.vars[name] = v
}

func (l *loader) literalBool(attr *hcl.Attribute) (bool, bool) {
	val, d := attr.Expr.Value(nil)
	if !d.HasErrors() {
		val, err := convert.Convert(val, cty.Bool)
		if err == nil && val.IsKnown() && !val.IsNull() {
			return val.True(), true
		}
	}
	l.diags = append(l.diags, errorDiag("Invalid value",
		fmt.Sprintf("The %q argument must be a literal true or false.", attr.Name), attr.Expr.Range().Ptr()))
	return false, false
}

func (l *loader) loadOutput(m *module, blk *hcl.Block) {
	name := blk.Labels[0]
	if _, dup := m.outputs[name]; dup {
		l.diags = append(l.diags, errorDiag("Duplicate output definition",
			fmt.Sprintf("An output named %q was already defined. Output names must be unique within a module.", name), &blk.DefRange))
		return
	}
	content, diags := blk.Body.Content(outputSchema)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return
	}
	o := &outputCfg{name: name, expr: content.Attributes["value"].Expr, decl: blk.DefRange}
	if attr, ok := content.Attributes["sensitive"]; ok {
		o.sensitive, _ = l.literalBool(attr)
	}
	m.outputs[name] = o
	m.noteRefs(o.expr)
}

func (l *loader) loadModuleCall(m *module, blk *hcl.Block) {
	name := blk.Labels[0]
	if _, dup := m.calls[name]; dup {
		l.diags = append(l.diags, errorDiag("Duplicate module call",
			fmt.Sprintf("A module call named %q was already defined. Module calls must have unique names within a module.", name), &blk.DefRange))
		return
	}
	content, remain, diags := blk.Body.PartialContent(moduleCallSchema)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return
	}
	srcAttr := content.Attributes["source"]
	srcVal, d := srcAttr.Expr.Value(nil)
	if d.HasErrors() || srcVal.Type() != cty.String || srcVal.IsNull() {
		l.diags = append(l.diags, errorDiag("Invalid module source", "The module source must be a literal string.", srcAttr.Expr.Range().Ptr()))
		return
	}
	source := srcVal.AsString()
	if !strings.HasPrefix(source, "./") && !strings.HasPrefix(source, "../") {
		l.diags = append(l.diags, errorDiag("Unsupported module source",
			fmt.Sprintf("Module %q uses source %q. The sandbox executor only supports local modules whose source starts with \"./\" or \"../\"; registry, Git and other remote sources cannot be installed here.", name, source),
			srcAttr.Expr.Range().Ptr()))
		return
	}
	call := &moduleCall{name: name, source: source, decl: blk.DefRange, args: map[string]*hcl.Attribute{}}
	if a, ok := content.Attributes["count"]; ok {
		call.count = a.Expr
		m.noteRefs(a.Expr)
	}
	if a, ok := content.Attributes["for_each"]; ok {
		call.forEach = a.Expr
		m.noteRefs(a.Expr)
	}
	if call.count != nil && call.forEach != nil {
		l.diags = append(l.diags, errorDiag("Invalid combination of \"count\" and \"for_each\"",
			"The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used.", call.forEach.Range().Ptr()))
		return
	}
	attrs, d := remain.JustAttributes()
	l.diags = append(l.diags, d...)
	for n, a := range attrs {
		call.args[n] = a
		m.noteRefs(a.Expr)
	}
	m.calls[name] = call
}

func (l *loader) loadResource(m *module, blk *hcl.Block) {
	r := &resourceCfg{mode: modeManaged, typ: blk.Labels[0], name: blk.Labels[1], decl: blk.DefRange, configNames: map[string]bool{}}
	what := "resource"
	if blk.Type == "data" {
		r.mode, what = modeData, "data source"
	}
	if _, dup := m.resources[r.key()]; dup {
		l.diags = append(l.diags, errorDiag("Duplicate "+what+" configuration",
			fmt.Sprintf("A %s %q %q was already declared. Names must be unique per type in each module.", blk.Type, r.typ, r.name), &blk.DefRange))
		return
	}
	content, remain, diags := blk.Body.PartialContent(resourceMetaSchema)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return
	}
	if a, ok := content.Attributes["count"]; ok {
		r.count = a.Expr
		m.noteRefs(a.Expr)
	}
	if a, ok := content.Attributes["for_each"]; ok {
		r.forEach = a.Expr
		m.noteRefs(a.Expr)
	}
	if r.count != nil && r.forEach != nil {
		l.diags = append(l.diags, errorDiag("Invalid combination of \"count\" and \"for_each\"",
			"The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used.", r.forEach.Range().Ptr()))
		return
	}
	for _, lb := range content.Blocks {
		if lb.Type == "lifecycle" {
			l.loadLifecycle(r, lb)
		}
	}
	if syn, ok := blk.Body.(*hclsyntax.Body); ok {
		r.syn = syn
		for name, a := range syn.Attributes {
			if !resourceMetaNames[name] {
				r.configNames[name] = true
				m.noteRefs(a.Expr)
			}
		}
		for _, b := range syn.Blocks {
			switch {
			case resourceMetaNames[b.Type]:
			case b.Type == "dynamic" && len(b.Labels) == 1:
				r.configNames[b.Labels[0]] = true
				m.noteBodyRefs(b.Body)
			default:
				r.configNames[b.Type] = true
				m.noteBodyRefs(b.Body)
			}
		}
	} else {
		attrs, d := remain.JustAttributes()
		l.diags = append(l.diags, d...)
		r.jsonAttrs = hcl.Attributes{}
		for name, a := range attrs {
			if name == "//" {
				continue
			}
			r.jsonAttrs[name] = a
			r.configNames[name] = true
			m.noteRefs(a.Expr)
		}
	}
	m.resources[r.key()] = r
}

func (l *loader) loadLifecycle(r *resourceCfg, blk *hcl.Block) {
	content, diags := blk.Body.Content(lifecycleSchema)
	l.diags = append(l.diags, diags...)
	if a, ok := content.Attributes["prevent_destroy"]; ok {
		r.preventDestroy, _ = l.literalBool(a)
	}
	if a, ok := content.Attributes["create_before_destroy"]; ok {
		r.cbd, _ = l.literalBool(a)
	}
	a, ok := content.Attributes["ignore_changes"]
	if !ok {
		return
	}
	if kw := hcl.ExprAsKeyword(a.Expr); kw == "all" {
		r.ignoreAll = true
		return
	}
	exprs, d := hcl.ExprList(a.Expr)
	if d.HasErrors() {
		l.diags = append(l.diags, errorDiag("Invalid ignore_changes", "The ignore_changes argument must be a list of attribute names, or the keyword all.", a.Expr.Range().Ptr()))
		return
	}
	r.ignore = map[string]bool{}
	for _, e := range exprs {
		trav, d := hcl.RelTraversalForExpr(e)
		if d.HasErrors() || len(trav) == 0 {
			l.diags = append(l.diags, errorDiag("Invalid ignore_changes", "Each ignore_changes entry must be an attribute name.", e.Range().Ptr()))
			continue
		}
		if step, ok := trav[0].(hcl.TraverseAttr); ok {
			r.ignore[step.Name] = true
		}
	}
}

// noteBodyRefs records references made anywhere inside a nested block.
func (m *module) noteBodyRefs(b *hclsyntax.Body) {
	for _, a := range b.Attributes {
		m.noteRefs(a.Expr)
	}
	for _, nb := range b.Blocks {
		m.noteBodyRefs(nb.Body)
	}
}

// noteRefs records which attributes of which resources expr reads, so that
// attributes a resource's configuration does not set can be computed.
func (m *module) noteRefs(expr hcl.Expression) {
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		for _, t := range expr.Variables() {
			m.noteTraversal(t, nil)
		}
		return
	}
	_ = hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		switch n := n.(type) {
		case *hclsyntax.ScopeTraversalExpr:
			m.noteTraversal(n.Traversal, nil)
		case *hclsyntax.SplatExpr:
			// aws_x.y[*].arn
			if src, ok := n.Source.(*hclsyntax.ScopeTraversalExpr); ok {
				if rel, ok := n.Each.(*hclsyntax.RelativeTraversalExpr); ok {
					m.noteTraversal(src.Traversal, rel.Traversal)
				}
			}
		case *hclsyntax.ForExpr:
			// [for b in aws_x.y : b.arn] and values(aws_x.y)
			coll := n.CollExpr
			if call, ok := coll.(*hclsyntax.FunctionCallExpr); ok && call.Name == "values" && len(call.Args) == 1 {
				coll = call.Args[0]
			}
			src, ok := coll.(*hclsyntax.ScopeTraversalExpr)
			if !ok || !isWholeResource(src.Traversal) {
				break
			}
			for _, sub := range []hclsyntax.Expression{n.KeyExpr, n.ValExpr, n.CondExpr} {
				if sub == nil {
					continue
				}
				_ = hclsyntax.VisitAll(sub, func(inner hclsyntax.Node) hcl.Diagnostics {
					if st, ok := inner.(*hclsyntax.ScopeTraversalExpr); ok && st.Traversal.RootName() == n.ValVar {
						m.noteTraversal(src.Traversal, st.Traversal[1:])
					}
					return nil
				})
			}
		case *hclsyntax.RelativeTraversalExpr:
			// aws_x.y[count.index].arn
			if idx, ok := n.Source.(*hclsyntax.IndexExpr); ok {
				if src, ok := idx.Collection.(*hclsyntax.ScopeTraversalExpr); ok {
					m.noteTraversal(append(src.Traversal[:len(src.Traversal):len(src.Traversal)], hcl.TraverseIndex{Key: cty.NumberIntVal(0)}), n.Traversal)
				}
			}
		}
		return nil
	})
}

// isWholeResource reports a traversal naming a resource and nothing more.
func isWholeResource(t hcl.Traversal) bool {
	switch t.RootName() {
	case "var", "local", "module", "count", "each", "path", "terraform", "self":
		return false
	case "data":
		return len(t) == 3
	}
	return len(t) == 2
}

func (m *module) noteTraversal(t hcl.Traversal, rest hcl.Traversal) {
	var key string
	var remainder hcl.Traversal
	switch root := t.RootName(); root {
	case "var", "local", "module", "count", "each", "path", "terraform", "self":
		return
	case "data":
		if len(t) < 3 {
			return
		}
		typ, ok1 := t[1].(hcl.TraverseAttr)
		name, ok2 := t[2].(hcl.TraverseAttr)
		if !ok1 || !ok2 {
			return
		}
		key, remainder = "data."+typ.Name+"."+name.Name, t[3:]
	default:
		if len(t) < 2 {
			return
		}
		name, ok := t[1].(hcl.TraverseAttr)
		if !ok {
			return
		}
		key, remainder = root+"."+name.Name, t[2:]
	}
	remainder = append(remainder[:len(remainder):len(remainder)], rest...)
	if len(remainder) > 0 {
		if _, ok := remainder[0].(hcl.TraverseIndex); ok {
			remainder = remainder[1:]
		}
	}
	if len(remainder) == 0 {
		return
	}
	attr, ok := remainder[0].(hcl.TraverseAttr)
	if !ok {
		return
	}
	if m.refAttrs[key] == nil {
		m.refAttrs[key] = map[string]bool{}
	}
	m.refAttrs[key][attr.Name] = true
}

// computedAttrs lists the attributes of r that are read but not configured.
func (m *module) computedAttrs(r *resourceCfg) []string {
	var out []string
	for name := range m.refAttrs[r.key()] {
		if name != "id" && !r.configNames[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// findModule returns the configuration of a module by call names.
func (m *module) findModule(names []string) *module {
	cur := m
	for _, n := range names {
		call, ok := cur.calls[n]
		if !ok || call.child == nil {
			return nil
		}
		cur = call.child
	}
	return cur
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
