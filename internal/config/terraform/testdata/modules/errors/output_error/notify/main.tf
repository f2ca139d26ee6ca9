resource "aws_sns_topic" "t" { name = "t" }

output "topic_arn" {
  value = aws_sns_topic.typo.arn
}
