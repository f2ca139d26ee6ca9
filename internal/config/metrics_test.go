package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

const seedEmail = "ops@example.com"

func loadSeed(t *testing.T, files ...string) *Config {
	t.Helper()
	var paths []string
	for _, f := range files {
		paths = append(paths, "testdata/seeds/"+f)
	}
	params := map[string]string{"EmailAddress": seedEmail}
	if len(files) > 1 {
		params["SlackIncomingWebhookUrl"] = "https://hooks.slack.com/x"
	}
	cfg, err := Load(nil, paths, params, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func boolp(b bool) *bool { return &b }

// Seed 002: the ConsoleLogin metric filter, its 10-second alarm to the
// topic's email subscription, and the business-hours schedules, with
// nothing skipped.
func TestSeed002ConsoleLoginAlarm(t *testing.T) {
	t.Parallel()
	cfg := loadSeed(t, "seed002-console-login-alarm.yaml")
	if len(cfg.Skipped) != 0 || len(cfg.Rules) != 0 || len(cfg.Routes) != 0 {
		t.Errorf("skipped %q, rules %d, routes %d", cfg.Skipped, len(cfg.Rules), len(cfg.Routes))
	}
	wantFilter := &MetricFilter{
		Name: "ConsoleLogin", LogGroupName: "aws-cloudtrail-logs", FilterPattern: "{ ($.eventName = ConsoleLogin) }",
		Transformations: []MetricTransformation{{MetricNamespace: "CloudTrailMerics", MetricName: "ConsoleLogin", MetricValue: "1"}},
		Source:          "testdata/seeds/seed002-console-login-alarm.yaml:15",
	}
	if len(cfg.MetricFilters) != 1 || !reflect.DeepEqual(cfg.MetricFilters[0], wantFilter) {
		t.Errorf("filters %+v", cfg.MetricFilters)
	}
	const topic = "arn:aws:sns:us-east-1:123456789012:console-login-alarm"
	wantAlarm := &Alarm{
		Name: "ConsoleLogin", Description: "Someone signed in to the AWS Management Console",
		Namespace: "CloudTrailMerics", MetricName: "ConsoleLogin", Statistic: "Sum",
		Period: Duration(10 * time.Second), EvaluationPeriods: 1, Threshold: 1,
		ComparisonOperator: "GreaterThanOrEqualToThreshold", TreatMissingData: "notBreaching",
		ActionsEnabled: boolp(true), AlarmActions: []string{topic},
		Source: "testdata/seeds/seed002-console-login-alarm.yaml:25",
	}
	if len(cfg.Alarms) != 1 || !reflect.DeepEqual(cfg.Alarms[0], wantAlarm) {
		t.Fatalf("alarms %+v", cfg.Alarms)
	}
	recv := cfg.ActionReceivers(topic)
	if len(recv) != 1 || recv[0] != "seed002-console-login-alarm/AlarmTopic/0" {
		t.Fatalf("receivers of %s: %q", topic, recv)
	}
	if r := receiverByName(cfg, recv[0]); r == nil || r.Email == nil || r.Email.To[0] != seedEmail || !r.Email.Raw {
		t.Errorf("receiver %+v", r)
	}
	wantSchedules := []*Schedule{
		{Name: "DisableInBusinessHours", Expression: "cron(0 9 ? * MON-FRI *)", TimeZone: "Asia/Tokyo",
			Action: ActionDisableAlarmActions, Alarms: []string{"ConsoleLogin"}, Source: "testdata/seeds/seed002-console-login-alarm.yaml:58"},
		{Name: "EnableAfterHours", Expression: "cron(0 18 ? * MON-FRI *)", TimeZone: "Asia/Tokyo",
			Action: ActionEnableAlarmActions, Alarms: []string{"ConsoleLogin"}, Source: "testdata/seeds/seed002-console-login-alarm.yaml:68"},
	}
	if !reflect.DeepEqual(cfg.Schedules, wantSchedules) {
		t.Errorf("schedules:\n got %+v\nwant %+v", cfg.Schedules, wantSchedules)
	}
	ac := cfg.Alarms[0].AlarmConfig()
	if err := ac.Validate(); err != nil || !ac.ActionsEnabled || ac.Period != 10*time.Second || ac.Metric != "ConsoleLogin" {
		t.Errorf("alarm config %+v: %v", ac, err)
	}
	if _, err := alarm.New(ac, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Error(err)
	}
}

// Seed 004: the CIS IAM policy changes filter (verbatim), its Maximum
// alarm with threshold 0, to the topic's email subscription.
func TestSeed004IAMPolicyAlarm(t *testing.T) {
	t.Parallel()
	cfg := loadSeed(t, "seed004-iam-policy-alarm.yaml")
	if len(cfg.Skipped) != 0 || len(cfg.Schedules) != 0 {
		t.Errorf("skipped %q, schedules %d", cfg.Skipped, len(cfg.Schedules))
	}
	const pattern = "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}"
	zero := 0.0
	wantFilter := &MetricFilter{
		Name: "IAMPolicyChanges", LogGroupName: "CloudTrail/DefaultLogGroup", FilterPattern: pattern,
		Transformations: []MetricTransformation{{MetricNamespace: "CloudTrailMetrics", MetricName: "IAMPolicyEventCount", MetricValue: "1", DefaultValue: &zero}},
		Source:          "testdata/seeds/seed004-iam-policy-alarm.yaml:14",
	}
	if len(cfg.MetricFilters) != 1 || !reflect.DeepEqual(cfg.MetricFilters[0], wantFilter) {
		t.Errorf("filters %+v", cfg.MetricFilters)
	}
	// The topic has no TopicName: CloudFormation's generated name.
	const topic = "arn:aws:sns:us-east-1:123456789012:seed004-iam-policy-alarm-AlarmTopic"
	wantAlarm := &Alarm{
		Name: "IAMPolicyChanges", Namespace: "CloudTrailMetrics", MetricName: "IAMPolicyEventCount", Statistic: "Maximum",
		Period: Duration(5 * time.Minute), EvaluationPeriods: 1, Threshold: 0,
		ComparisonOperator: "GreaterThanThreshold", TreatMissingData: "notBreaching",
		ActionsEnabled: boolp(true), AlarmActions: []string{topic},
		Source: "testdata/seeds/seed004-iam-policy-alarm.yaml:25",
	}
	if len(cfg.Alarms) != 1 || !reflect.DeepEqual(cfg.Alarms[0], wantAlarm) {
		t.Fatalf("alarms %+v", cfg.Alarms)
	}
	recv := cfg.ActionReceivers(topic)
	if len(recv) != 1 || receiverByName(cfg, recv[0]).Email == nil {
		t.Errorf("receivers of %s: %q", topic, recv)
	}
}

// All four seeds together: one config.
func TestSeedsTogether(t *testing.T) {
	t.Parallel()
	cfg := loadSeed(t, "seed000-root-signin.yaml", "seed001-notify.yaml", "seed002-console-login-alarm.yaml", "seed004-iam-policy-alarm.yaml")
	if len(cfg.Rules) != 2 || len(cfg.Routes) != 2 || len(cfg.Receivers) != 4 || len(cfg.Skipped) != 0 ||
		len(cfg.MetricFilters) != 2 || len(cfg.Alarms) != 2 || len(cfg.Schedules) != 2 || len(cfg.Topics) != 3 {
		t.Errorf("rules %d routes %d receivers %d skipped %q filters %d alarms %d schedules %d topics %d", len(cfg.Rules), len(cfg.Routes),
			len(cfg.Receivers), cfg.Skipped, len(cfg.MetricFilters), len(cfg.Alarms), len(cfg.Schedules), len(cfg.Topics))
	}
}

func containsAll(t *testing.T, what string, got []string, want []string) {
	t.Helper()
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, all)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d, want %d:\n%s", what, len(got), len(want), all)
	}
}
