package filterpattern

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
)

// jsonPattern is a compiled JSON pattern: a boolean expression over
// comparisons whose selectors are merged into one trie, so that one pass
// over a message records every value the expression needs.
type jsonPattern struct {
	expr  *jexpr
	root  *node
	nsel  int
	stack sync.Pool // *scan
}

// jexpr is a node of the expression tree.
type jexpr struct {
	kind  int // jAnd, jOr, jCmp, jNull, jTrue, jFalse, jNotExists
	l, r  *jexpr
	sel   int // selector id
	cond  cond
	where int // offset in the pattern, for messages
}

const (
	jAnd = iota
	jOr
	jCmp
	jNull
	jTrue
	jFalse
	jNotExists
)

// step is one element of a selector: a key, an array index, or a wildcard.
type step struct {
	key   string
	index int // -1: key step
	wild  bool
}

type jparser struct {
	s         string
	i         int
	sels      map[string]int
	root      *node
	regexes   int
	wildcards int
}

func parseJSON(src string, start int) (*jsonPattern, error) {
	p := newJParser()
	e, err := p.parse(src, start)
	if err != nil {
		return nil, err
	}
	return &jsonPattern{expr: e, root: p.root, nsel: len(p.sels)}, nil
}

func newJParser() *jparser {
	return &jparser{sels: map[string]int{}, root: &node{}}
}

// parse parses one JSON pattern at src[start] == '{', adding its selectors
// to the parser's trie (shared by the patterns of a Set).
func (p *jparser) parse(src string, start int) (*jexpr, error) {
	p.s, p.i, p.regexes, p.wildcards = src, start+1, 0, 0
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '}' {
		return nil, p.unexpected("&&, || or }")
	}
	p.i++
	p.ws()
	if p.i < len(p.s) {
		return nil, errAt(p.i, "unexpected %q after the closing }", p.s[p.i])
	}
	return e, nil
}

func (p *jparser) ws() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

func (p *jparser) unexpected(want string) *Error {
	if p.i >= len(p.s) {
		return errAt(p.i, "unexpected end of pattern, expected %s", want)
	}
	return errAt(p.i, "unexpected %q, expected %s", p.s[p.i], want)
}

func (p *jparser) or() (*jexpr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		p.ws()
		if !strings.HasPrefix(p.s[p.i:], "||") {
			return l, nil
		}
		at := p.i
		p.i += 2
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &jexpr{kind: jOr, l: l, r: r, where: at}
	}
}

func (p *jparser) and() (*jexpr, error) {
	l, err := p.factor()
	if err != nil {
		return nil, err
	}
	for {
		p.ws()
		if !strings.HasPrefix(p.s[p.i:], "&&") {
			return l, nil
		}
		at := p.i
		p.i += 2
		r, err := p.factor()
		if err != nil {
			return nil, err
		}
		l = &jexpr{kind: jAnd, l: l, r: r, where: at}
	}
}

func (p *jparser) factor() (*jexpr, error) {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, p.unexpected("&&, || or )")
		}
		p.i++
		return e, nil
	}
	if p.i >= len(p.s) || p.s[p.i] != '$' {
		return nil, p.unexpected("a property selector ($.name) or (")
	}
	at := p.i
	steps, err := p.selector()
	if err != nil {
		return nil, err
	}
	id := p.addSelector(p.s[at:p.i], steps)
	e := &jexpr{sel: id, where: at}
	p.ws()
	switch {
	case p.keyword("IS"):
		p.ws()
		switch {
		case p.keyword("NULL"):
			e.kind = jNull
		case p.keyword("TRUE"):
			e.kind = jTrue
		case p.keyword("FALSE"):
			e.kind = jFalse
		default:
			return nil, p.unexpected("NULL, TRUE or FALSE after IS")
		}
		return e, nil
	case p.keyword("NOT"):
		p.ws()
		if !p.keyword("EXISTS") {
			return nil, p.unexpected("EXISTS after NOT")
		}
		e.kind = jNotExists
		return e, nil
	}
	o, n := readOp(p.s, p.i)
	if n == 0 {
		return nil, p.unexpected("an operator (= != < > <= >=), IS or NOT EXISTS")
	}
	p.i += n
	p.ws()
	c, end, err := parseValue(p.s, p.i, o, ")}", true, &p.regexes)
	if err != nil {
		return nil, err
	}
	p.i = end
	e.kind, e.cond = jCmp, c
	return e, nil
}

// keyword consumes an upper-case keyword followed by a non-name byte.
func (p *jparser) keyword(k string) bool {
	if !strings.HasPrefix(p.s[p.i:], k) {
		return false
	}
	if j := p.i + len(k); j < len(p.s) && isNameByte(p.s[j]) {
		return false
	}
	p.i += len(k)
	return true
}

