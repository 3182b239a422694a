package executor

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty/function"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

type planner struct {
	req        PlanRequest
	st         style
	files      map[string][]byte
	root       *module
	funcs      map[string]function.Function
	prior      map[string]*Resource
	rootVals   map[string]rootValue
	undeclared []string
	warnings   hcl.Diagnostics
}

func newPlanner(req PlanRequest) *planner {
	files := map[string][]byte{}
	for name, b := range req.Files {
		files[cleanSlugPath(name)] = b
	}
	p := &planner{req: req, st: newStyle(req.Color), files: files, prior: map[string]*Resource{}}
	for i := range req.Prior.Resources {
		r := req.Prior.Resources[i] // a copy: the caller's state is not modified
		if r.Address == "" {
			// Callers that stored only the parts get the keyless address.
			r.Address = resourceAddr(r.Module, priorMode(&r), r.Type, r.Name, instanceKey{})
		}
		if pa, ok := parseResourceAddr(r.Address); ok && (r.Type == "" || r.Name == "") {
			r.Type, r.Name = pa.typ, pa.name
		}
		p.prior[r.Address] = &r
	}
	return p
}

func (p *planner) fail(diags hcl.Diagnostics) error {
	return planError(diags, p.files, p.st)
}

func (p *planner) targeted() bool {
	for _, t := range p.req.Targets {
		if t != "" {
			return true
		}
	}
	return false
}

func (p *planner) matchesTarget(addr string) bool {
	for _, t := range p.req.Targets {
		if targetMatches(t, addr) {
			return true
		}
	}
	return false
}

func (p *planner) plan() (*Plan, error) {
	root, diags := loadConfig(p.files)
	if diags.HasErrors() {
		return nil, p.fail(diags)
	}
	if !p.req.Destroy && len((&loader{files: p.files}).moduleFiles("")) == 0 {
		// An empty configuration would destroy everything; Terraform
		// refuses that outside destroy mode.
		return nil, p.fail(hcl.Diagnostics{errorDiag("No configuration files",
			"The configuration has no .tf or .tf.json files in its root directory, so a plan would mark every object for destruction. Upload a configuration, or create a destroy run to remove everything.", nil)})
	}
	p.warnings = append(p.warnings, diags...)
	p.root = root
	p.funcs = functions(p.files)
	vals, undeclared, diags := rootValues(root, p.files, p.req.Variables, p.req.SensitiveVariables)
	if diags.HasErrors() {
		return nil, p.fail(diags)
	}
	p.rootVals, p.undeclared = vals, undeclared

	if p.req.Destroy {
		e := newEvaluator(p, selector{})
		e.validateOnly()
		if e.diags.HasErrors() {
			return nil, p.fail(e.diags)
		}
		return p.destroyPlan()
	}
	sel := selector{all: true}
	if p.req.RefreshOnly {
		sel = selector{refreshOnly: true}
	}
	e := newEvaluator(p, sel)
	e.run()
	if e.diags.HasErrors() {
		return nil, p.fail(e.diags)
	}
	if p.targeted() && !p.req.RefreshOnly {
		// Plan again with only the targets and what they depend on.
		e = newEvaluator(p, selector{addrs: targetClosure(e, p.matchesTarget)})
		e.run()
		if e.diags.HasErrors() {
			return nil, p.fail(e.diags)
		}
	}
	p.warnings = append(p.warnings, e.diags...)
	return p.buildPlan(e)
}

// targetClosure selects the targeted instances and everything they read.
func targetClosure(e *evaluator, match func(string) bool) map[string]bool {
	addrs := map[string]bool{}
	visited := map[string]bool{}
	var queue []*resEval
	for _, re := range e.resources {
		for _, ri := range re.insts {
			if match(ri.addr) {
				addrs[ri.addr] = true
				if !visited[re.id] {
					visited[re.id] = true
					queue = append(queue, re)
				}
			}
		}
	}
	for len(queue) > 0 {
		re := queue[0]
		queue = queue[1:]
		for _, id := range sortedKeys(re.deps) {
			dep := e.resByID[id]
			if dep == nil || visited[id] {
				continue
			}
			visited[id] = true
			for _, ri := range dep.insts {
				addrs[ri.addr] = true
			}
			queue = append(queue, dep)
		}
	}
	return addrs
}

