package pattern

import (
	"sort"
	"strings"
	"sync"
)

// Builder collects patterns; Build compiles all of them into one Matcher.
type Builder struct {
	entries  []builderEntry
	allEager bool // tests: index every condition, not only anchors
}

type builderEntry struct {
	id int
	p  *Pattern
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder { return &Builder{} }

// Add adds a pattern under id. Several patterns under one id are ORed.
func (b *Builder) Add(id int, p *Pattern) {
	b.entries = append(b.entries, builderEntry{id, p})
}

// Matcher is immutable and safe for concurrent use by many goroutines.
type Matcher struct {
	nodes    []pathNode
	fields   []fieldM
	conds    []condC
	rules    []ruleC
	anchored [][]int32 // condition -> rules anchored on it
	eager    []bool    // condition is indexed (evaluated while scanning)
	tests    [][]*test // condition -> its tests (for lazy evaluation)
	always   []int32   // rules with no positive condition
	ids      []int     // distinct ids, ascending
	pool     sync.Pool
}

// pathNode is a node of the trie of used field paths. Node 0 is the root.
type pathNode struct {
	kids  map[string]int32
	byLen [][]kidEntry // kids bucketed by key length (faster than hashing)
	field int32        // -1 if no field ends here
}

type kidEntry struct {
	key  string
	node int32
}

const maxBucketedKey = 64

func (n *pathNode) kid(key []byte) int32 {
	if len(key) < len(n.byLen) {
		for _, e := range n.byLen[len(key)] {
			if e.key == string(key) {
				return e.node
			}
		}
		return -1
	}
	if len(key) < maxBucketedKey {
		return -1
	}
	if c, ok := n.kids[string(key)]; ok {
		return c
	}
	return -1
}

type condC struct {
	field  int32
	absent bool
	score  int
}

type ruleC struct {
	id    int32 // index into Matcher.ids
	conds []int32
}

// Len returns the number of distinct ids.
func (m *Matcher) Len() int { return len(m.ids) }

// Build compiles all added patterns into one Matcher.
func (b *Builder) Build() *Matcher {
	m := &Matcher{}
	idSet := map[int]bool{}
	for _, e := range b.entries {
		idSet[e.id] = true
	}
	for id := range idSet {
		m.ids = append(m.ids, id)
	}
	sort.Ints(m.ids)
	idIndex := make(map[int]int32, len(m.ids))
	for i, id := range m.ids {
		idIndex[id] = int32(i)
	}

	fieldIndex := map[string]int32{}
	var fieldPaths []string
	condIndex := map[string]int32{}
	var condTests [][]*test
	ruleSeen := map[string]bool{}
	for _, e := range b.entries {
		for _, r := range e.p.rules {
			rc := ruleC{id: idIndex[e.id]}
			for _, c := range r.conds {
				f, ok := fieldIndex[c.path]
				if !ok {
					f = int32(len(fieldPaths))
					fieldIndex[c.path] = f
					fieldPaths = append(fieldPaths, c.path)
				}
				sigs := make([]string, 0, len(c.tests))
				for _, t := range c.tests {
					sigs = append(sigs, t.sig())
				}
				sort.Strings(sigs)
				key := c.path + "\x00" + strings.Join(sigs, "\x01")
				if c.absent {
					key += "\x00absent"
				}
				ci, ok := condIndex[key]
				if !ok {
					ci = int32(len(m.conds))
					condIndex[key] = ci
					m.conds = append(m.conds, condC{field: f, absent: c.absent, score: condScore(c)})
					condTests = append(condTests, c.tests)
				}
				rc.conds = append(rc.conds, ci)
			}
			// skip duplicate rules (same id, same conditions)
			var kb strings.Builder
			kb.WriteString(itoa(int(rc.id)))
			for _, c := range rc.conds {
				kb.WriteByte(',')
				kb.WriteString(itoa(int(c)))
			}
			if ruleSeen[kb.String()] {
				continue
			}
			ruleSeen[kb.String()] = true
			m.rules = append(m.rules, rc)
		}
	}

	// path trie
	m.nodes = []pathNode{{field: -1}}
	nodeOf := map[string]int32{}
	getNode := func(prefix string) int32 {
		if n, ok := nodeOf[prefix]; ok {
			return n
		}
		n := int32(len(m.nodes))
		m.nodes = append(m.nodes, pathNode{field: -1})
		nodeOf[prefix] = n
		return n
	}
	addKid := func(from int32, key string, to int32) {
		if m.nodes[from].kids == nil {
			m.nodes[from].kids = map[string]int32{}
		}
		m.nodes[from].kids[key] = to
	}
	for f, path := range fieldPaths {
		var bounds []int
		for i := 0; i < len(path); i++ {
			if path[i] == '.' {
				bounds = append(bounds, i)
			}
		}
		bounds = append(bounds, len(path))
		for j, bj := range bounds {
			addKid(0, path[:bj], getNode(path[:bj]))
			for i := 0; i < j; i++ {
				bi := bounds[i]
				addKid(getNode(path[:bi]), path[bi+1:bj], getNode(path[:bj]))
			}
		}
		m.nodes[getNode(path)].field = int32(f)
	}
	for i := range m.nodes {
		n := &m.nodes[i]
		for k, to := range n.kids {
			if len(k) >= maxBucketedKey {
				continue
			}
			for len(n.byLen) <= len(k) {
				n.byLen = append(n.byLen, nil)
			}
			n.byLen[len(k)] = append(n.byLen[len(k)], kidEntry{k, to})
		}
	}

	// anchors: each rule is triggered by one of its positive conditions,
	// chosen among the most selective kind; among those, the condition the
	// fewest rules mention (a value shared by many rules is likely common).
	refs := make([]int, len(m.conds))
	for _, rc := range m.rules {
		for _, c := range rc.conds {
			refs[c]++
		}
	}
	// estimated cost of anchoring on c: how often it may match (kind of
	// test, and how many rules share it) per rule it triggers.
	cost := func(c int32) int {
		w := 64
		switch sc := m.conds[c].score; {
		case sc >= 9:
			w = 1
		case sc >= 4:
			w = 4
		}
		return w * refs[c]
	}
	m.anchored = make([][]int32, len(m.conds))
	for ri, rc := range m.rules {
		best := int32(-1)
		for _, c := range rc.conds {
			if m.conds[c].absent {
				continue
			}
			if best < 0 || cost(c) < cost(best) ||
				(cost(c) == cost(best) && m.conds[c].score > m.conds[best].score) {
				best = c
			}
		}
		if best < 0 {
			m.always = append(m.always, int32(ri))
		} else {
			m.anchored[best] = append(m.anchored[best], int32(ri))
		}
	}
	// Only anchor conditions are indexed per field and evaluated while
	// scanning; the others are checked on demand for candidate rules, so
	// rules whose anchor didn't match cost nothing per event.
	m.eager = make([]bool, len(m.conds))
	for c, rs := range m.anchored {
		m.eager[c] = len(rs) > 0 || b.allEager
	}
	m.tests = condTests
	m.fields = make([]fieldM, len(fieldPaths))
	for ci, tests := range condTests {
		if !m.eager[ci] {
			continue
		}
		fm := &m.fields[m.conds[ci].field]
		for _, t := range tests {
			fm.add(t, int32(ci))
		}
	}
	for i := range m.fields {
		m.fields[i].finish()
	}
	nConds, nFields, nIDs := len(m.conds), len(m.fields), len(m.ids)
	m.pool.New = func() any { return newScratch(nConds, nFields, nIDs) }
	return m
}

// condScore estimates how selective a condition is (higher: matches fewer
// events, and cheap to index).
func condScore(c *cond) int {
	if c.absent || len(c.tests) == 0 {
		return 0
	}
	score := 100
	for _, t := range c.tests {
		s := 1
		switch t.kind {
		case tString, tNumber, tLiteral:
			s = 10
		case tEIC:
			s = 9
		case tIP:
			s = 9
			if t.ip.lo != t.ip.hi {
				s = 5
			}
		case tPrefix, tPrefixEIC:
			s = min(7, 3+len(t.str))
			if len(t.str) == 0 {
				s = 1
			}
		case tSuffix, tSuffixEIC:
			s = min(6, 2+len(t.str))
			if len(t.str) == 0 {
				s = 1
			}
		case tWildcard:
			s = 2
			if len(t.wild.segs) == 1 {
				s = 10
			} else if len(t.wild.leadLit) > 3 {
				s = 4
			}
		case tRange:
			s = 4
		}
		if s < score {
			score = s
		}
	}
	return score
}

// Matches is a one-shot check (like aws events test-event-pattern).
func Matches(p *Pattern, event []byte) (bool, error) {
	p.once.Do(func() {
		b := NewBuilder()
		b.Add(0, p)
		p.m = b.Build()
	})
	s := p.m.getScratch()
	defer p.m.pool.Put(s)
	if err := p.m.run(event, s); err != nil {
		return false, err
	}
	return len(s.matchedIDs) > 0, nil
}

// Match appends to dst the ids whose patterns match the event (JSON text of
// one event), each id once, ascending. An event that is not valid JSON (or
// not a JSON object) gives an error.
func (m *Matcher) Match(event []byte, dst []int) ([]int, error) {
	s := m.getScratch()
	defer m.pool.Put(s)
	if err := m.run(event, s); err != nil {
		return dst, err
	}
	ids := s.matchedIDs
	sortInt32(ids)
	for _, i := range ids {
		dst = append(dst, m.ids[i])
	}
	return dst, nil
}

func (m *Matcher) getScratch() *scratch {
	s := m.pool.Get().(*scratch)
	s.epoch++
	if s.epoch == 0 {
		s.reset()
		s.epoch = 1
	}
	s.vals = s.vals[:0]
	s.mem = s.mem[:0]
	s.matched = s.matched[:0]
	s.matchedIDs = s.matchedIDs[:0]
	s.stack = s.stack[:0]
	s.arena = s.arena[:0]
	return s
}

func sortInt32(a []int32) {
	if len(a) > 16 {
		sort.Slice(a, func(i, j int) bool { return a[i] < a[j] })
		return
	}
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// run scans the event and evaluates the rules; matched ids end up in
// s.matchedIDs (indexes into m.ids).
func (m *Matcher) run(event []byte, s *scratch) error {
	sc := scanner{m: m, s: s, b: event}
	if err := sc.top(); err != nil {
		return err
	}
	for _, c := range s.matched {
		for _, r := range m.anchored[c] {
			m.tryRule(r, s)
		}
	}
	for _, r := range m.always {
		m.tryRule(r, s)
	}
	return nil
}

func (m *Matcher) tryRule(r int32, s *scratch) {
	rc := &m.rules[r]
	if s.idEpoch[rc.id] == s.epoch {
		return
	}
	arr := false
	multi := len(rc.conds) > 1
	for _, c := range rc.conds {
		cc := &m.conds[c]
		present := s.fieldEpoch[cc.field] == s.epoch
		inArr := present && s.fieldInArr[cc.field]
		if inArr {
			arr = true
		}
		if present && m.condMatched(c, s) {
			continue
		}
		if cc.absent && (!present || (inArr && multi)) {
			continue
		}
		return
	}
	if arr && multi && !m.search(rc, s) {
		return
	}
	s.idEpoch[rc.id] = s.epoch
	s.matchedIDs = append(s.matchedIDs, rc.id)
}

// condMatched reports whether some value of the condition's field (which
// is present) satisfies one of its tests.
func (m *Matcher) condMatched(c int32, s *scratch) bool {
	if m.eager[c] {
		return s.condEpoch[c] == s.epoch
	}
	if s.lazyEpoch[c] == s.epoch {
		return s.lazyVal[c]
	}
	ok := false
	for v := s.fieldHead[m.conds[c].field]; v >= 0 && !ok; v = s.vals[v].next {
		ok = m.valueSatisfies(c, v, s)
	}
	s.lazyEpoch[c] = s.epoch
	s.lazyVal[c] = ok
	return ok
}

func (m *Matcher) valueSatisfies(c, v int32, s *scratch) bool {
	val := &s.vals[v]
	for _, t := range m.tests[c] {
		if t.matches(val.kind, val.str) {
			return true
		}
	}
	return false
}

// search looks for a choice of one matching value per condition (in
// sorted path order) whose array memberships are consistent (event-ruler's
// array consistency); absence is judged against the values chosen so far.
func (m *Matcher) search(rc *ruleC, s *scratch) bool {
	s.chosen = s.chosen[:0]
	s.steps = 0
	ok := m.searchFrom(rc, 0, s)
	if s.steps > maxSearchSteps {
		// A crafted event could make the search exponential; past the
		// budget, array consistency is given up (the answer of event-ruler's
		// deprecated rulesForEvent) rather than spending unbounded time.
		return true
	}
	return ok
}

// maxSearchSteps bounds the array-consistency search per rule and event.
const maxSearchSteps = 1 << 14

func (m *Matcher) searchFrom(rc *ruleC, k int, s *scratch) bool {
	s.steps++
	if s.steps > maxSearchSteps {
		return false
	}
	if k == len(rc.conds) {
		return true
	}
	c := rc.conds[k]
	cc := &m.conds[c]
	if s.fieldEpoch[cc.field] == s.epoch {
		for v := s.fieldHead[cc.field]; v >= 0; v = s.vals[v].next {
			if m.valueSatisfies(c, v, s) && s.consistentWithChosen(v) {
				s.chosen = append(s.chosen, v)
				if m.searchFrom(rc, k+1, s) {
					return true
				}
				s.chosen = s.chosen[:len(s.chosen)-1]
			}
		}
	}
	if cc.absent {
		// As event-ruler's StructuredFinder walks fields in sorted order,
		// absence is judged against the values chosen for earlier fields.
		if s.fieldEpoch[cc.field] == s.epoch {
			for v := s.fieldHead[cc.field]; v >= 0; v = s.vals[v].next {
				if s.consistentWithChosen(v) {
					return false
				}
			}
		}
		return m.searchFrom(rc, k+1, s)
	}
	return false
}

// ---- scratch ----

type arrPos struct{ id, idx int32 }

type valRec struct {
	str         []byte // string content or number text
	kind        uint8
	mem, memLen int32
	next        int32 // next value of the same field
}

type scratch struct {
	epoch      uint32
	condEpoch  []uint32
	fieldEpoch []uint32
	fieldHead  []int32
	fieldInArr []bool
	idEpoch    []uint32
	lazyEpoch  []uint32
	lazyVal    []bool

	vals       []valRec
	mem        []arrPos
	matched    []int32 // conditions matched by some value
	matchedIDs []int32
	stack      []arrPos
	out        []int32
	buf        []byte // unescaped keys
	arena      []byte // unescaped string values of the current event
	lower      []byte
	chosen     []int32
	steps      int
}

func newScratch(nConds, nFields, nIDs int) *scratch {
	return &scratch{
		condEpoch:  make([]uint32, nConds),
		fieldEpoch: make([]uint32, nFields),
		fieldHead:  make([]int32, nFields),
		fieldInArr: make([]bool, nFields),
		idEpoch:    make([]uint32, nIDs),
		lazyEpoch:  make([]uint32, nConds),
		lazyVal:    make([]bool, nConds),
	}
}

func (s *scratch) reset() {
	clear(s.condEpoch)
	clear(s.fieldEpoch)
	clear(s.idEpoch)
	clear(s.lazyEpoch)
}

func (s *scratch) consistentWithChosen(v int32) bool {
	a := s.vals[v]
	if a.memLen == 0 {
		return true
	}
	ma := s.mem[a.mem : a.mem+a.memLen]
	for _, c := range s.chosen {
		b := s.vals[c]
		mb := s.mem[b.mem : b.mem+b.memLen]
		for i := 0; i < len(ma) && i < len(mb); i++ {
			if ma[i].id != mb[i].id {
				break
			}
			if ma[i].idx != mb[i].idx {
				return false
			}
		}
	}
	return true
}

// leaf records one event value of field f and the conditions it satisfies.
func (s *scratch) leaf(m *Matcher, f int32, kind uint8, v []byte) {
	vi := int32(len(s.vals))
	memStart := int32(len(s.mem))
	s.mem = append(s.mem, s.stack...)
	if s.fieldEpoch[f] != s.epoch {
		s.fieldEpoch[f] = s.epoch
		s.fieldHead[f] = -1
		s.fieldInArr[f] = false
	}
	s.vals = append(s.vals, valRec{str: v, kind: kind, mem: memStart, memLen: int32(len(s.stack)), next: s.fieldHead[f]})
	s.fieldHead[f] = vi
	if len(s.stack) > 0 {
		s.fieldInArr[f] = true
	}
	s.out = s.out[:0]
	m.fields[f].eval(kind, v, s)
	for _, c := range s.out {
		if s.condEpoch[c] != s.epoch {
			s.condEpoch[c] = s.epoch
			s.matched = append(s.matched, c)
		}
	}
}
