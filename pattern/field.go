package pattern

import "sort"

// Value kinds of event leaves.
const (
	vString uint8 = iota
	vNumber
	vTrue
	vFalse
	vNull
)

// fieldM matches the values of one field against all tests on that field
// and emits the ids of the conditions they satisfy.
type fieldM struct {
	exists   []int32
	strExact map[string][]int32
	numText  map[string][]int32
	numVal   map[uint64][]int32
	litTrue  []int32
	litFalse []int32
	litNull  []int32

	prefix    *btrie // prefixes, and wildcards by their leading literal
	suffix    *btrie // reversed suffixes
	eicExact  map[string][]int32
	eicPrefix *btrie // ASCII-lowered
	eicSuffix *btrie // ASCII-lowered, reversed
	eicSlow   []eicEntry
	ranges    []rangeEntry
	ips       []ipEntry
	nots      []notEntry

	wilds     []wildEntry // placed into the tries by finish
	hasEIC    bool
	needFloat bool
}

type eicEntry struct {
	p    eicPattern
	mode int
	cid  int32
}

type rangeEntry struct {
	lo, hi         float64
	loOpen, hiOpen bool
	cid            int32
}

type ipEntry struct {
	r   ipRange
	cid int32
}

type notEntry struct {
	t   *test
	set map[string]bool
	cid int32
}

func (fm *fieldM) add(t *test, cid int32) {
	switch t.kind {
	case tString:
		if fm.strExact == nil {
			fm.strExact = map[string][]int32{}
		}
		fm.strExact[t.str] = append(fm.strExact[t.str], cid)
	case tNumber:
		if fm.numText == nil {
			fm.numText = map[string][]int32{}
		}
		fm.numText[t.str] = append(fm.numText[t.str], cid)
		if t.numOK {
			if fm.numVal == nil {
				fm.numVal = map[uint64][]int32{}
			}
			k := floatKey(t.num)
			fm.numVal[k] = append(fm.numVal[k], cid)
			fm.needFloat = true
		}
	case tLiteral:
		switch t.str {
		case "true":
			fm.litTrue = append(fm.litTrue, cid)
		case "false":
			fm.litFalse = append(fm.litFalse, cid)
		default:
			fm.litNull = append(fm.litNull, cid)
		}
	case tPrefix:
		if fm.prefix == nil {
			fm.prefix = newTrie()
		}
		fm.prefix.add([]byte(t.str), false, cid, nil)
	case tSuffix:
		if fm.suffix == nil {
			fm.suffix = newTrie()
		}
		fm.suffix.add([]byte(t.str), true, cid, nil)
	case tWildcard:
		if len(t.wild.segs) == 1 {
			fm.add(&test{kind: tString, str: string(t.wild.segs[0])}, cid)
			return
		}
		fm.wilds = append(fm.wilds, wildEntry{t.wild, cid})
	case tEIC, tPrefixEIC, tSuffixEIC:
		fm.hasEIC = true
		if !isASCII(t.str) {
			mode := 0
			if t.kind == tPrefixEIC {
				mode = 1
			} else if t.kind == tSuffixEIC {
				mode = 2
			}
			fm.eicSlow = append(fm.eicSlow, eicEntry{p: t.eic, mode: mode, cid: cid})
			return
		}
		low := string(lowerASCII(nil, []byte(t.str)))
		switch t.kind {
		case tEIC:
			if fm.eicExact == nil {
				fm.eicExact = map[string][]int32{}
			}
			fm.eicExact[low] = append(fm.eicExact[low], cid)
		case tPrefixEIC:
			if fm.eicPrefix == nil {
				fm.eicPrefix = newTrie()
			}
			fm.eicPrefix.add([]byte(low), false, cid, nil)
		default:
			if fm.eicSuffix == nil {
				fm.eicSuffix = newTrie()
			}
			fm.eicSuffix.add([]byte(low), true, cid, nil)
		}
	case tRange:
		fm.ranges = append(fm.ranges, rangeEntry{lo: t.lo, hi: t.hi, loOpen: t.loOpen, hiOpen: t.hiOpen, cid: cid})
		fm.needFloat = true
	case tIP:
		fm.ips = append(fm.ips, ipEntry{r: t.ip, cid: cid})
	case tExists:
		fm.exists = append(fm.exists, cid)
	default:
		ne := notEntry{t: t, cid: cid}
		if t.kind == tNotStrings && len(t.strs) > 4 {
			ne.set = map[string]bool{}
			for _, s := range t.strs {
				ne.set[s] = true
			}
		}
		fm.nots = append(fm.nots, ne)
	}
}

