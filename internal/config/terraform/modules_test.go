package terraform

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/rule"
)

// Configurations of testdata/modules read whole: resources of modules
// (two levels deep, count and for_each) at their addresses, outputs
// crossing modules, dynamic blocks, validations that pass; then what the
// conversion makes of them.
func TestModules(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		dir   string
		vars  map[string]string
		items []string // the resources' addresses, sorted
		check func(t *testing.T, rs *config.Resources, cfg *config.Config)
	}{
		{"alerts", nil, []string{
			"aws_scheduler_schedule.quiet",
			"module.alarms[0].aws_cloudwatch_log_metric_filter.logins",
			"module.alarms[0].aws_cloudwatch_metric_alarm.logins",
			"module.alarms[1].aws_cloudwatch_log_metric_filter.logins",
			"module.alarms[1].aws_cloudwatch_metric_alarm.logins",
			"module.notify.aws_sns_topic.t",
			"module.notify.aws_sns_topic_subscription.mail[0]",
			"module.notify.aws_sns_topic_subscription.mail[1]",
			`module.watch["iam"].module.rule.aws_cloudwatch_event_rule.r`,
			`module.watch["signin"].module.rule.aws_cloudwatch_event_rule.r`,
		}, func(t *testing.T, rs *config.Resources, cfg *config.Config) {
			const topic = "arn:aws:sns:eu-west-1:123456789012:sec-alerts"
			if rs.Region != "eu-west-1" {
				t.Errorf("region %q, want the root provider's eu-west-1", rs.Region)
			}
			// Rules from module watch's module rule, one per for_each key,
			// each.value in the pattern, the severity a module argument
			// passing the rule module's validation.
			var rules []string
			for _, r := range cfg.Rules {
				rules = append(rules, fmt.Sprintf("%s %s %s %s", r.Name, r.Severity, r.PatternJSON, r.Source))
			}
			sort.Strings(rules)
			want := []string{
				`iam high {"source":["aws.iam"]} testdata/modules/alerts/modules/rule/main.tf:13`,
				`signin medium {"source":["aws.signin"]} testdata/modules/alerts/modules/rule/main.tf:13`,
			}
			if strings.Join(rules, "\n") != strings.Join(want, "\n") {
				t.Errorf("rules\n%s\nwant\n%s", strings.Join(rules, "\n"), strings.Join(want, "\n"))
			}
			// Targets in module watch, their rule a nested module's output,
			// their topic module notify's output passed in by the root; one
			// more in the root, on module.watch["iam"]'s rule.
			var routes []string
			for _, r := range cfg.Routes {
				if len(r.Receivers) != 2 || r.RuleARN != "arn:aws:events:eu-west-1:123456789012:rule/"+r.Rules[0] {
					t.Errorf("route %+v", r)
				}
				routes = append(routes, strings.TrimPrefix(r.Name, "testdata/modules/alerts/main.tf/"))
			}
			sort.Strings(routes)
			if got := strings.Join(routes, " "); got != "iam/copy iam/mail signin/mail" {
				t.Errorf("routes %s", got)
			}
			var to []string
			for _, r := range cfg.Receivers {
				if r.Email == nil {
					t.Fatalf("receiver %+v, want e-mail", r)
				}
				to = append(to, r.Email.To...)
			}
			sort.Strings(to)
			if strings.Join(to, ",") != "a@example.com,b@example.com" || len(cfg.Topics[topic]) != 2 {
				t.Errorf("receivers to %v, topics %v", to, cfg.Topics)
			}
			// Alarms of module alarms (count), acting on module notify's
			// topic; their metric filters' transformations from a dynamic
			// block.
			if len(cfg.Alarms) != 2 {
				t.Fatalf("%d alarms, want 2; skipped %v", len(cfg.Alarms), cfg.Skipped)
			}
			for i, a := range cfg.Alarms {
				if a.Name != fmt.Sprintf("logins-%d", i) || a.MetricName != fmt.Sprintf("Logins%d", i) || a.Threshold != float64(10*(i+1)) ||
					len(a.AlarmActions) != 1 || a.AlarmActions[0] != topic {
					t.Errorf("alarm %d: %+v", i, a)
				}
			}
			if len(cfg.MetricFilters) != 2 {
				t.Fatalf("%d metric filters, want 2", len(cfg.MetricFilters))
			}
			for i, f := range cfg.MetricFilters {
				if f.Name != fmt.Sprintf("logins-%d", i) || len(f.Transformations) != 1 ||
					f.Transformations[0].MetricName != fmt.Sprintf("Logins%d", i) || f.Transformations[0].MetricValue != "1" {
					t.Errorf("metric filter %d: %+v", i, f)
				}
			}
			// The schedule names the alarms of module.alarms[*].
			if len(cfg.Schedules) != 1 || cfg.Schedules[0].Action != "disable_alarm_actions" || strings.Join(cfg.Schedules[0].Alarms, ",") != "logins-0,logins-1" {
				t.Errorf("schedules %+v", cfg.Schedules)
			}
			all := strings.Join(cfg.Skipped, "\n")
			if !strings.Contains(all, "testdata/modules/alerts/modules/notify/main.tf:24: module.notify.aws_iam_role.publisher (aws_iam_role)") {
				t.Errorf("Skipped lacks the module's IAM role:\n%s", all)
			}
		}},
		{"alerts", map[string]string{"team": "ops", "sources": `{ console = "aws.signin", iam = "aws.iam" }`}, []string{
			"aws_scheduler_schedule.quiet",
			"module.alarms[0].aws_cloudwatch_log_metric_filter.logins",
			"module.alarms[0].aws_cloudwatch_metric_alarm.logins",
			"module.alarms[1].aws_cloudwatch_log_metric_filter.logins",
			"module.alarms[1].aws_cloudwatch_metric_alarm.logins",
			"module.notify.aws_sns_topic.t",
			"module.notify.aws_sns_topic_subscription.mail[0]",
			"module.notify.aws_sns_topic_subscription.mail[1]",
			`module.watch["console"].module.rule.aws_cloudwatch_event_rule.r`,
			`module.watch["iam"].module.rule.aws_cloudwatch_event_rule.r`,
		}, func(t *testing.T, rs *config.Resources, cfg *config.Config) {
			if len(cfg.Rules) != 2 || cfg.Rules[0].Name != "console" || cfg.Rules[0].Severity != rule.SeverityMedium {
				t.Errorf("rules %+v", cfg.Rules)
			}
			if _, ok := cfg.Topics["arn:aws:sns:eu-west-1:123456789012:ops-alerts"]; !ok || cfg.Alarms[1].AlarmActions[0] != "arn:aws:sns:eu-west-1:123456789012:ops-alerts" {
				t.Errorf("topics %v, alarm actions %v", cfg.Topics, cfg.Alarms[1].AlarmActions)
			}
		}},
		{"dynamic", nil, []string{
			"aws_cloudwatch_event_api_destination.d",
			"aws_cloudwatch_event_connection.c",
			"aws_cloudwatch_event_rule.r",
		}, func(t *testing.T, rs *config.Resources, cfg *config.Config) {
			if len(cfg.Receivers) != 1 || cfg.Receivers[0].APIDestination == nil {
				t.Fatalf("receivers %+v", cfg.Receivers)
			}
			p := cfg.Receivers[0].APIDestination.Connection.InvocationHTTPParameters
			if p == nil || len(p.HeaderParameters) != 2 || p.HeaderParameters["X-Team"].Reveal() != "sec" || p.HeaderParameters["X-Env"].Reveal() != "prod" ||
				len(p.QueryStringParameters) != 1 || p.QueryStringParameters["source"].Reveal() != "trailwatch-0" {
				t.Errorf("invocation parameters %+v", p)
			}
		}},
		{"dynamic", map[string]string{"headers": "{}", "query": "[]"}, []string{
			"aws_cloudwatch_event_api_destination.d",
			"aws_cloudwatch_event_connection.c",
			"aws_cloudwatch_event_rule.r",
		}, func(t *testing.T, rs *config.Resources, cfg *config.Config) {
			if p := cfg.Receivers[0].APIDestination.Connection.InvocationHTTPParameters; p != nil {
				t.Errorf("invocation parameters %+v, want none (for_each empty)", p)
			}
		}},
	} {
		t.Run(c.dir, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("testdata", "modules", c.dir)
			rs, err := Read([]string{dir}, c.vars, nil)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, it := range rs.Items {
				ids = append(ids, it.ID)
			}
			sort.Strings(ids)
			if strings.Join(ids, "\n") != strings.Join(c.items, "\n") {
				t.Errorf("resources\n%s\nwant\n%s", strings.Join(ids, "\n"), strings.Join(c.items, "\n"))
			}
			cfg, err := Load([]string{dir}, c.vars, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, rs, cfg)
		})
	}
}

