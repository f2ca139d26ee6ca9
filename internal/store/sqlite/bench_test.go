package sqlite

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/storetest"
)

// BenchmarkRecord records batches of 100 new events, each matching one
// rule that alerts to two receivers, and every fifth also a folding rule.
func BenchmarkRecord(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		for _, size := range []int{1, 100} {
			b.Run(fmt.Sprintf("sync=%s/batch=%d", sync, size), func(b *testing.B) {
				s, err := Open(b.Context(), filepath.Join(b.TempDir(), "tw.db"), Options{Synchronous: sync})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				ev := []byte(`{"version":"0","id":"x","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","account":"111122223333","time":"2026-03-01T12:00:00Z","region":"us-east-1","resources":[],"detail":{"eventName":"ConsoleLogin","userIdentity":{"type":"Root"}}}`)
				batch := make([]store.Seen, size)
				n := 0
				b.ResetTimer()
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
						batch[i] = store.Seen{EventKey: id, EventTime: time.Now(), Hits: hits}
					}
					if _, err := s.Record(b.Context(), batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkRecordParallel records single events from many goroutines, as
// concurrent HTTP requests do: group commit shares one sync among them.
func BenchmarkRecordParallel(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) {
			s, err := Open(b.Context(), filepath.Join(b.TempDir(), "tw.db"), Options{Synchronous: sync})
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
		})
	}
}

// BenchmarkComplete records deliveries and claims them (untimed), then
// completes them: one at a time, and from many goroutines as the outbox's
// workers do (group commit shares one sync among them).
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
// records an outcome for each with outcome, from 1 and 16 goroutines, with
// synchronous FULL (a sync a commit: the disk's pace) and NORMAL (the
// work's).
func benchOutcome(b *testing.B, unit string, outcome func(*Store, store.DeliveryRow) error) {
	for _, mode := range []string{"FULL", "NORMAL"} {
		for _, par := range []int{1, 16} {
			b.Run(fmt.Sprintf("sync=%s/goroutines=%d", mode, par), func(b *testing.B) {
				s, err := Open(b.Context(), filepath.Join(b.TempDir(), "tw.db"), Options{Synchronous: mode})
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
// call, as the outbox does (synchronous NORMAL: the work, not the disk).
func BenchmarkClaim(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "tw.db"), Options{Synchronous: "NORMAL"})
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

// BenchmarkRecordDatapoints records batches of 100 new events without
// alerts, each giving the metric filters d datapoints: one that names the
// event (value 1) and d-1 default values (0) of other metrics, as the 14
// CIS filters with default values do. A thousand events share a 10-second
// bucket.
func BenchmarkRecordDatapoints(b *testing.B) {
	for _, d := range []int{0, 1, 14} {
		b.Run(fmt.Sprintf("datapoints=%d", d), func(b *testing.B) {
			s, err := Open(b.Context(), filepath.Join(b.TempDir(), "tw.db"), Options{Synchronous: "FULL"})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			batch := make([]store.Seen, 100)
			n := 0
			for b.Loop() {
				for i := range batch {
					n++
					id := fmt.Sprintf("event-%d", n)
					at := base.Add(time.Duration(n) * 10 * time.Millisecond)
					var dps []alarm.Datapoint
					for m := range d {
						dp := alarm.Datapoint{Namespace: "CloudTrailMetrics", Metric: fmt.Sprintf("CIS%d", (n+m)%14), Time: at}
						if m == 0 {
							dp.Value, dp.EventKey = 1, id
						}
						dps = append(dps, dp)
					}
					batch[i] = store.Seen{EventKey: id, EventTime: at, Datapoints: dps}
				}
				if _, err := s.Record(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkLoadDatapoints loads 100,000 datapoints (14 metrics, one hour:
// 5,040 buckets, the first 100 keys of each) and rebuilds an alarm.Series
// from them: what an evaluation over an hour's range reads.
func BenchmarkLoadDatapoints(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "tw.db"), Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const total = 100_000
	var metrics []string
	for m := range 14 {
		metrics = append(metrics, alarm.MetricKey("CloudTrailMetrics", fmt.Sprintf("CIS%d", m), nil))
	}
	batch := make([]store.Seen, 0, 1000)
	for n := range total {
		id := fmt.Sprintf("event-%d", n)
		at := base.Add(time.Duration(n) * time.Hour / total)
		batch = append(batch, store.Seen{EventKey: id, EventTime: at, Datapoints: []alarm.Datapoint{{
			Namespace: "CloudTrailMetrics", Metric: fmt.Sprintf("CIS%d", n%14), Time: at, Value: float64(n % 3), EventKey: id,
		}}})
		if len(batch) == cap(batch) {
			if _, err := s.Record(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	now := base.Add(time.Hour)
	for b.Loop() {
		bs, err := s.Datapoints(b.Context(), metrics, base)
		if err != nil {
			b.Fatal(err)
		}
		series := alarm.NewSeries(0)
		series.Replace(now, bs)
		if n := series.Len(); n != total {
			b.Fatalf("%d datapoints, want %d", n, total)
		}
	}
}

// BenchmarkAlerts lists pages of 500 of 200,000 alerts, with and without
// filters (storetest.BenchAlerts).
func BenchmarkAlerts(b *testing.B) {
	clk := clock.NewFake(storetest.Epoch)
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "tw.db"), Options{Clock: clk, Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.SeedBenchAlerts(b, s, clk)
	storetest.BenchAlerts(b, s)
}
