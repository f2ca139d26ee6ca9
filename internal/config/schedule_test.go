package config

import (
	"strings"
	"testing"
	"time"
)

func TestScheduleParse(t *testing.T) {
	s := &Schedule{Expression: "cron(0 18 ? * FRI *)", TimeZone: "Asia/Tokyo", Start: "2026-01-01T00:00:00Z", End: "2026-03-01T00:00:00Z"}
	sch, loc, err := s.Parse()
	if err != nil || loc.String() != "Asia/Tokyo" {
		t.Fatalf("%v %v", loc, err)
	}
	next, ok := sch.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC); !ok || !next.Equal(want) {
		t.Fatalf("next: %v %v, want %v (Friday 18:00 in Tokyo)", next, ok, want)
	}
	if _, ok := sch.Next(time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)); ok {
		t.Fatal("fires after End")
	}
	for _, tc := range []struct {
		s    Schedule
		want string
	}{
		{Schedule{Expression: "rate(1 hour)", TimeZone: "Mars/Olympus"}, `time zone "Mars/Olympus"`},
		{Schedule{Expression: "rate(1 hour)", Start: "tomorrow"}, `start "tomorrow": want an RFC 3339 time`},
		{Schedule{Expression: "rate(1 hour)", End: "2026-13-01"}, `end "2026-13-01"`},
		{Schedule{Expression: "cron(99 * * * ? *)"}, "cron"},
	} {
		if _, _, err := tc.s.Parse(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %s", tc.s, err, tc.want)
		}
	}
}