// changeView is one resource block in the plan log.
type changeView struct {
	addr, typ, name, mode string
	action                string
	cbd                   bool
	before, after         *rv
	forces                map[string]bool
	reason                string
}

// outputView is one line under "Changes to Outputs".
type outputView struct {
	name          string
	before, after *rv
}

// applyOp is one step Apply reports.
type applyOp struct {
	addr, verb, id string
}

type planResult struct {
	plan    *Plan
	changes []changeView
	outputs []outputView
	refresh []string // addresses refreshed, with IDs
	reads   []applyOp
	insts   []*resInst
	deleted []*Resource
}

func (p *planner) buildPlan(e *evaluator) (*Plan, error) {
	res := &planResult{plan: &Plan{UndeclaredVariables: p.undeclared}}
	plan := res.plan
	plan.targeted = p.targeted()
	var diags hcl.Diagnostics

	inConfig := map[string]bool{}
	for _, re := range e.resources {
		for _, ri := range re.insts {
			inConfig[ri.addr] = true
			res.insts = append(res.insts, ri)
		}
	}
	sorter := newAddrSorter()
	sort.Slice(res.insts, func(i, j int) bool { return sorter.less(res.insts[i].addr, res.insts[j].addr) })

	var planned []Resource
	for _, ri := range res.insts {
		switch ri.action {
		case actKeep:
			planned = append(planned, cloneResource(*ri.prior))
		case actNoop:
			r := cloneResource(*ri.prior)
			r.SensitivePaths = ri.marks.sensitivePaths()
			planned = append(planned, r)
		case actExcluded:
		default:
			planned = append(planned, Resource{
				Address: ri.addr, Mode: ri.cfg.mode, Module: ri.module, Type: ri.cfg.typ, Name: ri.cfg.name,
				Attributes:     cloneAny(ri.final).(map[string]any),
				SensitivePaths: ri.marks.sensitivePaths(),
			})
		}
		if ri.action == actRead {
			res.reads = append(res.reads, applyOp{addr: ri.addr, verb: "read", id: idOf(ri.final)})
		}
		if (ri.action == actDelete || ri.action == actReplace) && ri.cfg.preventDestroy {
			diags = append(diags, preventDestroyDiag(ri.addr, ri.cfg))
		}
		cv, ok := p.viewInstance(ri)
		if ok {
			res.changes = append(res.changes, cv)
		}
	}

	for _, addr := range p.priorAddrs() {
		r := p.prior[addr]
		if inConfig[addr] {
			continue
		}
		if priorMode(r) == modeData {
			if p.targeted() && !p.matchesTarget(addr) {
				planned = append(planned, cloneResource(*r))
			}
			continue
		}
		if p.req.RefreshOnly || (p.targeted() && !p.matchesTarget(addr)) {
			planned = append(planned, cloneResource(*r))
			continue
		}
		if rc := p.configFor(r); rc != nil && rc.preventDestroy {
			diags = append(diags, preventDestroyDiag(addr, rc))
		}
		res.deleted = append(res.deleted, r)
		res.changes = append(res.changes, changeView{
			addr: addr, typ: r.Type, name: r.Name, mode: modeManaged, action: actDelete,
			before: makeRV(normalizeAny(r.Attributes), sensitiveMarks(r.SensitivePaths, nil)), reason: p.orphanReason(e, r),
		})
	}
	if diags.HasErrors() {
		return nil, p.fail(diags)
	}
	sort.SliceStable(res.changes, func(i, j int) bool { return sorter.less(res.changes[i].addr, res.changes[j].addr) })
	sort.Slice(planned, func(i, j int) bool { return sorter.less(planned[i].Address, planned[j].Address) })

	outs, err := p.planOutputs(e, res)
	if err != nil {
		return nil, err
	}
	plan.Planned = State{Serial: p.req.Prior.Serial + 1, Resources: planned, Outputs: outs}
	plan.rootOutputs = outs
	p.finish(res)
	return plan, nil
}

func preventDestroyDiag(addr string, rc *resourceCfg) *hcl.Diagnostic {
	return errorDiag("Instance cannot be destroyed",
		fmt.Sprintf("Resource %s has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed. To avoid this error and continue with the plan, either disable lifecycle.prevent_destroy or reduce the scope of the plan using the -target option.", addr),
		&rc.decl)
}

