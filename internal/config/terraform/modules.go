package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// callMeta are a module block's arguments that are Terraform's, not the
// module's variables.
var callMeta = map[string]bool{"source": true, "version": true, "count": true, "for_each": true, "providers": true, "depends_on": true}

// readCalls reads the modules d calls, from their local source
// directories, and checks the calls' arguments against their variables.
// stack is the directories of the calls leading to d, d's last: a module
// calling one of them again is a cycle.
func (r *reader) readCalls(d *modDef, stack []string) {
	for _, c := range d.calls {
		c.def = r.readCall(d, c, stack)
		if c.def == nil {
			continue
		}
		body := c.block.Body
		declared := map[string]bool{}
		for _, v := range c.def.variables {
			declared[v.name] = true
		}
		for _, a := range sortedAttrs(body) {
			if !callMeta[a.Name] && !declared[a.Name] {
				r.errorf(a.NameRange, "module.%s: unsupported argument %q: the module in %s declares no variable %q", c.name, a.Name, c.def.dir, a.Name)
			}
		}
		for _, b := range body.Blocks {
			r.errorf(b.DefRange(), "module.%s: unexpected %s block: a module block takes arguments only", c.name, b.Type)
		}
		if body.Attributes["count"] != nil && body.Attributes["for_each"] != nil {
			r.errorf(body.Attributes["for_each"].NameRange, "module.%s: count and for_each together: give one", c.name)
		}
		for _, v := range c.def.variables {
			if v.def == nil && body.Attributes[v.name] == nil {
				r.errorf(c.block.DefRange(), "module.%s: missing required argument %q (variable %q at %s has no default)", c.name, v.name, v.name, where(v.rng))
			}
		}
		if c.def.provRegion != "" && c.def.provRegion != r.region {
			r.errorf(c.def.regionRng, "module.%s: provider \"aws\" region %q: Trailwatch gives every resource the root module's region (%s); set the region in the root module only", c.name, c.def.provRegion, r.region)
		}
	}
}

// readCall reads the module c's source names (nil: an error reported).
func (r *reader) readCall(d *modDef, c *call, stack []string) *modDef {
	at := c.block.DefRange()
	src := c.block.Body.Attributes["source"]
	if src == nil {
		r.errorf(at, "module.%s: source: missing (a local directory, such as ./modules/alerts)", c.name)
		return nil
	}
	v, diags := src.Expr.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		r.errorf(src.Expr.Range(), "module.%s: source: want a literal string", c.name)
		return nil
	}
	s := v.AsString()
	local := false
	for _, p := range []string{"./", "../", ".\\", "..\\"} {
		local = local || strings.HasPrefix(s, p)
	}
	if !local {
		r.errorf(at, "module.%s: source %q is not a local path: Trailwatch reads only local modules (source starting with ./ or ../) and downloads nothing from a registry, git or http; copy the module into a directory and give its path", c.name, s)
		return nil
	}
	if ver := c.block.Body.Attributes["version"]; ver != nil {
		r.errorf(ver.NameRange, "module.%s: version: a local module (source %q) has no version; version is for registry modules", c.name, s)
	}
	dir := filepath.Join(d.dir, filepath.FromSlash(strings.ReplaceAll(s, "\\", "/")))
	abs := absPath(dir)
	for i, prev := range stack {
		if absPath(prev) == abs {
			chain := strings.Join(append(append([]string{}, stack[i:]...), dir), " -> ")
			r.errorf(at, "module.%s: source %q: modules calling each other in a cycle (%s)", c.name, s, chain)
			return nil
		}
	}
	if def, ok := r.defs[abs]; ok {
		return def
	}
	paths, err := expand([]string{dir})
	if err != nil {
		r.errorf(at, "module.%s: source %q: %s", c.name, s, strings.TrimPrefix(err.Error(), "terraform: "))
		return nil
	}
	def := &modDef{dir: dir}
	r.defs[abs] = def
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			r.errorf(at, "module.%s: %v", c.name, err)
			return nil
		}
		r.parse(def, p, data)
	}
	r.readCalls(def, append(append([]string{}, stack...), dir))
	return def
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// The ways a resource or module block makes instances.
const (
	single = iota
	counted
	keyed
)

// called is the instance of call c that ex gives, the same module from pass to
// pass.
func (m *module) called(c *call, ex expansion) *module {
	k, ok := m.cache[ex.addr]
	if !ok {
		k = newModule(m.reader, c.def, ex.addr, m, c)
		m.cache[ex.addr] = k
	}
	k.each = ex.ctx
	k.key = cty.NilVal
	if x, ok := ex.ctx["count"]; ok {
		k.key = x.GetAttr("index")
	} else if x, ok := ex.ctx["each"]; ok {
		k.key = x.GetAttr("key")
	}
	return k
}

// outputsValue is an instance's outputs as the calling module sees them:
// those not known yet unknown.
func (m *module) outputsValue() cty.Value {
	vals := map[string]cty.Value{}
	for _, o := range m.outs {
		v, ok := m.outVals[o.name]
		if !ok {
			v = cty.DynamicVal
		}
		vals[o.name] = v
	}
	return objOrEmpty(vals)
}

