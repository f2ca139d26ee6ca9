package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/clock"
)

// Mute schedules (business hours: muted at 09:00, unmuted at 18:00 in
// Tokyo on weekdays) hold across restarts: a node started inside the
// window is muted even with no saved state (it replays the last week), a
// node restarted after the unmute fired while it was stopped is not, one
// restarted after the next mute fired is again, and one restarted with no
// firing since is as it was saved. Muted alerts are
// recorded, not sent; the rules page says muted.
func TestMuteSchedulesAcrossRestarts(t *testing.T) {
	t.Parallel()
	got := make(chan string, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			EventID string `json:"event_id"`
		}
		json.NewDecoder(r.Body).Decode(&m)
		got <- m.EventID
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	writeFile(t, dir+"/c.yaml", `
receivers:
  - name: hook
    webhook:
      url: "`+hook.URL+`"
      template: '{"event_id": "{{.event_id}}"}'
routes:
  - rules: [root-console-signin]
    receivers: [hook]
schedules:
  - name: office-hours-start
    expression: cron(0 9 ? * MON-FRI *)
    time_zone: Asia/Tokyo
    action: mute
    rules: [root-console-signin]
  - name: office-hours-end
    expression: cron(0 18 ? * MON-FRI *)
    time_zone: Asia/Tokyo
    action: unmute
    rules: [root-console-signin]
`)
	jst, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	for i, step := range []struct {
		at    time.Time
		muted bool
	}{
		{time.Date(2026, 11, 23, 12, 0, 0, 0, jst), true},  // Monday noon, first start: replayed
		{time.Date(2026, 11, 23, 19, 0, 0, 0, jst), false}, // the unmute fired while stopped
		{time.Date(2026, 11, 24, 10, 0, 0, 0, jst), true},  // Tuesday: the mute fired while stopped
		{time.Date(2026, 11, 24, 11, 0, 0, 0, jst), true},  // nothing fired since: the saved state
		{time.Date(2026, 11, 28, 10, 0, 0, 0, jst), false}, // Saturday: Friday's 18:00 unmute
	} {
		fake := clock.NewFake(step.at)
		a, stop := startStoppable(t, Options{ConfigFiles: []string{dir + "/c.yaml"}, DataDir: data, Clock: fake})
		waitMutesSaved(t, a, step.at)
		if m := a.ruleMuted("root-console-signin"); m != step.muted {
			t.Fatalf("start %d at %v: muted %v, want %v", i, step.at, m, step.muted)
		}
		id := "mute-" + step.at.Format("0102T15")
		if code, body := post(t, a, envelope(rootLogin(id)), nil); code != http.StatusOK {
			t.Fatalf("POST: %d %s", code, body)
		}
		if step.muted {
			select {
			case ev := <-got:
				t.Fatalf("start %d: %s sent while muted", i, ev)
			case <-time.After(300 * time.Millisecond):
			}
		} else {
			if ev := wait(t, got, "the notification"); ev != id {
				t.Fatalf("start %d: sent %s, want %s", i, ev, id)
			}
			// Stopped before the outbox records the delivery, the next
			// start would send it again (at-least-once), inside its window.
			waitAllDelivered(t, a)
		}
		resp, err := http.Get("http://" + a.Addr() + "/rules/root-console-signin")
		if err != nil {
			t.Fatal(err)
		}
		page, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		shown := strings.Contains(string(page), `class="status-muted"`)
		if shown != step.muted {
			t.Errorf("start %d: rules page shows muted %v, want %v", i, shown, step.muted)
		}
		stop()
	}
}

// waitMutesSaved waits until the mute loop has caught up to at and saved
// the state.
func waitMutesSaved(t *testing.T, a *App, at time.Time) {
	t.Helper()
	for range 2000 {
		v, ok, err := a.Store().Checkpoint(t.Context(), muteCheckpoint)
		if err != nil {
			t.Fatal(err)
		}
		var sv savedMutes
		if ok && json.Unmarshal([]byte(v), &sv) == nil && sv.At.Equal(at) {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling the mute loop's progress
	}
	t.Fatal("mute state not saved")
}
