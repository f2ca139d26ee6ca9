package terraform

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// rootVariables gives the root module's variables their values: --var,
// TF_VAR_, default.
func (m *module) rootVariables() map[string]cty.Value {
	out := map[string]cty.Value{}
	declared := map[string]bool{}
	for _, v := range m.variables {
		declared[v.name] = true
		var val cty.Value
		raw, given := m.vars[v.name]
		if !given {
			raw, given = m.env("TF_VAR_" + v.name)
		}
		switch {
		case given:
			if v.typ == cty.String || v.typ == cty.DynamicPseudoType {
				val = cty.StringVal(raw)
			} else {
				expr, d := hclsyntax.ParseExpression([]byte(raw), "--var "+v.name, hcl.InitialPos)
				if d.HasErrors() {
					m.errorf(v.rng, "variable %s: value %q: %s", v.name, raw, d.Error())
					continue
				}
				x, d := expr.Value(nil)
				if d.HasErrors() {
					m.errorf(v.rng, "variable %s: value %q: %s", v.name, raw, d.Error())
					continue
				}
				val = x
			}
		case v.def != nil:
			x, d := v.def.Expr.Value(nil)
			m.diags = append(m.diags, d...)
			if d.HasErrors() {
				continue
			}
			val = x
		default:
			m.errorf(v.rng, "variable %s: no value (give --var %s=VALUE or TF_VAR_%s, or a default)", v.name, v.name, v.name)
			continue
		}
		if v.typ != cty.DynamicPseudoType {
			c, err := convert.Convert(val, v.typ)
			if err != nil {
				m.errorf(v.rng, "variable %s: %v", v.name, err)
				continue
			}
			val = c
		}
		out[v.name] = val
	}
	var unknown []string
	for name := range m.vars {
		if !declared[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		m.diags = append(m.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("--var %s: no variable block declares it", name)})
	}
	return out
}

// inputs gives a called module's variables their values: the module
// block's arguments, evaluated in the calling module (with the block's
// count.index or each), else the defaults. A value not known yet is
// unknown; report: type errors are reported (the last pass).
func (m *module) inputs(report bool) map[string]cty.Value {
	ctx := m.parent.evalContext(m.each)
	out := map[string]cty.Value{}
	for _, v := range m.variables {
		a := m.call.block.Body.Attributes[v.name]
		var val cty.Value
		rng := v.rng
		switch {
		case a != nil:
			x, d := a.Expr.Value(ctx)
			if d.HasErrors() || !x.IsWhollyKnown() {
				// Whatever uses it reports it (with this cause).
				out[v.name] = cty.UnknownVal(v.typ)
				continue
			}
			val, rng = x, a.Expr.Range()
		case v.def != nil:
			x, d := v.def.Expr.Value(nil)
			if d.HasErrors() {
				if report {
					m.diags = append(m.diags, d...)
				}
				out[v.name] = cty.UnknownVal(v.typ)
				continue
			}
			val = x
		default:
			// Reported when the module was read.
			out[v.name] = cty.UnknownVal(v.typ)
			continue
		}
		if v.typ != cty.DynamicPseudoType {
			c, err := convert.Convert(val, v.typ)
			if err != nil {
				if report {
					m.errorf(rng, "%s: variable %s (%s): %v", m.addr, v.name, where(v.rng), err)
				}
				out[v.name] = cty.UnknownVal(v.typ)
				continue
			}
			val = c
		}
		out[v.name] = val
	}
	return out
}

// validate checks the variables' validation blocks against their values,
// as terraform plan does: a false condition is an error at the variable
// with its error_message. A value not known is not checked.
func (m *module) validate() {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": objOrEmpty(m.varVals)}, Functions: functions(m.dir)}
	for _, v := range m.variables {
		val, ok := m.varVals[v.name]
		if !ok || !val.IsWhollyKnown() {
			continue
		}
		name := "variable " + v.name
		given := ""
		if m.addr != "" {
			name = m.addr + ": " + name
			if a := m.call.block.Body.Attributes[v.name]; a != nil {
				given = "the value given at " + where(a.Expr.Range()) + "; "
			}
		}
		for _, rule := range v.rules {
			c, d := rule.cond.Expr.Value(ctx)
			if d.HasErrors() {
				m.diags = append(m.diags, d...)
				continue
			}
			if !c.IsWhollyKnown() {
				continue
			}
			if c.IsNull() {
				m.errorf(rule.cond.Expr.Range(), "%s: validation: condition is null, want true or false", name)
				continue
			}
			c, err := convert.Convert(c, cty.Bool)
			if err != nil {
				m.errorf(rule.cond.Expr.Range(), "%s: validation: condition: want true or false: %v", name, err)
				continue
			}
			if c.True() {
				continue
			}
			msg, d := rule.msg.Expr.Value(ctx)
			if d.HasErrors() {
				m.diags = append(m.diags, d...)
				continue
			}
			if msg, err = convert.Convert(msg, cty.String); err != nil || msg.IsNull() || !msg.IsKnown() {
				m.errorf(rule.msg.Expr.Range(), "%s: validation: error_message: want a string", name)
				continue
			}
			m.errorf(v.rng, "%s: invalid value: %s (%schecked by the validation rule at %s)", name, msg.AsString(), given, where(rule.rng))
		}
	}
}