func (fm *fieldM) finish() {
	sort.Slice(fm.ranges, func(i, j int) bool { return fm.ranges[i].lo < fm.ranges[j].lo })
	// A wildcard is checked where the walk of its leading literal ends in
	// the prefix trie; when many share that literal (arn:aws:...), those
	// with a trailing literal go to the suffix trie instead, so an event
	// value only runs the wildcards whose literal ends it matched.
	lead := map[string]int{}
	for _, w := range fm.wilds {
		lead[string(w.w.leadLit)]++
	}
	for _, w := range fm.wilds {
		trail := w.w.segs[len(w.w.segs)-1]
		if lead[string(w.w.leadLit)] > 4 && len(trail) > 0 {
			if fm.suffix == nil {
				fm.suffix = newTrie()
			}
			fm.suffix.add(trail, true, w.cid, w.w)
			continue
		}
		if fm.prefix == nil {
			fm.prefix = newTrie()
		}
		fm.prefix.add(w.w.leadLit, false, w.cid, w.w)
	}
	fm.wilds = nil
}

// eval appends to s.out the conditions the value satisfies.
func (fm *fieldM) eval(kind uint8, v []byte, s *scratch) {
	out := append(s.out, fm.exists...)
	switch kind {
	case vString:
		if fm.strExact != nil {
			out = append(out, fm.strExact[string(v)]...)
		}
		if fm.prefix != nil {
			out = fm.prefix.walkPrefix(v, out)
		}
		if fm.suffix != nil {
			out = fm.suffix.walkSuffix(v, out)
		}
		if fm.hasEIC {
			if fm.eicExact != nil || fm.eicPrefix != nil || fm.eicSuffix != nil {
				s.lower = lowerASCII(s.lower[:0], v)
				if fm.eicExact != nil {
					out = append(out, fm.eicExact[string(s.lower)]...)
				}
				if fm.eicPrefix != nil {
					out = fm.eicPrefix.walkPrefix(s.lower, out)
				}
				if fm.eicSuffix != nil {
					out = fm.eicSuffix.walkSuffix(s.lower, out)
				}
			}
			for i := range fm.eicSlow {
				e := &fm.eicSlow[i]
				if eicMatch(e.p, v, e.mode) {
					out = append(out, e.cid)
				}
			}
		}
		if len(fm.ips) > 0 {
			if a, ok := parseIP(v); ok {
				for i := range fm.ips {
					if fm.ips[i].r.contains(a) {
						out = append(out, fm.ips[i].cid)
					}
				}
			}
		}
	case vNumber:
		if fm.numText != nil {
			out = append(out, fm.numText[string(v)]...)
		}
		if fm.needFloat {
			if f, ok := numberValue(v); ok {
				if fm.numVal != nil {
					out = append(out, fm.numVal[floatKey(f)]...)
				}
				for i := range fm.ranges {
					r := &fm.ranges[i]
					if f < r.lo {
						break
					}
					if f == r.lo && r.loOpen {
						continue
					}
					if f < r.hi || (f == r.hi && !r.hiOpen) {
						out = append(out, r.cid)
					}
				}
			}
		}
	case vTrue:
		out = append(out, fm.litTrue...)
	case vFalse:
		out = append(out, fm.litFalse...)
	case vNull:
		out = append(out, fm.litNull...)
	}
	for i := range fm.nots {
		if !fm.nots[i].excludes(kind, v) {
			out = append(out, fm.nots[i].cid)
		}
	}
	s.out = out
}

// excludes reports whether an anything-but test rejects the value.
func (n *notEntry) excludes(kind uint8, v []byte) bool {
	t := n.t
	if t.kind == tNotNumbers {
		if kind != vNumber {
			return false
		}
		f, ok := numberValue(v)
		for _, x := range t.nums {
			if x.text == string(v) || (ok && x.ok && x.val == f) {
				return true
			}
		}
		return false
	}
	if kind != vString {
		return false
	}
	switch t.kind {
	case tNotStrings:
		if n.set != nil {
			return n.set[string(v)]
		}
		for _, x := range t.strs {
			if x == string(v) {
				return true
			}
		}
	case tNotPrefix:
		for _, x := range t.strs {
			if len(v) >= len(x) && string(v[:len(x)]) == x {
				return true
			}
		}
	case tNotSuffix:
		for _, x := range t.strs {
			if len(v) >= len(x) && string(v[len(v)-len(x):]) == x {
				return true
			}
		}
	case tNotEIC:
		for _, p := range t.eics {
			if eicMatch(p, v, 0) {
				return true
			}
		}
	case tNotWildcard:
		for _, w := range t.wilds {
			if w.match(v) {
				return true
			}
		}
	}
	return false
}

