package pattern

import (
	"math"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// ---- numbers ----

// decimal is a normalised decimal: value = 0.digits * 10^exp, digits without
// leading or trailing zeros (empty for zero).
type decimal struct {
	neg    bool
	digits [20]byte
	n      int
	exp    int
}

// parseDecimal normalises JSON number text. ok is false when the number has
// more significant digits than a double can need (so it can't be exact).
func parseDecimal(s []byte) (d decimal, ok bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		d.neg = true
		i++
	}
	point, zeros := 0, 0
	started, inFrac := false, false
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			inFrac = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		if !started {
			if c == '0' {
				if inFrac {
					point--
				}
				continue
			}
			started = true
		}
		if !inFrac {
			point++
		}
		if c == '0' {
			zeros++
			continue
		}
		for ; zeros > 0; zeros-- {
			if d.n >= len(d.digits) {
				return d, false
			}
			d.digits[d.n] = '0'
			d.n++
		}
		if d.n >= len(d.digits) {
			return d, false
		}
		d.digits[d.n] = c
		d.n++
	}
	e := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		for ; i < len(s); i++ {
			if e < 100000 {
				e = e*10 + int(s[i]-'0')
			}
		}
		if neg {
			e = -e
		}
	}
	if d.n == 0 {
		d.neg = false
		return d, true
	}
	d.exp = point + e
	return d, true
}

// numberValue converts JSON number text to a float64 and reports whether
// the number is numerically comparable: its decimal value is exactly the
// shortest representation of the double (event-ruler's exact-double rule).
func numberValue(s []byte) (float64, bool) {
	// fast path: short integers are always exact.
	if len(s) > 0 && len(s) <= 16 {
		neg := false
		i := 0
		if s[0] == '-' {
			neg = true
			i = 1
		}
		var v int64
		j := i
		for ; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
			v = v*10 + int64(s[j]-'0')
		}
		if j == len(s) && j > i && j-i <= 15 {
			f := float64(v)
			if neg {
				f = -f
			}
			if f == 0 {
				f = 0
			}
			return f, true
		}
	}
	d, ok := parseDecimal(s)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	if f == 0 {
		return 0, d.n == 0
	}
	var buf [32]byte
	short := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	d2, _ := parseDecimal(short)
	if d.neg != d2.neg || d.n != d2.n || d.exp != d2.exp || d.digits != d2.digits {
		return 0, false
	}
	return f, true
}

func floatKey(f float64) uint64 {
	if f == 0 {
		return 0
	}
	return math.Float64bits(f)
}

// ---- IP addresses ----

// ipAddr is an IPv4 (4 bytes) or IPv6 (16 bytes) address.
type ipAddr struct {
	b  [16]byte
	v4 bool
}

func (a ipAddr) len() int {
	if a.v4 {
		return 4
	}
	return 16
}

// looksLikeIP mirrors event-ruler's IPv4/IPv6 regular expressions.
func looksLikeIP(s []byte) (v4, v6 bool) {
	if len(s) == 0 {
		return false, false
	}
	// IPv4: [0-9]+\.[0-9]+\.[0-9]+\.[0-9]+
	dots, run := 0, 0
	isV4 := true
	for _, c := range s {
		if c >= '0' && c <= '9' {
			run++
			continue
		}
		if c == '.' && run > 0 {
			dots++
			run = 0
			continue
		}
		isV4 = false
		break
	}
	if isV4 && dots == 3 && run > 0 {
		return true, false
	}
	// IPv6: [0-9a-fA-F:]*:[0-9a-fA-F:]*
	colon := false
	for _, c := range s {
		if c == ':' {
			colon = true
			continue
		}
		if !isHex(c) {
			return false, false
		}
	}
	return false, colon
}

