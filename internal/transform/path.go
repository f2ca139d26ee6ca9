package transform

import (
	"fmt"
	"strconv"
)

// maxPathLen is the longest JSON path AWS accepts (TargetInputPath).
const maxPathLen = 256

// step is one step of a compiled path: a member name, an array index, or a
// wildcard over all members or elements.
type step struct {
	name  string
	index int // >= 0 for [n]
	wild  bool
}

// path is a compiled JSON path in the subset EventBridge supports: $, then
// .name, [n], .* and [*] steps. Names hold letters, digits, '_', '-' and
// '/', as AWS documents ("dot notation, dashes, underscores, alphanumeric
// characters, array indices, wildcards, forward slashes").
type path struct {
	steps []step
	wild  bool // some step is a wildcard: the value is a list
}

// compilePath parses p, or says what is wrong with it.
func compilePath(p string) (path, error) {
	var c path
	if len(p) > maxPathLen {
		return c, fmt.Errorf("longer than %d characters", maxPathLen)
	}
	if p == "" || p[0] != '$' {
		return c, fmt.Errorf("does not start with $")
	}
	i := 1
	for i < len(p) {
		switch p[i] {
		case '.':
			i++
			j := i
			for j < len(p) && isNameByte(p[j]) {
				j++
			}
			name := p[i:j]
			switch {
			case name == "":
				return c, fmt.Errorf("empty name at offset %d", i)
			case name == "*":
				c.steps = append(c.steps, step{index: -1, wild: true})
				c.wild = true
			case containsStar(name):
				return c, fmt.Errorf("wildcard inside name %q", name)
			default:
				c.steps = append(c.steps, step{name: name, index: -1})
			}
			i = j
		case '[':
			j := i + 1
			for j < len(p) && p[j] != ']' {
				j++
			}
			if j == len(p) {
				return c, fmt.Errorf("unclosed [ at offset %d", i)
			}
			in := p[i+1 : j]
			if in == "*" {
				c.steps = append(c.steps, step{index: -1, wild: true})
				c.wild = true
			} else {
				n, err := strconv.Atoi(in)
				if err != nil || n < 0 || in[0] == '+' || in[0] == '-' {
					return c, fmt.Errorf("bad array index %q", in)
				}
				c.steps = append(c.steps, step{index: n})
			}
			i = j + 1
		default:
			return c, fmt.Errorf("unexpected %q at offset %d", p[i], i)
		}
	}
	return c, nil
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '/' || c == '*'
}

func containsStar(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '*' {
			return true
		}
	}
	return false
}

// eval evaluates the path over root. A path without wildcards yields the one
// value it names, or nil when the event lacks it. A path with wildcards
// yields a list of every value it reaches (possibly empty), as JSONPath
// implementations do for indefinite paths.
func (c path) eval(root *node) *node {
	if !c.wild {
		n := root
		for _, s := range c.steps {
			n = s.apply(n)
			if n == nil {
				return nil
			}
		}
		return n
	}
	cur := []*node{root}
	var next []*node
	for _, s := range c.steps {
		next = next[:0]
		for _, n := range cur {
			if s.wild {
				next = append(next, n.kids...)
				continue
			}
			if v := s.apply(n); v != nil {
				next = append(next, v)
			}
		}
		cur, next = next, cur
	}
	return &node{kind: '[', kids: append([]*node(nil), cur...)}
}

// apply takes one definite step from n.
func (s step) apply(n *node) *node {
	switch {
	case s.index >= 0:
		if n.kind == '[' && s.index < len(n.kids) {
			return n.kids[s.index]
		}
	case n.kind == '{':
		return n.member(s.name)
	}
	return nil
}

// Lookup evaluates one JSON path ($, $.detail.instance-id, $.resources[0],
// $.detail-type, $.detail.items[*].id) over the JSON text doc and returns
// the value's JSON text: exactly as in doc for a definite path, a JSON array
// of the values reached for a path with a wildcard. ok is false when doc
// has no value at a definite path. err reports a bad path or a doc that is
// not JSON.
func Lookup(doc []byte, p string) (value []byte, ok bool, err error) {
	c, err := compilePath(p)
	if err != nil {
		return nil, false, fmt.Errorf("json path %q: %w", p, err)
	}
	root, err := parse(doc)
	if err != nil {
		return nil, false, fmt.Errorf("json document: %w", err)
	}
	n := c.eval(root)
	if n == nil {
		return nil, false, nil
	}
	return n.appendJSON(nil), true, nil
}
