package pattern

import (
	"sort"
	"strings"
	"sync"
)

// Error is an invalid pattern: Path is the dotted field path ("" for the
// whole pattern), Msg AWS's (event-ruler's) wording.
type Error struct{ Path, Msg string }

func (e *Error) Error() string {
	if e.Path == "" {
		return "event pattern: " + e.Msg
	}
	return "event pattern: " + e.Path + ": " + e.Msg
}

// Limits.
const (
	// MaxOrCombinations is the largest number of $or combinations (DNF
	// branches) a pattern may expand to.
	MaxOrCombinations = 1000
	// MaxWildcardComplexity is the largest wildcard complexity score
	// (event-ruler's MachineComplexityEvaluator) a field may reach.
	MaxWildcardComplexity = 10
)

const msgTooComplex = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character"

// Pattern is one validated event pattern.
type Pattern struct {
	src    string
	rules  []rule // DNF branches
	fields []string

	once sync.Once
	m    *Matcher
}

// rule is one DNF branch: a conjunction of field conditions.
type rule struct {
	conds []*cond
}

// cond is the condition on one field: any of tests, or absence.
type cond struct {
	path   string
	tests  []*test
	absent bool // exists:false is among the alternatives
}

type testKind uint8

const (
	tString      testKind = iota // exact string (also "exactly")
	tNumber                      // exact number: text, or numeric equality
	tLiteral                     // true, false, null (str holds the word)
	tPrefix                      // prefix (str)
	tSuffix                      // suffix (str)
	tEIC                         // equals-ignore-case (str)
	tPrefixEIC                   // prefix equals-ignore-case
	tSuffixEIC                   // suffix equals-ignore-case
	tWildcard                    // wildcard
	tRange                       // numeric range
	tIP                          // IP range (cidr or canonicalised exact IP)
	tExists                      // exists:true
	tNotStrings                  // anything-but strings
	tNotNumbers                  // anything-but numbers
	tNotPrefix                   // anything-but prefix
	tNotSuffix                   // anything-but suffix
	tNotEIC                      // anything-but equals-ignore-case
	tNotWildcard                 // anything-but wildcard
)

// test is one match alternative of a field.
type test struct {
	kind testKind
	str  string
	strs []string // anything-but operands

	num     float64 // tNumber: value when comparable
	numOK   bool    // tNumber: numerically comparable
	nums    []numLit
	lo, hi  float64 // tRange
	loOpen  bool
	hiOpen  bool
	ip      ipRange
	eic     eicPattern
	low     string // ASCII equals-ignore-case operand, lower-cased
	eics    []eicPattern
	wild    *wildcard
	wilds   []*wildcard
	sigText string
}

type numLit struct {
	text string
	val  float64
	ok   bool
}

// sig is a canonical text of a test, used to share conditions.
func (t *test) sig() string {
	if t.sigText != "" {
		return t.sigText
	}
	var b strings.Builder
	b.WriteByte(byte('A' + t.kind))
	switch t.kind {
	case tRange:
		b.WriteString(formatF(t.lo))
		if t.loOpen {
			b.WriteByte('(')
		}
		b.WriteByte(',')
		b.WriteString(formatF(t.hi))
		if t.hiOpen {
			b.WriteByte(')')
		}
	case tIP:
		b.Write(t.ip.lo[:])
		b.Write(t.ip.hi[:])
		if t.ip.v4 {
			b.WriteByte('4')
		}
	case tNotNumbers:
		for _, n := range t.nums {
			b.WriteString(n.text)
			b.WriteByte(0)
		}
	default:
		b.WriteString(t.str)
		for _, s := range t.strs {
			b.WriteByte(0)
			b.WriteString(s)
		}
	}
	t.sigText = b.String()
	return t.sigText
}

