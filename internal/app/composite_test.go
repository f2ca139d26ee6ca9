package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
)

// compositeConfig: two 10-second metric alarms (a sign-in, a StopLogging)
// without actions, and the composite ALARM(logins) AND ALARM(stops), whose
// ALARM and OK actions post to the webhook.
const compositeConfig = `
builtin_rules: false
receivers:
  - name: hook
    webhook: {url: "%s"}
metric_filters:
  - name: logins
    filter_pattern: '{ $.eventName = ConsoleLogin }'
    metric_transformations: [{metric_namespace: Trail, metric_name: Logins, metric_value: '1'}]
  - name: stops
    filter_pattern: '{ $.eventName = StopLogging }'
    metric_transformations: [{metric_namespace: Trail, metric_name: Stops, metric_value: '1'}]
alarms:
  - {name: logins, namespace: Trail, metric_name: Logins, statistic: Sum, period: 10s, evaluation_periods: 1, threshold: 1,
     comparison_operator: GreaterThanOrEqualToThreshold, treat_missing_data: notBreaching}
  - {name: stops, namespace: Trail, metric_name: Stops, statistic: Sum, period: 10s, evaluation_periods: 1, threshold: 1,
     comparison_operator: GreaterThanOrEqualToThreshold, treat_missing_data: notBreaching}
composite_alarms:
  - name: both
    description: a sign-in and logging stopped
    rule: ALARM(logins) AND ALARM("stops")
    alarm_actions: [hook]
    ok_actions: [hook]
`

// Two metric alarms fire together; the composite goes to ALARM once and
// posts once, stays there across a restart without posting again, and
// posts once more when it returns to OK.
func TestCompositeAlarmFiresOnceAndSurvivesRestart(t *testing.T) {
	t.Parallel()
	posted := make(chan []byte, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		posted <- b
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	writeFile(t, dir+"/c.yaml", strings.Replace(compositeConfig, "%s", hook.URL, 1))
	fake := clock.NewFake(time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC))
	o := Options{ConfigFiles: []string{dir + "/c.yaml"}, Clock: fake, DataDir: dir}
	expect := func(what string, want ...string) {
		t.Helper()
		b := wait(t, posted, what)
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				t.Errorf("%s lacks %s:\n%s", what, w, b)
			}
		}
	}

	a, stop := startStoppable(t, o)
	// Created INSUFFICIENT_DATA, evaluated at once: OK, and its OK action
	// runs (CloudWatch's documented behaviour).
	expect("the first evaluation", `"AlarmName":"both"`, `"NewStateValue":"OK"`, `"OldStateValue":"INSUFFICIENT_DATA"`)
	login := loginAt("login-1", fake.Now())
	stopLogging := strings.Replace(loginAt("stop-1", fake.Now()), `"eventName":"ConsoleLogin"`, `"eventName":"StopLogging"`, 1)
	for _, rec := range []string{login, stopLogging} {
		if code, body := post(t, a, rec, nil); code != http.StatusOK {
			t.Fatalf("POST: %d %s", code, body)
		}
	}
	advanceToAlarm(t, a, fake, "both")
	expect("the alarm", `"NewStateValue":"ALARM"`, `"OldStateValue":"OK"`, `"AlarmRule":"ALARM(logins) AND ALARM(\"stops\")"`,
		`"TriggeringChildren":[{"Arn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:logins"`,
		`arn:aws:cloudwatch:us-east-1:123456789012:alarm:stops transitioned to ALARM at Monday 23 November, 2026 03:00:10 UTC`)
	if st := a.AlarmStates(); st["logins"] != "ALARM" || st["stops"] != "ALARM" {
		t.Errorf("states %v", st)
	}
	waitAllDelivered(t, a)
	stop()

	// Restarted at the same instant: still ALARM, nothing posted again.
	a, _ = startStoppable(t, o)
	if got := a.AlarmStates()["both"]; got != "ALARM" || !a.AlarmActionsEnabled("both") {
		t.Fatalf("after restart: %s, actions enabled %v", got, a.AlarmActionsEnabled("both"))
	}
	select {
	case b := <-posted:
		t.Fatalf("posted after restart:\n%s", b)
	case <-time.After(300 * time.Millisecond):
	}
	// The sign-in leaves the evaluation range: back to OK, posted once.
	waitAlarm(t, a, fake, "both", "OK")
	expect("the return to OK", `"NewStateValue":"OK"`, `"OldStateValue":"ALARM"`)
	waitAllDelivered(t, a)
	select {
	case b := <-posted:
		t.Fatalf("posted again:\n%s", b)
	case <-time.After(300 * time.Millisecond):
	}
	rows, err := a.Store().Alerts(context.Background(), store.AlertFilter{Rule: "alarm:both"})
	if err != nil || len(rows) != 3 {
		t.Errorf("%d alerts for the composite (%v), want 3: OK, ALARM, OK", len(rows), err)
	}
}

