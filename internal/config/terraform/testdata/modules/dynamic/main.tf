# Dynamic blocks, nested: the connection's invocation_http_parameters
# only when there are headers, one header block per header, one
# query_string per element of a list (the iterator renamed).
variable "headers" {
  type    = map(string)
  default = { "X-Team" = "sec", "X-Env" = "prod" }
}

variable "query" {
  type    = list(object({ key = string, value = string }))
  default = [{ key = "source", value = "trailwatch" }]
}

resource "aws_cloudwatch_event_connection" "c" {
  name               = "hook"
  authorization_type = "API_KEY"
  auth_parameters {
    api_key {
      key   = "x-api-key"
      value = "s3cret"
    }
    dynamic "invocation_http_parameters" {
      for_each = length(var.headers) > 0 ? [var.headers] : []
      content {
        dynamic "header" {
          for_each = invocation_http_parameters.value
          content {
            key   = header.key
            value = header.value
          }
        }
        dynamic "query_string" {
          for_each = var.query
          iterator = q
          content {
            key   = q.value.key
            value = "${q.value.value}-${q.key}"
          }
        }
      }
    }
  }
}

resource "aws_cloudwatch_event_api_destination" "d" {
  name                = "hook"
  connection_arn      = aws_cloudwatch_event_connection.c.arn
  http_method         = "POST"
  invocation_endpoint = "https://hooks.example.com/in"
}

resource "aws_cloudwatch_event_rule" "r" {
  name          = "root-logins"
  event_pattern = jsonencode({ detail = { userIdentity = { type = ["Root"] } } })
}

resource "aws_cloudwatch_event_target" "t" {
  rule = aws_cloudwatch_event_rule.r.name
  arn  = aws_cloudwatch_event_api_destination.d.arn
}
