variable "name" { type = string }
variable "pattern" { type = string }

variable "severity" {
  type    = string
  default = "low"
  validation {
    condition     = contains(["low", "medium", "high", "critical"], var.severity)
    error_message = "severity is one of low, medium, high, critical."
  }
}

resource "aws_cloudwatch_event_rule" "r" {
  name          = var.name
  event_pattern = var.pattern
  tags          = { "trailwatch:severity" = var.severity }
}

output "name" {
  value = aws_cloudwatch_event_rule.r.name
}

output "arn" {
  value = aws_cloudwatch_event_rule.r.arn
}
