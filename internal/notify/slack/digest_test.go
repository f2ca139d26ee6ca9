package slack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/notifytest"
)

// A digest renders as the default message of its summary alert: the count
// and rules in the header, no console link (no single event) and no ack
// button.
func TestDigestMessage(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t, notifytest.Answer{Code: 200, Body: "ok"})
	n := newNotifier(t, srv.URL, "")
	a, b := notifytest.Notification(), notifytest.Notification()
	b.ID, b.Key, b.Alert.EventID, b.Alert.EventTime = "d-43", "k-43", "e-2", "2024-03-01T10:30:00Z"
	if _, err := n.Notify(context.Background(), notify.Digest([]*notify.Notification{a, b})); err != nil {
		t.Fatal(err)
	}
	var p Payload
	body := srv.Requests()[0].Body
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	want := "[CRITICAL] root-signin: 2 alerts held during the mute window: root-signin (2), " +
		"events from 2024-03-01T10:00:00Z to 2024-03-01T10:30:00Z (2 alerts)"
	if p.Text != want {
		t.Errorf("text %q\nwant %q", p.Text, want)
	}
	for _, s := range []string{"Acknowledge", "Open in CloudTrail"} {
		if strings.Contains(string(body), s) {
			t.Errorf("%q in a digest:\n%s", s, body)
		}
	}
	for _, s := range []string{"Principal: root (Root)", "Count: 2 alerts held during the mute window"} {
		if !strings.Contains(string(body), s) {
			t.Errorf("%q missing:\n%s", s, body)
		}
	}
}
