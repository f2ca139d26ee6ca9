package outbox

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{1, 0, 500 * time.Millisecond},
		{1, 0.5, 750 * time.Millisecond},
		{1, 0.999, 999500 * time.Microsecond},
		{2, 0, time.Second},
		{3, 0, 2 * time.Second},
		{4, 1, 8 * time.Second},
		{9, 0, 128 * time.Second},
		{10, 0, 150 * time.Second}, // base capped at 5m
		{10, 0.999, 299850 * time.Millisecond},
		{1000, 0, 150 * time.Second}, // no overflow
		{0, 0, 500 * time.Millisecond},
		{1, -1, 500 * time.Millisecond}, // r clamped
	}
	for _, tc := range tests {
		if got := Backoff(tc.n, time.Second, 5*time.Minute, tc.r); got != tc.want {
			t.Errorf("Backoff(%d, 1s, 5m, %v) = %v, want %v", tc.n, tc.r, got, tc.want)
		}
	}
}

// rig is a store on a real SQLite file, a fake clock and a recording
// notifier whose answers a test scripts.
type rig struct {
	t     *testing.T
	clk   *clock.Fake
	path  string
	st    store.Store
	mu    sync.Mutex
	calls []notify.Notification
	// answer decides each call's outcome; nil: success.
	answer func(ctx context.Context, n *notify.Notification, call int) (bool, error)
	seen   chan notify.Notification
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, clk: clock.NewFake(t0), path: filepath.Join(t.TempDir(), "tw.db"), seen: make(chan notify.Notification, 100)}
	r.st = r.open()
	return r
}

func (r *rig) open() store.Store {
	r.t.Helper()
	s, err := sqlite.Open(r.t.Context(), r.path, sqlite.Options{Clock: r.clk, Synchronous: "NORMAL"})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { s.Close() })
	return s
}

func (r *rig) notifier() notify.Notifier {
	return notify.NotifierFunc(func(ctx context.Context, n *notify.Notification) (bool, error) {
		r.mu.Lock()
		r.calls = append(r.calls, *n)
		call := len(r.calls)
		answer := r.answer
		r.mu.Unlock()
		r.seen <- *n
		if answer == nil {
			return false, nil
		}
		return answer(ctx, n, call)
	})
}

func (r *rig) callsSoFar() []notify.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Notification(nil), r.calls...)
}

func (r *rig) outbox(o Options) *Outbox {
	r.t.Helper()
	if o.Store == nil {
		o.Store = r.st
	}
	if o.Notifiers == nil {
		o.Notifiers = map[string]notify.Notifier{"slack": r.notifier()}
	}
	o.Clock = r.clk
	if o.Rand == nil {
		o.Rand = func() float64 { return 0 }
	}
	ob, err := New(o)
	if err != nil {
		r.t.Fatal(err)
	}
	return ob
}

func (r *rig) record(eventID string, ds ...store.Delivery) string {
	r.t.Helper()
	if len(ds) == 0 {
		ds = []store.Delivery{{Receiver: "slack"}}
	}
	_, err := r.st.Record(r.t.Context(), []store.Seen{{EventKey: eventID, EventTime: t0, Hits: []store.Hit{{
		Rule: "root", DedupKey: eventID, Threshold: 1, Deliveries: ds,
		Alert: alert.Alert{Rule: "root", Severity: "critical", EventID: eventID, Summary: "root signed in"},
	}}}})
	if err != nil {
		r.t.Fatal(err)
	}
	return store.AlertID("root", eventID, time.Time{}, false)
}

