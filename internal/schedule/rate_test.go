package schedule

import (
	"testing"
	"time"
)

// TestRateAlignment pins what a rate's fires are relative to: Start for a
// Scheduler schedule (first fire at Start: "starts invoking the target
// immediately"), else Created; a Rule's first fire is one period after
// Created ("starts when you create the scheduled event rule"); with neither
// the epoch.
func TestRateAlignment(t *testing.T) {
	t.Parallel()
	start := mustTime(t, "2024-06-01T10:03:20Z")
	created := mustTime(t, "2024-05-31T08:00:00Z")
	cases := []struct {
		name  string
		expr  string
		opts  Options
		tz    string
		after string
		want  []string
		end   bool
	}{
		{"epoch minutes", "rate(5 minutes)", Options{}, "", "2024-06-01T10:07:30Z",
			[]string{"2024-06-01T10:10:00Z", "2024-06-01T10:15:00Z"}, false},
		{"epoch day", "rate(1 day)", Options{}, "", "2024-06-01T10:07:30Z",
			[]string{"2024-06-02T00:00:00Z", "2024-06-03T00:00:00Z"}, false},
		{"epoch hours on the hour", "rate(1 hour)", Options{}, "", "2024-06-01T10:00:00Z",
			[]string{"2024-06-01T11:00:00Z"}, false},
		{"scheduler start fires at start", "rate(5 minutes)", Options{Start: start}, "", "2024-01-01T00:00:00Z",
			[]string{"2024-06-01T10:03:20Z", "2024-06-01T10:08:20Z"}, false},
		{"scheduler start, later", "rate(5 minutes)", Options{Start: start}, "", "2024-06-01T10:03:20Z",
			[]string{"2024-06-01T10:08:20Z"}, false},
		{"scheduler start wins over created", "rate(2 hours)", Options{Start: start, Created: created}, "", "2024-06-01T00:00:00Z",
			[]string{"2024-06-01T10:03:20Z", "2024-06-01T12:03:20Z"}, false},
		{"scheduler created fires immediately", "rate(2 hours)", Options{Created: created}, "", "2024-05-31T07:00:00Z",
			[]string{"2024-05-31T08:00:00Z", "2024-05-31T10:00:00Z"}, false},
		{"rule created plus one period", "rate(2 hours)", Options{Created: created, Flavour: Rule}, "", "2024-05-31T07:00:00Z",
			[]string{"2024-05-31T10:00:00Z", "2024-05-31T12:00:00Z"}, false},
		{"end inclusive", "rate(1 day)", Options{Start: start, End: start.Add(48 * time.Hour)}, "", "2024-06-01T00:00:00Z",
			[]string{"2024-06-01T10:03:20Z", "2024-06-02T10:03:20Z", "2024-06-03T10:03:20Z"}, true},
		// days are 24 hours of elapsed time, whatever the zone does.
		{"days across DST", "rate(1 days)", Options{Start: mustTime(t, "2024-03-09T14:00:00Z")}, "America/New_York", "2024-03-09T00:00:00Z",
			[]string{"2024-03-09T14:00:00Z", "2024-03-10T14:00:00Z", "2024-03-11T14:00:00Z"}, false},
		{"huge rate", "rate(100000 days)", Options{}, "", "2024-06-01T00:00:00Z",
			[]string{"2243-10-17T00:00:00Z"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseWith(c.expr, mustLoc(t, c.tz), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkNext(t, s, c.after, c.want, c.end)
		})
	}
}

func TestRateFlavours(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		expr            string
		rule, scheduler bool
	}{
		{"rate(1 minute)", true, true},
		{"rate(1 minutes)", false, true},
		{"rate(2 minute)", false, true},
		{"rate(2 minutes)", true, true},
		{"rate(1 hour)", true, true},
		{"rate(1 days)", false, true},
		{"rate(15 days)", true, true},
		{"rate(01 minute)", true, true},
		{"rate(0 minutes)", false, false},
		{"rate(1 second)", false, false},
		{"rate(1 Minute)", false, false},
		{"rate( 5 minutes )", true, true},
	} {
		_, errR := ParseWith(c.expr, nil, Options{Flavour: Rule})
		_, errS := ParseWith(c.expr, nil, Options{Flavour: Scheduler})
		if (errR == nil) != c.rule || (errS == nil) != c.scheduler {
			t.Errorf("%s: rule err %v (want valid %v), scheduler err %v (want valid %v)", c.expr, errR, c.rule, errS, c.scheduler)
		}
	}
}

func TestAt(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		expr, tz string
		want     string
	}{
		{"at(2022-11-20T13:00:00)", "America/Los_Angeles", "2022-11-20T21:00:00Z"},
		{"at(2022-11-20T13:00:00)", "", "2022-11-20T13:00:00Z"},
		{"at(2024-06-01T09:30:15)", "Asia/Tokyo", "2024-06-01T00:30:15Z"},
		// A local time the clock skips: shifted forward by the jump (03:30 EDT).
		{"at(2024-03-10T02:30:00)", "America/New_York", "2024-03-10T07:30:00Z"},
		// A repeated local time: its first occurrence (01:30 EDT).
		{"at(2024-11-03T01:30:00)", "America/New_York", "2024-11-03T05:30:00Z"},
		{"at(2024-02-29T00:00:00)", "", "2024-02-29T00:00:00Z"},
	} {
		// at() ignores Start and End, as in AWS.
		s, err := ParseWith(c.expr, mustLoc(t, c.tz), Options{Start: mustTime(t, "2030-01-01T00:00:00Z"), End: mustTime(t, "2031-01-01T00:00:00Z")})
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		w := mustTime(t, c.want)
		if got, ok := s.Next(w.Add(-time.Second)); !ok || !got.Equal(w) {
			t.Errorf("%s in %q: Next = %v %v, want %v", c.expr, c.tz, got, ok, w)
		}
		if got, ok := s.Next(w); ok {
			t.Errorf("%s: fires again at %v", c.expr, got)
		}
		if got := NextN(s, time.Time{}, 5); len(got) != 1 {
			t.Errorf("%s: NextN from zero = %v", c.expr, got)
		}
	}
}
