package postgres

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/postgres/pgtest"
	"github.com/trailwatch/trailwatch/internal/store/storetest"
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

// BenchmarkComplete records deliveries and claims them (untimed), then
// completes them: one at a time, and from many goroutines as the outbox's
// workers do (as store/sqlite's BenchmarkComplete does).
func BenchmarkComplete(b *testing.B) {
	benchOutcome(b, "completes/s", func(s *Store, d store.DeliveryRow) error {
		return s.Complete(b.Context(), d.ID, d.Token)
	})
}

// BenchmarkRetry is BenchmarkComplete with a failed attempt instead: each
// claimed delivery is released to be tried again later.
func BenchmarkRetry(b *testing.B) {
	at := time.Now().Add(time.Hour)
	benchOutcome(b, "retries/s", func(s *Store, d store.DeliveryRow) error {
		return s.Retry(b.Context(), d.ID, d.Token, at, "slack: status 503")
	})
}

// benchOutcome records b.N deliveries and claims them (untimed), then
// records an outcome for each with outcome, from 1 and 16 goroutines.
func benchOutcome(b *testing.B, unit string, outcome func(*Store, store.DeliveryRow) error) {
	for _, par := range []int{1, 16} {
		b.Run(fmt.Sprintf("goroutines=%d", par), func(b *testing.B) {
			s, err := Open(b.Context(), pgtest.Start(b), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			queueDeliveries(b, s, b.N)
			ds, err := s.Claim(b.Context(), "bench", b.N, time.Hour)
			if err != nil || len(ds) != b.N {
				b.Fatalf("claimed %d of %d: %v", len(ds), b.N, err)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range par {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(len(ds)) {
							return
						}
						if err := outcome(s, ds[i]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
		})
	}
}

// queueDeliveries records n alerts of one delivery each, in batches of 500.
func queueDeliveries(b *testing.B, s *Store, n int) {
	batch := make([]store.Seen, 0, 500)
	for i := range n {
		id := fmt.Sprintf("event-%d", i)
		a := alert.Alert{Rule: "root", Severity: "critical", EventID: id, Summary: "root signed in"}
		batch = append(batch, store.Seen{EventKey: id, Hits: []store.Hit{{Rule: "root", DedupKey: id, Threshold: 1, Alert: a,
			Deliveries: []store.Delivery{{Receiver: "slack", RemindEvery: time.Hour, RemindMax: 3}}}}})
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := s.Record(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// BenchmarkClaim records b.N deliveries (untimed) and claims them, 100 a
// call, as the outbox does.
func BenchmarkClaim(b *testing.B) {
	s, err := Open(b.Context(), pgtest.Start(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	queueDeliveries(b, s, b.N)
	b.ResetTimer()
	claimed := 0
	for claimed < b.N {
		ds, err := s.Claim(b.Context(), "bench", 100, time.Hour)
		if err != nil || len(ds) == 0 {
			b.Fatalf("claimed %d of %d: %v", claimed, b.N, err)
		}
		claimed += len(ds)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

// BenchmarkAlerts lists pages of 500 of 200,000 alerts, with and without
// filters (storetest.BenchAlerts).
func BenchmarkAlerts(b *testing.B) {
	clk := clock.NewFake(storetest.Epoch)
	s, err := Open(b.Context(), pgtest.Start(b), Options{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.SeedBenchAlerts(b, s, clk)
	// As autovacuum would after such an insert: the planner's statistics.
	if _, err := s.pool.Exec(b.Context(), `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	storetest.BenchAlerts(b, s)
}
