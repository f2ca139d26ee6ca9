package notify_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/notifytest"
)

var now = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"-1", -time.Second, true},
		{"Fri, 01 Mar 2024 10:00:30 GMT", 30 * time.Second, true},
		{"Fri, 01 Mar 2024 09:00:00 GMT", 0, true},
		{"soon", 0, false},
		{"99999999999999", 365 * 24 * time.Hour, true},
	} {
		got, ok := notify.ParseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("%q: %v %v, want %v %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	ra := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	for _, c := range []struct {
		code  int
		h     http.Header
		retry bool
		fail  bool
		after time.Duration
		hasRA bool
	}{
		{200, nil, false, false, 0, false},
		{204, nil, false, false, 0, false},
		{301, nil, false, true, 0, false},
		{400, nil, false, true, 0, false},
		{401, ra("5"), false, true, 0, false}, // Retry-After only counts on 429 and 5xx
		{429, nil, true, true, 0, false},
		{429, ra("9"), true, true, 9 * time.Second, true},
		{500, nil, true, true, 0, false},
		{503, ra("-3"), false, true, -3 * time.Second, true},
	} {
		h := c.h
		if h == nil {
			h = http.Header{}
		}
		retry, err := notify.Classify(&notify.Response{Code: c.code, Header: h, Body: []byte("why\nnot")}, now)
		after, hasRA := notify.RetryAfter(err)
		if retry != c.retry || (err != nil) != c.fail || after != c.after || hasRA != c.hasRA {
			t.Errorf("%d %v: retry=%v err=%v after=%v %v", c.code, c.h, retry, err, after, hasRA)
		}
		if err != nil && (!errors.Is(err, notify.ErrStatus) || !strings.Contains(err.Error(), "why not")) {
			t.Errorf("%d: error %v", c.code, err)
		}
	}
}

func TestStripURL(t *testing.T) {
	t.Parallel()
	c := &http.Client{}
	req, _ := http.NewRequest("GET", "http://127.0.0.1:1/services/SECRET", nil)
	_, err := notify.Do(c, req)
	if err == nil || strings.Contains(err.Error(), "SECRET") || !strings.HasPrefix(err.Error(), "get: ") {
		t.Errorf("err %v", err)
	}
}

func TestTitleAndTimes(t *testing.T) {
	t.Parallel()
	n := notifytest.Notification()
	if got := notify.Title(n); got != "[CRITICAL] root-signin: root signed in from 198.51.100.7 without MFA" {
		t.Errorf("title %q", got)
	}
	n.Reminder, n.Count = 3, 12
	if got := notify.Title(n); got != "Reminder 3: [CRITICAL] root-signin: root signed in from 198.51.100.7 without MFA (12 events)" {
		t.Errorf("title %q", got)
	}
	ny, _ := time.LoadLocation("America/New_York")
	utc, local := notify.Times("2024-07-01T12:34:56Z", ny)
	if utc != "2024-07-01 12:34:56 UTC" || local != "2024-07-01 08:34:56 EDT (America/New_York)" {
		t.Errorf("%q %q", utc, local)
	}
	if utc, local := notify.Times("2024-07-01T12:34:56Z", time.UTC); local != "" || utc == "" {
		t.Errorf("UTC zone: %q %q", utc, local)
	}
	if utc, _ := notify.Times("yesterday", nil); utc != "yesterday" {
		t.Errorf("%q", utc)
	}
}

func TestConsoleURL(t *testing.T) {
	t.Parallel()
	a := &notifytest.Notification().Alert
	if got := notify.ConsoleURL(a, ""); got != "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/e7c3a6b1-1111-4222-8333-944445555666" {
		t.Errorf("%q", got)
	}
	if got := notify.ConsoleURL(a, "https://console.amazonaws.cn/"); !strings.HasPrefix(got, "https://console.amazonaws.cn/cloudtrailv2/home?region=us-east-1#") {
		t.Errorf("%q", got)
	}
	a.EventID = ""
	if got := notify.ConsoleURL(a, ""); got != "" {
		t.Errorf("%q", got)
	}
}

func TestAlertJSONAndTemplate(t *testing.T) {
	t.Parallel()
	n := notifytest.Notification()
	n.Count = 0 // no dedup: counts as one
	b, err := notify.AlertJSON(n)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if m["count"] != 1.0 || m["reminder"] != 0.0 || m["ack_url"] != n.AckURL || m["rule"] != "root-signin" {
		t.Errorf("%s", b)
	}
	tm, err := notify.ParseTemplate("t", `{{.event.detail.userIdentity.arn}} {{.count}} {{default "none" .error_code}} {{json .tags}} {{join "+" .tags}} {{.console_url}}`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := notify.Render(tm, n, "")
	if err != nil {
		t.Fatal(err)
	}
	want := `arn:aws:iam::111122223333:root 1 none ["cis-1.4-1.7"] cis-1.4-1.7 https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/e7c3a6b1-1111-4222-8333-944445555666`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}
