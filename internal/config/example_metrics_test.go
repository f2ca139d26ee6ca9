package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/config"
)

// A native configuration with a metric filter, an alarm to a receiver and
// the business-hours schedules of seed 002; the alarm runs with
// internal/alarm.
func Example_alarms() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "trailwatch.yaml")
	os.WriteFile(file, []byte(`builtin_rules: false
receivers:
  - {name: oncall, email: {to: [oncall@example.com]}}
metric_filters:
  - name: console-login
    filter_pattern: '{ ($.eventName = ConsoleLogin) }'
    metric_transformations: [{metric_namespace: CloudTrailMetrics, metric_name: ConsoleLogin, metric_value: '1'}]
alarms:
  - name: ConsoleLogin
    namespace: CloudTrailMetrics
    metric_name: ConsoleLogin
    statistic: Sum
    period: 10s
    evaluation_periods: 1
    threshold: 1
    comparison_operator: GreaterThanOrEqualToThreshold
    treat_missing_data: notBreaching
    alarm_actions: [oncall]
schedules:
  - {name: office-in, expression: 'cron(0 9 ? * MON-FRI *)', time_zone: Asia/Tokyo, action: disable_alarm_actions, alarms: [ConsoleLogin]}
  - {name: office-out, expression: 'cron(0 18 ? * MON-FRI *)', time_zone: Asia/Tokyo, action: enable_alarm_actions, alarms: [ConsoleLogin]}
`), 0o644)
	cfg, err := config.Load([]string{file}, nil, nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	a := cfg.Alarms[0]
	al, err := alarm.New(a.AlarmConfig(), time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(al.Name(), al.State(), al.ActionsEnabled(), cfg.ActionReceivers(a.AlarmActions[0]))
	for _, s := range cfg.Schedules {
		fmt.Println(s.Name, s.Expression, s.TimeZone, s.Action, s.Alarms)
	}
	// Output:
	// ConsoleLogin INSUFFICIENT_DATA true [oncall]
	// office-in cron(0 9 ? * MON-FRI *) Asia/Tokyo disable_alarm_actions [ConsoleLogin]
	// office-out cron(0 18 ? * MON-FRI *) Asia/Tokyo enable_alarm_actions [ConsoleLogin]
}
