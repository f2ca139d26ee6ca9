package schedule

import (
	"fmt"
	"strings"
	"time"
)

// Window is a recurring time window (business hours), for routes that mute
// or defer alerts: e.g. weekdays 09:00-18:00 Asia/Tokyo.
//
// On each listed day the window opens at the first instant the local clock
// reads From and closes at the first instant it reads To, on the same day or,
// when To is not after From, on the next day (22:00-06:00 runs overnight;
// From equal to To is a whole 24 hours). A boundary that a spring-forward
// jump skips moves to the end of the jump; a boundary that a fall-back
// repeats counts at its first occurrence, so a window never flickers.
// Windows of consecutive days that touch or overlap form one.
type Window struct {
	days     set // index: weekday, 0 = Sunday
	from, to int // minutes after midnight; to may be 1440
	loc      *time.Location
	text     string
}

// ParseWindow parses a window: days as in a cron day-of-week field
// ("MON-FRI", "SAT,SUN", "FRI-MON", "2-6", "*"), from and to as "hh:mm"
// (to may be "24:00"), in loc (nil: UTC).
func ParseWindow(days string, from, to string, loc *time.Location) (*Window, error) {
	if loc == nil {
		loc = time.UTC
	}
	w := &Window{loc: loc, text: fmt.Sprintf("%s %s-%s %s", days, from, to, loc)}
	d, err := parseList(days, days, 0, fDOW)
	if err != nil {
		e := err.(*Error)
		return nil, &Error{Expr: e.Expr, Offset: e.Offset, Msg: "window days: " + e.Msg, Window: true}
	}
	w.days = d
	if w.from, err = clockTime(from, false); err != nil {
		return nil, err
	}
	if w.to, err = clockTime(to, true); err != nil {
		return nil, err
	}
	return w, nil
}

func clockTime(s string, end bool) (int, error) {
	what := "window start"
	if end {
		what = "window end"
	}
	if len(s) != 5 || s[2] != ':' {
		return 0, &Error{Window: true, Expr: s, Msg: what + ": want hh:mm"}
	}
	for _, i := range [...]int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, &Error{Window: true, Expr: s, Offset: i, Msg: fmt.Sprintf("%s: %q is not a digit", what, s[i:i+1])}
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	switch {
	case end && h == 24 && m == 0:
		return 1440, nil
	case h > 23:
		return 0, &Error{Window: true, Expr: s, Msg: fmt.Sprintf("%s: hour %d out of range 0-23", what, h)}
	case m > 59:
		return 0, &Error{Window: true, Expr: s, Offset: 3, Msg: fmt.Sprintf("%s: minute %d out of range 0-59", what, m)}
	}
	return h*60 + m, nil
}

// String returns the window as "DAYS hh:mm-hh:mm Zone".
func (w *Window) String() string { return w.text }

// Location returns the window's time zone.
func (w *Window) Location() *time.Location { return w.loc }

func (w *Window) always() bool {
	return w.allDays() && (w.from == w.to || w.from == 0 && w.to == 1440)
}

func (w *Window) allDays() bool {
	for i := 0; i < 7; i++ {
		if !w.days.has(i) {
			return false
		}
	}
	return true
}

type span struct{ start, end time.Time }

// spans returns the window's periods that start on local days first..last
// days after the local date of t, merged, in order.
func (w *Window) spans(t time.Time, first, last int) []span {
	lt := t.In(w.loc)
	y, m, d := lt.Date()
	var out []span
	for i := first; i <= last; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, time.UTC)
		if !w.days.has(int(day.Weekday())) {
			continue
		}
		endDay := day
		if w.to <= w.from {
			endDay = day.AddDate(0, 0, 1)
		}
		s := firstAtOrAfter(day.Add(time.Duration(w.from)*time.Minute), w.loc)
		e := firstAtOrAfter(endDay.Add(time.Duration(w.to)*time.Minute), w.loc)
		if !e.After(s) {
			continue
		}
		if n := len(out); n > 0 && !s.After(out[n-1].end) {
			out[n-1].end = maxTime(out[n-1].end, e)
			continue
		}
		out = append(out, span{s, e})
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Contains reports whether t is inside the window.
func (w *Window) Contains(t time.Time) bool {
	if w.always() {
		return true
	}
	for _, s := range w.spans(t, -2, 1) {
		if !t.Before(s.start) && t.Before(s.end) {
			return true
		}
	}
	return false
}

// NextChange returns when Contains flips next after t: the window's end
// when t is inside it (for deferring: send at window end), else its next
// start. It returns the zero Time for a window that is always open.
func (w *Window) NextChange(t time.Time) time.Time {
	if w.always() {
		return time.Time{}
	}
	for _, s := range w.spans(t, -8, 9) {
		if t.Before(s.start) {
			return s.start
		}
		if t.Before(s.end) {
			return s.end
		}
	}
	return time.Time{} // unreachable for a window with at least one day
}

// Days returns the window's days as they were given.
func (w *Window) Days() string { return strings.SplitN(w.text, " ", 2)[0] }
