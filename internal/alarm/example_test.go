package alarm_test

import (
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// Seed 002's alarm: a console sign-in counted by a metric filter puts a
// 10-second alarm in ALARM, with the event behind it.
func Example() {
	cfg := alarm.Config{
		Name: "ConsoleLogin", Namespace: "CloudTrailMetrics", Metric: "ConsoleLogin",
		Statistic: "Sum", Period: 10 * time.Second, EvaluationPeriods: 1, Threshold: 1,
		ComparisonOperator: alarm.GreaterThanOrEqualToThreshold, TreatMissingData: alarm.TreatNotBreaching,
		ActionsEnabled: true, AlarmActions: []string{"arn:aws:sns:us-east-1:123456789012:console-login-alarm"},
	}
	t0 := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	a, err := alarm.New(cfg, t0)
	if err != nil {
		fmt.Println(err)
		return
	}
	series := alarm.NewSeries(a.Range())
	_ = series.Add(alarm.Datapoint{Namespace: "CloudTrailMetrics", Metric: "ConsoleLogin",
		Time: t0.Add(3 * time.Second), Value: 1, EventKey: "3a6d1a8c-0f4e-4a8e-9a55-2f0f6a9e1c11"})

	if tr, ok := a.Evaluate(t0.Add(10*time.Second), series); ok {
		fmt.Println(tr.From, "->", tr.To)
		fmt.Println(tr.Reason)
		fmt.Println("actions:", tr.Actions)
		fmt.Println("events:", tr.Events)
	}
	fmt.Println(alarm.Subject(alarm.Transition{Alarm: cfg.Name, To: a.State()}, "us-east-1"))
	// Output:
	// INSUFFICIENT_DATA -> ALARM
	// Threshold Crossed: 1 out of the last 1 datapoints [1.0 (01/05/24 09:00:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for INSUFFICIENT_DATA -> ALARM transition).
	// actions: [arn:aws:sns:us-east-1:123456789012:console-login-alarm]
	// events: [3a6d1a8c-0f4e-4a8e-9a55-2f0f6a9e1c11]
	// ALARM: "ConsoleLogin" in US East (N. Virginia)
}

// A scheduler disables actions during business hours: the alarm still
// changes state, but fires nothing; enabling actions again fires nothing
// by itself.
func ExampleAlarm_SetActionsEnabled() {
	cfg := alarm.Config{
		Name: "IAMPolicyChanges", Namespace: "CloudTrailMetrics", Metric: "IAMPolicyEventCount",
		Statistic: "Maximum", Period: 5 * time.Minute, EvaluationPeriods: 1, Threshold: 0,
		ComparisonOperator: alarm.GreaterThanThreshold, TreatMissingData: alarm.TreatNotBreaching,
		ActionsEnabled: true, AlarmActions: []string{"topic"},
	}
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	a, _ := alarm.New(cfg, t0)
	s := alarm.NewSeries(a.Range())

	a.SetActionsEnabled(false) // cloudwatch:disableAlarmActions at 09:00
	_ = s.Add(alarm.Datapoint{Namespace: "CloudTrailMetrics", Metric: "IAMPolicyEventCount", Time: t0.Add(30 * time.Second), Value: 1})
	tr, _ := a.Evaluate(t0.Add(time.Minute), s)
	fmt.Println(tr.To, "actions:", len(tr.Actions))

	a.SetActionsEnabled(true) // cloudwatch:enableAlarmActions at 18:00
	_, changed := a.Evaluate(t0.Add(2*time.Minute), s)
	fmt.Println(a.State(), "changed:", changed)
	// Output:
	// ALARM actions: 0
	// ALARM changed: false
}
