package filterpattern

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
)

// strMatch is a string value with CloudWatch's wildcard rule: '*' is special
// only as the first and/or last character ("*x" suffix, "x*" prefix, "*x*"
// contains, "*" anything); inside a value it is a literal star.
type strMatch struct {
	kind int
	s    string
	b    []byte
}

const (
	smExact = iota
	smPrefix
	smSuffix
	smContains
	smAny
)

func newStrMatch(v string) strMatch {
	lead := strings.HasPrefix(v, "*")
	trail := len(v) > 1 && strings.HasSuffix(v, "*")
	s := v
	if lead {
		s = s[1:]
	}
	if trail {
		s = s[:len(s)-1]
	}
	m := strMatch{kind: smExact, s: s, b: []byte(s)}
	switch {
	case lead && (trail || s == "") && strings.Trim(s, "*") == "":
		m.kind = smAny
	case lead && trail:
		m.kind = smContains
	case lead:
		m.kind = smSuffix
	case trail:
		m.kind = smPrefix
	}
	return m
}

func (m *strMatch) matchBytes(v []byte) bool {
	switch m.kind {
	case smAny:
		return true
	case smPrefix:
		return bytes.HasPrefix(v, m.b)
	case smSuffix:
		return bytes.HasSuffix(v, m.b)
	case smContains:
		return bytes.Contains(v, m.b)
	}
	return string(v) == m.s
}

func (m strMatch) match(v string) bool {
	switch m.kind {
	case smAny:
		return true
	case smPrefix:
		return strings.HasPrefix(v, m.s)
	case smSuffix:
		return strings.HasSuffix(v, m.s)
	case smContains:
		return strings.Contains(v, m.s)
	}
	return v == m.s
}

// isNumber reports whether s is a number as filter patterns write them: an
// integer or a decimal with an optional sign, optionally followed by 'e' or
// 'E' and a signed integer exponent.
func isNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// parseNumber parses s when isNumber accepts it.
func parseNumber(s string) (float64, bool) {
	if !isNumber(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Out of range: ParseFloat returns ±Inf, which still compares.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}

// op is a comparison operator.
type op int

const (
	opEq op = iota
	opNe
	opLt
	opGt
	opLe
	opGe
)

var opNames = [...]string{"=", "!=", "<", ">", "<=", ">="}

func (o op) String() string { return opNames[o] }

// readOp reads an operator at s[i:], returning it and its length (0: none).
func readOp(s string, i int) (op, int) {
	if i >= len(s) {
		return 0, 0
	}
	two := ""
	if i+1 < len(s) {
		two = s[i : i+2]
	}
	switch two {
	case "!=":
		return opNe, 2
	case "<=":
		return opLe, 2
	case ">=":
		return opGe, 2
	}
	switch s[i] {
	case '=':
		return opEq, 1
	case '<':
		return opLt, 1
	case '>':
		return opGt, 1
	}
	return 0, 0
}

func compareNum(o op, a, b float64) bool {
	switch o {
	case opEq:
		return a == b
	case opNe:
		return a != b
	case opLt:
		return a < b
	case opGt:
		return a > b
	case opLe:
		return a <= b
	}
	return a >= b
}

// cond is the right-hand side of a comparison, shared by JSON and
// space-delimited patterns.
type cond struct {
	op    op
	isNum bool
	num   float64
	str   strMatch
	re    *regexp.Regexp
}

// parseValue reads a comparison value at s[i:]: a quoted string, a %regex%
// or a bare word ending at one of the stop bytes or at "&&"/"||"; spaces
// inside a bare word are kept only when allowSpace (JSON), trailing blanks
// are dropped. It returns the condition and the offset after the value.
func parseValue(s string, i int, o op, stop string, allowSpace bool, regexes *int) (cond, int, error) {
	c := cond{op: o}
	start := i
	numeric := o != opEq && o != opNe
	if i >= len(s) {
		return c, i, errAt(i, "expected a value after %s", o)
	}
	switch s[i] {
	case '"':
		v, end, err := readQuoted(s, i)
		if err != nil {
			return c, i, err
		}
		if numeric {
			return c, i, errAt(start, "operator %s needs a number, not a string", o)
		}
		c.str = newStrMatch(v)
		return c, end, nil
	case '%':
		re, end, err := readRegex(s, i)
		if err != nil {
			return c, i, err
		}
		if numeric {
			return c, i, errAt(start, "operator %s needs a number, not a regular expression", o)
		}
		*regexes++
		if *regexes > MaxRegexes {
			return c, i, errAt(start, "a filter pattern may contain at most %d regular expressions", MaxRegexes)
		}
		c.re = re
		return c, end, nil
	}
	j := i
	for j < len(s) {
		b := s[j]
		if strings.IndexByte(stop, b) >= 0 || strings.HasPrefix(s[j:], "&&") || strings.HasPrefix(s[j:], "||") {
			break
		}
		if !allowSpace && (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
			break
		}
		j++
	}
	v := strings.TrimRight(s[i:j], " \t\r\n")
	if v == "" {
		return c, i, errAt(i, "expected a value after %s", o)
	}
	if strings.ContainsAny(v, " \t\r\n") && strings.ContainsAny(v, "=<>!$\"%(") {
		return c, i, errAt(i, "unquoted value %q contains spaces: quote it", v)
	}
	if f, ok := parseNumber(v); ok {
		c.isNum, c.num = true, f
		return c, j, nil
	}
	if numeric {
		return c, i, errAt(start, "operator %s needs a number, got %q", o, v)
	}
	c.str = newStrMatch(v)
	return c, j, nil
}

// readQuoted reads a double-quoted string at s[i] == '"'. Backslash escapes
// the next character (\" and \\); other text is taken as is.
func readQuoted(s string, i int) (string, int, error) {
	var b strings.Builder
	esc := false
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case esc:
			if c != '"' && c != '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
			esc = false
		case c == '\\':
			esc = true
		case c == '"':
			return b.String(), j + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", i, errAt(i, "unterminated quoted string")
}

// matchBytes is matchText for a value given as bytes.
func (c *cond) matchBytes(v []byte) bool {
	if c.isNum {
		f, ok := parseNumber(string(v))
		return ok && compareNum(c.op, f, c.num)
	}
	var m bool
	if c.re != nil {
		m = c.re.Match(v)
	} else {
		m = c.str.matchBytes(v)
	}
	if c.op == opNe {
		return !m
	}
	return m
}

// matchText evaluates a string or regex condition against text, and a
// numeric one against text that reads as a number.
func (c *cond) matchText(v string) bool {
	if c.isNum {
		f, ok := parseNumber(strings.TrimSpace(v))
		return ok && compareNum(c.op, f, c.num)
	}
	var m bool
	if c.re != nil {
		m = c.re.MatchString(v)
	} else {
		m = c.str.match(v)
	}
	if c.op == opNe {
		return !m
	}
	return m
}
