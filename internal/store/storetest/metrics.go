package storetest

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
)

// Fixtures of the metrics and alarms cases.

const (
	ns     = "CloudTrailMetrics"
	logins = "ConsoleLoginCount"
)

func dp(metric string, at time.Time, v float64, key string) alarm.Datapoint {
	return alarm.Datapoint{Namespace: ns, Metric: metric, Time: at, Value: v, EventKey: key}
}

func seenDP(eventID string, dps ...alarm.Datapoint) store.Seen {
	s := seen(eventID)
	s.Datapoints = dps
	return s
}

func loadDatapoints(t *testing.T, s store.Store, since time.Time, metrics ...string) []alarm.Bucket {
	t.Helper()
	bs, err := s.Datapoints(ctxT(t), metrics, since)
	if err != nil {
		t.Fatalf("Datapoints: %v", err)
	}
	return bs
}

func metricKey(metric string) string { return alarm.MetricKey(ns, metric, nil) }

// Tests.

func testDatapointsWithTheEvent(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	at := Epoch.Add(3 * time.Second)
	got := record(t, s,
		seenDP("e1", dp(logins, at, 1, "e1")),
		seenDP("e2", dp(logins, at.Add(time.Second), 1, "e2")),
		seenDP("e1", dp(logins, at, 1, "e1")), // redelivered in the batch
	)
	if want := (store.RecordResult{Events: 2, Duplicates: 1, Datapoints: 2}); got != want {
		t.Errorf("Record = %+v, want %+v", got, want)
	}
	// Redelivered later, through another handle: skipped whole, its
	// datapoint too.
	clk.Advance(time.Minute)
	if got := record(t, open(), seenDP("e2", dp(logins, at, 1, "e2"))); got != (store.RecordResult{Duplicates: 1}) {
		t.Errorf("redelivered Record = %+v", got)
	}
	bs := loadDatapoints(t, s, Epoch, metricKey(logins))
	if len(bs) != 1 {
		t.Fatalf("%d buckets, want 1: %+v", len(bs), bs)
	}
	b := bs[0]
	if b.Count != 2 || b.Sum != 2 || b.Namespace != ns || b.Metric != logins || !b.Start.Equal(Epoch) ||
		!reflect.DeepEqual(b.Values, []alarm.ValueCount{{Value: 1, Count: 2}}) ||
		!reflect.DeepEqual(b.Events, []alarm.EventValue{{Key: "e1", Value: 1}, {Key: "e2", Value: 1}}) {
		t.Errorf("bucket = %+v", b)
	}
	// A failed batch leaves no datapoint.
	bad := seenDP("e3", dp(logins, at, math.NaN(), "e3"))
	if _, err := s.Record(ctxT(t), []store.Seen{seenDP("e4", dp(logins, at, 1, "e4")), bad}); err == nil {
		t.Error("a NaN datapoint was recorded")
	}
	if bs := loadDatapoints(t, s, Epoch, metricKey(logins)); len(bs) != 1 || bs[0].Count != 2 {
		t.Errorf("after a failed Record: %+v", bs)
	}
}

