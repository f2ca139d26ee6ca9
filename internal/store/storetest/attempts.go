package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
)

// checkLog compares a delivery's attempt log with want, field by field.
func checkLog(t *testing.T, what string, got, want []store.Attempt) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d attempts logged, want %d: %+v", what, len(got), len(want), got)
		return
	}
	for i, w := range want {
		g := got[i]
		if g.N != w.N || !g.At.Equal(w.At) || g.Outcome != w.Outcome || g.Error != w.Error || !g.NextAt.Equal(w.NextAt) {
			t.Errorf("%s: attempt %d = %+v, want %+v", what, i, g, w)
		}
	}
}

// delivery returns the alert's delivery to receiver (reminder 0).
func delivery(t *testing.T, a store.AlertRow, receiver string) store.DeliveryRow {
	t.Helper()
	for _, d := range a.Deliveries {
		if d.Receiver == receiver && d.Reminder == 0 {
			return d
		}
	}
	t.Fatalf("alert %s has no delivery to %s: %+v", a.ID, receiver, a.Deliveries)
	return store.DeliveryRow{}
}

// A delivery that fails twice, then is delivered, logs three attempts
// with their outcomes, errors and times; a claim still running has no
// entry; Alerts leaves the log out.
func testAttemptLogRetriedThenDelivered(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s, reader := open(), open()
	record(t, s, seen("e1", hit("root", "e1", "slack")))
	id := store.AlertID("root", "e1", time.Time{}, false)
	ds := claim(t, s, "w", 10, time.Minute)
	if len(ds) != 1 {
		t.Fatalf("claimed %d, want 1", len(ds))
	}
	if d := delivery(t, getAlert(t, reader, id), "slack"); len(d.Log) != 0 {
		t.Errorf("a running first attempt is logged: %+v", d.Log)
	}
	clk.Advance(2 * time.Second)
	if err := s.Retry(ctxT(t), ds[0].ID, ds[0].Token, Epoch.Add(30*time.Second), "slack: status 503"); err != nil {
		t.Fatal(err)
	}
	clk.Set(Epoch.Add(30 * time.Second))
	ds = claim(t, s, "w", 10, time.Minute)
	if len(ds) != 1 || ds[0].Attempts != 2 {
		t.Fatalf("second claim = %+v", ds)
	}
	first := store.Attempt{N: 1, At: Epoch.Add(2 * time.Second), Outcome: store.AttemptRetry, Error: "slack: status 503", NextAt: Epoch.Add(30 * time.Second)}
	checkLog(t, "while the second attempt runs", delivery(t, getAlert(t, reader, id), "slack").Log, []store.Attempt{first})
	clk.Advance(time.Second)
	if err := s.Retry(ctxT(t), ds[0].ID, ds[0].Token, Epoch.Add(90*time.Second), "slack: status 500"); err != nil {
		t.Fatal(err)
	}
	clk.Set(Epoch.Add(90 * time.Second))
	ds = claim(t, s, "w", 10, time.Minute)
	if len(ds) != 1 || ds[0].Attempts != 3 {
		t.Fatalf("third claim = %+v", ds)
	}
	clk.Advance(time.Second)
	if err := s.Complete(ctxT(t), ds[0].ID, ds[0].Token); err != nil {
		t.Fatal(err)
	}
	d := delivery(t, getAlert(t, reader, id), "slack")
	if d.Attempts != 3 || d.State != store.DeliveryDone {
		t.Errorf("delivery: %d attempts, state %q", d.Attempts, d.State)
	}
	checkLog(t, "after delivery", d.Log, []store.Attempt{
		first,
		{N: 2, At: Epoch.Add(31 * time.Second), Outcome: store.AttemptRetry, Error: "slack: status 500", NextAt: Epoch.Add(90 * time.Second)},
		{N: 3, At: Epoch.Add(91 * time.Second), Outcome: store.AttemptDelivered},
	})
	for _, a := range alerts(t, reader, store.AlertFilter{}) {
		for _, d := range a.Deliveries {
			if d.Log != nil {
				t.Errorf("Alerts filled a log: %+v", d.Log)
			}
		}
	}
}

