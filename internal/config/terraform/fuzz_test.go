package terraform

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: any .tf text loads or fails with an error, never panics or
// hangs; seed 003 and the tests' configurations are the corpus (one
// calling its own directory as a module: a cycle).
func FuzzLoad(f *testing.F) {
	seed, err := os.ReadFile("testdata/seed003/main.tf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed), "")
	f.Add(`variable "x" { default = ["a", "b"] }
resource "aws_sns_topic" "t" {
  for_each = toset(var.x)
  name     = each.key
}
resource "aws_sns_topic_subscription" "s" {
  count     = 2
  topic_arn = aws_sns_topic.t["a"].arn
  protocol  = "email"
  endpoint  = "a${count.index}@example.com"
}
resource "aws_cloudwatch_event_rule" "r" {
  name          = "r"
  event_pattern = jsonencode({ source = ["aws.signin"] })
}
resource "aws_cloudwatch_event_target" "t" {
  rule = aws_cloudwatch_event_rule.r.name
  arn  = aws_sns_topic.t["b"].arn
}`, `["a"]`)
	f.Add(`variable "x" {
  default = ["a"]
  validation {
    condition     = length(var.x) < 3
    error_message = "at most two"
  }
}
module "self" { source = "./" }
resource "aws_cloudwatch_log_metric_filter" "f" {
  name           = "f"
  pattern        = "x"
  log_group_name = "g"
  dynamic "metric_transformation" {
    for_each = toset(var.x)
    iterator = m
    content {
      name      = m.key
      namespace = "N"
      value     = "1"
      dynamic "unit" {
        for_each = []
        content {}
      }
    }
  }
}`, `["a", "b"]`)
	f.Add(`locals {
  a = local.b
  b = local.a
}
resource "aws_cloudwatch_metric_alarm" "a" { alarm_name = local.a }`, "")
	f.Fuzz(func(t *testing.T, src, x string) {
		p := filepath.Join(t.TempDir(), "main.tf")
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load([]string{p}, map[string]string{"x": x}, nil)
		if err == nil && cfg == nil {
			t.Fatal("nil Config without an error")
		}
	})
}
