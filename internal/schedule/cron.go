package schedule

import (
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// set is a bit set of field values, indexed by value minus the field's minimum.
type set [4]uint64

func (s *set) add(i int)      { s[i>>6] |= 1 << (uint(i) & 63) }
func (s *set) has(i int) bool { return i >= 0 && i < 256 && s[i>>6]&(1<<(uint(i)&63)) != 0 }
func (s *set) empty() bool    { return s[0]|s[1]|s[2]|s[3] == 0 }
func (s *set) next(i int) int { // first member >= i, or -1
	if i < 0 {
		i = 0
	}
	for i < 256 {
		if w := s[i>>6] >> (uint(i) & 63); w != 0 {
			return i + bits.TrailingZeros64(w)
		}
		i = (i | 63) + 1
	}
	return -1
}

type field int

const (
	fMinute field = iota
	fHour
	fDOM
	fMonth
	fDOW
	fYear
)

type fieldSpec struct {
	name     string
	min, max int
	maxStep  int
	names    []string // names[i] is value min+i
	wrap     bool     // ranges may wrap around (20-2)
	step     bool     // '/' allowed
}

var monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
var dayNames = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

func specOf(f field) fieldSpec {
	switch f {
	case fMinute:
		return fieldSpec{name: "minutes", min: 0, max: 59, maxStep: 59, wrap: true, step: true}
	case fHour:
		return fieldSpec{name: "hours", min: 0, max: 23, maxStep: 23, wrap: true, step: true}
	case fDOM:
		return fieldSpec{name: "day-of-month", min: 1, max: 31, maxStep: 31, wrap: true, step: true}
	case fMonth:
		return fieldSpec{name: "month", min: 1, max: 12, maxStep: 12, names: monthNames, wrap: true, step: true}
	case fDOW:
		return fieldSpec{name: "day-of-week", min: 1, max: 7, maxStep: 7, names: dayNames, wrap: true}
	default:
		return fieldSpec{name: "year", min: 1970, max: 2199, maxStep: 229, step: true}
	}
}

type domKind int

const (
	domAny     domKind = iota // ?
	domSet                    // values
	domLast                   // L
	domLastWD                 // LW
	domNearest                // nW
)

type dowKind int

const (
	dowAny  dowKind = iota // ?
	dowSet                 // values
	dowLast                // nL: last such weekday of the month
	dowNth                 // n#k: k-th such weekday of the month
)

type cron struct {
	expr                   string
	loc                    *time.Location
	min, hour, month, year set
	dom, dow               set
	domKind                domKind
	domN                   int // for domNearest
	dowKind                dowKind
	dowDay, dowNthK        int // weekday 0=Sunday; k for dowNth
	bounds
}

var _ Schedule = (*cron)(nil)

func (c *cron) String() string { return c.expr }

func parseCron(expr, body string, off int, loc *time.Location, o Options) (Schedule, error) {
	type tok struct {
		s   string
		off int
	}
	var toks []tok
	for i := 0; i < len(body); {
		if body[i] == ' ' {
			i++
			continue
		}
		j := i
		for j < len(body) && body[j] != ' ' {
			j++
		}
		toks = append(toks, tok{body[i:j], off + i})
		i = j
	}
	if len(toks) != 6 {
		at := off
		if len(toks) > 6 {
			at = toks[6].off
		}
		return nil, errorf(expr, at, "cron needs 6 fields (minutes hours day-of-month month day-of-week year), got %d", len(toks))
	}
	c := &cron{expr: expr, loc: loc, bounds: bounds{o.Start, o.End}}
	var err error
	if c.min, err = parseList(expr, toks[0].s, toks[0].off, fMinute); err != nil {
		return nil, err
	}
	if c.hour, err = parseList(expr, toks[1].s, toks[1].off, fHour); err != nil {
		return nil, err
	}
	if err = c.parseDOM(expr, toks[2].s, toks[2].off); err != nil {
		return nil, err
	}
	if c.month, err = parseList(expr, toks[3].s, toks[3].off, fMonth); err != nil {
		return nil, err
	}
	if err = c.parseDOW(expr, toks[4].s, toks[4].off); err != nil {
		return nil, err
	}
	if c.year, err = parseList(expr, toks[5].s, toks[5].off, fYear); err != nil {
		return nil, err
	}
	switch {
	case c.domKind == domAny && c.dowKind == dowAny:
		return nil, errorf(expr, toks[4].off, "day-of-month and day-of-week cannot both be '?': give a value or '*' in one of them")
	case c.domKind != domAny && c.dowKind != dowAny:
		return nil, errorf(expr, toks[4].off, "day-of-month and day-of-week cannot both be specified: use '?' in one of them")
	}
	return c, nil
}

func (c *cron) parseDOM(expr, s string, off int) error {
	switch {
	case s == "?":
		c.domKind = domAny
		return nil
	case s == "L":
		c.domKind = domLast
		return nil
	case s == "LW":
		c.domKind = domLastWD
		return nil
	case strings.ContainsAny(s, "LW?"):
		if strings.Contains(s, ",") {
			return errorf(expr, off, "day-of-month: '?', 'L' and 'W' cannot be used in a list")
		}
		if n, ok := strings.CutSuffix(s, "W"); ok {
			v, err := number(expr, n, off, specOf(fDOM))
			if err != nil {
				return err
			}
			c.domKind, c.domN = domNearest, v
			return nil
		}
		return errorf(expr, off, "day-of-month: %q is not a value, range, list, increment, 'L', 'LW' or 'nW'", s)
	}
	v, err := parseList(expr, s, off, fDOM)
	c.domKind, c.dom = domSet, v
	return err
}

func (c *cron) parseDOW(expr, s string, off int) error {
	sp := specOf(fDOW)
	switch {
	case s == "?":
		c.dowKind = dowAny
		return nil
	case s == "L": // L alone is the last day of the week: Saturday
		c.dowKind = dowSet
		c.dow.add(6)
		return nil
	case strings.ContainsAny(s, "L#?"):
		if strings.Contains(s, ",") {
			return errorf(expr, off, "day-of-week: '#' and 'L' allow only one expression, not a list")
		}
		if d, ok := strings.CutSuffix(s, "L"); ok {
			v, err := number(expr, d, off, sp)
			if err != nil {
				return err
			}
			c.dowKind, c.dowDay = dowLast, v-1
			return nil
		}
		if d, k, ok := strings.Cut(s, "#"); ok {
			v, err := number(expr, d, off, sp)
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(k)
			if err != nil || len(k) > 1 || n < 1 || n > 5 {
				return errorf(expr, off+len(d)+1, "day-of-week: instance after '#' must be 1-5, not %q", k)
			}
			c.dowKind, c.dowDay, c.dowNthK = dowNth, v-1, n
			return nil
		}
		return errorf(expr, off, "day-of-week: %q is not a value, range, list, 'L', 'nL' or 'n#k'", s)
	}
	v, err := parseList(expr, s, off, fDOW)
	c.dowKind, c.dow = dowSet, v
	return err
}

// parseList parses a list of values, ranges and increments for field f.
func parseList(expr, s string, off int, f field) (set, error) {
	sp := specOf(f)
	var out set
	if s == "" {
		return out, errorf(expr, off, "%s: empty field", sp.name)
	}
	for item := range strings.SplitSeq(s, ",") {
		if err := addItem(&out, expr, item, off, sp); err != nil {
			return out, err
		}
		off += len(item) + 1
	}
	return out, nil
}

func addItem(out *set, expr, item string, off int, sp fieldSpec) error {
	if item == "" {
		return errorf(expr, off, "%s: empty list element", sp.name)
	}
	base, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		if !sp.step {
			return errorf(expr, off+len(base), "%s: increments ('/') are not allowed", sp.name)
		}
		n, err := strconv.Atoi(stepText)
		if err != nil || len(stepText) > 4 || stepText[0] == '+' || stepText[0] == '-' {
			return errorf(expr, off+len(base)+1, "%s: increment %q is not a number", sp.name, stepText)
		}
		if n < 1 || n > sp.maxStep {
			return errorf(expr, off+len(base)+1, "%s: increment %d out of range 1-%d", sp.name, n, sp.maxStep)
		}
		step = n
	}
	var lo, hi int
	switch {
	case base == "*":
		lo, hi = sp.min, sp.max
	case strings.Contains(base, "-"):
		a, b, _ := strings.Cut(base, "-")
		var err error
		if lo, err = number(expr, a, off, sp); err != nil {
			return err
		}
		if hi, err = number(expr, b, off+len(a)+1, sp); err != nil {
			return err
		}
		if lo > hi && !sp.wrap {
			return errorf(expr, off, "%s: range %d-%d runs backwards", sp.name, lo, hi)
		}
	default:
		var err error
		if lo, err = number(expr, base, off, sp); err != nil {
			return err
		}
		hi = lo
		if hasStep {
			hi = sp.max
		}
	}
	span := sp.max - sp.min + 1
	n := (hi - lo + span) % span
	for i := 0; i <= n; i += step {
		out.add((lo - sp.min + i) % span)
	}
	return nil
}

