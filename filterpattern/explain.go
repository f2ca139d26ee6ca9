package filterpattern

import (
	"fmt"
	"strings"
)

// Explanation says which parts of a filter pattern a log message meets and
// which it does not, like the "Test pattern" of the CloudWatch console.
// Only the list of the pattern's Kind is filled (JSON, Fields or Terms; a
// term pattern that matches everything has no terms). Every item is
// decided by the same evaluation code as Match, on that item alone.
type Explanation struct {
	Kind Kind
	// Matched is exactly what Matches answers for the message.
	Matched bool
	// Note says what the items do not: the message is not JSON, has too
	// few fields, the ? terms are ignored, ... Empty when there is nothing
	// to add.
	Note string

	JSON   []JSONCheck  // JSON pattern: the expression, in pattern order
	Fields []FieldCheck // space-delimited pattern: one per slot
	Terms  []TermCheck  // term pattern: one per term
}

// JSONCheck is one line of a JSON pattern's explanation: a comparison, or
// the start of an && or || group whose operands follow one level deeper.
// Parentheses are implied by Depth; && binds tighter than ||.
type JSONCheck struct {
	Depth int
	// Op is "&&" or "||" for the start of a group, "" for a comparison.
	Op string
	// Selector, Operator and Operand are the comparison as written:
	// "$.eventName", "=", "ConsoleLogin"; IS NULL/TRUE/FALSE have Operator
	// "IS" and Operand "NULL", "TRUE" or "FALSE"; NOT EXISTS has Operator
	// "NOT EXISTS" and no Operand.
	Selector, Operator, Operand string
	// Values are the JSON texts of the message's values at the selector,
	// in message order (several with a wildcard selector); none when it
	// has none.
	Values []string
	// Matched is the comparison's (or the group's) verdict.
	Matched bool
}

// FieldCheck is one slot of a space-delimited pattern and the part of the
// message it takes.
type FieldCheck struct {
	// Slot is the slot as written: "ip", "status_code = 4*", "..." or ""
	// for a blank slot.
	Slot string
	// Placed reports whether the slot has a place in the message: false
	// when the message has too few fields, or for a slot between two "..."
	// that no placement satisfies.
	Placed bool
	// Position is the 1-based position of the first message field the
	// slot takes; 0 when it takes none.
	Position int
	// Value is what the slot takes: a field's text (without its quotes or
	// brackets); for a last slot that takes the rest of the line, and for
	// "...", the fields as the line writes them.
	Value string
	// Matched reports whether the slot's condition holds on Value; a slot
	// without a condition holds when it is placed.
	Matched bool
}

// TermCheck is one term of a term pattern.
type TermCheck struct {
	// Term is the term as written, with its "-" or "?" sign.
	Term string
	// Present reports whether the term occurs in the message (for a
	// %regex%, whether it finds a match).
	Present bool
	// Matched reports whether the term's part of the pattern holds:
	// Present for a plain or ? term, not Present for a - term.
	Matched bool
	// Ignored marks a ? term of a pattern that also has plain or - terms:
	// AWS ignores such ? terms.
	Ignored bool
}

// Notes an Explanation may carry (NoteTooFewFields is a format: the
// message's and the pattern's numbers of fields).
const (
	NoteNotJSONObject = "The message is not one JSON object, so a JSON pattern does not match it."
	NoteTooFewFields  = "The message has too few fields: %d, the pattern needs at least %d."
	NoteEllipses      = "The fields between the first and the last \"...\" cannot be placed so that every condition holds."
	NoteIgnoredTerms  = "The ? terms are ignored because the pattern has other terms (as AWS documents)."
	NoteMatchesAll    = "This pattern matches every message."
	NoteAnyOptional   = "At least one of the ? terms must occur."
)

// Explain tests the message against the pattern and against each of its
// comparisons, slots or terms alone.
func (p *Pattern) Explain(message []byte) *Explanation {
	e := &Explanation{Kind: p.kind, Matched: p.Matches(message)}
	switch p.kind {
	case JSON:
		explainJSON(e, p.src, p.json, message)
	case SpaceDelimited:
		explainDelimited(e, p.src, p.delim, message)
	default:
		explainTerms(e, p.src, p.term, message)
	}
	return e
}

// ---- JSON ----

