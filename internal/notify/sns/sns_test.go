package sns

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/notifytest"
)

type A = notifytest.Answer

const ok = `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult><ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata></PublishResponse>`

func apiError(code, typ string) string {
	return `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>` + typ + `</Type><Code>` + code +
		`</Code><Message>` + code + ` happened</Message></Error><RequestId>42d59b56-7407-4c4a-be0f-4c88daeea257</RequestId></ErrorResponse>`
}

var xml = map[string]string{"Content-Type": "text/xml"}

func newNotifier(t *testing.T, cfg *config.SNSConfig) *Notifier {
	t.Helper()
	n, err := New(context.Background(), cfg, notify.Options{HTTPClient: &http.Client{Timeout: 10 * time.Second}},
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDTEST", "secretkey", "")),
		awsconfig.WithSharedConfigFiles([]string{}),
		awsconfig.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func form(t *testing.T, r notifytest.Request) url.Values {
	t.Helper()
	v, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPublish(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t,
		A{Code: 400, Header: xml, Body: apiError("Throttling", "Sender")},
		A{Code: 500, Header: xml, Body: apiError("InternalError", "Receiver")},
		A{Code: 200, Header: xml, Body: ok},
	)
	const topic = "arn:aws:sns:eu-west-1:111122223333:root-signin"
	s := newNotifier(t, &config.SNSConfig{TopicARN: topic, Endpoint: srv.URL, Subject: "{{.severity | upper}}: {{.summary}} — {{.account}}"})
	ctx := context.Background()
	if retry, err := s.Notify(ctx, notifytest.Notification()); !retry || err == nil || !strings.Contains(err.Error(), "Throttling") {
		t.Fatalf("throttled: retry=%v err=%v", retry, err)
	}
	if retry, err := s.Notify(ctx, notifytest.Notification()); !retry || err == nil {
		t.Fatalf("500: retry=%v err=%v", retry, err)
	}
	if retry, err := s.Notify(ctx, notifytest.Notification()); retry || err != nil {
		t.Fatalf("200: retry=%v err=%v", retry, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (the SDK must not retry by itself)", len(reqs))
	}
	r := reqs[2]
	f := form(t, r)
	if f.Get("Action") != "Publish" || f.Get("Version") != "2010-03-31" || f.Get("TopicArn") != topic {
		t.Errorf("form %v", f)
	}
	if f.Get("Message") != notifytest.EventJSON {
		t.Errorf("Message %q", f.Get("Message"))
	}
	if want := "CRITICAL: root signed in from 198.51.100.7 without MFA ? 111122223333"; f.Get("Subject") != want {
		t.Errorf("Subject %q, want %q", f.Get("Subject"), want)
	}
	if f.Has("MessageDeduplicationId") || f.Has("MessageGroupId") {
		t.Error("FIFO parameters on a standard topic")
	}
	if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(auth, "/eu-west-1/sns/aws4_request") {
		t.Errorf("Authorization %q", auth)
	}
}

func TestPermanentErrorsAndBody(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t,
		A{Code: 404, Header: xml, Body: apiError("NotFound", "Sender")},
		A{Code: 403, Header: xml, Body: apiError("AuthorizationError", "Sender")},
		A{Code: 200, Header: xml, Body: ok},
	)
	s := newNotifier(t, &config.SNSConfig{TopicARN: "arn:aws:sns:us-east-1:111122223333:t", Endpoint: srv.URL})
	ctx := context.Background()
	for _, code := range []string{"NotFound", "AuthorizationError"} {
		if retry, err := s.Notify(ctx, notifytest.Notification()); retry || err == nil || !strings.Contains(err.Error(), code) {
			t.Errorf("%s: retry=%v err=%v", code, retry, err)
		}
	}
	nt := notifytest.Notification()
	nt.Body = []byte(`"Root sign-in to 111122223333"`)
	if _, err := s.Notify(ctx, nt); err != nil {
		t.Fatal(err)
	}
	f := form(t, srv.Requests()[2])
	if f.Get("Message") != `"Root sign-in to 111122223333"` || f.Has("Subject") {
		t.Errorf("form %v", f)
	}
}

func TestFIFO(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t, A{Code: 200, Header: xml, Body: ok})
	s := newNotifier(t, &config.SNSConfig{TopicARN: "arn:aws:sns:us-east-1:111122223333:alerts.fifo", Endpoint: srv.URL})
	if _, err := s.Notify(context.Background(), notifytest.Notification()); err != nil {
		t.Fatal(err)
	}
	f := form(t, srv.Requests()[0])
	if f.Get("MessageDeduplicationId") != "a-7:slack-ops:0" || f.Get("MessageGroupId") != "root-signin" {
		t.Errorf("form %v", f)
	}
}

func TestUnreachableRetries(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t)
	u := srv.URL
	srv.Close()
	s := newNotifier(t, &config.SNSConfig{TopicARN: "arn:aws:sns:us-east-1:111122223333:t", Endpoint: u})
	if retry, err := s.Notify(context.Background(), notifytest.Notification()); !retry || err == nil {
		t.Errorf("retry=%v err=%v", retry, err)
	}
}

func TestNewRejectsARN(t *testing.T) {
	t.Parallel()
	for _, arn := range []string{"", "arn:aws:sqs:us-east-1:1:q", "arn:aws:sns::1:t", "topic"} {
		if _, err := New(context.Background(), &config.SNSConfig{TopicARN: arn}, notify.Options{}); err != ErrTopicARN {
			t.Errorf("%q: %v", arn, err)
		}
	}
}

func TestSubject(t *testing.T) {
	t.Parallel()
	if got := Subject("a\nb\tc é"); got != "a b c ?" {
		t.Errorf("%q", got)
	}
	if got := Subject(strings.Repeat("x", 150)); len(got) != 99 {
		t.Errorf("%d", len(got))
	}
}

// TestTooLarge: an event over SNS's 256 KiB limit is sent as the alert
// without it; a fixed body over the limit fails at once, not retried.
func TestTooLarge(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t, A{Code: 200, Header: xml, Body: ok})
	s := newNotifier(t, &config.SNSConfig{TopicARN: "arn:aws:sns:us-east-1:111122223333:t", Endpoint: srv.URL})
	ctx := context.Background()
	nt := notifytest.Notification()
	nt.Alert.Event = []byte(`{"detail":{"requestParameters":{"policy":"` + strings.Repeat("x", MaxMessage) + `"}}}`)
	if retry, err := s.Notify(ctx, nt); retry || err != nil {
		t.Fatalf("large event: retry=%v err=%v", retry, err)
	}
	msg := form(t, srv.Requests()[0]).Get("Message")
	if len(msg) > MaxMessage || !strings.Contains(msg, `"principal":"root"`) || strings.Contains(msg, "xxxx") {
		t.Errorf("message of %d bytes: %.200s", len(msg), msg)
	}
	nt.Body = []byte(`"` + strings.Repeat("y", MaxMessage) + `"`)
	if retry, err := s.Notify(ctx, nt); retry || err == nil || !strings.Contains(err.Error(), "over SNS's limit") {
		t.Fatalf("large body: retry=%v err=%v", retry, err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (the oversized body is not sent)", n)
	}
}
