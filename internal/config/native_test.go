package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/rule"
)

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const exampleConfig = `builtin_rules: false
rules: [rules/]
receivers:
  - name: security-slack
    slack: {webhook_url: "${SLACK_WEBHOOK_URL}", time_zone: Asia/Tokyo}
    remind_every: 30m
    remind_max: 5
  - name: oncall-mail
    email: {to: [oncall@example.com]}
  - name: out
    stdout:
routes:
  - receivers: [security-slack]
    min_severity: high
  - rules: [root-console-signin]
    receivers: [oncall-mail]
    input_transformer: {input_paths_map: {ip: "$.detail.sourceIPAddress"}, input_template: '"root from <ip>"'}
`

const ruleFile = `rules:
  - name: root-console-signin
    severity: critical
    pattern:
      detail-type: [AWS Console Sign In via CloudTrail]
      detail: {userIdentity: {type: [Root]}}
`

func TestNativeExample(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "trailwatch.yaml", exampleConfig)
	if err := mkdirAll(filepath.Join(dir, "rules")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "rules/root.yaml", ruleFile)
	const hook = "https://hooks.slack.com/services/T/B/SECRET123"
	cfg, err := Load([]string{cfgPath}, nil, nil, envMap(map[string]string{"SLACK_WEBHOOK_URL": hook}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != 1 || cfg.Rules[0].Name != "root-console-signin" || cfg.Rules[0].Severity != rule.SeverityCritical {
		t.Fatalf("rules %v", cfg.Rules)
	}
	mustMatch(t, cfg.Rules[0], rootSignIn, true)
	if len(cfg.Receivers) != 3 {
		t.Fatalf("receivers %d", len(cfg.Receivers))
	}
	s := cfg.Receivers[0]
	if s.Type() != "slack" || s.Slack.WebhookURL.Reveal() != hook || s.Slack.TimeZone != "Asia/Tokyo" ||
		time.Duration(s.RemindEvery) != 30*time.Minute || s.RemindMax != 5 {
		t.Errorf("slack receiver %+v %+v", s, s.Slack)
	}
	if m := cfg.Receivers[1]; m.Type() != "email" || m.Email.To[0] != "oncall@example.com" || m.Email.Raw {
		t.Errorf("email receiver %+v", m.Email)
	}
	if o := cfg.Receivers[2]; o.Type() != "stdout" {
		t.Errorf("stdout receiver %+v", o)
	}
	if len(cfg.Routes) != 2 || cfg.Routes[0].MinSeverity == nil || *cfg.Routes[0].MinSeverity != rule.SeverityHigh {
		t.Fatalf("routes %+v", cfg.Routes)
	}
	it := cfg.Routes[1].InputTransformer
	if it == nil || it.InputPathsMap["ip"] != "$.detail.sourceIPAddress" || it.InputTemplate != `"root from <ip>"` {
		t.Errorf("transformer %+v", it)
	}
	for _, p := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v %#v", cfg, cfg), fmt.Sprintf("%v %+v", *s, *s.Slack)} {
		if strings.Contains(p, "SECRET123") {
			t.Errorf("secret printed: %s", p)
		}
	}
}