// moduleValues is what module.NAME stands for: a called module's outputs,
// a tuple of them (count) or an object by key (for_each).
func (m *module) moduleValues() cty.Value {
	vals := map[string]cty.Value{}
	for _, c := range m.calls {
		kids := m.children[c.name]
		switch m.childMode[c.name] {
		case counted:
			if len(kids) == 0 {
				vals[c.name] = cty.EmptyTupleVal
				continue
			}
			list := make([]cty.Value, len(kids))
			for i, k := range kids {
				list[i] = k.outputsValue()
			}
			vals[c.name] = cty.TupleVal(list)
		case keyed:
			byKey := map[string]cty.Value{}
			for _, k := range kids {
				byKey[k.key.AsString()] = k.outputsValue()
			}
			vals[c.name] = objOrEmpty(byKey)
		default:
			if len(kids) == 1 {
				vals[c.name] = kids[0].outputsValue()
			} else {
				vals[c.name] = cty.DynamicVal
			}
		}
	}
	return objOrEmpty(vals)
}

// passOutputs evaluates the outputs with what is known so far; it
// reports whether any changed.
func (m *module) passOutputs() bool {
	changed := false
	ctx := m.evalContext(nil)
	for _, o := range m.outs {
		v, d := o.expr.Value(ctx)
		old, had := m.outVals[o.name]
		if d.HasErrors() || !v.IsWhollyKnown() {
			if had {
				delete(m.outVals, o.name)
				changed = true
			}
			continue
		}
		if !had || !old.RawEquals(v) {
			changed = true
		}
		m.outVals[o.name] = v
	}
	return changed
}

type causeKey struct {
	m    *module
	expr hcl.Expression
}

// cause finds, for expr of m whose value is not known, the error behind
// it: in a module output it reads, an argument of m's module block (for
// var.X), or a local, followed through modules. nil: none found (the
// value depends on what only AWS knows, or on a cycle).
func (m *module) cause(expr hcl.Expression, seen map[causeKey]bool) hcl.Diagnostics {
	if seen == nil {
		seen = map[causeKey]bool{}
	}
	if seen[causeKey{m, expr}] {
		return nil
	}
	seen[causeKey{m, expr}] = true
	for _, tr := range expr.Variables() {
		name := attrName(tr, 1)
		switch tr.RootName() {
		case "var":
			if m.parent == nil {
				continue
			}
			if a := m.call.block.Body.Attributes[name]; a != nil {
				if d := m.parent.explain(a.Expr, m.each, seen); d != nil {
					return d
				}
			}
		case "local":
			for _, l := range m.locals {
				if l.Name == name {
					if d := m.explain(l.Expr, nil, seen); d != nil {
						return d
					}
				}
			}
		case "module":
			next, key := 2, cty.NilVal
			if len(tr) > 2 {
				if ix, ok := tr[2].(hcl.TraverseIndex); ok {
					next, key = 3, ix.Key
				}
			}
			out := attrName(tr, next)
			for _, k := range m.children[name] {
				if key != cty.NilVal && (k.key == cty.NilVal || !sameKey(k.key, key)) {
					continue
				}
				for _, o := range k.outs {
					if o.name == out {
						if d := k.explain(o.expr, nil, seen); d != nil {
							return d
						}
					}
				}
			}
		}
	}
	return nil
}

// explain is expr's errors, or when its value is not known their cause.
func (m *module) explain(expr hcl.Expression, extra map[string]cty.Value, seen map[causeKey]bool) hcl.Diagnostics {
	v, d := expr.Value(m.evalContext(extra))
	if d.HasErrors() {
		return d
	}
	if !v.IsWhollyKnown() {
		return m.cause(expr, seen)
	}
	return nil
}

// attrName is the name of traversal step i when it is an attribute.
func attrName(tr hcl.Traversal, i int) string {
	if i >= len(tr) {
		return ""
	}
	if a, ok := tr[i].(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

func sameKey(a, b cty.Value) bool {
	if !a.IsKnown() || !b.IsKnown() || a.IsNull() || b.IsNull() {
		return false
	}
	if a.Type() == cty.Number && b.Type() == cty.Number {
		return a.Equals(b).True()
	}
	if a.Type() == cty.String && b.Type() == cty.String {
		return a.AsString() == b.AsString()
	}
	return false
}

// notKnown reports a value of addr's name that is not known: the error
// behind it when there is one, or that it depends on what Trailwatch
// cannot know.
func (m *module) notKnown(addr, name string, expr hcl.Expression) {
	if d := m.cause(expr, nil); d.HasErrors() {
		m.diags = append(m.diags, d...)
		at := "elsewhere"
		for _, x := range d {
			if x.Severity == hcl.DiagError && x.Subject != nil {
				at = fmt.Sprintf("at %s:%d:%d", x.Subject.Filename, x.Subject.Start.Line, x.Subject.Start.Column)
				break
			}
		}
		m.errorf(expr.Range(), "%s: %s: not known, because of the error %s", addr, name, at)
		return
	}
	m.errorf(expr.Range(), "%s: %s: the value depends on something Trailwatch cannot know (a resource attribute only AWS knows)", addr, name)
}
