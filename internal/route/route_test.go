package route

import (
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/rule"
)

const rulesYAML = `
rules:
  - name: root-signin
    severity: critical
    tags: [root]
    pattern: {"detail": {"userIdentity": {"type": ["Root"]}}}
  - name: key-created
    severity: medium
    remind_every: 10m
    remind_max: 2
    pattern: {"detail": {"eventName": ["CreateAccessKey"]}}
`

const record = `{"eventVersion":"1.08","userIdentity":{"type":"Root","accountId":"111122223333"},"eventTime":"2024-03-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","eventID":"e-1","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`

func setup(t *testing.T, cfg *config.Config) (*Router, map[string]*rule.Rule, *event.Event) {
	t.Helper()
	rules, err := rule.Parse([]byte(rulesYAML), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*rule.Rule{}
	for _, r := range rules {
		byName[r.Name] = r
	}
	ev, err := event.FromRecord([]byte(record))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rt, byName, ev
}

func dur(d time.Duration) *config.Duration { c := config.Duration(d); return &c }

func TestDeliveries(t *testing.T) {
	high := rule.Severity(0)
	if err := high.UnmarshalText([]byte("high")); err != nil {
		t.Fatal(err)
	}
	three := 3
	cfg := &config.Config{
		Receivers: []*config.Receiver{
			{Name: "slack", Slack: &config.SlackConfig{WebhookURL: "https://hooks.example/x"}, RemindEvery: config.Duration(time.Hour), RemindMax: 5},
			{Name: "mail", Email: &config.EmailConfig{To: []string{"a@example.com"}}},
			{Name: "hook", Webhook: &config.WebhookConfig{URL: "https://example.com/h"}},
		},
		Routes: []*config.Route{
			{Name: "severe", MinSeverity: &high, Receivers: []string{"slack"}},
			{Name: "root-mail", Rules: []string{"root-signin"}, Receivers: []string{"mail"},
				InputTransformer: &config.InputTransformer{InputPathsMap: map[string]string{"ip": "$.detail.sourceIPAddress"}, InputTemplate: `"root from <ip> by <aws.events.rule-name>"`},
				RemindEvery:      dur(5 * time.Minute), RemindMax: &three},
			{Name: "by-tag", Tags: []string{"root"}, Receivers: []string{"slack", "hook"}},
		},
	}
	rt, rules, ev := setup(t, cfg)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	got, errs := rt.Deliveries(rules["root-signin"], ev, now, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var summary []string
	for _, d := range got {
		summary = append(summary, d.Receiver+" "+string(d.Body)+" "+d.RemindEvery.String())
		if d.RuleARN != "arn:aws:events:us-east-1:111122223333:rule/root-signin" {
			t.Errorf("rule ARN %q", d.RuleARN)
		}
	}
	want := []string{
		`slack  1h0m0s`, // receiver's reminders
		`mail "root from 198.51.100.7 by root-signin" 5m0s`, // route's transformer and reminders
		`hook  0s`, // slack again via by-tag with the same body: once
	}
	if strings.Join(summary, "|") != strings.Join(want, "|") {
		t.Errorf("got  %q\nwant %q", summary, want)
	}

	// A medium rule reaches no route here.
	if got, _ := rt.Deliveries(rules["key-created"], ev, now, nil); len(got) != 0 {
		t.Errorf("key-created: %v", got)
	}
}

func TestDefaultRouteAndRuleReminders(t *testing.T) {
	cfg := &config.Config{Receivers: []*config.Receiver{{Name: "out", Stdout: &config.StdoutConfig{}}}}
	rt, rules, ev := setup(t, cfg)
	got, _ := rt.Deliveries(rules["key-created"], ev, time.Time{}, nil)
	if len(got) != 1 || got[0].Receiver != "out" || got[0].RemindEvery != 10*time.Minute || got[0].RemindMax != 2 {
		t.Errorf("got %+v", got)
	}
}

func TestRenderFailureIsReported(t *testing.T) {
	cfg := &config.Config{
		Receivers: []*config.Receiver{{Name: "hook", Webhook: &config.WebhookConfig{URL: "https://example.com"}}},
		Routes: []*config.Route{{Name: "bad", Receivers: []string{"hook"},
			InputTransformer: &config.InputTransformer{InputPathsMap: map[string]string{"who": "$.detail.userIdentity"}, InputTemplate: `{"who": "<who>"}`}}},
	}
	rt, rules, ev := setup(t, cfg)
	got, errs := rt.Deliveries(rules["root-signin"], ev, time.Time{}, nil)
	if len(got) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "route bad to hook") {
		t.Errorf("got %v, errs %v", got, errs)
	}
}

func TestNewErrors(t *testing.T) {
	_, err := New(&config.Config{Routes: []*config.Route{{Name: "r", Receivers: []string{"nobody"}}}})
	if err == nil || !strings.Contains(err.Error(), `no receiver "nobody"`) {
		t.Errorf("err = %v", err)
	}
}

func TestMutedRoutes(t *testing.T) {
	cfg := &config.Config{
		Receivers: []*config.Receiver{{Name: "a", Stdout: &config.StdoutConfig{}}, {Name: "b", Stdout: &config.StdoutConfig{}}},
		Routes:    []*config.Route{{Name: "day", Receivers: []string{"a"}}, {Name: "night", Receivers: []string{"b"}}},
	}
	rt, rules, ev := setup(t, cfg)
	got, _ := rt.Deliveries(rules["root-signin"], ev, time.Time{}, map[string]bool{"day": true})
	if len(got) != 1 || got[0].Receiver != "b" {
		t.Errorf("got %+v", got)
	}
}

func TestMuteWindow(t *testing.T) {
	cfg := &config.Config{
		Receivers: []*config.Receiver{{Name: "a", Stdout: &config.StdoutConfig{}}, {Name: "b", Stdout: &config.StdoutConfig{}}},
		Routes: []*config.Route{
			{Name: "deferred", Receivers: []string{"a"}, MuteWindow: &config.Window{Days: "MON-FRI", From: "09:00", To: "18:00", TimeZone: "Asia/Tokyo"}},
			{Name: "dropped", Receivers: []string{"b"}, MuteWindow: &config.Window{Days: "MON-FRI", From: "09:00", To: "18:00", TimeZone: "Asia/Tokyo", Drop: true}},
		},
	}
	rt, rules, ev := setup(t, cfg)
	jst, _ := time.LoadLocation("Asia/Tokyo")
	inside := time.Date(2026, 11, 23, 10, 0, 0, 0, jst) // Monday 10:00
	got, _ := rt.Deliveries(rules["root-signin"], ev, inside, nil)
	if len(got) != 1 || got[0].Receiver != "a" || !got[0].NotBefore.Equal(time.Date(2026, 11, 23, 18, 0, 0, 0, jst)) {
		t.Errorf("inside the window: %+v", got)
	}
	outside := time.Date(2026, 11, 23, 19, 0, 0, 0, jst)
	got, _ = rt.Deliveries(rules["root-signin"], ev, outside, nil)
	if len(got) != 2 || !got[0].NotBefore.IsZero() || !got[1].NotBefore.IsZero() {
		t.Errorf("outside the window: %+v", got)
	}
}

func TestMuteWindowDigest(t *testing.T) {
	fixed := `{"fixed": true}`
	window := &config.Window{Days: "MON-FRI", From: "09:00", To: "18:00", TimeZone: "Asia/Tokyo"}
	cfg := &config.Config{
		Receivers: []*config.Receiver{{Name: "a", Stdout: &config.StdoutConfig{}}, {Name: "b", Stdout: &config.StdoutConfig{}}},
		Routes: []*config.Route{
			{Name: "office", Receivers: []string{"a", "b"}, MuteWindow: window},
			{Name: "fixed", Receivers: []string{"a"}, MuteWindow: window, Input: &fixed},
		},
	}
	rt, rules, ev := setup(t, cfg)
	jst, _ := time.LoadLocation("Asia/Tokyo")
	got, errs := rt.Deliveries(rules["root-signin"], ev, time.Date(2026, 11, 23, 10, 0, 0, 0, jst), nil)
	if len(errs) != 0 || len(got) != 3 {
		t.Fatalf("inside the window: %+v %v", got, errs)
	}
	want := []string{"office|a|2026-11-23T09:00:00Z", "office|b|2026-11-23T09:00:00Z", ""}
	for i, d := range got {
		if d.Digest != want[i] || d.NotBefore.IsZero() {
			t.Errorf("delivery %d (%s): Digest %q, NotBefore %v; want %q", i, d.Receiver, d.Digest, d.NotBefore, want[i])
		}
	}
	got, _ = rt.Deliveries(rules["root-signin"], ev, time.Date(2026, 11, 23, 19, 0, 0, 0, jst), nil)
	for _, d := range got {
		if d.Digest != "" || !d.NotBefore.IsZero() {
			t.Errorf("outside the window: %+v", d)
		}
	}
}
