// Package storetest is the conformance suite every store.Store passes:
// run it from the implementation's tests with Run.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
)

// Opener makes a fresh, empty database for one test and returns a func
// that opens a handle on it; every call opens another handle on the same
// database (as another process would), each reading clk. The opener
// closes the handles when the test ends.
type Opener func(t *testing.T, clk clock.Clock) (open func() store.Store)

// Epoch is the fake clock's start in the suite.
var Epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Run runs the conformance suite against the implementation newStore opens.
func Run(t *testing.T, newStore Opener) {
	tests := []struct {
		name string
		f    func(t *testing.T, clk *clock.Fake, open func() store.Store)
	}{
		{"RecordIdempotent", testRecordIdempotent},
		{"RecordEventWithoutHits", testRecordEventWithoutHits},
		{"RecordRejectsEmptyKey", testRecordRejectsEmptyKey},
		{"EachHitItsOwnAlertWithoutDedup", testNoDedup},
		{"DedupFoldsUntilThresholdWithinPeriod", testDedup},
		{"Ack", testAck},
		{"Listing", testListing},
		{"AlertFilters", testAlertFilters},
		{"AlertPaging", testAlertPaging},
		{"ClaimAndLeaseAcrossHandles", testClaimLease},
		{"ConcurrentClaimsClaimOnce", testConcurrentClaims},
		{"RetryDeadLetterRequeue", testRetryDeadLetter},
		{"Reminders", testReminders},
		{"AckCancelsReminders", testAckCancelsReminders},
		{"ConcurrentRecord", testConcurrentRecord},
		{"FailedRecordFailsOnlyItself", testFailedRecordIsolated},
		{"PruneEvents", testPruneEvents},
		{"DatapointsRecordedWithTheEvent", testDatapointsWithTheEvent},
		{"DatapointsSumPerBucket", testBucketSums},
		{"DatapointsSince", testDatapointsSince},
		{"PruneDatapoints", testPruneDatapoints},
		{"EventBriefs", testEventBriefs},
		{"AlarmSnapshotsWithTheirDeliveries", testAlarmSnapshots},
		{"NotBeforeDefersClaim", testNotBefore},
		{"DigestRoundTrip", testDigestRoundTrip},
		{"DigestClaimedTogether", testDigestClaimedTogether},
		{"CheckpointRoundTrip", testCheckpointRoundTrip},
		{"CheckpointConcurrent", testCheckpointConcurrent},
		{"InitCheckpoint", testInitCheckpoint},
		{"AttemptLogRetriedThenDelivered", testAttemptLogRetriedThenDelivered},
		{"AttemptLogDeadLettered", testAttemptLogDeadLettered},
		{"AttemptLogStaleToken", testAttemptLogStaleToken},
		{"AttemptLogDigestLeaseExpired", testAttemptLogDigestLeaseExpired},
		{"AttemptLogBound", testAttemptLogBound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewFake(Epoch)
			tc.f(t, clk, newStore(t, clk))
		})
	}
}

// Fixtures.

func ctxT(t *testing.T) context.Context { return t.Context() }

func mkAlert(rule, eventID string) alert.Alert {
	return alert.Alert{
		Rule: rule, Severity: "high", EventID: eventID, EventName: "ConsoleLogin",
		Account: "111122223333", Region: "us-east-1", Principal: "root", Summary: "root signed in",
		Event: []byte(`{"id":"` + eventID + `"}`),
	}
}

func hit(rule, eventID string, receivers ...string) store.Hit {
	h := store.Hit{Rule: rule, DedupKey: eventID, Threshold: 1, Alert: mkAlert(rule, eventID)}
	for _, r := range receivers {
		h.Deliveries = append(h.Deliveries, store.Delivery{Receiver: r, RuleARN: "arn:aws:events:us-east-1:111122223333:rule/" + rule})
	}
	return h
}

func seen(eventID string, hits ...store.Hit) store.Seen {
	return store.Seen{EventKey: eventID, EventTime: Epoch.Add(-time.Minute), Hits: hits}
}

