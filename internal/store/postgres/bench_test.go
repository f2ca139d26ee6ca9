package postgres

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/postgres/pgtest"
)

// BenchmarkRecord records batches of new events, each matching one rule
// that alerts to two receivers, and every fifth also a folding rule (as
// store/sqlite's BenchmarkRecord does). pgtest's server runs with fsync
// off: compare with SQLite's sync=NORMAL.
func BenchmarkRecord(b *testing.B) {
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s, err := Open(b.Context(), pgtest.Start(b), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ev := []byte(`{"version":"0","id":"x","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","account":"111122223333","time":"2026-03-01T12:00:00Z","region":"us-east-1","resources":[],"detail":{"eventName":"ConsoleLogin","userIdentity":{"type":"Root"}}}`)
			at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			batch := make([]store.Seen, size)
			n := 0
			for b.Loop() {
				for i := range batch {
					n++
					id := fmt.Sprintf("event-%d", n)
					a := alert.Alert{Rule: "root", Severity: "critical", EventID: id, Summary: "root signed in", Event: ev}
					hits := []store.Hit{{Rule: "root", DedupKey: id, Threshold: 1, Alert: a, Deliveries: []store.Delivery{
						{Receiver: "slack", RemindEvery: time.Hour, RemindMax: 3}, {Receiver: "mail"},
					}}}
					if n%5 == 0 {
						hits = append(hits, store.Hit{Rule: "brute", DedupKey: "alice", DedupPeriod: time.Hour, Threshold: 10, Alert: a,
							Deliveries: []store.Delivery{{Receiver: "slack"}}})
					}
					batch[i] = store.Seen{EventKey: id, EventTime: at, Hits: hits}
				}
				if _, err := s.Record(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkRecordParallel records single events from many goroutines, as
// concurrent HTTP requests do: each its own transaction.
func BenchmarkRecordParallel(b *testing.B) {
	s, err := Open(b.Context(), pgtest.Start(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("event-%d", n.Add(1))
			a := alert.Alert{Rule: "root", Severity: "critical", EventID: id, Summary: "root signed in"}
			if _, err := s.Record(b.Context(), []store.Seen{{EventKey: id, Hits: []store.Hit{{Rule: "root", DedupKey: id, Threshold: 1, Alert: a,
				Deliveries: []store.Delivery{{Receiver: "slack"}}}}}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
