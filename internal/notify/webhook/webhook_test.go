package webhook

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
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

type A = notifytest.Answer

func opts() notify.Options {
	return notify.Options{
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Clock:      notifytest.Clock(time.Date(2024, 3, 1, 10, 0, 6, 0, time.UTC)),
	}
}

func mustNew(t *testing.T, cfg *config.WebhookConfig) *Notifier {
	t.Helper()
	w, err := New(cfg, opts())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestAlertJSONWithRetries(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t,
		A{Code: 503},
		A{Code: 429, Header: map[string]string{"Retry-After": "Fri, 01 Mar 2024 10:01:06 GMT"}},
		A{Code: 204},
	)
	w := mustNew(t, &config.WebhookConfig{
		URL:         config.Secret(srv.URL + "/hook?token=s3cr3t"),
		BearerToken: "tok-123",
		Headers:     map[string]config.Secret{"X-Team": "secops"},
	})
	ctx := context.Background()
	if retry, err := w.Notify(ctx, notifytest.Notification()); !retry || !errors.Is(err, notify.ErrStatus) {
		t.Fatalf("503: retry=%v err=%v", retry, err)
	}
	retry, err := w.Notify(ctx, notifytest.Notification())
	if after, ok := notify.RetryAfter(err); !retry || !ok || after != time.Minute {
		t.Fatalf("429 with an HTTP date: retry=%v err=%v after=%v, want 1m", retry, err, after)
	}
	if retry, err := w.Notify(ctx, notifytest.Notification()); retry || err != nil {
		t.Fatalf("204: retry=%v err=%v", retry, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		if r.Header.Get("Idempotency-Key") != "a-7:slack-ops:0" {
			t.Errorf("Idempotency-Key %q", r.Header.Get("Idempotency-Key"))
		}
	}
	r := reqs[2]
	if r.Method != "POST" || r.URL != "/hook?token=s3cr3t" {
		t.Errorf("%s %s", r.Method, r.URL)
	}
	for k, want := range map[string]string{
		"Authorization": "Bearer tok-123", "X-Team": "secops", "Content-Type": "application/json",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	for k, want := range map[string]any{
		"rule": "root-signin", "severity": "critical", "event_id": "e7c3a6b1-1111-4222-8333-944445555666",
		"principal": "root", "principal_arn": "arn:aws:iam::111122223333:root", "source_ip": "198.51.100.7",
		"mfa": "No", "count": 1.0, "reminder": 0.0, "ack_url": "https://trailwatch.example.com/alerts/a-7/ack?sig=abc",
	} {
		if got[k] != want {
			t.Errorf("%s: %v, want %v", k, got[k], want)
		}
	}
	if ev, _ := got["event"].(map[string]any); ev["detail-type"] != "AWS Console Sign In via CloudTrail" {
		t.Errorf("event not carried: %v", got["event"])
	}
}

func TestTemplateBasicAuthPUT(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t, A{Code: 200})
	w := mustNew(t, &config.WebhookConfig{
		URL:       config.Secret(srv.URL + "/t"),
		Method:    "put",
		BasicAuth: &config.BasicAuth{Username: "u", Password: "p@ss"},
		Template:  `{"title":{{json .title}},"who":"{{.principal}}","login_to":"{{.event.detail.additionalEventData.LoginTo}}","n":{{.count}},"ack":"{{.ack_url}}"}`,
	})
	nt := notifytest.Notification()
	nt.Count = 4
	if _, err := w.Notify(context.Background(), nt); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Method != "PUT" {
		t.Errorf("method %s", r.Method)
	}
	want := `{"title":"[CRITICAL] root-signin: root signed in from 198.51.100.7 without MFA (4 events)","who":"root","login_to":"https://console.aws.amazon.com/","n":4,"ack":"https://trailwatch.example.com/alerts/a-7/ack?sig=abc"}`
	if string(r.Body) != want {
		t.Errorf("body\n got %s\nwant %s", r.Body, want)
	}
	req, _ := http.NewRequest("GET", "/", nil)
	req.Header = r.Header
	if u, p, ok := req.BasicAuth(); !ok || u != "u" || p != "p@ss" {
		t.Errorf("basic auth %q %q %v", u, p, ok)
	}
}

func TestFixedBodyAndPermanentFailure(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t, A{Code: 422, Body: "bad field\nname"})
	w := mustNew(t, &config.WebhookConfig{URL: config.Secret(srv.URL)})
	nt := notifytest.Notification()
	nt.Body = []byte(`"Root sign-in in 111122223333"`)
	retry, err := w.Notify(context.Background(), nt)
	if retry || err == nil || !strings.Contains(err.Error(), "422: bad field name") {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	if r := srv.Requests()[0]; string(r.Body) != string(nt.Body) {
		t.Errorf("body %s", r.Body)
	}
}

func TestTemplateFailsAtRunTimeForGood(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t)
	w := mustNew(t, &config.WebhookConfig{URL: config.Secret(srv.URL), Template: `{{index .tags 5}}`})
	retry, err := w.Notify(context.Background(), notifytest.Notification())
	if retry || !errors.Is(err, notify.ErrTemplate) {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	if len(srv.Requests()) != 0 {
		t.Error("sent despite the template error")
	}
}

func TestSNSEnvelopeSigned(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t, A{Code: 500}, A{Code: 404})
	const topic = "arn:aws:sns:eu-west-1:111122223333:alerts"
	w := mustNew(t, &config.WebhookConfig{URL: config.Secret(srv.URL + "/sns"), SNSEnvelope: &config.SNSEnvelope{TopicARN: topic}})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	certURL := "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
	if err := w.SetSNSSigner(&SNSSigner{Key: key, CertURL: certURL, Version: 2}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if retry, err := w.Notify(ctx, notifytest.Notification()); !retry || err == nil {
		t.Fatalf("500: retry=%v err=%v", retry, err)
	}
	// SNS counts 2xx-4xx as delivered.
	if retry, err := w.Notify(ctx, notifytest.Notification()); retry || err != nil {
		t.Fatalf("404: retry=%v err=%v", retry, err)
	}
	reqs := srv.Requests()
	if reqs[0].Header.Get("x-amz-sns-message-id") != reqs[1].Header.Get("x-amz-sns-message-id") || string(reqs[0].Body) != string(reqs[1].Body) {
		t.Error("a retry is not the same SNS message")
	}
	r := reqs[1]
	for k, want := range map[string]string{
		"Content-Type":           "text/plain; charset=UTF-8",
		"User-Agent":             "Amazon Simple Notification Service Agent",
		"x-amz-sns-message-type": "Notification",
		"x-amz-sns-topic-arn":    topic,
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if r.Header.Get("Idempotency-Key") != "" || r.Header.Get("x-amz-sns-rawdelivery") != "" {
		t.Error("headers SNS does not send")
	}
	if sub := r.Header.Get("x-amz-sns-subscription-arn"); !strings.HasPrefix(sub, topic+":") {
		t.Errorf("subscription ARN %q", sub)
	}
	var e Envelope
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatal(err)
	}
	if e.Type != "Notification" || e.TopicARN != topic || e.MessageID != r.Header.Get("x-amz-sns-message-id") ||
		e.Message != notifytest.EventJSON || e.Timestamp != "2024-03-01T10:00:05.000Z" ||
		e.SignatureVersion != "2" || e.SigningCertURL != certURL ||
		!strings.HasPrefix(e.UnsubscribeURL, "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=") {
		t.Errorf("envelope %+v", e)
	}
	sig, _ := base64.StdEncoding.DecodeString(e.Signature)
	d := sha256.Sum256([]byte("Message\n" + e.Message + "\nMessageId\n" + e.MessageID + "\nTimestamp\n" + e.Timestamp +
		"\nTopicArn\n" + topic + "\nType\nNotification\n"))
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, d[:], sig); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	// Another delivery (a reminder) is another message.
	nt := notifytest.Notification()
	nt.Key = "a-7:slack-ops:1"
	w.Notify(ctx, nt)
	if id := srv.Requests()[2].Header.Get("x-amz-sns-message-id"); id == e.MessageID {
		t.Error("a reminder reuses the MessageId")
	}
}

