variable "topic" {
  type = string
  validation {
    condition     = endswith(var.topic, "-alerts")
    error_message = "The topic name must end in -alerts."
  }
}

variable "emails" {
  type = list(string)
}

resource "aws_sns_topic" "t" {
  name = var.topic
}

resource "aws_sns_topic_subscription" "mail" {
  count     = length(var.emails)
  topic_arn = aws_sns_topic.t.arn
  protocol  = "email"
  endpoint  = var.emails[count.index]
}

resource "aws_iam_role" "publisher" {
  name = "${var.topic}-publisher"
}

output "topic_arn" {
  value = aws_sns_topic.t.arn
}
