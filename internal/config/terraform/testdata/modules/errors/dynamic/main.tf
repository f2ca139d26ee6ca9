resource "aws_cloudwatch_log_metric_filter" "no_content" {
  name           = "a"
  pattern        = "x"
  log_group_name = "g"
  dynamic "metric_transformation" {
    for_each = [1]
  }
}

resource "aws_cloudwatch_log_metric_filter" "null" {
  name           = "b"
  pattern        = "x"
  log_group_name = "g"
  dynamic "metric_transformation" {
    for_each = null
    content {}
  }
}

resource "aws_cloudwatch_log_metric_filter" "labels" {
  name           = "c"
  pattern        = "x"
  log_group_name = "g"
  dynamic "metric_transformation" {
    for_each = [1]
    labels   = ["x"]
    iterator = "t"
    content {}
  }
}

resource "aws_sns_topic" "unknown_block" {
  name = "t"
  dynamic "colour" {
    for_each = []
    content {}
  }
}