func idOf(attrs map[string]any) string {
	id, _ := attrs["id"].(string)
	return id
}

func cloneResource(r Resource) Resource {
	r.Attributes, _ = cloneAny(normalizeAny(r.Attributes)).(map[string]any)
	if r.Attributes == nil {
		r.Attributes = map[string]any{}
	}
	if r.Mode == "" {
		r.Mode = modeManaged
	}
	r.SensitivePaths = append([]string(nil), r.SensitivePaths...)
	if len(r.SensitivePaths) == 0 {
		r.SensitivePaths = nil
	}
	return r
}

func (p *planner) priorAddrs() []string {
	addrs := sortedKeys(p.prior)
	sorter := newAddrSorter()
	sort.SliceStable(addrs, func(i, j int) bool { return sorter.less(addrs[i], addrs[j]) })
	return addrs
}

// configFor finds the resource block a prior object belongs to, if any.
func (p *planner) configFor(r *Resource) *resourceCfg {
	pa, ok := parseResourceAddr(r.Address)
	if !ok {
		return nil
	}
	m := p.root.findModule(pa.moduleNames())
	if m == nil {
		return nil
	}
	key := pa.typ + "." + pa.name
	if pa.mode == modeData {
		key = "data." + key
	}
	return m.resources[key]
}

// orphanReason explains why an object not in the configuration goes away.
func (p *planner) orphanReason(e *evaluator, r *Resource) string {
	pa, ok := parseResourceAddr(r.Address)
	if !ok {
		return ""
	}
	modAddr := ""
	names := []string{}
	for _, m := range pa.modules {
		if p.root.findModule(append(names, m.name)) == nil {
			return fmt.Sprintf("(because %s is not in configuration)", joinModule(modAddr, "module."+m.name))
		}
		names = append(names, m.name)
		modAddr = joinModule(modAddr, "module."+m.name+m.key.String())
		if !e.modules[modAddr] {
			return fmt.Sprintf("(because %s is not in configuration)", modAddr)
		}
	}
	rc := p.configFor(r)
	if rc == nil {
		return fmt.Sprintf("(because %s is not in configuration)", resourceAddr(modAddr, pa.mode, pa.typ, pa.name, instanceKey{}))
	}
	switch {
	case pa.key.kind == keyInt && rc.count != nil:
		return fmt.Sprintf("(because index %s is out of range for count)", pa.key)
	case pa.key.kind == keyString && rc.forEach != nil:
		return fmt.Sprintf("(because key %s is not in for_each map)", pa.key)
	case pa.key.kind == keyNone && rc.count != nil:
		return "(because resource uses count)"
	case pa.key.kind == keyNone && rc.forEach != nil:
		return "(because resource uses for_each)"
	case pa.key.kind != keyNone:
		return "(because resource does not use count or for_each)"
	}
	return ""
}

func joinModule(prefix, step string) string {
	if prefix == "" {
		return step
	}
	return prefix + "." + step
}

// viewInstance prepares the plan log block for a changed instance.
func (p *planner) viewInstance(ri *resInst) (changeView, bool) {
	cv := changeView{addr: ri.addr, typ: ri.cfg.typ, name: ri.cfg.name, mode: ri.cfg.mode, action: ri.action, cbd: ri.cfg.cbd, forces: ri.forces}
	switch ri.action {
	case actCreate, actReadApply:
		cv.after = makeRV(ri.final, ri.marks)
	case actUpdate, actReplace:
		cv.before = makeRV(normalizeAny(ri.prior.Attributes), sensitiveMarks(ri.prior.SensitivePaths, ri.marks))
		cv.after = makeRV(ri.final, ri.marks)
	default:
		return cv, false
	}
	return cv, true
}