func TestNativeDefaults(t *testing.T) {
	t.Parallel()
	// No files at all: the built-in packs.
	cfg, err := Load(nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := rule.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != len(builtin) || len(builtin) == 0 {
		t.Errorf("rules %d, built-in %d", len(cfg.Rules), len(builtin))
	}
	// An empty config file: built-in packs too (builtin_rules defaults to true).
	p := writeFile(t, t.TempDir(), "empty.yaml", "")
	cfg, err = Load([]string{p}, nil, nil, nil)
	if err != nil || len(cfg.Rules) != len(builtin) {
		t.Errorf("empty file: %v, %d rules", err, len(cfg.Rules))
	}
}

func TestNativeErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml string
		env        map[string]string
		want       []string
		sentinel   error
	}{
		{"unknown top key", "receiver: []\n", nil,
			[]string{"x.yaml:1:1: receiver: unknown key (want one of builtin_rules, rules, receivers, routes, builtin_metrics, builtin_metrics_actions, metric_filters, alarms, composite_alarms, schedules, postgres)"}, ErrUnknownKey},
		{"unknown nested key", "receivers:\n  - name: a\n    slack: {webhook_url: 'https://x', channel: c}\n", nil,
			[]string{"x.yaml:3:39: receivers[0].slack.channel: unknown key"}, ErrUnknownKey},
		{"syntax", "receivers: [\n", nil, []string{"x.yaml:1: did not find expected node content"}, nil},
		{"bad duration", "receivers:\n  - name: a\n    stdout: {}\n    remind_every: 5 minutes\n", nil,
			[]string{`x.yaml:4:19: receivers[0].remind_every: duration "5 minutes": want a number and a unit`}, nil},
		{"bad int", "receivers:\n  - name: a\n    stdout: {}\n    remind_max: many\n", nil,
			[]string{"x.yaml:4:17: receivers[0].remind_max: want a whole number"}, nil},
		{"remind without every", "receivers:\n  - name: a\n    stdout: {}\n    remind_max: 2\n", nil,
			[]string{"x.yaml:2:5: receivers[0].remind_every: missing (remind_max is set)"}, nil},
		{"bad severity", "routes:\n  - receivers: [a]\n    min_severity: urgent\n", nil,
			[]string{`x.yaml:3:19: routes[0].min_severity: unknown severity "urgent"`}, nil},
		{"two types", "receivers:\n  - name: a\n    stdout: {}\n    email: {to: [a@example.com]}\n", nil,
			[]string{"x.yaml:2:5: receivers[0]: want exactly one of slack, email, webhook, sns, api_destination and stdout (got 2)"}, nil},
		{"no type", "receivers:\n  - name: a\n", nil, []string{"receivers[0]: want exactly one of"}, nil},
		{"duplicate receiver", "receivers:\n  - {name: a, stdout: {}}\n  - {name: a, stdout: {}}\n", nil,
			[]string{`x.yaml:3:6: receivers[1].name: duplicate receiver name "a" (first defined at x.yaml:3)`}, nil},
		{"missing receiver", "routes:\n  - receivers: [nope]\n", nil, []string{`x.yaml:2:17: routes[0].receivers[0]: no receiver named "nope"`}, nil},
		{"missing rule", "receivers: [{name: a, stdout: {}}]\nroutes:\n  - {receivers: [a], rules: [nope]}\n", nil,
			[]string{`x.yaml:3:30: routes[0].rules[0]: no rule named "nope"`}, nil},
		{"two bodies", "receivers: [{name: a, stdout: {}}]\nroutes:\n  - {receivers: [a], input: '{}', input_path: $.detail}\n", nil,
			[]string{"x.yaml:3:5: routes[0]: target input: only one of input, input_path and input_transformer may be given"}, nil},
		{"bad input", "receivers: [{name: a, stdout: {}}]\nroutes:\n  - {receivers: [a], input: 'not json'}\n", nil,
			[]string{"x.yaml:3:22: routes[0].input:"}, nil},
		{"bad transformer", "receivers: [{name: a, stdout: {}}]\nroutes:\n  - receivers: [a]\n    input_transformer: {input_paths_map: {'a b': $.x}, input_template: '<a b>'}\n", nil,
			[]string{"x.yaml:4:5: routes[0].input_transformer: target input: input_paths_map key"}, nil},
		{"missing env", "receivers:\n  - name: s\n    slack: {webhook_url: '${HOOK}'}\n", nil,
			[]string{"x.yaml:3:26: receivers[0].slack.webhook_url: environment variable HOOK is not set"}, ErrMissingEnv},
		{"bad env ref", "receivers:\n  - name: s\n    slack: {webhook_url: '${1X}'}\n", nil,
			[]string{`receivers[0].slack.webhook_url: bad environment reference "${1X}"`}, nil},
		{"env value never shown", "receivers:\n  - name: s\n    slack: {webhook_url: 'ftp://${HOOK}'}\n    remind_every: ${EVERY}\n    remind_max: 1\n",
			map[string]string{"HOOK": "TOPSECRET", "EVERY": "TOPSECRET"},
			[]string{"x.yaml:3:13: receivers[0].slack.webhook_url: not an http or https URL",
				"x.yaml:4:19: receivers[0].remind_every: the value from the environment is not valid here"}, nil},
		{"bad urls and zones", "receivers:\n  - name: w\n    webhook: {url: 'http://x', method: FETCH, bearer_token: t, basic_auth: {password: p}}\n  - name: z\n    slack: {webhook_url: 'https://x', time_zone: Mars/Olympus}\n", nil,
			[]string{`receivers[0].webhook.method: unknown HTTP method "FETCH"`, "receivers[0].webhook: give at most one of basic_auth and bearer_token",
				"receivers[0].webhook.basic_auth.username: missing", `x.yaml:5:39: receivers[1].slack.time_zone: unknown time zone "Mars/Olympus"`}, nil},
		{"sns and api destination", "receivers:\n  - name: s\n    sns: {topic_arn: 'arn:aws:sqs:us-east-1:123456789012:q'}\n  - name: d\n    api_destination: {invocation_endpoint: 'http://x', http_method: POST, connection: {authorization_type: TOKEN}}\n", nil,
			[]string{"receivers[0].sns.topic_arn: not an SNS topic ARN", "receivers[1].api_destination.invocation_endpoint: not an https URL",
				"receivers[1].api_destination.connection.authorization_type: want API_KEY, BASIC or OAUTH_CLIENT_CREDENTIALS"}, nil},
		{"email", "receivers:\n  - name: e\n    email: {to: ['not an address'], subject: '{{.Rule'}\n", nil,
			[]string{"receivers[0].email.to[0]: not an email address", "receivers[0].email.subject: bad template"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := writeFile(t, dir, "x.yaml", "builtin_rules: false\n"+c.yaml)
			_, err := Load([]string{p}, nil, nil, envMap(c.env))
			if err == nil {
				t.Fatal("want an error")
			}
			// Positions are one line down: builtin_rules is line 1.
			msg := strings.ReplaceAll(err.Error(), dir+"/", "")
			for _, w := range c.want {
				w = shiftLine(w)
				if !strings.Contains(msg, w) {
					t.Errorf("got  %s\nwant %s", msg, w)
				}
			}
			if c.sentinel != nil && !errors.Is(err, c.sentinel) {
				t.Errorf("errors.Is(%v) false", c.sentinel)
			}
			if strings.Contains(msg, "TOPSECRET") {
				t.Errorf("environment value in error: %s", msg)
			}
		})
	}
}

