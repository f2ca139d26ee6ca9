package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
)

// digestHit is an alert whose one delivery, to mail, is deferred to at
// under digest key dg ("" none).
func digestHit(eventID, dg string, at time.Time) store.Hit {
	h := hit("root", eventID, "mail")
	h.Deliveries[0].NotBefore = at
	h.Deliveries[0].Digest = dg
	return h
}

func testDigestRoundTrip(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	const dg = "office|mail|2026-03-01T13:00:00Z"
	record(t, s, seen("e1", digestHit("e1", dg, Epoch)), seen("e2", digestHit("e2", "", Epoch)))
	got := claim(t, open(), "w", 10, time.Minute)
	if len(got) != 2 {
		t.Fatalf("claimed %d, want 2", len(got))
	}
	byEvent := map[string]store.DeliveryRow{}
	for _, d := range got {
		byEvent[d.Notification.Alert.EventID] = d
	}
	if d := byEvent["e1"]; d.Digest != dg || d.Notification.Digest != dg {
		t.Errorf("e1: Digest = %q, Notification.Digest = %q, want %q", d.Digest, d.Notification.Digest, dg)
	}
	if d := byEvent["e2"]; d.Digest != "" || d.Notification.Digest != "" {
		t.Errorf("e2: Digest = %q, Notification.Digest = %q, want none", d.Digest, d.Notification.Digest)
	}
	d := byEvent["e1"]
	if err := s.DeadLetter(ctxT(t), d.ID, d.Token, "gone"); err != nil {
		t.Fatal(err)
	}
	dl, err := s.DeadLetters(ctxT(t))
	if err != nil || len(dl) != 1 || dl[0].Digest != dg || dl[0].Notification.Digest != dg {
		t.Fatalf("DeadLetters = %+v, %v", dl, err)
	}
	if a := getAlert(t, s, d.AlertID); len(a.Deliveries) != 1 || a.Deliveries[0].Digest != dg {
		t.Errorf("Alert deliveries = %+v", a.Deliveries)
	}
	// Requeued, it is still part of its digest.
	if err := s.Requeue(ctxT(t), d.ID); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, "w", 10, time.Minute); len(got) != 1 || got[0].Digest != dg {
		t.Errorf("requeued: %+v", got)
	}
}

func testDigestClaimedTogether(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	end := Epoch.Add(time.Hour)
	const dg, other = "office|mail|end", "night|mail|end"
	record(t, s,
		seen("d1", digestHit("d1", dg, end)), seen("d2", digestHit("d2", dg, end)), seen("d3", digestHit("d3", dg, end)),
		// Due a second later: the claim below starts with the digest.
		seen("x1", digestHit("x1", "", end.Add(time.Second))),
		seen("o1", digestHit("o1", other, end.Add(time.Second))),
	)
	clk.Set(end.Add(time.Second))
	got := claim(t, s, "w", 1, time.Minute)
	var events []string
	for _, d := range got {
		events = append(events, d.Notification.Alert.EventID)
		if d.Digest != dg || d.Token != got[0].Token || d.Attempts != 1 || d.State != store.DeliveryRunning {
			t.Errorf("claimed %+v, want digest %q under one token", d, dg)
		}
	}
	slices.Sort(events)
	if !slices.Equal(events, []string{"d1", "d2", "d3"}) {
		t.Fatalf("claim(1) = %v, want the whole digest d1 d2 d3", events)
	}
	// Another handle sees the digest claimed: only the rest remains.
	rest := claim(t, open(), "w2", 10, time.Minute)
	events = events[:0]
	for _, d := range rest {
		events = append(events, d.Notification.Alert.EventID)
		if err := s.Complete(ctxT(t), d.ID, d.Token); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(events)
	if !slices.Equal(events, []string{"o1", "x1"}) {
		t.Fatalf("then claimed %v, want o1 x1", events)
	}
	// Only due deliveries of a digest come along.
	for i, d := range got {
		at := clk.Now().Add(time.Minute)
		if i > 0 {
			at = at.Add(time.Minute)
		}
		if err := s.Retry(ctxT(t), d.ID, d.Token, at, "503"); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Minute)
	if again := claim(t, s, "w", 10, time.Hour); len(again) != 1 || again[0].ID != got[0].ID || again[0].Attempts != 2 {
		t.Fatalf("after a minute claimed %+v, want %s alone", again, got[0].ID)
	}
	clk.Advance(time.Minute)
	if again := claim(t, s, "w", 10, time.Minute); len(again) != 2 {
		t.Fatalf("after two minutes claimed %d, want 2", len(again))
	}
}