// planOutputs computes the root module's outputs after apply and their
// changes.
func (p *planner) planOutputs(e *evaluator, res *planResult) ([]Output, error) {
	priorOuts := map[string]Output{}
	for _, o := range p.req.Prior.Outputs {
		priorOuts[o.Name] = o
	}
	var outs []Output
	seen := map[string]bool{}
	for _, name := range sortedKeys(p.root.outputs) {
		cfg := p.root.outputs[name]
		v, ok := e.outputs[name]
		if !ok || !v.IsKnown() {
			continue
		}
		u, marks := unmarkValue(v)
		prior, had := priorOuts[name]
		if marks.any(markExcluded) {
			if had {
				seen[name] = true
				outs = append(outs, prior)
			}
			continue
		}
		if u.IsNull() {
			continue
		}
		seen[name] = true
		valAny, err := ctyToAny(u)
		var valJSON []byte
		if err == nil {
			valJSON, err = json.Marshal(valAny)
		}
		if err != nil {
			return nil, p.fail(hcl.Diagnostics{errorDiag("Invalid output value", fmt.Sprintf("Output %q cannot be encoded: %v.", name, err), &cfg.decl)})
		}
		typJSON, err := ctyjson.MarshalType(u.Type())
		if err != nil {
			return nil, p.fail(hcl.Diagnostics{errorDiag("Invalid output value", fmt.Sprintf("Output %q has a type that cannot be encoded: %v.", name, err), &cfg.decl)})
		}
		outs = append(outs, Output{Name: name, Value: valJSON, Type: typJSON, Sensitive: cfg.sensitive})
		after := makeRV(valAny, marks)
		switch {
		case !had:
			res.plan.Summary.OutputAdd++
			res.outputs = append(res.outputs, outputView{name: name, after: after})
		case !jsonEqual(prior.Value, valJSON) || marks.any(markAfterApply) || prior.Sensitive != cfg.sensitive:
			res.plan.Summary.OutputChange++
			res.outputs = append(res.outputs, outputView{name: name, before: priorOutputRV(prior), after: after})
		}
	}
	for _, name := range sortedKeys(priorOuts) {
		if seen[name] {
			continue
		}
		if p.targeted() {
			// A targeted plan leaves outputs it did not evaluate alone.
			outs = append(outs, priorOuts[name])
			continue
		}
		res.plan.Summary.OutputDestroy++
		res.outputs = append(res.outputs, outputView{name: name, before: priorOutputRV(priorOuts[name])})
	}
	sort.Slice(res.outputs, func(i, j int) bool { return res.outputs[i].name < res.outputs[j].name })
	sort.Slice(outs, func(i, j int) bool { return outs[i].Name < outs[j].Name })
	return outs, nil
}

func priorOutputRV(o Output) *rv {
	if o.Sensitive {
		return &rv{kind: rvSensitive}
	}
	var v any
	if err := json.Unmarshal(o.Value, &v); err != nil {
		return &rv{kind: rvPrim, text: string(o.Value)}
	}
	return makeRV(v, nil)
}

func jsonEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return equalAny(va, vb)
}

// destroyPlan deletes every managed object (or the targeted ones).
func (p *planner) destroyPlan() (*Plan, error) {
	res := &planResult{plan: &Plan{UndeclaredVariables: p.undeclared, destroy: true, targeted: p.targeted()}}
	var planned []Resource
	var diags hcl.Diagnostics
	for _, addr := range p.priorAddrs() {
		r := p.prior[addr]
		if p.targeted() && !p.matchesTarget(addr) {
			planned = append(planned, cloneResource(*r))
			continue
		}
		if priorMode(r) == modeData {
			continue
		}
		if rc := p.configFor(r); rc != nil && rc.preventDestroy {
			diags = append(diags, preventDestroyDiag(addr, rc))
		}
		res.deleted = append(res.deleted, r)
		res.changes = append(res.changes, changeView{
			addr: addr, typ: r.Type, name: r.Name, mode: modeManaged, action: actDelete,
			before: makeRV(normalizeAny(r.Attributes), sensitiveMarks(r.SensitivePaths, nil)),
		})
	}
	if diags.HasErrors() {
		return nil, p.fail(diags)
	}
	var outs []Output
	for _, o := range p.req.Prior.Outputs {
		if p.targeted() {
			outs = append(outs, o)
			continue
		}
		res.plan.Summary.OutputDestroy++
		res.outputs = append(res.outputs, outputView{name: o.Name, before: priorOutputRV(o)})
	}
	sort.Slice(res.outputs, func(i, j int) bool { return res.outputs[i].name < res.outputs[j].name })
	res.plan.Planned = State{Serial: p.req.Prior.Serial + 1, Resources: planned, Outputs: outs}
	res.plan.rootOutputs = outs
	p.finish(res)
	return res.plan, nil
}

