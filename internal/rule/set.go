package rule

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/pattern"
)

// Set is a compiled set of rules: all their patterns in one matcher. A Set
// is immutable and safe for concurrent use; to change rules, build a new Set
// and swap it in.
type Set struct {
	rules []*Rule
	m     *pattern.Matcher
	ids   sync.Pool // *[]int scratch for Match
}

// NewSet compiles rules into a Set. Rule names must be unique; a rule
// without a pattern is an error.
func NewSet(rules []*Rule) (*Set, error) {
	var errs []error
	byName := make(map[string]*Rule, len(rules))
	b := pattern.NewBuilder()
	for i, r := range rules {
		if r == nil || r.Pattern == nil {
			errs = append(errs, fmt.Errorf("rule %d has no pattern", i))
			continue
		}
		if prev, ok := byName[r.Name]; ok {
			errs = append(errs, fmt.Errorf("%s: duplicate rule name %q (first defined at %s)", r.Source, r.Name, prev.Source))
			continue
		}
		byName[r.Name] = r
		b.Add(i, r.Pattern)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Set{rules: append([]*Rule(nil), rules...), m: b.Build()}
	s.ids.New = func() any { x := make([]int, 0, 16); return &x }
	return s, nil
}

// Rules returns the set's rules in the order given to NewSet. The slice is
// the caller's; the rules are shared.
func (s *Set) Rules() []*Rule { return append([]*Rule(nil), s.rules...) }

// Len returns the number of rules.
func (s *Set) Len() int { return len(s.rules) }

// Rule returns the rule with the given name, or nil.
func (s *Set) Rule(name string) *Rule {
	for _, r := range s.rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Match appends to dst the rules whose pattern matches ev, in the order
// given to NewSet, each once. A read-only event (ev.ReadOnly) matches only
// rules with IncludeReadOnly.
func (s *Set) Match(ev *event.Event, dst []*Rule) ([]*Rule, error) {
	bp := s.ids.Get().(*[]int)
	ids, err := s.m.Match(ev.JSON, (*bp)[:0])
	if err != nil {
		s.ids.Put(bp)
		return dst, fmt.Errorf("rule match: %w", err)
	}
	for _, id := range ids {
		r := s.rules[id]
		if ev.ReadOnly && !r.IncludeReadOnly {
			continue
		}
		dst = append(dst, r)
	}
	*bp = ids[:0]
	s.ids.Put(bp)
	return dst, nil
}

// TestResult is the outcome of one inline test.
type TestResult struct {
	Rule *Rule
	Test Test
	Got  bool  // whether the rule matched the test's event
	Err  error // the event could not be matched
}

// Passed reports whether the rule matched as the test expects.
func (t TestResult) Passed() bool { return t.Err == nil && t.Got == t.Test.Expect }

func (t TestResult) String() string {
	switch {
	case t.Err != nil:
		return fmt.Sprintf("%s: %s: test %q: %v", t.Test.Source, t.Rule.Name, t.Test.Name, t.Err)
	case t.Passed():
		return fmt.Sprintf("%s: %s: test %q: ok", t.Test.Source, t.Rule.Name, t.Test.Name)
	}
	return fmt.Sprintf("%s: %s: test %q: expected match=%t, got %t", t.Test.Source, t.Rule.Name, t.Test.Name, t.Test.Expect, t.Got)
}

// RunTests runs every rule's inline tests, in rule then test order. Each
// event goes through one matcher built from all the rules, as in
// production, and the verdict is cross-checked with the rule's own pattern;
// a disagreement is reported as an error.
func RunTests(rules []*Rule) []TestResult {
	b := pattern.NewBuilder()
	for i, r := range rules {
		if r.Pattern != nil {
			b.Add(i, r.Pattern)
		}
	}
	m := b.Build()
	var out []TestResult
	var ids []int
	for i, r := range rules {
		for _, tc := range r.Tests {
			res := TestResult{Rule: r, Test: tc}
			if tc.Event == nil || r.Pattern == nil {
				res.Err = errors.New("no event or no pattern")
				out = append(out, res)
				continue
			}
			var err error
			ids, err = m.Match(tc.Event.JSON, ids[:0])
			if err != nil {
				res.Err = err
				out = append(out, res)
				continue
			}
			k := sort.SearchInts(ids, i)
			inSet := k < len(ids) && ids[k] == i
			single, err := pattern.Matches(r.Pattern, tc.Event.JSON)
			if err != nil {
				res.Err = err
			} else if single != inSet {
				res.Err = fmt.Errorf("matcher disagreement: set says %t, pattern says %t", inSet, single)
			}
			res.Got = inSet && (!tc.Event.ReadOnly || r.IncludeReadOnly)
			out = append(out, res)
		}
	}
	return out
}