func record(t *testing.T, s store.Store, batch ...store.Seen) store.RecordResult {
	t.Helper()
	r, err := s.Record(ctxT(t), batch)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return r
}

func alerts(t *testing.T, s store.Store, f store.AlertFilter) []store.AlertRow {
	t.Helper()
	as, err := s.Alerts(ctxT(t), f)
	if err != nil {
		t.Fatalf("Alerts: %v", err)
	}
	return as
}

func claim(t *testing.T, s store.Store, owner string, n int, lease time.Duration) []store.DeliveryRow {
	t.Helper()
	ds, err := s.Claim(ctxT(t), owner, n, lease)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return ds
}

func nextDue(t *testing.T, s store.Store) (time.Time, bool) {
	t.Helper()
	at, ok, err := s.NextDue(ctxT(t))
	if err != nil {
		t.Fatalf("NextDue: %v", err)
	}
	return at, ok
}

func getAlert(t *testing.T, s store.Store, id string) store.AlertRow {
	t.Helper()
	a, err := s.Alert(ctxT(t), id)
	if err != nil {
		t.Fatalf("Alert(%s): %v", id, err)
	}
	return a
}

// Tests.

func testRecordIdempotent(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	got := record(t, s, seen("e1", hit("root", "e1", "slack", "mail")), seen("e1", hit("root", "e1", "slack", "mail")))
	want := store.RecordResult{Events: 1, Duplicates: 1, Alerts: 1, Fired: 1, Queued: 2}
	if got != want {
		t.Errorf("first Record = %+v, want %+v", got, want)
	}
	clk.Advance(time.Hour)
	// Redelivery, from another source, through another handle.
	s2 := open()
	got = record(t, s2, seen("e1", hit("root", "e1", "slack", "mail")))
	if want := (store.RecordResult{Duplicates: 1}); got != want {
		t.Errorf("redelivered Record = %+v, want %+v", got, want)
	}
	as := alerts(t, s, store.AlertFilter{})
	if len(as) != 1 {
		t.Fatalf("%d alerts, want 1", len(as))
	}
	a := as[0]
	if a.ID != store.AlertID("root", "e1", time.Time{}, false) {
		t.Errorf("ID = %q, want the derived id", a.ID)
	}
	if a.Count != 1 || a.State != store.StateNew || a.Rule != "root" || a.Severity != "high" || a.DedupKey != "e1" {
		t.Errorf("alert = %+v", a)
	}
	if a.Alert.EventID != "e1" || a.Alert.Summary != "root signed in" || string(a.Alert.Event) != `{"id":"e1"}` {
		t.Errorf("stored alert = %+v", a.Alert)
	}
	if !a.FirstSeen.Equal(Epoch) || !a.FirstEvent.Equal(Epoch.Add(-time.Minute)) || !a.FiredAt.Equal(Epoch) {
		t.Errorf("times: first seen %v, first event %v, fired %v", a.FirstSeen, a.FirstEvent, a.FiredAt)
	}
	if len(a.Deliveries) != 2 {
		t.Fatalf("%d deliveries, want 2", len(a.Deliveries))
	}
	for _, d := range a.Deliveries {
		if d.State != store.DeliveryPending || d.Attempts != 0 || !d.QueuedAt.Equal(Epoch) || !d.DueAt.Equal(Epoch) {
			t.Errorf("delivery = %+v", d)
		}
	}
	if a.Deliveries[0].ID == a.Deliveries[1].ID {
		t.Error("two deliveries share an id")
	}
}

func testRecordEventWithoutHits(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	if got := record(t, s, seen("quiet")); got != (store.RecordResult{Events: 1}) {
		t.Errorf("Record = %+v", got)
	}
	// Seen, so a later delivery with hits (say, after a rule reload) is skipped.
	if got := record(t, s, seen("quiet", hit("root", "quiet", "slack"))); got != (store.RecordResult{Duplicates: 1}) {
		t.Errorf("Record again = %+v", got)
	}
	if as := alerts(t, s, store.AlertFilter{}); len(as) != 0 {
		t.Errorf("%d alerts, want none", len(as))
	}
	if _, ok := nextDue(t, s); ok {
		t.Error("a delivery is due")
	}
}

