package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const compositeBase = `builtin_rules: false
receivers:
  - {name: oncall, email: {to: [oncall@example.com]}}
metric_filters:
  - name: logins
    filter_pattern: '{ $.eventName = ConsoleLogin }'
    metric_transformations:
      - {metric_namespace: Trail, metric_name: Logins, metric_value: '1', default_value: 0}
alarms:
  - {name: a, namespace: Trail, metric_name: Logins, statistic: Sum, period: 1m, evaluation_periods: 1, threshold: 1, comparison_operator: GreaterThanOrEqualToThreshold}
  - {name: b, namespace: Trail, metric_name: Logins, statistic: Sum, period: 1m, evaluation_periods: 1, threshold: 5, comparison_operator: GreaterThanOrEqualToThreshold}
`

func loadNativeText(t *testing.T, text string) (*Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "trailwatch.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load([]string{p}, nil, nil, nil)
}

func TestNativeCompositeAlarms(t *testing.T) {
	cfg, err := loadNativeText(t, compositeBase+`composite_alarms:
  - name: outer
    rule: ALARM(both) AND NOT OK("a")
    alarm_actions: [oncall]
  - name: both
    description: a and b
    rule: ALARM(a) AND ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:b)
    actions_enabled: false
    ok_actions: [oncall]
schedules:
  - {name: quiet, expression: 'cron(0 22 * * ? *)', action: disable_alarm_actions, alarms: [outer, a]}
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.CompositeAlarms) != 2 {
		t.Fatalf("composites %+v", cfg.CompositeAlarms)
	}
	// Each after the composites it references.
	both, outer := cfg.CompositeAlarms[0], cfg.CompositeAlarms[1]
	want := &CompositeAlarm{Name: "both", Description: "a and b", Rule: "ALARM(a) AND ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:b)",
		ActionsEnabled: boolp(false), OKActions: []string{"oncall"}, Source: both.Source}
	if !reflect.DeepEqual(both, want) {
		t.Errorf("both\n got %+v\nwant %+v", both, want)
	}
	if outer.Name != "outer" || !strings.HasSuffix(outer.Source, "trailwatch.yaml:13") {
		t.Errorf("outer %+v", outer)
	}
	if c := outer.CompositeConfig(); !c.ActionsEnabled || c.AlarmActions[0] != "oncall" {
		t.Errorf("outer's alarm config %+v", c)
	}
}

func TestNativeCompositeAlarmErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"bad rule", `  - {name: c, rule: 'ALARM(a) AND'}`, `composite_alarms[0].rule: alarm rule: at position 13: expected ALARM(...)`},
		{"unknown alarm", `  - {name: c, rule: 'ALARM(a) OR ALARM(nope)'}`, `composite alarm "c" references alarm "nope", which no configuration defines`},
		{"cycle", "  - {name: c, rule: 'ALARM(d)'}\n  - {name: d, rule: 'ALARM(c) OR ALARM(a)'}", `composite alarms reference each other in a cycle: c -> d -> c`},
		{"itself", `  - {name: c, rule: 'ALARM(c)'}`, `references the composite alarm itself`},
		{"duplicate", "  - {name: c, rule: TRUE}\n  - {name: c, rule: FALSE}", `duplicate alarm name "c"`},
		{"metric alarm's name", `  - {name: a, rule: TRUE}`, `alarm name "a" is a metric alarm's too`},
		{"missing rule", `  - {name: c}`, `composite_alarms[0].rule: alarm rule: at position 1: empty rule`},
		{"unknown action", `  - {name: c, rule: TRUE, alarm_actions: [pager]}`, `composite_alarms[0].alarm_actions[0]: no receiver named "pager"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadNativeText(t, compositeBase+"composite_alarms:\n"+tc.yaml+"\n")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

const compositeTemplate = `Parameters:
  Env: {Type: String, Default: prod}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      Subscription: [{Protocol: email, Endpoint: ops@example.com}]
  Logins:
    Type: AWS::Logs::MetricFilter
    Properties:
      LogGroupName: trail
      FilterPattern: '{ $.eventName = ConsoleLogin }'
      MetricTransformations: [{MetricNamespace: Trail, MetricName: Logins, MetricValue: '1'}]
  Many:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub '${Env}-many'
      Namespace: Trail
      MetricName: Logins
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 10
      ComparisonOperator: GreaterThanThreshold
  Any:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: Trail
      MetricName: Logins
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
  CPU:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/EC2
      MetricName: CPUUtilization
      Statistic: Average
      Period: 60
      EvaluationPeriods: 1
      Threshold: 90
      ComparisonOperator: GreaterThanThreshold
  Both:
    Type: AWS::CloudWatch::CompositeAlarm
    Properties:
      AlarmName: !Sub '${Env}-both'
      AlarmDescription: many and any
      AlarmRule: !Sub 'ALARM(${Many}) AND ALARM("${Any.Arn}")'
      AlarmActions: [!Ref Topic]
      OKActions: [!Ref Topic]
  Outer:
    Type: AWS::CloudWatch::CompositeAlarm
    Properties:
      AlarmRule: !Join [' ', [ALARM(, !Ref Both, ') OR TRUE']]
      ActionsEnabled: false
      ActionsSuppressor: !GetAtt Any.Arn
      ActionsSuppressorWaitPeriod: 120
      ActionsSuppressorExtensionPeriod: 180
  WithCPU:
    Type: AWS::CloudWatch::CompositeAlarm
    Properties:
      AlarmRule: !Sub 'ALARM(${CPU}) OR ALARM(${Any})'
`

func TestTemplateCompositeAlarms(t *testing.T) {
	cfg, err := loadTemplateText(t, compositeTemplate, nil)
	if err != nil {
		t.Fatal(err)
	}
	containsAll(t, "skipped", cfg.Skipped, []string{
		"CPU (AWS::CloudWatch::Alarm): no metric filter produces metric CPUUtilization",
		`WithCPU (AWS::CloudWatch::CompositeAlarm): references alarm "CPU", which is not run: not run`,
	})
	if len(cfg.CompositeAlarms) != 2 {
		t.Fatalf("composites %+v", cfg.CompositeAlarms)
	}
	const topic = "arn:aws:sns:us-east-1:123456789012:"
	both, outer := cfg.CompositeAlarms[0], cfg.CompositeAlarms[1]
	if both.Name != "prod-both" || both.Description != "many and any" ||
		both.Rule != `ALARM(prod-many) AND ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:Any")` ||
		*both.ActionsEnabled != true || len(both.AlarmActions) != 1 || !strings.HasPrefix(both.AlarmActions[0], topic) {
		t.Errorf("both %+v", both)
	}
	if outer.Name != "Outer" || outer.Rule != "ALARM( prod-both ) OR TRUE" || *outer.ActionsEnabled {
		t.Errorf("outer %+v", outer)
	}
	for _, s := range cfg.Skipped {
		if strings.Contains(s, "Outer") {
			t.Errorf("skipped %q", s)
		}
	}
	oc := outer.CompositeConfig()
	if oc.ActionsSuppressor != "arn:aws:cloudwatch:us-east-1:123456789012:alarm:Any" ||
		oc.ActionsSuppressorWaitPeriod != 120*time.Second || oc.ActionsSuppressorExtensionPeriod != 180*time.Second {
		t.Errorf("outer's suppressor %q %v %v", oc.ActionsSuppressor, oc.ActionsSuppressorWaitPeriod, oc.ActionsSuppressorExtensionPeriod)
	}
}

func TestTemplateCompositeSuppressorErrors(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"negative period", "ActionsSuppressorWaitPeriod: 120", "ActionsSuppressorWaitPeriod: -1", "ActionsSuppressorWaitPeriod must not be negative"},
		{"unknown suppressor", "ActionsSuppressor: !GetAtt Any.Arn", "ActionsSuppressor: Nope",
			`composite alarm "Outer" has as actions suppressor alarm "Nope", which no configuration defines`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(compositeTemplate, tc.from, tc.to, 1)
			if text == compositeTemplate {
				t.Fatalf("%q not in the template", tc.from)
			}
			_, err := loadTemplateText(t, text, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

func TestTemplateCompositeSuppressorWithoutPeriods(t *testing.T) {
	text := strings.Replace(compositeTemplate, "      ActionsSuppressorExtensionPeriod: 180\n", "", 1)
	cfg, err := loadTemplateText(t, text, nil)
	if err != nil {
		t.Fatal(err)
	}
	containsAll(t, "skipped", cfg.Skipped, []string{
		"Outer (AWS::CloudWatch::CompositeAlarm): ActionsSuppressor is not supported without ActionsSuppressorExtensionPeriod",
		"CPU (AWS::CloudWatch::Alarm): no metric filter produces metric CPUUtilization",
		`WithCPU (AWS::CloudWatch::CompositeAlarm): references alarm "CPU", which is not run: not run`,
	})
	for _, a := range cfg.CompositeAlarms {
		if c := a.CompositeConfig(); c.ActionsSuppressor != "" || c.ActionsSuppressorWaitPeriod != 0 {
			t.Errorf("%s runs with suppressor %q %v", a.Name, c.ActionsSuppressor, c.ActionsSuppressorWaitPeriod)
		}
	}
}

func TestNativeCompositeSuppressor(t *testing.T) {
	cfg, err := loadNativeText(t, compositeBase+`composite_alarms:
  - {name: defaults, rule: ALARM(a), actions_suppressor: quiet}
  - {name: set, rule: ALARM(a), actions_suppressor: b, actions_suppressor_wait_period: 2m, actions_suppressor_extension_period: 30s}
  - {name: none, rule: ALARM(a)}
  - {name: quiet, rule: ALARM(b)}
`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var order []string
	for _, a := range cfg.CompositeAlarms {
		c := a.CompositeConfig()
		got[a.Name] = fmt.Sprintf("%s %v %v", c.ActionsSuppressor, c.ActionsSuppressorWaitPeriod, c.ActionsSuppressorExtensionPeriod)
		order = append(order, a.Name)
	}
	want := map[string]string{"quiet": " 0s 0s", "defaults": "quiet 1m0s 1m0s", "set": "b 2m0s 30s", "none": " 0s 0s"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	// A composite suppressor comes first: the alarm set needs it to exist.
	if slices.Index(order, "quiet") > slices.Index(order, "defaults") {
		t.Errorf("order %v", order)
	}
}

func TestNativeCompositeSuppressorErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown suppressor", `  - {name: c, rule: ALARM(a), actions_suppressor: nope}`,
			`composite_alarms[0].actions_suppressor: composite alarm "c" has as actions suppressor alarm "nope", which no configuration defines`},
		{"period without suppressor", `  - {name: c, rule: ALARM(a), actions_suppressor_wait_period: 1m}`,
			`composite_alarms[0].actions_suppressor_wait_period: ActionsSuppressorWaitPeriod is set but ActionsSuppressor is not`},
		{"fraction of a second", `  - {name: c, rule: ALARM(a), actions_suppressor: b, actions_suppressor_extension_period: 1500ms}`,
			`ActionsSuppressorExtensionPeriod must be whole seconds`},
		{"itself", `  - {name: c, rule: ALARM(a), actions_suppressor: c}`, `names the composite alarm itself`},
		{"not a duration", `  - {name: c, rule: ALARM(a), actions_suppressor: b, actions_suppressor_wait_period: soon}`, `duration "soon"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadNativeText(t, compositeBase+"composite_alarms:\n"+tc.yaml+"\n")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

func TestTemplateCompositeAlarmErrors(t *testing.T) {
	text := strings.Replace(compositeTemplate, `!Sub 'ALARM(${Many}) AND ALARM("${Any.Arn}")'`, `'ALARM(Many) AND'`, 1)
	_, err := loadTemplateText(t, text, nil)
	if err == nil || !strings.Contains(err.Error(), "Resources.Both.Properties.AlarmRule: alarm rule: at position 16") {
		t.Errorf("got %v", err)
	}
}
