package terraform

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/trailwatch/trailwatch/internal/config"
)

const account = "123456789012"

// meta are resource arguments that are Terraform's, not the resource's.
var meta = map[string]bool{"count": true, "for_each": true, "provider": true, "depends_on": true}

// run evaluates the modules, the root and those it calls, and maps their
// resources.
func (r *reader) run(root *modDef) *config.Resources {
	m := newModule(r, root, "", nil, nil)
	m.varVals = m.rootVariables()
	if r.diags.HasErrors() {
		return nil
	}
	m.validate()
	if r.diags.HasErrors() {
		return nil
	}
	// Values become known pass after pass, as references resolve; stop
	// when a pass changes nothing (or after as many passes as there are
	// things to evaluate, for values that would change forever).
	for pass := 0; ; pass++ {
		items, changed := m.pass()
		if !changed || pass > items+2 {
			break
		}
	}
	o := &out{rs: &config.Resources{Region: r.region, Account: account}, arnAddr: map[string]string{},
		targets: map[string][]target{}, ruleByName: map[string]*config.Resource{}}
	m.arns(o)
	m.report(o)
	r.attachTargets(o)
	return o.rs
}

// pass evaluates the module's variables (a called module's), locals,
// every resource instance's attributes, the modules it calls and its
// outputs with what is known so far; it returns how many things there
// are to evaluate and whether any value changed.
func (m *module) pass() (items int, changed bool) {
	if m.parent != nil {
		vals := m.inputs(false)
		if !sameVals(vals, m.varVals) {
			changed = true
		}
		m.varVals = vals
		items += len(vals)
	}
	ctx := m.evalContext(nil)
	for _, a := range m.locals {
		items++
		v, d := a.Expr.Value(ctx)
		if !d.HasErrors() && v.IsWhollyKnown() {
			if old, ok := m.localVals[a.Name]; !ok || !old.RawEquals(v) {
				changed = true
			}
			m.localVals[a.Name] = v
		}
	}
	for _, r := range m.resources {
		items++
		ctx := m.evalContext(nil)
		exps, mode := m.expand(m.full(r.addr()), r.block.Body, ctx, false)
		m.counted[r.addr()], m.keyed[r.addr()] = mode == counted, mode == keyed
		var insts []*instance
		for _, ex := range exps {
			in := &instance{r: r, addr: ex.addr, ctx: ex.ctx, attrs: map[string]cty.Value{}}
			ictx := child(ctx, ex.ctx)
			for name, a := range r.block.Body.Attributes {
				if meta[name] {
					continue
				}
				v, d := a.Expr.Value(ictx)
				if d.HasErrors() || !v.IsWhollyKnown() {
					continue
				}
				in.attrs[name] = v
			}
			m.computed(in)
			insts = append(insts, in)
		}
		if !sameInstances(m.instances[r.addr()], insts) {
			changed = true
		}
		m.instances[r.addr()] = insts
	}
	ctx = m.evalContext(nil)
	for _, c := range m.calls {
		items++
		exps, mode := m.expand(m.full("module."+c.name), c.block.Body, ctx, false)
		var kids []*module
		for _, ex := range exps {
			k := m.called(c, ex)
			n, ch := k.pass()
			items += n
			changed = changed || ch
			kids = append(kids, k)
		}
		old := m.children[c.name]
		if len(old) != len(kids) || m.childMode[c.name] != mode {
			changed = true
		} else {
			for i := range old {
				changed = changed || old[i] != kids[i]
			}
		}
		m.children[c.name], m.childMode[c.name] = kids, mode
	}
	if m.parent != nil {
		items += len(m.outs)
		changed = m.passOutputs() || changed
	}
	return items, changed
}

func sameVals(a, b map[string]cty.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !v.RawEquals(w) {
			return false
		}
	}
	return true
}

func sameInstances(a, b []*instance) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].addr != b[i].addr || !sameVals(a[i].attrs, b[i].attrs) {
			return false
		}
	}
	return true
}

// report evaluates the module's resources, reporting errors, maps them
// into o, then the modules it calls. A called module whose arguments are
// in error is not gone into.
func (m *module) report(o *out) {
	if m.parent != nil {
		before := m.errs()
		m.varVals = m.inputs(true)
		m.validate()
		if m.errs() > before {
			return
		}
	}
	m.resourcesOut(o)
	ctx := m.evalContext(nil)
	for _, c := range m.calls {
		exps, _ := m.expand(m.full("module."+c.name), c.block.Body, ctx, true)
		for _, ex := range exps {
			m.called(c, ex).report(o)
		}
	}
}

