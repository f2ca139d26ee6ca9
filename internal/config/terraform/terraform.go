// Package terraform reads Terraform configuration (.tf files) defining the
// AWS resources Trailwatch runs (EventBridge rules and targets, SNS topics
// and subscriptions, API destinations and connections, log metric filters,
// CloudWatch alarms, EventBridge Scheduler schedules) into the
// CloudFormation-shaped resources internal/config builds, so that a
// Terraform resource and its CloudFormation equivalent run alike.
//
// The direction: this package imports internal/config (config.LoadWith,
// config.Resources); config does not import it.
//
// What is evaluated: variables (default; --var NAME=VALUE; TF_VAR_NAME;
// type conversion; validation blocks are not checked), locals, references
// between resources (aws_sns_topic.x.arn, aws_cloudwatch_event_rule.x.name,
// data.aws_region.current.name, ...), string interpolation, heredocs, the
// usual functions (jsonencode, format, join, merge, ...), count and
// for_each. file() and templatefile() are errors naming them. Resource
// types Trailwatch does not run are listed in Skipped with their address.
package terraform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/trailwatch/trailwatch/internal/config"
)

// Load reads .tf files (a directory: its *.tf) into a Config, validated as
// config.Load validates templates. vars are --var NAME=VALUE; env looks up
// TF_VAR_NAME (os.LookupEnv in production; nil: none).
func Load(files []string, vars map[string]string, env func(string) (string, bool)) (*config.Config, error) {
	rs, err := Read(files, vars, env)
	if err != nil {
		return nil, err
	}
	return config.LoadWith(nil, nil, []*config.Resources{rs}, nil, env)
}

// Read reads .tf files into resources for config.LoadWith, to be loaded
// with native files and templates.
func Read(files []string, vars map[string]string, env func(string) (string, bool)) (*config.Resources, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	paths, err := expand(files)
	if err != nil {
		return nil, err
	}
	m := &module{vars: vars, env: env, dir: "."}
	if len(paths) > 0 {
		m.dir = filepath.Dir(paths[0])
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("terraform: %w", err)
		}
		m.parse(p, data)
	}
	if m.diags.HasErrors() {
		return nil, diagErr(m.diags)
	}
	rs := m.run()
	if m.diags.HasErrors() {
		return nil, diagErr(m.diags)
	}
	rs.Name = "terraform"
	if len(paths) == 1 {
		rs.Name = paths[0]
	} else if len(files) == 1 {
		rs.Name = files[0]
	}
	return rs, nil
}

// expand turns directories into their *.tf files, in name order.
func expand(files []string) ([]string, error) {
	var out []string
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("terraform: %w", err)
		}
		if !st.IsDir() {
			out = append(out, f)
			continue
		}
		ms, err := filepath.Glob(filepath.Join(f, "*.tf"))
		if err != nil {
			return nil, fmt.Errorf("terraform: %w", err)
		}
		if len(ms) == 0 {
			return nil, fmt.Errorf("terraform: %s: no .tf files", f)
		}
		sort.Strings(ms)
		out = append(out, ms...)
	}
	return out, nil
}

// diagErr joins error diagnostics as "file:line:col: summary: detail".
func diagErr(diags hcl.Diagnostics) error {
	var errs []error
	seen := map[string]bool{}
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if d.Subject != nil {
			msg = fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, msg)
		}
		if !seen[msg] {
			seen[msg] = true
			errs = append(errs, errors.New(msg))
		}
	}
	return errors.Join(errs...)
}

type variable struct {
	name  string
	def   *hcl.Attribute
	typ   cty.Type
	rng   hcl.Range
	value cty.Value
}

type resourceBlock struct {
	typ, name string
	block     *hclsyntax.Block
	data      bool
}

func (r *resourceBlock) addr() string {
	if r.data {
		return "data." + r.typ + "." + r.name
	}
	return r.typ + "." + r.name
}

// instance is one resource instance (count and for_each make several).
type instance struct {
	r     *resourceBlock
	addr  string
	ctx   map[string]cty.Value // count / each
	attrs map[string]cty.Value // evaluated so far (computed ones added)
}

type module struct {
	vars  map[string]string
	env   func(string) (string, bool)
	dir   string
	diags hcl.Diagnostics

	variables []*variable
	locals    []*hcl.Attribute
	resources []*resourceBlock
	region    string

	// evaluation state
	localVals map[string]cty.Value
	instances map[string][]*instance // addr -> instances
	keyed     map[string]bool        // addr uses for_each
	counted   map[string]bool        // addr uses count
}

func (m *module) errorf(rng hcl.Range, format string, args ...any) {
	r := rng
	m.diags = append(m.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf(format, args...), Subject: &r})
}

