package transform

import (
	"bytes"
	"encoding/json"
)

// node is one JSON value of a parsed document. raw is its text exactly as
// in the document; a node synthesised by a wildcard path has raw == nil and
// its elements in kids.
type node struct {
	kind byte // '{', '[', '"', '0' (number), 't', 'f', 'n'
	raw  []byte
	keys [][]byte // object member names, quoted as in the document
	kids []*node
}

// parse reads one JSON document into a tree of nodes that share doc's bytes.
func parse(doc []byte) (*node, error) {
	if !json.Valid(doc) {
		// json.Unmarshal says where and why.
		var v any
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, err
		}
		return nil, errNotJSON
	}
	p := parser{b: doc}
	n := p.value()
	return n, nil
}

// parser walks text that json.Valid accepted, so it checks nothing.
type parser struct {
	b []byte
	i int
}

func (p *parser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value() *node {
	p.space()
	start := p.i
	c := p.b[p.i]
	n := &node{}
	switch c {
	case '{':
		n.kind = '{'
		p.i++
		p.space()
		if p.b[p.i] == '}' {
			p.i++
			break
		}
		for {
			p.space()
			ks := p.i
			p.str()
			n.keys = append(n.keys, p.b[ks:p.i])
			p.space()
			p.i++ // ':'
			n.kids = append(n.kids, p.value())
			p.space()
			c := p.b[p.i]
			p.i++
			if c == '}' {
				break
			}
		}
	case '[':
		n.kind = '['
		p.i++
		p.space()
		if p.b[p.i] == ']' {
			p.i++
			break
		}
		for {
			n.kids = append(n.kids, p.value())
			p.space()
			c := p.b[p.i]
			p.i++
			if c == ']' {
				break
			}
		}
	case '"':
		n.kind = '"'
		p.str()
	case 't', 'f', 'n':
		n.kind = c
		if c == 'f' {
			p.i += 5
		} else {
			p.i += 4
		}
	default:
		n.kind = '0'
		for p.i < len(p.b) {
			switch p.b[p.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				n.raw = p.b[start:p.i]
				return n
			}
			p.i++
		}
	}
	n.raw = p.b[start:p.i]
	return n
}

// str skips a string starting at its opening quote.
func (p *parser) str() {
	p.i++
	for p.b[p.i] != '"' {
		if p.b[p.i] == '\\' {
			p.i++
		}
		p.i++
	}
	p.i++
}

// member returns the last member of object n named name (as Go's and
// Jackson's decoders do with duplicate names), or nil.
func (n *node) member(name string) *node {
	var found *node
	for i, k := range n.keys {
		if keyIs(k, name) {
			found = n.kids[i]
		}
	}
	return found
}

// keyIs reports whether the quoted JSON string k decodes to name.
func keyIs(k []byte, name string) bool {
	in := k[1 : len(k)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return string(in) == name
	}
	return unquote(k) == name
}

// unquote decodes a JSON string literal.
func unquote(q []byte) string {
	if bytes.IndexByte(q, '\\') < 0 {
		return string(q[1 : len(q)-1])
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return string(q[1 : len(q)-1])
	}
	return s
}

// appendJSON appends n as JSON text: its own bytes, or for a synthesised
// list its elements joined with commas.
func (n *node) appendJSON(dst []byte) []byte {
	if n.raw != nil {
		return append(dst, n.raw...)
	}
	dst = append(dst, '[')
	for i, k := range n.kids {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = k.appendJSON(dst)
	}
	return append(dst, ']')
}

// appendText appends n as EventBridge writes a value inside a string: a
// string's characters as they are (unescaped, unquoted), a number or literal
// as written, arrays and objects compactly with every string unquoted:
// ["A","B"] -> [A,B], {"k":"v","n":1} -> {k:v,n:1}.
func (n *node) appendText(dst []byte) []byte {
	switch n.kind {
	case '"':
		return append(dst, unquote(n.raw)...)
	case '[':
		dst = append(dst, '[')
		for i, k := range n.kids {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = k.appendText(dst)
		}
		return append(dst, ']')
	case '{':
		dst = append(dst, '{')
		for i, k := range n.kids {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, unquote(n.keys[i])...)
			dst = append(dst, ':')
			dst = k.appendText(dst)
		}
		return append(dst, '}')
	}
	return append(dst, n.raw...)
}