// Parse validates and compiles one pattern (JSON text). Errors are *Error.
func Parse(src []byte) (*Pattern, error) {
	root, err := parseTree(src)
	if err != nil {
		return nil, err
	}
	if root.kind != jObject {
		return nil, &Error{Msg: "Filter is not an object"}
	}
	c := &compiler{}
	var rules []*ruleBuild
	if err := c.object(&rules, "", root, false); err != nil {
		return nil, err
	}
	p := &Pattern{src: string(src)}
	fieldSet := map[string]bool{}
	for _, rb := range rules {
		var r rule
		for _, path := range rb.order {
			cd := rb.conds[path]
			r.conds = append(r.conds, cd)
			fieldSet[path] = true
		}
		sort.Slice(r.conds, func(i, j int) bool { return r.conds[i].path < r.conds[j].path })
		p.rules = append(p.rules, r)
	}
	for f := range fieldSet {
		p.fields = append(p.fields, f)
	}
	sort.Strings(p.fields)
	return p, nil
}

// MustParse is Parse that panics on an invalid pattern.
func MustParse(src string) *Pattern {
	p, err := Parse([]byte(src))
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the pattern's source text.
func (p *Pattern) String() string { return p.src }

// Fields returns the dotted field paths the pattern names (sorted, unique).
func (p *Pattern) Fields() []string { return append([]string(nil), p.fields...) }

// Branches returns the number of DNF branches ($or combinations).
func (p *Pattern) Branches() int { return len(p.rules) }

type ruleBuild struct {
	order []string
	conds map[string]*cond
}

func (r *ruleBuild) clone() *ruleBuild {
	n := &ruleBuild{order: append([]string(nil), r.order...), conds: make(map[string]*cond, len(r.conds))}
	for k, v := range r.conds {
		n.conds[k] = v
	}
	return n
}

func (r *ruleBuild) put(path string, c *cond) {
	if _, ok := r.conds[path]; !ok {
		r.order = append(r.order, path)
	}
	r.conds[path] = c
}

type compiler struct{}

var reservedInOr = map[string]bool{
	"exactly": true, "equals-ignore-case": true, "prefix": true, "suffix": true,
	"anything-but": true, "exists": true, "wildcard": true, "numeric": true, "cidr": true,
	"html": true, "=": true, "<": true, "<=": true, ">": true, ">=": true, "regex": true,
	"not-wildcard": true, "not-equals-ignore-case": true, "date-after": true,
	"date-on-or-after": true, "date-before": true, "date-on-or-before": true,
	"in-date-range": true, "ip-address-in-range": true, "ip-address-not-in-range": true,
}

func joinPath(path, step string) string {
	if path == "" {
		return step
	}
	return path + "." + step
}

func (c *compiler) object(rules *[]*ruleBuild, path string, obj *jval, inOr bool) error {
	if len(obj.keys) == 0 {
		return &Error{Path: path, Msg: "Empty objects are not allowed"}
	}
	for i, k := range obj.keys {
		v := obj.items[i]
		if k == "$or" {
			if err := c.or(rules, path, v); err != nil {
				return err
			}
			continue
		}
		name := joinPath(path, k)
		if inOr && reservedInOr[k] {
			return &Error{Path: name, Msg: k + " is Ruler reserved fieldName which cannot be used inside $or."}
		}
		switch v.kind {
		case jObject:
			if err := c.object(rules, name, v, inOr); err != nil {
				return err
			}
		case jArray:
			cd, err := c.leaf(name, v)
			if err != nil {
				return err
			}
			if len(*rules) == 0 {
				*rules = append(*rules, &ruleBuild{conds: map[string]*cond{}})
			}
			for _, r := range *rules {
				r.put(name, cd)
			}
		default:
			return &Error{Path: name, Msg: "\"" + k + "\" must be an object or an array"}
		}
	}
	return nil
}

func (c *compiler) or(rules *[]*ruleBuild, path string, v *jval) error {
	current := *rules
	*rules = nil
	if v.kind != jArray {
		return &Error{Path: path, Msg: "It must be an Array followed with $or."}
	}
	for _, item := range v.items {
		if item.kind != jObject {
			return &Error{Path: path, Msg: "Only JSON object is allowed in array of $or relationship."}
		}
		var nr []*ruleBuild
		for _, r := range current {
			nr = append(nr, r.clone())
		}
		if len(nr) == 0 {
			nr = append(nr, &ruleBuild{conds: map[string]*cond{}})
		}
		if err := c.object(&nr, path, item, true); err != nil {
			return err
		}
		*rules = append(*rules, nr...)
		if len(*rules) > MaxOrCombinations {
			return &Error{Path: path, Msg: "Rule is too complex - the $or combinations exceed " + itoa(MaxOrCombinations)}
		}
	}
	if len(v.items) < 2 {
		return &Error{Path: path, Msg: "There must have at least 2 Objects in $or relationship."}
	}
	return nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func (c *compiler) leaf(path string, arr *jval) (*cond, error) {
	cd := &cond{path: path}
	fail := func(msg string) (*cond, error) { return nil, &Error{Path: path, Msg: msg} }
	var wilds []*wildcard
	for _, v := range arr.items {
		switch v.kind {
		case jObject:
			t, absent, msg := matchExpr(v)
			if msg != "" {
				return fail(msg)
			}
			if absent {
				cd.absent = true
				continue
			}
			if t.kind == tWildcard {
				wilds = append(wilds, t.wild)
			}
			if t.kind == tNotWildcard {
				wilds = append(wilds, t.wilds...)
			}
			cd.tests = append(cd.tests, t)
		case jString:
			if a, ok := parseIP([]byte(v.str)); ok {
				r := ipRange{lo: a.b, hi: a.b, v4: a.v4}
				cd.tests = append(cd.tests, &test{kind: tIP, ip: r, str: v.str})
			} else {
				cd.tests = append(cd.tests, &test{kind: tString, str: v.str})
			}
		case jNumber:
			f, ok := numberValue([]byte(v.str))
			cd.tests = append(cd.tests, &test{kind: tNumber, str: v.str, num: f, numOK: ok})
		case jTrue, jFalse, jNull:
			cd.tests = append(cd.tests, &test{kind: tLiteral, str: v.text()})
		default:
			return fail("Match value must be String, number, true, false, or null")
		}
	}
	if len(arr.items) == 0 {
		return fail("Empty arrays are not allowed")
	}
	if len(wilds) > 0 && wildcardComplexity(wilds, MaxWildcardComplexity) > MaxWildcardComplexity {
		return fail(msgTooComplex)
	}
	// drop duplicate tests
	seen := map[string]bool{}
	out := cd.tests[:0]
	for _, t := range cd.tests {
		if s := t.sig(); !seen[s] {
			seen[s] = true
			out = append(out, t)
		}
	}
	cd.tests = out
	return cd, nil
}

const msgOneKey = "Only one key allowed in match expression"
const msgTooMany = "Too many elements in numeric expression"

// matchExpr compiles one operator object, with event-ruler's checks in its
// order. absent reports {"exists": false}.
func matchExpr(o *jval) (t *test, absent bool, msg string) {
	if len(o.keys) == 0 {
		return nil, false, "Match expression name not found"
	}
	name, v := o.keys[0], o.items[0]
	extra := len(o.keys) > 1
	switch name {
	case "exactly":
		if v.kind != jString {
			return nil, false, "exact match pattern must be a string"
		}
		if extra {
			return nil, false, msgOneKey
		}
		return &test{kind: tString, str: v.str}, false, ""
	case "prefix", "suffix":
		kind, eicKind := tPrefix, tPrefixEIC
		label := "Prefix"
		if name == "suffix" {
			kind, eicKind, label = tSuffix, tSuffixEIC, "Suffix"
		}
		if v.kind == jObject {
			if len(v.keys) == 0 {
				return nil, false, label + " expression name not found"
			}
			if v.keys[0] != "equals-ignore-case" {
				return nil, false, "Unsupported " + name + " pattern: " + v.keys[0]
			}
			if v.items[0].kind != jString {
				return nil, false, "equals-ignore-case match pattern must be a string"
			}
			if len(v.keys) > 1 || extra {
				return nil, false, msgOneKey
			}
			s := v.items[0].str
			return newEIC(eicKind, s), false, ""
		}
		if v.kind != jString {
			return nil, false, name + " match pattern must be a string"
		}
		if extra {
			return nil, false, msgOneKey
		}
		return &test{kind: kind, str: v.str}, false, ""
	case "numeric":
		if v.kind != jArray {
			return nil, false, "Value of numeric must be an array."
		}
		t, msg := numericExpr(v.items)
		if msg != "" {
			return nil, false, msg
		}
		if extra {
			return nil, false, msgTooMany
		}
		return t, false, ""
	case "anything-but":
		t, msg := anythingBut(v)
		if msg != "" {
			return nil, false, msg
		}
		if extra {
			return nil, false, msgTooMany
		}
		return t, false, ""
	case "exists":
		if v.kind != jTrue && v.kind != jFalse {
			return nil, false, "exists match pattern must be either true or false."
		}
		if extra {
			return nil, false, msgOneKey
		}
		if v.kind == jFalse {
			return nil, true, ""
		}
		return &test{kind: tExists}, false, ""
	case "cidr":
		if v.kind != jString {
			return nil, false, "prefix match pattern must be a string"
		}
		r, msg := parseCIDR(v.str)
		if msg != "" {
			return nil, false, msg
		}
		if extra {
			return nil, false, msgOneKey
		}
		return &test{kind: tIP, ip: r, str: v.str}, false, ""
	case "equals-ignore-case":
		if v.kind != jString {
			return nil, false, "equals-ignore-case match pattern must be a string"
		}
		if extra {
			return nil, false, msgOneKey
		}
		return newEIC(tEIC, v.str), false, ""
	case "wildcard":
		if v.kind != jString {
			return nil, false, "wildcard match pattern must be a string"
		}
		w, msg := parseWildcard(v.str)
		if msg != "" {
			return nil, false, msg
		}
		if extra {
			return nil, false, msgOneKey
		}
		return &test{kind: tWildcard, str: v.str, wild: w}, false, ""
	}
	return nil, false, "Unrecognized match type " + name
}

func isNum(v *jval) bool { return v != nil && v.kind == jNumber }

func numericExpr(items []*jval) (*test, string) {
	at := func(i int) *jval {
		if i < len(items) {
			return items[i]
		}
		return nil
	}
	txt := func(v *jval) string {
		if v == nil {
			return "]"
		}
		return v.text()
	}
	bad := ""
	val := func(v *jval) float64 {
		f, ok := numberValue([]byte(v.str))
		if !ok && bad == "" {
			bad = inexact(v.str)
		}
		return f
	}
	t, msg := numericExprChecked(items, at, txt, val)
	if msg == "" && bad != "" {
		return nil, bad
	}
	return t, msg
}

// inexact is the error for a number event-ruler can't compare numerically.
func inexact(text string) string {
	return "Number " + text + " can't be represented exactly as a 64-bit float"
}

func numericExprChecked(items []*jval, at func(int) *jval, txt func(*jval) string, val func(*jval) float64) (*test, string) {
	first := at(0)
	if first == nil || first.kind != jString {
		return nil, "Invalid member in numeric match: " + txt(first)
	}
	op := first.str
	v := at(1)
	t := &test{kind: tRange, lo: negInf, hi: posInf}
	switch op {
	case "=":
		if !isNum(v) {
			return nil, "Value of equals must be numeric"
		}
		if len(items) > 2 {
			return nil, msgTooMany
		}
		t.lo, t.hi = val(v), val(v)
		return t, ""
	case "<", "<=":
		if !isNum(v) {
			return nil, "Value of " + op + " must be numeric"
		}
		if len(items) > 2 {
			return nil, msgTooMany
		}
		t.hi, t.hiOpen = val(v), op == "<"
		t.loOpen = true
		return t, ""
	case ">", ">=":
		if !isNum(v) {
			return nil, "Value of " + op + " must be numeric"
		}
		t.lo, t.loOpen = val(v), op == ">"
		t.hiOpen = true
		if len(items) == 2 {
			return t, ""
		}
		op2 := at(2)
		if op2.kind != jString {
			return nil, "Bad value in numeric range: " + op2.text()
		}
		if op2.str != "<" && op2.str != "<=" {
			return nil, "Bad numeric range operator: " + op2.str
		}
		v2 := at(3)
		if !isNum(v2) {
			return nil, "Value of " + op2.str + " must be numeric"
		}
		if len(items) > 4 {
			return nil, "Too many terms in numeric range expression"
		}
		t.hi, t.hiOpen = val(v2), op2.str == "<"
		return t, ""
	}
	return nil, "Unrecognized numeric range operator: " + op
}

func anythingBut(v *jval) (*test, string) {
	kind := tNotStrings
	sub := ""
	if v.kind == jObject {
		if len(v.keys) == 0 {
			return nil, "Anything-But expression name not found"
		}
		sub = v.keys[0]
		switch sub {
		case "equals-ignore-case":
			kind = tNotEIC
		case "prefix":
			kind = tNotPrefix
		case "suffix":
			kind = tNotSuffix
		case "wildcard":
			kind = tNotWildcard
		default:
			return nil, "Unsupported anything-but pattern: " + sub
		}
		inner := v.items[0]
		extraInner := len(v.keys) > 1
		t, msg := anythingButSet(kind, inner)
		if msg != "" {
			return nil, msg
		}
		if extraInner {
			return nil, msgTooMany
		}
		return t, ""
	}
	switch v.kind {
	case jArray:
		hasNum, hasStr := false, false
		t := &test{}
		for _, it := range v.items {
			switch it.kind {
			case jString:
				hasStr = true
				t.strs = append(t.strs, it.str)
			case jNumber:
				hasNum = true
				f, ok := numberValue([]byte(it.str))
				if !ok {
					return nil, inexact(it.str)
				}
				t.nums = append(t.nums, numLit{text: it.str, val: f, ok: ok})
			default:
				return nil, "Inside anything but list, start|null|boolean is not supported."
			}
		}
		if hasNum == hasStr {
			return nil, "Inside anything but list, either all values are number or string, mixed type is not supported"
		}
		if hasNum {
			t.kind = tNotNumbers
		} else {
			t.kind = tNotStrings
		}
		return t, ""
	case jString:
		return &test{kind: tNotStrings, strs: []string{v.str}}, ""
	case jNumber:
		f, ok := numberValue([]byte(v.str))
		if !ok {
			return nil, inexact(v.str)
		}
		return &test{kind: tNotNumbers, nums: []numLit{{text: v.str, val: f, ok: ok}}}, ""
	}
	return nil, "Value of anything-but must be an array or single string/number value."
}

func anythingButSet(kind testKind, v *jval) (*test, string) {
	if v.kind != jArray && v.kind != jString && v.kind != jNumber {
		return nil, "Value of anything-but must be an array or single string/number value."
	}
	items := v.items
	if v.kind != jArray {
		items = []*jval{v}
	}
	t := &test{kind: kind}
	for _, it := range items {
		if it.kind != jString {
			switch kind {
			case tNotEIC:
				return nil, "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
			case tNotWildcard:
				return nil, "wildcard match pattern must be a string"
			}
			return nil, "prefix/suffix match pattern must be a string"
		}
		if (kind == tNotPrefix || kind == tNotSuffix) && it.str == "" {
			return nil, "Null prefix/suffix not allowed"
		}
		t.strs = append(t.strs, it.str)
	}
	switch kind {
	case tNotEIC:
		for _, s := range t.strs {
			t.eics = append(t.eics, compileEIC(s))
		}
	case tNotWildcard:
		for _, s := range t.strs {
			w, msg := parseWildcard(s)
			if msg != "" {
				return nil, msg
			}
			t.wilds = append(t.wilds, w)
		}
	}
	return t, ""
}

func newEIC(kind testKind, s string) *test {
	t := &test{kind: kind, str: s, eic: compileEIC(s)}
	if isASCII(s) {
		t.low = string(lowerASCII(nil, []byte(s)))
	}
	return t
}