func isNameByte(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

// selector reads $ followed by .name, .*, .['key'], [n] or [*] steps.
func (p *jparser) selector() ([]step, error) {
	steps, end, err := parseSelector(p.s, p.i)
	if err != nil {
		return nil, err
	}
	wild := 0
	for _, st := range steps {
		if st.wild {
			wild++
		}
	}
	if wild > 1 {
		return nil, errAt(p.i, "a property selector may contain at most one wildcard")
	}
	p.wildcards += wild
	if p.wildcards > MaxWildcardSelectors {
		return nil, errAt(p.i, "a filter pattern may contain at most %d wildcard selectors", MaxWildcardSelectors)
	}
	p.i = end
	return steps, nil
}

// parseSelector parses a selector at s[i] == '$'.
func parseSelector(s string, i int) ([]step, int, error) {
	start := i
	i++
	var steps []step
	for i < len(s) {
		switch s[i] {
		case '.':
			i++
			switch {
			case i < len(s) && s[i] == '*':
				steps = append(steps, step{index: -1, wild: true})
				i++
			case i < len(s) && s[i] == '[':
				if i+1 >= len(s) || (s[i+1] != '\'' && s[i+1] != '"') {
					return nil, i, errAt(i, "expected a quoted key in .[...]")
				}
				q := s[i+1]
				end := strings.IndexByte(s[i+2:], q)
				if end < 0 || i+2+end+1 >= len(s) || s[i+2+end+1] != ']' {
					return nil, i, errAt(i, "unterminated .[%c...%c]", q, q)
				}
				steps = append(steps, step{key: s[i+2 : i+2+end], index: -1})
				i += 2 + end + 2
			default:
				j := i
				for j < len(s) && isNameByte(s[j]) {
					j++
				}
				if j == i {
					return nil, i, errAt(i, "expected a property name after .")
				}
				steps = append(steps, step{key: s[i:j], index: -1})
				i = j
			}
		case '[':
			j := i + 1
			if j < len(s) && s[j] == '*' {
				if j+1 >= len(s) || s[j+1] != ']' {
					return nil, i, errAt(i, "expected ] after [*")
				}
				steps = append(steps, step{index: -1, wild: true})
				i = j + 2
				continue
			}
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 || j >= len(s) || s[j] != ']' {
				return nil, i, errAt(i, "expected an array index [n] or [*]")
			}
			n, err := strconv.Atoi(s[i+1 : j])
			if err != nil {
				return nil, i, errAt(i+1, "array index %s out of range", s[i+1:j])
			}
			steps = append(steps, step{index: n})
			i = j + 1
		default:
			goto done
		}
	}
done:
	if len(steps) == 0 {
		return nil, start, errAt(start, "a property selector must start with $. or $[")
	}
	return steps, i, nil
}

// addSelector puts a selector in the trie, returning its id; the same text
// gets the same id.
func (p *jparser) addSelector(text string, steps []step) int {
	if id, ok := p.sels[text]; ok {
		return id
	}
	id := len(p.sels)
	p.sels[text] = id
	p.root.insert(steps, id)
	return id
}

func (jp *jsonPattern) match(msg []byte) bool {
	sc, _ := jp.stack.Get().(*scan)
	if sc == nil {
		sc = &scan{}
	}
	sc.reset(msg)
	ok := sc.run(jp.root) && jp.eval(jp.expr, sc)
	sc.data = nil
	jp.stack.Put(sc)
	return ok
}

func (jp *jsonPattern) eval(e *jexpr, sc *scan) bool { return eval(e, sc) }

// eval evaluates an expression over the values a scan recorded.
func eval(e *jexpr, sc *scan) bool {
	switch e.kind {
	case jAnd:
		return eval(e.l, sc) && eval(e.r, sc)
	case jOr:
		return eval(e.l, sc) || eval(e.r, sc)
	case jNotExists:
		for _, v := range sc.vals {
			if v.id == e.sel {
				return false
			}
		}
		return true
	}
	for _, v := range sc.vals {
		if v.id != e.sel {
			continue
		}
		if evalValue(e, sc.data[v.start:v.end], v.typ) {
			return true
		}
	}
	return false
}

// evalValue applies one comparison or IS test to one JSON value.
func evalValue(e *jexpr, raw []byte, typ byte) bool {
	switch e.kind {
	case jNull:
		return typ == 'n'
	case jTrue:
		return typ == 't'
	case jFalse:
		return typ == 'f'
	}
	var text []byte
	switch typ {
	case '"':
		text = raw[1 : len(raw)-1]
		if bytes.IndexByte(text, '\\') >= 0 {
			text = []byte(unquote(raw))
		}
	case '0', 't', 'f':
		text = raw
	default:
		// null, objects and arrays never compare.
		return false
	}
	return e.cond.matchBytes(text)
}
