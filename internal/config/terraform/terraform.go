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
// type conversion; validation blocks), locals, references between
// resources (aws_sns_topic.x.arn, aws_cloudwatch_event_rule.x.name,
// data.aws_region.current.name, ...), string interpolation, heredocs, the
// usual functions (jsonencode, format, join, merge, ...), count and
// for_each, dynamic blocks, and module blocks with a local source (./ or
// ../): their variables, resources (addressed module.NAME.TYPE.NAME),
// outputs, count and for_each. file() and templatefile() are errors
// naming them, and so is a module from a registry, git or http, which
// Trailwatch does not download. Resource types Trailwatch does not run
// are listed in Skipped with their address.
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
// with native files and templates. The files are the root module; the
// modules they call are read from their source directories.
func Read(files []string, vars map[string]string, env func(string) (string, bool)) (*config.Resources, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	paths, err := expand(files)
	if err != nil {
		return nil, err
	}
	r := &reader{vars: vars, env: env, defs: map[string]*modDef{}}
	root := &modDef{dir: "."}
	if len(paths) > 0 {
		root.dir = filepath.Dir(paths[0])
	}
	r.rootDir = root.dir
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("terraform: %w", err)
		}
		r.parse(root, p, data)
	}
	r.region = root.provRegion
	if r.region == "" {
		r.region = "us-east-1"
	}
	r.readCalls(root, []string{root.dir})
	if r.diags.HasErrors() {
		return nil, diagErr(r.diags)
	}
	rs := r.run(root)
	if r.diags.HasErrors() {
		return nil, diagErr(r.diags)
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

// reader is one Read: the values given, the diagnostics, the region, and
// the modules read, by directory.
type reader struct {
	vars    map[string]string
	env     func(string) (string, bool)
	diags   hcl.Diagnostics
	region  string
	rootDir string
	defs    map[string]*modDef // absolute directory -> module read from it
}

func (r *reader) errorf(rng hcl.Range, format string, args ...any) {
	x := rng
	r.diags = append(r.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf(format, args...), Subject: &x})
}

// errs is how many errors have been reported so far.
func (r *reader) errs() int {
	n := 0
	for _, d := range r.diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}

// modDef is one module's configuration: the files given (the root) or a
// local module's directory.
type modDef struct {
	dir       string
	variables []*variable
	locals    []*hcl.Attribute
	resources []*resourceBlock
	outs      []*output
	calls     []*call
	// provRegion is the first aws provider block's literal region, at
	// regionRng.
	provRegion string
	regionRng  hcl.Range
}

type variable struct {
	name  string
	def   *hcl.Attribute
	typ   cty.Type
	rng   hcl.Range
	rules []*validation
}

// validation is a variable's validation block.
type validation struct {
	cond, msg *hclsyntax.Attribute
	rng       hcl.Range
}

// output is an output block: a value the calling module reads as
// module.NAME.OUTPUT.
type output struct {
	name string
	expr hcl.Expression
	rng  hcl.Range
}

