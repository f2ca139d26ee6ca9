package storetest

import (
	"fmt"
	"strings"
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
// newest first, with a filter.
func BenchAlerts(b *testing.B, s store.Store) {
	for _, bc := range []struct {
		name string
		f    store.AlertFilter
		// keep filters in Go what the store does not (the web UI did so).
		keep func(store.AlertRow) bool
	}{
		{name: "filter=none"},
		{name: "state=acked", f: store.AlertFilter{State: store.StateAcked}},
		{name: "rule", f: store.AlertFilter{Rule: benchRule(7)}},
		{name: "severity=critical", keep: func(a store.AlertRow) bool { return strings.EqualFold(a.Severity, "critical") }},
		{name: "account", keep: func(a store.AlertRow) bool { return a.Alert.Account == benchAccount(1) }},
		{name: "rule+account", f: store.AlertFilter{Rule: benchRule(7)}, keep: func(a store.AlertRow) bool { return a.Alert.Account == benchAccount(1) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := bc.f
			if bc.keep == nil {
				f.Limit = 500
			}
			n := 0
			for b.Loop() {
				as, err := s.Alerts(b.Context(), f)
				if err != nil {
					b.Fatal(err)
				}
				n = 0
				for _, a := range as {
					if bc.keep == nil || bc.keep(a) {
						n++
						if n == 500 {
							break
						}
					}
				}
				if n == 0 {
					b.Fatal("no alert listed")
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
