package executor

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// depSet holds resource node IDs ("<module instance>|<resource key>").
type depSet map[string]bool

func (d depSet) merge(o depSet) {
	for k := range o {
		d[k] = true
	}
}

type node struct {
	busy bool
	val  cty.Value
	deps depSet
}

// modInst is one instance of a module: the root, or one expansion of a
// module call.
type modInst struct {
	cfg    *module
	addr   string // "" for the root, else e.g. module.a["x"].module.b
	parent *modInst
	call   *moduleCall
	key    instanceKey
	// The call's count.index or each.* for this instance, for its arguments.
	countIndex, eachKey, eachValue cty.Value
}

func (mi *modInst) describe() string {
	if mi.addr == "" {
		return "the root module"
	}
	return mi.addr
}

// maxInstances bounds count and for_each so a configuration cannot make
// the sandbox plan for minutes.
const maxInstances = 10000

// expansion is the result of evaluating count or for_each.
type expansion struct {
	kind   int // keyNone, keyInt, keyString
	count  int
	keys   []string
	values map[string]cty.Value
}

func (x expansion) instanceKeys() []instanceKey {
	switch x.kind {
	case keyInt:
		out := make([]instanceKey, x.count)
		for i := range out {
			out[i] = instanceKey{kind: keyInt, i: i}
		}
		return out
	case keyString:
		out := make([]instanceKey, len(x.keys))
		for i, k := range x.keys {
			out[i] = instanceKey{kind: keyString, s: k}
		}
		return out
	}
	return []instanceKey{{}}
}

// scope is where an expression is evaluated.
type scope struct {
	mod                *modInst
	hasCount, hasEach  bool
	countIndex         cty.Value
	eachKey, eachValue cty.Value
	extra              map[string]cty.Value // dynamic block iterators
	forbidSelfResource string
}

func (s *scope) withKey(x expansion, k instanceKey) *scope {
	c := *s
	switch k.kind {
	case keyInt:
		c.hasCount, c.countIndex = true, cty.NumberIntVal(int64(k.i))
	case keyString:
		c.hasEach, c.eachKey, c.eachValue = true, cty.StringVal(k.s), x.values[k.s]
	}
	return &c
}

// selector decides which resources a plan may change.
type selector struct {
	all         bool
	refreshOnly bool
	addrs       map[string]bool // with targets: the selected instances
}

func (s selector) managed(addr string) bool {
	if s.refreshOnly {
		return false
	}
	return s.all || s.addrs[addr]
}

func (s selector) data(addr string) bool { return s.all || s.refreshOnly || s.addrs[addr] }

// evaluator evaluates one configuration against the prior state.
type evaluator struct {
	p     *planner
	sel   selector
	nodes map[string]*node
	root  *modInst
	diags hcl.Diagnostics

	resources []*resEval            // in evaluation order
	modules   map[string]bool       // expanded module instance addresses
	calls     map[string][]*modInst // "<parent>|<call>" -> instances
	callKinds map[string]int        // "<parent>|<call>" -> key kind
	outputs   map[string]cty.Value  // root outputs, marked
	resByID   map[string]*resEval   // node ID -> evaluation
}

func newEvaluator(p *planner, sel selector) *evaluator {
	e := &evaluator{
		p: p, sel: sel, nodes: map[string]*node{},
		modules: map[string]bool{"": true}, calls: map[string][]*modInst{}, callKinds: map[string]int{},
		outputs: map[string]cty.Value{}, resByID: map[string]*resEval{},
	}
	e.root = &modInst{cfg: p.root}
	return e
}

func (e *evaluator) errorf(rng *hcl.Range, summary, format string, args ...any) {
	e.diags = append(e.diags, errorDiag(summary, fmt.Sprintf(format, args...), rng))
}

// memo evaluates f once per id and reports reference cycles.
func (e *evaluator) memo(id, what string, rng hcl.Range, f func() (cty.Value, depSet)) (cty.Value, depSet) {
	if n, ok := e.nodes[id]; ok {
		if n.busy {
			e.errorf(&rng, "Cycle in references", "%s refers to itself, directly or through other values.", what)
			return cty.DynamicVal, depSet{}
		}
		return n.val, n.deps
	}
	n := &node{busy: true}
	e.nodes[id] = n
	v, deps := f()
	n.busy, n.val, n.deps = false, v, deps
	return v, deps
}

