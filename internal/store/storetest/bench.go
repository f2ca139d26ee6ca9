package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
)

// BenchAlertsTotal is how many alerts SeedBenchAlerts records.
const BenchAlertsTotal = 200_000

// BenchAlerts is the alerts list's benchmark, for every store, on the
// alerts of SeedBenchAlerts: each sub-benchmark lists one page of 500,
// newest first, with a filter, or after a cursor half way down the list.
func BenchAlerts(b *testing.B, s store.Store) {
	newest, err := s.Alerts(b.Context(), store.AlertFilter{Limit: 1})
	if err != nil || len(newest) != 1 {
		b.Fatalf("newest alert: %v, %v", newest, err)
	}
	// The first alert of the batch recorded half way.
	mid, err := s.Alerts(b.Context(), store.AlertFilter{Limit: 1,
		After: store.AlertCursor{FirstSeen: newest[0].FirstSeen.Add(-BenchAlertsTotal / 100 / 2 * time.Second)}})
	if err != nil || len(mid) != 1 {
		b.Fatalf("alert half way: %v, %v", mid, err)
	}
	half := mid[0].Cursor()
	for _, bc := range []struct {
		name  string
		f     store.AlertFilter
		empty bool // lists nothing
	}{
		{"filter=none", store.AlertFilter{}, false},
		{"state=acked", store.AlertFilter{State: store.StateAcked}, false},
		{"state=new", store.AlertFilter{State: store.StateNew}, false},
		{"rule", store.AlertFilter{Rule: benchRule(7)}, false},
		{"severity=critical", store.AlertFilter{Severity: "critical"}, false},
		{"account", store.AlertFilter{Account: benchAccount(1)}, false},
		{"account=unknown", store.AlertFilter{Account: "999999999999"}, true},
		{"rule+account", store.AlertFilter{Rule: benchRule(7), Account: benchAccount(1)}, false},
		{"state=new+severity=critical", store.AlertFilter{State: store.StateNew, Severity: "critical"}, false},
		{"page=half", store.AlertFilter{After: half}, false},
		{"page=half+account", store.AlertFilter{Account: benchAccount(1), After: half}, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := bc.f
			f.Limit = 500
			n := 0
			for b.Loop() {
				as, err := s.Alerts(b.Context(), f)
				if err != nil {
					b.Fatal(err)
				}
				if n = len(as); (n == 0) != bc.empty {
					b.Fatalf("%d alerts listed", n)
				}
			}
			b.ReportMetric(float64(n), "rows")
		})
	}
}

func benchRule(i int) string    { return fmt.Sprintf("rule-%02d", i%20) }
func benchAccount(i int) string { return fmt.Sprintf("1111222233%02d", i%50) }

func benchSeverity(i int) string {
	switch p := i * 37 % 100; {
	case p < 1:
		return "critical"
	case p < 10:
		return "high"
	case p < 40:
		return "medium"
	case p < 70:
		return "low"
	default:
		return "info"
	}
}

// SeedBenchAlerts gives s (an empty database, reading clk)
// BenchAlertsTotal alerts of one delivery each: 20 rules, 5 severities
// from 1% critical to 30% info, 50 accounts, 1% acknowledged; 100 alerts
// a batch share a first_seen, the clock a second on between batches.
func SeedBenchAlerts(b *testing.B, s store.Store, clk *clock.Fake) {
	b.Helper()
	n := BenchAlertsTotal
	ev := []byte(`{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"111122223333","time":"2026-03-01T12:00:00Z","region":"us-east-1","resources":[],"detail":{"eventName":"CreateAccessKey","userIdentity":{"type":"IAMUser","userName":"alice"}}}`)
	batch := make([]store.Seen, 0, 100)
	var acks []string
	for i := range n {
		id := fmt.Sprintf("bench-%d", i)
		rule := benchRule(i)
		a := alert.Alert{Rule: rule, Severity: benchSeverity(i), EventID: id, EventName: "CreateAccessKey",
			Account: benchAccount(i * 13), Region: "us-east-1", Principal: "alice", Summary: "alice created an access key", Event: ev}
		batch = append(batch, store.Seen{EventKey: id, EventTime: clk.Now(), Hits: []store.Hit{{Rule: rule, DedupKey: id, Threshold: 1,
			Alert: a, Deliveries: []store.Delivery{{Receiver: "slack"}}}}})
		if i%100 == 50 {
			acks = append(acks, store.AlertID(rule, id, time.Time{}, false))
		}
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := s.Record(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
			clk.Advance(time.Second)
		}
	}
	for _, id := range acks {
		if err := s.Ack(b.Context(), id, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
