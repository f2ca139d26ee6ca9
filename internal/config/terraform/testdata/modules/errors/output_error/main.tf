module "notify" { source = "./notify" }

resource "aws_sns_topic_subscription" "s" {
  topic_arn = module.notify.topic_arn
  protocol  = "email"
  endpoint  = "a@example.com"
}

resource "aws_cloudwatch_metric_alarm" "a" {
  alarm_name          = "a"
  namespace           = "N"
  metric_name         = "M"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = [module.notify.topic]
}
