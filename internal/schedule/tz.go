package schedule

import "time"

// civil is a wall-clock date and time to the minute.
type civil struct{ y, mo, d, h, mi int }

func (c civil) wall() time.Time {
	return time.Date(c.y, time.Month(c.mo), c.d, c.h, c.mi, 0, 0, time.UTC)
}

func offsetAt(sec int64, loc *time.Location) int64 {
	_, off := time.Unix(sec, 0).In(loc).Zone()
	return int64(off)
}

// offsets returns the distinct UTC offsets of loc in the two days around sec.
func offsets(sec int64, loc *time.Location) []int64 {
	var out []int64
	for _, d := range [...]int64{-2 * 86400, -86400, 0, 86400, 2 * 86400} {
		o := offsetAt(sec+d, loc)
		seen := false
		for _, x := range out {
			seen = seen || x == o
		}
		if !seen {
			out = append(out, o)
		}
	}
	return out
}

// resolve maps a wall-clock time w (its fields read as UTC) in loc to the
// earliest instant at which loc's clock shows it. When the clock skips w
// (spring forward) exists is false and u is w read with the offset in force
// before the jump, which lands after the jump by the jump's length (as
// java.time.ZonedDateTime.of does).
func resolve(w time.Time, loc *time.Location) (u time.Time, exists bool) {
	if loc == time.UTC {
		return w, true
	}
	ws := w.Unix()
	offs := offsets(ws, loc)
	best := int64(0)
	for _, o := range offs {
		if c := ws - o; offsetAt(c, loc) == o && (!exists || c < best) {
			best, exists = c, true
		}
	}
	if exists {
		return time.Unix(best, int64(w.Nanosecond())).UTC(), true
	}
	before := offs[0]
	for _, o := range offs {
		before = min(before, o)
	}
	return time.Unix(ws-before, int64(w.Nanosecond())).UTC(), false
}

// firstAtOrAfter returns the first instant at which loc's clock reads w or
// later: the first occurrence of w, or the end of the jump that skipped it.
func firstAtOrAfter(w time.Time, loc *time.Location) time.Time {
	u, ok := resolve(w, loc)
	if ok {
		return u
	}
	start, _ := u.In(loc).ZoneBounds()
	if start.IsZero() || start.After(u) {
		return u
	}
	return start.UTC()
}

// minOffset is the smallest UTC offset of loc around t, in seconds.
func minOffset(t time.Time, loc *time.Location) int64 {
	if loc == time.UTC {
		return 0
	}
	offs := offsets(t.Unix(), loc)
	m := offs[0]
	for _, o := range offs {
		m = min(m, o)
	}
	return m
}

func daysIn(y, mo int) int {
	return time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func weekday(y, mo, d int) int {
	return int(time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Weekday())
}
