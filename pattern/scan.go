package pattern

import (
	"errors"
	"strconv"
)

// ErrInvalidEvent is wrapped by the errors Match returns for events that
// are not a JSON object.
var ErrInvalidEvent = errors.New("invalid event")

type eventError struct {
	msg string
	off int
}

func (e *eventError) Error() string {
	return "invalid event: " + e.msg + " at offset " + strconv.Itoa(e.off)
}

func (e *eventError) Unwrap() error { return ErrInvalidEvent }

// scanner walks the event's JSON text once, validating it, descending only
// into subtrees some pattern names and skipping every other one.
type scanner struct {
	m      *Matcher
	s      *scratch
	b      []byte
	i      int
	depth  int
	arrays int32
}

func (sc *scanner) fail(msg string) error { return &eventError{msg: msg, off: sc.i} }

func (sc *scanner) ws() {
	b := sc.b
	i := sc.i
	if i < len(b) && b[i] > ' ' {
		return
	}
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	sc.i = i
}

func (sc *scanner) top() error {
	sc.ws()
	if sc.i >= len(sc.b) || sc.b[sc.i] != '{' {
		return sc.fail("not a JSON object")
	}
	if err := sc.object(0); err != nil {
		return err
	}
	sc.ws()
	if sc.i != len(sc.b) {
		return sc.fail("unexpected data after the event")
	}
	return nil
}

// object scans an object at sc.b[sc.i] == '{' whose path is trie node n.
func (sc *scanner) object(n int32) error {
	sc.depth++
	if sc.depth > maxDepth {
		return sc.fail("nesting too deep")
	}
	node := &sc.m.nodes[n]
	sc.i++
	sc.ws()
	if sc.i < len(sc.b) && sc.b[sc.i] == '}' {
		sc.i++
		sc.depth--
		return nil
	}
	for {
		if sc.i >= len(sc.b) || sc.b[sc.i] != '"' {
			return sc.fail("expected a field name")
		}
		start := sc.i
		end, esc, ok := scanString(sc.b, sc.i)
		if !ok {
			return sc.fail("malformed string")
		}
		sc.i = end
		child := int32(-1)
		if node.kids != nil {
			key := sc.b[start+1 : end-1]
			if esc {
				sc.s.buf, _ = unescape(sc.s.buf[:0], key)
				key = sc.s.buf
			}
			child = node.kid(key)
		}
		sc.ws()
		if sc.i >= len(sc.b) || sc.b[sc.i] != ':' {
			return sc.fail("expected ':'")
		}
		sc.i++
		sc.ws()
		var err error
		if child < 0 {
			err = sc.skip()
		} else {
			err = sc.value(child)
		}
		if err != nil {
			return err
		}
		sc.ws()
		if sc.i >= len(sc.b) {
			return sc.fail("unexpected end of input")
		}
		switch sc.b[sc.i] {
		case ',':
			sc.i++
			sc.ws()
		case '}':
			sc.i++
			sc.depth--
			return nil
		default:
			return sc.fail("expected ',' or '}'")
		}
	}
}

// value scans a value whose path is trie node n.
func (sc *scanner) value(n int32) error {
	if sc.i >= len(sc.b) {
		return sc.fail("unexpected end of input")
	}
	node := &sc.m.nodes[n]
	switch c := sc.b[sc.i]; c {
	case '{':
		if node.kids == nil {
			return sc.skip()
		}
		return sc.object(n)
	case '[':
		return sc.array(n)
	case '"':
		start := sc.i
		end, esc, ok := scanString(sc.b, sc.i)
		if !ok {
			return sc.fail("malformed string")
		}
		sc.i = end
		if node.field >= 0 {
			v := sc.b[start+1 : end-1]
			if esc {
				// unescaped values live in an arena until the event is done
				a := len(sc.s.arena)
				sc.s.arena, _ = unescape(sc.s.arena, v)
				v = sc.s.arena[a:len(sc.s.arena):len(sc.s.arena)]
			}
			sc.s.leaf(sc.m, node.field, vString, v)
		}
		return nil
	case 't', 'f', 'n':
		kind, word := vTrue, "true"
		if c == 'f' {
			kind, word = vFalse, "false"
		} else if c == 'n' {
			kind, word = vNull, "null"
		}
		if len(sc.b)-sc.i < len(word) || string(sc.b[sc.i:sc.i+len(word)]) != word {
			return sc.fail("invalid literal")
		}
		sc.i += len(word)
		if node.field >= 0 {
			sc.s.leaf(sc.m, node.field, kind, nil)
		}
		return nil
	default:
		end := scanNumber(sc.b, sc.i)
		if end == sc.i {
			return sc.fail("unexpected character")
		}
		v := sc.b[sc.i:end]
		sc.i = end
		if node.field >= 0 {
			sc.s.leaf(sc.m, node.field, vNumber, v)
		}
		return nil
	}
}