// run evaluates the whole configuration.
func (e *evaluator) run() {
	e.walk(e.root)
}

// validateOnly evaluates just the root variables (destroy plans).
func (e *evaluator) validateOnly() {
	for _, name := range sortedKeys(e.root.cfg.vars) {
		e.variable(e.root, name, e.root.cfg.vars[name].decl)
	}
}

func (e *evaluator) walk(mi *modInst) {
	cfg := mi.cfg
	for _, name := range sortedKeys(cfg.vars) {
		e.variable(mi, name, cfg.vars[name].decl)
	}
	for _, name := range sortedKeys(cfg.locals) {
		e.local(mi, name, hcl.Range{})
	}
	for _, key := range sortedKeys(cfg.resources) {
		e.resource(mi, cfg.resources[key])
	}
	for _, name := range sortedKeys(cfg.calls) {
		for _, child := range e.expandCall(mi, cfg.calls[name]) {
			e.walk(child)
		}
	}
	for _, name := range sortedKeys(cfg.outputs) {
		v, _ := e.output(mi, name)
		if mi == e.root {
			e.outputs[name] = v
		}
	}
}

// eval evaluates expr in s and returns its value and the resources it read.
func (e *evaluator) eval(s *scope, expr hcl.Expression) (cty.Value, depSet) {
	deps := depSet{}
	ctx, ok := e.context(s, expr.Variables(), deps)
	if !ok {
		return cty.DynamicVal, deps
	}
	v, diags := expr.Value(ctx)
	e.diags = append(e.diags, diags...)
	if diags.HasErrors() {
		return cty.DynamicVal, deps
	}
	return v, deps
}

func attrStep(t hcl.Traversal, i int) (string, bool) {
	if len(t) <= i {
		return "", false
	}
	a, ok := t[i].(hcl.TraverseAttr)
	return a.Name, ok
}

