package app

import (
	"bytes"
	"io"
	"net/http"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"
)

// A small Terraform configuration, run by serve --terraform: a sign-in
// rule (its pattern from a variable's value, with jsonencode) -> an SNS
// topic -> an email subscription to the address given with --var.
func TestTerraformRuleTopicEmail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "main.tf"), `
variable "alert_email" {
  type = string
}

variable "identity_types" {
  type    = list(string)
  default = ["Root"]
}

locals {
  prefix = "tw"
}

resource "aws_sns_topic" "alerts" {
  name = "${local.prefix}-alerts"
}

resource "aws_sns_topic_subscription" "mail" {
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

resource "aws_cloudwatch_event_rule" "root" {
  name = "${local.prefix}-root-sign-in"
  event_pattern = jsonencode({
    "detail-type" = ["AWS Console Sign In via CloudTrail"]
    detail        = { userIdentity = { type = var.identity_types } }
  })
}

resource "aws_cloudwatch_event_target" "mail" {
  rule = aws_cloudwatch_event_rule.root.name
  arn  = aws_sns_topic.alerts.arn
}
`)
	smtpURL, msgs := startSMTP(t)
	a := start(t, Options{
		TerraformFiles: []string{dir},
		TerraformVars:  map[string]string{"alert_email": "security@example.com"},
		SMTP:           smtpURL,
		MailFrom:       "trailwatch@example.com",
	})
	if code, body := post(t, a, envelope(rootLogin("tf-1")), nil); code != http.StatusOK {
		t.Fatalf("POST /events: %d %s", code, body)
	}
	raw := wait(t, msgs, "the email")
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if to := m.Header.Get("To"); !strings.Contains(to, "security@example.com") {
		t.Errorf("To: %q", to)
	}
	b, _ := io.ReadAll(m.Body)
	if !bytes.Contains(b, []byte("tf-1")) || !bytes.Contains(b, []byte("ConsoleLogin")) {
		t.Errorf("mail body lacks the event:\n%s", b)
	}
}