func TestSNSRawDelivery(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t, A{Code: 200})
	w := mustNew(t, &config.WebhookConfig{URL: config.Secret(srv.URL), SNSEnvelope: &config.SNSEnvelope{
		TopicARN: "arn:aws:sns:us-east-1:111122223333:t", RawMessageDelivery: true,
	}})
	nt := notifytest.Notification()
	nt.Body = []byte(`{"text":"hi"}`)
	if _, err := w.Notify(context.Background(), nt); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if string(r.Body) != `{"text":"hi"}` || r.Header.Get("x-amz-sns-rawdelivery") != "true" || r.Header.Get("x-amz-sns-message-type") != "Notification" {
		t.Errorf("raw delivery: %s %v", r.Body, r.Header)
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cfg  config.WebhookConfig
		want error
	}{
		{config.WebhookConfig{}, ErrNoURL},
		{config.WebhookConfig{URL: "localhost:80/SECRET"}, ErrBadURL},
		{config.WebhookConfig{URL: "http://h", BearerToken: "x", BasicAuth: &config.BasicAuth{}}, ErrAuth},
		{config.WebhookConfig{URL: "http://h", Template: "x", InputTransformer: &config.InputTransformer{}}, ErrBody},
		{config.WebhookConfig{URL: "http://h", SNSEnvelope: &config.SNSEnvelope{TopicARN: "arn:aws:sqs:us-east-1:1:q"}}, ErrTopicARN},
		{config.WebhookConfig{URL: "http://h", Template: "{{.x"}, notify.ErrTemplate},
	} {
		_, err := New(&c.cfg, notify.Options{})
		if !errors.Is(err, c.want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%+v: err %v, want %v", c.cfg, err, c.want)
		}
	}
}