// call is a module block; def is the module its source names.
type call struct {
	name  string
	block *hclsyntax.Block
	def   *modDef
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

// module is one instance of a module: the root, or module.a,
// module.a[0].module.b, ... (count and for_each on a module block make
// several), with its evaluation state.
type module struct {
	*reader
	*modDef
	addr   string // "" for the root
	parent *module
	call   *call
	each   map[string]cty.Value // count or each of its module block
	key    cty.Value            // its count.index or each.key; NilVal without

	varVals   map[string]cty.Value
	localVals map[string]cty.Value
	instances map[string][]*instance // addr -> instances
	keyed     map[string]bool        // addr uses for_each
	counted   map[string]bool        // addr uses count
	outVals   map[string]cty.Value   // outputs known so far
	children  map[string][]*module   // call name -> instances
	childMode map[string]int         // call name -> single, counted or keyed
	cache     map[string]*module     // instance address -> module, across passes
}

func newModule(r *reader, def *modDef, addr string, parent *module, c *call) *module {
	return &module{reader: r, modDef: def, addr: addr, parent: parent, call: c,
		varVals: map[string]cty.Value{}, localVals: map[string]cty.Value{}, instances: map[string][]*instance{},
		keyed: map[string]bool{}, counted: map[string]bool{}, outVals: map[string]cty.Value{},
		children: map[string][]*module{}, childMode: map[string]int{}, cache: map[string]*module{}}
}

// full is a local address (aws_sns_topic.t, module.b) within this module
// instance.
func (m *module) full(local string) string {
	if m.addr == "" {
		return local
	}
	return m.addr + "." + local
}

// parse reads one file of module d.
func (r *reader) parse(d *modDef, file string, data []byte) {
	f, diags := hclsyntax.ParseConfig(data, file, hcl.InitialPos)
	r.diags = append(r.diags, diags...)
	if f == nil {
		return
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return
	}
	for name, a := range body.Attributes {
		r.errorf(a.SrcRange, "unexpected attribute %q at top level", name)
	}
	for _, b := range body.Blocks {
		switch b.Type {
		case "variable":
			if len(b.Labels) != 1 {
				r.errorf(b.DefRange(), "variable: want one label")
				continue
			}
			d.variables = append(d.variables, r.parseVariable(b))
		case "locals":
			for _, a := range sortedAttrs(b.Body) {
				d.locals = append(d.locals, a.AsHCLAttribute())
			}
		case "resource", "data":
			if len(b.Labels) != 2 {
				r.errorf(b.DefRange(), "%s: want two labels (type and name)", b.Type)
				continue
			}
			d.resources = append(d.resources, &resourceBlock{typ: b.Labels[0], name: b.Labels[1], block: b, data: b.Type == "data"})
		case "provider":
			if len(b.Labels) == 1 && b.Labels[0] == "aws" && d.provRegion == "" {
				if a := b.Body.Attributes["region"]; a != nil {
					if v, dg := a.Expr.Value(nil); !dg.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
						d.provRegion, d.regionRng = v.AsString(), a.Expr.Range()
					}
				}
			}
		case "output":
			if len(b.Labels) != 1 {
				r.errorf(b.DefRange(), "output: want one label")
				continue
			}
			a := b.Body.Attributes["value"]
			if a == nil {
				r.errorf(b.DefRange(), "output %q: value: missing", b.Labels[0])
				continue
			}
			d.outs = append(d.outs, &output{name: b.Labels[0], expr: a.Expr, rng: b.DefRange()})
		case "module":
			if len(b.Labels) != 1 {
				r.errorf(b.DefRange(), "module: want one label (its name)")
				continue
			}
			dup := false
			for _, c := range d.calls {
				if c.name == b.Labels[0] {
					r.errorf(b.DefRange(), "module.%s: declared twice (first at %s)", c.name, where(c.block.DefRange()))
					dup = true
				}
			}
			if !dup {
				d.calls = append(d.calls, &call{name: b.Labels[0], block: b})
			}
		case "terraform", "moved", "import", "check", "removed":
			// accepted; nothing to run
		default:
			r.errorf(b.DefRange(), "unknown block type %q", b.Type)
		}
	}
}

// parseVariable reads a variable block: default, type and validation
// blocks.
func (r *reader) parseVariable(b *hclsyntax.Block) *variable {
	v := &variable{name: b.Labels[0], typ: cty.DynamicPseudoType, rng: b.DefRange()}
	if a := b.Body.Attributes["default"]; a != nil {
		v.def = a.AsHCLAttribute()
	}
	if t := b.Body.Attributes["type"]; t != nil {
		ty, d := typeexpr.TypeConstraint(t.Expr)
		r.diags = append(r.diags, d...)
		if !d.HasErrors() {
			v.typ = ty
		}
	}
	for _, vb := range b.Body.Blocks {
		if vb.Type != "validation" {
			continue
		}
		rule := &validation{cond: vb.Body.Attributes["condition"], msg: vb.Body.Attributes["error_message"], rng: vb.DefRange()}
		if rule.cond == nil {
			r.errorf(vb.DefRange(), "variable %s: validation: condition: missing", v.name)
		}
		if rule.msg == nil {
			r.errorf(vb.DefRange(), "variable %s: validation: error_message: missing", v.name)
		}
		if rule.cond != nil && rule.msg != nil {
			v.rules = append(v.rules, rule)
		}
	}
	return v
}

func sortedAttrs(b *hclsyntax.Body) []*hclsyntax.Attribute {
	as := make([]*hclsyntax.Attribute, 0, len(b.Attributes))
	for _, a := range b.Attributes {
		as = append(as, a)
	}
	sort.Slice(as, func(i, j int) bool { return as[i].SrcRange.Start.Byte < as[j].SrcRange.Start.Byte })
	return as
}

// evalContext is the context an expression of an instance sees.
func (m *module) evalContext(extra map[string]cty.Value) *hcl.EvalContext {
	v := map[string]cty.Value{
		"var":   objOrEmpty(m.varVals),
		"local": objOrEmpty(m.localVals),
		"path": cty.ObjectVal(map[string]cty.Value{
			"module": cty.StringVal(m.dir), "root": cty.StringVal(m.rootDir), "cwd": cty.StringVal(m.rootDir),
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
	v["module"] = m.moduleValues()
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