// ---- byte tries ----

type btrie struct {
	nodes []bnode
}

type bnode struct {
	keys  []byte
	next  []int32
	out   []int32
	wilds []wildEntry
}

type wildEntry struct {
	w   *wildcard
	cid int32
}

func newTrie() *btrie { return &btrie{nodes: []bnode{{}}} }

func (t *btrie) add(key []byte, reverse bool, cid int32, w *wildcard) {
	n := int32(0)
	for i := range key {
		c := key[i]
		if reverse {
			c = key[len(key)-1-i]
		}
		next := t.nodes[n].find(c)
		if next < 0 {
			next = int32(len(t.nodes))
			t.nodes = append(t.nodes, bnode{})
			t.nodes[n].keys = append(t.nodes[n].keys, c)
			t.nodes[n].next = append(t.nodes[n].next, next)
		}
		n = next
	}
	if w != nil {
		t.nodes[n].wilds = append(t.nodes[n].wilds, wildEntry{w, cid})
	} else {
		t.nodes[n].out = append(t.nodes[n].out, cid)
	}
}

func (n *bnode) find(c byte) int32 {
	for i, k := range n.keys {
		if k == c {
			return n.next[i]
		}
	}
	return -1
}

func (t *btrie) walkPrefix(v []byte, out []int32) []int32 {
	n := &t.nodes[0]
	for i := 0; ; i++ {
		out = append(out, n.out...)
		for _, w := range n.wilds {
			if w.w.match(v) {
				out = append(out, w.cid)
			}
		}
		if i == len(v) {
			return out
		}
		next := n.find(v[i])
		if next < 0 {
			return out
		}
		n = &t.nodes[next]
	}
}

func (t *btrie) walkSuffix(v []byte, out []int32) []int32 {
	n := &t.nodes[0]
	for i := len(v); ; i-- {
		out = append(out, n.out...)
		for _, w := range n.wilds {
			if w.w.match(v) {
				out = append(out, w.cid)
			}
		}
		if i == 0 {
			return out
		}
		next := n.find(v[i-1])
		if next < 0 {
			return out
		}
		n = &t.nodes[next]
	}
}

// matches evaluates one test directly against one value (the on-demand
// path; the indexes in fieldM give the same answers).
func (t *test) matches(kind uint8, v []byte) bool {
	switch t.kind {
	case tExists:
		return true
	case tNumber:
		if kind != vNumber {
			return false
		}
		if t.str == string(v) {
			return true
		}
		if !t.numOK {
			return false
		}
		f, ok := numberValue(v)
		return ok && f == t.num
	case tLiteral:
		switch kind {
		case vTrue:
			return t.str == "true"
		case vFalse:
			return t.str == "false"
		case vNull:
			return t.str == "null"
		}
		return false
	case tRange:
		if kind != vNumber {
			return false
		}
		f, ok := numberValue(v)
		if !ok {
			return false
		}
		return (f > t.lo || (f == t.lo && !t.loOpen)) && (f < t.hi || (f == t.hi && !t.hiOpen))
	case tNotStrings, tNotNumbers, tNotPrefix, tNotSuffix, tNotEIC, tNotWildcard:
		n := notEntry{t: t}
		return !n.excludes(kind, v)
	}
	if kind != vString {
		return false
	}
	switch t.kind {
	case tString:
		return t.str == string(v)
	case tPrefix:
		return len(v) >= len(t.str) && string(v[:len(t.str)]) == t.str
	case tSuffix:
		return len(v) >= len(t.str) && string(v[len(v)-len(t.str):]) == t.str
	case tEIC, tPrefixEIC, tSuffixEIC:
		mode := 0
		if t.kind == tPrefixEIC {
			mode = 1
		} else if t.kind == tSuffixEIC {
			mode = 2
		}
		if t.low != "" || t.str == "" {
			return asciiFoldMatch(t.low, v, mode)
		}
		return eicMatch(t.eic, v, mode)
	case tWildcard:
		return t.wild.match(v)
	case tIP:
		a, ok := parseIP(v)
		return ok && t.ip.contains(a)
	}
	return false
}

// asciiFoldMatch is eicMatch for an ASCII operand, given lower-cased.
func asciiFoldMatch(low string, v []byte, mode int) bool {
	switch mode {
	case 0:
		if len(v) != len(low) {
			return false
		}
	case 1:
		if len(v) < len(low) {
			return false
		}
		v = v[:len(low)]
	default:
		if len(v) < len(low) {
			return false
		}
		v = v[len(v)-len(low):]
	}
	for i := 0; i < len(low); i++ {
		c := v[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != low[i] {
			return false
		}
	}
	return true
}