// finish fills in the changes, summary, apply steps and log.
func (p *planner) finish(res *planResult) {
	plan := res.plan
	for _, cv := range res.changes {
		switch cv.action {
		case actCreate:
			plan.Summary.Add++
		case actUpdate:
			plan.Summary.Change++
		case actDelete:
			plan.Summary.Destroy++
		case actReplace:
			plan.Summary.Add++
			plan.Summary.Destroy++
		default:
			continue
		}
		plan.Changes = append(plan.Changes, Change{Address: cv.addr, Action: cv.action})
	}
	s := plan.Summary
	plan.HasChanges = s.Add+s.Change+s.Destroy+s.OutputAdd+s.OutputChange+s.OutputDestroy > 0
	plan.ops = applyOps(res)
	if p.req.Refresh {
		for _, addr := range p.priorAddrs() {
			r := p.prior[addr]
			if priorMode(r) != modeManaged || (p.targeted() && !p.matchesTarget(addr)) {
				continue
			}
			res.refresh = append(res.refresh, addr+": Refreshing state... [id="+idOf(r.Attributes)+"]")
		}
	}
	plan.Log = renderPlanLog(p, res)
}

// applyOps orders the apply: deletions of removed objects first (in reverse
// address order), then the rest with dependencies before dependents.
func applyOps(res *planResult) []applyOp {
	var ops []applyOp
	for i := len(res.deleted) - 1; i >= 0; i-- {
		r := res.deleted[i]
		ops = append(ops, applyOp{addr: r.Address, verb: "delete", id: idOf(r.Attributes)})
	}
	for _, ri := range topoOrder(res) {
		switch ri.action {
		case actCreate:
			ops = append(ops, applyOp{addr: ri.addr, verb: "create", id: idOf(ri.final)})
		case actUpdate:
			ops = append(ops, applyOp{addr: ri.addr, verb: "update", id: idOf(ri.final)})
		case actReadApply:
			ops = append(ops, applyOp{addr: ri.addr, verb: "read", id: idOf(ri.final)})
		case actReplace:
			del := applyOp{addr: ri.addr, verb: "delete", id: idOf(ri.prior.Attributes)}
			add := applyOp{addr: ri.addr, verb: "create", id: idOf(ri.final)}
			if ri.cfg.cbd {
				ops = append(ops, add, del)
			} else {
				ops = append(ops, del, add)
			}
		}
	}
	return ops
}

// topoOrder sorts changing instances so that each comes after the resources
// it reads, breaking ties by address order.
func topoOrder(res *planResult) []*resInst {
	var changing []*resInst
	byRes := map[string][]int{}
	for _, ri := range res.insts {
		switch ri.action {
		case actCreate, actUpdate, actReplace, actReadApply:
			byRes[ri.re.id] = append(byRes[ri.re.id], len(changing))
			changing = append(changing, ri)
		}
	}
	// Dependencies are per resource block, so edges go block to block.
	indeg := make([]int, len(changing))
	dependents := map[string][]int{}
	for i, ri := range changing {
		for dep := range ri.re.deps {
			if dep == ri.re.id || len(byRes[dep]) == 0 {
				continue
			}
			indeg[i] += len(byRes[dep])
			dependents[dep] = append(dependents[dep], i)
		}
	}
	ready := &intHeap{}
	for i := range changing {
		if indeg[i] == 0 {
			heap.Push(ready, i)
		}
	}
	out := make([]*resInst, 0, len(changing))
	done := make([]bool, len(changing))
	for len(out) < len(changing) {
		if ready.Len() == 0 {
			// Only a cycle could get here, and evaluation rejects those;
			// fall back to address order.
			for i := range changing {
				if !done[i] {
					indeg[i] = 0
					heap.Push(ready, i)
					break
				}
			}
		}
		i := heap.Pop(ready).(int)
		if done[i] {
			continue
		}
		done[i] = true
		out = append(out, changing[i])
		for _, d := range dependents[changing[i].re.id] {
			if indeg[d]--; indeg[d] == 0 && !done[d] {
				heap.Push(ready, d)
			}
		}
	}
	return out
}

// intHeap is a min-heap of indexes into an address-sorted slice.
type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
