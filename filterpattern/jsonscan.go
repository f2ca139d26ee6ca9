package filterpattern

import (
	"bytes"
	"encoding/json"
)

// node is a trie of selectors: children by key, by array index, and the
// wildcard child that stands for any key or index.
type node struct {
	keys map[string]*node
	idx  map[int]*node
	wild *node
	leaf []int // ids of the selectors that end here
}

func (n *node) insert(steps []step, id int) {
	for _, st := range steps {
		var next *node
		switch {
		case st.wild:
			if n.wild == nil {
				n.wild = &node{}
			}
			next = n.wild
		case st.index >= 0:
			if n.idx == nil {
				n.idx = map[int]*node{}
			}
			if next = n.idx[st.index]; next == nil {
				next = &node{}
				n.idx[st.index] = next
			}
		default:
			if n.keys == nil {
				n.keys = map[string]*node{}
			}
			if next = n.keys[st.key]; next == nil {
				next = &node{}
				n.keys[st.key] = next
			}
		}
		n = next
	}
	n.leaf = append(n.leaf, id)
}

// nset is the set of trie nodes a JSON value is reached by. A selector has
// at most one wildcard and a pattern at most three, so at most 2^3 nodes
// are ever live together.
type nset struct {
	a [8]*node
	n int
}

func (s *nset) add(n *node) {
	if n != nil && s.n < len(s.a) {
		s.a[s.n] = n
		s.n++
	}
}

// valRec is one value found at a selector: its JSON type ('"' string, '0'
// number, 't', 'f', 'n', '{', '[') and its bytes in the message.
type valRec struct {
	id         int
	typ        byte
	start, end int
}

// scan walks one message, validating it as JSON and recording the values
// at the trie's selectors.
type scan struct {
	data []byte
	vals []valRec
}

const maxDepth = 1000

func (s *scan) reset(data []byte) {
	s.data = data
	s.vals = s.vals[:0]
}

// run reports whether the message is one valid JSON object, recording the
// values the trie names.
func (s *scan) run(root *node) bool {
	i := s.ws(0)
	if i >= len(s.data) || s.data[i] != '{' {
		return false
	}
	var set nset
	set.add(root)
	end, ok := s.value(i, set, 0)
	if !ok {
		return false
	}
	return s.ws(end) == len(s.data)
}