func testRecordRejectsEmptyKey(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	_, err := s.Record(ctxT(t), []store.Seen{seen("ok", hit("root", "ok", "slack")), {Hits: []store.Hit{hit("root", "", "slack")}}})
	if !errors.Is(err, store.ErrNoEventKey) {
		t.Fatalf("Record = %v, want ErrNoEventKey", err)
	}
	// Nothing of the batch was written.
	if got := record(t, s, seen("ok")); got.Events != 1 {
		t.Errorf("the valid event of the failed batch was recorded: %+v", got)
	}
}

func testNoDedup(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	h1, h2 := hit("root", "e1", "slack"), hit("root", "e2", "slack")
	h1.Threshold, h2.Threshold = 5, 5 // ignored without a period
	got := record(t, s, seen("e1", h1), seen("e2", h2))
	if want := (store.RecordResult{Events: 2, Alerts: 2, Fired: 2, Queued: 2}); got != want {
		t.Errorf("Record = %+v, want %+v", got, want)
	}
	if as := alerts(t, s, store.AlertFilter{}); len(as) != 2 || as[0].ID == as[1].ID {
		t.Errorf("alerts = %+v", as)
	}
}

func dedupHit(eventID string) store.Hit {
	h := hit("brute", "alice@198.51.100.1", "slack")
	h.Alert = mkAlert("brute", eventID)
	h.DedupPeriod = time.Hour
	h.Threshold = 3
	return h
}

func testDedup(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	got := record(t, s, seen("e1", dedupHit("e1")), seen("e2", dedupHit("e2")))
	if want := (store.RecordResult{Events: 2, Alerts: 1, Folded: 1}); got != want {
		t.Errorf("Record below threshold = %+v, want %+v", got, want)
	}
	if as := alerts(t, s, store.AlertFilter{}); len(as) != 0 {
		t.Errorf("a pending alert is listed by default: %+v", as)
	}
	pending := alerts(t, s, store.AlertFilter{State: store.StatePending})
	if len(pending) != 1 || pending[0].Count != 2 || !pending[0].FiredAt.IsZero() || len(pending[0].Deliveries) != 0 {
		t.Fatalf("pending = %+v", pending)
	}
	if _, ok := nextDue(t, s); ok {
		t.Error("a delivery is due below the threshold")
	}
	clk.Advance(30 * time.Minute)
	got = record(t, s, seen("e3", dedupHit("e3")))
	if want := (store.RecordResult{Events: 1, Folded: 1, Fired: 1, Queued: 1}); got != want {
		t.Errorf("Record reaching threshold = %+v, want %+v", got, want)
	}
	clk.Advance(29 * time.Minute)
	got = record(t, s, seen("e4", dedupHit("e4")))
	if want := (store.RecordResult{Events: 1, Folded: 1}); got != want {
		t.Errorf("Record above threshold = %+v, want %+v", got, want)
	}
	a := getAlert(t, s, pending[0].ID)
	if a.Count != 4 || a.State != store.StateNew || a.Alert.EventID != "e1" || len(a.Deliveries) != 1 {
		t.Errorf("folded alert = %+v", a)
	}
	if !a.FirstSeen.Equal(Epoch) || !a.LastSeen.Equal(Epoch.Add(59*time.Minute)) || !a.FiredAt.Equal(Epoch.Add(30*time.Minute)) {
		t.Errorf("times: first %v last %v fired %v", a.FirstSeen, a.LastSeen, a.FiredAt)
	}
	ds := claim(t, s, "w", 10, time.Minute)
	if len(ds) != 1 || ds[0].Notification.Count != 3 || ds[0].Notification.Alert.EventID != "e1" {
		t.Fatalf("claimed = %+v", ds)
	}
	// The period ends an hour after the first event: a new window.
	clk.Advance(time.Minute)
	got = record(t, s, seen("e5", dedupHit("e5")))
	if want := (store.RecordResult{Events: 1, Alerts: 1}); got != want {
		t.Errorf("Record after the period = %+v, want %+v", got, want)
	}
	pending = alerts(t, s, store.AlertFilter{State: store.StatePending})
	if len(pending) != 1 || pending[0].ID == a.ID || pending[0].Count != 1 {
		t.Errorf("new window = %+v", pending)
	}
	// Another key folds apart.
	other := dedupHit("e6")
	other.DedupKey = "bob@203.0.113.9"
	if got := record(t, s, seen("e6", other)); got.Alerts != 1 {
		t.Errorf("another key folded in: %+v", got)
	}
}