func (m *module) parse(file string, data []byte) {
	f, diags := hclsyntax.ParseConfig(data, file, hcl.InitialPos)
	m.diags = append(m.diags, diags...)
	if f == nil {
		return
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return
	}
	for name, a := range body.Attributes {
		m.errorf(a.SrcRange, "unexpected attribute %q at top level", name)
	}
	for _, b := range body.Blocks {
		switch b.Type {
		case "variable":
			if len(b.Labels) != 1 {
				m.errorf(b.DefRange(), "variable: want one label")
				continue
			}
			v := &variable{name: b.Labels[0], def: b.Body.Attributes["default"].AsHCLAttribute(), typ: cty.DynamicPseudoType, rng: b.DefRange()}
			if b.Body.Attributes["default"] == nil {
				v.def = nil
			}
			if t := b.Body.Attributes["type"]; t != nil {
				ty, d := typeexpr.TypeConstraint(t.Expr)
				m.diags = append(m.diags, d...)
				if !d.HasErrors() {
					v.typ = ty
				}
			}
			// validation blocks are not checked (a note in the package doc).
			m.variables = append(m.variables, v)
		case "locals":
			for _, a := range sortedAttrs(b.Body) {
				m.locals = append(m.locals, a.AsHCLAttribute())
			}
		case "resource", "data":
			if len(b.Labels) != 2 {
				m.errorf(b.DefRange(), "%s: want two labels (type and name)", b.Type)
				continue
			}
			m.resources = append(m.resources, &resourceBlock{typ: b.Labels[0], name: b.Labels[1], block: b, data: b.Type == "data"})
		case "provider":
			if len(b.Labels) == 1 && b.Labels[0] == "aws" && m.region == "" {
				if a := b.Body.Attributes["region"]; a != nil {
					if v, d := a.Expr.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
						m.region = v.AsString()
					}
				}
			}
		case "terraform", "output", "moved", "import", "check", "removed":
			// accepted; nothing to run
		case "module":
			// modules are not read; references to them stay unknown
		default:
			m.errorf(b.DefRange(), "unknown block type %q", b.Type)
		}
	}
}

func sortedAttrs(b *hclsyntax.Body) []*hclsyntax.Attribute {
	as := make([]*hclsyntax.Attribute, 0, len(b.Attributes))
	for _, a := range b.Attributes {
		as = append(as, a)
	}
	sort.Slice(as, func(i, j int) bool { return as[i].SrcRange.Start.Byte < as[j].SrcRange.Start.Byte })
	return as
}

// variablesValues sets each variable's value: --var, TF_VAR_, default.
func (m *module) variableValues() map[string]cty.Value {
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

// evalContext is the context an expression of an instance sees.
func (m *module) evalContext(vars map[string]cty.Value, extra map[string]cty.Value) *hcl.EvalContext {
	v := map[string]cty.Value{
		"var":   objOrEmpty(vars),
		"local": objOrEmpty(m.localVals),
		"path": cty.ObjectVal(map[string]cty.Value{
			"module": cty.StringVal(m.dir), "root": cty.StringVal(m.dir), "cwd": cty.StringVal(m.dir),
		}),
		"terraform": cty.ObjectVal(map[string]cty.Value{"workspace": cty.StringVal("default")}),
	}
	byType := map[string]map[string]cty.Value{}
	data := map[string]map[string]cty.Value{}
	for _, r := range m.resources {
		insts := m.instances[r.addr()]
		var val cty.Value
		switch {
		case m.counted[r.addr()]:
			vals := make([]cty.Value, len(insts))
			for i, in := range insts {
				vals[i] = objOrEmpty(in.attrs)
			}
			val = cty.TupleVal(vals)
			if len(vals) == 0 {
				val = cty.EmptyTupleVal
			}
		case m.keyed[r.addr()]:
			vals := map[string]cty.Value{}
			for _, in := range insts {
				k := in.ctx["each"].GetAttr("key").AsString()
				vals[k] = objOrEmpty(in.attrs)
			}
			val = objOrEmpty(vals)
		case len(insts) == 1:
			val = objOrEmpty(insts[0].attrs)
		default:
			val = cty.DynamicVal
		}
		target := byType
		if r.data {
			target = data
		}
		if target[r.typ] == nil {
			target[r.typ] = map[string]cty.Value{}
		}
		target[r.typ][r.name] = val
	}
	for typ, names := range byType {
		v[typ] = cty.ObjectVal(names)
	}
	dv := map[string]cty.Value{}
	for typ, names := range data {
		dv[typ] = cty.ObjectVal(names)
	}
	v["data"] = objOrEmpty(dv)
	v["module"] = cty.DynamicVal
	base := &hcl.EvalContext{Variables: v, Functions: functions(m.dir)}
	if len(extra) == 0 {
		return base
	}
	return child(base, extra)
}

// child is ctx with count or each.
func child(ctx *hcl.EvalContext, extra map[string]cty.Value) *hcl.EvalContext {
	if len(extra) == 0 {
		return ctx
	}
	c := ctx.NewChild()
	c.Variables = extra
	return c
}

func objOrEmpty(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// unsupported is a function Trailwatch does not evaluate: an error naming it.
func unsupported(name, why string) function.Function {
	return function.New(&function.Spec{
		VarParam: &function.Parameter{Name: "args", Type: cty.DynamicPseudoType, AllowNull: true, AllowUnknown: true, AllowDynamicType: true},
		Type:     function.StaticReturnType(cty.String),
		Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
			return cty.NilVal, fmt.Errorf("%s() is not supported by Trailwatch: %s", name, why)
		},
	})
}