// A dead-lettered delivery logs its last attempt with the reason, apart
// from the alert's other delivery; requeued, it keeps its log and counts
// its attempts from 1 again.
func testAttemptLogDeadLettered(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	record(t, s, seen("e1", hit("root", "e1", "slack", "mail")))
	id := store.AlertID("root", "e1", time.Time{}, false)
	ds := claim(t, s, "w", 10, time.Minute)
	if len(ds) != 2 {
		t.Fatalf("claimed %d, want 2", len(ds))
	}
	clk.Advance(time.Second)
	for _, d := range ds {
		var err error
		if d.Receiver == "mail" {
			err = s.DeadLetter(ctxT(t), d.ID, d.Token, "mail: 550 no such user")
		} else {
			err = s.Complete(ctxT(t), d.ID, d.Token)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	a := getAlert(t, open(), id)
	dead := store.Attempt{N: 1, At: Epoch.Add(time.Second), Outcome: store.AttemptDeadLettered, Error: "mail: 550 no such user"}
	checkLog(t, "mail", delivery(t, a, "mail").Log, []store.Attempt{dead})
	checkLog(t, "slack", delivery(t, a, "slack").Log, []store.Attempt{{N: 1, At: Epoch.Add(time.Second), Outcome: store.AttemptDelivered}})

	clk.Set(Epoch.Add(time.Minute))
	if err := s.Requeue(ctxT(t), delivery(t, a, "mail").ID); err != nil {
		t.Fatal(err)
	}
	checkLog(t, "mail requeued", delivery(t, getAlert(t, s, id), "mail").Log, []store.Attempt{dead})
	ds = claim(t, s, "w", 10, time.Minute)
	if len(ds) != 1 || ds[0].Receiver != "mail" {
		t.Fatalf("claimed after requeue: %+v", ds)
	}
	clk.Advance(time.Second)
	if err := s.Complete(ctxT(t), ds[0].ID, ds[0].Token); err != nil {
		t.Fatal(err)
	}
	d := delivery(t, getAlert(t, s, id), "mail")
	if d.Attempts != 1 {
		t.Errorf("requeued delivery: %d attempts, want 1", d.Attempts)
	}
	checkLog(t, "mail delivered after requeue", d.Log, []store.Attempt{
		dead,
		{N: 1, At: Epoch.Add(time.Minute + time.Second), Outcome: store.AttemptDelivered},
	})
}

// A claim whose lease ran out logs its attempt as expired when the
// delivery is claimed again; its worker's late outcomes (a stale token)
// log nothing, nor does a second Complete.
func testAttemptLogStaleToken(t *testing.T, clk *clock.Fake, open func() store.Store) {
	a, b := open(), open()
	record(t, a, seen("e1", hit("root", "e1", "slack")))
	id := store.AlertID("root", "e1", time.Time{}, false)
	old := claim(t, a, "a", 10, time.Minute)
	if len(old) != 1 {
		t.Fatalf("claimed %d, want 1", len(old))
	}
	clk.Advance(90 * time.Second)
	re := claim(t, b, "b", 10, time.Minute)
	if len(re) != 1 || re[0].Attempts != 2 {
		t.Fatalf("re-claimed = %+v", re)
	}
	expired := store.Attempt{N: 1, At: Epoch.Add(time.Minute), Outcome: store.AttemptLeaseExpired}
	checkLog(t, "re-claimed", delivery(t, getAlert(t, a, id), "slack").Log, []store.Attempt{expired})
	d := old[0]
	if err := a.Complete(ctxT(t), d.ID, d.Token); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("stale Complete = %v, want ErrLeaseLost", err)
	}
	if err := a.Retry(ctxT(t), d.ID, d.Token, clk.Now(), "x"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("stale Retry = %v, want ErrLeaseLost", err)
	}
	if err := a.DeadLetter(ctxT(t), d.ID, d.Token, "x"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("stale DeadLetter = %v, want ErrLeaseLost", err)
	}
	checkLog(t, "after stale outcomes", delivery(t, getAlert(t, a, id), "slack").Log, []store.Attempt{expired})
	clk.Advance(5 * time.Second)
	if err := b.Complete(ctxT(t), re[0].ID, re[0].Token); err != nil {
		t.Fatal(err)
	}
	if err := b.Complete(ctxT(t), re[0].ID, re[0].Token); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("second Complete = %v, want ErrLeaseLost", err)
	}
	checkLog(t, "delivered", delivery(t, getAlert(t, a, id), "slack").Log, []store.Attempt{
		expired,
		{N: 2, At: Epoch.Add(95 * time.Second), Outcome: store.AttemptDelivered},
	})
}

