package rule

import (
	"strings"

	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/pattern"
)

// The two spellings of the sign-in detail-type. CloudTrail sign-in events
// reach EventBridge as "AWS Console Sign In via CloudTrail" (event.DetailType
// SignIn); AWS's current documentation writes "AWS Console Signin via
// CloudTrail" (event.DetailTypeSignInNew). A rule written with either
// spelling must match events carrying either.
//
// The rule compiler does it by rewriting the detail-type leaf of the pattern
// (at the top level and inside top-level $or branches) before compiling it,
// so the pattern package stays a faithful EventBridge matcher:
//
//   - Positive matchers (exact string, equals-ignore-case, prefix, suffix,
//     wildcard, prefix/suffix with equals-ignore-case) that match one spelling
//     but not the other get the other spelling added to the leaf: an exact
//     string, or an equals-ignore-case for an equals-ignore-case. So
//     ["AWS Console Signin via CloudTrail"] becomes [new, old], and
//     [{"prefix":"AWS Console Sign In"}] also matches the new spelling.
//   - anything-but excludes both spellings when it excludes one: a string or
//     string list gets the other spelling; equals-ignore-case gets the other
//     spelling; prefix, suffix and wildcard forms get the other spelling as a
//     further prefix/suffix/wildcard operand (becoming a list), which
//     excludes exactly it (and, for prefix/suffix, strings extending it,
//     which no detail-type does).
//   - numeric, cidr and exists are left alone.
//
// Net effect: for every event, the rule's verdict is the same whichever of
// the two spellings the event carries.
const (
	spellingOld = event.DetailTypeSignIn
	spellingNew = event.DetailTypeSignInNew
)

var spellings = [2]string{spellingOld, spellingNew}

func otherSpelling(i int) string { return spellings[1-i] }

// rewriteSignInSpelling applies the rewrite to a pattern (a JSON object) in
// place and reports whether it changed anything.
func rewriteSignInSpelling(p *jval) bool {
	if p == nil || p.kind != jObject {
		return false
	}
	changed := false
	for i, k := range p.keys {
		switch k {
		case "detail-type":
			if rewriteDetailTypeLeaf(p.vals[i]) {
				changed = true
			}
		case "$or":
			if p.vals[i].kind == jArray {
				for _, b := range p.vals[i].vals {
					if rewriteSignInSpelling(b) {
						changed = true
					}
				}
			}
		}
	}
	return changed
}

func rewriteDetailTypeLeaf(leaf *jval) bool {
	if leaf.kind != jArray {
		return false // pattern.Parse reports it
	}
	var add []*jval
	has := map[string]bool{}
	for _, e := range leaf.vals {
		if s, ok := e.str(); ok {
			has[s] = true
		}
	}
	addExact := func(s string) {
		if !has[s] {
			has[s] = true
			add = append(add, jstring(s))
		}
	}
	changed := false
	for _, e := range leaf.vals {
		if s, ok := e.str(); ok {
			for i, sp := range spellings {
				if s == sp {
					addExact(otherSpelling(i))
				}
			}
			continue
		}
		if e.kind != jObject || len(e.keys) != 1 {
			continue
		}
		op, arg := e.keys[0], e.vals[0]
		switch op {
		case "anything-but":
			if rewriteAnythingBut(e) {
				changed = true
			}
		case "equals-ignore-case":
			if x, ok := arg.str(); ok {
				for i, sp := range spellings {
					if strings.EqualFold(x, sp) && !strings.EqualFold(x, otherSpelling(i)) {
						add = append(add, &jval{kind: jObject, keys: []string{op}, vals: []*jval{jstring(otherSpelling(i))}})
					}
				}
			}
		default:
			match := operandMatcher(op, arg)
			if match == nil {
				continue
			}
			for i, sp := range spellings {
				if match(sp) && !match(otherSpelling(i)) {
					addExact(otherSpelling(i))
				}
			}
		}
	}
	if len(add) > 0 {
		leaf.vals = append(leaf.vals, add...)
		changed = true
	}
	return changed
}

