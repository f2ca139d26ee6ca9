package schedule

import (
	"strconv"
	"time"
)

type at struct {
	expr   string
	when   time.Time
	exists bool // false when the local time was skipped by a clock change
}

var _ Schedule = (*at)(nil)

func (a *at) String() string { return a.expr }

// Next returns the one fire time if it is after t.
func (a *at) Next(t time.Time) (time.Time, bool) {
	if a.when.After(t) {
		return a.when, true
	}
	return time.Time{}, false
}

// parseAt parses yyyy-mm-ddThh:mm:ss, a local time in loc. A local time
// the clock skips fires as java.time does: shifted forward by the length
// of the jump (02:30 on a spring-forward day in New York is 03:30 EDT); a
// repeated one fires at its first occurrence.
func parseAt(expr, body string, off int, loc *time.Location) (Schedule, error) {
	const layout = "yyyy-mm-ddThh:mm:ss"
	if len(body) != len(layout) {
		return nil, errorf(expr, off, "at() needs a local date and time yyyy-mm-ddThh:mm:ss, got %q", body)
	}
	var v [6]int
	parts := [6][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}}
	for i, p := range parts {
		for j := p[0]; j < p[1]; j++ {
			if body[j] < '0' || body[j] > '9' {
				return nil, errorf(expr, off+j, "at(): %q is not a digit in yyyy-mm-ddThh:mm:ss", body[j:j+1])
			}
		}
		v[i], _ = strconv.Atoi(body[p[0]:p[1]])
	}
	for _, sep := range [...]struct {
		at   int
		want byte
	}{{4, '-'}, {7, '-'}, {10, 'T'}, {13, ':'}, {16, ':'}} {
		if j, want := sep.at, sep.want; body[j] != want {
			return nil, errorf(expr, off+j, "at(): want %q at this position of yyyy-mm-ddThh:mm:ss, got %q", string(want), body[j:j+1])
		}
	}
	names := [6]string{"year", "month", "day", "hour", "minute", "second"}
	limits := [6][2]int{{1970, 9999}, {1, 12}, {1, daysIn(v[0], max(v[1], 1))}, {0, 23}, {0, 59}, {0, 59}}
	for i, l := range limits {
		if v[i] < l[0] || v[i] > l[1] {
			return nil, errorf(expr, off+parts[i][0], "at(): %s %d out of range %d-%d", names[i], v[i], l[0], l[1])
		}
	}
	wall := time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, time.UTC)
	u, exists := resolve(wall, loc)
	return &at{expr: expr, when: u, exists: exists}, nil
}
