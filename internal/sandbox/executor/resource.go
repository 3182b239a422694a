package executor

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Instance actions. Only create, update, replace and delete are changes.
const (
	actNoop      = "no-op"
	actCreate    = "create"
	actUpdate    = "update"
	actReplace   = "replace"
	actDelete    = "delete"
	actRead      = "read"       // data source read while planning
	actReadApply = "read-apply" // data source read during apply
	actKeep      = "keep"       // not selected; the prior object stays
	actExcluded  = "excluded"   // not selected and not in state: nothing happens
)

// resEval is one resource block evaluated in one module instance.
type resEval struct {
	id    string // node ID
	cfg   *resourceCfg
	mod   *modInst
	kind  int
	insts []*resInst
	deps  depSet // resources the block reads
}

// resInst is one planned resource instance.
type resInst struct {
	addr   string
	module string
	cfg    *resourceCfg
	key    instanceKey
	action string
	prior  *Resource
	final  map[string]any // attributes after apply
	marks  pathMarks      // on final: what a real plan would not know
	forces map[string]bool
	re     *resEval
}

// resource evaluates a resource block (all of its instances) once and
// returns the value expressions see.
func (e *evaluator) resource(mi *modInst, rc *resourceCfg) (cty.Value, depSet) {
	id := mi.addr + "|" + rc.key()
	what := resourceAddr(mi.addr, rc.mode, rc.typ, rc.name, instanceKey{})
	v, _ := e.memo(id, what, rc.decl, func() (cty.Value, depSet) {
		return e.computeResource(mi, rc, id), nil
	})
	return v, depSet{id: true}
}

