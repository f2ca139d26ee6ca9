package alarm

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxRuleLength is the longest AlarmRule PutCompositeAlarm accepts, in
// characters.
const MaxRuleLength = 10240

// RuleError is a syntax error in an AlarmRule, at Pos: the 1-based
// character position where the rule stops making sense.
type RuleError struct {
	Pos int
	Msg string
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("alarm rule: at position %d: %s", e.Pos, e.Msg)
}

// ruleOp is the kind of a rule node.
type ruleOp int

const (
	opConst ruleOp = iota
	opState
	opNot
	opAnd
	opOr
)

// Rule is a parsed AlarmRule: a boolean expression over the states of
// other alarms, with CloudWatch's functions ALARM(x), OK(x) and
// INSUFFICIENT_DATA(x), the constants TRUE and FALSE, the operators NOT,
// AND and OR (binding in that order, tightest first) and parentheses.
type Rule struct {
	op    ruleOp
	value bool   // opConst
	state State  // opState
	ref   string // opState: the alarm's name or ARN, as written
	args  []*Rule
}

// ParseRule parses an AlarmRule. Alarm names may be quoted ("name") or
// not; an unquoted name runs to the closing parenthesis, spaces around it
// trimmed. Keywords are upper case, as CloudWatch writes them.
func ParseRule(s string) (*Rule, error) {
	if !utf8.ValidString(s) {
		return nil, &RuleError{Pos: 1, Msg: "not valid UTF-8"}
	}
	if n := utf8.RuneCountInString(s); n > MaxRuleLength {
		return nil, &RuleError{Pos: MaxRuleLength + 1, Msg: fmt.Sprintf("longer than %d characters", MaxRuleLength)}
	}
	p := &ruleParser{src: []rune(s)}
	p.skipSpace()
	if p.i == len(p.src) {
		return nil, &RuleError{Pos: 1, Msg: "empty rule"}
	}
	r, err := p.or(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i < len(p.src) {
		return nil, p.errorf("unexpected %s after a complete expression", p.peekWord())
	}
	return r, nil
}

// maxRuleDepth bounds nesting so that a hostile rule cannot exhaust the
// stack.
const maxRuleDepth = 200

type ruleParser struct {
	src []rune
	i   int
}

func (p *ruleParser) errorf(format string, args ...any) error {
	return &RuleError{Pos: p.i + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *ruleParser) skipSpace() {
	for p.i < len(p.src) && isRuleSpace(p.src[p.i]) {
		p.i++
	}
}

func isRuleSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func isWordRune(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_'
}

// word returns the keyword-like run at the cursor without consuming it.
func (p *ruleParser) word() string {
	j := p.i
	for j < len(p.src) && isWordRune(p.src[j]) {
		j++
	}
	return string(p.src[p.i:j])
}

// peekWord describes what is at the cursor, for errors.
func (p *ruleParser) peekWord() string {
	if p.i >= len(p.src) {
		return "end of rule"
	}
	if w := p.word(); w != "" {
		return fmt.Sprintf("%q", w)
	}
	return fmt.Sprintf("%q", string(p.src[p.i]))
}

// keyword consumes kw when it is the whole word at the cursor.
func (p *ruleParser) keyword(kw string) bool {
	p.skipSpace()
	if p.word() != kw {
		return false
	}
	p.i += len(kw)
	return true
}

func (p *ruleParser) or(depth int) (*Rule, error) {
	first, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	args := []*Rule{first}
	for p.keyword("OR") {
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		args = append(args, r)
	}
	if len(args) == 1 {
		return first, nil
	}
	return &Rule{op: opOr, args: args}, nil
}

func (p *ruleParser) and(depth int) (*Rule, error) {
	first, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	args := []*Rule{first}
	for p.keyword("AND") {
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		args = append(args, r)
	}
	if len(args) == 1 {
		return first, nil
	}
	return &Rule{op: opAnd, args: args}, nil
}

func (p *ruleParser) unary(depth int) (*Rule, error) {
	if depth > maxRuleDepth {
		return nil, p.errorf("nested more than %d deep", maxRuleDepth)
	}
	if p.keyword("NOT") {
		r, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Rule{op: opNot, args: []*Rule{r}}, nil
	}
	return p.primary(depth)
}

func (p *ruleParser) primary(depth int) (*Rule, error) {
	p.skipSpace()
	if p.i >= len(p.src) {
		return nil, p.errorf("expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '(', got end of rule")
	}
	if p.src[p.i] == '(' {
		p.i++
		r, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.i >= len(p.src) || p.src[p.i] != ')' {
			return nil, p.errorf("expected ')', got %s", p.peekWord())
		}
		p.i++
		return r, nil
	}
	w := p.word()
	switch w {
	case "TRUE", "FALSE":
		p.i += len(w)
		return &Rule{op: opConst, value: w == "TRUE"}, nil
	case "ALARM", "OK", "INSUFFICIENT_DATA":
		p.i += len(w)
		p.skipSpace()
		if p.i >= len(p.src) || p.src[p.i] != '(' {
			return nil, p.errorf("expected '(' after %s, got %s", w, p.peekWord())
		}
		p.i++
		ref, err := p.ref()
		if err != nil {
			return nil, err
		}
		return &Rule{op: opState, state: State(w), ref: ref}, nil
	case "AND", "OR":
		return nil, p.errorf("%s needs an expression before it", w)
	}
	switch up := strings.ToUpper(w); up {
	case "ALARM", "OK", "INSUFFICIENT_DATA", "TRUE", "FALSE", "NOT", "AND", "OR":
		return nil, p.errorf("%q must be written in upper case: %s", w, up)
	}
	return nil, p.errorf("expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '(', got %s", p.peekWord())
}

// ref reads an alarm name or ARN and the closing parenthesis.
func (p *ruleParser) ref() (string, error) {
	p.skipSpace()
	start := p.i
	var name string
	if p.i < len(p.src) && p.src[p.i] == '"' {
		p.i++
		j := p.i
		for j < len(p.src) && p.src[j] != '"' {
			j++
		}
		if j >= len(p.src) {
			return "", &RuleError{Pos: start + 1, Msg: "unterminated quoted alarm name"}
		}
		name = string(p.src[p.i:j])
		p.i = j + 1
		p.skipSpace()
		if p.i >= len(p.src) || p.src[p.i] != ')' {
			return "", p.errorf("expected ')' after the alarm name, got %s", p.peekWord())
		}
	} else {
		j := p.i
		for j < len(p.src) && p.src[j] != ')' {
			if c := p.src[j]; c == '(' || c == '"' {
				return "", &RuleError{Pos: j + 1, Msg: fmt.Sprintf("unexpected %q in an alarm name (quote the name)", c)}
			}
			j++
		}
		if j >= len(p.src) {
			return "", &RuleError{Pos: start + 1, Msg: "alarm name without its closing ')'"}
		}
		name = strings.TrimFunc(string(p.src[p.i:j]), isRuleSpace)
		p.i = j
	}
	if name == "" {
		return "", &RuleError{Pos: start + 1, Msg: "empty alarm name"}
	}
	if strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return "", &RuleError{Pos: start + 1, Msg: "alarm name with a control character"}
	}
	p.i++ // ')'
	return name, nil
}

// Eval evaluates the rule with the states of the alarms it references;
// state is given each reference as written (see RefName) and reports an
// unknown alarm with ok false, which makes its function false.
func (r *Rule) Eval(state func(ref string) (State, bool)) bool {
	switch r.op {
	case opConst:
		return r.value
	case opState:
		s, ok := state(r.ref)
		return ok && s == r.state
	case opNot:
		return !r.args[0].Eval(state)
	case opAnd:
		for _, a := range r.args {
			if !a.Eval(state) {
				return false
			}
		}
		return true
	case opOr:
		for _, a := range r.args {
			if a.Eval(state) {
				return true
			}
		}
		return false
	}
	return false
}

// Refs returns the alarm references of the rule as written, in order of
// appearance, each once.
func (r *Rule) Refs() []string {
	var out []string
	seen := map[string]bool{}
	var walk func(*Rule)
	walk = func(x *Rule) {
		if x.op == opState && !seen[x.ref] {
			seen[x.ref] = true
			out = append(out, x.ref)
		}
		for _, a := range x.args {
			walk(a)
		}
	}
	walk(r)
	return out
}

// Names returns the names of the alarms the rule references (ARNs reduced
// to their names, see RefName), in order of appearance, each once.
func (r *Rule) Names() []string {
	var out []string
	seen := map[string]bool{}
	for _, ref := range r.Refs() {
		if n := RefName(ref); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// String writes the rule back in CloudWatch's syntax, names quoted and
// parentheses only where precedence needs them: ParseRule(r.String())
// gives the same rule.
func (r *Rule) String() string {
	var b strings.Builder
	r.write(&b, 0)
	return b.String()
}

// precedence: OR 1, AND 2, NOT and primaries 3.
func (r *Rule) write(b *strings.Builder, outer int) {
	switch r.op {
	case opConst:
		if r.value {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
	case opState:
		fmt.Fprintf(b, "%s(\"%s\")", r.state, r.ref)
	case opNot:
		b.WriteString("NOT ")
		r.args[0].write(b, 3)
	case opAnd, opOr:
		prec, sep := 2, " AND "
		if r.op == opOr {
			prec, sep = 1, " OR "
		}
		if outer > prec {
			b.WriteByte('(')
		}
		for i, a := range r.args {
			if i > 0 {
				b.WriteString(sep)
			}
			a.write(b, prec+1)
		}
		if outer > prec {
			b.WriteByte(')')
		}
	}
}

// RefName returns the alarm name a rule reference designates: the name
// after ":alarm:" in an alarm ARN, else the reference itself.
func RefName(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		if _, name, ok := strings.Cut(ref, ":alarm:"); ok {
			return name
		}
	}
	return ref
}