func explainJSON(e *Explanation, src string, jp *jsonPattern, msg []byte) {
	sc := &scan{}
	sc.reset(msg)
	valid := sc.run(jp.root)
	if !valid {
		e.Note = NoteNotJSONObject
	}
	var add func(x *jexpr, depth int)
	add = func(x *jexpr, depth int) {
		if x.kind == jAnd || x.kind == jOr {
			op := "&&"
			if x.kind == jOr {
				op = "||"
			}
			e.JSON = append(e.JSON, JSONCheck{Depth: depth, Op: op, Matched: valid && eval(x, sc)})
			for _, o := range operands(x, x.kind, nil) {
				add(o, depth+1)
			}
			return
		}
		c := JSONCheck{Depth: depth, Matched: valid && eval(x, sc)}
		c.Selector, c.Operator, c.Operand = comparisonText(src, x.where)
		if valid {
			for _, v := range sc.vals {
				if v.id == x.sel {
					c.Values = append(c.Values, string(msg[v.start:v.end]))
				}
			}
		}
		e.JSON = append(e.JSON, c)
	}
	add(jp.expr, 0)
}

// operands flattens a chain of one operator: a && b && c.
func operands(x *jexpr, kind int, out []*jexpr) []*jexpr {
	if x.kind != kind {
		return append(out, x)
	}
	return operands(x.r, kind, operands(x.l, kind, out))
}

// comparisonText re-reads the comparison whose selector starts at
// src[at] with the parser's own functions, for its three parts as written.
func comparisonText(src string, at int) (sel, operator, operand string) {
	_, end, err := parseSelector(src, at)
	if err != nil {
		return src[at:], "", ""
	}
	p := &jparser{s: src, i: end}
	sel = src[at:end]
	p.ws()
	switch {
	case p.keyword("IS"):
		p.ws()
		j := p.i
		for j < len(src) && isNameByte(src[j]) {
			j++
		}
		return sel, "IS", src[p.i:j]
	case p.keyword("NOT"):
		return sel, "NOT EXISTS", ""
	}
	o, n := readOp(src, p.i)
	p.i += n
	p.ws()
	regexes := 0
	_, vend, err := parseValue(src, p.i, o, ")}", true, &regexes)
	if err != nil {
		return sel, o.String(), ""
	}
	return sel, o.String(), strings.TrimRight(src[p.i:vend], " \t\r\n")
}

// ---- space-delimited ----

func explainDelimited(e *Explanation, src string, dp *delimPattern, msg []byte) {
	texts := slotTexts(src)
	toks := tokenize(msg)
	e.Fields = make([]FieldCheck, len(dp.slots))
	for i := range e.Fields {
		if i < len(texts) {
			e.Fields[i].Slot = texts[i]
		}
	}
	// What the matcher placed, when it matched.
	m := &dmatcher{dp: dp, msg: msg, toks: toks, spans: make([]span, len(dp.slots))}
	if dp.ellipses > 1 {
		m.failed = make([]bool, len(dp.slots)*(len(toks)+1))
	}
	spans := m.spans
	placed := make([]bool, len(dp.slots))
	if m.assign(0, 0) {
		for i := range placed {
			placed[i] = true
		}
	} else {
		spans, placed = forcedSpans(dp, len(toks))
	}
	fixed := len(dp.slots) - dp.ellipses
	for i, sl := range dp.slots {
		f := &e.Fields[i]
		if !placed[i] {
			continue
		}
		sp := spans[i]
		f.Placed = true
		if sp.to > sp.from {
			f.Position = sp.from + 1
			if sl.ellipsis || sp.to-sp.from > 1 {
				f.Value = string(msg[toks[sp.from].start:toks[sp.to-1].end])
			} else {
				f.Value = toks[sp.from].v
			}
		}
		f.Matched = sl.ellipsis || sl.expr == nil || sl.expr.eval(f.Value)
	}
	switch {
	case len(toks) < fixed:
		e.Note = fmt.Sprintf(NoteTooFewFields, len(toks), fixed)
	case !e.Matched && dp.ellipses > 1:
		all := true
		for _, f := range e.Fields {
			all = all && (!f.Placed || f.Matched)
		}
		if all {
			e.Note = NoteEllipses
		}
	}
}

