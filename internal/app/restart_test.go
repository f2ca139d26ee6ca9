package app

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
)

// startStoppable runs an App as start does and returns a stop that ends it
// (Run returns, the store closes) before the test does; the test's end
// stops it too.
func startStoppable(t *testing.T, o Options) (*App, func()) {
	t.Helper()
	o.Listen = "127.0.0.1:0"
	o.MinBackoff, o.MaxBackoff, o.PollInterval = 10*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	a, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
			if err := a.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return a, stop
}

// noMail fails the test if a mail arrives within a short while.
func noMail(t *testing.T, msgs <-chan []byte, when string) {
	t.Helper()
	select {
	case raw := <-msgs:
		t.Fatalf("mail %s:\n%s", when, raw)
	case <-time.After(300 * time.Millisecond):
	}
}

// advanceToAlarm moves the fake clock to the next 10-second evaluation
// instant, whose period holds a sign-in just posted, and waits for the
// alarm to be in ALARM; it nudges the clock a second at a time (a loop may
// arm its timer late) but never to the instant after, where the alarm
// would go back to OK.
func advanceToAlarm(t *testing.T, a *App, fake *clock.Fake, name string) {
	t.Helper()
	next := fake.Now().Truncate(10 * time.Second).Add(10 * time.Second)
	fake.Set(next)
	for i := 0; i < 1000; i++ {
		if a.AlarmStates()[name] == "ALARM" {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling the alarm loop's progress
		if i%20 == 19 && fake.Now().Before(next.Add(9*time.Second)) {
			fake.Advance(time.Second)
		}
	}
	t.Fatalf("alarm %s is %s, want ALARM", name, a.AlarmStates()[name])
}

func alarmAlerts(t *testing.T, a *App) int {
	t.Helper()
	rows, err := a.Store().Alerts(context.Background(), store.AlertFilter{Rule: "alarm:ConsoleLogin"})
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

// Seed 002 across restarts on one data directory: a datapoint recorded
// before a restart still breaches after it (and the mail names who signed
// in); an alarm in ALARM stays there, with its actions as the schedule
// left them, and its mail is not sent again.
func TestSeed002AlarmSurvivesRestart(t *testing.T) {
	t.Parallel()
	smtpURL, msgs := startSMTP(t)
	jst, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	fake := clock.NewFake(time.Date(2026, 11, 23, 7, 0, 0, 0, jst)) // Monday, before business hours
	o := Options{
		Templates: []string{seeds + "seed002-console-login-alarm.yaml"},
		Params:    map[string]string{"EmailAddress": "sec@example.com"},
		SMTP:      smtpURL,
		MailFrom:  "trailwatch@example.com",
		Clock:     fake,
		DataDir:   t.TempDir(),
	}

	// The sign-in is recorded; the App stops before evaluating it.
	a, stop := startStoppable(t, o)
	if code, body := post(t, a, loginAt("login-1", fake.Now()), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	stop()

	// The next App evaluates it: ALARM, one mail naming alice.
	a, stop = startStoppable(t, o)
	advanceToAlarm(t, a, fake, "ConsoleLogin")
	b := mailBody(t, wait(t, msgs, "the alarm mail"))
	for _, want := range []string{`"NewStateValue":"ALARM"`, `"principal":"alice"`, `"sourceIPAddress":"198.51.100.7"`, "login-1"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("alarm mail lacks %s:\n%s", want, b)
		}
	}
	waitAllDelivered(t, a)
	if got := a.AlarmStates()["ConsoleLogin"]; got != "ALARM" {
		t.Fatalf("alarm is %s after the mail", got)
	}
	stop()

	// Restarted at the same instant: still ALARM, actions on, no mail again;
	// the sign-in, redelivered, is a duplicate that adds no datapoint.
	a, stop = startStoppable(t, o)
	if got := a.AlarmStates()["ConsoleLogin"]; got != "ALARM" || !a.AlarmActionsEnabled("ConsoleLogin") {
		t.Fatalf("after restart: %s, actions enabled %v", got, a.AlarmActionsEnabled("ConsoleLogin"))
	}
	if code, body := post(t, a, loginAt("login-1", fake.Now()), nil); code != http.StatusOK || !bytes.Contains([]byte(body), []byte(`"duplicates":1`)) {
		t.Errorf("redelivery: %d %s", code, body)
	}
	noMail(t, msgs, "after restart")
	if n := alarmAlerts(t, a); n != 1 {
		t.Errorf("%d alarm alerts, want 1", n)
	}
	// Back to OK as the seconds pass; then business hours: the 09:00
	// schedule disables the actions; a sign-in moves the alarm to ALARM
	// without a mail.
	waitAlarm(t, a, fake, "ConsoleLogin", "OK")
	fake.Set(time.Date(2026, 11, 23, 10, 0, 0, 0, jst))
	waitActions(t, a, fake, "ConsoleLogin", false)
	if code, body := post(t, a, loginAt("login-2", fake.Now()), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	advanceToAlarm(t, a, fake, "ConsoleLogin")
	noMail(t, msgs, "during business hours")
	stop()

	// Restarted in business hours: ALARM, actions still off (the schedule
	// does not fire again at start), no mail.
	a, _ = startStoppable(t, o)
	if got := a.AlarmStates()["ConsoleLogin"]; got != "ALARM" || a.AlarmActionsEnabled("ConsoleLogin") {
		t.Fatalf("after restart in business hours: %s, actions enabled %v", got, a.AlarmActionsEnabled("ConsoleLogin"))
	}
	noMail(t, msgs, "after restart in business hours")
	// 19:00: actions on again; the next sign-in mails.
	fake.Set(time.Date(2026, 11, 23, 19, 0, 0, 0, jst))
	waitActions(t, a, fake, "ConsoleLogin", true)
	waitAlarm(t, a, fake, "ConsoleLogin", "OK")
	if code, body := post(t, a, loginAt("login-3", fake.Now()), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	if b := mailBody(t, advanceUntilMail(t, fake, msgs)); !bytes.Contains(b, []byte("login-3")) || bytes.Contains(b, []byte("login-2")) {
		t.Errorf("evening alarm mail:\n%s", b)
	}
}
