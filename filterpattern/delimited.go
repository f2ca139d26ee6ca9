package filterpattern

import (
	"strconv"
	"strings"
)

// delimPattern is a space-delimited pattern: one slot per field of the log
// line, "..." standing for any number of fields.
type delimPattern struct {
	slots    []slot
	ellipses int
}

type slot struct {
	ellipsis bool
	name     string // "" for a blank slot
	expr     *dexpr // nil: no condition
}

// dexpr is a condition on one field: comparisons joined by && and ||.
type dexpr struct {
	kind int // jAnd, jOr, jCmp
	l, r *dexpr
	cond cond
}

func (e *dexpr) eval(v string) bool {
	switch e.kind {
	case jAnd:
		return e.l.eval(v) && e.r.eval(v)
	case jOr:
		return e.l.eval(v) || e.r.eval(v)
	}
	return e.cond.matchText(v)
}

type dparser struct {
	s       string
	i       int
	regexes int
}

func (p *dparser) ws() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

func (p *dparser) unexpected(want string) *Error {
	if p.i >= len(p.s) {
		return errAt(p.i, "unexpected end of pattern, expected %s", want)
	}
	return errAt(p.i, "unexpected %q, expected %s", p.s[p.i], want)
}

func parseDelimited(src string, start int) (*delimPattern, error) {
	p := &dparser{s: src, i: start + 1}
	dp := &delimPattern{}
	names := map[string]bool{}
	for {
		p.ws()
		at := p.i
		var sl slot
		switch {
		case strings.HasPrefix(p.s[p.i:], "..."):
			sl.ellipsis = true
			dp.ellipses++
			p.i += 3
		case p.i < len(p.s) && (p.s[p.i] == ',' || p.s[p.i] == ']'):
			if p.s[p.i] == ']' && len(dp.slots) == 0 {
				return nil, errAt(p.i, "a space-delimited pattern needs at least one field")
			}
			// blank slot
		default:
			name, e, err := p.or()
			if err != nil {
				return nil, err
			}
			if names[name] {
				return nil, errAt(at, "duplicate field name %q", name)
			}
			names[name] = true
			sl.name, sl.expr = name, e
		}
		dp.slots = append(dp.slots, sl)
		p.ws()
		if p.i >= len(p.s) {
			return nil, p.unexpected(", or ]")
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] != ']' {
			return nil, p.unexpected(", or ]")
		}
		p.i++
		break
	}
	p.ws()
	if p.i < len(p.s) {
		return nil, errAt(p.i, "unexpected %q after the closing ]", p.s[p.i])
	}
	return dp, nil
}

// or parses a field slot: a bare name, or comparisons of one field joined
// by && and || with parentheses. It returns the field's name and the
// condition (nil for a bare name).
func (p *dparser) or() (string, *dexpr, error) {
	name, l, err := p.and()
	if err != nil {
		return "", nil, err
	}
	for {
		p.ws()
		if !strings.HasPrefix(p.s[p.i:], "||") {
			return name, l, nil
		}
		p.i += 2
		at := p.i
		n2, r, err := p.and()
		if err != nil {
			return "", nil, err
		}
		if l == nil || r == nil {
			return "", nil, errAt(at, "|| needs a condition on each side")
		}
		if n2 != name {
			return "", nil, errAt(at, "conditions in one field must all name %q, not %q", name, n2)
		}
		l = &dexpr{kind: jOr, l: l, r: r}
	}
}

func (p *dparser) and() (string, *dexpr, error) {
	name, l, err := p.primary()
	if err != nil {
		return "", nil, err
	}
	for {
		p.ws()
		if !strings.HasPrefix(p.s[p.i:], "&&") {
			return name, l, nil
		}
		p.i += 2
		at := p.i
		n2, r, err := p.primary()
		if err != nil {
			return "", nil, err
		}
		if l == nil || r == nil {
			return "", nil, errAt(at, "&& needs a condition on each side")
		}
		if n2 != name {
			return "", nil, errAt(at, "conditions in one field must all name %q, not %q", name, n2)
		}
		l = &dexpr{kind: jAnd, l: l, r: r}
	}
}

func (p *dparser) primary() (string, *dexpr, error) {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		name, e, err := p.or()
		if err != nil {
			return "", nil, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return "", nil, p.unexpected("&&, || or )")
		}
		p.i++
		return name, e, nil
	}
	j := p.i
	for j < len(p.s) && (isAlnum(p.s[j]) || p.s[j] == '_') {
		j++
	}
	if j == p.i {
		return "", nil, p.unexpected("a field name")
	}
	name := p.s[p.i:j]
	p.i = j
	p.ws()
	o, n := readOp(p.s, p.i)
	if n == 0 {
		return name, nil, nil
	}
	p.i += n
	p.ws()
	c, end, err := parseValue(p.s, p.i, o, ",]()", false, &p.regexes)
	if err != nil {
		return "", nil, err
	}
	p.i = end
	return name, &dexpr{kind: jCmp, cond: c}, nil
}

