package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
)

// digestRequest is what the webhook reads of a digest: the summary alert
// with the held alerts under event.alerts.
type digestRequest struct {
	Rule    string `json:"rule"`
	Summary string `json:"summary"`
	Count   int    `json:"count"`
	EventID string `json:"event_id"`
	Event   struct {
		Digest string `json:"digest"`
		Alerts []struct {
			EventID string `json:"event_id"`
		} `json:"alerts"`
	} `json:"event"`
}

// Two alerts inside a route's mute window go out as one digest when the
// window closes.
func TestMuteWindowDigest(t *testing.T) {
	t.Parallel()
	got := make(chan digestRequest, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m digestRequest
		json.NewDecoder(r.Body).Decode(&m)
		got <- m
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	writeFile(t, dir+"/c.yaml", `
receivers:
  - name: hook
    webhook: {url: "`+hook.URL+`"}
routes:
  - name: office
    rules: [root-console-signin]
    receivers: [hook]
    mute_window: {days: MON-FRI, from: "09:00", to: "18:00", time_zone: Asia/Tokyo}
`)
	jst, _ := time.LoadLocation("Asia/Tokyo")
	fake := clock.NewFake(time.Date(2026, 11, 23, 17, 0, 0, 0, jst)) // Monday 17:00, inside
	a := start(t, Options{ConfigFiles: []string{dir + "/c.yaml"}, Clock: fake})
	for _, id := range []string{"dg-1", "dg-2"} {
		if code, body := post(t, a, envelope(rootLogin(id)), nil); code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", id, code, body)
		}
	}
	// Recorded (the POST answers after the commit), held until 18:00.
	rows, err := a.Store().Alerts(t.Context(), store.AlertFilter{Rule: "root-console-signin"})
	if err != nil || len(rows) != 2 {
		t.Fatalf("alerts = %d, %v", len(rows), err)
	}
	end := time.Date(2026, 11, 23, 18, 0, 0, 0, jst)
	for _, r := range rows {
		if len(r.Deliveries) != 1 || r.Deliveries[0].State != store.DeliveryPending || !r.Deliveries[0].DueAt.Equal(end) ||
			r.Deliveries[0].Digest != "office|hook|2026-11-23T09:00:00Z" {
			t.Fatalf("alert %s: deliveries %+v, want one held until %v in the office digest", r.ID, r.Deliveries, end)
		}
	}
	fake.Set(end.Add(time.Second))
	var m digestRequest
	advanceUntil(t, fake, got, time.Second, func(r digestRequest) bool { m = r; return true })
	var ids []string
	for _, x := range m.Event.Alerts {
		ids = append(ids, x.EventID)
	}
	slices.Sort(ids)
	if m.Count != 2 || m.Rule != "root-console-signin" || m.EventID != "" || !slices.Equal(ids, []string{"dg-1", "dg-2"}) ||
		m.Summary != "2 alerts held during the mute window: root-console-signin (2), events at 2024-03-01T10:00:00Z" {
		t.Errorf("digest = %+v", m)
	}
	waitAllDelivered(t, a)
	select {
	case r := <-got:
		t.Errorf("a second request: %+v", r)
	default:
	}
	rows, err = a.Store().Alerts(t.Context(), store.AlertFilter{Rule: "root-console-signin"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.State != store.StateNotified {
			t.Errorf("alert %s: %s", r.ID, r.State)
		}
	}
}