// context builds an EvalContext holding exactly what the traversals read.
func (e *evaluator) context(s *scope, travs []hcl.Traversal, deps depSet) (*hcl.EvalContext, bool) {
	mi := s.mod
	vars := map[string]cty.Value{}
	varObj, localObj := map[string]cty.Value{}, map[string]cty.Value{}
	moduleOuts := map[string]map[string]bool{}
	managed, data := map[string]map[string]cty.Value{}, map[string]map[string]cty.Value{}
	ok := true
	bad := func(t hcl.Traversal, summary, detail string) {
		e.errorf(t.SourceRange().Ptr(), summary, "%s", detail)
		ok = false
	}
	for _, t := range travs {
		root := t.RootName()
		if v, found := s.extra[root]; found {
			vars[root] = v
			continue
		}
		rng := t.SourceRange()
		switch root {
		case "var":
			name, good := attrStep(t, 1)
			if !good {
				bad(t, "Invalid reference", "A reference to \"var\" must be followed by a variable name, such as var.example.")
				continue
			}
			if _, declared := mi.cfg.vars[name]; !declared {
				bad(t, "Reference to undeclared input variable",
					fmt.Sprintf("An input variable named %q is not declared in %s. Declare it with a variable %q {} block.", name, mi.describe(), name))
				continue
			}
			v, d := e.variable(mi, name, rng)
			varObj[name] = v
			deps.merge(d)
		case "local":
			name, good := attrStep(t, 1)
			if !good {
				bad(t, "Invalid reference", "A reference to \"local\" must be followed by a local value name, such as local.example.")
				continue
			}
			if _, declared := mi.cfg.locals[name]; !declared {
				bad(t, "Reference to undeclared local value", fmt.Sprintf("A local value named %q is not declared in %s.", name, mi.describe()))
				continue
			}
			v, d := e.local(mi, name, rng)
			localObj[name] = v
			deps.merge(d)
		case "module":
			name, good := attrStep(t, 1)
			if !good {
				bad(t, "Invalid reference", "A reference to \"module\" must be followed by a module call name, such as module.example.")
				continue
			}
			if _, declared := mi.cfg.calls[name]; !declared {
				bad(t, "Reference to undeclared module", fmt.Sprintf("No module call named %q is declared in %s.", name, mi.describe()))
				continue
			}
			if moduleOuts[name] == nil {
				moduleOuts[name] = map[string]bool{}
			}
			rest := t[2:]
			if len(rest) > 0 {
				if _, isIndex := rest[0].(hcl.TraverseIndex); isIndex {
					rest = rest[1:]
				}
			}
			if out, isAttr := attrStep(rest, 0); isAttr {
				moduleOuts[name][out] = true
			} else {
				moduleOuts[name]["*"] = true
			}
		case "data":
			typ, good1 := attrStep(t, 1)
			name, good2 := attrStep(t, 2)
			if !good1 || !good2 {
				bad(t, "Invalid reference", "A reference to a data source must be followed by at least one attribute access, specifying the resource type and name.")
				continue
			}
			rc, declared := mi.cfg.resources["data."+typ+"."+name]
			if !declared {
				bad(t, "Reference to undeclared resource", fmt.Sprintf("A data resource %q %q has not been declared in %s.", typ, name, mi.describe()))
				continue
			}
			v, d := e.resource(mi, rc)
			if data[typ] == nil {
				data[typ] = map[string]cty.Value{}
			}
			data[typ][name] = v
			deps.merge(d)
		case "count":
			if !s.hasCount {
				bad(t, "Reference to \"count\" in non-counted context", "The \"count\" object can only be used in \"module\", \"resource\", and \"data\" blocks, and only when the \"count\" argument is set.")
				continue
			}
			vars["count"] = cty.ObjectVal(map[string]cty.Value{"index": s.countIndex})
		case "each":
			if !s.hasEach {
				bad(t, "Reference to \"each\" in context without for_each", "The \"each\" object can be used only in \"module\" or \"resource\" blocks, and only when the \"for_each\" argument is set.")
				continue
			}
			vars["each"] = cty.ObjectVal(map[string]cty.Value{"key": s.eachKey, "value": s.eachValue})
		case "path":
			modPath := "."
			if mi.cfg.dir != "" {
				modPath = mi.cfg.dir
			}
			vars["path"] = cty.ObjectVal(map[string]cty.Value{
				"module": cty.StringVal(modPath), "root": cty.StringVal("."), "cwd": cty.StringVal("."),
			})
		case "terraform":
			vars["terraform"] = cty.ObjectVal(map[string]cty.Value{"workspace": cty.StringVal("default")})
		case "self":
			bad(t, "Invalid \"self\" reference", "The \"self\" object is only available in provisioner and connection blocks, which the sandbox executor does not run.")
		default:
			name, good := attrStep(t, 1)
			if !good {
				bad(t, "Invalid reference", "A reference to a resource type must be followed by at least one attribute access, specifying the resource name.")
				continue
			}
			rc, declared := mi.cfg.resources[root+"."+name]
			if !declared {
				bad(t, "Reference to undeclared resource", fmt.Sprintf("A managed resource %q %q has not been declared in %s.", root, name, mi.describe()))
				continue
			}
			if s.forbidSelfResource == rc.key() {
				bad(t, "Self-referential block", "Configuration for "+rc.key()+" may not refer to itself.")
				continue
			}
			v, d := e.resource(mi, rc)
			if managed[root] == nil {
				managed[root] = map[string]cty.Value{}
			}
			managed[root][name] = v
			deps.merge(d)
		}
	}
	if !ok {
		return nil, false
	}
	if len(varObj) > 0 {
		vars["var"] = cty.ObjectVal(varObj)
	}
	if len(localObj) > 0 {
		vars["local"] = cty.ObjectVal(localObj)
	}
	if len(moduleOuts) > 0 {
		mods := map[string]cty.Value{}
		for _, name := range sortedKeys(moduleOuts) {
			v, d := e.moduleValue(mi, mi.cfg.calls[name], moduleOuts[name])
			mods[name] = v
			deps.merge(d)
		}
		vars["module"] = cty.ObjectVal(mods)
	}
	for typ, byName := range managed {
		vars[typ] = cty.ObjectVal(byName)
	}
	if len(data) > 0 {
		byType := map[string]cty.Value{}
		for typ, byName := range data {
			byType[typ] = cty.ObjectVal(byName)
		}
		vars["data"] = cty.ObjectVal(byType)
	}
	return &hcl.EvalContext{Variables: vars, Functions: e.p.funcs}, true
}