// operandMatcher returns a predicate for a positive string operator, or nil.
func operandMatcher(op string, arg *jval) func(string) bool {
	fold := false
	x, ok := arg.str()
	if !ok {
		// {"prefix": {"equals-ignore-case": "..."}}
		if arg.kind == jObject && len(arg.keys) == 1 && arg.keys[0] == "equals-ignore-case" {
			if x, ok = arg.vals[0].str(); !ok {
				return nil
			}
			fold = true
		} else {
			return nil
		}
	}
	norm := func(s string) string {
		if fold {
			return strings.ToLower(s)
		}
		return s
	}
	switch op {
	case "prefix":
		return func(s string) bool { return strings.HasPrefix(norm(s), norm(x)) }
	case "suffix":
		return func(s string) bool { return strings.HasSuffix(norm(s), norm(x)) }
	case "wildcard":
		if fold {
			return nil
		}
		return func(s string) bool { return wildcardMatch(x, s) }
	}
	return nil
}

// rewriteAnythingBut makes an anything-but that excludes one spelling
// exclude the other too.
func rewriteAnythingBut(e *jval) bool {
	arg := e.vals[0]
	// "anything-but": "x" or ["x", ...]
	if s, ok := arg.str(); ok {
		for i, sp := range spellings {
			if s == sp {
				e.vals[0] = &jval{kind: jArray, vals: []*jval{arg, jstring(otherSpelling(i))}}
				return true
			}
		}
		return false
	}
	if arg.kind == jArray {
		return extendList(arg, func(s, sp string) bool { return s == sp })
	}
	if arg.kind != jObject || len(arg.keys) != 1 {
		return false
	}
	op := arg.keys[0]
	var match func(x, s string) bool
	switch op {
	case "equals-ignore-case":
		match = strings.EqualFold
	case "prefix":
		match = func(x, s string) bool { return strings.HasPrefix(s, x) }
	case "suffix":
		match = func(x, s string) bool { return strings.HasSuffix(s, x) }
	case "wildcard":
		match = wildcardMatch
	default:
		return false
	}
	v := arg.vals[0]
	if _, ok := v.str(); ok {
		v = &jval{kind: jArray, vals: []*jval{v}}
		if !extendList(v, match) {
			return false
		}
		arg.vals[0] = v
		return true
	}
	if v.kind == jArray {
		return extendList(v, match)
	}
	return false
}

// extendList adds to a list of string operands the spelling that one of
// them excludes the other of, so both are excluded.
func extendList(list *jval, match func(x, s string) bool) bool {
	excluded := [2]bool{}
	for _, e := range list.vals {
		x, ok := e.str()
		if !ok {
			return false // mixed or numeric list: leave it
		}
		for i, sp := range spellings {
			if match(x, sp) {
				excluded[i] = true
			}
		}
	}
	changed := false
	for i := range spellings {
		if excluded[i] && !excluded[1-i] {
			list.vals = append(list.vals, jstring(otherSpelling(i)))
			changed = true
		}
	}
	return changed
}

// wildcardMatch reports whether s matches an EventBridge wildcard: '*'
// matches any run of characters, "\*" a literal '*', "\\" a literal '\'.
func wildcardMatch(pat, s string) bool {
	// Tokenize the pattern into literal runs separated by stars.
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case c == '\\' && i+1 < len(pat):
			i++
			cur.WriteByte(pat[i])
		case c == '*':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	parts = append(parts, cur.String())
	if len(parts) == 1 {
		return s == parts[0]
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// ParsePattern parses an event pattern as the rule compiler does: validated
// as written (so errors name what the author wrote), then compiled with the
// sign-in detail-type spelling rewrite, so that it matches sign-in events
// whichever of the two spellings it names.
func ParsePattern(src []byte) (*pattern.Pattern, error) {
	p, err := pattern.Parse(src)
	if err != nil {
		return nil, err
	}
	jv, err := parseJSON(src)
	if err != nil {
		return nil, err
	}
	if !rewriteSignInSpelling(jv) {
		return p, nil
	}
	return pattern.Parse(jv.JSON())
}
