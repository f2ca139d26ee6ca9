package schedule

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

type nextCase struct {
	expr  string
	tz    string
	after string
	want  []string // then no more when end is set
	end   bool
}

func runNextCases(t *testing.T, cases []nextCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.expr+"/"+c.tz+"/"+c.after, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(c.expr, mustLoc(t, c.tz))
			if err != nil {
				t.Fatal(err)
			}
			checkNext(t, s, c.after, c.want, c.end)
		})
	}
}

// TestCronSpecialDays covers L, LW, W and # at month edges, in leap and
// common years.
func TestCronSpecialDays(t *testing.T) {
	t.Parallel()
	runNextCases(t, []nextCase{
		// L in day-of-month: Feb in common and leap years, 30- and 31-day months.
		{expr: "cron(0 0 L 2 ? *)", after: "2023-01-01T00:00:00Z", want: []string{"2023-02-28T00:00:00Z", "2024-02-29T00:00:00Z", "2025-02-28T00:00:00Z"}},
		{expr: "cron(0 0 L 2 ? 2100)", after: "2024-01-01T00:00:00Z", want: []string{"2100-02-28T00:00:00Z"}, end: true}, // 2100 is not a leap year
		{expr: "cron(0 0 L 2 ? 2000)", after: "1999-01-01T00:00:00Z", want: []string{"2000-02-29T00:00:00Z"}, end: true},
		{expr: "cron(0 0 L * ? *)", after: "2024-04-01T00:00:00Z", want: []string{"2024-04-30T00:00:00Z", "2024-05-31T00:00:00Z", "2024-06-30T00:00:00Z"}},
		// LW: last weekday of the month.
		{expr: "cron(0 9 LW * ? 2024)", after: "2024-02-01T00:00:00Z", want: []string{"2024-02-29T09:00:00Z", "2024-03-29T09:00:00Z"}}, // Mar 31 is a Sunday
		{expr: "cron(0 9 LW 8 ? 2024)", after: "2024-01-01T00:00:00Z", want: []string{"2024-08-30T09:00:00Z"}, end: true},              // Aug 31 is a Saturday
		{expr: "cron(0 9 LW 2 ? 2025)", after: "2025-01-01T00:00:00Z", want: []string{"2025-02-28T09:00:00Z"}, end: true},              // a Friday
		// W: the nearest weekday, never crossing into another month.
		{expr: "cron(0 9 1W 6 ? 2024)", after: "2024-01-01T00:00:00Z", want: []string{"2024-06-03T09:00:00Z"}, end: true},               // Sat 1st -> Mon 3rd
		{expr: "cron(0 9 1W 9 ? 2024)", after: "2024-01-01T00:00:00Z", want: []string{"2024-09-02T09:00:00Z"}, end: true},               // Sun 1st -> Mon 2nd
		{expr: "cron(0 9 31W 8 ? 2025)", after: "2025-01-01T00:00:00Z", want: []string{"2025-08-29T09:00:00Z"}, end: true},              // Sun 31st -> Fri 29th
		{expr: "cron(0 9 31W 5 ? 2025)", after: "2025-01-01T00:00:00Z", want: []string{"2025-05-30T09:00:00Z"}, end: true},              // Sat 31st -> Fri 30th
		{expr: "cron(0 9 31W * ? 2024)", after: "2024-03-01T00:00:00Z", want: []string{"2024-03-29T09:00:00Z", "2024-05-31T09:00:00Z"}}, // no fire in 30-day April
		{expr: "cron(0 9 15W 6 ? 2024)", after: "2024-01-01T00:00:00Z", want: []string{"2024-06-14T09:00:00Z"}, end: true},              // Sat 15th -> Fri 14th
		{expr: "cron(0 9 29W 2 ? 2024-2025)", after: "2024-01-01T00:00:00Z", want: []string{"2024-02-29T09:00:00Z"}, end: true},
		{expr: "cron(0 9 3W * ? *)", after: "2024-08-02T09:00:00Z", want: []string{"2024-09-03T09:00:00Z"}},
		// #: n-th weekday of the month; a fifth one only in some months.
		{expr: "cron(0 9 ? * 5#5 2024)", after: "2024-01-01T00:00:00Z", want: []string{"2024-02-29T09:00:00Z", "2024-05-30T09:00:00Z", "2024-08-29T09:00:00Z", "2024-10-31T09:00:00Z"}, end: true},
		{expr: "cron(0 9 ? * TUE#2 *)", after: "2024-01-01T00:00:00Z", want: []string{"2024-01-09T09:00:00Z", "2024-02-13T09:00:00Z"}},
		{expr: "cron(0 9 ? * 1#1 *)", after: "2024-09-01T09:00:00Z", want: []string{"2024-10-06T09:00:00Z"}},
		// nL: last such weekday; L alone is Saturday.
		{expr: "cron(0 9 ? * 2L *)", after: "2024-05-01T00:00:00Z", want: []string{"2024-05-27T09:00:00Z"}},
		{expr: "cron(0 9 ? * FRIL *)", after: "2023-02-01T00:00:00Z", want: []string{"2023-02-24T09:00:00Z"}},
		{expr: "cron(0 9 ? * 6L *)", after: "2024-02-01T00:00:00Z", want: []string{"2024-02-23T09:00:00Z", "2024-03-29T09:00:00Z"}},
		{expr: "cron(0 9 ? * L *)", after: "2024-06-01T09:00:00Z", want: []string{"2024-06-08T09:00:00Z"}},
		// Lists, ranges, wrap-around ranges, increments, names.
		{expr: "cron(0 9 ? * FRI-MON *)", after: "2024-06-06T09:00:00Z", want: []string{"2024-06-07T09:00:00Z", "2024-06-08T09:00:00Z", "2024-06-09T09:00:00Z", "2024-06-10T09:00:00Z", "2024-06-14T09:00:00Z"}},
		{expr: "cron(0 0 1 NOV-FEB ? 2024-2025)", after: "2024-02-01T00:00:00Z", want: []string{"2024-11-01T00:00:00Z", "2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", "2025-11-01T00:00:00Z", "2025-12-01T00:00:00Z"}, end: true},
		{expr: "cron(0-15/5,50 8 * * ? *)", after: "2024-06-01T00:00:00Z", want: []string{"2024-06-01T08:00:00Z", "2024-06-01T08:05:00Z", "2024-06-01T08:10:00Z", "2024-06-01T08:15:00Z", "2024-06-01T08:50:00Z", "2024-06-02T08:00:00Z"}},
		{expr: "cron(1-31/30 1-1 ? * 1,7 *)", after: "2024-06-03T00:00:00Z", want: []string{"2024-06-08T01:01:00Z", "2024-06-08T01:31:00Z", "2024-06-09T01:01:00Z"}},
		{expr: "cron(0 0 1/10 * ? *)", after: "2024-06-01T00:00:00Z", want: []string{"2024-06-11T00:00:00Z", "2024-06-21T00:00:00Z", "2024-07-01T00:00:00Z"}},
		{expr: "cron(0 0 1 1 ? 2000/50)", after: "1970-01-01T00:00:00Z", want: []string{"2000-01-01T00:00:00Z", "2050-01-01T00:00:00Z", "2100-01-01T00:00:00Z", "2150-01-01T00:00:00Z"}, end: true},
		{expr: "cron(0 0 31 2 ? *)", after: "2024-01-01T00:00:00Z", want: nil, end: true}, // never
		{expr: "cron(59 23 31 12 ? 2199)", after: "2024-01-01T00:00:00Z", want: []string{"2199-12-31T23:59:00Z"}, end: true},
		{expr: "cron(* * * * ? *)", after: "2024-06-01T10:00:30Z", want: []string{"2024-06-01T10:01:00Z", "2024-06-01T10:02:00Z"}},
		{expr: "cron(0 0 1 1 ? 1970)", after: "0001-01-01T00:00:00Z", want: []string{"1970-01-01T00:00:00Z"}, end: true},
	})
}