// Errors in modules, dynamic blocks and validations, each at its
// file:line:col ({dir}: the case's directory).
func TestModuleErrors(t *testing.T) {
	t.Parallel()
	const local = "Trailwatch reads only local modules (source starting with ./ or ../) and downloads nothing from a registry, git or http"
	for _, c := range []struct {
		dir  string
		vars map[string]string
		want []string
	}{
		{"remote", nil, []string{
			`{dir}/main.tf:1:1: module.vpc: source "terraform-aws-modules/vpc/aws" is not a local path: ` + local,
			`{dir}/main.tf:6:1: module.alerts: source "git::https://example.com/alerts.git?ref=v1" is not a local path: ` + local,
			`{dir}/main.tf:10:1: module.web: source "https://example.com/alerts.zip" is not a local path: ` + local,
		}},
		{"missing_variable", nil, []string{
			`{dir}/main.tf:1:1: module.notify: missing required argument "emails" (variable "emails" at {dir}/notify/variables.tf:2 has no default)`,
		}},
		{"bad_arguments", nil, []string{
			`{dir}/main.tf:3:3: module.notify: unsupported argument "colour": the module in {dir}/notify declares no variable "colour"`,
			`{dir}/main.tf:4:3: module.notify: version: a local module (source "./notify") has no version`,
			`{dir}/main.tf:6:3: module.notify: count and for_each together: give one`,
			`{dir}/main.tf:7:3: module.notify: unexpected lifecycle block`,
			`{dir}/notify/main.tf:1:27: module.notify: provider "aws" region "eu-central-1": Trailwatch gives every resource the root module's region (us-east-1)`,
		}},
		{"cycle", nil, []string{
			`{dir}/b/main.tf:1:1: module.a: source "../a": modules calling each other in a cycle ({dir}/a -> {dir}/b -> {dir}/a)`,
		}},
		{"no_directory", nil, []string{
			`{dir}/main.tf:1:1: module.m: source "./nope": stat {dir}/nope: no such file or directory`,
			`{dir}/main.tf:2:1: module.e: source "./empty": {dir}/empty: no .tf files`,
		}},
		{"validation_root", map[string]string{"team": "Sec"}, []string{
			`{dir}/main.tf:1:1: variable team: invalid value: team is lower-case letters only. (checked by the validation rule at {dir}/main.tf:3)`,
		}},
		{"validation_module", nil, []string{
			`{dir}/main.tf:5:14: module.rule: variable period ({dir}/rule/main.tf:2): a number is required`,
			`{dir}/rule/main.tf:3:1: module.rule: variable severity: invalid value: severity is one of low, medium, high, critical. (the value given at {dir}/main.tf:4; checked by the validation rule at {dir}/rule/main.tf:5)`,
		}},
		{"output_error", nil, []string{
			`{dir}/notify/main.tf:4:24: Unsupported attribute: This object does not have an attribute named "typo".`,
			`{dir}/main.tf:4:15: aws_sns_topic_subscription.s: topic_arn: not known, because of the error at {dir}/notify/main.tf:4:24`,
			`{dir}/main.tf:18:39: Unsupported attribute: This object does not have an attribute named "topic".`,
		}},
		{"input_error", nil, []string{
			`{dir}/main.tf:3:17: Unsupported attribute: This object does not have an attribute named "nope".`,
			`{dir}/notify/main.tf:4:10: module.notify.aws_sns_topic.t: name: not known, because of the error at {dir}/main.tf:3:17`,
		}},
		{"dynamic", nil, []string{
			`{dir}/main.tf:5:3: aws_cloudwatch_log_metric_filter.no_content: dynamic "metric_transformation": content block missing`,
			`{dir}/main.tf:15:16: aws_cloudwatch_log_metric_filter.null: dynamic "metric_transformation": for_each is null, want a list, set or map`,
			`{dir}/main.tf:26:5: aws_cloudwatch_log_metric_filter.labels: dynamic "metric_transformation": labels: metric_transformation blocks take no labels`,
			`{dir}/main.tf:27:16: aws_cloudwatch_log_metric_filter.labels: dynamic "metric_transformation": iterator: want a name (iterator = item)`,
			`{dir}/main.tf:34:3: aws_sns_topic.unknown_block: unsupported argument "colour"`,
		}},
	} {
		t.Run(c.dir, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("testdata", "modules", "errors", c.dir)
			_, err := Load([]string{dir}, c.vars, nil)
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			for _, w := range c.want {
				w = strings.ReplaceAll(w, "{dir}", dir)
				found := false
				for _, g := range got {
					found = found || strings.HasPrefix(g, w)
				}
				if !found {
					t.Errorf("no error starting\n%s\nin\n%v", w, err)
				}
			}
			if len(got) != len(c.want) {
				t.Errorf("%d errors, want %d:\n%v", len(got), len(c.want), err)
			}
		})
	}
}

