package config

import (
	"encoding/json"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// tval is a template value: a scalar, a list or a mapping (keys in order),
// with where it was written. secret marks values derived from a NoEcho
// parameter: they are never shown in messages.
type tval struct {
	kind   vkind
	s      string // scalar text
	tag    string // scalar type: str, int, float, bool, null, timestamp, ...
	list   []*tval
	keys   []string
	vals   []*tval
	p      pos
	secret bool
}

type vkind int

const (
	vScalar vkind = iota
	vList
	vMap
)

func strVal(s string, p pos, secret bool) *tval {
	return &tval{kind: vScalar, s: s, tag: "str", p: p, secret: secret}
}

func (v *tval) get(key string) *tval {
	if v == nil || v.kind != vMap {
		return nil
	}
	for i, k := range v.keys {
		if k == key {
			return v.vals[i]
		}
	}
	return nil
}

func (v *tval) isNull() bool { return v == nil || (v.kind == vScalar && v.tag == "null") }

// show quotes a value for a message, unless it is secret.
func (v *tval) show() string {
	if v == nil {
		return "nothing"
	}
	if v.secret {
		return redacted
	}
	switch v.kind {
	case vList:
		return "a list"
	case vMap:
		return "a mapping"
	}
	return strconv.Quote(v.s)
}

// intrinsic names of the short-form YAML tags.
var shortTags = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!GetAtt": "Fn::GetAtt", "!Sub": "Fn::Sub", "!Join": "Fn::Join", "!If": "Fn::If",
	"!Equals": "Fn::Equals", "!Not": "Fn::Not", "!And": "Fn::And", "!Or": "Fn::Or",
	"!Select": "Fn::Select", "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap",
	"!Base64": "Fn::Base64", "!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue",
	"!Cidr": "Fn::Cidr", "!Transform": "Fn::Transform", "!ToJsonString": "Fn::ToJsonString",
	"!Length": "Fn::Length",
}

const maxTemplateNodes = 200000

// converter turns YAML nodes into template values.
type converter struct {
	t     *tmpl
	nodes int
}

func (c *converter) conv(n *yaml.Node, depth int) *tval {
	n = resolveAlias(n)
	c.nodes++
	p := nodePos(n)
	if depth > 100 || c.nodes > maxTemplateNodes {
		if c.nodes <= maxTemplateNodes+1 || depth == 101 {
			c.t.errorf(p, "", "template too large or too deeply nested")
		}
		c.nodes = maxTemplateNodes + 2
		return &tval{kind: vScalar, tag: "null", p: p}
	}
	var v *tval
	switch n.Kind {
	case yaml.MappingNode:
		v = &tval{kind: vMap, p: p}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolveAlias(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				c.t.errorf(nodePos(k), "", "want a string key")
				continue
			}
			if k.Value == "<<" {
				c.t.errorf(nodePos(k), "", "YAML merge keys are not allowed in templates")
				continue
			}
			dup := false
			for _, have := range v.keys {
				if have == k.Value {
					dup = true
				}
			}
			if dup {
				c.t.errorf(nodePos(k), k.Value, "duplicate key")
				continue
			}
			v.keys = append(v.keys, k.Value)
			val := c.conv(n.Content[i+1], depth+1)
			v.vals = append(v.vals, val)
		}
	case yaml.SequenceNode:
		v = &tval{kind: vList, p: p}
		for _, e := range n.Content {
			v.list = append(v.list, c.conv(e, depth+1))
		}
	case yaml.ScalarNode:
		tag := strings.TrimPrefix(n.ShortTag(), "!!")
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			tag = "str"
		}
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			tag = "str"
		}
		v = &tval{kind: vScalar, s: n.Value, tag: tag, p: p}
	default:
		v = &tval{kind: vScalar, tag: "null", p: p}
	}
	if fn, ok := shortTags[n.Tag]; ok {
		return &tval{kind: vMap, keys: []string{fn}, vals: []*tval{v}, p: p}
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		c.t.errorf(p, "", "unknown tag %s", n.Tag)
	}
	return v
}

// appendJSON writes a resolved value as JSON, keeping key order and
// scalar types.
func (v *tval) appendJSON(b []byte) []byte {
	switch v.kind {
	case vMap:
		b = append(b, '{')
		for i, k := range v.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = v.vals[i].appendJSON(b)
		}
		return append(b, '}')
	case vList:
		b = append(b, '[')
		for i, e := range v.list {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.appendJSON(b)
		}
		return append(b, ']')
	}
	switch v.tag {
	case "null":
		return append(b, "null"...)
	case "bool":
		if v.s == "true" || v.s == "false" {
			return append(b, v.s...)
		}
	case "int", "float":
		if json.Valid([]byte(v.s)) {
			return append(b, v.s...)
		}
		if f, err := strconv.ParseFloat(strings.ReplaceAll(v.s, "_", ""), 64); err == nil && !isInfOrNaN(f) {
			return strconv.AppendFloat(b, f, 'g', -1, 64)
		}
	}
	return appendJSONString(b, v.s)
}

func isInfOrNaN(f float64) bool {
	return f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}