func testAck(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	record(t, s, seen("e1", hit("root", "e1", "slack")))
	id := store.AlertID("root", "e1", time.Time{}, false)
	if err := s.Ack(ctxT(t), "nope", "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Ack unknown = %v, want ErrNotFound", err)
	}
	if _, err := s.Alert(ctxT(t), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Alert unknown = %v, want ErrNotFound", err)
	}
	clk.Advance(time.Minute)
	if err := s.Ack(ctxT(t), id, "alice"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if err := open().Ack(ctxT(t), id, "bob"); err != nil {
		t.Fatalf("second Ack: %v", err)
	}
	a := getAlert(t, s, id)
	if a.State != store.StateAcked || a.AckedBy != "alice" || !a.AckedAt.Equal(Epoch.Add(time.Minute)) {
		t.Errorf("acked alert: state %q by %q at %v", a.State, a.AckedBy, a.AckedAt)
	}
	// The first notification is still delivered: acknowledging stops reminders only.
	if ds := claim(t, s, "w", 10, time.Minute); len(ds) != 1 {
		t.Errorf("claimed %d after ack, want 1", len(ds))
	}
}

func testListing(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	for i := range 5 {
		rule := "root"
		if i%2 == 1 {
			rule = "iam"
		}
		id := fmt.Sprintf("e%d", i)
		record(t, s, seen(id, hit(rule, id, "slack")))
		clk.Advance(time.Minute)
	}
	as := alerts(t, s, store.AlertFilter{})
	if len(as) != 5 {
		t.Fatalf("%d alerts, want 5", len(as))
	}
	for i, a := range as {
		if want := fmt.Sprintf("e%d", 4-i); a.DedupKey != want {
			t.Errorf("alert %d is %s, want %s (newest first)", i, a.DedupKey, want)
		}
	}
	if got := alerts(t, s, store.AlertFilter{Rule: "iam"}); len(got) != 2 || got[0].DedupKey != "e3" {
		t.Errorf("Rule filter: %+v", got)
	}
	if got := alerts(t, s, store.AlertFilter{Limit: 2}); len(got) != 2 || got[1].DedupKey != "e3" {
		t.Errorf("Limit: %+v", got)
	}
	if got := alerts(t, s, store.AlertFilter{Since: Epoch.Add(3 * time.Minute)}); len(got) != 2 {
		t.Errorf("Since: %d alerts, want 2", len(got))
	}
	if err := s.Ack(ctxT(t), as[0].ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := alerts(t, s, store.AlertFilter{State: store.StateAcked}); len(got) != 1 || got[0].ID != as[0].ID {
		t.Errorf("State acked: %+v", got)
	}
	if got := alerts(t, s, store.AlertFilter{State: store.StateNew}); len(got) != 4 {
		t.Errorf("State new: %d, want 4", len(got))
	}
	if _, err := s.Alerts(ctxT(t), store.AlertFilter{State: "bogus"}); err == nil {
		t.Error("unknown state accepted")
	}
}

func testClaimLease(t *testing.T, clk *clock.Fake, open func() store.Store) {
	a, b := open(), open()
	record(t, a, seen("e1", hit("root", "e1", "slack")), seen("e2", hit("root", "e2", "slack")))
	got := claim(t, a, "a", 1, 5*time.Minute)
	if len(got) != 1 {
		t.Fatalf("claimed %d, want 1", len(got))
	}
	d := got[0]
	n := d.Notification
	if d.State != store.DeliveryRunning || d.Attempts != 1 || d.Token == "" || !d.DueAt.Equal(Epoch.Add(5*time.Minute)) {
		t.Errorf("claimed row = %+v", d)
	}
	if n.ID != d.ID || n.Key != d.ID || n.Thread != d.ID || n.AlertID != d.AlertID || n.Receiver != "slack" || n.Count != 1 || n.Reminder != 0 ||
		!n.Queued.Equal(Epoch) || n.RuleARN == "" || n.Alert.Rule != "root" {
		t.Errorf("notification = %+v", n)
	}
	// The other handle gets the other one only.
	other := claim(t, b, "b", 10, 5*time.Minute)
	if len(other) != 1 || other[0].ID == d.ID {
		t.Fatalf("b claimed %+v", other)
	}
	if err := b.Complete(ctxT(t), other[0].ID, other[0].Token); err != nil {
		t.Fatal(err)
	}
	if at, ok := nextDue(t, b); !ok || !at.Equal(Epoch.Add(5*time.Minute)) {
		t.Errorf("NextDue = %v %v, want the lease end", at, ok)
	}
	// a dies; its lease ends; b re-claims.
	clk.Advance(4 * time.Minute)
	if got := claim(t, b, "b", 10, 5*time.Minute); len(got) != 0 {
		t.Fatalf("claimed within the lease: %+v", got)
	}
	clk.Advance(time.Minute)
	re := claim(t, b, "b", 10, 5*time.Minute)
	if len(re) != 1 || re[0].ID != d.ID || re[0].Attempts != 2 || re[0].Token == d.Token || re[0].Notification.Key != n.Key {
		t.Fatalf("re-claimed = %+v", re)
	}
	if err := a.Complete(ctxT(t), d.ID, d.Token); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("stale Complete = %v, want ErrLeaseLost", err)
	}
	if err := a.Retry(ctxT(t), d.ID, d.Token, clk.Now(), "x"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("stale Retry = %v, want ErrLeaseLost", err)
	}
	if err := a.DeadLetter(ctxT(t), d.ID, d.Token, "x"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("stale DeadLetter = %v, want ErrLeaseLost", err)
	}
	if err := b.Complete(ctxT(t), re[0].ID, re[0].Token); err != nil {
		t.Fatal(err)
	}
	if err := b.Complete(ctxT(t), re[0].ID, re[0].Token); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("second Complete = %v, want ErrLeaseLost", err)
	}
	al := getAlert(t, a, d.AlertID)
	if al.State != store.StateNotified || !al.NotifiedAt.Equal(Epoch.Add(5*time.Minute)) {
		t.Errorf("alert after delivery: %q at %v", al.State, al.NotifiedAt)
	}
	if len(al.Deliveries) != 1 || al.Deliveries[0].State != store.DeliveryDone || !al.Deliveries[0].DoneAt.Equal(Epoch.Add(5*time.Minute)) {
		t.Errorf("deliveries = %+v", al.Deliveries)
	}
	if _, ok := nextDue(t, a); ok {
		t.Error("something still due")
	}
}

