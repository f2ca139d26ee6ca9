package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const nativeMetricsConfig = `builtin_rules: false
rules: [rules/]
receivers:
  - {name: oncall, email: {to: [oncall@example.com]}}
routes:
  - {name: root-mail, rules: [root-console-signin], receivers: [oncall]}
metric_filters:
  - name: console-logins
    log_group_name: aws-cloudtrail-logs
    filter_pattern: '{ $.eventName = ConsoleLogin }'
    metric_transformations:
      - {metric_namespace: Trail, metric_name: ConsoleLogins, metric_value: '1', default_value: 0, unit: Count}
  - name: by-user
    filter_pattern: '{ $.eventName = ConsoleLogin }'
    metric_transformations:
      - metric_namespace: Trail
        metric_name: LoginsByUser
        metric_value: '1'
        dimensions: {user: $.userIdentity.userName}
alarms:
  - name: console-login
    description: someone signed in
    namespace: Trail
    metric_name: ConsoleLogins
    statistic: Sum
    period: 10s
    evaluation_periods: 3
    datapoints_to_alarm: 2
    threshold: 1
    comparison_operator: GreaterThanOrEqualToThreshold
    treat_missing_data: notBreaching
    alarm_actions: [oncall]
    ok_actions: [oncall]
  - name: alice-logins
    namespace: Trail
    metric_name: LoginsByUser
    dimensions: {user: alice}
    statistic: p90
    evaluate_low_sample_count_percentile: ignore
    unit: Count
    period: 5m
    evaluation_periods: 1
    threshold: 2.5
    comparison_operator: GreaterThanThreshold
    actions_enabled: false
schedules:
  - name: office-hours
    expression: cron(0 9 ? * MON-FRI *)
    time_zone: Asia/Tokyo
    start: 2024-01-01T00:00:00Z
    end: 2025-01-01T00:00:00+09:00
    action: disable_alarm_actions
    alarms: [console-login]
  - name: after-hours
    expression: cron(0 18 ? * MON-FRI *)
    time_zone: Asia/Tokyo
    action: enable_alarm_actions
    alarms: [console-login, alice-logins]
  - name: mute-root
    expression: at(2024-12-24T18:00:00)
    enabled: false
    action: mute
    rules: [root-console-signin]
    routes: [root-mail]
  - name: unmute-root
    expression: rate(1 days)
    action: unmute
    routes: [root-mail]
`

func TestNativeMetrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := writeFile(t, dir, "trailwatch.yaml", nativeMetricsConfig)
	if err := mkdirAll(dir + "/rules"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "rules/root.yaml", ruleFile)
	cfg, err := Load([]string{p}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	zero := 0.0
	wantFilters := []*MetricFilter{
		{Name: "console-logins", LogGroupName: "aws-cloudtrail-logs", FilterPattern: "{ $.eventName = ConsoleLogin }",
			Transformations: []MetricTransformation{{MetricNamespace: "Trail", MetricName: "ConsoleLogins", MetricValue: "1", DefaultValue: &zero, Unit: "Count"}},
			Source:          p + ":8"},
		{Name: "by-user", FilterPattern: "{ $.eventName = ConsoleLogin }",
			Transformations: []MetricTransformation{{MetricNamespace: "Trail", MetricName: "LoginsByUser", MetricValue: "1", Dimensions: map[string]string{"user": "$.userIdentity.userName"}}},
			Source:          p + ":13"},
	}
	if !reflect.DeepEqual(cfg.MetricFilters, wantFilters) {
		t.Errorf("filters\n got %+v\nwant %+v", cfg.MetricFilters, wantFilters)
	}
	wantAlarms := []*Alarm{
		{Name: "console-login", Description: "someone signed in", Namespace: "Trail", MetricName: "ConsoleLogins", Statistic: "Sum",
			Period: Duration(10 * time.Second), EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 1,
			ComparisonOperator: "GreaterThanOrEqualToThreshold", TreatMissingData: "notBreaching", ActionsEnabled: boolp(true),
			AlarmActions: []string{"oncall"}, OKActions: []string{"oncall"}, Source: p + ":21"},
		{Name: "alice-logins", Namespace: "Trail", MetricName: "LoginsByUser", Dimensions: map[string]string{"user": "alice"},
			Statistic: "p90", EvaluateLowSampleCountPercentile: "ignore", Unit: "Count", Period: Duration(5 * time.Minute),
			EvaluationPeriods: 1, Threshold: 2.5, ComparisonOperator: "GreaterThanThreshold", ActionsEnabled: boolp(false), Source: p + ":34"},
	}
	if !reflect.DeepEqual(cfg.Alarms, wantAlarms) {
		t.Errorf("alarms\n got %+v\nwant %+v", cfg.Alarms, wantAlarms)
	}
	wantSchedules := []*Schedule{
		{Name: "office-hours", Expression: "cron(0 9 ? * MON-FRI *)", TimeZone: "Asia/Tokyo", Start: "2024-01-01T00:00:00Z",
			End: "2025-01-01T00:00:00+09:00", Action: ActionDisableAlarmActions, Alarms: []string{"console-login"}, Source: p + ":47"},
		{Name: "after-hours", Expression: "cron(0 18 ? * MON-FRI *)", TimeZone: "Asia/Tokyo", Action: ActionEnableAlarmActions,
			Alarms: []string{"console-login", "alice-logins"}, Source: p + ":54"},
		{Name: "mute-root", Expression: "at(2024-12-24T18:00:00)", Enabled: boolp(false), Action: ActionMute,
			Rules: []string{"root-console-signin"}, Routes: []string{"root-mail"}, Source: p + ":59"},
		{Name: "unmute-root", Expression: "rate(1 days)", Action: ActionUnmute, Routes: []string{"root-mail"}, Source: p + ":65"},
	}
	if !reflect.DeepEqual(cfg.Schedules, wantSchedules) {
		t.Errorf("schedules\n got %+v\nwant %+v", cfg.Schedules, wantSchedules)
	}
	if r := cfg.ActionReceivers("oncall"); len(r) != 1 || r[0] != "oncall" {
		t.Errorf("receivers of oncall: %q", r)
	}
	if r := cfg.ActionReceivers("nobody"); r != nil {
		t.Errorf("receivers of nobody: %q", r)
	}
}

// A native alarm may name the topic of a template's alarm actions.
func TestNativeAlarmOnTemplateTopic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := writeFile(t, dir, "x.yaml", `builtin_rules: false
alarms:
  - {name: mine, namespace: CloudTrailMerics, metric_name: ConsoleLogin, statistic: Sum, period: 1m, evaluation_periods: 1,
     threshold: 5, comparison_operator: GreaterThanThreshold, alarm_actions: ['arn:aws:sns:us-east-1:123456789012:console-login-alarm']}
schedules:
  - {name: off, expression: 'cron(0 9 ? * MON-FRI *)', action: disable_alarm_actions, alarms: [mine, ConsoleLogin]}
`)
	cfg, err := Load([]string{p}, []string{"testdata/seeds/seed002-console-login-alarm.yaml"}, map[string]string{"EmailAddress": seedEmail}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Alarms) != 2 || len(cfg.Schedules) != 3 || len(cfg.ActionReceivers(cfg.Alarms[0].AlarmActions[0])) != 1 {
		t.Errorf("alarms %+v schedules %d", cfg.Alarms, len(cfg.Schedules))
	}
}