// arns indexes every resource instance's ARN, in this module and those it
// calls, by address (to name the resource a Skipped entry points to).
func (m *module) arns(o *out) {
	for _, insts := range m.instances {
		for _, in := range insts {
			if v, ok := in.attrs["arn"]; ok && v.Type() == cty.String {
				o.arnAddr[v.AsString()] = in.addr
			}
		}
	}
	for _, c := range m.calls {
		for _, k := range m.children[c.name] {
			k.arns(o)
		}
	}
}

type expansion struct {
	addr string
	ctx  map[string]cty.Value
}

// expand gives the instances a resource or module block (at address
// addr, body body) makes by its count or for_each, and which of the two
// it has; report: errors are reported (the last pass) rather than waited
// out.
func (m *module) expand(addr string, body *hclsyntax.Body, ctx *hcl.EvalContext, report bool) ([]expansion, int) {
	if a := body.Attributes["count"]; a != nil {
		v, d := a.Expr.Value(ctx)
		if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.Number {
			if report {
				switch {
				case d.HasErrors():
					m.diags = append(m.diags, d...)
				case !v.IsWhollyKnown():
					m.notKnown(addr, "count", a.Expr)
				default:
					m.errorf(a.Expr.Range(), "%s: count must be a number known without applying (literals, variables, locals)", addr)
				}
			}
			return nil, counted
		}
		bf := v.AsBigFloat()
		c, acc := bf.Int64()
		if acc != 0 || c < 0 || c > 1000 {
			if report {
				m.errorf(a.Expr.Range(), "%s: count must be a whole number from 0 to 1000", addr)
			}
			return nil, counted
		}
		out := make([]expansion, c)
		for i := range out {
			out[i] = expansion{fmt.Sprintf("%s[%d]", addr, i), map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(i))})}}
		}
		return out, counted
	}
	if a := body.Attributes["for_each"]; a != nil {
		v, d := a.Expr.Value(ctx)
		ty := v.Type()
		if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || !(ty.IsMapType() || ty.IsObjectType() || ty.IsSetType() || ty.IsListType() || ty.IsTupleType()) {
			if report {
				switch {
				case d.HasErrors():
					m.diags = append(m.diags, d...)
				case !v.IsWhollyKnown():
					m.notKnown(addr, "for_each", a.Expr)
				default:
					m.errorf(a.Expr.Range(), "%s: for_each must be a map or a set of strings known without applying", addr)
				}
			}
			return nil, keyed
		}
		var out []expansion
		isSet := !(ty.IsMapType() || ty.IsObjectType())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if isSet {
				if e.Type() != cty.String {
					if report {
						m.errorf(a.Expr.Range(), "%s: for_each over a list or set wants strings (toset([...]))", addr)
					}
					return nil, keyed
				}
				k = e
			}
			key := k.AsString()
			out = append(out, expansion{fmt.Sprintf("%s[%q]", addr, key), map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": k, "value": e})}})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
		return out, keyed
	}
	return []expansion{{addr: addr}}, single
}

func (m *module) arn(service, resource string) string {
	return config.ARN("", service, m.region, account, resource)
}

func str(attrs map[string]cty.Value, name, def string) string {
	if v, ok := attrs[name]; ok && v.Type() == cty.String && !v.IsNull() {
		return v.AsString()
	}
	return def
}

// computed adds the attributes AWS would give a resource (arn, id, ...),
// as config gives its CloudFormation equivalent.
func (m *module) computed(in *instance) {
	a := in.attrs
	set := func(k, v string) {
		if _, ok := a[k]; !ok {
			a[k] = cty.StringVal(v)
		}
	}
	r := in.r
	if r.data {
		switch r.typ {
		case "aws_caller_identity":
			set("account_id", account)
			set("arn", config.ARN("", "iam", m.region, account, "user/trailwatch"))
			set("user_id", "AIDAEXAMPLE")
		case "aws_region":
			set("name", m.region)
			set("region", m.region)
			set("id", m.region)
		case "aws_partition":
			p := config.ARN("", "x", m.region, account, "")
			set("partition", p[len("arn:"):len("arn:")+indexColon(p[4:])])
			set("dns_suffix", "amazonaws.com")
		case "aws_iam_policy_document":
			set("json", "{}")
		}
		set("id", in.addr)
		return
	}
	name := str(a, "name", r.name)
	switch r.typ {
	case "aws_sns_topic":
		set("name", name)
		set("arn", m.arn("sns", name))
		set("id", m.arn("sns", name))
	case "aws_cloudwatch_event_rule":
		set("name", name)
		set("arn", m.arn("events", "rule/"+name))
		set("id", name)
	case "aws_cloudwatch_event_connection":
		set("name", name)
		set("arn", m.arn("events", "connection/"+name+"/00000000-0000-0000-0000-000000000000"))
		set("secret_arn", m.arn("secretsmanager", "secret:events!connection/"+name))
		set("id", name)
	case "aws_cloudwatch_event_api_destination":
		set("name", name)
		set("arn", m.arn("events", "api-destination/"+name+"/00000000-0000-0000-0000-000000000000"))
		set("id", name)
	case "aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm":
		n := str(a, "alarm_name", r.name)
		set("arn", m.arn("cloudwatch", "alarm:"+n))
		set("id", n)
	case "aws_scheduler_schedule":
		set("name", name)
		set("arn", m.arn("scheduler", "schedule/"+str(a, "group_name", "default")+"/"+name))
		set("id", str(a, "group_name", "default")+"/"+name)
	case "aws_lambda_function":
		n := str(a, "function_name", r.name)
		set("arn", m.arn("lambda", "function:"+n))
		set("invoke_arn", m.arn("lambda", "function:"+n))
		set("id", n)
	case "aws_sqs_queue":
		set("name", name)
		set("arn", m.arn("sqs", name))
		set("url", fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", m.region, account, name))
		set("id", fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", m.region, account, name))
	case "aws_iam_role":
		set("name", name)
		set("arn", m.arn("iam", "role/"+name))
		set("id", name)
	case "aws_cloudwatch_log_group":
		set("name", name)
		set("arn", m.arn("logs", "log-group:"+name))
		set("id", name)
	default:
		set("arn", m.arn("unknown", in.addr))
		set("id", in.addr)
		set("name", name)
	}
}

func indexColon(s string) int {
	for i := range s {
		if s[i] == ':' {
			return i
		}
	}
	return len(s)
}

// attr is an evaluated attribute with where it was written.
type attr struct {
	v   cty.Value
	rng hcl.Range
}

// node is an evaluated block body.
type node struct {
	rng    hcl.Range
	attrs  map[string]attr
	blocks map[string][]*node
	names  []string             // attribute and block names, for unknown-key checks
	at     map[string]hcl.Range // where each block type was first written
}

// evalBody evaluates a resource body (its final pass), reporting errors;
// dynamic blocks become the blocks they make.
func (m *module) evalBody(addr string, b *hclsyntax.Body, rng hcl.Range, ctx *hcl.EvalContext) *node {
	n := &node{rng: rng, attrs: map[string]attr{}, blocks: map[string][]*node{}, at: map[string]hcl.Range{}}
	for _, a := range sortedAttrs(b) {
		if meta[a.Name] {
			continue
		}
		v, d := a.Expr.Value(ctx)
		if d.HasErrors() {
			m.diags = append(m.diags, d...)
			continue
		}
		if !v.IsWhollyKnown() {
			m.notKnown(addr, a.Name, a.Expr)
			continue
		}
		n.attrs[a.Name] = attr{v, a.Expr.Range()}
		n.names = append(n.names, a.Name)
	}
	for _, blk := range b.Blocks {
		typ := blk.Type
		var made []*node
		switch typ {
		case "lifecycle":
			continue
		case "dynamic":
			typ, made = m.dynamic(addr, blk, ctx)
			if typ == "" {
				continue
			}
		default:
			made = []*node{m.evalBody(addr, blk.Body, blk.DefRange(), ctx)}
		}
		if _, ok := n.at[typ]; !ok {
			n.at[typ] = blk.DefRange()
			n.names = append(n.names, typ)
		}
		n.blocks[typ] = append(n.blocks[typ], made...)
	}
	return n
}