// token is one field of a log line; quotes and brackets around it are
// stripped from its value.
type token struct {
	start, end int
	v          string
}

func tokenize(msg []byte) []token {
	var toks []token
	i := 0
	for {
		for i < len(msg) && (msg[i] == ' ' || msg[i] == '\t') {
			i++
		}
		if i >= len(msg) {
			return toks
		}
		start := i
		if c := msg[i]; c == '"' || c == '[' {
			closer := byte('"')
			if c == '[' {
				closer = ']'
			}
			j := i + 1
			for j < len(msg) && msg[j] != closer {
				j++
			}
			if j < len(msg) {
				toks = append(toks, token{start: start, end: j + 1, v: string(msg[i+1 : j])})
				i = j + 1
				continue
			}
		}
		for i < len(msg) && msg[i] != ' ' && msg[i] != '\t' {
			i++
		}
		toks = append(toks, token{start: start, end: i, v: string(msg[start:i])})
	}
}

// delimMatch is the Match of a space-delimited pattern.
type delimMatch struct {
	values map[string]string
	pos    []string // value by 0-based field position
}

// Field returns a field by "$name" or by 1-based position "$N".
func (m *delimMatch) Field(name string) (string, bool) {
	if v, ok := m.values[name]; ok {
		return v, true
	}
	if v, ok := m.values["$"+name]; ok {
		return v, true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(name, "$"))
	if err != nil || n < 1 || n > len(m.pos) {
		return "", false
	}
	return m.pos[n-1], true
}

// Values returns the extracted values as TestMetricFilter shows them.
func (m *delimMatch) Values() map[string]string { return m.values }

// span is the range of fields a slot covers.
type span struct{ from, to int }

type dmatcher struct {
	dp     *delimPattern
	msg    []byte
	toks   []token
	spans  []span
	absorb string // value of the last slot when it absorbs the rest of the line
	failed []bool // memo of (slot, token) states known to fail
}

func (dp *delimPattern) match(msg []byte) (Match, bool) {
	m := &dmatcher{dp: dp, msg: msg, toks: tokenize(msg), spans: make([]span, len(dp.slots))}
	if dp.ellipses > 1 {
		m.failed = make([]bool, len(dp.slots)*(len(m.toks)+1))
	}
	if !m.assign(0, 0) {
		return nil, false
	}
	dm := &delimMatch{values: map[string]string{}, pos: make([]string, len(m.toks))}
	for k, t := range m.toks {
		dm.pos[k] = t.v
	}
	for si, sl := range dp.slots {
		sp := m.spans[si]
		switch {
		case sl.ellipsis:
			for k := sp.from; k < sp.to; k++ {
				dm.values["$"+strconv.Itoa(k+1)] = m.toks[k].v
			}
		default:
			v := m.toks[sp.from].v
			if sp.to-sp.from > 1 {
				v = m.absorb
				dm.pos[sp.from] = v
			}
			if sl.name != "" {
				dm.values["$"+sl.name] = v
			} else {
				dm.values["$"+strconv.Itoa(sp.from+1)] = v
			}
		}
	}
	return dm, true
}

// assign fits slots si.. to tokens ti.., recording each slot's span.
// Without an ellipsis the last slot absorbs the rest of the line.
func (m *dmatcher) assign(si, ti int) bool {
	slots := m.dp.slots
	if si == len(slots) {
		return ti == len(m.toks)
	}
	memo := -1
	if m.failed != nil {
		memo = si*(len(m.toks)+1) + ti
		if m.failed[memo] {
			return false
		}
	}
	ok := m.try(si, ti)
	if !ok && memo >= 0 {
		m.failed[memo] = true
	}
	return ok
}

func (m *dmatcher) try(si, ti int) bool {
	sl := &m.dp.slots[si]
	if sl.ellipsis {
		for k := ti; k <= len(m.toks); k++ {
			if m.assign(si+1, k) {
				m.spans[si] = span{ti, k}
				return true
			}
		}
		return false
	}
	if ti >= len(m.toks) {
		return false
	}
	v, end := m.toks[ti].v, ti+1
	if m.dp.ellipses == 0 && si == len(m.dp.slots)-1 && end < len(m.toks) {
		last := m.toks[len(m.toks)-1]
		v, end = string(m.msg[m.toks[ti].start:last.end]), len(m.toks)
		m.absorb = v
	}
	if sl.expr != nil && !sl.expr.eval(v) {
		return false
	}
	if !m.assign(si+1, end) {
		return false
	}
	m.spans[si] = span{ti, end}
	return true
}
