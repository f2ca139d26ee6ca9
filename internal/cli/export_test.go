package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportThenValidate: the generated template loads in validate, its
// unsupported resources and targets listed as skipped.
func TestExportThenValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"http", []string{"--endpoint", "https://trailwatch.example.com", "--home-region", "eu-west-1", "--organization-trail", "org-trail-logs"},
			[]string{"trailwatch-api-calls (medium)", "(api_destination)", "LogFileQueue (AWS::SQS::Queue): resource type not supported, skipped"}},
		{"sqs", []string{"--queue", "arn:aws:sqs:eu-west-1:123456789012:trailwatch", "--regions", "eu-west-1,us-east-1", "--only-rule-sources"},
			[]string{"trailwatch-sign-in (medium)", "trailwatch-api-calls-2 (medium, read-only events too)", "sqs targets are not supported, skipped"}},
	} {
		f := filepath.Join(dir, c.name+".yaml")
		code, out, errOut := run(t, "", append(append([]string{"export", "cloudformation"}, c.args...), "-o", f)...)
		if code != ExitOK || out != "" {
			t.Fatalf("%s: export: exit %d; stdout %q; stderr:\n%s", c.name, code, out, errOut)
		}
		args := []string{"validate", "--template", f, "--parameter", "AWS::Region=eu-west-1"}
		if c.name == "http" {
			args = append(args, "--parameter", "ApiKeyValue=0123456789abcdef0123")
		}
		code, out, errOut = run(t, "", args...)
		if code != ExitOK {
			t.Fatalf("%s: validate: exit %d; stderr:\n%s", c.name, code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: validate output lacks %q:\n%s", c.name, w, out)
			}
		}
	}
}

func TestExportTerraform(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "", "export", "terraform", "--endpoint", "https://trailwatch.example.com/events", "--home-region", "ap-northeast-1", "--only-rule-sources")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	for _, w := range []string{`"ap-northeast-1"`, `resource "aws_cloudwatch_event_api_destination" "trailwatch"`, `"api-calls-2" = jsonencode(`, `"$or"`} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
}

func TestExportUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"export"},
		{"export", "pulumi", "--endpoint", "https://x.example.com"},
		{"export", "cloudformation"},
		{"export", "cloudformation", "--endpoint", "https://x.example.com", "--queue", "arn:aws:sqs:us-east-1:123456789012:q"},
		{"export", "cloudformation", "--endpoint", "http://x.example.com"},
		{"export", "terraform", "--queue", "arn:aws:sns:us-east-1:123456789012:t"},
		{"export", "terraform", "--queue", "arn:aws:sqs:us-east-1:123456789012:q", "--home-region", "eu-west-1"},
		{"export", "terraform", "--endpoint", "https://x.example.com", "--regions", "us-east-1,Mars"},
		{"export", "terraform", "--endpoint", "https://x.example.com", "--rules", "x.yaml"},
	} {
		code, out, errOut := run(t, "", args...)
		if code != ExitFailure || out != "" || errOut == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2, nothing, a message", args, code, out, errOut)
		}
	}
	if _, err := os.Stat("trailwatch.yaml"); err == nil {
		t.Error("wrote a file")
	}
}
