variable "index" { type = number }
variable "actions" { type = list(string) }

resource "aws_cloudwatch_log_metric_filter" "logins" {
  name           = "logins-${var.index}"
  pattern        = "{ $.eventName = ConsoleLogin }"
  log_group_name = "CloudTrail/logs"

  dynamic "metric_transformation" {
    for_each = { "Logins${var.index}" = "1" }
    iterator = m
    content {
      name      = m.key
      namespace = "CloudTrailMetrics"
      value     = m.value
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "logins" {
  alarm_name          = "logins-${var.index}"
  namespace           = "CloudTrailMetrics"
  metric_name         = "Logins${var.index}"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 10 * (var.index + 1)
  comparison_operator = "GreaterThanOrEqualToThreshold"
  alarm_actions       = var.actions
}

output "alarm_name" {
  value = aws_cloudwatch_metric_alarm.logins.alarm_name
}