func (s *scan) ws(i int) int {
	for i < len(s.data) {
		switch s.data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value scans the JSON value at i reached through the nodes of set and
// returns the offset after it.
func (s *scan) value(i int, set nset, depth int) (int, bool) {
	if i >= len(s.data) || depth > maxDepth {
		return i, false
	}
	if set.n == 0 {
		return s.skip(i, depth)
	}
	var end int
	var ok bool
	typ := s.data[i]
	switch typ {
	case '"':
		end, ok = s.str(i)
	case '{':
		end, ok = s.object(i, set, depth)
	case '[':
		end, ok = s.array(i, set, depth)
	case 't':
		end, ok = s.lit(i, "true")
	case 'f':
		end, ok = s.lit(i, "false")
	case 'n':
		end, ok = s.lit(i, "null")
	default:
		typ = '0'
		end, ok = s.num(i)
	}
	if !ok {
		return end, false
	}
	for k := 0; k < set.n; k++ {
		for _, id := range set.a[k].leaf {
			s.vals = append(s.vals, valRec{id: id, typ: typ, start: i, end: end})
		}
	}
	return end, true
}

func (s *scan) object(i int, set nset, depth int) (int, bool) {
	i = s.ws(i + 1)
	if i < len(s.data) && s.data[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(s.data) || s.data[i] != '"' {
			return i, false
		}
		kend, ok := s.str(i)
		if !ok {
			return kend, false
		}
		var child nset
		if set.n > 0 {
			key := s.data[i+1 : kend-1]
			var decoded string
			escaped := bytes.IndexByte(key, '\\') >= 0
			if escaped {
				decoded = unquote(s.data[i:kend])
			}
			for k := 0; k < set.n; k++ {
				n := set.a[k]
				if n.keys != nil {
					if escaped {
						child.add(n.keys[decoded])
					} else {
						child.add(n.keys[string(key)])
					}
				}
				child.add(n.wild)
			}
		}
		i = s.ws(kend)
		if i >= len(s.data) || s.data[i] != ':' {
			return i, false
		}
		i, ok = s.value(s.ws(i+1), child, depth+1)
		if !ok {
			return i, false
		}
		i = s.ws(i)
		if i >= len(s.data) {
			return i, false
		}
		switch s.data[i] {
		case ',':
			i = s.ws(i + 1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

func (s *scan) array(i int, set nset, depth int) (int, bool) {
	i = s.ws(i + 1)
	if i < len(s.data) && s.data[i] == ']' {
		return i + 1, true
	}
	for n := 0; ; n++ {
		var child nset
		for k := 0; k < set.n; k++ {
			nd := set.a[k]
			if nd.idx != nil {
				child.add(nd.idx[n])
			}
			child.add(nd.wild)
		}
		var ok bool
		i, ok = s.value(i, child, depth+1)
		if !ok {
			return i, false
		}
		i = s.ws(i)
		if i >= len(s.data) {
			return i, false
		}
		switch s.data[i] {
		case ',':
			i = s.ws(i + 1)
		case ']':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// skip scans and validates the JSON value at i without recording anything.
func (s *scan) skip(i int, depth int) (int, bool) {
	d := s.data
	if i >= len(d) || depth > maxDepth {
		return i, false
	}
	switch d[i] {
	case '"':
		return s.str(i)
	case 't':
		return s.lit(i, "true")
	case 'f':
		return s.lit(i, "false")
	case 'n':
		return s.lit(i, "null")
	case '{':
		i = s.ws(i + 1)
		if i < len(d) && d[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(d) || d[i] != '"' {
				return i, false
			}
			var ok bool
			if i, ok = s.str(i); !ok {
				return i, false
			}
			i = s.ws(i)
			if i >= len(d) || d[i] != ':' {
				return i, false
			}
			if i, ok = s.skip(s.ws(i+1), depth+1); !ok {
				return i, false
			}
			i = s.ws(i)
			if i >= len(d) {
				return i, false
			}
			switch d[i] {
			case ',':
				i = s.ws(i + 1)
			case '}':
				return i + 1, true
			default:
				return i, false
			}
		}
	case '[':
		i = s.ws(i + 1)
		if i < len(d) && d[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = s.skip(i, depth+1); !ok {
				return i, false
			}
			i = s.ws(i)
			if i >= len(d) {
				return i, false
			}
			switch d[i] {
			case ',':
				i = s.ws(i + 1)
			case ']':
				return i + 1, true
			default:
				return i, false
			}
		}
	}
	return s.num(i)
}

// str scans a JSON string at s.data[i] == '"'.
func (s *scan) str(i int) (int, bool) {
	d := s.data
	j := i + 1
	for j < len(d) {
		for j < len(d) && d[j] >= 0x20 && d[j] != '"' && d[j] != '\\' {
			j++
		}
		if j >= len(d) {
			break
		}
		c := d[j]
		switch {
		case c == '"':
			return j + 1, true
		case c == '\\':
			if j+1 >= len(d) {
				return j, false
			}
			switch d[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+5 >= len(d) || !isHex(d[j+2]) || !isHex(d[j+3]) || !isHex(d[j+4]) || !isHex(d[j+5]) {
					return j, false
				}
				j += 6
			default:
				return j, false
			}
		case c < 0x20:
			return j, false
		default:
			j++
		}
	}
	return j, false
}

func (s *scan) lit(i int, word string) (int, bool) {
	if bytes.HasPrefix(s.data[i:], []byte(word)) {
		return i + len(word), true
	}
	return i, false
}

// num scans a JSON number.
func (s *scan) num(i int) (int, bool) {
	d := s.data
	j := i
	if j < len(d) && d[j] == '-' {
		j++
	}
	switch {
	case j < len(d) && d[j] == '0':
		j++
	case j < len(d) && d[j] >= '1' && d[j] <= '9':
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
	default:
		return j, false
	}
	if j < len(d) && d[j] == '.' {
		j++
		k := j
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
		if j == k {
			return j, false
		}
	}
	if j < len(d) && (d[j] == 'e' || d[j] == 'E') {
		j++
		if j < len(d) && (d[j] == '+' || d[j] == '-') {
			j++
		}
		k := j
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
		if j == k {
			return j, false
		}
	}
	return j, true
}

// unquote decodes a JSON string including its quotes.
func unquote(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return string(raw[1 : len(raw)-1])
	}
	return v
}

// jsonMatch is the Match of a JSON pattern: the message itself, looked up
// by selector on demand.
type jsonMatch []byte

// Field returns the scalar at a selector such as "$.bytes" or
// "$.users[0].id": a string's text, a number as written, true or false.
func (m jsonMatch) Field(name string) (string, bool) {
	if len(name) == 0 || name[0] != '$' {
		return "", false
	}
	steps, end, err := parseSelector(name, 0)
	if err != nil || end != len(name) {
		return "", false
	}
	root := &node{}
	root.insert(steps, 0)
	sc := &scan{}
	sc.reset(m)
	if !sc.run(root) {
		return "", false
	}
	for _, v := range sc.vals {
		raw := sc.data[v.start:v.end]
		switch v.typ {
		case '"':
			return unquote(raw), true
		case '0', 't', 'f':
			return string(raw), true
		}
	}
	return "", false
}

// Values is empty for JSON patterns, as in TestMetricFilter.
func (m jsonMatch) Values() map[string]string { return map[string]string{} }
