package outbox

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/store"
)

const digestKey = "office|slack|2026-03-01T13:00:00Z"

// held records three alerts whose deliveries a mute window deferred to
// t0+1h under one digest, and one deferred without a digest.
func (r *rig) held() (digest []string, alone string) {
	r.t.Helper()
	end := t0.Add(time.Hour)
	for _, ev := range []string{"e1", "e2", "e3"} {
		digest = append(digest, r.record(ev, store.Delivery{Receiver: "slack", NotBefore: end, Digest: digestKey}))
	}
	alone = r.record("e4", store.Delivery{Receiver: "slack", NotBefore: end})
	return digest, alone
}

func TestDigestOneCall(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ob := r.outbox(Options{AckURL: func(id string) string { return "https://tw.example/ack/" + id }})
	ids, alone := r.held()
	if n := r.drain(ob); n != 0 {
		t.Fatalf("drained %d inside the window", n)
	}
	r.clk.Advance(time.Hour)
	if n := r.drain(ob); n != 4 {
		t.Fatalf("drained %d, want 4 deliveries", n)
	}
	calls := r.callsSoFar()
	if len(calls) != 2 {
		t.Fatalf("%d receiver calls, want 2: %+v", len(calls), calls)
	}
	var dg, single notify.Notification
	for _, c := range calls {
		if c.Count == 3 {
			dg = c
		} else {
			single = c
		}
	}
	if dg.Digest != digestKey || !strings.HasSuffix(dg.Key, "-digest") || dg.AckURL != "" ||
		dg.Alert.Summary != "3 alerts held during the mute window: root (3)" {
		t.Errorf("digest = %+v", dg)
	}
	if single.Alert.EventID != "e4" || single.Count != 1 || single.AckURL == "" {
		t.Errorf("the delivery without a digest = %+v", single)
	}
	for _, id := range append(ids, alone) {
		if a := r.alert(id); a.State != store.StateNotified || a.Deliveries[0].State != store.DeliveryDone {
			t.Errorf("alert %s: %s, deliveries %+v", id, a.State, a.Deliveries)
		}
	}
}

func TestDigestRetryAppliesToAll(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.answer = func(_ context.Context, _ *notify.Notification, call int) (bool, error) {
		if call == 1 {
			return true, errors.New("slack: status 503")
		}
		return false, nil
	}
	ob := r.outbox(Options{})
	end := t0.Add(time.Hour)
	var ids []string
	for _, ev := range []string{"e1", "e2", "e3"} {
		ids = append(ids, r.record(ev, store.Delivery{Receiver: "slack", NotBefore: end, Digest: digestKey}))
	}
	r.clk.Set(end)
	if n := r.drain(ob); n != 3 {
		t.Fatalf("drained %d, want 3", n)
	}
	for _, id := range ids {
		d := r.alert(id).Deliveries[0]
		if d.State != store.DeliveryPending || d.LastError != "slack: status 503" || !d.DueAt.Equal(end.Add(500*time.Millisecond)) {
			t.Errorf("alert %s after the failure: %+v", id, d)
		}
	}
	r.clk.Advance(500 * time.Millisecond)
	if n := r.drain(ob); n != 3 {
		t.Fatalf("retry: drained %d, want 3", n)
	}
	calls := r.callsSoFar()
	if len(calls) != 2 || calls[0].Count != 3 || calls[1].Count != 3 || calls[0].Key != calls[1].Key {
		t.Fatalf("calls = %+v, want the same digest twice", calls)
	}
	for _, id := range ids {
		if a := r.alert(id); a.State != store.StateNotified || a.Deliveries[0].Attempts != 2 {
			t.Errorf("alert %s: %s %+v", id, a.State, a.Deliveries)
		}
	}
}

func TestDigestDeadLettersAll(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.answer = func(context.Context, *notify.Notification, int) (bool, error) {
		return false, errors.New("slack: status 404: no_service")
	}
	ob := r.outbox(Options{})
	r.held()
	r.clk.Advance(time.Hour)
	r.drain(ob)
	if dl := r.deadLetters(); len(dl) != 4 {
		t.Errorf("%d dead letters, want 4", len(dl))
	}
	if calls := r.callsSoFar(); len(calls) != 2 {
		t.Errorf("%d calls, want 2", len(calls))
	}
}

// With one worker, Run still sends a digest whole, in one call.
func TestRunDigestWithOneWorker(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ob := r.outbox(Options{Workers: 1, PollInterval: 2 * time.Hour})
	idle := idleChan(&ob.idle)
	ids, alone := r.held()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- ob.Run(ctx) }()
	waitFor(t, "outbox", idle, t0.Add(time.Hour)) // the window's end
	r.clk.Advance(time.Hour)
	got := map[int]bool{recv(t, r.seen).Count: true, recv(t, r.seen).Count: true}
	if !got[3] || !got[1] {
		t.Errorf("counts %v, want a digest of 3 and a single", got)
	}
	waitFor(t, "outbox", idle, t0.Add(3*time.Hour))
	for _, id := range append(ids, alone) {
		if a := r.alert(id); a.State != store.StateNotified {
			t.Errorf("alert %s: %s", id, a.State)
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