func testConcurrentClaims(t *testing.T, clk *clock.Fake, open func() store.Store) {
	handles := []store.Store{open(), open()}
	const n = 60
	var batch []store.Seen
	for i := range n {
		id := fmt.Sprintf("e%d", i)
		batch = append(batch, seen(id, hit("root", id, "slack")))
	}
	record(t, handles[0], batch...)
	var (
		mu     sync.Mutex
		counts = map[string]int{}
		wg     sync.WaitGroup
		errs   = make(chan error, 8)
	)
	for w := range 8 {
		s := handles[w%2]
		wg.Go(func() {
			for {
				ds, err := s.Claim(context.Background(), fmt.Sprint("w", w), 3, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if len(ds) == 0 {
					return
				}
				for _, d := range ds {
					mu.Lock()
					counts[d.ID]++
					mu.Unlock()
					if err := s.Complete(context.Background(), d.ID, d.Token); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(counts) != n {
		t.Errorf("%d deliveries claimed, want %d", len(counts), n)
	}
	for id, c := range counts {
		if c != 1 {
			t.Errorf("%s claimed %d times", id, c)
		}
	}
}

func testRetryDeadLetter(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	record(t, s, seen("e1", hit("root", "e1", "slack", "mail")))
	ds := claim(t, s, "w", 10, time.Minute)
	if len(ds) != 2 {
		t.Fatalf("claimed %d, want 2", len(ds))
	}
	retry, dead := ds[0], ds[1]
	if err := s.Retry(ctxT(t), retry.ID, retry.Token, Epoch.Add(10*time.Minute), "slack: 503"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeadLetter(ctxT(t), dead.ID, dead.Token, "mail: 550 no such user"); err != nil {
		t.Fatal(err)
	}
	if at, ok := nextDue(t, s); !ok || !at.Equal(Epoch.Add(10*time.Minute)) {
		t.Errorf("NextDue = %v %v", at, ok)
	}
	clk.Advance(9 * time.Minute)
	if got := claim(t, s, "w", 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed before due: %+v", got)
	}
	dl, err := s.DeadLetters(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(dl) != 1 || dl[0].ID != dead.ID || dl[0].State != store.DeliveryDead || dl[0].LastError != "mail: 550 no such user" ||
		dl[0].Notification.ID != dead.ID || !dl[0].DoneAt.Equal(Epoch) {
		t.Errorf("dead letters = %+v", dl)
	}
	a := getAlert(t, s, dead.AlertID)
	if a.State != store.StateDeadLettered {
		t.Errorf("state = %q, want dead-lettered", a.State)
	}
	for _, d := range a.Deliveries {
		if d.ID == retry.ID && (d.State != store.DeliveryPending || d.LastError != "slack: 503" || d.Attempts != 1) {
			t.Errorf("retried delivery = %+v", d)
		}
	}
	clk.Advance(time.Minute)
	got := claim(t, s, "w", 10, time.Minute)
	if len(got) != 1 || got[0].ID != retry.ID || got[0].Attempts != 2 {
		t.Fatalf("claimed when due: %+v", got)
	}
	if err := s.Complete(ctxT(t), got[0].ID, got[0].Token); err != nil {
		t.Fatal(err)
	}
	// Dead-lettered stays visible even though another receiver succeeded.
	if a := getAlert(t, s, dead.AlertID); a.State != store.StateDeadLettered || a.NotifiedAt.IsZero() {
		t.Errorf("state = %q notified %v", a.State, a.NotifiedAt)
	}
	if err := s.Requeue(ctxT(t), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Requeue unknown = %v", err)
	}
	if err := s.Requeue(ctxT(t), dead.ID); err != nil {
		t.Fatal(err)
	}
	if a := getAlert(t, s, dead.AlertID); a.State != store.StateNotified {
		t.Errorf("state after requeue = %q", a.State)
	}
	if dl, _ := s.DeadLetters(ctxT(t)); len(dl) != 0 {
		t.Errorf("dead letters after requeue: %d", len(dl))
	}
	if got := claim(t, s, "w", 10, time.Minute); len(got) != 1 || got[0].ID != dead.ID || got[0].Attempts != 1 {
		t.Errorf("requeued claim = %+v", got)
	}
}

func remindHit(eventID string, every time.Duration, most int) store.Hit {
	h := hit("root", eventID)
	h.Deliveries = []store.Delivery{{Receiver: "slack", RemindEvery: every, RemindMax: most, Body: []byte(`{"text":"x"}`)}}
	return h
}

func deliverAll(t *testing.T, s store.Store) []store.DeliveryRow {
	t.Helper()
	ds := claim(t, s, "w", 100, time.Minute)
	for _, d := range ds {
		if err := s.Complete(ctxT(t), d.ID, d.Token); err != nil {
			t.Fatal(err)
		}
	}
	return ds
}

func queueReminders(t *testing.T, s store.Store) int {
	t.Helper()
	n, err := s.QueueReminders(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testReminders(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	record(t, s, seen("e1", remindHit("e1", 10*time.Minute, 2)), seen("e2", remindHit("e2", 0, 3)), seen("e3", remindHit("e3", time.Minute, 0)))
	if _, ok, _ := s.NextReminder(ctxT(t)); ok {
		t.Error("a reminder is scheduled before the first notification")
	}
	first := deliverAll(t, s)
	if len(first) != 3 {
		t.Fatalf("delivered %d, want 3", len(first))
	}
	at, ok, err := s.NextReminder(ctxT(t))
	if err != nil || !ok || !at.Equal(Epoch.Add(10*time.Minute)) {
		t.Fatalf("NextReminder = %v %v %v", at, ok, err)
	}
	// The alert's page shows the policy and when the next reminder is due.
	seenE1 := false
	for _, d := range first {
		if d.Notification.Alert.EventID != "e1" {
			continue
		}
		seenE1 = true
		rows := getAlert(t, s, d.AlertID).Deliveries
		if len(rows) != 1 || rows[0].RemindEvery != 10*time.Minute || rows[0].RemindMax != 2 || !rows[0].RemindNext.Equal(Epoch.Add(10*time.Minute)) {
			t.Errorf("reminder policy on the alert: %+v", rows)
		}
	}
	if !seenE1 {
		t.Error("e1's first notification not delivered")
	}
	clk.Advance(9 * time.Minute)
	if n := queueReminders(t, s); n != 0 {
		t.Errorf("queued %d early", n)
	}
	clk.Advance(time.Minute)
	if n := queueReminders(t, s); n != 1 {
		t.Fatalf("queued %d, want 1", n)
	}
	r1 := claim(t, s, "w", 10, time.Minute)
	if len(r1) != 1 {
		t.Fatalf("claimed %d reminders", len(r1))
	}
	n := r1[0].Notification
	var origin string // the first notification's delivery, which reminders thread under
	for _, d := range first {
		if d.AlertID == n.AlertID {
			origin = d.ID
		}
	}
	if n.Reminder != 1 || n.Key == origin || n.Thread != origin || origin == "" || n.ID != r1[0].ID || n.Count != 1 || string(n.Body) != `{"text":"x"}` ||
		!n.Queued.Equal(Epoch.Add(10*time.Minute)) || n.Alert.EventID != "e1" {
		t.Errorf("reminder = %+v", n)
	}
	// While reminder 1 is undelivered, reminder 2 waits its turn.
	clk.Advance(10 * time.Minute)
	if n := queueReminders(t, s); n != 0 {
		t.Errorf("queued %d while the previous reminder is undelivered", n)
	}
	if err := s.Retry(ctxT(t), r1[0].ID, r1[0].Token, clk.Now(), "503"); err != nil {
		t.Fatal(err)
	}
	deliverAll(t, s)
	clk.Advance(10 * time.Minute)
	if n := queueReminders(t, s); n != 1 {
		t.Fatalf("queued %d, want reminder 2", n)
	}
	r2 := deliverAll(t, s)
	if len(r2) != 1 || r2[0].Notification.Reminder != 2 || r2[0].Notification.Thread != origin {
		t.Fatalf("reminder 2 = %+v", r2)
	}
	if a := getAlert(t, s, r2[0].AlertID); a.Reminders != 2 || a.State != store.StateNotified {
		t.Errorf("alert: reminders %d state %q", a.Reminders, a.State)
	}
	// RemindMax reached: no more.
	clk.Advance(time.Hour)
	if n := queueReminders(t, s); n != 0 {
		t.Errorf("queued %d beyond RemindMax", n)
	}
	if _, ok, _ := s.NextReminder(ctxT(t)); ok {
		t.Error("a reminder is still scheduled")
	}
}

func testAckCancelsReminders(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	record(t, s, seen("e1", remindHit("e1", 10*time.Minute, 5)), seen("e2", remindHit("e2", 10*time.Minute, 5)))
	ds := deliverAll(t, s)
	clk.Advance(10 * time.Minute)
	if n := queueReminders(t, s); n != 2 {
		t.Fatalf("queued %d, want 2", n)
	}
	id := ds[0].AlertID
	if err := s.Ack(ctxT(t), id, "alice"); err != nil {
		t.Fatal(err)
	}
	// The acked alert's pending reminder is cancelled; the other's is not.
	got := claim(t, s, "w", 10, time.Minute)
	if len(got) != 1 || got[0].AlertID == id {
		t.Fatalf("claimed after ack: %+v", got)
	}
	a := getAlert(t, s, id)
	var cancelled int
	for _, d := range a.Deliveries {
		if d.State == store.DeliveryCancelled {
			cancelled++
		}
	}
	if cancelled != 1 {
		t.Errorf("cancelled %d, want 1: %+v", cancelled, a.Deliveries)
	}
	for _, d := range a.Deliveries {
		if !d.RemindNext.IsZero() {
			t.Errorf("a reminder still due after the ack: %+v", d)
		}
	}
	if err := s.Complete(ctxT(t), got[0].ID, got[0].Token); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute)
	if n := queueReminders(t, s); n != 1 {
		t.Errorf("queued %d, want 1 (only the unacknowledged alert)", n)
	}
	// A delivery completed after the ack schedules no reminder.
	record(t, s, seen("e3", remindHit("e3", time.Minute, 5)))
	id3 := store.AlertID("root", "e3", time.Time{}, false)
	d3 := claim(t, s, "w", 10, time.Minute)
	if err := s.Ack(ctxT(t), id3, "bob"); err != nil {
		t.Fatal(err)
	}
	for _, d := range d3 {
		if err := s.Complete(ctxT(t), d.ID, d.Token); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Hour)
	for _, d := range claim(t, s, "w", 10, time.Minute) {
		if d.AlertID == id3 {
			t.Errorf("acked alert got a delivery: %+v", d)
		}
	}
	if n := queueReminders(t, s); n != 1 {
		t.Errorf("queued %d, want 1 (e2 only)", n)
	}
}

func testConcurrentRecord(t *testing.T, clk *clock.Fake, open func() store.Store) {
	handles := []store.Store{open(), open()}
	const writers, perWriter = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		s := handles[w%2]
		wg.Go(func() {
			for i := range perWriter {
				// Half the events are seen by two writers (two sources).
				id := fmt.Sprintf("e%d", (w/2)*perWriter+i)
				if _, err := s.Record(context.Background(), []store.Seen{
					seen(id, dedupHit(id), hit("root", id, "slack")),
				}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const unique = writers / 2 * perWriter
	all := alerts(t, handles[0], store.AlertFilter{Rule: "root"})
	if len(all) != unique {
		t.Errorf("%d root alerts, want %d", len(all), unique)
	}
	folded := alerts(t, handles[1], store.AlertFilter{Rule: "brute"})
	if len(folded) != 1 || folded[0].Count != unique || len(folded[0].Deliveries) != 1 {
		t.Errorf("folded alert: %+v", folded)
	}
}

func testPruneEvents(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	record(t, s, seen("old"))
	clk.Advance(48 * time.Hour)
	record(t, s, seen("new"))
	n, err := s.PruneEvents(ctxT(t), clk.Now().Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PruneEvents = %d, %v", n, err)
	}
	if got := record(t, s, seen("old"), seen("new")); got.Events != 1 || got.Duplicates != 1 {
		t.Errorf("after prune: %+v", got)
	}
}

func testFailedRecordIsolated(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	const writers = 12
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			id := fmt.Sprint("e", w)
			h := hit("root", id, "slack")
			if w == 5 {
				h.Alert.Event = []byte("{not json") // cannot be stored
			}
			_, errs[w] = s.Record(context.Background(), []store.Seen{seen(id, h)})
		})
	}
	wg.Wait()
	for w, err := range errs {
		if (err != nil) != (w == 5) {
			t.Errorf("writer %d: %v", w, err)
		}
	}
	// The failed batch left nothing behind: its event is not seen.
	if got := record(t, s, seen("e5", hit("root", "e5", "slack"))); got.Events != 1 || got.Alerts != 1 {
		t.Errorf("after the failure: %+v", got)
	}
	if as := alerts(t, s, store.AlertFilter{}); len(as) != writers {
		t.Errorf("%d alerts, want %d", len(as), writers)
	}
}
