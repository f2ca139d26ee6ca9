package metricfilter

import (
	"fmt"
	"testing"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/event"
)

func record(t *testing.T, name, extra string) *event.Event {
	t.Helper()
	ev, err := event.FromRecord([]byte(fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"2026-01-05T01:02:03Z","eventSource":"iam.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","eventID":"id-%s","userIdentity":{"type":"IAMUser","userName":"bob"},"recipientAccountId":"111122223333"%s}`, name, name, extra)))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestDatapoints(t *testing.T) {
	zero := 0.0
	f, err := New([]*config.MetricFilter{
		{Name: "logins", FilterPattern: `{ ($.eventName = ConsoleLogin) }`,
			Transformations: []config.MetricTransformation{{MetricNamespace: "CloudTrailMetrics", MetricName: "ConsoleLoginCount", MetricValue: "1"}}},
		{Name: "iam", FilterPattern: `{($.eventName=DeletePolicy)||($.eventName=CreatePolicy)}`,
			Transformations: []config.MetricTransformation{{MetricNamespace: "CloudTrailMetrics", MetricName: "IAMPolicyEventCount", MetricValue: "1", DefaultValue: &zero}}},
		{Name: "bytes-by-user", FilterPattern: `{ $.bytes > 0 }`,
			Transformations: []config.MetricTransformation{{MetricNamespace: "N", MetricName: "Bytes", MetricValue: "$.bytes", Dimensions: map[string]string{"User": "$.userIdentity.userName"}, Unit: "Bytes"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ev   *event.Event
		want string
	}{
		{record(t, "ConsoleLogin", ""), "ConsoleLoginCount=1 IAMPolicyEventCount=0(default)"},
		{record(t, "DeletePolicy", ""), "IAMPolicyEventCount=1"},
		{record(t, "PutObject", `,"bytes":512`), "IAMPolicyEventCount=0(default) Bytes=512[User=bob]"},
	}
	for _, c := range cases {
		var got string
		for _, d := range f.Datapoints(c.ev, nil) {
			if got != "" {
				got += " "
			}
			got += fmt.Sprintf("%s=%g", d.Metric, d.Value)
			if d.EventKey == "" {
				got += "(default)"
			} else if d.EventKey != c.ev.Key() || !d.Time.Equal(c.ev.Time) {
				t.Errorf("datapoint %+v for event %s", d, c.ev.Key())
			}
			for k, v := range d.Dimensions {
				got += "[" + k + "=" + v + "]"
			}
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.ev.EventName, got, c.want)
		}
	}
	if _, err := New([]*config.MetricFilter{{Name: "bad", FilterPattern: "{ $.x = "}}); err == nil {
		t.Error("a bad pattern compiled")
	}
}
