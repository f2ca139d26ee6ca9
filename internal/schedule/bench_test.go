package schedule

import (
	"testing"
	"time"
)

func benchNext(b *testing.B, expr, tz string) {
	loc := mustLoc(b, tz)
	s, err := Parse(expr, loc)
	if err != nil {
		b.Fatal(err)
	}
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		u, ok := s.Next(t)
		if !ok {
			t = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		t = u
	}
}

func BenchmarkNextMinuteUTC(b *testing.B) { benchNext(b, "cron(0/5 * * * ? *)", "") }
func BenchmarkNextMinuteNewYork(b *testing.B) {
	benchNext(b, "cron(0/5 * * * ? *)", "America/New_York")
}
func BenchmarkNextLastFriday(b *testing.B) { benchNext(b, "cron(15 10 ? * 6L *)", "Europe/London") }
func BenchmarkNextNever(b *testing.B)      { benchNext(b, "cron(0 0 31 2 ? *)", "America/New_York") }
func BenchmarkNextRate(b *testing.B)       { benchNext(b, "rate(5 minutes)", "") }

func BenchmarkParseCron(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("cron(0/5 8-17 ? * MON-FRI 2024-2030)", time.UTC); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWindowContains(b *testing.B) {
	w := mustWindow(b, "MON-FRI", "09:00", "18:00", "Asia/Tokyo")
	t := time.Date(2024, 6, 14, 8, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		w.Contains(t)
	}
}
