package terraform

import (
	"strings"
	"testing"
	"time"
)

// aws_cloudwatch_composite_alarm runs as AWS::CloudWatch::CompositeAlarm:
// its rule naming the metric alarms (by reference to their names or ARNs),
// its actions resolved to the topic's receivers, its actions_suppressor
// block to the suppressor and its periods.
func TestCompositeAlarm(t *testing.T) {
	t.Parallel()
	src := `
resource "aws_sns_topic" "t" { name = "alarms" }
resource "aws_sns_topic_subscription" "s" {
  topic_arn = aws_sns_topic.t.arn
  protocol  = "email"
  endpoint  = "oncall@example.com"
}
resource "aws_cloudwatch_log_metric_filter" "f" {
  name           = "logins"
  pattern        = "{ $.eventName = ConsoleLogin }"
  log_group_name = "trail"
  metric_transformation {
    name      = "Logins"
    namespace = "Trail"
    value     = "1"
  }
}
resource "aws_cloudwatch_metric_alarm" "a" {
  alarm_name          = "logins"
  namespace           = "Trail"
  metric_name         = "Logins"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
}
resource "aws_cloudwatch_metric_alarm" "b" {
  alarm_name          = "many-logins"
  namespace           = "Trail"
  metric_name         = "Logins"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
}
resource "aws_cloudwatch_composite_alarm" "c" {
  alarm_name        = "both"
  alarm_description = "logins and many logins"
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.a.alarm_name}) AND ALARM(\"${aws_cloudwatch_metric_alarm.b.arn}\")"
  alarm_actions     = [aws_sns_topic.t.arn]
  actions_suppressor {
    alarm            = aws_cloudwatch_metric_alarm.a.alarm_name
    extension_period = 90
    wait_period      = 30
  }
}
output "composite_arn" { value = aws_cloudwatch_composite_alarm.c.arn }`
	cfg, _, err := load(t, src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.CompositeAlarms) != 1 {
		t.Fatalf("composite alarms: %+v", cfg.CompositeAlarms)
	}
	c := cfg.CompositeAlarms[0]
	if c.Name != "both" || c.Description != "logins and many logins" ||
		c.Rule != `ALARM(logins) AND ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:many-logins")` ||
		len(c.AlarmActions) != 1 || c.ActionsEnabled == nil || !*c.ActionsEnabled {
		t.Errorf("composite %+v (actions %v)", c, c.AlarmActions)
	}
	if cc := c.CompositeConfig(); cc.ActionsSuppressor != "logins" || cc.ActionsSuppressorWaitPeriod != 30*time.Second || cc.ActionsSuppressorExtensionPeriod != 90*time.Second {
		t.Errorf("suppressor %q wait %v extension %v", cc.ActionsSuppressor, cc.ActionsSuppressorWaitPeriod, cc.ActionsSuppressorExtensionPeriod)
	}
	if strings.Contains(strings.Join(cfg.Skipped, "\n"), "ActionsSuppressor") {
		t.Errorf("skipped %v", cfg.Skipped)
	}

	// A rule naming an alarm no resource defines is an error.
	bad := strings.Replace(src, `ALARM(${aws_cloudwatch_metric_alarm.a.alarm_name})`, `ALARM(nope)`, 1)
	if _, _, err := load(t, bad, nil, nil); err == nil || !strings.Contains(err.Error(), `references alarm "nope"`) {
		t.Errorf("unknown alarm: %v", err)
	}
}
