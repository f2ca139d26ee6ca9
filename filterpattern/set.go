package filterpattern

import "sync"

// Set matches one message against many patterns at once: the selectors of
// all its JSON patterns share one trie, so a message is scanned once
// whatever the number of JSON patterns. It is safe for concurrent use.
type Set struct {
	patterns []*Pattern
	exprs    []*jexpr // per pattern; nil when not JSON
	root     *node
	hasJSON  bool
	pool     sync.Pool // *scan
}

// NewSet builds a Set of already parsed patterns; Match reports matches by
// their index in ps.
func NewSet(ps ...*Pattern) *Set {
	s := &Set{patterns: ps, exprs: make([]*jexpr, len(ps))}
	jp := newJParser()
	for i, p := range ps {
		if p.kind != JSON {
			continue
		}
		start := 0
		for start < len(p.src) && isSpace(p.src[start]) {
			start++
		}
		e, err := jp.parse(p.src, start)
		if err != nil {
			panic("filterpattern: re-parse of a valid pattern failed: " + err.Error())
		}
		s.exprs[i] = e
		s.hasJSON = true
	}
	s.root = jp.root
	return s
}

// Len is the number of patterns in the set.
func (s *Set) Len() int { return len(s.patterns) }

// Pattern returns the i-th pattern.
func (s *Set) Pattern(i int) *Pattern { return s.patterns[i] }

// Match appends to dst the indexes of the patterns the message matches, in
// increasing order.
func (s *Set) Match(message []byte, dst []int) []int {
	var sc *scan
	valid := false
	if s.hasJSON {
		sc, _ = s.pool.Get().(*scan)
		if sc == nil {
			sc = &scan{}
		}
		sc.reset(message)
		valid = sc.run(s.root)
	}
	for i, p := range s.patterns {
		if e := s.exprs[i]; e != nil {
			if valid && eval(e, sc) {
				dst = append(dst, i)
			}
			continue
		}
		if p.Matches(message) {
			dst = append(dst, i)
		}
	}
	if sc != nil {
		sc.data = nil
		s.pool.Put(sc)
	}
	return dst
}