// TestCronDST: spring-forward times are skipped, fall-back times fire
// once, at their first occurrence, for minute, hourly and daily crons in
// America/New_York and Europe/London (2024: NY 10 Mar and 3 Nov, London 31
// Mar and 27 Oct).
func TestCronDST(t *testing.T) {
	t.Parallel()
	const ny, lon = "America/New_York", "Europe/London"
	runNextCases(t, []nextCase{
		// Hourly. NY spring: 00:00 EST, 01:00 EST, (02:00 skipped), 03:00 EDT.
		{expr: "cron(0 * * * ? *)", tz: ny, after: "2024-03-10T04:30:00Z", want: []string{"2024-03-10T05:00:00Z", "2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z", "2024-03-10T08:00:00Z"}},
		// NY fall: 00:00 EDT, 01:00 EDT, (01:00 EST not again), 02:00 EST.
		{expr: "cron(0 * * * ? *)", tz: ny, after: "2024-11-03T03:30:00Z", want: []string{"2024-11-03T04:00:00Z", "2024-11-03T05:00:00Z", "2024-11-03T07:00:00Z", "2024-11-03T08:00:00Z"}},
		// From inside the repeated hour (01:20 EST): the next is 02:00 EST.
		{expr: "cron(0 * * * ? *)", tz: ny, after: "2024-11-03T06:20:00Z", want: []string{"2024-11-03T07:00:00Z"}},
		{expr: "cron(30 * * * ? *)", tz: lon, after: "2024-03-30T23:45:00Z", want: []string{"2024-03-31T00:30:00Z", "2024-03-31T01:30:00Z"}}, // 00:30 GMT, (01:30 skipped), 02:30 BST
		{expr: "cron(30 * * * ? *)", tz: lon, after: "2024-10-26T23:45:00Z", want: []string{"2024-10-27T00:30:00Z", "2024-10-27T02:30:00Z"}}, // 01:30 BST, (01:30 GMT), 02:30 GMT
		// Minute level: every 15 minutes through the changes.
		{expr: "cron(0/15 * * * ? *)", tz: ny, after: "2024-03-10T06:40:00Z", want: []string{"2024-03-10T06:45:00Z", "2024-03-10T07:00:00Z", "2024-03-10T07:15:00Z"}},
		{expr: "cron(0/15 * * * ? *)", tz: ny, after: "2024-11-03T05:40:00Z", want: []string{"2024-11-03T05:45:00Z", "2024-11-03T07:00:00Z", "2024-11-03T07:15:00Z"}},
		{expr: "cron(0/20 1 * * ? *)", tz: lon, after: "2024-10-26T12:00:00Z", want: []string{"2024-10-27T00:00:00Z", "2024-10-27T00:20:00Z", "2024-10-27T00:40:00Z", "2024-10-28T01:00:00Z"}},
		{expr: "cron(0/20 1 * * ? *)", tz: lon, after: "2024-03-30T12:00:00Z", want: []string{"2024-03-30T01:00:00Z", "2024-03-30T01:20:00Z"}[0:0], end: false},
		{expr: "cron(0/20 1 * * ? *)", tz: lon, after: "2024-03-30T02:00:00Z", want: []string{"2024-04-01T00:00:00Z", "2024-04-01T00:20:00Z"}}, // 31 Mar 01:xx does not exist
		// Daily at a skipped time: no fire that day.
		{expr: "cron(30 2 * * ? *)", tz: ny, after: "2024-03-09T00:00:00Z", want: []string{"2024-03-09T07:30:00Z", "2024-03-11T06:30:00Z"}},
		{expr: "cron(30 2 * * ? *)", tz: ny, after: "2024-11-02T12:00:00Z", want: []string{"2024-11-03T07:30:00Z", "2024-11-04T07:30:00Z"}},
		// Daily at a repeated time: once, before the shift.
		{expr: "cron(30 1 * * ? *)", tz: ny, after: "2024-11-02T12:00:00Z", want: []string{"2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z"}},
		{expr: "cron(30 1 * * ? *)", tz: lon, after: "2024-03-30T12:00:00Z", want: []string{"2024-04-01T00:30:00Z"}},
		{expr: "cron(30 1 * * ? *)", tz: lon, after: "2024-10-26T12:00:00Z", want: []string{"2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z"}},
		// Ordinary days keep local time: 08:30 New York either side of the change.
		{expr: "cron(30 8 ? * MON-FRI *)", tz: ny, after: "2024-03-08T00:00:00Z", want: []string{"2024-03-08T13:30:00Z", "2024-03-11T12:30:00Z"}},
		{expr: "cron(0 9 ? * MON-FRI *)", tz: "Asia/Tokyo", after: "2024-06-07T00:00:00Z", want: []string{"2024-06-10T00:00:00Z"}},
		// Samoa skipped 30 December 2011 (UTC-10 -> UTC+14).
		{expr: "cron(0 12 * * ? *)", tz: "Pacific/Apia", after: "2011-12-28T00:00:00Z", want: []string{"2011-12-28T22:00:00Z", "2011-12-29T22:00:00Z", "2011-12-30T22:00:00Z", "2011-12-31T22:00:00Z"}},
		// Lord Howe Island shifts by 30 minutes: 02:00 -> 02:30 on 6 Oct 2024.
		{expr: "cron(15 2 * * ? *)", tz: "Australia/Lord_Howe", after: "2024-10-04T00:00:00Z", want: []string{"2024-10-04T15:45:00Z", "2024-10-06T15:15:00Z", "2024-10-07T15:15:00Z"}},
	})
}

