package schedule

import (
	"math"
	"strconv"
	"strings"
	"time"
)

type rate struct {
	expr   string
	every  time.Duration
	anchor time.Time // the first fire when first is 0
	first  int64     // 0: fire at anchor; 1: first fire at anchor+every
	bounds
}

var _ Schedule = (*rate)(nil)

func (r *rate) String() string { return r.expr }

// Every returns the rate's period.
func (r *rate) Every() time.Duration { return r.every }

var rateUnits = map[string]time.Duration{
	"minute": time.Minute, "minutes": time.Minute,
	"hour": time.Hour, "hours": time.Hour,
	"day": 24 * time.Hour, "days": 24 * time.Hour,
}

func parseRate(expr, body string, off int, o Options) (Schedule, error) {
	fields := strings.Fields(body)
	if len(fields) != 2 || strings.ContainsAny(body, "\t\n\v\f\r\u0085\u00a0") {
		return nil, errorf(expr, off, "rate needs a value and a unit separated by a space, as in rate(5 minutes)")
	}
	valOff := off + strings.Index(body, fields[0])
	unitOff := valOff + len(fields[0]) + strings.Index(body[valOff-off+len(fields[0]):], fields[1])
	for i := 0; i < len(fields[0]); i++ {
		if c := fields[0][i]; c < '0' || c > '9' {
			return nil, errorf(expr, valOff, "rate value %q is not a positive whole number", fields[0])
		}
	}
	n, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil || n < 1 {
		return nil, errorf(expr, valOff, "rate value %q is not a positive whole number", fields[0])
	}
	unit, ok := rateUnits[fields[1]]
	if !ok {
		return nil, errorf(expr, unitOff, "rate unit %q is not minute, minutes, hour, hours, day or days", fields[1])
	}
	if o.Flavour == Rule {
		plural := strings.HasSuffix(fields[1], "s")
		if n == 1 && plural {
			return nil, errorf(expr, unitOff, "rate unit must be singular for a value of 1: rate(1 %s)", strings.TrimSuffix(fields[1], "s"))
		}
		if n > 1 && !plural {
			return nil, errorf(expr, unitOff, "rate unit must be plural for a value above 1: rate(%d %ss)", n, fields[1])
		}
	}
	if n > math.MaxInt64/int64(unit) {
		return nil, errorf(expr, valOff, "rate value %d is too large", n)
	}
	r := &rate{expr: expr, every: time.Duration(n) * unit, bounds: bounds{o.Start, o.End}}
	switch {
	case o.Flavour == Rule:
		r.anchor, r.first = o.Created, 1
	case !o.Start.IsZero():
		r.anchor = o.Start
	default:
		r.anchor = o.Created
	}
	if r.anchor.IsZero() {
		r.anchor, r.first = time.Unix(0, 0), 0
	}
	r.anchor = r.anchor.UTC()
	return r, nil
}

// Next returns anchor + k*every for the smallest allowed k whose time is
// after t.
func (r *rate) Next(t time.Time) (time.Time, bool) {
	t = r.from(t)
	k := r.first
	if d := t.Sub(r.anchor); d >= 0 {
		if d == math.MaxInt64 { // saturated: far beyond anything representable
			return time.Time{}, false
		}
		k = max(k, int64(d/r.every)+1)
	}
	if k > math.MaxInt64/int64(r.every) {
		return time.Time{}, false
	}
	u := r.anchor.Add(time.Duration(k) * r.every)
	if !u.After(t) || !r.ok(u) {
		return time.Time{}, false
	}
	return u, true
}
