package schedule

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func mustWindow(t testing.TB, days, from, to, tz string) *Window {
	t.Helper()
	w, err := ParseWindow(days, from, to, mustLoc(t, tz))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWindow(t *testing.T) {
	t.Parallel()
	type probe struct {
		at   string
		in   bool
		next string // NextChange
	}
	cases := []struct {
		days, from, to, tz string
		probes             []probe
	}{
		{"MON-FRI", "09:00", "18:00", "Asia/Tokyo", []probe{
			{"2024-06-10T00:00:00Z", true, "2024-06-10T09:00:00Z"},  // Mon 09:00 JST opens
			{"2024-06-09T23:59:59Z", false, "2024-06-10T00:00:00Z"}, // Mon 08:59:59
			{"2024-06-10T09:00:00Z", false, "2024-06-11T00:00:00Z"}, // Mon 18:00 closes
			{"2024-06-14T08:00:00Z", true, "2024-06-14T09:00:00Z"},  // Fri 17:00
			{"2024-06-14T09:00:00Z", false, "2024-06-17T00:00:00Z"}, // Fri 18:00 -> Mon 09:00
			{"2024-06-15T03:00:00Z", false, "2024-06-17T00:00:00Z"}, // Saturday
		}},
		// Across midnight: Friday night into Saturday morning.
		{"FRI", "22:00", "06:00", "", []probe{
			{"2024-06-14T21:59:00Z", false, "2024-06-14T22:00:00Z"},
			{"2024-06-14T23:00:00Z", true, "2024-06-15T06:00:00Z"},
			{"2024-06-15T05:59:59Z", true, "2024-06-15T06:00:00Z"},
			{"2024-06-15T06:00:00Z", false, "2024-06-21T22:00:00Z"},
			{"2024-06-14T03:00:00Z", false, "2024-06-14T22:00:00Z"}, // Friday early morning belongs to Thursday's window: none
		}},
		// Weeknights, merged into one long span over the weekend only when they touch.
		{"SUN-THU", "22:00", "06:00", "", []probe{
			{"2024-06-14T03:00:00Z", true, "2024-06-14T06:00:00Z"}, // Fri 03:00, Thursday's night
			{"2024-06-15T03:00:00Z", false, "2024-06-16T22:00:00Z"},
		}},
		// Whole days touch and merge: Mon 00:00 to Sat 00:00.
		{"MON-FRI", "00:00", "24:00", "Europe/London", []probe{
			{"2024-06-11T12:00:00Z", true, "2024-06-14T23:00:00Z"},
			{"2024-06-15T12:00:00Z", false, "2024-06-16T23:00:00Z"},
		}},
		{"SAT", "08:00", "08:00", "", []probe{ // from == to: 24 hours
			{"2024-06-16T07:59:00Z", true, "2024-06-16T08:00:00Z"},
			{"2024-06-16T08:00:00Z", false, "2024-06-22T08:00:00Z"},
		}},
		// DST in New York. Spring: 01:00 EST to 03:00 EDT is one hour.
		{"*", "01:00", "03:00", "America/New_York", []probe{
			{"2024-03-10T06:00:00Z", true, "2024-03-10T07:00:00Z"},
			{"2024-03-10T07:00:00Z", false, "2024-03-11T05:00:00Z"},
			// Fall: 01:00 EDT to 03:00 EST is three hours.
			{"2024-11-03T05:00:00Z", true, "2024-11-03T08:00:00Z"},
			{"2024-11-03T07:30:00Z", true, "2024-11-03T08:00:00Z"},
		}},
		// A start the clock skips opens at the jump (03:00 EDT = 07:00Z).
		{"SUN", "02:00", "04:00", "America/New_York", []probe{
			{"2024-03-10T06:59:59Z", false, "2024-03-10T07:00:00Z"},
			{"2024-03-10T07:00:00Z", true, "2024-03-10T08:00:00Z"},
		}},
		// An end the clock repeats closes at its first occurrence, for good.
		{"SUN", "00:00", "01:30", "America/New_York", []probe{
			{"2024-11-03T05:29:00Z", true, "2024-11-03T05:30:00Z"},
			{"2024-11-03T06:10:00Z", false, "2024-11-10T05:00:00Z"}, // 01:10 EST: not reopened
		}},
		// Business hours in London keep local time across the change.
		{"MON-FRI", "09:00", "17:30", "Europe/London", []probe{
			{"2024-03-29T09:00:00Z", true, "2024-03-29T17:30:00Z"},  // Fri, GMT
			{"2024-03-29T17:30:00Z", false, "2024-04-01T08:00:00Z"}, // Mon, BST
		}},
		{"*", "00:00", "24:00", "Asia/Tokyo", []probe{
			{"2024-06-11T12:00:00Z", true, "0001-01-01T00:00:00Z"}, // always open: no change
		}},
	}
	for _, c := range cases {
		w := mustWindow(t, c.days, c.from, c.to, c.tz)
		for _, p := range c.probes {
			at := mustTime(t, p.at)
			if got := w.Contains(at); got != p.in {
				t.Errorf("%s: Contains(%s) = %v", w, p.at, got)
			}
			if got := w.NextChange(at); !got.Equal(mustTime(t, p.next)) {
				t.Errorf("%s: NextChange(%s) = %s, want %s", w, p.at, got.UTC().Format(time.RFC3339), p.next)
			}
		}
	}
}

// TestWindowNextChangeAgrees checks on random times that Contains is
// constant up to NextChange and flips there.
func TestWindowNextChangeAgrees(t *testing.T) {
	t.Parallel()
	windows := []*Window{
		mustWindow(t, "MON-FRI", "09:00", "18:00", "America/New_York"),
		mustWindow(t, "SAT,SUN", "22:00", "02:30", "Europe/London"),
		mustWindow(t, "*", "01:30", "02:30", "America/New_York"),
		mustWindow(t, "FRI-MON", "00:00", "00:00", "Australia/Lord_Howe"),
		mustWindow(t, "WED", "02:15", "01:45", "America/Santiago"),
	}
	rng := rand.New(rand.NewPCG(3, 4))
	base := mustTime(t, "2024-01-01T00:00:00Z")
	for range 400 {
		w := windows[rng.IntN(len(windows))]
		at := base.Add(time.Duration(rng.Int64N(int64(366 * 24 * time.Hour))))
		in := w.Contains(at)
		n := w.NextChange(at)
		if !n.After(at) || n.Sub(at) > 8*24*time.Hour {
			t.Fatalf("%s: NextChange(%s) = %s", w, at, n)
		}
		if w.Contains(n) == in {
			t.Errorf("%s: Contains does not flip at NextChange(%s) = %s", w, at, n)
		}
		for u := at; u.Before(n); u = u.Add(7 * time.Minute) {
			if w.Contains(u) != in {
				t.Errorf("%s: Contains(%s) changed before NextChange(%s) = %s", w, u, at, n)
				break
			}
		}
		if w.Contains(n.Add(-time.Nanosecond)) != in {
			t.Errorf("%s: Contains changes before %s", w, n)
		}
	}
}

func TestParseWindowErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ days, from, to, msg string }{
		{"MON-FRX", "09:00", "18:00", "window days: day-of-week: \"FRX\" is not a number or a name"},
		{"", "09:00", "18:00", "window days: day-of-week: empty field"},
		{"MON FRI", "09:00", "18:00", "is not a number or a name"},
		{"MON/2", "09:00", "18:00", "increments ('/') are not allowed"},
		{"MON#2", "09:00", "18:00", "is not a number or a name"},
		{"MON", "9:00", "18:00", "window start: want hh:mm"},
		{"MON", "24:00", "18:00", "window start: hour 24 out of range 0-23"},
		{"MON", "09:00", "18:60", "window end: minute 60 out of range 0-59"},
		{"MON", "09:00", "24:01", "window end: hour 24 out of range 0-23"},
		{"MON", "09:00", "1a:00", "window end: \"a\" is not a digit"},
	} {
		_, err := ParseWindow(c.days, c.from, c.to, nil)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseWindow(%q, %q, %q) = %v, want %q", c.days, c.from, c.to, err, c.msg)
		}
	}
}
