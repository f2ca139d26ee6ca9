package pattern

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jkind is the kind of a JSON value in a pattern's syntax tree.
type jkind uint8

const (
	jObject jkind = iota
	jArray
	jString
	jNumber
	jTrue
	jFalse
	jNull
)

// jval is one JSON value of a pattern, kept at token level: object keys stay
// in source order with duplicates, numbers keep their source text.
type jval struct {
	kind  jkind
	str   string   // string value, or number text, or literal text
	keys  []string // object keys, in order, duplicates kept
	items []*jval  // object values (parallel to keys) or array elements
}

// text returns the token text of a scalar as Jackson's getText would.
func (v *jval) text() string {
	switch v.kind {
	case jObject:
		return "{"
	case jArray:
		return "["
	case jTrue:
		return "true"
	case jFalse:
		return "false"
	case jNull:
		return "null"
	}
	return v.str
}

const maxDepth = 1000

type treeParser struct {
	s     []byte
	i     int
	depth int
}

func parseTree(src []byte) (*jval, error) {
	p := &treeParser{s: src}
	p.ws()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, p.errf("unexpected data after the pattern")
	}
	return v, nil
}

func (p *treeParser) errf(msg string) error {
	return &Error{Msg: "Invalid JSON: " + msg + " at offset " + strconv.Itoa(p.i)}
}

func (p *treeParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *treeParser) value() (*jval, error) {
	if p.i >= len(p.s) {
		return nil, p.errf("unexpected end of input")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &jval{kind: jString, str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		n := scanNumber(p.s, p.i)
		if n <= p.i {
			return nil, p.errf("malformed number")
		}
		v := &jval{kind: jNumber, str: string(p.s[p.i:n])}
		p.i = n
		return v, nil
	case c == 't':
		return p.lit("true", jTrue)
	case c == 'f':
		return p.lit("false", jFalse)
	case c == 'n':
		return p.lit("null", jNull)
	}
	return nil, p.errf("unexpected character " + strconv.QuoteRune(rune(p.s[p.i])))
}

func (p *treeParser) lit(word string, k jkind) (*jval, error) {
	if len(p.s)-p.i < len(word) || string(p.s[p.i:p.i+len(word)]) != word {
		return nil, p.errf("unexpected character " + strconv.QuoteRune(rune(p.s[p.i])))
	}
	p.i += len(word)
	return &jval{kind: k}, nil
}

func (p *treeParser) object() (*jval, error) {
	p.depth++
	if p.depth > maxDepth {
		return nil, p.errf("nesting too deep")
	}
	p.i++ // {
	v := &jval{kind: jObject}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		p.depth--
		return v, nil
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.errf("expected a field name")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.errf("expected ':'")
		}
		p.i++
		p.ws()
		item, err := p.value()
		if err != nil {
			return nil, err
		}
		v.keys = append(v.keys, k)
		v.items = append(v.items, item)
		p.ws()
		if p.i >= len(p.s) {
			return nil, p.errf("unexpected end of input")
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] == '}' {
			p.i++
			p.depth--
			return v, nil
		}
		return nil, p.errf("expected ',' or '}'")
	}
}

func (p *treeParser) array() (*jval, error) {
	p.depth++
	if p.depth > maxDepth {
		return nil, p.errf("nesting too deep")
	}
	p.i++ // [
	v := &jval{kind: jArray}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		p.depth--
		return v, nil
	}
	for {
		p.ws()
		item, err := p.value()
		if err != nil {
			return nil, err
		}
		v.items = append(v.items, item)
		p.ws()
		if p.i >= len(p.s) {
			return nil, p.errf("unexpected end of input")
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] == ']' {
			p.i++
			p.depth--
			return v, nil
		}
		return nil, p.errf("expected ',' or ']'")
	}
}

func (p *treeParser) str() (string, error) {
	end, esc, ok := scanString(p.s, p.i)
	if !ok {
		return "", p.errf("malformed string")
	}
	raw := p.s[p.i+1 : end-1]
	p.i = end
	if !esc {
		return string(raw), nil
	}
	b, ok := unescape(nil, raw)
	if !ok {
		return "", p.errf("malformed string escape")
	}
	return string(b), nil
}

// scanString scans the JSON string starting at s[i] == '"'. It returns the
// index just past the closing quote and whether the string holds escapes.
func scanString(s []byte, i int) (end int, esc bool, ok bool) {
	i++
	for {
		// skip ordinary bytes, four at a time
		for i+4 <= len(s) && strPlain[s[i]]&strPlain[s[i+1]]&strPlain[s[i+2]]&strPlain[s[i+3]] != 0 {
			i += 4
		}
		for i < len(s) && strPlain[s[i]] != 0 {
			i++
		}
		if i >= len(s) {
			return 0, false, false
		}
		c := s[i]
		if c == '"' {
			return i + 1, esc, true
		}
		if c == '\\' {
			esc = true
			i++
			if i >= len(s) {
				return 0, false, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+4 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) || !isHex(s[i+3]) || !isHex(s[i+4]) {
					return 0, false, false
				}
				i += 5
			default:
				return 0, false, false
			}
			continue
		}
		if c < 0x20 {
			return 0, false, false
		}
		i++
	}
}

// strPlain[c] is 1 for bytes that need no attention inside a JSON string.
var strPlain = func() (t [256]byte) {
	for c := 0x20; c < 256; c++ {
		if c != '"' && c != '\\' {
			t[c] = 1
		}
	}
	return t
}()

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	}
	return rune(c - 'A' + 10)
}

// unescape appends the decoded content of a JSON string body (between the
// quotes, already validated by scanString) to dst.
func unescape(dst, raw []byte) ([]byte, bool) {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(raw) {
			return dst, false
		}
		switch raw[i] {
		case '"', '\\', '/':
			dst = append(dst, raw[i])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			if i+4 >= len(raw) {
				return dst, false
			}
			r := hexVal(raw[i+1])<<12 | hexVal(raw[i+2])<<8 | hexVal(raw[i+3])<<4 | hexVal(raw[i+4])
			i += 4
			if utf16.IsSurrogate(r) {
				if r < 0xDC00 && i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' &&
					isHex(raw[i+3]) && isHex(raw[i+4]) && isHex(raw[i+5]) && isHex(raw[i+6]) {
					r2 := hexVal(raw[i+3])<<12 | hexVal(raw[i+4])<<8 | hexVal(raw[i+5])<<4 | hexVal(raw[i+6])
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, false
		}
	}
	return dst, true
}

// scanNumber returns the index just past the JSON number starting at s[i],
// or i if there is no valid number there.
func scanNumber(s []byte, i int) int {
	start := i
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return start
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		return start
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return start
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return start
		}
	}
	return i
}