// TestCronAgainstBruteForce compares Next with a minute-by-minute scan of
// UTC that fires at u when u's local time matches and u is the first
// instant showing that local time.
func TestCronAgainstBruteForce(t *testing.T) {
	t.Parallel()
	zones := []string{"UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(opts ...string) string { return opts[rng.IntN(len(opts))] }
	for i := range 300 {
		dom, dow := "?", "?"
		if rng.IntN(2) == 0 {
			dom = pick("*", "1", "L", "LW", "15W", "1W", "31W", "1-10", "25-5", "1/7", "29,30,31")
		} else {
			dow = pick("*", "MON-FRI", "1", "6L", "3#2", "5#5", "SAT,SUN", "FRI-MON", "L")
		}
		expr := fmt.Sprintf("cron(%s %s %s %s %s %s)",
			pick("*", "0", "30", "0/15", "1/10", "59", "5,35", "50-10"),
			pick("*", "1", "2", "0-3", "20-2", "*/6", "9-17"),
			dom, pick("*", "*", "3", "10,11", "NOV-FEB", "2"), dow, pick("*", "*", "2024-2025", "2025"))
		zone := zones[i%len(zones)]
		loc := mustLoc(t, zone)
		s, err := Parse(expr, loc)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		c := s.(*cron)
		from := time.Date(2024, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), 0, 0, time.UTC)
		limit := from.Add(40 * 24 * time.Hour)
		var got, want []time.Time
		for _, u := range NextN(s, from, 3) {
			if u.Before(limit) {
				got = append(got, u)
			}
		}
		for u := from.Add(time.Minute); len(want) < 3 && u.Before(limit); u = u.Add(time.Minute) {
			if bruteMatches(c, u, loc) {
				want = append(want, u)
			}
		}
		got = got[:min(len(got), len(want))]
		if fmtTimes(got) != fmtTimes(want) {
			t.Errorf("%s in %s after %s:\n got %s\nwant %s", expr, zone, from.Format(time.RFC3339), fmtTimes(got), fmtTimes(want))
		}
	}
}