// number parses one value: digits or, for months and days of the week, a name.
func number(expr, s string, off int, sp fieldSpec) (int, error) {
	if s == "" {
		return 0, errorf(expr, off, "%s: missing value", sp.name)
	}
	for i, n := range sp.names {
		if strings.EqualFold(s, n) {
			return sp.min + i, nil
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			if sp.names != nil {
				return 0, errorf(expr, off, "%s: %q is not a number or a name (%s-%s)", sp.name, s, sp.names[0], sp.names[len(sp.names)-1])
			}
			return 0, errorf(expr, off, "%s: %q is not a number", sp.name, s)
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || len(s) > 4 || v < sp.min || v > sp.max {
		return 0, errorf(expr, off, "%s: value %s out of range %d-%d", sp.name, s, sp.min, sp.max)
	}
	return v, nil
}

// dayOK reports whether day d of a month with last days, whose first day
// is weekday wd1 (0 = Sunday), matches the day-of-month and day-of-week fields.
func (c *cron) dayOK(d, last, wd1 int) bool {
	wd := (wd1 + d - 1) % 7
	switch c.domKind {
	case domSet:
		return c.dom.has(d - 1)
	case domLast:
		return d == last
	case domLastWD:
		switch (wd1 + last - 1) % 7 {
		case 6:
			return d == last-1
		case 0:
			return d == last-2
		}
		return d == last
	case domNearest:
		n := c.domN
		if n > last {
			return false
		}
		switch (wd1 + n - 1) % 7 {
		case 6: // Saturday: the Friday before, or Monday 3rd when n is the 1st
			if n == 1 {
				n = 3
			} else {
				n--
			}
		case 0: // Sunday: the Monday after, or the Friday before when n is the last day
			if n == last {
				n -= 2
			} else {
				n++
			}
		}
		return d == n
	}
	switch c.dowKind {
	case dowSet:
		return c.dow.has(wd)
	case dowLast:
		return wd == c.dowDay && d+7 > last
	case dowNth:
		return wd == c.dowDay && (d-1)/7+1 == c.dowNthK
	}
	return false
}

// nextWall returns the first wall-clock minute at or after the given one
// that matches every field.
func (c *cron) nextWall(y, mo, d, h, mi int) (civil, bool) {
	for {
		if y > 2199 {
			return civil{}, false
		}
		if y < 1970 {
			y, mo, d, h, mi = 1970, 1, 1, 0, 0
		}
		if !c.year.has(y - 1970) {
			ny := c.year.next(y - 1970)
			if ny < 0 {
				return civil{}, false
			}
			y, mo, d, h, mi = ny+1970, 1, 1, 0, 0
		}
		if !c.month.has(mo - 1) {
			nm := c.month.next(mo - 1)
			if nm < 0 {
				y, mo, d, h, mi = y+1, 1, 1, 0, 0
				continue
			}
			mo, d, h, mi = nm+1, 1, 0, 0
		}
		last, wd1 := daysIn(y, mo), weekday(y, mo, 1)
		nd := -1
		for dd := d; dd <= last; dd++ {
			if c.dayOK(dd, last, wd1) {
				nd = dd
				break
			}
		}
		if nd < 0 {
			if mo++; mo > 12 {
				y, mo = y+1, 1
			}
			d, h, mi = 1, 0, 0
			continue
		}
		if nd != d {
			d, h, mi = nd, 0, 0
		}
		nh := c.hour.next(h)
		if nh < 0 {
			d, h, mi = d+1, 0, 0
			continue
		}
		if nh != h {
			h, mi = nh, 0
		}
		nm := c.min.next(mi)
		if nm < 0 {
			h, mi = h+1, 0
			if h > 23 {
				d, h = d+1, 0
			}
			continue
		}
		return civil{y, mo, d, h, nm}, true
	}
}

// Next returns the first fire time strictly after t. Wall-clock times are
// taken in order; one that loc skips is not fired, one that loc repeats
// fires at its first occurrence only.
func (c *cron) Next(t time.Time) (time.Time, bool) {
	t = c.from(t).UTC()
	if t.Year() > 2200 {
		return time.Time{}, false
	}
	// Every wall time at or before t+minOffset maps to an instant at or
	// before t, so the search can start just after it.
	w := t.Add(time.Duration(minOffset(t, c.loc)) * time.Second).Truncate(time.Minute).Add(time.Minute)
	for {
		cv, ok := c.nextWall(w.Year(), int(w.Month()), w.Day(), w.Hour(), w.Minute())
		if !ok {
			return time.Time{}, false
		}
		wall := cv.wall()
		if u, exists := resolve(wall, c.loc); exists && u.After(t) {
			if !c.ok(u) {
				return time.Time{}, false
			}
			return u, true
		}
		w = wall.Add(time.Minute)
	}
}
