package schedule

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

type docCase struct {
	Expr          string   `json:"expr"`
	TZ            string   `json:"tz"`
	Doc           string   `json:"doc"`
	After         string   `json:"after"`
	Next          []string `json:"next"`
	Fires         []string `json:"fires"`
	Then          string   `json:"then"`
	SchedulerOnly bool     `json:"scheduler_only"`
	RulesValid    *bool    `json:"rules_valid"`
	FallBack      *struct {
		After string   `json:"after"`
		Next  []string `json:"next"`
	} `json:"fall_back"`
}

type docCases struct {
	Valid   []docCase `json:"valid"`
	Invalid []struct {
		Expr string `json:"expr"`
		Why  string `json:"why"`
	} `json:"invalid_rules"`
}

func loadDocCases(t testing.TB) docCases {
	t.Helper()
	b, err := os.ReadFile("testdata/schedule_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var c docCases
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	u, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	if name == "" {
		return time.UTC
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func fmtTimes(ts []time.Time) string {
	var b strings.Builder
	for i, u := range ts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(u.UTC().Format(time.RFC3339))
	}
	return b.String()
}

func checkNext(t *testing.T, s Schedule, after string, want []string, exhausted bool) {
	t.Helper()
	n := len(want)
	if exhausted {
		n++
	}
	got := NextN(s, mustTime(t, after), n)
	if g, w := fmtTimes(got), strings.Join(want, " "); g != w {
		t.Errorf("%s after %s:\n got %s\nwant %s", s, after, g, w)
	}
	for _, u := range got {
		if u.Location() != time.UTC {
			t.Errorf("%s: fire time %v is not in UTC", s, u)
		}
	}
}

// TestDocCases runs every valid case of schedule_cases.json: AWS's
// documented examples with their derived next fire times.
func TestDocCases(t *testing.T) {
	t.Parallel()
	cases := loadDocCases(t)
	if len(cases.Valid) < 25 {
		t.Fatalf("only %d valid cases loaded", len(cases.Valid))
	}
	for _, c := range cases.Valid {
		t.Run(c.Expr+"/"+c.TZ, func(t *testing.T) {
			t.Parallel()
			loc := mustLoc(t, c.TZ)
			s, err := Parse(c.Expr, loc)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if s.String() != c.Expr {
				t.Errorf("String() = %q", s.String())
			}
			if c.After != "" {
				checkNext(t, s, c.After, c.Next, c.Then != "")
			}
			if c.FallBack != nil {
				checkNext(t, s, c.FallBack.After, c.FallBack.Next, false)
			}
			if c.Fires != nil {
				checkNext(t, s, "2000-01-01T00:00:00Z", c.Fires, true)
			}
			// The rules flavour: UTC only, no at(), singular/plural.
			_, err = ParseWith(c.Expr, loc, Options{Flavour: Rule})
			wantRuleOK := !c.SchedulerOnly && (c.RulesValid == nil || *c.RulesValid)
			if (err == nil) != wantRuleOK {
				t.Errorf("rule flavour: err = %v, want valid %v", err, wantRuleOK)
			}
		})
	}
}

// TestDocInvalid checks that every invalid case of schedule_cases.json is
// refused with AWS's message and a located reason.
func TestDocInvalid(t *testing.T) {
	t.Parallel()
	cases := loadDocCases(t)
	for _, c := range cases.Invalid {
		t.Run(c.Expr, func(t *testing.T) {
			t.Parallel()
			_, err := ParseWith(c.Expr, nil, Options{Flavour: Rule})
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("err = %v (%T), want *Error (%s)", err, err, c.Why)
			}
			if e.AWSMessage() != "Parameter ScheduleExpression is not valid." {
				t.Errorf("AWSMessage = %q", e.AWSMessage())
			}
			if e.Offset < 0 || e.Offset >= len(c.Expr) {
				t.Errorf("offset %d outside %q", e.Offset, c.Expr)
			}
			t.Logf("%s: %v", c.Why, err)
		})
	}
}
