package terraform

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/rule"
)

func write(t *testing.T, src string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "main.tf")
	if err := os.WriteFile(f, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func load(t *testing.T, src string, vars map[string]string, env map[string]string) (*config.Config, string, error) {
	t.Helper()
	f := write(t, src)
	cfg, err := Load([]string{f}, vars, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return cfg, f, err
}

func names[T any](xs []T, name func(T) string) string {
	var out []string
	for _, x := range xs {
		out = append(out, name(x))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// Each resource type, alone or with what it needs, and what it becomes.
func TestResources(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, src string
		check     func(t *testing.T, c *config.Config)
	}{
		{"rule to email topic with input transformer", `
resource "aws_sns_topic" "t" { name = "alerts" }
resource "aws_sns_topic_subscription" "s" {
  topic_arn = aws_sns_topic.t.arn
  protocol  = "email"
  endpoint  = "sec@example.com"
}
resource "aws_cloudwatch_event_rule" "r" {
  name          = "signin"
  description   = "sign-ins"
  event_pattern = jsonencode({ source = ["aws.signin"] })
  tags          = { "trailwatch:severity" = "high" }
}
resource "aws_cloudwatch_event_target" "t" {
  rule      = aws_cloudwatch_event_rule.r.name
  arn       = aws_sns_topic.t.arn
  target_id = "mail"
  input_transformer {
    input_paths    = { user = "$.detail.userIdentity.arn" }
    input_template = "\"<user> signed in\""
  }
}`, func(t *testing.T, c *config.Config) {
			if len(c.Rules) != 1 || c.Rules[0].Name != "signin" || c.Rules[0].Severity.String() != "high" || c.Rules[0].Description != "sign-ins" {
				t.Fatalf("rules %+v", c.Rules)
			}
			if len(c.Receivers) != 1 || c.Receivers[0].Email == nil || c.Receivers[0].Email.To[0] != "sec@example.com" || !c.Receivers[0].Email.Raw {
				t.Fatalf("receivers %+v", c.Receivers)
			}
			if len(c.Routes) != 1 || c.Routes[0].InputTransformer == nil || c.Routes[0].InputTransformer.InputPathsMap["user"] != "$.detail.userIdentity.arn" ||
				!strings.HasSuffix(c.Routes[0].Name, "/signin/mail") || c.Routes[0].RuleARN != "arn:aws:events:us-east-1:123456789012:rule/signin" {
				t.Fatalf("routes %+v", c.Routes[0])
			}
			if got := c.Topics["arn:aws:sns:us-east-1:123456789012:alerts"]; len(got) != 1 {
				t.Errorf("topics %v", c.Topics)
			}
		}},
		{"https subscription, raw", `
resource "aws_sns_topic" "t" { name = "hook" }
resource "aws_sns_topic_subscription" "s" {
  topic_arn            = aws_sns_topic.t.arn
  protocol             = "https"
  endpoint             = "https://hooks.example.com/x"
  raw_message_delivery = true
}
resource "aws_cloudwatch_event_rule" "r" {
  name          = "r"
  event_pattern = "{\"source\":[\"aws.iam\"]}"
}
resource "aws_cloudwatch_event_target" "t" {
  rule  = aws_cloudwatch_event_rule.r.name
  arn   = aws_sns_topic.t.arn
  input = "{\"fixed\":true}"
}`, func(t *testing.T, c *config.Config) {
			w := c.Receivers[0].Webhook
			if w == nil || w.URL.Reveal() != "https://hooks.example.com/x" || w.SNSEnvelope == nil || !w.SNSEnvelope.RawMessageDelivery {
				t.Fatalf("receiver %+v", c.Receivers[0])
			}
			if c.Routes[0].Input == nil || *c.Routes[0].Input != `{"fixed":true}` {
				t.Errorf("input %v", c.Routes[0].Input)
			}
		}},
		{"api destination with api key connection", `
resource "aws_cloudwatch_event_connection" "c" {
  name               = "slack"
  authorization_type = "API_KEY"
  auth_parameters {
    api_key {
      key   = "x-api-key"
      value = "s3cret"
    }
  }
}
resource "aws_cloudwatch_event_api_destination" "d" {
  name                             = "slack"
  connection_arn                   = aws_cloudwatch_event_connection.c.arn
  http_method                      = "POST"
  invocation_endpoint              = "https://hooks.slack.com/services/T/B/X"
  invocation_rate_limit_per_second = 10
}
resource "aws_cloudwatch_event_rule" "r" {
  name          = "r"
  event_pattern = jsonencode({ source = ["aws.signin"] })
}
resource "aws_cloudwatch_event_target" "t" {
  rule       = aws_cloudwatch_event_rule.r.name
  arn        = aws_cloudwatch_event_api_destination.d.arn
  input_path = "$.detail"
}`, func(t *testing.T, c *config.Config) {
			a := c.Receivers[0].APIDestination
			if a == nil || a.Connection.AuthorizationType != "API_KEY" || a.Connection.APIKeyName != "x-api-key" || a.Connection.APIKeyValue.Reveal() != "s3cret" ||
				a.InvocationRateLimitPerSecond != 10 || a.HTTPMethod != "POST" {
				t.Fatalf("api destination %+v", a)
			}
			if c.Routes[0].InputPath != "$.detail" {
				t.Errorf("input path %q", c.Routes[0].InputPath)
			}
		}},
		{"basic and oauth connections", `
resource "aws_cloudwatch_event_connection" "b" {
  name               = "basic"
  authorization_type = "BASIC"
  auth_parameters {
    basic {
      username = "u"
      password = "p"
    }
  }
}
resource "aws_cloudwatch_event_connection" "o" {
  name               = "oauth"
  authorization_type = "OAUTH_CLIENT_CREDENTIALS"
  auth_parameters {
    oauth {
      authorization_endpoint = "https://auth.example.com/token"
      http_method            = "POST"
      client_parameters {
        client_id     = "id"
        client_secret = "secret"
      }
      oauth_http_parameters {
        body {
          key   = "scope"
          value = "alerts"
        }
      }
    }
  }
}
resource "aws_cloudwatch_event_api_destination" "b" {
  name                = "b"
  connection_arn      = aws_cloudwatch_event_connection.b.arn
  http_method         = "POST"
  invocation_endpoint = "https://b.example.com/"
}
resource "aws_cloudwatch_event_api_destination" "o" {
  name                = "o"
  connection_arn      = aws_cloudwatch_event_connection.o.arn
  http_method         = "PUT"
  invocation_endpoint = "https://o.example.com/"
}
resource "aws_cloudwatch_event_rule" "r" {
  name          = "r"
  event_pattern = jsonencode({ source = ["aws.signin"] })
}
resource "aws_cloudwatch_event_target" "b" {
  rule = aws_cloudwatch_event_rule.r.name
  arn  = aws_cloudwatch_event_api_destination.b.arn
}
resource "aws_cloudwatch_event_target" "o" {
  rule = aws_cloudwatch_event_rule.r.name
  arn  = aws_cloudwatch_event_api_destination.o.arn
}`, func(t *testing.T, c *config.Config) {
			byType := map[string]*config.APIDestinationConfig{}
			for _, r := range c.Receivers {
				byType[r.APIDestination.Connection.AuthorizationType] = r.APIDestination
			}
			if b := byType["BASIC"]; b == nil || b.Connection.Username != "u" || b.Connection.Password.Reveal() != "p" {
				t.Errorf("basic %+v", b)
			}
			o := byType["OAUTH_CLIENT_CREDENTIALS"]
			if o == nil || o.Connection.OAuth == nil || o.Connection.OAuth.ClientID != "id" || o.Connection.OAuth.OAuthHTTPParameters == nil ||
				o.Connection.OAuth.OAuthHTTPParameters.BodyParameters["scope"].Reveal() != "alerts" {
				t.Errorf("oauth %+v", o)
			}
			if len(c.Routes) != 2 {
				t.Errorf("%d routes, want 2", len(c.Routes))
			}
		}},
		{"metric filter, alarm to topic, scheduler switching its actions", `
resource "aws_sns_topic" "t" { name = "alarms" }
resource "aws_sns_topic_subscription" "s" {
  topic_arn = aws_sns_topic.t.arn
  protocol  = "email"
  endpoint  = "ops@example.com"
}
resource "aws_cloudwatch_log_metric_filter" "f" {
  name           = "console-login"
  pattern        = "{ $.eventName = ConsoleLogin }"
  log_group_name = "CloudTrail/logs"
  metric_transformation {
    name       = "ConsoleLoginCount"
    namespace  = "CloudTrailMetrics"
    value      = "1"
    dimensions = { User = "$.userIdentity.userName" }
  }
}
resource "aws_cloudwatch_metric_alarm" "a" {
  alarm_name          = "console-logins"
  namespace           = "CloudTrailMetrics"
  metric_name         = "ConsoleLoginCount"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  dimensions          = { User = "alice" }
  alarm_actions       = [aws_sns_topic.t.arn]
}
resource "aws_scheduler_schedule" "off" {
  name                         = "off-hours"
  schedule_expression          = "cron(0 18 ? * MON-FRI *)"
  schedule_expression_timezone = "Asia/Tokyo"
  flexible_time_window { mode = "OFF" }
  target {
    arn      = "arn:aws:scheduler:::aws-sdk:cloudwatch:disableAlarmActions"
    role_arn = "arn:aws:iam::123456789012:role/s"
    input    = jsonencode({ AlarmNames = [aws_cloudwatch_metric_alarm.a.alarm_name] })
  }
}`, func(t *testing.T, c *config.Config) {
			if len(c.MetricFilters) != 1 || c.MetricFilters[0].FilterPattern != "{ $.eventName = ConsoleLogin }" ||
				c.MetricFilters[0].Transformations[0].Dimensions["User"] != "$.userIdentity.userName" {
				t.Fatalf("filters %+v", c.MetricFilters)
			}
			if len(c.Alarms) != 1 || c.Alarms[0].Name != "console-logins" || c.Alarms[0].AlarmActions[0] != "arn:aws:sns:us-east-1:123456789012:alarms" ||
				c.Alarms[0].Threshold != 1 || c.Alarms[0].TreatMissingData != "notBreaching" || c.Alarms[0].Dimensions["User"] != "alice" {
				t.Fatalf("alarms %+v; skipped %v", c.Alarms, c.Skipped)
			}
			if len(c.Schedules) != 1 || c.Schedules[0].Action != "disable_alarm_actions" || c.Schedules[0].Alarms[0] != "console-logins" ||
				c.Schedules[0].TimeZone != "Asia/Tokyo" {
				t.Fatalf("schedules %+v", c.Schedules)
			}
		}},
		{"disabled rule and unsupported types skipped with their address", `
provider "aws" { region = "eu-west-1" }
terraform { required_version = ">= 1.0" }
data "aws_caller_identity" "me" {}
resource "aws_cloudwatch_event_rule" "off" {
  name          = "off"
  is_enabled    = false
  event_pattern = jsonencode({ source = ["aws.signin"] })
}
resource "aws_ses_email_identity" "from" { email = "a@example.com" }
resource "aws_iam_role" "r" { name = "x" }
resource "aws_sqs_queue" "q" { name = "q" }
resource "aws_cloudwatch_event_rule" "on" {
  name          = "on"
  event_pattern = jsonencode({ source = ["aws.signin"], account = [data.aws_caller_identity.me.account_id] })
}
resource "aws_cloudwatch_event_target" "q" {
  rule = aws_cloudwatch_event_rule.on.name
  arn  = aws_sqs_queue.q.arn
}`, func(t *testing.T, c *config.Config) {
			all := strings.Join(c.Skipped, "\n")
			for _, want := range []string{"off (AWS::Events::Rule): State is DISABLED", "aws_ses_email_identity.from (aws_ses_email_identity): SES is not used",
				"aws_iam_role.r (aws_iam_role)", "aws_sqs_queue.q (aws_sqs_queue)", "aws_cloudwatch_event_rule.on target aws_cloudwatch_event_target.q"} {
				if !strings.Contains(all, want) {
					t.Errorf("Skipped lacks %q:\n%s", want, all)
				}
			}
			if len(c.Rules) != 1 || !strings.Contains(string(c.Rules[0].PatternJSON), "123456789012") {
				t.Errorf("rules %+v", c.Rules)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, _, err := load(t, c.src, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, cfg)
		})
	}
}

// Variables from defaults, --var and TF_VAR_, typed; locals; count and
// for_each with references to their instances.
func TestVariablesAndReferences(t *testing.T) {
	t.Parallel()
	src := `
variable "emails" {
  type    = list(string)
  default = ["a@example.com"]
}
variable "prefix" {}
variable "regions" {
  type = map(string)
  default = { tokyo = "ap-northeast-1", virginia = "us-east-1" }
  validation {
    condition     = length(var.regions) > 0
    error_message = "no regions"
  }
}
locals {
  topic = "${var.prefix}-alerts"
  rule  = upper(local.topic)
}
resource "aws_sns_topic" "t" { name = local.topic }
resource "aws_sns_topic_subscription" "s" {
  count     = length(var.emails)
  topic_arn = aws_sns_topic.t.arn
  protocol  = "email"
  endpoint  = var.emails[count.index]
}
resource "aws_cloudwatch_event_rule" "r" {
  for_each      = var.regions
  name          = "${local.rule}-${each.key}"
  event_pattern = jsonencode({ region = [each.value] })
}
resource "aws_cloudwatch_event_target" "t" {
  for_each = aws_cloudwatch_event_rule.r
  rule     = each.value.name
  arn      = aws_sns_topic.t.arn
}`
	cfg, _, err := load(t, src, map[string]string{"emails": `["x@example.com", "y@example.com"]`}, map[string]string{"TF_VAR_prefix": "ops"})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(cfg.Rules, func(r *rule.Rule) string { return r.Name }); got != "OPS-ALERTS-tokyo,OPS-ALERTS-virginia" {
		t.Errorf("rules %s", got)
	}
	var to []string
	for _, r := range cfg.Receivers {
		to = append(to, r.Email.To...)
	}
	sort.Strings(to)
	if strings.Join(to, ",") != "x@example.com,y@example.com" {
		t.Errorf("receivers to %v", to)
	}
	if len(cfg.Routes) != 2 || len(cfg.Routes[0].Receivers) != 2 {
		t.Errorf("routes %+v", cfg.Routes)
	}
	if _, ok := cfg.Topics["arn:aws:sns:us-east-1:123456789012:ops-alerts"]; !ok {
		t.Errorf("topics %v", cfg.Topics)
	}
}

// Errors name file:line:col.
func TestErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, src string
		vars      map[string]string
		want      string
	}{
		{"syntax", "resource \"aws_sns_topic\" \"t\" {\n  name = \n}\n", nil, ":2:"},
		{"missing variable", "variable \"x\" {}\n", nil, ":1:1: variable x: no value (give --var x=VALUE or TF_VAR_x"},
		{"undeclared --var", "variable \"x\" { default = 1 }\n", map[string]string{"y": "1"}, "--var y: no variable block declares it"},
		{"bad type", "variable \"n\" {\n  type = number\n}\n", map[string]string{"n": "\"abc\""}, ":1:1: variable n:"},
		{"unknown reference", "resource \"aws_sns_topic\" \"t\" {\n  name = var.nope\n}\n", nil, ":2:13: Unsupported attribute: This object does not have an attribute named \"nope\""},
		{"templatefile", "resource \"aws_cloudwatch_event_rule\" \"r\" {\n  name = \"r\"\n  event_pattern = templatefile(\"p.json\", {})\n}\n", nil,
			":3:19: Error in function call: Call to function \"templatefile\" failed: templatefile() is not supported"},
		{"unsupported argument", "resource \"aws_sns_topic\" \"t\" {\n  name = \"t\"\n  colour = \"red\"\n}\n", nil, ":3:12: aws_sns_topic.t: unsupported argument \"colour\""},
		{"bad pattern", "resource \"aws_cloudwatch_event_rule\" \"r\" {\n  name = \"r\"\n  event_pattern = jsonencode({ source = \"aws.signin\" })\n}\n", nil, ":3:19: "},
		{"target to unknown rule", "resource \"aws_cloudwatch_event_target\" \"t\" {\n  rule = \"nope\"\n  arn = \"arn:aws:sns:us-east-1:1:t\"\n}\n", nil,
			":2:10: aws_cloudwatch_event_target.t: rule: no aws_cloudwatch_event_rule named \"nope\""},
		{"registry module", "module \"m\" {\n  source = \"hashicorp/consul/aws\"\n}\n", nil,
			":1:1: module.m: source \"hashicorp/consul/aws\" is not a local path: Trailwatch reads only local modules"},
		{"undeclared module", "resource \"aws_sns_topic\" \"t\" {\n  name = module.m.name\n}\n", nil,
			":2:16: Unsupported attribute: This object does not have an attribute named \"m\""},
		{"http endpoint", "resource \"aws_sns_topic\" \"t\" { name = \"t\" }\nresource \"aws_sns_topic_subscription\" \"s\" {\n  topic_arn = aws_sns_topic.t.arn\n  protocol = \"https\"\n  endpoint = \"http://x\"\n}\n", nil,
			":5:14: "},
		{"dynamic for_each a string", "resource \"aws_cloudwatch_log_metric_filter\" \"f\" {\n  name = \"f\"\n  dynamic \"metric_transformation\" {\n    for_each = \"x\"\n    content {}\n  }\n}\n", nil,
			":4:16: aws_cloudwatch_log_metric_filter.f: dynamic \"metric_transformation\": for_each is a string, want a list, set or map"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, f, err := load(t, c.src, c.vars, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error:\n%v\nwant %q", err, c.want)
			}
			if strings.HasPrefix(c.want, ":") && !strings.Contains(err.Error(), f+c.want) {
				t.Errorf("error does not name %s%s:\n%v", f, c.want, err)
			}
		})
	}
}

// Several files: a directory's *.tf and references across them; errors
// name the right file.
func TestSeveralFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"topic.tf": "resource \"aws_sns_topic\" \"t\" { name = \"t\" }\nresource \"aws_sns_topic_subscription\" \"s\" {\n  topic_arn = aws_sns_topic.t.arn\n  protocol = \"email\"\n  endpoint = \"a@example.com\"\n}\n",
		"rule.tf":  "resource \"aws_cloudwatch_event_rule\" \"r\" {\n  name = \"r\"\n  event_pattern = jsonencode({ source = [\"aws.signin\"] })\n}\nresource \"aws_cloudwatch_event_target\" \"t\" {\n  rule = aws_cloudwatch_event_rule.r.name\n  arn = aws_sns_topic.t.arn\n}\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := Load([]string{dir}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Routes) != 1 || len(cfg.Routes[0].Receivers) != 1 || cfg.Rules[0].Source != filepath.Join(dir, "rule.tf")+":1" {
		t.Fatalf("routes %+v, rule at %s", cfg.Routes, cfg.Rules[0].Source)
	}
	bad := strings.Replace(files["rule.tf"], `source = [\"aws.signin\"]`, `source = \"x\"`, 1)
	bad = strings.Replace(bad, `["aws.signin"]`, `"x"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "rule.tf"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load([]string{dir}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "rule.tf")+":3:") {
		t.Errorf("error %v, want one in rule.tf:3", err)
	}
}
