variable "name" { type = string }
variable "event_source" { type = string }
variable "topic_arn" { type = string }

module "rule" {
  source   = "../rule"
  name     = var.name
  pattern  = jsonencode({ source = [var.event_source] })
  severity = var.name == "iam" ? "high" : "medium"
}

resource "aws_cloudwatch_event_target" "t" {
  rule      = module.rule.name
  arn       = var.topic_arn
  target_id = "mail"
}

output "rule_arn" {
  value = module.rule.arn
}

output "rule_name" {
  value = module.rule.name
}
