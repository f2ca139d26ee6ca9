package terraform

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// dynamic evaluates a dynamic block of resource addr, as Terraform
// expands it: one block of its label's type per element of for_each, its
// content evaluated with the iterator (iterator = NAME, else the label)
// holding the element's key and value. Content may hold dynamic blocks in
// turn. It returns the type and the blocks; "" when in error (reported).
func (m *module) dynamic(addr string, blk *hclsyntax.Block, ctx *hcl.EvalContext) (string, []*node) {
	if len(blk.Labels) != 1 {
		m.errorf(blk.DefRange(), "%s: dynamic: want one label (the type of the blocks it makes)", addr)
		return "", nil
	}
	typ := blk.Labels[0]
	what := addr + ": dynamic \"" + typ + "\""
	body := blk.Body
	iter := typ
	bad := false
	for _, a := range sortedAttrs(body) {
		switch a.Name {
		case "for_each":
		case "iterator":
			iter = hcl.ExprAsKeyword(a.Expr)
			if iter == "" {
				m.errorf(a.Expr.Range(), "%s: iterator: want a name (iterator = item)", what)
				bad = true
			}
		case "labels":
			m.errorf(a.NameRange, "%s: labels: %s blocks take no labels", what, typ)
			bad = true
		default:
			m.errorf(a.NameRange, "%s: unsupported argument %q (for_each, iterator, content)", what, a.Name)
			bad = true
		}
	}
	var content *hclsyntax.Block
	for _, b := range body.Blocks {
		switch {
		case b.Type != "content":
			m.errorf(b.DefRange(), "%s: unexpected %s block: want one content block", what, b.Type)
			bad = true
		case content != nil:
			m.errorf(b.DefRange(), "%s: a second content block (the first at %s)", what, where(content.DefRange()))
			bad = true
		default:
			content = b
		}
	}
	if content == nil {
		m.errorf(blk.DefRange(), "%s: content block missing", what)
		bad = true
	}
	fe := body.Attributes["for_each"]
	if fe == nil {
		m.errorf(blk.DefRange(), "%s: for_each: missing", what)
		return "", nil
	}
	v, d := fe.Expr.Value(ctx)
	switch {
	case d.HasErrors():
		m.diags = append(m.diags, d...)
		return "", nil
	case !v.IsWhollyKnown():
		m.notKnown(what, "for_each", fe.Expr)
		return "", nil
	case v.IsNull():
		m.errorf(fe.Expr.Range(), "%s: for_each is null, want a list, set or map", what)
		return "", nil
	case !v.CanIterateElements():
		m.errorf(fe.Expr.Range(), "%s: for_each is a %s, want a list, set or map", what, v.Type().FriendlyName())
		return "", nil
	}
	if bad {
		return "", nil
	}
	v, _ = v.Unmark()
	var out []*node
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		c := child(ctx, map[string]cty.Value{iter: cty.ObjectVal(map[string]cty.Value{"key": k, "value": e})})
		n := m.evalBody(addr, content.Body, blk.DefRange(), c)
		out = append(out, n)
	}
	return typ, out
}