func bruteMatches(c *cron, u time.Time, loc *time.Location) bool {
	l := u.In(loc)
	y, mo, d := l.Date()
	if l.Second() != 0 || !c.year.has(y-1970) || !c.month.has(int(mo)-1) || !c.hour.has(l.Hour()) || !c.min.has(l.Minute()) ||
		!c.dayOK(d, daysIn(y, int(mo)), weekday(y, int(mo), 1)) {
		return false
	}
	// Only the first instant showing this local time fires.
	for back := 15 * time.Minute; back <= 3*time.Hour; back += 15 * time.Minute {
		p := u.Add(-back).In(loc)
		if p.Year() == l.Year() && p.YearDay() == l.YearDay() && p.Hour() == l.Hour() && p.Minute() == l.Minute() {
			return false
		}
	}
	return true
}

func TestCronStartEnd(t *testing.T) {
	t.Parallel()
	s, err := ParseWith("cron(0 9 * * ? *)", nil, Options{
		Start: mustTime(t, "2024-06-03T09:00:00Z"), // inclusive
		End:   mustTime(t, "2024-06-05T09:00:00Z"), // inclusive
	})
	if err != nil {
		t.Fatal(err)
	}
	checkNext(t, s, "2024-01-01T00:00:00Z", []string{"2024-06-03T09:00:00Z", "2024-06-04T09:00:00Z", "2024-06-05T09:00:00Z"}, true)
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		expr    string
		flavour Flavour
		tz      string
		col     int
		msg     string
	}{
		{"cron(0 12 * * ?)", Rule, "", 6, "cron needs 6 fields"},
		{"cron(0 12 * * ? *)x", Scheduler, "", 1, "want cron(...), rate(...) or at(...)"},
		{"CRON(0 12 * * ? *)", Scheduler, "", 1, "want cron"},
		{"cron (0 12 * * ? *)", Scheduler, "", 1, "want cron"},
		{"every(5 minutes)", Scheduler, "", 1, "unknown expression type \"every\""},
		{"", Scheduler, "", 1, "want cron"},
		{"cron()", Scheduler, "", 6, "got 0"},
		{"cron(*/60 * * * ? *)", Scheduler, "", 8, "minutes: increment 60 out of range 1-59"},
		{"cron(0/0 * * * ? *)", Scheduler, "", 8, "increment 0 out of range"},
		{"cron(0/x * * * ? *)", Scheduler, "", 8, "increment \"x\" is not a number"},
		{"cron(0 12 ? * MON/2 *)", Scheduler, "", 18, "day-of-week: increments ('/') are not allowed"},
		{"cron(0 12 ? * MOX *)", Scheduler, "", 15, "day-of-week: \"MOX\" is not a number or a name (SUN-SAT)"},
		{"cron(0 12 ? XYZ MON *)", Scheduler, "", 13, "month: \"XYZ\" is not a number or a name (JAN-DEC)"},
		{"cron(0 12 1,,2 * ? *)", Scheduler, "", 13, "day-of-month: empty list element"},
		{"cron(0 12 L,1 * ? *)", Scheduler, "", 11, "'?', 'L' and 'W' cannot be used in a list"},
		{"cron(0 12 L-3 * ? *)", Scheduler, "", 11, "is not a value, range, list"},
		{"cron(0 12 32W * ? *)", Scheduler, "", 11, "day-of-month: value 32 out of range 1-31"},
		{"cron(0 12 ? * 3#6 *)", Scheduler, "", 17, "instance after '#' must be 1-5"},
		{"cron(0 12 ? * 8#1 *)", Scheduler, "", 15, "day-of-week: value 8 out of range 1-7"},
		{"cron(0 12 ? * 6L,2 *)", Scheduler, "", 15, "allow only one expression"},
		{"cron(0 12 * * ? 2025-2024)", Scheduler, "", 17, "year: range 2025-2024 runs backwards"},
		{"cron(0 12 * * ? 99999)", Scheduler, "", 17, "year: value 99999 out of range"},
		{"cron(0 -1 * * ? *)", Scheduler, "", 8, "hours: missing value"},
		{"cron(0 12 * * ? *)", Rule, "America/New_York", 0, "scheduled rules run in utc only"},
		{"rate(5 minute)", Rule, "", 8, "must be plural"},
		{"rate(1 minutes)", Rule, "", 8, "must be singular"},
		{"rate(5 weeks)", Scheduler, "", 8, "rate unit \"weeks\" is not minute"},
		{"rate(-5 minutes)", Scheduler, "", 6, "not a positive whole number"},
		{"rate(1.5 hours)", Scheduler, "", 6, "not a positive whole number"},
		{"rate(5minutes)", Scheduler, "", 6, "rate needs a value and a unit"},
		{"rate(99999999999999999999 days)", Scheduler, "", 6, "not a positive whole number"},
		{"rate(9999999999 days)", Scheduler, "", 6, "too large"},
		{"at(2022-11-20T13:00:00)", Rule, "", 1, "at() is an eventbridge scheduler expression"},
		{"at(2022-11-20 13:00:00)", Scheduler, "", 14, "want \"T\""},
		{"at(2022-11-20T13:00)", Scheduler, "", 4, "yyyy-mm-ddThh:mm:ss"},
		{"at(2023-02-29T13:00:00)", Scheduler, "", 12, "day 29 out of range 1-28"},
		{"at(2024-13-01T13:00:00)", Scheduler, "", 9, "month 13 out of range 1-12"},
		{"at(2024-01-01T24:00:00)", Scheduler, "", 15, "hour 24 out of range 0-23"},
		{"at(2024-01-01T13:00:00Z)", Scheduler, "", 4, "yyyy-mm-ddThh:mm:ss"},
		{"cron(" + strings.Repeat("0", 260) + " * * * ? *)", Scheduler, "", 257, "longer than 256"},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			t.Parallel()
			_, err := ParseWith(c.expr, mustLoc(t, c.tz), Options{Flavour: c.flavour})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not say %q", err, c.msg)
			}
			if e, ok := err.(*Error); ok {
				if e.Offset+1 != c.col {
					t.Errorf("column %d, want %d (%v)", e.Offset+1, c.col, err)
				}
			} else if c.col != 0 {
				t.Errorf("err %T, want *Error", err)
			}
			if s := err.Error(); s != strings.ToLower(s[:1])+s[1:] || strings.HasSuffix(s, ".") {
				t.Errorf("error %q is not lower-case without a trailing period", s)
			}
		})
	}
}
