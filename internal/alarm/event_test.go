package alarm

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestStateChangeEventDocSample rebuilds AWS's "CloudWatch Alarm State
// Change" sample event (specs §3.6).
func TestStateChangeEventDocSample(t *testing.T) {
	t.Parallel()
	c := Config{
		Name: "ServerCpuTooHigh", Description: "Goes into alarm when server CPU utilization is too high!",
		Namespace: "AWS/EC2", Metric: "CPUUtilization", Dimensions: map[string]string{"InstanceId": "i-12345678901234567"},
		Statistic: "Average", Period: 300 * time.Second, EvaluationPeriods: 1, Threshold: 50,
		ComparisonOperator: GreaterThanThreshold, ActionsEnabled: true,
	}
	prevReason := "Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition)."
	prevData := `{"version":"1.0","queryDate":"2019-10-01T13:56:40.985+0000","startDate":"2019-10-01T13:46:00.000+0000","statistic":"Average","period":300,"recentDatapoints":[0.0666851903306472],"threshold":50.0}`
	a, err := Restore(c, Snapshot{State: OK, Reason: prevReason, ReasonData: []byte(prevData),
		Updated: time.Date(2019, 10, 1, 13, 56, 40, 987e6, time.UTC), ActionsEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSeries(0)
	_ = s.Add(Datapoint{Namespace: "AWS/EC2", Metric: "CPUUtilization", Dimensions: c.Dimensions,
		Time: time.Date(2019, 10, 2, 16, 59, 30, 0, time.UTC), Value: 99.50160229693434})
	tr, ok := a.Evaluate(time.Date(2019, 10, 2, 17, 4, 40, 989e6, time.UTC), s)
	if !ok {
		t.Fatal("no transition")
	}
	raw := StateChangeEvent(c, tr, "us-east-1", "123456789012", "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92")
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	wantJSON := `{"version":"0","id":"c4c1c1c9-6542-e61b-6ef0-8c4d36933a92","detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch","account":"123456789012","time":"2019-10-02T17:04:40Z","region":"us-east-1","resources":["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"],
 "detail":{"alarmName":"ServerCpuTooHigh",
  "configuration":{"description":"Goes into alarm when server CPU utilization is too high!","metrics":[{"id":"30b6c6b2-a864-43a2-4877-c09a1afc3b87","metricStat":{"metric":{"dimensions":{"InstanceId":"i-12345678901234567"},"name":"CPUUtilization","namespace":"AWS/EC2"},"period":300,"stat":"Average"},"returnData":true}]},
  "previousState":{"reason":"Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition).","reasonData":"{\"version\":\"1.0\",\"queryDate\":\"2019-10-01T13:56:40.985+0000\",\"startDate\":\"2019-10-01T13:46:00.000+0000\",\"statistic\":\"Average\",\"period\":300,\"recentDatapoints\":[0.0666851903306472],\"threshold\":50.0}","timestamp":"2019-10-01T13:56:40.987+0000","value":"OK"},
  "state":{"reason":"Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).","reasonData":"","timestamp":"2019-10-02T17:04:40.989+0000","value":"ALARM"}}}`
	var want map[string]any
	if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
		t.Fatal(err)
	}
	// The metric's id is AWS's own UUID, and the new reasonData also
	// carries evaluatedDatapoints: compare everything else.
	gd, wd := got["detail"].(map[string]any), want["detail"].(map[string]any)
	gm := gd["configuration"].(map[string]any)["metrics"].([]any)[0].(map[string]any)
	wm := wd["configuration"].(map[string]any)["metrics"].([]any)[0].(map[string]any)
	if id, _ := gm["id"].(string); len(id) != 36 {
		t.Errorf("metric id %q", id)
	}
	gm["id"] = wm["id"]
	var rd map[string]any
	if err := json.Unmarshal([]byte(gd["state"].(map[string]any)["reasonData"].(string)), &rd); err != nil || rd["startDate"] != "2019-10-02T16:59:00.000+0000" {
		t.Errorf("reasonData %v %v", rd, err)
	}
	gd["state"].(map[string]any)["reasonData"] = ""
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("event\n got %s\nwant %s", g, w)
	}
}

func TestDynamoDBIgnoresMissingData(t *testing.T) {
	t.Parallel()
	c := Config{Name: "ddb", Namespace: "AWS/DynamoDB", Metric: "ThrottledRequests", Statistic: "Sum", Period: time.Minute,
		EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: GreaterThanOrEqualToThreshold, TreatMissingData: TreatBreaching}
	a, _ := Restore(c, Snapshot{State: OK})
	if _, ok := a.Evaluate(tableNow, NewSeries(0)); ok || a.State() != OK {
		t.Errorf("AWS/DynamoDB alarm changed state on missing data: %s", a.State())
	}
}

func TestNextEvaluation(t *testing.T) {
	t.Parallel()
	a, _ := New(seed002(), tableNow)
	if got := a.NextEvaluation(tableNow.Add(13 * time.Second)); !got.Equal(tableNow.Add(20 * time.Second)) {
		t.Errorf("10 s alarm: next %v", got)
	}
	b, _ := New(seed004(), tableNow)
	if got := b.NextEvaluation(tableNow.Add(61 * time.Second)); !got.Equal(tableNow.Add(2 * time.Minute)) {
		t.Errorf("5 min alarm: next %v", got)
	}
}