// shiftLine adds one to the line of a "x.yaml:L:" prefix.
func shiftLine(w string) string {
	if !strings.HasPrefix(w, "x.yaml:") {
		return w
	}
	var line int
	rest := strings.TrimPrefix(w, "x.yaml:")
	i := strings.IndexAny(rest, ":")
	fmt.Sscanf(rest[:i], "%d", &line)
	return fmt.Sprintf("x.yaml:%d%s", line+1, rest[i:])
}

func TestNativeEnvEscapes(t *testing.T) {
	t.Parallel()
	p := writeFile(t, t.TempDir(), "x.yaml", `builtin_rules: false
receivers:
  - name: "${NAME}"
    webhook:
      url: "https://${HOST}/x"
      template: "price ${AMOUNT} and $${literal}"
      headers: {Authorization: "Bearer ${TOKEN}"}
    remind_every: ${EVERY}
    remind_max: ${MAX}
`)
	cfg, err := Load([]string{p}, nil, nil, envMap(map[string]string{"NAME": "hook", "HOST": "example.com", "AMOUNT": "5", "TOKEN": "tok", "EVERY": "1h", "MAX": "3"}))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Receivers[0]
	if r.Name != "hook" || r.Webhook.URL.Reveal() != "https://example.com/x" || r.Webhook.Template != "price 5 and ${literal}" ||
		r.Webhook.Headers["Authorization"].Reveal() != "Bearer tok" || time.Duration(r.RemindEvery) != time.Hour || r.RemindMax != 3 {
		t.Errorf("%+v %+v", r, r.Webhook)
	}
}

func TestNativeAndTemplateTogether(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "c.yaml", `builtin_rules: false
receivers: [{name: out, stdout: {}}]
routes:
  - rules: [SigninEventRule]
    receivers: [out, seed001-notify/NotifySlackSigninApiDestination]
`)
	cfg, err := Load([]string{cfgPath}, []string{"testdata/seeds/seed001-notify.yaml"}, map[string]string{"SlackIncomingWebhookUrl": "https://hooks.slack.com/x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Routes) != 2 || len(cfg.Receivers) != 2 {
		t.Errorf("routes %d receivers %d", len(cfg.Routes), len(cfg.Receivers))
	}
	// A parameter no template declares is an error.
	_, err = Load([]string{cfgPath}, []string{"testdata/seeds/seed001-notify.yaml"}, map[string]string{"SlackIncomingWebhookUrl": "https://x", "Typo": "1"}, nil)
	if err == nil || !strings.Contains(err.Error(), "parameter Typo: no template declares it") {
		t.Errorf("got %v", err)
	}
}

func mkdirAll(p string) error { return os.MkdirAll(p, 0o755) }

func TestNativeMuteWindow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok := writeFile(t, dir, "ok.yaml", `
receivers:
  - name: out
    stdout: {}
routes:
  - name: quiet-office
    receivers: [out]
    mute_window: {days: MON-FRI, from: "09:00", to: "18:00", time_zone: Asia/Tokyo}
`)
	cfg, err := Load([]string{ok}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := cfg.Routes[0].MuteWindow.Parse()
	if err != nil {
		t.Fatal(err)
	}
	jst, _ := time.LoadLocation("Asia/Tokyo")
	if !w.Contains(time.Date(2026, 11, 23, 10, 0, 0, 0, jst)) || w.Contains(time.Date(2026, 11, 22, 10, 0, 0, 0, jst)) {
		t.Error("window is not weekdays 09:00-18:00 JST")
	}
	bad := writeFile(t, dir, "bad.yaml", `
receivers:
  - name: out
    stdout: {}
routes:
  - receivers: [out]
    mute_window: {days: MON-FRI, from: "9 o'clock", to: "18:00"}
`)
	if _, err := Load([]string{bad}, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "bad.yaml:") || !strings.Contains(err.Error(), "mute_window") {
		t.Errorf("bad window: %v", err)
	}
}

func TestNativePostgresURL(t *testing.T) {
	t.Parallel()
	p := writeFile(t, t.TempDir(), "pg.yaml", "postgres: ${PG_URL}\n")
	cfg, err := Load([]string{p}, nil, nil, func(k string) (string, bool) {
		return map[string]string{"PG_URL": "postgres://tw:secret@db:5432/trailwatch"}[k], k == "PG_URL"
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Postgres.Reveal() != "postgres://tw:secret@db:5432/trailwatch" || strings.Contains(fmt.Sprintf("%+v", cfg), "secret@") {
		t.Errorf("postgres %q (printed: %v)", cfg.Postgres.Reveal(), strings.Contains(fmt.Sprintf("%+v", cfg), "secret@"))
	}
}