func (e *evaluator) computeResource(mi *modInst, rc *resourceCfg, id string) cty.Value {
	re := &resEval{id: id, cfg: rc, mod: mi, deps: depSet{}}
	e.resByID[id] = re
	e.resources = append(e.resources, re)
	base := &scope{mod: mi, forbidSelfResource: rc.key()}
	x, d, ok := e.expand(base, rc.count, rc.forEach)
	re.deps.merge(d)
	if !ok {
		return cty.DynamicVal
	}
	re.kind = x.kind
	extras := mi.cfg.computedAttrs(rc)
	for _, name := range builtinComputed(rc.typ) {
		if !rc.configNames[name] && !containsString(extras, name) {
			extras = append(extras, name)
		}
	}
	vals := map[string]cty.Value{}
	var list []cty.Value
	for _, k := range x.instanceKeys() {
		cfgVal, d := e.evalBody(base.withKey(x, k), rc)
		re.deps.merge(d)
		ri, v := e.planInstance(mi, rc, k, cfgVal, extras)
		ri.re = re
		re.insts = append(re.insts, ri)
		switch k.kind {
		case keyInt:
			list = append(list, v)
		case keyString:
			vals[k.s] = v
		default:
			return v
		}
	}
	if x.kind == keyInt {
		if len(list) == 0 {
			return cty.EmptyTupleVal
		}
		return cty.TupleVal(list)
	}
	if len(vals) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(vals)
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// planInstance decides what happens to one instance and returns the value
// other expressions see for it.
func (e *evaluator) planInstance(mi *modInst, rc *resourceCfg, key instanceKey, cfgVal cty.Value, extras []string) (*resInst, cty.Value) {
	addr := resourceAddr(mi.addr, rc.mode, rc.typ, rc.name, key)
	ri := &resInst{addr: addr, module: mi.addr, cfg: rc, key: key, marks: pathMarks{}}
	if prior, ok := e.p.prior[addr]; ok && priorMode(prior) == rc.mode {
		ri.prior = prior
	}
	if !cfgVal.IsWhollyKnown() {
		// Evaluation never yields unknowns except after an error, which
		// has been reported already.
		if !e.diags.HasErrors() {
			e.errorf(&rc.decl, "Invalid resource configuration", "The configuration of %s could not be evaluated.", addr)
		}
		ri.action = actExcluded
		return ri, cty.DynamicVal
	}
	cfgU, cfgMarks := unmarkValue(cfgVal)
	cfgAnyRaw, err := ctyToAny(cfgU)
	cfgAny, _ := normalizeAny(cfgAnyRaw).(map[string]any)
	if err != nil || cfgAny == nil {
		e.errorf(&rc.decl, "Invalid resource configuration", "The configuration of %s cannot be represented as JSON: %v.", addr, err)
		ri.action = actExcluded
		return ri, cty.DynamicVal
	}
	selected := e.sel.managed(addr)
	if rc.mode == modeData {
		selected = e.sel.data(addr) && !cfgMarks.any(markExcluded)
	}

	switch {
	case !selected && ri.prior != nil:
		ri.action = actKeep
		ri.final = cloneAny(normalizeAny(ri.prior.Attributes)).(map[string]any)
		return ri, e.refValue(ri, extras, cfgMarks, false)
	case !selected:
		ri.action = actExcluded
		ri.final = newAttrs(rc, addr, cfgAny, extras)
		ri.marks = createMarks(rc, cfgMarks, extras)
		ri.marks.add("", markExcluded)
		return ri, e.refValue(ri, nil, nil, true)
	case rc.mode == modeData:
		ri.final = newAttrs(rc, addr, cfgAny, extras)
		ri.action = actRead
		ri.marks = pathMarks{}
		for p, ms := range cfgMarks {
			if ms[markSensitive] {
				ri.marks.add(p, markSensitive)
			}
		}
		if cfgMarks.any(markAfterApply) {
			ri.action = actReadApply
			ri.marks = createMarks(rc, cfgMarks, extras)
		}
		return ri, e.refValue(ri, nil, nil, true)
	case ri.prior == nil:
		ri.action = actCreate
		ri.final = newAttrs(rc, addr, cfgAny, extras)
		ri.marks = createMarks(rc, cfgMarks, extras)
		return ri, e.refValue(ri, nil, nil, true)
	}

	prior := normalizeAny(ri.prior.Attributes).(map[string]any)
	priorID, _ := prior["id"].(string)
	extraSet := map[string]bool{}
	for _, x := range extras {
		extraSet[x] = true
	}
	leftover := func(k string) bool {
		return equalAny(prior[k], computedValue(rc, addr, priorID, k, prior))
	}
	changed := map[string]bool{}
	if !rc.ignoreAll {
		for k, v := range cfgAny {
			if rc.ignore[k] {
				continue
			}
			if !equalAny(prior[k], v) || cfgMarks.under("["+quoteString(k)+"]").any(markAfterApply) {
				changed[k] = true
			}
		}
		for k, v := range prior {
			if _, inCfg := cfgAny[k]; inCfg || k == "id" || extraSet[k] || rc.ignore[k] || v == nil || leftover(k) {
				continue
			}
			changed[k] = true
		}
	}
	if len(changed) == 0 {
		ri.action = actNoop
		ri.final = prior
		ri.marks = cfgMarks.onlySensitive()
		return ri, e.refValue(ri, extras, cfgMarks, false)
	}
	ri.forces = map[string]bool{}
	for k := range changed {
		if forcesReplacement(rc.typ, k) {
			ri.forces[k] = true
		}
	}
	if len(ri.forces) > 0 {
		ri.action = actReplace
		ri.final = newAttrs(rc, addr, cfgAny, extras)
		ri.marks = createMarks(rc, cfgMarks, extras)
		return ri, e.refValue(ri, nil, nil, true)
	}
	ri.action = actUpdate
	final := map[string]any{}
	for k, v := range prior {
		if _, inCfg := cfgAny[k]; inCfg || k == "id" || extraSet[k] || leftover(k) {
			final[k] = v
		}
	}
	for k, v := range cfgAny {
		if rc.ignore[k] {
			if _, had := prior[k]; had {
				continue
			}
		}
		final[k] = v
	}
	for _, x := range extras {
		if isDerived(rc.typ, x) {
			final[x] = computedValue(rc, addr, priorID, x, final)
			if !equalAny(final[x], prior[x]) {
				ri.marks.add("["+quoteString(x)+"]", markAfterApply)
			}
		} else if _, ok := final[x]; !ok {
			final[x] = computedValue(rc, addr, priorID, x, final)
		}
	}
	for p, ms := range cfgMarks {
		for m := range ms {
			ri.marks.add(p, m)
		}
	}
	ri.final = final
	return ri, e.refValue(ri, nil, nil, true)
}

// refValue converts an instance's final attributes to a marked cty value.
// For objects kept from the prior state, extras not stored there are filled
// in (they are deterministic) and only sensitivity is carried over.
func (e *evaluator) refValue(ri *resInst, extras []string, cfgMarks pathMarks, useOwnMarks bool) cty.Value {
	attrs := ri.final
	marks := ri.marks
	if !useOwnMarks {
		attrs = cloneAny(ri.final).(map[string]any)
		id, _ := attrs["id"].(string)
		for _, x := range extras {
			if _, ok := attrs[x]; !ok {
				attrs[x] = computedValue(ri.cfg, ri.addr, id, x, attrs)
			}
		}
		marks = pathMarks{}
		for p, ms := range cfgMarks {
			if ms[markSensitive] {
				marks.add(p, markSensitive)
			}
		}
	}
	v, err := anyToCty(attrs)
	if err != nil {
		e.errorf(&ri.cfg.decl, "Invalid resource state", "The attributes of %s cannot be read: %v.", ri.addr, err)
		return cty.DynamicVal
	}
	return v.MarkWithPaths(marks.toPathValueMarks(v))
}

// createMarks marks what a create would not know until apply: the ID and
// computed attributes, plus whatever the configuration did not know.
func createMarks(rc *resourceCfg, cfgMarks pathMarks, extras []string) pathMarks {
	pm := pathMarks{}
	for p, ms := range cfgMarks {
		for m := range ms {
			pm.add(p, m)
		}
	}
	if !rc.configNames["id"] {
		pm.add(`["id"]`, markAfterApply)
	}
	for _, x := range extras {
		pm.add("["+quoteString(x)+"]", markAfterApply)
	}
	return pm
}

func priorMode(r *Resource) string {
	if r.Mode == modeData {
		return modeData
	}
	return modeManaged
}

// newAttrs builds a new object's attributes: its configuration plus a
// deterministic ID and computed attributes.
func newAttrs(rc *resourceCfg, addr string, cfg map[string]any, extras []string) map[string]any {
	attrs := cloneAny(cfg).(map[string]any)
	id, ok := attrs["id"].(string)
	if !ok || id == "" {
		id = makeID(rc.typ, addr, cfg)
		attrs["id"] = id
	}
	for _, x := range extras {
		attrs[x] = computedValue(rc, addr, id, x, attrs)
	}
	return attrs
}

func digest(parts ...string) [32]byte {
	return sha256.Sum256([]byte(strings.Join(parts, "\x00")))
}

// makeID derives an object ID from its address and configuration.
// null_resource IDs are decimal like the real provider's; others are
// UUID-shaped.
func makeID(typ, addr string, cfg map[string]any) string {
	sum := digest(addr, string(canonicalJSON(cfg)))
	if typ == "null_resource" {
		return strconv.FormatUint(binary.BigEndian.Uint64(sum[:8])>>1, 10)
	}
	h := hex.EncodeToString(sum[:16])
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// builtinComputed lists attributes some well-known types always compute.
func builtinComputed(typ string) []string {
	switch typ {
	case "terraform_data":
		return []string{"output"}
	case "random_string", "random_password":
		return []string{"result"}
	}
	return nil
}

// isDerived reports computed attributes that follow the configuration and
// so change when it changes.
func isDerived(typ, attr string) bool {
	return typ == "terraform_data" && attr == "output"
}

const alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// computedValue is the deterministic value of a computed attribute.
func computedValue(rc *resourceCfg, addr, id, attr string, attrs map[string]any) any {
	switch {
	case rc.typ == "terraform_data" && attr == "output":
		return attrs["input"]
	case (rc.typ == "random_string" || rc.typ == "random_password") && attr == "result":
		n := 16
		if l, ok := attrs["length"].(float64); ok && l > 0 && l <= 1024 {
			n = int(l)
		}
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			sum := digest(addr, id, attr, strconv.Itoa(i))
			for _, c := range sum {
				if b.Len() == n {
					break
				}
				b.WriteByte(alphanumerics[int(c)%len(alphanumerics)])
			}
		}
		return b.String()
	}
	sum := digest(addr, id, attr)
	return attr + "-" + hex.EncodeToString(sum[:8])
}

// forcesReplacement reports attributes whose change replaces the object,
// standing in for provider schemas the sandbox does not have.
func forcesReplacement(typ, attr string) bool {
	switch attr {
	case "triggers", "triggers_replace", "keepers":
		return true
	}
	return strings.HasPrefix(typ, "random_")
}