// Validation blocks: evaluated with the variable's value (from --var, a
// default or, in a module, the module block), a false condition an error
// with the error_message at the variable.
func TestValidation(t *testing.T) {
	t.Parallel()
	const src = `variable "team" {
  type    = string
  default = "sec"
  validation {
    condition     = length(var.team) <= 4
    error_message = "team: at most 4 letters."
  }
  validation {
    condition     = startswith(var.team, "s") || var.team == upper(var.team)
    error_message = "team: ${var.team} starts with s, or is upper case."
  }
}
variable "ports" {
  type    = list(number)
  default = [443]
  validation {
    condition     = alltrue([for p in var.ports : p > 0 && p < 65536])
    error_message = "ports are 1 to 65535."
  }
}
resource "aws_sns_topic" "t" { name = var.team }
`
	for _, c := range []struct {
		name string
		vars map[string]string
		want []string // errors after "main.tf:"; none: it loads
	}{
		{"defaults", nil, nil},
		{"given and passing", map[string]string{"team": "sa", "ports": "[1, 65535]"}, nil},
		{"upper case passes the second", map[string]string{"team": "OPS"}, nil},
		{"too long", map[string]string{"team": "security"}, []string{"1:1: variable team: invalid value: team: at most 4 letters. (checked by the validation rule at "}},
		{"both fail, message interpolated", map[string]string{"team": "operations"}, []string{
			"1:1: variable team: invalid value: team: at most 4 letters.",
			"1:1: variable team: invalid value: team: operations starts with s, or is upper case. (checked by the validation rule at ",
		}},
		{"list", map[string]string{"ports": "[0, 80]"}, []string{"13:1: variable ports: invalid value: ports are 1 to 65535."}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, f, err := load(t, src, c.vars, nil)
			if len(c.want) == 0 {
				if err != nil || len(cfg.Topics) != 1 {
					t.Fatalf("err %v, topics %v", err, cfg)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), f+":"+w) {
					t.Errorf("error lacks %s:%s\n%v", f, w, err)
				}
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(c.want) {
				t.Errorf("%d errors, want %d:\n%v", n, len(c.want), err)
			}
		})
	}
}