func (r *rig) drain(ob *Outbox) int {
	r.t.Helper()
	n, err := ob.Drain(r.t.Context())
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

func (r *rig) alert(id string) store.AlertRow {
	r.t.Helper()
	a, err := r.st.Alert(r.t.Context(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

func (r *rig) deadLetters() []store.DeliveryRow {
	r.t.Helper()
	dl, err := r.st.DeadLetters(r.t.Context())
	if err != nil {
		r.t.Fatal(err)
	}
	return dl
}

func retryable(msg string) func(context.Context, *notify.Notification, int) (bool, error) {
	return func(context.Context, *notify.Notification, int) (bool, error) { return true, errors.New(msg) }
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.answer = func(_ context.Context, _ *notify.Notification, call int) (bool, error) {
		if call <= 2 {
			return true, fmt.Errorf("slack: status 503")
		}
		return false, nil
	}
	reg := prometheus.NewRegistry()
	ob := r.outbox(Options{AckURL: func(id string) string { return "https://tw.example/ack/" + id }, Metrics: reg})
	id := r.record("e1")
	// Attempt 1 fails; back-off 500ms (1s halved by zero jitter).
	if n := r.drain(ob); n != 1 {
		t.Fatalf("drained %d, want 1", n)
	}
	if n := r.drain(ob); n != 0 {
		t.Fatalf("retried before the back-off: %d", n)
	}
	r.clk.Advance(499 * time.Millisecond)
	if n := r.drain(ob); n != 0 {
		t.Fatalf("retried 1ms before the back-off: %d", n)
	}
	r.clk.Advance(time.Millisecond)
	if n := r.drain(ob); n != 1 {
		t.Fatalf("attempt 2: drained %d", n)
	}
	// Attempt 2 fails; back-off 1s.
	r.clk.Advance(999 * time.Millisecond)
	if n := r.drain(ob); n != 0 {
		t.Fatalf("retried before the second back-off: %d", n)
	}
	r.clk.Advance(time.Millisecond)
	if n := r.drain(ob); n != 1 {
		t.Fatalf("attempt 3: drained %d", n)
	}
	calls := r.callsSoFar()
	if len(calls) != 3 {
		t.Fatalf("%d calls, want 3", len(calls))
	}
	for _, c := range calls {
		if c.Key != calls[0].Key || c.ID != calls[0].ID || c.AlertID != id || c.Reminder != 0 || c.Count != 1 ||
			c.AckURL != "https://tw.example/ack/"+id || c.Alert.EventID != "e1" || !c.Queued.Equal(t0) {
			t.Errorf("call = %+v", c)
		}
	}
	a := r.alert(id)
	if a.State != store.StateNotified || !a.NotifiedAt.Equal(t0.Add(1500*time.Millisecond)) || a.Deliveries[0].Attempts != 3 {
		t.Errorf("alert: %q notified %v deliveries %+v", a.State, a.NotifiedAt, a.Deliveries)
	}
	if got := value(t, ob.m.deliveries.WithLabelValues("slack", "retry")); got != 2 {
		t.Errorf("retry count = %v", got)
	}
	if got := value(t, ob.m.deliveries.WithLabelValues("slack", "sent")); got != 1 {
		t.Errorf("sent count = %v", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	for _, mf := range mfs {
		if mf.GetName() == "trailwatch_outbox_deliveries_total" {
			series = len(mf.GetMetric())
		}
	}
	if series != 2 {
		t.Errorf("registered trailwatch_outbox_deliveries_total series = %d, want 2", series)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		after time.Duration
		want  time.Duration // wait before attempt 2
	}{
		{"longer than the back-off", 30 * time.Second, 30 * time.Second},
		{"shorter than the back-off", time.Second, 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.answer = func(_ context.Context, _ *notify.Notification, call int) (bool, error) {
				if call == 1 {
					return true, &notify.RetryAfterError{After: tc.after, Err: errors.New("slack: status 429")}
				}
				return false, nil
			}
			ob := r.outbox(Options{MinBackoff: 10 * time.Second})
			id := r.record("e1")
			r.drain(ob)
			at, ok, err := r.st.NextDue(t.Context())
			if err != nil || !ok || !at.Equal(t0.Add(tc.want)) {
				t.Fatalf("NextDue = %v %v %v, want %v", at, ok, err, t0.Add(tc.want))
			}
			if d := r.alert(id).Deliveries[0]; !strings.Contains(d.LastError, "429") {
				t.Errorf("last error = %q", d.LastError)
			}
			r.clk.Advance(tc.want - time.Millisecond)
			if n := r.drain(ob); n != 0 {
				t.Fatalf("retried early")
			}
			r.clk.Advance(time.Millisecond)
			if n := r.drain(ob); n != 1 {
				t.Fatalf("not retried when due")
			}
			if a := r.alert(id); a.State != store.StateNotified {
				t.Errorf("state = %q", a.State)
			}
		})
	}
}

func TestDeadLetters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		receiver  string
		answer    func(context.Context, *notify.Notification, int) (bool, error)
		wantCalls int
		wantErr   string
	}{
		{"permanent failure", "slack", func(context.Context, *notify.Notification, int) (bool, error) {
			return false, errors.New("slack: status 404: no_service")
		}, 1, "slack: status 404: no_service"},
		{"negative Retry-After", "slack", func(context.Context, *notify.Notification, int) (bool, error) {
			return true, &notify.RetryAfterError{After: -1, Err: errors.New("api destination: status 429")}
		}, 1, "receiver asked to stop retrying: api destination: status 429"},
		{"no notifier", "pagerduty", nil, 0, `no notifier for receiver "pagerduty"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.answer = tc.answer
			ob := r.outbox(Options{})
			id := r.record("e1", store.Delivery{Receiver: tc.receiver, RemindEvery: time.Minute, RemindMax: 3})
			if n := r.drain(ob); n != 1 {
				t.Fatalf("drained %d", n)
			}
			if got := len(r.callsSoFar()); got != tc.wantCalls {
				t.Errorf("%d calls, want %d", got, tc.wantCalls)
			}
			dl := r.deadLetters()
			if len(dl) != 1 || dl[0].AlertID != id || !strings.Contains(dl[0].LastError, tc.wantErr) || dl[0].Notification.Receiver != tc.receiver {
				t.Fatalf("dead letters = %+v, want error %q", dl, tc.wantErr)
			}
			if a := r.alert(id); a.State != store.StateDeadLettered {
				t.Errorf("state = %q", a.State)
			}
			// Nothing more is due: no retry, no reminder.
			r.clk.Advance(48 * time.Hour)
			if n := r.drain(ob); n != 0 {
				t.Errorf("drained %d after dead-lettering", n)
			}
			if _, ok, _ := r.st.NextReminder(t.Context()); ok {
				t.Error("a reminder is scheduled for a dead-lettered delivery")
			}
		})
	}
}

func TestMaxAgeDeadLetters(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.answer = retryable("webhook: status 500")
	ob := r.outbox(Options{MaxAge: time.Hour, MinBackoff: 10 * time.Minute, MaxBackoff: 40 * time.Minute})
	id := r.record("e1")
	// Waits (zero jitter): 5m, 10m, 20m, 20m: attempts at 0, 5, 15, 35 and
	// 55 minutes; the next would be at 75 > 60.
	for _, wait := range []time.Duration{0, 5, 10, 20, 20} {
		r.clk.Advance(wait * time.Minute)
		if n := r.drain(ob); n != 1 {
			t.Fatalf("at %v: drained %d, want 1", r.clk.Now().Sub(t0), n)
		}
	}
	dl := r.deadLetters()
	if len(dl) != 1 || dl[0].Attempts != 5 || !strings.Contains(dl[0].LastError, "maximum age reached (1h0m0s) after 5 attempts: webhook: status 500") {
		t.Fatalf("dead letters = %+v", dl)
	}
	if !dl[0].DoneAt.Equal(t0.Add(55 * time.Minute)) {
		t.Errorf("dead-lettered at %v", dl[0].DoneAt)
	}
	if a := r.alert(id); a.State != store.StateDeadLettered {
		t.Errorf("state = %q", a.State)
	}
	// A dead letter requeued by hand is tried again, with a fresh age.
	r.answer = nil
	if err := r.st.Requeue(t.Context(), dl[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := r.drain(ob); n != 1 || r.alert(id).State != store.StateNotified {
		t.Errorf("requeued: drained %d, state %q", n, r.alert(id).State)
	}
}

// waitFor reads times from c until one equals want. The guard only fails a
// hung test; no test waits for time to pass.
func waitFor(t *testing.T, what string, c <-chan time.Time, want time.Time) {
	t.Helper()
	guard := time.NewTimer(20 * time.Second)
	defer guard.Stop()
	for {
		select {
		case got := <-c:
			if got.Equal(want) {
				return
			}
		case <-guard.C:
			t.Fatalf("%s never waited until %v", what, want)
		}
	}
}

func recv(t *testing.T, c <-chan notify.Notification) notify.Notification {
	t.Helper()
	guard := time.NewTimer(20 * time.Second)
	defer guard.Stop()
	select {
	case n := <-c:
		return n
	case <-guard.C:
		t.Fatal("no notification")
	}
	return notify.Notification{}
}

func idleChan(hook *func(time.Time)) <-chan time.Time {
	c := make(chan time.Time, 1000)
	*hook = func(next time.Time) { c <- next }
	return c
}

// TestRunRetriesOnItsTimer drives Run itself: Kick wakes it at once; it
// sleeps on the clock until the retry is due.
func TestRunRetriesOnItsTimer(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.answer = func(_ context.Context, _ *notify.Notification, call int) (bool, error) {
		if call == 1 {
			return true, errors.New("slack: status 500")
		}
		return false, nil
	}
	ob := r.outbox(Options{PollInterval: time.Hour})
	idle := idleChan(&ob.idle)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- ob.Run(ctx) }()
	waitFor(t, "outbox", idle, t0.Add(time.Hour)) // nothing to do
	id := r.record("e1")
	ob.Kick()
	recv(t, r.seen)
	waitFor(t, "outbox", idle, t0.Add(500*time.Millisecond)) // the retry
	r.clk.Advance(500 * time.Millisecond)
	if n := recv(t, r.seen); n.AlertID != id {
		t.Errorf("retried %+v", n)
	}
	waitFor(t, "outbox", idle, t0.Add(500*time.Millisecond+time.Hour))
	if a := r.alert(id); a.State != store.StateNotified {
		t.Errorf("state = %q", a.State)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestRemindersUntilAckedAndAtMostRemindMax(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	// A lease longer than the clock's steps: the test advances the clock
	// right after a receiver's call, maybe before its outcome commits.
	ob := r.outbox(Options{PollInterval: 24 * time.Hour, Lease: time.Hour})
	idle := idleChan(&ob.idle)
	ridle := idleChan(&ob.ridle)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { ob.Run(ctx) })
	wg.Go(func() { ob.RunReminders(ctx) })
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, "reminders", ridle, t0.Add(24*time.Hour))

	capped := r.record("capped", store.Delivery{Receiver: "slack", RemindEvery: 10 * time.Minute, RemindMax: 2})
	acked := r.record("acked", store.Delivery{Receiver: "slack", RemindEvery: 15 * time.Minute, RemindMax: 100})
	ob.Kick()
	got := map[string][]int{}
	note := func(n notify.Notification) { got[n.AlertID] = append(got[n.AlertID], n.Reminder) }
	note(recv(t, r.seen))
	note(recv(t, r.seen))
	waitFor(t, "reminders", ridle, t0.Add(10*time.Minute))

	// Minute 10: capped's reminder 1.
	r.clk.Advance(10 * time.Minute)
	note(recv(t, r.seen))
	waitFor(t, "reminders", ridle, t0.Add(15*time.Minute))
	// Minute 15: acked's reminder 1; then it is acknowledged.
	r.clk.Advance(5 * time.Minute)
	note(recv(t, r.seen))
	waitFor(t, "reminders", ridle, t0.Add(20*time.Minute))
	if err := r.st.Ack(t.Context(), acked, "alice"); err != nil {
		t.Fatal(err)
	}
	// Minute 20: capped's reminder 2, its last.
	r.clk.Advance(5 * time.Minute)
	note(recv(t, r.seen))
	waitFor(t, "reminders", ridle, t0.Add(20*time.Minute+24*time.Hour)) // nothing scheduled
	waitFor(t, "outbox", idle, t0.Add(20*time.Minute+24*time.Hour))
	r.clk.Advance(24 * time.Hour)
	waitFor(t, "reminders", ridle, t0.Add(20*time.Minute+48*time.Hour))
	waitFor(t, "outbox", idle, t0.Add(20*time.Minute+48*time.Hour))

	want := map[string][]int{capped: {0, 1, 2}, acked: {0, 1}}
	if fmt.Sprint(got[capped], got[acked]) != fmt.Sprint(want[capped], want[acked]) {
		t.Errorf("reminders sent = %v, want %v", got, want)
	}
	if a := r.alert(capped); a.Reminders != 2 || a.State != store.StateNotified {
		t.Errorf("capped: reminders %d state %q", a.Reminders, a.State)
	}
	if a := r.alert(acked); a.Reminders != 1 || a.State != store.StateAcked {
		t.Errorf("acked: reminders %d state %q", a.Reminders, a.State)
	}
	if got := value(t, ob.m.reminders); got != 3 {
		t.Errorf("reminders metric = %v", got)
	}
}

// TestCrashMidDelivery: the outbox stops (as a killed process would) while
// deliveries are in flight; a new outbox on the same file delivers them
// once their lease ends. Every alert is delivered, none lost; duplicates
// only of what was in flight.
func TestCrashMidDelivery(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	const alerts, workers, beforeCrash = 20, 4, 6
	ids := map[string]bool{}
	for i := range alerts {
		ids[r.record(fmt.Sprint("e", i))] = true
	}
	inFlight := make(chan struct{}, alerts)
	r.answer = func(ctx context.Context, _ *notify.Notification, call int) (bool, error) {
		if call <= beforeCrash {
			return false, nil
		}
		inFlight <- struct{}{}
		<-ctx.Done() // hangs until the "crash"
		return true, ctx.Err()
	}
	ob := r.outbox(Options{Workers: workers, Lease: time.Minute, Timeout: 30 * time.Second, PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- ob.Run(ctx) }()
	ob.Kick()
	for range workers {
		<-inFlight // every worker is stuck mid-delivery
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	first := r.callsSoFar()
	if len(first) != beforeCrash+workers {
		t.Fatalf("%d calls before the crash, want %d", len(first), beforeCrash+workers)
	}

	// Restart: another store handle and outbox on the same file.
	r.answer = nil
	st2 := r.open()
	ob2 := r.outbox(Options{Store: st2, Workers: workers, Lease: time.Minute})
	if n := r.drain(ob2); n != alerts-beforeCrash-workers {
		t.Fatalf("restart drained %d, want the %d never claimed", n, alerts-beforeCrash-workers)
	}
	r.clk.Advance(time.Minute) // the dead process's leases end
	if n := r.drain(ob2); n != workers {
		t.Fatalf("after the lease: drained %d, want the %d in flight", n, workers)
	}
	delivered := map[string]int{}
	for _, c := range r.callsSoFar()[beforeCrash:] {
		delivered[c.AlertID]++
	}
	for _, c := range first[:beforeCrash] {
		delivered[c.AlertID]++
	}
	for id := range ids {
		if delivered[id] == 0 {
			t.Errorf("alert %s never delivered", id)
		}
	}
	as, err := st2.Alerts(t.Context(), store.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.State != store.StateNotified {
			t.Errorf("alert %s is %q", a.ID, a.State)
		}
	}
	if n := r.drain(ob2); n != 0 {
		t.Errorf("still due: %d", n)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	for _, o := range []Options{
		{},
		{Store: r.st, MinBackoff: time.Minute, MaxBackoff: time.Second},
		{Store: r.st, Lease: time.Minute, Timeout: time.Minute},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) = nil error", o)
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Options{Store: r.st, Metrics: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Store: r.st, Metrics: reg}); err == nil {
		t.Error("registering the metrics twice succeeded")
	}
}

func value(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