// variable returns a module instance's input variable value.
func (e *evaluator) variable(mi *modInst, name string, rng hcl.Range) (cty.Value, depSet) {
	decl := mi.cfg.vars[name]
	return e.memo(mi.addr+"|var."+name, "var."+name, rng, func() (cty.Value, depSet) {
		deps := depSet{}
		var val cty.Value
		var subject *hcl.Range
		set := false
		if mi.parent == nil {
			if rv, ok := e.p.rootVals[name]; ok {
				val, subject, set = rv.val, rv.rng, true
			}
		} else if arg, ok := mi.call.args[name]; ok {
			ps := (&scope{mod: mi.parent}).withModuleKey(mi)
			v, d := e.eval(ps, arg.Expr)
			deps.merge(d)
			val, subject, set = v, arg.Expr.Range().Ptr(), true
		}
		if subject == nil {
			subject = &decl.decl
		}
		if set && val.IsNull() && !decl.nullable && decl.hasDefault {
			set = false
		}
		if !set {
			if !decl.hasDefault {
				if mi.parent == nil {
					e.errorf(&decl.decl, "No value for required variable",
						"The root module input variable %q is not set and has no default value. Set it as a Terraform variable on the workspace or the run, or give the variable a default.", name)
				} else {
					e.errorf(&mi.call.decl, "Missing required argument",
						"The argument %q is required by module %q, but no definition was found.", name, mi.call.name)
				}
				return cty.DynamicVal, deps
			}
			val = decl.def
		}
		if !val.IsKnown() {
			return cty.DynamicVal, deps
		}
		u, marks := unmarkValue(val)
		if decl.defaults != nil {
			u = decl.defaults.Apply(u)
		}
		conv, err := convert.Convert(u, decl.typ)
		if err != nil {
			e.errorf(subject, "Invalid value for input variable",
				"The given value is not suitable for var.%s declared at %s: %s.", name, rangeShort(decl.decl), err)
			return cty.DynamicVal, deps
		}
		if conv.IsNull() && !decl.nullable {
			e.errorf(subject, "Required variable not set", "The variable %q is not nullable, but its value is null.", name)
			return cty.DynamicVal, deps
		}
		val = conv.MarkWithPaths(marks.toPathValueMarks(conv))
		e.validateVariable(mi, decl, val, subject)
		if decl.sensitive {
			val = val.Mark(markSensitive)
		}
		return val, deps
	})
}

func (s *scope) withModuleKey(mi *modInst) *scope {
	c := *s
	switch mi.key.kind {
	case keyInt:
		c.hasCount, c.countIndex = true, mi.countIndex
	case keyString:
		c.hasEach, c.eachKey, c.eachValue = true, mi.eachKey, mi.eachValue
	}
	return &c
}

func rangeShort(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

func (e *evaluator) validateVariable(mi *modInst, decl *variable, val cty.Value, subject *hcl.Range) {
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{decl.name: val})},
		Functions: e.p.funcs,
	}
	for _, rule := range decl.validation {
		cond, diags := rule.condition.Value(ctx)
		if diags.HasErrors() {
			e.diags = append(e.diags, diags...)
			continue
		}
		cond, _ = cond.UnmarkDeep()
		cond, err := convert.Convert(cond, cty.Bool)
		if err != nil || cond.IsNull() || !cond.IsKnown() {
			e.errorf(rule.condition.Range().Ptr(), "Invalid validation condition", "The condition must evaluate to true or false.")
			continue
		}
		if cond.True() {
			continue
		}
		msg := "The value does not satisfy the validation rule."
		if m, d := rule.message.Value(ctx); !d.HasErrors() {
			m, _ = m.UnmarkDeep()
			if m.Type() == cty.String && m.IsKnown() && !m.IsNull() {
				msg = m.AsString()
			}
		}
		e.errorf(subject, "Invalid value for variable",
			"%s\n\nThis was checked by the validation rule at %s.", msg, rangeShort(rule.condition.Range()))
	}
}