// A digest claimed again after its lease ran out logs the expired attempt
// of each of its deliveries (the one Claim picked and those that came with
// it).
func testAttemptLogDigestLeaseExpired(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	const dg = "office|mail|2026-03-01T12:00:00Z"
	record(t, s, seen("e1", digestHit("e1", dg, Epoch)), seen("e2", digestHit("e2", dg, Epoch)))
	if got := claim(t, s, "a", 1, time.Minute); len(got) != 2 {
		t.Fatalf("claimed %d, want the digest's 2", len(got))
	}
	clk.Advance(time.Minute)
	if got := claim(t, s, "b", 1, time.Minute); len(got) != 2 {
		t.Fatalf("re-claimed %d, want the digest's 2", len(got))
	}
	for _, ev := range []string{"e1", "e2"} {
		a := getAlert(t, s, store.AlertID("root", ev, time.Time{}, false))
		checkLog(t, ev, delivery(t, a, "mail").Log, []store.Attempt{{N: 1, At: Epoch.Add(time.Minute), Outcome: store.AttemptLeaseExpired}})
	}
}

// The log keeps the last store.AttemptLogSize attempts, whichever way
// they ended: retried (odd attempts) or expired (even ones).
func testAttemptLogBound(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	record(t, s, seen("e1", hit("root", "e1", "slack")))
	id := store.AlertID("root", "e1", time.Time{}, false)
	const attempts = store.AttemptLogSize + 11
	check := func(logged int) {
		t.Helper()
		log := delivery(t, getAlert(t, s, id), "slack").Log
		if want := min(logged, store.AttemptLogSize); len(log) != want {
			t.Fatalf("%d attempts ended: %d logged, want %d", logged, len(log), want)
		}
		for i, at := range log {
			n := logged - len(log) + 1 + i
			want, reason := store.AttemptLeaseExpired, ""
			switch {
			case n == attempts:
				want = store.AttemptDelivered
			case n%2 == 1:
				want, reason = store.AttemptRetry, fmt.Sprint("try ", n)
			}
			if at.N != n || at.Outcome != want || at.Error != reason {
				t.Fatalf("%d attempts ended: entry %d = %+v, want attempt %d %s %q", logged, i, at, n, want, reason)
			}
		}
	}
	for n := 1; n <= attempts; n++ {
		ds := claim(t, s, "w", 10, time.Minute)
		if len(ds) != 1 || ds[0].Attempts != n {
			t.Fatalf("claim %d = %+v", n, ds)
		}
		check(n - 1) // an even attempt before it expired, as the claim found
		switch {
		case n == attempts:
			if err := s.Complete(ctxT(t), ds[0].ID, ds[0].Token); err != nil {
				t.Fatal(err)
			}
		case n%2 == 1:
			if err := s.Retry(ctxT(t), ds[0].ID, ds[0].Token, clk.Now(), fmt.Sprint("try ", n)); err != nil {
				t.Fatal(err)
			}
		default:
			clk.Advance(time.Minute) // the lease runs out
		}
		if n%2 == 1 || n == attempts {
			check(n)
		}
	}
}