func (sc *scanner) array(n int32) error {
	sc.depth++
	if sc.depth > maxDepth {
		return sc.fail("nesting too deep")
	}
	sc.i++
	sc.ws()
	if sc.i < len(sc.b) && sc.b[sc.i] == ']' {
		sc.i++
		sc.depth--
		return nil
	}
	// As in event-ruler, object and array elements record their array
	// index (scalar elements don't): values of one element must not be
	// combined with values of another element of the same array.
	s := sc.s
	id := sc.arrays
	sc.arrays++
	idx := int32(0)
	for {
		if sc.i >= len(sc.b) {
			return sc.fail("unexpected end of input")
		}
		if c := sc.b[sc.i]; c == '[' || (c == '{' && sc.m.nodes[n].kids != nil) {
			s.stack = append(s.stack, arrPos{id: id, idx: idx})
			err := sc.value(n)
			s.stack = s.stack[:len(s.stack)-1]
			if err != nil {
				return err
			}
		} else if err := sc.value(n); err != nil {
			return err
		}
		sc.ws()
		if sc.i >= len(sc.b) {
			return sc.fail("unexpected end of input")
		}
		switch sc.b[sc.i] {
		case ',':
			sc.i++
			sc.ws()
			idx++
		case ']':
			sc.i++
			sc.depth--
			return nil
		default:
			return sc.fail("expected ',' or ']'")
		}
	}
}

// skip validates and steps over one value nobody asked for.
func (sc *scanner) skip() error {
	if sc.i >= len(sc.b) {
		return sc.fail("unexpected end of input")
	}
	b := sc.b
	switch c := b[sc.i]; c {
	case '"':
		end, _, ok := scanString(b, sc.i)
		if !ok {
			return sc.fail("malformed string")
		}
		sc.i = end
		return nil
	case '{':
		sc.depth++
		if sc.depth > maxDepth {
			return sc.fail("nesting too deep")
		}
		sc.i++
		sc.ws()
		if sc.i < len(b) && b[sc.i] == '}' {
			sc.i++
			sc.depth--
			return nil
		}
		for {
			if sc.i >= len(b) || b[sc.i] != '"' {
				return sc.fail("expected a field name")
			}
			end, _, ok := scanString(b, sc.i)
			if !ok {
				return sc.fail("malformed string")
			}
			sc.i = end
			sc.ws()
			if sc.i >= len(b) || b[sc.i] != ':' {
				return sc.fail("expected ':'")
			}
			sc.i++
			sc.ws()
			if err := sc.skip(); err != nil {
				return err
			}
			sc.ws()
			if sc.i >= len(b) {
				return sc.fail("unexpected end of input")
			}
			if b[sc.i] == ',' {
				sc.i++
				sc.ws()
				continue
			}
			if b[sc.i] == '}' {
				sc.i++
				sc.depth--
				return nil
			}
			return sc.fail("expected ',' or '}'")
		}
	case '[':
		sc.depth++
		if sc.depth > maxDepth {
			return sc.fail("nesting too deep")
		}
		sc.i++
		sc.ws()
		if sc.i < len(b) && b[sc.i] == ']' {
			sc.i++
			sc.depth--
			return nil
		}
		for {
			if err := sc.skip(); err != nil {
				return err
			}
			sc.ws()
			if sc.i >= len(b) {
				return sc.fail("unexpected end of input")
			}
			if b[sc.i] == ',' {
				sc.i++
				sc.ws()
				continue
			}
			if b[sc.i] == ']' {
				sc.i++
				sc.depth--
				return nil
			}
			return sc.fail("expected ',' or ']'")
		}
	case 't':
		return sc.word("true")
	case 'f':
		return sc.word("false")
	case 'n':
		return sc.word("null")
	}
	end := scanNumber(b, sc.i)
	if end == sc.i {
		return sc.fail("unexpected character")
	}
	sc.i = end
	return nil
}

func (sc *scanner) word(w string) error {
	if len(sc.b)-sc.i < len(w) || string(sc.b[sc.i:sc.i+len(w)]) != w {
		return sc.fail("invalid literal")
	}
	sc.i += len(w)
	return nil
}
