package rule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// jval is a JSON value that keeps object key order (and duplicate keys), so
// that a pattern or an event written in YAML becomes the JSON its author
// wrote: numbers stay numbers, strings stay strings, null stays null.
type jval struct {
	kind jkind
	raw  string // JSON text of a scalar
	keys []string
	vals []*jval // object values (parallel to keys) or array elements
}

type jkind int

const (
	jScalar jkind = iota
	jObject
	jArray
)

func jstring(s string) *jval {
	return &jval{kind: jScalar, raw: quoteJSON(s)}
}

func quoteJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return string(bytes.TrimRight(b.Bytes(), "\n"))
}

// str returns the value of a JSON string scalar.
func (v *jval) str() (string, bool) {
	if v == nil || v.kind != jScalar || len(v.raw) == 0 || v.raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal([]byte(v.raw), &s); err != nil {
		return "", false
	}
	return s, true
}

// get returns the last value under key in an object (JSON's "last one
// wins"), or nil.
func (v *jval) get(key string) *jval {
	if v == nil || v.kind != jObject {
		return nil
	}
	for i := len(v.keys) - 1; i >= 0; i-- {
		if v.keys[i] == key {
			return v.vals[i]
		}
	}
	return nil
}

func (v *jval) hasKey(key string) bool { return v.get(key) != nil }

func (v *jval) appendJSON(b []byte) []byte {
	switch v.kind {
	case jObject:
		b = append(b, '{')
		for i, k := range v.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, quoteJSON(k)...)
			b = append(b, ':')
			b = v.vals[i].appendJSON(b)
		}
		return append(b, '}')
	case jArray:
		b = append(b, '[')
		for i, e := range v.vals {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.appendJSON(b)
		}
		return append(b, ']')
	}
	return append(b, v.raw...)
}

func (v *jval) JSON() []byte { return v.appendJSON(nil) }

// nodeError is an error at a YAML node.
type nodeError struct {
	line, col int
	field     string
	msg       string
}

func (e *nodeError) Error() string { return e.msg }

func errAt(n *yaml.Node, field, format string, args ...any) *nodeError {
	return &nodeError{line: n.Line, col: n.Column, field: field, msg: fmt.Sprintf(format, args...)}
}

// fromYAML converts a YAML node to a JSON value, keeping key order and
// scalar types. field names the node in error messages.
func fromYAML(n *yaml.Node, field string) (*jval, error) {
	return fromYAMLDepth(n, field, 0)
}

func fromYAMLDepth(n *yaml.Node, field string, depth int) (*jval, error) {
	if depth > 100 {
		return nil, errAt(n, field, "nested too deeply")
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, errAt(n, field, "unknown alias")
		}
		return fromYAMLDepth(n.Alias, field, depth+1)
	}
	switch n.Kind {
	case yaml.MappingNode:
		v := &jval{kind: jObject}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, e := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.AliasNode && k.Alias != nil {
				k = k.Alias
			}
			if k.Kind != yaml.ScalarNode {
				return nil, errAt(k, field, "a key must be a string")
			}
			if k.Tag == "!!merge" {
				return nil, errAt(k, field, "merge keys (<<) are not supported")
			}
			if seen[k.Value] {
				return nil, errAt(k, joinField(field, k.Value), "duplicate key %q", k.Value)
			}
			seen[k.Value] = true
			ev, err := fromYAMLDepth(e, joinField(field, k.Value), depth+1)
			if err != nil {
				return nil, err
			}
			v.keys = append(v.keys, k.Value)
			v.vals = append(v.vals, ev)
		}
		return v, nil
	case yaml.SequenceNode:
		v := &jval{kind: jArray, vals: []*jval{}}
		for i, e := range n.Content {
			ev, err := fromYAMLDepth(e, fmt.Sprintf("%s[%d]", field, i), depth+1)
			if err != nil {
				return nil, err
			}
			v.vals = append(v.vals, ev)
		}
		return v, nil
	case yaml.ScalarNode:
		return scalarJSON(n, field)
	}
	return nil, errAt(n, field, "unsupported YAML node")
}

func joinField(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func scalarJSON(n *yaml.Node, field string) (*jval, error) {
	switch n.ShortTag() {
	case "!!str", "!!timestamp", "!!binary":
		return jstring(n.Value), nil
	case "!!null":
		return &jval{raw: "null"}, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, errAt(n, field, "bad boolean %q", n.Value)
		}
		return &jval{raw: strconv.FormatBool(b)}, nil
	case "!!int":
		if isJSONNumber(n.Value) {
			return &jval{raw: n.Value}, nil
		}
		var i int64
		if err := n.Decode(&i); err == nil {
			return &jval{raw: strconv.FormatInt(i, 10)}, nil
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			return &jval{raw: strconv.FormatUint(u, 10)}, nil
		}
		return nil, errAt(n, field, "integer %q out of range", n.Value)
	case "!!float":
		if isJSONNumber(n.Value) {
			return &jval{raw: n.Value}, nil
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, errAt(n, field, "bad number %q", n.Value)
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, errAt(n, field, "%q is not a JSON number", n.Value)
		}
		return &jval{raw: strconv.FormatFloat(f, 'g', -1, 64)}, nil
	}
	return nil, errAt(n, field, "unsupported YAML tag %s", n.Tag)
}

var jsonNumberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

func isJSONNumber(s string) bool { return jsonNumberRE.MatchString(s) }

// parseJSON reads one JSON value keeping key order.
func parseJSON(data []byte) (*jval, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := readJSON(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func readJSON(dec *json.Decoder, depth int) (*jval, error) {
	if depth > 100 {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("unexpected end of JSON")
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &jval{kind: jObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				e, err := readJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, k)
				v.vals = append(v.vals, e)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		case '[':
			v := &jval{kind: jArray, vals: []*jval{}}
			for dec.More() {
				e, err := readJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.vals = append(v.vals, e)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return jstring(t), nil
	case json.Number:
		return &jval{raw: string(t)}, nil
	case bool:
		return &jval{raw: strconv.FormatBool(t)}, nil
	case nil:
		return &jval{raw: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}