func TestNativeMetricErrors(t *testing.T) {
	t.Parallel()
	const filter = "metric_filters:\n  - name: f\n    filter_pattern: '{ $.eventName = X }'\n    metric_transformations: [{metric_namespace: N, metric_name: M, metric_value: '1'}]\n"
	const alarmOK = "  - {name: a, namespace: N, metric_name: M, statistic: Sum, period: 1m, evaluation_periods: 1, threshold: 1, comparison_operator: GreaterThanThreshold}\n"
	cases := []struct {
		name, yaml string
		want       []string
		sentinel   error
	}{
		{"unknown filter key", "metric_filters:\n  - name: f\n    pattern: x\n",
			[]string{"x.yaml:3:5: metric_filters[0].pattern: unknown key (want one of name, log_group_name, filter_pattern, metric_transformations)"}, ErrUnknownKey},
		{"bad pattern", "metric_filters:\n  - name: f\n    filter_pattern: '{ $.a = 1 && }'\n    metric_transformations: [{metric_namespace: N, metric_name: M, metric_value: '1'}]\n",
			[]string{"x.yaml:3:5: metric_filters[0].filter_pattern: invalid filter pattern: column"}, nil},
		{"no transformation", "metric_filters:\n  - name: 'a:b'\n    filter_pattern: x\n",
			[]string{"x.yaml:2:5: metric_filters[0].name: must not contain ':' or '*'", "x.yaml:2:5: metric_filters[0].metric_transformations: want exactly one metric transformation (got 0)"}, nil},
		{"bad transformation", "metric_filters:\n  - name: f\n    filter_pattern: '[ip, user]'\n    metric_transformations: [{metric_namespace: '', metric_name: M, metric_value: $.x, dimensions: {a: $user, b: $nope, c: plain, d: $ip}}]\n",
			[]string{"metric_filters[0].metric_transformations[0].metric_namespace: missing", "metric_filters[0].metric_transformations[0].metric_value:",
				"metric_filters[0].metric_transformations[0].dimensions: at most 3 dimensions (got 4)", "metric_filters[0].metric_transformations[0].dimensions.b:",
				`metric_filters[0].metric_transformations[0].dimensions.c: want a field of the pattern ($.field or $name), got "plain"`}, nil},
		{"bad default", "metric_filters:\n  - name: f\n    filter_pattern: x\n    metric_transformations: [{metric_namespace: N, metric_name: M, metric_value: '1', default_value: zero}]\n",
			[]string{"x.yaml:4:102: metric_filters[0].metric_transformations[0].default_value: want a number"}, nil},
		{"duplicate filter", filter + "  - name: f\n    filter_pattern: x\n    metric_transformations: [{metric_namespace: N, metric_name: M, metric_value: '1'}]\n",
			[]string{`x.yaml:5:5: metric_filters[1].name: duplicate metric filter name "f" (first defined at x.yaml:3)`}, nil},
		{"bad alarm", filter + "alarms:\n  - name: a\n    namespace: N\n    metric_name: M\n    statistic: Median\n    period: 45s\n    evaluation_periods: 0\n    threshold: .nan\n    comparison_operator: GreaterThanOrEqualTo\n    treat_missing_data: zero\n    unit: Parsecs\n",
			[]string{`x.yaml:9:5: alarms[0].statistic: statistic "Median" at offset 0`, "x.yaml:10:5: alarms[0].period: The parameter Period must be 10, 20, 30, or a multiple of 60, got 45",
				"x.yaml:11:5: alarms[0].evaluation_periods: value '0' at 'evaluationPeriods' failed to satisfy constraint", "x.yaml:12:16: alarms[0].threshold: want a number",
				"x.yaml:13:5: alarms[0].comparison_operator: value 'GreaterThanOrEqualTo'", "x.yaml:14:5: alarms[0].treat_missing_data: value 'zero'", "x.yaml:15:5: alarms[0].unit: value 'Parsecs'"}, nil},
		{"unknown action", filter + "alarms:\n" + strings.TrimSuffix(alarmOK, "}\n") + ", alarm_actions: [pager]}\n",
			[]string{`x.yaml:6:169: alarms[0].alarm_actions[0]: no receiver named "pager" and no SNS topic with that ARN`}, nil},
		{"no filter for alarm", filter + "alarms:\n" + strings.Replace(alarmOK, "metric_name: M", "metric_name: Typo", 1),
			[]string{"x.yaml:6:29: alarms[0].metric_name: no metric filter produces metric Typo in namespace N"}, nil},
		{"dimension mismatch", filter + "alarms:\n" + strings.Replace(alarmOK, "metric_name: M", "metric_name: M, dimensions: {user: bob}", 1),
			[]string{"x.yaml:6:29: alarms[0].metric_name: metric M in namespace N has no datapoints with dimensions [user] (its metric filters give [none])"}, nil},
		{"duplicate alarm", filter + "alarms:\n" + alarmOK + alarmOK,
			[]string{`x.yaml:7:6: alarms[1].name: duplicate alarm name "a" (first defined at`}, nil},
		{"bad schedules", filter + "alarms:\n" + alarmOK + "schedules:\n" +
			"  - {name: 'a b', expression: 'cron(0 9 * * * *)', time_zone: Mars/Olympus, action: disable_alarm_actions, alarms: [a, b]}\n" +
			"  - {name: s, expression: 'rate(5 minutes)', start: tomorrow, action: mute}\n" +
			"  - {name: t, expression: 'rate(5 minutes)', action: snooze}\n" +
			"  - {name: u, expression: 'rate(5 minutes)', action: unmute, rules: [nope], routes: [nope], alarms: [a]}\n" +
			"  - {name: v, expression: 'rate(5 minutes)', action: enable_alarm_actions, start: '2024-02-01T00:00:00Z', end: '2024-01-01T00:00:00Z'}\n",
			[]string{"x.yaml:8:6: schedules[0].name: want 1 to 64 letters", `x.yaml:8:52: schedules[0].time_zone: unknown time zone "Mars/Olympus"`,
				`x.yaml:8:19: schedules[0].expression: invalid schedule expression "cron(0 9 * * * *)": column`, `x.yaml:8:120: schedules[0].alarms[1]: no alarm named "b"`,
				`x.yaml:9:46: schedules[1].start: want an RFC 3339 time`, "x.yaml:9:5: schedules[1]: give the rules or routes to mute",
				`x.yaml:10:46: schedules[2].action: unknown action "snooze"`,
				`schedules[3].rules[0]: no rule named "nope"`, `schedules[3].routes[0]: no route named "nope"`, "schedules[3].alarms: alarms are for disable_alarm_actions",
				"schedules[4].alarms: missing (the alarms whose actions to switch)", "x.yaml:12:107: schedules[4].end: must be after start"}, nil},
		{"actions without builtin", "builtin_metrics_actions: [x]\n", []string{"x.yaml:1:27: builtin_metrics_actions[0]: given without builtin_metrics: true"}, nil},
		{"bad builtin action", "builtin_metrics: true\nbuiltin_metrics_actions: [x]\n", []string{`x.yaml:2:27: builtin_metrics_actions[0]: no receiver named "x" and no SNS topic with that ARN`}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := writeFile(t, dir, "x.yaml", "builtin_rules: false\n"+c.yaml)
			_, err := Load([]string{p}, nil, nil, nil)
			if err == nil {
				t.Fatal("want an error")
			}
			msg := strings.ReplaceAll(err.Error(), dir+"/", "")
			for _, w := range c.want {
				w = shiftLine(w)
				if !strings.Contains(msg, w) {
					t.Errorf("got  %s\nwant %s", msg, w)
				}
			}
			if c.sentinel != nil && !errors.Is(err, c.sentinel) {
				t.Errorf("errors.Is(%v) false", c.sentinel)
			}
		})
	}
}

// FuzzLoadNative: decoding and checking any native file never panics.
func FuzzLoadNative(f *testing.F) {
	f.Add([]byte(nativeMetricsConfig))
	f.Add([]byte(exampleConfig))
	f.Add([]byte("builtin_metrics: true\nbuiltin_metrics_actions: [x]\n"))
	f.Add([]byte("alarms:\n  - {name: a, threshold: 1e400, period: 10s}\nmetric_filters:\n  - {name: f, filter_pattern: '[a, b = 4*]', metric_transformations: [{metric_value: $b, dimensions: {x: $a}}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := &errList{}
		fc, positions := decodeNative(l, "fuzz.yaml", data, nil)
		filters, alarms, schedules := nativeMetrics(fc, "fuzz.yaml", positions, nil, nil, nil)
		checkMetrics(l, &Config{}, filters, alarms, schedules, map[string]bool{}, nil)
	})
}
