package config

import (
	"reflect"
	"regexp"
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

// metricsTemplate has every property of the three resource types, and
// the things Trailwatch reports in Skipped.
const metricsTemplate = `
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: alarms
      Subscription: [{Protocol: email, Endpoint: ops@example.com}]
  Silent:
    Type: AWS::SNS::Topic
    Properties: {TopicName: silent}
  Fn:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: fn}
  Bytes:
    Type: AWS::Logs::MetricFilter
    Properties:
      LogGroupName: trail
      FilterPattern: '{ $.eventSource = s3.amazonaws.com && $.additionalEventData.bytesTransferredOut > 0 }'
      MetricTransformations:
        - MetricNamespace: Trail
          MetricName: BytesOut
          MetricValue: $.additionalEventData.bytesTransferredOut
          Unit: Bytes
          Dimensions: [{Key: Bucket, Value: $.requestParameters.bucketName}]
  Errors:
    Type: AWS::Logs::MetricFilter
    Properties:
      FilterName: errors
      LogGroupName: trail
      FilterPattern: '{ $.errorCode = * }'
      MetricTransformations: [{MetricNamespace: Trail, MetricName: Errors, MetricValue: '1', DefaultValue: 0}]
  BytesAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: !Sub 'big downloads in ${AWS::Region}'
      Namespace: Trail
      MetricName: BytesOut
      Dimensions: [{Name: Bucket, Value: secrets}]
      ExtendedStatistic: p99
      EvaluateLowSampleCountPercentile: ignore
      Unit: Bytes
      Period: '60'
      EvaluationPeriods: 5
      DatapointsToAlarm: 3
      Threshold: 1.5e6
      ComparisonOperator: GreaterThanThreshold
      ActionsEnabled: false
      AlarmActions: [!Ref Topic, arn:aws:sns:eu-west-1:210987654321:elsewhere, !GetAtt Fn.Arn, !Ref Silent]
      OKActions: [!Ref Topic, 'arn:aws:automate:us-east-1:ec2:stop']
      InsufficientDataActions: [!Ref Topic]
  ErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: errors-high
      Namespace: Trail
      MetricName: Errors
      Statistic: Average
      Period: 300
      EvaluationPeriods: 1
      Threshold: 0.5
      ComparisonOperator: LessThanOrEqualToThreshold
      TreatMissingData: ignore
  CPUAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/EC2
      MetricName: CPUUtilization
      Statistic: Average
      Period: 300
      EvaluationPeriods: 1
      Threshold: 90
      ComparisonOperator: GreaterThanThreshold
  MathAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      EvaluationPeriods: 1
      ComparisonOperator: GreaterThanThreshold
      Threshold: 1
      Metrics: [{Id: m1, Expression: 'SUM(METRICS())'}]
  AnomalyAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      EvaluationPeriods: 1
      ComparisonOperator: GreaterThanUpperThreshold
      ThresholdMetricId: ad1
      Metrics: [{Id: ad1, Expression: 'ANOMALY_DETECTION_BAND(m1, 2)'}]
  Quiet:
    Type: AWS::Scheduler::Schedule
    Properties:
      Name: quiet
      GroupName: ops
      Description: nights off
      ScheduleExpression: cron(0 22 * * ? *)
      ScheduleExpressionTimezone: Europe/Paris
      StartDate: '2024-01-01T00:00:00Z'
      EndDate: '2024-12-31T23:59:59.000Z'
      State: DISABLED
      ActionAfterCompletion: NONE
      FlexibleTimeWindow: {Mode: FLEXIBLE, MaximumWindowInMinutes: 15}
      Target:
        Arn: arn:aws:scheduler:::aws-sdk:cloudwatch:disableAlarmActions
        RoleArn: arn:aws:iam::123456789012:role/s
        Input: !Sub '{"AlarmNames":["${ErrorsAlarm}","${BytesAlarm}","other-stack-alarm"]}'
        RetryPolicy: {MaximumRetryAttempts: 3}
  Morning:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: at(2024-06-01T08:00:00)
      FlexibleTimeWindow: {Mode: 'OFF'}
      Target:
        Arn: arn:aws:scheduler:::aws-sdk:cloudwatch:enableAlarmActions
        RoleArn: arn:aws:iam::123456789012:role/s
        Input: {AlarmNames: [errors-high]}
  Invoke:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: rate(5 minutes)
      FlexibleTimeWindow: {Mode: 'OFF'}
      Target: {Arn: !GetAtt Fn.Arn, RoleArn: arn:aws:iam::123456789012:role/s}
  Hourly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 hour)
      Targets:
        - {Id: on, Arn: arn:aws:scheduler:::aws-sdk:cloudwatch:enableAlarmActions, Input: '{"AlarmNames":["errors-high"]}'}
        - {Id: mail, Arn: !Ref Topic}
Outputs:
  AlarmArn: {Value: !GetAtt ErrorsAlarm.Arn}
  ScheduleArn: {Value: !GetAtt Quiet.Arn}
`

func TestTemplateMetrics(t *testing.T) {
	t.Parallel()
	cfg, err := loadTemplateText(t, metricsTemplate, nil)
	if err != nil {
		t.Fatal(err)
	}
	containsAll(t, "skipped", cfg.Skipped, []string{
		"Fn (AWS::Lambda::Function): resource type not supported",
		"BytesAlarm (AWS::CloudWatch::Alarm): AlarmActions[2]: Fn (AWS::Lambda::Function) actions are not supported",
		"BytesAlarm (AWS::CloudWatch::Alarm): AlarmActions[3]: topic Silent has no subscription Trailwatch delivers to",
		"BytesAlarm (AWS::CloudWatch::Alarm): OKActions[1]: automate actions (arn:aws:automate:us-east-1:ec2:stop) are not supported",
		"CPUAlarm (AWS::CloudWatch::Alarm): no metric filter produces metric CPUUtilization in namespace AWS/EC2",
		"MathAlarm (AWS::CloudWatch::Alarm): metric math alarms (Metrics) are not supported",
		"AnomalyAlarm (AWS::CloudWatch::Alarm): metric math alarms (Metrics) are not supported",
		"Invoke (AWS::Scheduler::Schedule): Target target lambda is not run",
		"Hourly (AWS::Events::Rule): Targets[1] target sns is not run",
		`Quiet (AWS::Scheduler::Schedule): names alarm "other-stack-alarm", which nothing loaded defines`,
	})
	if len(cfg.MetricFilters) != 2 {
		t.Fatalf("filters %+v", cfg.MetricFilters)
	}
	bytes := cfg.MetricFilters[0]
	if bytes.Name != "Bytes" || bytes.LogGroupName != "trail" || len(bytes.Transformations) != 1 {
		t.Errorf("filter %+v", bytes)
	}
	mt := bytes.Transformations[0]
	if mt.MetricValue != "$.additionalEventData.bytesTransferredOut" || mt.Unit != "Bytes" || mt.DefaultValue != nil ||
		!reflect.DeepEqual(mt.Dimensions, map[string]string{"Bucket": "$.requestParameters.bucketName"}) {
		t.Errorf("transformation %+v", mt)
	}
	if d := cfg.MetricFilters[1].Transformations[0].DefaultValue; cfg.MetricFilters[1].Name != "errors" || d == nil || *d != 0 {
		t.Errorf("errors filter %+v", cfg.MetricFilters[1])
	}
	if len(cfg.Alarms) != 2 {
		t.Fatalf("alarms %+v", cfg.Alarms)
	}
	const topic = "arn:aws:sns:us-east-1:123456789012:alarms"
	const other = "arn:aws:sns:eu-west-1:210987654321:elsewhere"
	want := &Alarm{
		Name: "BytesAlarm", Description: "big downloads in us-east-1", Namespace: "Trail", MetricName: "BytesOut",
		Dimensions: map[string]string{"Bucket": "secrets"}, Statistic: "p99", EvaluateLowSampleCountPercentile: "ignore",
		Unit: "Bytes", Period: Duration(time.Minute), EvaluationPeriods: 5, DatapointsToAlarm: 3, Threshold: 1.5e6,
		ComparisonOperator: "GreaterThanThreshold", ActionsEnabled: boolp(false),
		AlarmActions: []string{topic, other}, OKActions: []string{topic}, InsufficientDataActions: []string{topic},
		Source: cfg.Alarms[0].Source,
	}
	if !reflect.DeepEqual(cfg.Alarms[0], want) {
		t.Errorf("alarm\n got %+v\nwant %+v", cfg.Alarms[0], want)
	}
	if r := cfg.ActionReceivers(other); len(r) != 1 || receiverByName(cfg, r[0]).SNS.TopicARN != other || receiverByName(cfg, r[0]).SNS.Region != "eu-west-1" {
		t.Errorf("external topic receivers %q", r)
	}
	e := cfg.Alarms[1]
	if e.Name != "errors-high" || e.Statistic != "Average" || e.TreatMissingData != "ignore" || *e.ActionsEnabled != true || e.Period != Duration(5*time.Minute) {
		t.Errorf("alarm %+v", e)
	}
	wantSchedules := []*Schedule{
		{Name: "ops/quiet", Expression: "cron(0 22 * * ? *)", TimeZone: "Europe/Paris", Start: "2024-01-01T00:00:00Z",
			End: "2024-12-31T23:59:59.000Z", Enabled: boolp(false), Action: ActionDisableAlarmActions,
			Alarms: []string{"errors-high", "BytesAlarm", "other-stack-alarm"}},
		{Name: "Morning", Expression: "at(2024-06-01T08:00:00)", Action: ActionEnableAlarmActions, Alarms: []string{"errors-high"}},
		{Name: "Hourly/on", Expression: "rate(1 hour)", Action: ActionEnableAlarmActions, Alarms: []string{"errors-high"}},
	}
	if len(cfg.Schedules) != len(wantSchedules) {
		t.Fatalf("schedules %+v", cfg.Schedules)
	}
	for i, w := range wantSchedules {
		w.Source = cfg.Schedules[i].Source
		if !reflect.DeepEqual(cfg.Schedules[i], w) {
			t.Errorf("schedule %d\n got %+v\nwant %+v", i, cfg.Schedules[i], w)
		}
	}
}

func TestTemplateMetricErrors(t *testing.T) {
	t.Parallel()
	const filter = "Resources:\n  F:\n    Type: AWS::Logs::MetricFilter\n    Properties:\n      LogGroupName: g\n"
	const alarmHead = "Resources:\n  F: {Type: AWS::Logs::MetricFilter, Properties: {LogGroupName: g, FilterPattern: '', MetricTransformations: [{MetricNamespace: N, MetricName: M, MetricValue: '1'}]}}\n" +
		"  A:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      Namespace: N\n      MetricName: M\n"
	const sched = "Resources:\n  S:\n    Type: AWS::Scheduler::Schedule\n    Properties:\n"
	cases := []struct{ name, text, want string }{
		{"bad pattern", filter + "      FilterPattern: '{ $.a = }'\n      MetricTransformations: [{MetricNamespace: N, MetricName: M, MetricValue: '1'}]\n",
			"stack.yaml:6:22: Resources.F.Properties.FilterPattern: invalid filter pattern: column"},
		{"missing pattern", filter, "stack.yaml:5:7: Resources.F.Properties.FilterPattern: missing"},
		{"two transformations", filter + "      FilterPattern: x\n      MetricTransformations: [{MetricNamespace: N, MetricName: M, MetricValue: '1'}, {MetricNamespace: N, MetricName: O, MetricValue: '1'}]\n",
			"stack.yaml:7:30: Resources.F.Properties.MetricTransformations: want exactly one metric transformation (got 2)"},
		{"bad metric value", filter + "      FilterPattern: '{ $.a = 1 }'\n      MetricTransformations: [{MetricNamespace: N, MetricName: M, MetricValue: $size}]\n",
			"stack.yaml:7:80: Resources.F.Properties.MetricTransformations[0].MetricValue: metric value $size: not a JSON selector"},
		{"dimensions with default", filter + "      FilterPattern: '{ $.a = 1 }'\n      MetricTransformations: [{MetricNamespace: N, MetricName: M, MetricValue: '1', DefaultValue: 0, Dimensions: [{Key: a, Value: $.a}]}]\n",
			"Resources.F.Properties.MetricTransformations[0].DefaultValue: a metric with dimensions cannot have a default value"},
		{"term dimensions", filter + "      FilterPattern: ERROR\n      MetricTransformations: [{MetricNamespace: N, MetricName: M, MetricValue: '1', Dimensions: [{Key: a, Value: $.a}]}]\n",
			"Resources.F.Properties.MetricTransformations[0].Dimensions: dimensions need a JSON or space-delimited filter pattern"},
		{"bad namespace", filter + "      FilterPattern: x\n      MetricTransformations: [{MetricNamespace: 'a:b', MetricName: M, MetricValue: '1', Unit: Parsecs}]\n",
			"MetricTransformations[0].MetricNamespace: must not contain ':', '*' or '$'"},
		{"bad unit", filter + "      FilterPattern: x\n      MetricTransformations: [{MetricNamespace: N, MetricName: M, MetricValue: '1', Unit: Parsecs}]\n",
			`MetricTransformations[0].Unit: unknown unit "Parsecs"`},
		{"bad filter key", filter + "      FilterPattern: x\n      MetricTransformations: [{MetricNamespace: N, MetricName: M, MetricValue: '1', Value: 2}]\n",
			"stack.yaml:7:92: Resources.F.Properties.MetricTransformations[0].Value: unknown key"},
		{"bad period", alarmHead + "      Statistic: Sum\n      Period: 45\n      EvaluationPeriods: 1\n      Threshold: 1\n      ComparisonOperator: GreaterThanThreshold\n",
			"stack.yaml:9:15: Resources.A.Properties.Period: The parameter Period must be 10, 20, 30, or a multiple of 60, got 45"},
		{"bad operator", alarmHead + "      Statistic: Sum\n      Period: 60\n      EvaluationPeriods: 1\n      Threshold: 1\n      ComparisonOperator: Above\n",
			"stack.yaml:12:27: Resources.A.Properties.ComparisonOperator: value 'Above' at 'comparisonOperator' failed to satisfy constraint"},
		{"bad statistic", alarmHead + "      ExtendedStatistic: p101\n      Period: 60\n      EvaluationPeriods: 1\n      Threshold: 1\n      ComparisonOperator: GreaterThanThreshold\n",
			"stack.yaml:8:26: Resources.A.Properties.ExtendedStatistic: percentile \"p101\""},
		{"both statistics", alarmHead + "      Statistic: Sum\n      ExtendedStatistic: p90\n      Period: 60\n      EvaluationPeriods: 1\n      Threshold: 1\n      ComparisonOperator: GreaterThanThreshold\n",
			"Resources.A.Properties.ExtendedStatistic: give Statistic or ExtendedStatistic, not both"},
		{"m of n", alarmHead + "      Statistic: Sum\n      Period: 60\n      EvaluationPeriods: 2\n      DatapointsToAlarm: 3\n      Threshold: 1\n      ComparisonOperator: GreaterThanThreshold\n",
			"stack.yaml:11:26: Resources.A.Properties.DatapointsToAlarm: DatapointsToAlarm must be less than or equal to EvaluationPeriods"},
		{"missing threshold", alarmHead + "      Statistic: Sum\n      Period: 60\n      EvaluationPeriods: 1\n      ComparisonOperator: GreaterThanThreshold\n",
			"Resources.A.Properties.Threshold: missing"},
		{"bad threshold", alarmHead + "      Statistic: Sum\n      Period: 60\n      EvaluationPeriods: one\n      Threshold: x\n      ComparisonOperator: GreaterThanThreshold\n",
			"stack.yaml:11:18: Resources.A.Properties.Threshold: want a number"},
		{"bad action", alarmHead + "      Statistic: Sum\n      Period: 60\n      EvaluationPeriods: 1\n      Threshold: 1\n      ComparisonOperator: GreaterThanThreshold\n      AlarmActions: [mail]\n",
			"stack.yaml:13:22: Resources.A.Properties.AlarmActions[0]: not an ARN"},
		{"bad actions enabled", alarmHead + "      Statistic: Sum\n      Period: 60\n      EvaluationPeriods: 1\n      Threshold: 1\n      ComparisonOperator: GreaterThanThreshold\n      ActionsEnabled: yes please\n",
			"stack.yaml:13:23: Resources.A.Properties.ActionsEnabled: want true or false"},
		{"bad cron", sched + "      ScheduleExpression: cron(0 9 * * * *)\n      FlexibleTimeWindow: {Mode: 'OFF'}\n      Target: {Arn: " + disableAlarmActionsARN + ", RoleArn: r, Input: '{\"AlarmNames\":[\"a\"]}'}\n",
			`stack.yaml:5:27: Resources.S.Properties.ScheduleExpression: invalid schedule expression "cron(0 9 * * * *)": column`},
		{"bad zone", sched + "      ScheduleExpression: cron(0 9 * * ? *)\n      ScheduleExpressionTimezone: Mars/Olympus\n      FlexibleTimeWindow: {Mode: 'OFF'}\n      Target: {Arn: " + disableAlarmActionsARN + ", RoleArn: r, Input: '{\"AlarmNames\":[\"a\"]}'}\n",
			`stack.yaml:6:35: Resources.S.Properties.ScheduleExpressionTimezone: unknown time zone "Mars/Olympus"`},
		{"bad start", sched + "      ScheduleExpression: rate(1 hour)\n      StartDate: tomorrow\n      FlexibleTimeWindow: {Mode: 'OFF'}\n      Target: {Arn: " + disableAlarmActionsARN + ", RoleArn: r, Input: '{\"AlarmNames\":[\"a\"]}'}\n",
			`stack.yaml:6:18: Resources.S.Properties.StartDate: want an RFC 3339 time`},
		{"bad input", sched + "      ScheduleExpression: rate(1 hour)\n      FlexibleTimeWindow: {Mode: 'OFF'}\n      Target: {Arn: " + disableAlarmActionsARN + ", RoleArn: r, Input: '{\"AlarmName\":[\"a\"]}'}\n",
			`stack.yaml:7:100: Resources.S.Properties.Target.Input: want {"AlarmNames":[...]}: unknown field "AlarmName"`},
		{"no alarm names", sched + "      ScheduleExpression: rate(1 hour)\n      FlexibleTimeWindow: {Mode: 'OFF'}\n      Target: {Arn: " + disableAlarmActionsARN + ", RoleArn: r, Input: '{}'}\n",
			`Resources.S.Properties.Target.Input: missing (the alarms whose actions to switch)`},
		{"no window", sched + "      ScheduleExpression: rate(1 hour)\n      Target: {Arn: " + disableAlarmActionsARN + ", RoleArn: r, Input: '{\"AlarmNames\":[\"a\"]}'}\n",
			`stack.yaml:5:7: Resources.S.Properties.FlexibleTimeWindow: missing`},
		{"flexible", sched + "      ScheduleExpression: rate(1 hour)\n      FlexibleTimeWindow: {Mode: FLEXIBLE}\n      Target: {Arn: " + disableAlarmActionsARN + ", RoleArn: r, Input: '{\"AlarmNames\":[\"a\"]}'}\n",
			`stack.yaml:6:27: Resources.S.Properties.FlexibleTimeWindow.MaximumWindowInMinutes: want 1 to 1440 with Mode FLEXIBLE`},
		{"bad state", sched + "      State: PAUSED\n      ScheduleExpression: rate(1 hour)\n      FlexibleTimeWindow: {Mode: 'OFF'}\n      Target: {Arn: " + disableAlarmActionsARN + ", RoleArn: r, Input: '{\"AlarmNames\":[\"a\"]}'}\n",
			`stack.yaml:5:14: Resources.S.Properties.State: want ENABLED or DISABLED`},
		{"rule plural", "Resources:\n  R: {Type: AWS::Events::Rule, Properties: {ScheduleExpression: rate(1 hours), Targets: [{Id: a, Arn: " + enableAlarmActionsARN + ", Input: '{\"AlarmNames\":[\"a\"]}'}]}}\n",
			`stack.yaml:2:65: Resources.R.Properties.ScheduleExpression: invalid schedule expression "rate(1 hours)"`},
		{"rule at", "Resources:\n  R: {Type: AWS::Events::Rule, Properties: {ScheduleExpression: at(2024-01-01T00:00:00)}}\n",
			`Resources.R.Properties.ScheduleExpression: invalid schedule expression`},
		{"unknown schedule property", sched + "      Schedule: x\n", `stack.yaml:5:17: Resources.S.Properties.Schedule: unknown property of AWS::Scheduler::Schedule`},
		{"duplicate alarms", "Resources:\n  F: {Type: AWS::Logs::MetricFilter, Properties: {LogGroupName: g, FilterPattern: '', MetricTransformations: [{MetricNamespace: N, MetricName: M, MetricValue: '1'}]}}\n" +
			"  A: {Type: AWS::CloudWatch::Alarm, Properties: {AlarmName: x, Namespace: N, MetricName: M, Statistic: Sum, Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: GreaterThanThreshold}}\n" +
			"  B: {Type: AWS::CloudWatch::Alarm, Properties: {AlarmName: x, Namespace: N, MetricName: M, Statistic: Sum, Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: GreaterThanThreshold}}\n",
			`stack.yaml:4:61: Resources.B.Properties.AlarmName: duplicate alarm name "x" (first defined at stack.yaml:3)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadTemplateText(t, c.text, nil)
			if err == nil {
				t.Fatalf("no error, want %s", c.want)
			}
			// Drop the temporary directory from file names.
			msg := regexp.MustCompile(`/\S*/stack\.yaml`).ReplaceAllString(err.Error(), "stack.yaml")
			if !strings.Contains(msg, c.want) {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}