// parseIP parses an IP address literal the way event-ruler does (its
// regular expressions, then InetAddress); IPv4-mapped IPv6 becomes IPv4.
func parseIP(s []byte) (ipAddr, bool) {
	var a ipAddr
	v4, v6 := looksLikeIP(s)
	switch {
	case v4:
		part, n := 0, 0
		digits := 0
		for _, c := range s {
			if c == '.' {
				if digits == 0 || part > 255 {
					return a, false
				}
				a.b[n] = byte(part)
				n++
				part, digits = 0, 0
				continue
			}
			part = part*10 + int(c-'0')
			digits++
			if part > 255 {
				return a, false
			}
		}
		if digits == 0 || n != 3 {
			return a, false
		}
		a.b[3] = byte(part)
		a.v4 = true
		return a, true
	case v6:
		var groups [8]uint16
		ng := 0
		gap := -1
		i := 0
		if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
			gap = 0
			i = 2
			if i == len(s) {
				goto done
			}
		} else if s[0] == ':' {
			return a, false
		}
		for i < len(s) {
			if ng >= 8 {
				return a, false
			}
			v, nd := 0, 0
			for i < len(s) && s[i] != ':' {
				v = v<<4 | int(hexVal(s[i]))
				nd++
				i++
				if nd > 4 {
					return a, false
				}
			}
			if nd == 0 {
				return a, false
			}
			groups[ng] = uint16(v)
			ng++
			if i == len(s) {
				break
			}
			i++ // ':'
			if i < len(s) && s[i] == ':' {
				if gap >= 0 {
					return a, false
				}
				gap = ng
				i++
				if i == len(s) {
					break
				}
			} else if i == len(s) {
				return a, false
			}
		}
	done:
		if gap < 0 {
			if ng != 8 {
				return a, false
			}
		} else {
			if ng > 7 {
				return a, false
			}
			shift := 8 - ng
			copy(groups[gap+shift:], groups[gap:ng])
			for k := gap; k < gap+shift; k++ {
				groups[k] = 0
			}
		}
		for k, g := range groups {
			a.b[2*k] = byte(g >> 8)
			a.b[2*k+1] = byte(g)
		}
		// IPv4-mapped: ::ffff:a.b.c.d
		mapped := true
		for k := 0; k < 10; k++ {
			if a.b[k] != 0 {
				mapped = false
			}
		}
		if mapped && a.b[10] == 0xff && a.b[11] == 0xff {
			copy(a.b[:4], a.b[12:16])
			for k := 4; k < 16; k++ {
				a.b[k] = 0
			}
			a.v4 = true
		}
		return a, true
	}
	return a, false
}

// ipRange is an inclusive range of addresses of one family.
type ipRange struct {
	lo, hi [16]byte
	v4     bool
}

func (r *ipRange) contains(a ipAddr) bool {
	if a.v4 != r.v4 {
		return false
	}
	n := a.len()
	return cmpBytes(a.b[:n], r.lo[:n]) >= 0 && cmpBytes(a.b[:n], r.hi[:n]) <= 0
}