// forcedSpans places the slots as the pattern's shape forces: slots
// before the first "..." from the first field on, slots after the last
// "..." ending at the last field (without "...", the last slot takes the
// rest of the line). With at most one "..." and enough fields this is the
// only possible placement; slots between two "..." stay unplaced, as do
// slots the message has no field for.
func forcedSpans(dp *delimPattern, n int) ([]span, []bool) {
	spans := make([]span, len(dp.slots))
	placed := make([]bool, len(dp.slots))
	first, last := len(dp.slots), -1
	for i, sl := range dp.slots {
		if sl.ellipsis {
			first, last = min(first, i), i
		}
	}
	if last < 0 {
		for i := range dp.slots {
			if i < n {
				spans[i], placed[i] = span{i, i + 1}, true
			}
		}
		if k := len(dp.slots) - 1; n > len(dp.slots) {
			spans[k].to = n
		}
		return spans, placed
	}
	left := min(first, n) // fields taken by the slots before the first "..."
	for i := 0; i < left; i++ {
		spans[i], placed[i] = span{i, i + 1}, true
	}
	right := len(dp.slots) - 1 - last
	for j := 0; j < right; j++ {
		if k := n - right + j; k >= left {
			spans[last+1+j], placed[last+1+j] = span{k, k + 1}, true
		}
	}
	if first == last && n >= len(dp.slots)-1 {
		spans[first], placed[first] = span{left, n - right}, true
	}
	return spans, placed
}

// slotTexts re-reads the slots of a space-delimited pattern with the
// parser's own functions, for their text as written.
func slotTexts(src string) []string {
	start := strings.IndexByte(src, '[')
	p := &dparser{s: src, i: start + 1}
	var out []string
	for p.i < len(src) {
		p.ws()
		at := p.i
		switch {
		case strings.HasPrefix(src[p.i:], "..."):
			p.i += 3
		case p.i < len(src) && (src[p.i] == ',' || src[p.i] == ']'):
		default:
			if _, _, err := p.or(); err != nil {
				return out
			}
		}
		out = append(out, strings.TrimSpace(src[at:p.i]))
		p.ws()
		if p.i >= len(src) || src[p.i] != ',' {
			break
		}
		p.i++
	}
	return out
}

// ---- terms ----

func explainTerms(e *Explanation, src string, tp *termPattern, msg []byte) {
	lists := map[byte][]term{0: tp.include, '-': tp.exclude, '?': tp.optional}
	next := map[byte]int{}
	ignore := len(tp.include) > 0 || len(tp.exclude) > 0
	for _, lt := range lexTerms(src) {
		list := lists[lt.sign]
		k := next[lt.sign]
		next[lt.sign]++
		if k >= len(list) {
			continue
		}
		c := TermCheck{Term: lt.text, Present: list[k].in(msg)}
		c.Matched = c.Present != (lt.sign == '-')
		c.Ignored = lt.sign == '?' && ignore
		e.Terms = append(e.Terms, c)
	}
	switch {
	case len(tp.include) == 0 && len(tp.exclude) == 0 && len(tp.optional) == 0:
		e.Note = NoteMatchesAll
	case ignore && len(tp.optional) > 0:
		e.Note = NoteIgnoredTerms
	case !ignore && len(tp.optional) > 1:
		e.Note = NoteAnyOptional
	}
}

type lexedTerm struct {
	sign byte // 0, '-' or '?'
	text string
}

// lexTerms splits a term pattern as parseTerms does, keeping each term's
// text as written; quoted blank terms, which parseTerms drops (except
// after '-'), are dropped too.
func lexTerms(src string) []lexedTerm {
	var out []lexedTerm
	i := 0
	for {
		for i < len(src) && isSpace(src[i]) {
			i++
		}
		if i >= len(src) {
			return out
		}
		at := i
		sign := byte(0)
		if src[i] == '?' || src[i] == '-' {
			sign = src[i]
			i++
			for i < len(src) && isSpace(src[i]) {
				i++
			}
		}
		keep := true
		switch {
		case i >= len(src):
			return out
		case src[i] == '"':
			v, end, err := readQuoted(src, i)
			if err != nil {
				return out
			}
			i = end
			keep = strings.TrimSpace(v) != "" || sign == '-'
		case src[i] == '%':
			_, end, err := readRegex(src, i)
			if err != nil {
				return out
			}
			i = end
		default:
			for i < len(src) && !isSpace(src[i]) {
				i++
			}
		}
		if keep {
			out = append(out, lexedTerm{sign, src[at:i]})
		}
	}
}
