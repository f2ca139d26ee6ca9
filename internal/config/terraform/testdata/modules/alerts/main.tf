# Root module: a team's topic (module notify), one watched event source per
# for_each key (module watch, which calls module rule: two levels deep),
# and two alarms (module alarms, count) acting on notify's topic.
provider "aws" { region = "eu-west-1" }

variable "team" {
  type    = string
  default = "sec"
  validation {
    condition     = can(regex("^[a-z]+$", var.team)) && length(var.team) <= 8
    error_message = "team must be a short lower-case word."
  }
}

variable "sources" {
  type    = map(string)
  default = { signin = "aws.signin", iam = "aws.iam" }
}

module "notify" {
  source = "./modules/notify"
  topic  = "${var.team}-alerts"
  emails = ["a@example.com", "b@example.com"]
}

module "watch" {
  source       = "./modules/watch"
  for_each     = var.sources
  name         = each.key
  event_source = each.value
  topic_arn    = module.notify.topic_arn
  depends_on   = [module.notify]
}

module "alarms" {
  source    = "./modules/alarms"
  count     = 2
  index     = count.index
  actions   = [module.notify.topic_arn]
  providers = { aws = aws }
}

# A second target on module watch's "iam" rule, and a schedule silencing
# the alarms at night: references into for_each and count modules.
resource "aws_cloudwatch_event_target" "copy" {
  rule      = module.watch["iam"].rule_name
  arn       = module.notify.topic_arn
  target_id = "copy"
}

resource "aws_scheduler_schedule" "quiet" {
  name                = "quiet-hours"
  schedule_expression = "cron(0 22 * * ? *)"
  flexible_time_window { mode = "OFF" }
  target {
    arn      = "arn:aws:scheduler:::aws-sdk:cloudwatch:disableAlarmActions"
    role_arn = "arn:aws:iam::123456789012:role/scheduler"
    input    = jsonencode({ AlarmNames = [for a in module.alarms : a.alarm_name] })
  }
}

output "rules" {
  value = { for k, w in module.watch : k => w.rule_arn }
}