func cmpBytes(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// parseCIDR compiles a cidr operand, with event-ruler's error messages.
func parseCIDR(s string) (ipRange, string) {
	var r ipRange
	// Java String.split("/") drops trailing empty strings.
	parts := splitSlash(s)
	if len(parts) != 2 {
		return r, "Malformed CIDR, one '/' required"
	}
	bits, err := strconv.ParseInt(parts[1], 10, 32)
	if err != nil {
		return r, "Malformed CIDR, mask bits must be an integer"
	}
	if bits < 0 {
		return r, "Malformed CIDR, mask bits must not be negative"
	}
	v4, v6 := looksLikeIP([]byte(parts[0]))
	if !v4 && !v6 {
		return r, "Nonstandard IP address: " + parts[0]
	}
	a, ok := parseIP([]byte(parts[0]))
	if !ok {
		return r, "Invalid IP address: " + parts[0]
	}
	if a.v4 {
		if bits > 31 {
			return r, "IPv4 mask bits must be < 32"
		}
	} else if bits > 127 {
		return r, "IPv6 mask bits must be < 128"
	}
	n := a.len()
	r.v4 = a.v4
	for i := 0; i < n; i++ {
		keep := int(bits) - 8*i
		var mask byte
		switch {
		case keep >= 8:
			mask = 0xff
		case keep <= 0:
			mask = 0
		default:
			mask = byte(0xff << (8 - keep))
		}
		r.lo[i] = a.b[i] & mask
		r.hi[i] = a.b[i] | ^mask
	}
	return r, ""
}

func splitSlash(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	parts = append(parts, s[start:])
	for len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// ---- equals-ignore-case (Java toLowerCase/toUpperCase(Locale.ROOT) per char) ----

// eicAlt is the set of byte strings one pattern character may match.
type eicAlt [][]byte

// eicPattern is a compiled equals-ignore-case operand.
type eicPattern []eicAlt

// javaUpperSpecial holds Java's full (SpecialCasing) upper-case mappings
// that differ from the simple per-rune mapping.
var javaUpperSpecial = map[rune]string{
	'ß': "SS", 'ŉ': "ʼN", 'ǰ': "J̌", 'ΐ': "Ϊ́", 'ΰ': "Ϋ́", 'և': "ԵՒ",
	'ẖ': "H̱", 'ẗ': "T̈", 'ẘ': "W̊", 'ẙ': "Y̊", 'ẚ': "Aʾ",
	'ﬀ': "FF", 'ﬁ': "FI", 'ﬂ': "FL", 'ﬃ': "FFI", 'ﬄ': "FFL", 'ﬅ': "ST", 'ﬆ': "ST",
	'ﬓ': "ՄՆ", 'ﬔ': "ՄԵ", 'ﬕ': "ՄԻ", 'ﬖ': "ՎՆ", 'ﬗ': "ՄԽ",
}

func javaUpper(r rune) string {
	if s, ok := javaUpperSpecial[r]; ok {
		return s
	}
	if r > 0xFFFF {
		return string(r)
	}
	return string(unicode.ToUpper(r))
}

func javaLower(r rune) string {
	if r == 'İ' {
		return "i̇"
	}
	if r > 0xFFFF {
		return string(r)
	}
	return string(unicode.ToLower(r))
}

func compileEIC(s string) eicPattern {
	p := make(eicPattern, 0, len(s))
	for _, r := range s {
		lo, up := javaLower(r), javaUpper(r)
		alt := eicAlt{[]byte(lo)}
		if up != lo {
			alt = append(alt, []byte(up))
		}
		p = append(p, alt)
	}
	return p
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lowerASCII(dst []byte, s []byte) []byte {
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// eicMatch reports whether v matches p: exactly (mode 0), as a prefix
// (mode 1) or as a suffix (mode 2).
func eicMatch(p eicPattern, v []byte, mode int) bool {
	if mode == 2 {
		// match backwards from the end
		var pos [8]int
		cur := append(pos[:0], len(v))
		for k := len(p) - 1; k >= 0; k-- {
			var nb [8]int
			next := nb[:0]
			for _, e := range cur {
				for _, a := range p[k] {
					if e >= len(a) && string(v[e-len(a):e]) == string(a) {
						next = addPos(next, e-len(a))
					}
				}
			}
			if len(next) == 0 {
				return false
			}
			cur = append(pos[:0], next...)
		}
		return true
	}
	var pos [8]int
	cur := append(pos[:0], 0)
	for k := range p {
		var nb [8]int
		next := nb[:0]
		for _, s := range cur {
			for _, a := range p[k] {
				if len(v)-s >= len(a) && string(v[s:s+len(a)]) == string(a) {
					next = addPos(next, s+len(a))
				}
			}
		}
		if len(next) == 0 {
			return false
		}
		cur = append(pos[:0], next...)
	}
	if mode == 1 {
		return true
	}
	for _, s := range cur {
		if s == len(v) {
			return true
		}
	}
	return false
}

func addPos(l []int, p int) []int {
	for _, q := range l {
		if q == p {
			return l
		}
	}
	return append(l, p)
}

// ---- wildcard ----

// wildcard is a compiled wildcard operand: literal segments separated by '*'.
type wildcard struct {
	segs    [][]byte // literal segments; len(segs) == stars+1
	leadLit []byte   // segs[0]
}

// parseWildcard checks escapes and consecutive stars, with event-ruler's
// messages (positions count the opening quote, as event-ruler does).
func parseWildcard(s string) (*wildcard, string) {
	w := &wildcard{}
	cur := []byte{}
	prevStar := false
	pos := 1 // position in the quoted string, in UTF-16 units
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case s[i] == '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return nil, "Invalid escape character at pos " + strconv.Itoa(pos)
			}
			cur = append(cur, s[i+1])
			i += 2
			pos += 2
			prevStar = false
			continue
		case s[i] == '*':
			if prevStar {
				return nil, "Consecutive wildcard characters at pos " + strconv.Itoa(pos-1)
			}
			w.segs = append(w.segs, cur)
			cur = []byte{}
			prevStar = true
			i++
			pos++
			continue
		}
		cur = append(cur, s[i:i+size]...)
		i += size
		if r > 0xFFFF {
			pos += 2
		} else {
			pos++
		}
		prevStar = false
	}
	w.segs = append(w.segs, cur)
	w.leadLit = w.segs[0]
	return w, ""
}

// match reports whether v matches the wildcard, starting at offset from
// (the first from bytes are known to equal segs[0]).
func (w *wildcard) match(v []byte) bool {
	segs := w.segs
	if len(segs) == 1 {
		return string(v) == string(segs[0])
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(v) < len(first)+len(last) || string(v[:len(first)]) != string(first) ||
		string(v[len(v)-len(last):]) != string(last) {
		return false
	}
	v = v[len(first) : len(v)-len(last)]
	// middle segments: greedy leftmost search is optimal for '*' globs.
	for _, seg := range segs[1 : len(segs)-1] {
		k := indexBytes(v, seg)
		if k < 0 {
			return false
		}
		v = v[k+len(seg):]
	}
	return true
}

func indexBytes(s, sep []byte) int {
	n := len(sep)
	if n == 0 {
		return 0
	}
	for i := 0; i+n <= len(s); i++ {
		if s[i] == sep[0] && string(s[i:i+n]) == string(sep) {
			return i
		}
	}
	return -1
}

// wildcardComplexity scores a set of wildcard operands of one field the
// way event-ruler's MachineComplexityEvaluator does: the largest number of
// automaton states a single input can keep alive at once, counting a star
// that is reachable but not yet entered.
func wildcardComplexity(ws []*wildcard, limit int) int {
	// tokens: per pattern a list; token < 0 means star.
	type tok = int
	var pats [][]tok
	alphabet := map[byte]bool{}
	for _, w := range ws {
		var t []tok
		for i, seg := range w.segs {
			if i > 0 {
				t = append(t, -1)
			}
			for _, c := range seg {
				t = append(t, int(c))
				alphabet[c] = true
			}
		}
		pats = append(pats, t)
	}
	other := -2
	var letters []int
	for c := range alphabet {
		letters = append(letters, int(c))
	}
	letters = append(letters, other)
	// state encoding: pattern index, position, inStar.
	type st struct {
		p, pos int
		star   bool
	}
	key := func(set []st) string {
		b := make([]byte, 0, len(set)*4)
		for _, s := range set {
			b = append(b, byte(s.p), byte(s.p>>8), byte(s.pos), byte(s.pos>>8))
			if s.star {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
		return string(b)
	}
	size := func(set []st) int {
		n := len(set)
		for _, s := range set {
			t := pats[s.p]
			if !s.star && s.pos < len(t) && t[s.pos] < 0 {
				in := false
				for _, o := range set {
					if o.p == s.p && o.star && o.pos == s.pos {
						in = true
					}
				}
				if !in {
					n++
				}
			}
		}
		return n
	}
	var start []st
	for i := range pats {
		start = append(start, st{p: i})
	}
	seen := map[string]bool{key(start): true}
	queue := [][]st{start}
	best := size(start)
	for len(queue) > 0 && len(seen) < 20000 {
		set := queue[0]
		queue = queue[1:]
		for _, c := range letters {
			var next []st
			add := func(s st) {
				for _, o := range next {
					if o == s {
						return
					}
				}
				next = append(next, s)
			}
			for _, s := range set {
				t := pats[s.p]
				if s.star {
					add(s)
					if s.pos+1 < len(t) && t[s.pos+1] == c {
						add(st{p: s.p, pos: s.pos + 2})
					}
					continue
				}
				if s.pos >= len(t) {
					continue
				}
				if t[s.pos] < 0 {
					add(st{p: s.p, pos: s.pos, star: true})
					if s.pos+1 < len(t) && t[s.pos+1] == c {
						add(st{p: s.p, pos: s.pos + 2})
					}
				} else if t[s.pos] == c {
					add(st{p: s.p, pos: s.pos + 1})
				}
			}
			if len(next) == 0 {
				continue
			}
			sortStates(next, func(a, b st) bool {
				if a.p != b.p {
					return a.p < b.p
				}
				if a.pos != b.pos {
					return a.pos < b.pos
				}
				return !a.star && b.star
			})
			k := key(next)
			if seen[k] {
				continue
			}
			seen[k] = true
			if n := size(next); n > best {
				best = n
				if best > limit {
					return best
				}
			}
			queue = append(queue, next)
		}
	}
	return best
}

func sortStates[T any](s []T, less func(a, b T) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

var (
	posInf = math.Inf(1)
	negInf = math.Inf(-1)
)

func formatF(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
