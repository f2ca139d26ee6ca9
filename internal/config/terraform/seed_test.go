package terraform

import (
	"strings"
	"testing"
)

func TestSeed003(t *testing.T) {
	t.Parallel()
	cfg, err := Load([]string{"testdata/seed003"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != 1 || cfg.Rules[0].Name != "aws-console-login" {
		t.Fatalf("rules = %v, want aws-console-login", cfg.Rules)
	}
	if got := string(cfg.Rules[0].PatternJSON); !strings.Contains(got, "AWS Console Sign In via CloudTrail") {
		t.Errorf("pattern = %s", got)
	}
	const topic = "arn:aws:sns:us-east-1:123456789012:audit-alarm-to-mail-aws-console-login"
	if _, ok := cfg.Topics[topic]; !ok {
		t.Errorf("topics = %v, want %s", cfg.Topics, topic)
	}
	all := strings.Join(cfg.Skipped, "\n")
	for _, want := range []string{
		"main.tf:37: aws_sns_topic_subscription.login_alert_mail: protocol lambda to aws_lambda_function.login_alert_mail is not run: Trailwatch delivers",
		"aws_lambda_function.login_alert_mail (aws_lambda_function): Lambda is not run: Trailwatch sends notifications itself, email through its own SMTP client (serve --smtp) rather than a function calling SES",
		"aws_lambda_permission.login_alert_mail",
		"aws_sns_topic_policy.default",
		"target aws_cloudwatch_event_target.sns: topic aws_sns_topic.login_alert has no subscription Trailwatch delivers to",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("Skipped lacks %q:\n%s", want, all)
		}
	}
}
