provider "aws" {
  alias  = "us"
  region = "us-east-1"
}

resource "aws_cloudwatch_event_rule" "console_login" {
  name        = "aws-console-login" //任意の名称
  description = ""

  event_pattern = <<PATTERN
{
  "detail-type": [
    "AWS Console Sign In via CloudTrail"
  ]
}
PATTERN
  provider      = aws.us
}

resource "aws_cloudwatch_event_target" "sns" {
  rule     = aws_cloudwatch_event_rule.console_login.name
  arn      = aws_sns_topic.login_alert.arn
  provider = aws.us
}

resource "aws_sns_topic" "login_alert" {
  name     = "audit-alarm-to-mail-aws-console-login" //任意の名称
  provider = aws.us
}

resource "aws_sns_topic_policy" "default" {
  arn      = aws_sns_topic.login_alert.arn
  policy   = data.aws_iam_policy_document.sns_topic_policy.json
  provider = aws.us
}

resource "aws_sns_topic_subscription" "login_alert_mail" {
  topic_arn = aws_sns_topic.login_alert.arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.login_alert_mail.arn
  provider  = aws.us
}

data "aws_iam_policy_document" "sns_topic_policy" {
  statement {
    effect  = "Allow"
    actions = ["sns:Publish"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    resources = [aws_sns_topic.login_alert.arn]
  }
}

resource "aws_lambda_function" "login_alert_mail" {
  function_name    = "aws-console-login-alert-mail" //任意の名称
  role             = module.iam_assumable_role_login_alert_mail.iam_role_arn
  filename         = data.archive_file.this.output_path
  source_code_hash = data.archive_file.this.output_base64sha256
  runtime          = "nodejs14.x"
  handler          = "index.handler"

  memory_size = 128
  timeout     = 10

  environment {
    variables = {
      to_address   = 配信先メールアドレス
      from_address = 配信元メールアドレス
    }
  }
}

resource "aws_lambda_permission" "login_alert_mail" {
  action        = "lambda:invokeFunction"
  function_name = aws_lambda_function.login_alert_mail.function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.login_alert.arn
}

data "archive_file" "this" {
  type        = "zip"
  source_dir  = "${path.module}/src"
  output_path = "${path.module}/dest/tmp.zip"
}
