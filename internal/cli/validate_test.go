package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const seeds = "../../../shared/seeds"

func TestValidateSeeds(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(seeds); err != nil {
		t.Skipf("no seeds: %v", err)
	}
	for _, c := range []struct{ file, param string }{
		{"seed000-root-signin.yaml", "EmailAddress=security@example.com"},
		{"seed001-notify.yaml", "SlackIncomingWebhookUrl=https://hooks.slack.com/services/T000/B000/XXXX"},
		{"seed002-console-login-alarm.yaml", "EmailAddress=security@example.com"},
		{"seed004-iam-policy-alarm.yaml", "EmailAddress=security@example.com"},
	} {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, "", "validate", "--template", filepath.Join(seeds, c.file), "--parameter", c.param)
			if code != ExitOK {
				t.Fatalf("exit %d, want 0; stderr:\n%s", code, errOut)
			}
			if !strings.HasSuffix(out, "valid\n") || !strings.Contains(out, "rules: ") || !strings.Contains(out, "skipped: ") {
				t.Errorf("output:\n%s", out)
			}
			if c.file == "seed002-console-login-alarm.yaml" {
				golden(t, "validate-seed002.txt.golden", out)
			}
		})
	}
}

func TestValidateProblems(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("receivers:\n  - name: x\n    bogus: 1\nroutes:\n  - receivers: [nobody]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "validate", "--config", bad)
	if code != ExitFailure {
		t.Fatalf("exit %d, want 2", code)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
	for _, want := range []string{bad + ":3:5: receivers[0].bogus: unknown key", bad + ":5:", "invalid: "} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// Every problem is one line starting with the file.
	for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
		if !strings.HasPrefix(l, bad+":") && !strings.HasPrefix(l, "invalid: ") {
			t.Errorf("line %q does not locate its problem", l)
		}
	}
}

func TestValidateMissingParameter(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(seeds); err != nil {
		t.Skipf("no seeds: %v", err)
	}
	f := filepath.Join(seeds, "seed000-root-signin.yaml")
	code, _, errOut := run(t, "", "validate", "--template", f)
	if code != ExitFailure || !strings.Contains(errOut, f+":") || !strings.Contains(errOut, "EmailAddress") {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	code, _, errOut = run(t, "", "validate", "--template", f, "--parameter", "EmailAddress=a@example.com", "--parameter", "Nope=1")
	if code != ExitFailure || !strings.Contains(errOut, "parameter Nope: no template declares it") {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
}

func TestValidateUsage(t *testing.T) {
	t.Parallel()
	code, _, errOut := run(t, "", "validate", "--terraform", "/nonexistent/main.tf")
	if code != ExitFailure || !strings.Contains(errOut, "/nonexistent/main.tf") {
		t.Errorf("--terraform missing file: exit %d; stderr:\n%s", code, errOut)
	}
	if code, _, _ := run(t, "", "validate"); code != ExitFailure {
		t.Errorf("no files: exit %d, want 2", code)
	}
	if code, _, _ := run(t, "", "validate", "--config", "/nonexistent/trailwatch.yaml"); code != ExitFailure {
		t.Errorf("missing file: exit %d, want 2", code)
	}
}

func TestValidateTerraform(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "", "validate", "--terraform", "../config/terraform/testdata/seed003")
	if code != ExitOK {
		t.Fatalf("seed 003: exit %d; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"aws-console-login", "aws_lambda_function.login_alert_mail", "valid\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("seed 003: output lacks %q:\n%s", want, out)
		}
	}
	dir := t.TempDir()
	tf := filepath.Join(dir, "main.tf")
	src := `variable "email" {}

resource "aws_sns_topic" "t" {
  name = "alerts"
}

resource "aws_sns_topic_subscription" "mail" {
  topic_arn = aws_sns_topic.t.arn
  protocol  = "email"
  endpoint  = var.email
}

resource "aws_cloudwatch_event_rule" "r" {
  name          = "root-sign-in"
  event_pattern = jsonencode({ "detail-type" = ["AWS Console Sign In via CloudTrail"], detail = { userIdentity = { type = ["Root"] } } })
}

resource "aws_cloudwatch_event_target" "t" {
  rule = aws_cloudwatch_event_rule.r.name
  arn  = aws_sns_topic.t.arn
}
`
	if err := os.WriteFile(tf, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, "", "validate", "--terraform", tf)
	if code != ExitFailure || !strings.Contains(errOut, tf+":1:1: variable email: no value") {
		t.Errorf("no --var: exit %d; stderr:\n%s", code, errOut)
	}
	code, out, errOut = run(t, "", "validate", "--terraform", tf, "--var", "email=sec@example.com")
	if code != ExitOK || !strings.Contains(out, "root-sign-in") || !strings.Contains(out, "(email)") {
		t.Errorf("--var: exit %d; stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestValidateComposite: validate lists composite alarms with their rules
// and actions.
func TestValidateComposite(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "trailwatch.yaml")
	if err := os.WriteFile(p, []byte(`builtin_rules: false
receivers:
  - {name: oncall, stdout: {}}
metric_filters:
  - name: logins
    filter_pattern: '{ $.eventName = ConsoleLogin }'
    metric_transformations:
      - {metric_namespace: Trail, metric_name: Logins, metric_value: '1'}
alarms:
  - {name: a, namespace: Trail, metric_name: Logins, statistic: Sum, period: 1m, evaluation_periods: 1, threshold: 1, comparison_operator: GreaterThanOrEqualToThreshold}
  - {name: b, namespace: Trail, metric_name: Logins, statistic: Sum, period: 1m, evaluation_periods: 1, threshold: 5, comparison_operator: GreaterThanOrEqualToThreshold}
composite_alarms:
  - {name: both, rule: 'ALARM(a) AND ALARM(b)', alarm_actions: [oncall]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "validate", "--config", p)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "composite alarms: 1\n  both: ALARM(a) AND ALARM(b) -> oncall "+p+":") {
		t.Errorf("output:\n%s", out)
	}
}