func (e *evaluator) local(mi *modInst, name string, rng hcl.Range) (cty.Value, depSet) {
	l := mi.cfg.locals[name]
	if rng.Filename == "" {
		rng = l.expr.Range()
	}
	return e.memo(mi.addr+"|local."+name, "local."+name, rng, func() (cty.Value, depSet) {
		return e.eval(&scope{mod: mi}, l.expr)
	})
}

func (e *evaluator) output(mi *modInst, name string) (cty.Value, depSet) {
	o := mi.cfg.outputs[name]
	return e.memo(mi.addr+"|output."+name, "output."+name, o.decl, func() (cty.Value, depSet) {
		v, deps := e.eval(&scope{mod: mi}, o.expr)
		if !v.IsKnown() {
			return v, deps
		}
		u, marks := unmarkValue(v)
		if marks.any(markSensitive) && !o.sensitive {
			e.errorf(&o.decl, "Output refers to sensitive values",
				"Output %q uses a sensitive value, so Terraform would hide it. Add sensitive = true to the output block to confirm that this is intended.", name)
			return cty.DynamicVal, deps
		}
		if o.sensitive {
			v = u.MarkWithPaths(marks.toPathValueMarks(u)).Mark(markSensitive)
		}
		return v, deps
	})
}

// expandCall evaluates a module call's count or for_each and returns its
// instances.
func (e *evaluator) expandCall(mi *modInst, call *moduleCall) []*modInst {
	id := mi.addr + "|module." + call.name
	if insts, ok := e.calls[id]; ok {
		return insts
	}
	x, _, ok := e.expand(&scope{mod: mi}, call.count, call.forEach)
	if !ok {
		e.calls[id] = nil
		return nil
	}
	var insts []*modInst
	for _, k := range x.instanceKeys() {
		prefix := "module." + call.name + k.String()
		if mi.addr != "" {
			prefix = mi.addr + "." + prefix
		}
		child := &modInst{cfg: call.child, addr: prefix, parent: mi, call: call, key: k}
		switch k.kind {
		case keyInt:
			child.countIndex = cty.NumberIntVal(int64(k.i))
		case keyString:
			child.eachKey, child.eachValue = cty.StringVal(k.s), x.values[k.s]
		}
		e.modules[prefix] = true
		insts = append(insts, child)
	}
	e.calls[id] = insts
	e.callKinds[id] = x.kind
	return insts
}

// moduleValue builds module.NAME from the outputs an expression reads ("*"
// means all of them), so that unrelated outputs cannot form false cycles.
func (e *evaluator) moduleValue(mi *modInst, call *moduleCall, want map[string]bool) (cty.Value, depSet) {
	deps := depSet{}
	if call.child == nil {
		return cty.DynamicVal, deps
	}
	insts := e.expandCall(mi, call)
	names := sortedKeys(call.child.outputs)
	if !want["*"] {
		names = nil
		for n := range want {
			if _, ok := call.child.outputs[n]; ok {
				names = append(names, n)
			}
		}
		sort.Strings(names)
	}
	objFor := func(child *modInst) cty.Value {
		attrs := map[string]cty.Value{}
		for _, n := range names {
			v, d := e.output(child, n)
			attrs[n] = v
			deps.merge(d)
		}
		return cty.ObjectVal(attrs)
	}
	switch e.callKinds[mi.addr+"|module."+call.name] {
	case keyInt:
		vals := make([]cty.Value, len(insts))
		for i, c := range insts {
			vals[i] = objFor(c)
		}
		return cty.TupleVal(vals), deps
	case keyString:
		vals := map[string]cty.Value{}
		for _, c := range insts {
			vals[c.key.s] = objFor(c)
		}
		return cty.ObjectVal(vals), deps
	}
	if len(insts) == 0 {
		return cty.DynamicVal, deps
	}
	return objFor(insts[0]), deps
}

