package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/notifytest"
)

const secretPath = "/services/T000/B000/XXXXSECRETXXXX"

func newNotifier(t *testing.T, url string, tz string) *Notifier {
	t.Helper()
	n, err := New(&config.SlackConfig{WebhookURL: config.Secret(url), TimeZone: tz}, notify.Options{
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Clock:      notifytest.Clock(time.Date(2024, 3, 1, 10, 0, 6, 0, time.UTC)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRetryThenDeliver(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t,
		notifytest.Answer{Code: 500, Body: "internal_error"},
		notifytest.Answer{Code: 429, Header: map[string]string{"Retry-After": "7"}, Body: "rate_limited"},
		notifytest.Answer{Code: 200, Body: "ok"},
	)
	n := newNotifier(t, srv.URL+secretPath, "Asia/Tokyo")
	ctx := context.Background()

	retry, err := n.Notify(ctx, notifytest.Notification())
	if !retry || !errors.Is(err, notify.ErrStatus) || !strings.Contains(err.Error(), "500") {
		t.Fatalf("500: retry=%v err=%v, want a retryable status error", retry, err)
	}
	retry, err = n.Notify(ctx, notifytest.Notification())
	if after, ok := notify.RetryAfter(err); !retry || !ok || after != 7*time.Second {
		t.Fatalf("429: retry=%v err=%v after=%v, want retry after 7s", retry, err, after)
	}
	retry, err = n.Notify(ctx, notifytest.Notification())
	if retry || err != nil {
		t.Fatalf("200: retry=%v err=%v", retry, err)
	}

	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	r := reqs[2]
	if r.Method != "POST" || r.URL != secretPath {
		t.Errorf("request %s %s", r.Method, r.URL)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var p struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type, Text string
			} `json:"text"`
			Fields []struct {
				Type, Text string
			} `json:"fields"`
			Elements []struct {
				Type  string          `json:"type"`
				Text  json.RawMessage `json:"text"`
				URL   string          `json:"url"`
				Style string          `json:"style"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.Body)
	}
	title := "[CRITICAL] root-signin: root signed in from 198.51.100.7 without MFA"
	if p.Text != title {
		t.Errorf("text %q, want %q", p.Text, title)
	}
	types := []string{}
	for _, b := range p.Blocks {
		types = append(types, b.Type)
	}
	if got, want := strings.Join(types, ","), "header,section,section,actions,context"; got != want {
		t.Fatalf("blocks %s, want %s", got, want)
	}
	if h := p.Blocks[0].Text; h.Type != "plain_text" || h.Text != title {
		t.Errorf("header %+v", h)
	}
	var fields []string
	for _, f := range p.Blocks[2].Fields {
		if f.Type != "mrkdwn" {
			t.Errorf("field type %q", f.Type)
		}
		fields = append(fields, f.Text)
	}
	all := strings.Join(fields, "\n")
	for _, want := range []string{
		"*Who*", "Principal: root (Root)", "ARN: `arn:aws:iam::111122223333:root`",
		"*What*", "Event: `signin.amazonaws.com ConsoleLogin`", "Rule: root-signin", "Severity: CRITICAL", "Outcome: Success",
		"*When*", "UTC: 2024-03-01 10:00:00 UTC", "Local: 2024-03-01 19:00:00 JST (Asia/Tokyo)",
		"*Where*", "Account: `111122223333`", "Region: `us-east-1`", "Source IP: `198.51.100.7`",
		"User agent: Mozilla/5.0 (Macintosh)", "MFA: No",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("fields lack %q:\n%s", want, all)
		}
	}
	btn := p.Blocks[3].Elements
	if len(btn) != 2 {
		t.Fatalf("%d buttons", len(btn))
	}
	if want := "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/e7c3a6b1-1111-4222-8333-944445555666"; btn[0].URL != want {
		t.Errorf("console button %q, want %q", btn[0].URL, want)
	}
	if btn[1].URL != notifytest.Notification().AckURL || btn[1].Style != "primary" {
		t.Errorf("ack button %+v", btn[1])
	}
}

func TestReminderCountAndNoAck(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t, notifytest.Answer{Code: 200, Body: "ok"})
	n := newNotifier(t, srv.URL, "")
	nt := notifytest.Notification()
	nt.Reminder, nt.Count, nt.AckURL = 2, 3, ""
	if _, err := n.Notify(context.Background(), nt); err != nil {
		t.Fatal(err)
	}
	var p Payload
	body := srv.Requests()[0].Body
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	want := "Reminder 2: [CRITICAL] root-signin: root signed in from 198.51.100.7 without MFA (3 events)"
	if p.Text != want {
		t.Errorf("text %q, want %q", p.Text, want)
	}
	if strings.Contains(string(body), "Acknowledge") || strings.Contains(string(body), "Local:") {
		t.Errorf("no ack button and no local time expected:\n%s", body)
	}
	if !strings.Contains(string(body), "Count: 3 matching events") || !strings.Contains(string(body), "reminder 2, not yet acknowledged") {
		t.Errorf("count or reminder missing:\n%s", body)
	}
}

func TestFixedBodySentAsIs(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t, notifytest.Answer{Code: 200, Body: "ok"})
	n := newNotifier(t, srv.URL, "")
	nt := notifytest.Notification()
	nt.Body = []byte(`{"text":"from a transformer"}`)
	if _, err := n.Notify(context.Background(), nt); err != nil {
		t.Fatal(err)
	}
	if got := string(srv.Requests()[0].Body); got != string(nt.Body) {
		t.Errorf("body %s", got)
	}
}

func TestPermanentAndTransportErrorsHideURL(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t, notifytest.Answer{Code: 400, Body: "invalid_payload"}, notifytest.Answer{Code: 404, Body: "no_service"})
	n := newNotifier(t, srv.URL+secretPath, "")
	for _, want := range []string{"invalid_payload", "no_service"} {
		retry, err := n.Notify(context.Background(), notifytest.Notification())
		if retry || err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("retry=%v err=%v, want a permanent %s", retry, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error reveals the webhook URL: %v", err)
		}
	}
	srv.Close()
	retry, err := n.Notify(context.Background(), notifytest.Notification())
	if !retry || err == nil {
		t.Fatalf("closed server: retry=%v err=%v", retry, err)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error reveals the webhook URL: %v", err)
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cfg  config.SlackConfig
		want error
	}{
		{config.SlackConfig{}, ErrNoURL},
		{config.SlackConfig{WebhookURL: "ftp://hooks.slack.com/services/SECRET"}, ErrBadURL},
		{config.SlackConfig{WebhookURL: "hooks.slack.com/services/SECRET"}, ErrBadURL},
	} {
		_, err := New(&c.cfg, notify.Options{})
		if !errors.Is(err, c.want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%v: err %v, want %v", c.cfg.WebhookURL, err, c.want)
		}
	}
	if _, err := New(&config.SlackConfig{WebhookURL: "https://x", TimeZone: "Mars/Olympus"}, notify.Options{}); err == nil {
		t.Error("a bad time zone is accepted")
	}
}

func TestEscapesMrkdwn(t *testing.T) {
	t.Parallel()
	nt := notifytest.Notification()
	nt.Alert.Summary = "a <b> & c"
	p := Message(nt, nil, "")
	b, _ := json.Marshal(p)
	var back Payload
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Blocks[1].Text.Text; !strings.Contains(got, "a &lt;b&gt; &amp; c") {
		t.Errorf("section %q", got)
	}
}
