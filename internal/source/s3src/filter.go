package s3src

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LogFile is what a CloudTrail log file's name says about it.
type LogFile struct {
	Account   string
	Region    string
	Delivered time.Time // the yyyymmddThhmmZ of the name
}

// ParseName reads a CloudTrail log file name (the last element of a key or
// path): <account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<id>.json[.gz].
func ParseName(name string) (LogFile, bool) {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	parts := strings.Split(name, "_")
	if len(parts) != 5 || parts[1] != "CloudTrail" || !isAccount(parts[0]) || parts[2] == "" {
		return LogFile{}, false
	}
	t, err := time.Parse("20060102T1504Z", parts[3])
	if err != nil {
		return LogFile{}, false
	}
	return LogFile{Account: parts[0], Region: parts[2], Delivered: t}, true
}

// Filter reports whether a log file name passes the accounts, regions and
// time range of o; names that are not CloudTrail log file names pass.
func (o Options) Filter() func(name string) bool {
	return newFilter(o).key
}

// filter holds Options' filters in the form the walk asks them.
type filter struct {
	accounts, regions []string
	since, until      time.Time // until includes DeliveryLag; zero when unbounded
}

func newFilter(o Options) filter {
	f := filter{accounts: o.Accounts, regions: o.Regions, since: o.Since}
	if !o.Until.IsZero() {
		f.until = o.Until.Add(DeliveryLag)
	}
	return f
}

func (f filter) account(a string) bool {
	return len(f.accounts) == 0 || slices.Contains(f.accounts, a)
}

func (f filter) region(r string) bool {
	return len(f.regions) == 0 || slices.Contains(f.regions, r)
}

// dateOverlaps reports whether the year, month or day in date (the first
// zero part and those after it unknown) may hold files delivered in
// [since, until).
func (f filter) dateOverlaps(date [3]int) bool {
	y, m, d := date[0], date[1], date[2]
	var start, end time.Time
	switch {
	case m == 0:
		start = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		end = start.AddDate(1, 0, 0)
	case d == 0:
		start = time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
		end = start.AddDate(0, 1, 0)
	default:
		start = time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		end = start.AddDate(0, 0, 1)
	}
	// Files are named to the minute: one delivered at since's minute
	// counts.
	if !f.since.IsZero() && !end.After(f.since.Truncate(time.Minute)) {
		return false
	}
	if !f.until.IsZero() && !start.Before(f.until) {
		return false
	}
	return true
}

// maxDays is the longest time range whose day folders are listed one by
// one rather than found by listing years and months.
const maxDays = 62

// days returns the days of a bounded time range of at most maxDays, in
// order; nil otherwise.
func (f filter) days() []time.Time {
	if f.since.IsZero() || f.until.IsZero() || !f.since.Before(f.until) {
		return nil
	}
	first := f.since.UTC().Truncate(24 * time.Hour)
	if f.until.Sub(first) > maxDays*24*time.Hour {
		return nil
	}
	var days []time.Time
	for d := first; d.Before(f.until); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
	}
	return days
}

func (f filter) key(key string) bool {
	lf, ok := ParseName(key)
	if !ok {
		return true
	}
	if !f.account(lf.Account) || !f.region(lf.Region) {
		return false
	}
	if !f.since.IsZero() && lf.Delivered.Before(f.since.Truncate(time.Minute)) {
		return false
	}
	if !f.until.IsZero() && !lf.Delivered.Before(f.until) {
		return false
	}
	return true
}

// ParseTime reads a --since or --until value: a time before now as a
// duration (7d, 36h, 90m, 1d12h, or any Go duration), an RFC 3339 time, or
// a date (2006-01-02, midnight UTC).
func ParseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := parseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a duration (7d, 36h), an RFC 3339 time or a date", s)
}

// parseDuration is time.ParseDuration with days (24h) and weeks.
func parseDuration(s string) (time.Duration, error) {
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			break
		}
		var unit time.Duration
		switch {
		case strings.HasPrefix(rest[i:], "d"):
			unit = 24 * time.Hour
		case strings.HasPrefix(rest[i:], "w"):
			unit = 7 * 24 * time.Hour
		default:
			d, err := time.ParseDuration(rest)
			if err != nil {
				return 0, err
			}
			return total + d, nil
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("%q: bad number", s)
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if rest != "" || s == "" {
		return 0, fmt.Errorf("%q: bad duration", s)
	}
	if total < 0 {
		return 0, fmt.Errorf("%q: negative", s)
	}
	return total, nil
}