// expand evaluates count or for_each. ok is false after an error.
func (e *evaluator) expand(s *scope, count, forEach hcl.Expression) (expansion, depSet, bool) {
	deps := depSet{}
	switch {
	case count != nil:
		v, d := e.eval(s, count)
		deps.merge(d)
		if !v.IsKnown() {
			return expansion{}, deps, false
		}
		u, marks := unmarkValue(v)
		if marks.any(markAfterApply) {
			e.errorf(count.Range().Ptr(), "Invalid count argument",
				"The \"count\" value depends on resource attributes that cannot be determined until apply, so the number of instances cannot be predicted. Create the resources it depends on first, for example with a targeted run.")
			return expansion{}, deps, false
		}
		n, err := convert.Convert(u, cty.Number)
		if err != nil || n.IsNull() {
			e.errorf(count.Range().Ptr(), "Invalid count argument", "The given \"count\" argument value is unsuitable: a number is required.")
			return expansion{}, deps, false
		}
		bf := n.AsBigFloat()
		i, acc := bf.Int64()
		if acc != big.Exact || i < 0 || i > maxInstances {
			e.errorf(count.Range().Ptr(), "Invalid count argument", "The given \"count\" argument value is unsuitable: the sandbox executor needs a whole number between 0 and %d.", maxInstances)
			return expansion{}, deps, false
		}
		return expansion{kind: keyInt, count: int(i)}, deps, true
	case forEach != nil:
		v, d := e.eval(s, forEach)
		deps.merge(d)
		if !v.IsKnown() {
			return expansion{}, deps, false
		}
		u, marks := unmarkValue(v)
		ty := u.Type()
		// For maps only the keys must be known; values may come later.
		keysUnknown := marks.has("", markAfterApply)
		if ty.IsSetType() {
			keysUnknown = marks.any(markAfterApply)
		}
		if keysUnknown {
			e.errorf(forEach.Range().Ptr(), "Invalid for_each argument",
				"The \"for_each\" value depends on resource attributes that cannot be determined until apply, so the instances cannot be predicted. Use keys that are known from the configuration.")
			return expansion{}, deps, false
		}
		if marks.has("", markSensitive) || (ty.IsSetType() && marks.any(markSensitive)) {
			e.errorf(forEach.Range().Ptr(), "Invalid for_each argument", "Sensitive values cannot be used as for_each arguments, because the instance keys would disclose them.")
			return expansion{}, deps, false
		}
		x := expansion{kind: keyString, values: map[string]cty.Value{}}
		switch {
		case u.IsNull():
			e.errorf(forEach.Range().Ptr(), "Invalid for_each argument", "The given \"for_each\" argument value is unsuitable: the value must not be null.")
			return expansion{}, deps, false
		case ty.IsMapType() || ty.IsObjectType():
			// Iterate the shallowly unmarked value so each.value keeps
			// its own marks.
			shallow, _ := v.Unmark()
			for it := shallow.ElementIterator(); it.Next(); {
				k, ev := it.Element()
				x.keys = append(x.keys, k.AsString())
				x.values[k.AsString()] = ev
			}
		case ty.IsSetType() && (ty.ElementType() == cty.String || ty.ElementType() == cty.DynamicPseudoType):
			for it := u.ElementIterator(); it.Next(); {
				_, ev := it.Element()
				if ev.IsNull() || ev.Type() != cty.String {
					e.errorf(forEach.Range().Ptr(), "Invalid for_each set argument", "The given \"for_each\" argument value is unsuitable: a set of strings must not contain null.")
					return expansion{}, deps, false
				}
				x.keys = append(x.keys, ev.AsString())
				x.values[ev.AsString()] = ev
			}
		default:
			e.errorf(forEach.Range().Ptr(), "Invalid for_each argument",
				"The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type %s.", ty.FriendlyName())
			return expansion{}, deps, false
		}
		if len(x.keys) > maxInstances {
			e.errorf(forEach.Range().Ptr(), "Invalid for_each argument", "The sandbox executor supports at most %d instances per resource or module.", maxInstances)
			return expansion{}, deps, false
		}
		sort.Strings(x.keys)
		return x, deps, true
	}
	return expansion{kind: keyNone}, deps, true
}