// suppressedConfig: a 10-second alarm on sign-ins treating missing data as
// breaching (ALARM from its first evaluation on), the alarm "stops" that
// stays OK, and the composite ALARM(logins) suppressed by stops, whose
// WaitPeriod is 30 s.
const suppressedConfig = `
builtin_rules: false
receivers:
  - name: hook
    webhook: {url: "%s"}
metric_filters:
  - name: logins
    filter_pattern: '{ $.eventName = ConsoleLogin }'
    metric_transformations: [{metric_namespace: Trail, metric_name: Logins, metric_value: '1'}]
  - name: stops
    filter_pattern: '{ $.eventName = StopLogging }'
    metric_transformations: [{metric_namespace: Trail, metric_name: Stops, metric_value: '1'}]
alarms:
  - {name: logins, namespace: Trail, metric_name: Logins, statistic: Sum, period: 10s, evaluation_periods: 1, threshold: 1,
     comparison_operator: GreaterThanOrEqualToThreshold, treat_missing_data: breaching}
  - {name: stops, namespace: Trail, metric_name: Stops, statistic: Sum, period: 10s, evaluation_periods: 1, threshold: 1,
     comparison_operator: GreaterThanOrEqualToThreshold, treat_missing_data: notBreaching}
composite_alarms:
  - name: watched
    rule: ALARM(logins)
    alarm_actions: [hook]
    actions_suppressor: stops
    actions_suppressor_wait_period: 30s
    actions_suppressor_extension_period: 30s
`

// The composite goes to ALARM while its suppressor is OK: the transition
// is recorded, its event says WaitPeriod, nothing is posted; when the wait
// period ends without the suppressor in ALARM, its ALARM action posts.
func TestCompositeAlarmWaitPeriod(t *testing.T) {
	t.Parallel()
	posted := make(chan []byte, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		posted <- b
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	writeFile(t, dir+"/c.yaml", strings.Replace(suppressedConfig, "%s", hook.URL, 1))
	fake := clock.NewFake(time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC))
	a, _ := startStoppable(t, Options{ConfigFiles: []string{dir + "/c.yaml"}, Clock: fake, DataDir: dir})

	advanceToAlarm(t, a, fake, "watched")
	alarmedAt := fake.Now()
	select {
	case b := <-posted:
		t.Fatalf("posted during the wait period:\n%s", b)
	case <-time.After(300 * time.Millisecond):
	}
	rows, err := a.Store().Alerts(context.Background(), store.AlertFilter{Rule: "alarm:watched"})
	if err != nil {
		t.Fatal(err)
	}
	var suppressed bool
	for _, r := range rows {
		if bytes.Contains(r.Alert.Event, []byte(`"actionsSuppressedBy":"WaitPeriod"`)) {
			suppressed = true
			if len(r.Deliveries) != 0 {
				t.Errorf("the suppressed transition has deliveries %+v", r.Deliveries)
			}
		}
	}
	if !suppressed {
		t.Errorf("no alert's event says WaitPeriod: %d alerts", len(rows))
	}
	for i := 0; ; i++ {
		select {
		case b := <-posted:
			for _, w := range []string{`"AlarmName":"watched"`, `"NewStateValue":"ALARM"`, `"OldStateValue":"ALARM"`} {
				if !bytes.Contains(b, []byte(w)) {
					t.Errorf("the released actions' message lacks %s:\n%s", w, b)
				}
			}
			if d := fake.Now().Sub(alarmedAt); d < 30*time.Second {
				t.Errorf("posted %v after the transition to ALARM, before the 30 s wait period ended", d)
			}
			return
		case <-time.After(20 * time.Millisecond): // polling the alarm loop's progress
		}
		if i == 500 {
			t.Fatal("the ALARM action never ran")
		}
		if fake.Now().Sub(alarmedAt) < 60*time.Second {
			fake.Advance(time.Second)
		}
	}
}