func testBucketSums(t *testing.T, clk *clock.Fake, open func() store.Store) {
	a, b := open(), open()
	dims := map[string]string{"User": "alice", "Region": "us-east-1"}
	var direct []alarm.Datapoint
	// 150 events in one bucket, in three batches through two handles;
	// values 0..4 in bytes, a default 0 without a key in another unit.
	for batch := range 3 {
		var seens []store.Seen
		for i := range 50 {
			n := batch*50 + i
			id := fmt.Sprintf("e%03d", n)
			d := alarm.Datapoint{Namespace: ns, Metric: "Bytes", Dimensions: dims, Time: Epoch.Add(time.Duration(n%10) * time.Second),
				Value: float64(n % 5), Unit: "Bytes", EventKey: id}
			z := alarm.Datapoint{Namespace: ns, Metric: "Bytes", Dimensions: dims, Time: d.Time, Value: 0, Unit: "Count"}
			direct = append(direct, d, z)
			seens = append(seens, seenDP(id, d, z))
		}
		s := a
		if batch == 1 {
			s = b
		}
		if got := record(t, s, seens...); got.Datapoints != 100 {
			t.Fatalf("batch %d: %+v", batch, got)
		}
	}
	key := alarm.MetricKey(ns, "Bytes", dims)
	bs := loadDatapoints(t, b, Epoch, key)
	if len(bs) != 2 {
		t.Fatalf("%d buckets, want one per unit: %+v", len(bs), bs)
	}
	var bytes, count alarm.Bucket
	for _, x := range bs {
		if x.Unit == "Bytes" {
			bytes = x
		} else {
			count = x
		}
	}
	if bytes.Count != 150 || bytes.Sum != 300 || bytes.Min != 0 || bytes.Max != 4 || !reflect.DeepEqual(bytes.Dimensions, dims) {
		t.Errorf("Bytes bucket: count %d sum %v min %v max %v dims %v", bytes.Count, bytes.Sum, bytes.Min, bytes.Max, bytes.Dimensions)
	}
	var n int64
	for _, v := range bytes.Values {
		n += v.Count
		if v.Count != 30 {
			t.Errorf("value %v counted %d, want 30", v.Value, v.Count)
		}
	}
	if n != 150 || len(bytes.Values) != 5 {
		t.Errorf("values = %+v", bytes.Values)
	}
	if len(bytes.Events) != store.KeysPerBucket || bytes.Events[0].Key != "e000" || bytes.Events[store.KeysPerBucket-1].Key != fmt.Sprintf("e%03d", store.KeysPerBucket-1) {
		t.Errorf("%d event keys (want the first %d): first %+v", len(bytes.Events), store.KeysPerBucket, bytes.Events[:1])
	}
	if count.Count != 150 || count.Sum != 0 || len(count.Events) != 0 || !reflect.DeepEqual(count.Values, []alarm.ValueCount{{Value: 0, Count: 150}}) {
		t.Errorf("Count bucket = %+v", count)
	}
	// A Series rebuilt from the store answers as one fed directly.
	want, got := alarm.NewSeries(0), alarm.NewSeries(0)
	for _, d := range direct {
		if err := want.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	got.Replace(Epoch, bs)
	for _, unit := range []string{"", "Bytes", "Count"} {
		w := want.Aggregate(key, unit, Epoch, Epoch.Add(time.Minute), alarm.WithValues|alarm.WithKeys)
		g := got.Aggregate(key, unit, Epoch, Epoch.Add(time.Minute), alarm.WithValues|alarm.WithKeys)
		if g.SampleCount != w.SampleCount || g.Sum != w.Sum || g.Minimum != w.Minimum || g.Maximum != w.Maximum ||
			alarm.Percentile(g.Values, 90) != alarm.Percentile(w.Values, 90) || len(g.Keys) != len(w.Keys) {
			t.Errorf("unit %q: rebuilt %+v, direct %+v", unit, g, w)
		}
	}
	// Replacing again (the next evaluation's reload) does not add up.
	got.Replace(Epoch, bs)
	if n := got.Len(); n != 300 {
		t.Errorf("after a second Replace: %d datapoints, want 300", n)
	}
}

func testDatapointsSince(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	for i := range 6 {
		id := fmt.Sprint("e", i)
		record(t, s, seenDP(id, dp(logins, Epoch.Add(time.Duration(i)*10*time.Second), 1, id), dp("Other", Epoch, 1, id)))
	}
	bs := loadDatapoints(t, s, Epoch.Add(25*time.Second), metricKey(logins))
	if len(bs) != 3 || !bs[0].Start.Equal(Epoch.Add(30*time.Second)) || !bs[2].Start.Equal(Epoch.Add(50*time.Second)) {
		t.Errorf("since +25s: %+v", bs)
	}
	if bs := loadDatapoints(t, s, Epoch.Add(30*time.Second), metricKey(logins)); len(bs) != 3 {
		t.Errorf("since +30s: %d buckets, want 3", len(bs))
	}
	if bs := loadDatapoints(t, s, Epoch, metricKey(logins), metricKey("Other")); len(bs) != 7 {
		t.Errorf("two metrics: %d buckets, want 7", len(bs))
	}
	if bs := loadDatapoints(t, s, Epoch); len(bs) != 0 {
		t.Errorf("no metric: %+v", bs)
	}
}

func testPruneDatapoints(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	record(t, s, seenDP("old", dp(logins, Epoch, 1, "old")), seenDP("new", dp(logins, Epoch.Add(time.Hour), 1, "new")))
	n, err := s.PruneDatapoints(ctxT(t), Epoch.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("PruneDatapoints = %d, %v", n, err)
	}
	bs := loadDatapoints(t, s, Epoch.Add(-time.Hour), metricKey(logins))
	if len(bs) != 1 || bs[0].Events[0].Key != "new" || len(bs[0].Values) != 1 {
		t.Errorf("after prune: %+v", bs)
	}
	// The bucket refills from scratch (with a key of any characters).
	const odd = "la\"te,]\n\\ é"
	record(t, s, seenDP(odd, dp(logins, Epoch, 5.25, odd)))
	if bs := loadDatapoints(t, s, Epoch, metricKey(logins)); len(bs) != 2 || bs[0].Count != 1 || bs[0].Sum != 5.25 ||
		!reflect.DeepEqual(bs[0].Events, []alarm.EventValue{{Key: odd, Value: 5.25}}) {
		t.Errorf("refilled: %+v", bs)
	}
}

func testEventBriefs(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	e1 := seenDP("e1", dp(logins, Epoch, 1, "e1"))
	e1.Brief = []byte(`{"principal":"alice"}`)
	record(t, s, e1, seen("e2"))
	got, err := open().EventBriefs(ctxT(t), []string{"e1", "e2", "e3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got["e1"]) != `{"principal":"alice"}` {
		t.Errorf("EventBriefs = %q", got)
	}
}

func alarmHit(name string, at time.Time, receivers ...string) store.Seen {
	key := "alarm:" + name + ":" + at.Format(time.RFC3339Nano)
	return seen(key, hit("alarm:"+name, key, receivers...))
}

func testAlarmSnapshots(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	if snaps, err := s.AlarmSnapshots(ctxT(t)); err != nil || len(snaps) != 0 {
		t.Fatalf("AlarmSnapshots on an empty store = %+v, %v", snaps, err)
	}
	alarming := store.AlarmSnapshot{Name: "ConsoleLogin", Snapshot: alarm.Snapshot{State: alarm.Alarming,
		Reason:     "Threshold Crossed: 1 datapoint [1.0 (01/03/26 11:59:50)] was greater than or equal to the threshold (1.0).",
		ReasonData: []byte(`{"version":"1.0"}`), Updated: Epoch.Add(-10 * time.Second), ActionsEnabled: true}}
	quiet := store.AlarmSnapshot{Name: "RootUsage", Snapshot: alarm.Snapshot{State: alarm.InsufficientData,
		Reason: alarm.InitialReason, Updated: Epoch.Add(-time.Hour)}}
	res, err := s.SaveAlarms(ctxT(t), []store.AlarmSnapshot{alarming, quiet}, []store.Seen{alarmHit("ConsoleLogin", Epoch, "mail")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Queued != 1 || res.Alerts != 1 {
		t.Errorf("SaveAlarms = %+v", res)
	}
	snaps, err := open().AlarmSnapshots(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 || !snapEqual(snaps[0], alarming) || !snapEqual(snaps[1], quiet) {
		t.Errorf("snapshots = %+v", snaps)
	}
	ds := claim(t, s, "w", 10, time.Minute)
	if len(ds) != 1 || ds[0].Notification.Alert.Rule != "alarm:ConsoleLogin" {
		t.Fatalf("claimed = %+v", ds)
	}
	if err := s.Complete(ctxT(t), ds[0].ID, ds[0].Token); err != nil {
		t.Fatal(err)
	}
	// Actions disabled by a schedule: a snapshot without deliveries
	// replaces the saved one.
	off := alarming
	off.ActionsEnabled = false
	if _, err := s.SaveAlarms(ctxT(t), []store.AlarmSnapshot{off}, nil); err != nil {
		t.Fatal(err)
	}
	// A transition whose deliveries cannot be stored leaves the state
	// saved before: one transaction.
	ok := store.AlarmSnapshot{Name: "ConsoleLogin", Snapshot: alarm.Snapshot{State: alarm.OK, Reason: "back", Updated: Epoch}}
	bad := alarmHit("ConsoleLogin", Epoch, "mail")
	bad.EventKey = "alarm:ConsoleLogin:bad"
	bad.Hits[0].Alert.Event = []byte("{not json")
	if _, err := s.SaveAlarms(ctxT(t), []store.AlarmSnapshot{ok}, []store.Seen{bad}); err == nil {
		t.Fatal("SaveAlarms with a bad alert succeeded")
	}
	if _, err := s.SaveAlarms(ctxT(t), []store.AlarmSnapshot{{Name: "x", Snapshot: alarm.Snapshot{State: "BOGUS"}}}, nil); err == nil {
		t.Error("an invalid state was saved")
	}
	snaps, _ = s.AlarmSnapshots(ctxT(t))
	if len(snaps) != 2 || !snapEqual(snaps[0], off) {
		t.Errorf("after a failed save: %+v", snaps)
	}
	if _, ok := nextDue(t, s); ok {
		t.Error("the failed save queued a delivery")
	}
}

func snapEqual(a, b store.AlarmSnapshot) bool {
	return a.Name == b.Name && a.State == b.State && a.Reason == b.Reason && string(a.ReasonData) == string(b.ReasonData) &&
		a.Updated.Equal(b.Updated) && a.ActionsEnabled == b.ActionsEnabled
}

func testNotBefore(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	h := hit("root", "e1", "mail", "slack")
	h.Deliveries[0].NotBefore = Epoch.Add(time.Hour)  // deferred to the window's opening
	h.Deliveries[1].NotBefore = Epoch.Add(-time.Hour) // in the past: now
	record(t, s, seen("e1", h))
	got := claim(t, s, "w", 10, time.Minute)
	if len(got) != 1 || got[0].Receiver != "slack" {
		t.Fatalf("claimed now = %+v", got)
	}
	if err := s.Complete(ctxT(t), got[0].ID, got[0].Token); err != nil {
		t.Fatal(err)
	}
	if at, ok := nextDue(t, s); !ok || !at.Equal(Epoch.Add(time.Hour)) {
		t.Errorf("NextDue = %v %v, want the deferred delivery's time", at, ok)
	}
	clk.Advance(time.Hour - time.Second)
	if got := claim(t, open(), "w", 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed before NotBefore: %+v", got)
	}
	clk.Advance(time.Second)
	got = claim(t, s, "w", 10, time.Minute)
	if len(got) != 1 || got[0].Receiver != "mail" || !got[0].QueuedAt.Equal(Epoch) || !got[0].Notification.Queued.Equal(Epoch) {
		t.Errorf("claimed at NotBefore = %+v", got)
	}
}
