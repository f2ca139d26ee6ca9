package stdout

import (
	"bytes"
	"context"
	"testing"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/notifytest"
)

func TestDigestLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s, err := New(&config.StdoutConfig{}, &buf, notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := notifytest.Notification(), notifytest.Notification()
	b.Alert.Rule, b.Alert.Severity, b.Alert.SourceIP = "iam-policy-change", "high", "203.0.113.9"
	if _, err := s.Notify(context.Background(), notify.Digest([]*notify.Notification{a, b, a})); err != nil {
		t.Fatal(err)
	}
	want := "2024-03-01T10:00:00Z CRITICAL root-signin,_iam-policy-change principal=root source_ip=- count=3 " +
		"3 alerts held during the mute window: root-signin (2), iam-policy-change (1), events at 2024-03-01T10:00:00Z\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
