package schedule

import (
	"testing"
	"time"
)

var fuzzZones = []string{"UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia", "America/Santiago", "Asia/Kathmandu"}

// FuzzParse checks that parsing never panics, that errors are *Error
// located inside the expression, and that a valid schedule's fire times
// are in UTC, strictly increasing, inside its bounds and found quickly.
func FuzzParse(f *testing.F) {
	for _, c := range loadDocCases(f).Valid {
		f.Add(c.Expr, uint8(0), false, int64(1710000000))
	}
	for _, c := range loadDocCases(f).Invalid {
		f.Add(c.Expr, uint8(1), true, int64(1730000000))
	}
	for _, s := range []string{
		"cron(0 9 LW * ? *)", "cron(0 9 31W * ? *)", "cron(0 9 ? * 5#5 *)", "cron(0/20 1 * * ? *)",
		"cron(* * * * ? *)", "cron(0 0 31 2 ? *)", "cron(30 2 ? 3 1#2 *)", "cron(50-10/7 20-2 ? * FRI-MON 2024,2030-2032)",
		"rate(1 days)", "rate(9223372036 minutes)", "at(2024-03-10T02:30:00)", "at(2011-12-30T12:00:00)",
	} {
		f.Add(s, uint8(1), false, int64(1700000000))
		f.Add(s, uint8(4), false, int64(1325000000))
	}
	f.Fuzz(func(t *testing.T, expr string, zone uint8, rule bool, from int64) {
		loc, err := time.LoadLocation(fuzzZones[int(zone)%len(fuzzZones)])
		if err != nil {
			t.Skip(err)
		}
		o := Options{Created: time.Unix(1700000000, 0)}
		if rule {
			o.Flavour = Rule
			loc = time.UTC
		}
		s, err := ParseWith(expr, loc, o)
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if e.Offset < 0 || e.Offset > len(expr) {
				t.Fatalf("offset %d outside %q", e.Offset, expr)
			}
			return
		}
		if s.String() != expr {
			t.Fatalf("String() = %q, want %q", s.String(), expr)
		}
		at := time.Unix(from%(1<<36), 0)
		prev := at
		for i := range 20 {
			u, ok := s.Next(prev)
			if !ok {
				break
			}
			if !u.After(prev) || u.Location() != time.UTC {
				t.Fatalf("fire %d: Next(%s) = %s", i, prev, u)
			}
			if again, _ := s.Next(prev); !again.Equal(u) {
				t.Fatalf("Next(%s) not deterministic", prev)
			}
			prev = u
		}
	})
}

// FuzzWindow checks that windows never panic and that NextChange is where
// Contains flips.
func FuzzWindow(f *testing.F) {
	f.Add("MON-FRI", "09:00", "18:00", uint8(1), int64(1710000000))
	f.Add("SUN", "02:00", "01:30", uint8(1), int64(1730600000))
	f.Add("FRI-MON", "22:00", "22:00", uint8(2), int64(1711800000))
	f.Add("*", "00:00", "24:00", uint8(3), int64(1711800000))
	f.Add("1,3,5,7", "23:59", "00:01", uint8(4), int64(1325000000))
	f.Fuzz(func(t *testing.T, days, from, to string, zone uint8, at int64) {
		loc, err := time.LoadLocation(fuzzZones[int(zone)%len(fuzzZones)])
		if err != nil {
			t.Skip(err)
		}
		w, err := ParseWindow(days, from, to, loc)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			return
		}
		tm := time.Unix(at%(1<<34), 0)
		in := w.Contains(tm)
		n := w.NextChange(tm)
		if n.IsZero() {
			if !in {
				t.Fatalf("%s: no next change but closed at %s", w, tm)
			}
			return
		}
		if !n.After(tm) || w.Contains(n) == in || w.Contains(n.Add(-time.Nanosecond)) != in {
			t.Fatalf("%s: at %s in=%v, NextChange %s", w, tm, in, n)
		}
	})
}
