package alarm

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestNotificationTraffic renders the real SNS alarm message of specs §3.6
// and compares it field by field (the newer fields included).
func TestNotificationTraffic(t *testing.T) {
	t.Parallel()
	c := trafficConfig()
	c.AlarmActions = []string{"arn:aws:sns:us-east-1:052730242331:Traffic"}
	a, _ := Restore(c, Snapshot{State: OK, ActionsEnabled: true})
	tr, ok := a.Evaluate(trafficEval, trafficSeries(t))
	if !ok {
		t.Fatal("no transition")
	}
	tr.Time = time.Date(2020, 10, 9, 21, 32, 10, 617e6, time.UTC)
	got := Notification(c, tr, "us-east-1", "052730242331")

	want := `{"AlarmName":"Traffic","AlarmDescription":"A high amount of traffic: did we just get slashdotted?","AWSAccountId":"052730242331",
 "NewStateValue":"ALARM","NewStateReason":"Threshold Crossed: 3 out of the last 3 datapoints [1141.0 (09/10/20 21:24:00), 1226.0 (09/10/20 21:19:00), 1390.0 (09/10/20 21:14:00)] were greater than or equal to the threshold (30.0) (minimum 3 datapoints for OK -> ALARM transition).",
 "StateChangeTime":"2020-10-09T21:32:10.617+0000","Region":"US East (N. Virginia)","AlarmArn":"arn:aws:cloudwatch:us-east-1:052730242331:alarm:Traffic","OldStateValue":"OK",
 "OKActions":[],"AlarmActions":["arn:aws:sns:us-east-1:052730242331:Traffic"],"InsufficientDataActions":[],
 "Trigger":{"MetricName":"RequestCount","Namespace":"AWS/ApplicationELB","StatisticType":"Statistic","Statistic":"SUM","Unit":null,
  "Dimensions":[{"value":"app/GccExplorerApp/4a4513393260c7c5","name":"LoadBalancer"}],
  "Period":300,"EvaluationPeriods":3,"DatapointsToAlarm":3,"ComparisonOperator":"GreaterThanOrEqualToThreshold","Threshold":30,
  "TreatMissingData":"- TreatMissingData:                    missing","EvaluateLowSampleCountPercentile":""}}`
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(want)); err != nil {
		t.Fatal(err)
	}
	if string(got) != compact.String() {
		t.Errorf("notification\n got %s\nwant %s", got, compact.String())
	}
	if s := Subject(tr, "us-east-1"); s != `ALARM: "Traffic" in US East (N. Virginia)` {
		t.Errorf("subject = %s", s)
	}
}

func TestNotificationEventsAndPercentile(t *testing.T) {
	t.Parallel()
	c := seed002()
	c.Statistic = "p99"
	c.Unit = "Count"
	c.EvaluateLowSampleCountPercentile = "evaluate"
	c.Dimensions = map[string]string{"b": "2", "a": "1"}
	tr := Transition{Alarm: c.Name, From: OK, To: Alarming, Time: time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC),
		Reason: "r", Events: []string{"e1", "e2"}}
	var m map[string]any
	if err := json.Unmarshal(Notification(c, tr, "ap-northeast-1", "123456789012"), &m); err != nil {
		t.Fatal(err)
	}
	trig := m["Trigger"].(map[string]any)
	if trig["StatisticType"] != "ExtendedStatistic" || trig["ExtendedStatistic"] != "p99" || trig["Statistic"] != nil ||
		trig["Unit"] != "Count" || trig["EvaluateLowSampleCountPercentile"] != "evaluate" || trig["DatapointsToAlarm"] != 1.0 {
		t.Errorf("trigger = %v", trig)
	}
	dims := trig["Dimensions"].([]any)
	if len(dims) != 2 || dims[0].(map[string]any)["name"] != "a" {
		t.Errorf("dimensions = %v", dims)
	}
	if m["Region"] != "Asia Pacific (Tokyo)" || m["StateChangeTime"] != "2024-01-02T03:04:05.006+0000" {
		t.Errorf("region/time = %v %v", m["Region"], m["StateChangeTime"])
	}
	ev := m["Events"].([]any)
	if len(ev) != 2 || ev[0] != "e1" {
		t.Errorf("events = %v", ev)
	}
	long := Transition{Alarm: strings.Repeat("x", 200), To: OK}
	if s := Subject(long, "eu-west-1"); len(s) != 100 || !strings.HasPrefix(s, `OK: "xxx`) {
		t.Errorf("subject %q (%d)", s, len(s))
	}
	if RegionName("xx-nowhere-9") != "xx-nowhere-9" {
		t.Error("unknown region should stay as is")
	}
}