// evalBody evaluates a resource body's arguments and nested blocks into
// an object.
func (e *evaluator) evalBody(s *scope, rc *resourceCfg) (cty.Value, depSet) {
	deps := depSet{}
	if rc.syn == nil {
		attrs := map[string]cty.Value{}
		for _, name := range sortedKeys(rc.jsonAttrs) {
			v, d := e.eval(s, rc.jsonAttrs[name].Expr)
			attrs[name] = v
			deps.merge(d)
		}
		return cty.ObjectVal(attrs), deps
	}
	return e.evalSynBody(s, rc.syn, true, deps), deps
}

func (e *evaluator) evalSynBody(s *scope, body *hclsyntax.Body, top bool, deps depSet) cty.Value {
	attrs := map[string]cty.Value{}
	for _, name := range sortedKeys(body.Attributes) {
		if top && resourceMetaNames[name] {
			continue
		}
		v, d := e.eval(s, body.Attributes[name].Expr)
		attrs[name] = v
		deps.merge(d)
	}
	blocks := map[string][]cty.Value{}
	var order []string
	for _, b := range body.Blocks {
		if top && resourceMetaNames[b.Type] {
			continue
		}
		name := b.Type
		var vals []cty.Value
		if b.Type == "dynamic" && len(b.Labels) == 1 {
			name = b.Labels[0]
			vals = e.evalDynamic(s, b, deps)
		} else {
			vals = []cty.Value{e.evalSynBody(s, b.Body, false, deps)}
		}
		if _, seen := blocks[name]; !seen {
			order = append(order, name)
			blocks[name] = []cty.Value{}
		}
		blocks[name] = append(blocks[name], vals...)
	}
	for _, name := range order {
		if _, clash := attrs[name]; clash {
			continue
		}
		if len(blocks[name]) == 0 {
			attrs[name] = cty.EmptyTupleVal
			continue
		}
		attrs[name] = cty.TupleVal(blocks[name])
	}
	return cty.ObjectVal(attrs)
}

// evalDynamic expands a dynamic block into one object per element.
func (e *evaluator) evalDynamic(s *scope, b *hclsyntax.Block, deps depSet) []cty.Value {
	iter := b.Labels[0]
	var forEach hcl.Expression
	var content *hclsyntax.Body
	if a, ok := b.Body.Attributes["for_each"]; ok {
		forEach = a.Expr
	}
	if a, ok := b.Body.Attributes["iterator"]; ok {
		if kw := hcl.ExprAsKeyword(a.Expr); kw != "" {
			iter = kw
		}
	}
	for _, cb := range b.Body.Blocks {
		if cb.Type == "content" {
			content = cb.Body
		}
	}
	if forEach == nil || content == nil {
		e.errorf(b.DefRange().Ptr(), "Invalid dynamic block", "A dynamic block needs a for_each argument and a content block.")
		return nil
	}
	coll, d := e.eval(s, forEach)
	deps.merge(d)
	if !coll.IsKnown() {
		return nil
	}
	u, marks := coll.Unmark()
	if u.IsNull() || !u.CanIterateElements() {
		e.errorf(forEach.Range().Ptr(), "Invalid dynamic for_each value", "Cannot use a %s value in for_each. An iterable collection is required.", u.Type().FriendlyName())
		return nil
	}
	var out []cty.Value
	for it := u.ElementIterator(); it.Next(); {
		k, v := it.Element()
		inner := *s
		inner.extra = map[string]cty.Value{}
		for name, val := range s.extra {
			inner.extra[name] = val
		}
		inner.extra[iter] = cty.ObjectVal(map[string]cty.Value{"key": k, "value": v})
		out = append(out, e.evalSynBody(&inner, content, false, deps).WithMarks(marks))
	}
	return out
}
