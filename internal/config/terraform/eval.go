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

// run evaluates the module and maps its resources.
func (m *module) run() *config.Resources {
	vars := m.variableValues()
	if m.diags.HasErrors() {
		return nil
	}
	if m.region == "" {
		m.region = "us-east-1"
	}
	m.localVals = map[string]cty.Value{}
	m.instances = map[string][]*instance{}
	m.keyed = map[string]bool{}
	m.counted = map[string]bool{}
	// Values become known pass after pass, as references resolve; stop
	// when a pass learns nothing.
	prev := -1
	for pass := 0; pass < len(m.resources)+len(m.locals)+2; pass++ {
		known := m.pass(vars)
		if known == prev {
			break
		}
		prev = known
	}
	return m.resourcesOut(vars)
}

// pass evaluates locals and every resource instance's attributes with
// what is known so far; it returns how many values are known.
func (m *module) pass(vars map[string]cty.Value) int {
	n := 0
	ctx := m.evalContext(vars, nil)
	for _, a := range m.locals {
		v, d := a.Expr.Value(ctx)
		if !d.HasErrors() && v.IsWhollyKnown() {
			m.localVals[a.Name] = v
			n++
		}
	}
	for _, r := range m.resources {
		ctx := m.evalContext(vars, nil)
		var insts []*instance
		for _, ex := range m.expand(r, ctx, false) {
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
				n++
			}
			m.computed(in)
			insts = append(insts, in)
		}
		m.instances[r.addr()] = insts
	}
	return n
}

type expansion struct {
	addr string
	ctx  map[string]cty.Value
}

// expand gives a resource's instances by its count or for_each; report:
// errors are reported (the last pass) rather than waited out.
func (m *module) expand(r *resourceBlock, ctx *hcl.EvalContext, report bool) []expansion {
	body := r.block.Body
	if a := body.Attributes["count"]; a != nil {
		m.counted[r.addr()] = true
		v, d := a.Expr.Value(ctx)
		if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.Number {
			if report {
				if d.HasErrors() {
					m.diags = append(m.diags, d...)
				} else {
					m.errorf(a.Expr.Range(), "%s: count must be a number known without applying (literals, variables, locals)", r.addr())
				}
			}
			return nil
		}
		bf := v.AsBigFloat()
		c, acc := bf.Int64()
		if acc != 0 || c < 0 || c > 1000 {
			if report {
				m.errorf(a.Expr.Range(), "%s: count must be a whole number from 0 to 1000", r.addr())
			}
			return nil
		}
		out := make([]expansion, c)
		for i := range out {
			out[i] = expansion{fmt.Sprintf("%s[%d]", r.addr(), i), map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(i))})}}
		}
		return out
	}
	if a := body.Attributes["for_each"]; a != nil {
		m.keyed[r.addr()] = true
		v, d := a.Expr.Value(ctx)
		ty := v.Type()
		if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || !(ty.IsMapType() || ty.IsObjectType() || ty.IsSetType() || ty.IsListType() || ty.IsTupleType()) {
			if report {
				if d.HasErrors() {
					m.diags = append(m.diags, d...)
				} else {
					m.errorf(a.Expr.Range(), "%s: for_each must be a map or a set of strings known without applying", r.addr())
				}
			}
			return nil
		}
		var out []expansion
		isSet := !(ty.IsMapType() || ty.IsObjectType())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if isSet {
				if e.Type() != cty.String {
					if report {
						m.errorf(a.Expr.Range(), "%s: for_each over a list or set wants strings (toset([...]))", r.addr())
					}
					return nil
				}
				k = e
			}
			key := k.AsString()
			out = append(out, expansion{fmt.Sprintf("%s[%q]", r.addr(), key), map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": k, "value": e})}})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
		return out
	}
	return []expansion{{addr: r.addr()}}
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
	case "aws_cloudwatch_metric_alarm":
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
	names  []string // attribute and block names, for unknown-key checks
}

// evalBody evaluates a resource body (its final pass), reporting errors.
func (m *module) evalBody(addr string, b *hclsyntax.Body, rng hcl.Range, ctx *hcl.EvalContext) *node {
	n := &node{rng: rng, attrs: map[string]attr{}, blocks: map[string][]*node{}}
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
			m.errorf(a.Expr.Range(), "%s: %s: the value depends on something Trailwatch cannot know (a module output, or a resource attribute only AWS knows)", addr, a.Name)
			continue
		}
		n.attrs[a.Name] = attr{v, a.Expr.Range()}
		n.names = append(n.names, a.Name)
	}
	for _, blk := range b.Blocks {
		if blk.Type == "dynamic" || blk.Type == "lifecycle" {
			if blk.Type == "dynamic" {
				m.errorf(blk.DefRange(), "%s: dynamic blocks are not supported; write the blocks out", addr)
			}
			continue
		}
		n.blocks[blk.Type] = append(n.blocks[blk.Type], m.evalBody(addr, blk.Body, blk.DefRange(), ctx))
		n.names = append(n.names, blk.Type)
	}
	return n
}
