package app

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/postgres/pgtest"
)

// waitLeader waits until one of the apps leads (its lease's lead function
// runs, alarms taken over) and returns its index.
func waitLeader(t *testing.T, apps ...*App) int {
	t.Helper()
	for range 2000 {
		for i, a := range apps {
			if a.leading.Load() {
				return i
			}
		}
		time.Sleep(5 * time.Millisecond) // polling the leases' progress
	}
	t.Fatal("no app leads")
	return -1
}

// alarmTransitions counts the ALARM transitions of ConsoleLogin the store holds.
func alarmTransitions(t *testing.T, a *App) int {
	t.Helper()
	rows, err := a.Store().Alerts(context.Background(), store.AlertFilter{Rule: "alarm:ConsoleLogin"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if strings.Contains(r.Alert.Summary, "-> ALARM") {
			n++
		}
	}
	return n
}

// Seed 002 on two nodes sharing one PostgreSQL database: one node leads
// and evaluates the alarm; a sign-in ingested by the other mails once, not
// once per node, and the other node's alarm never moves. The leader
// stopped, the other takes over (the alarm's state read back from the
// database) and the next sign-in mails.
func TestPostgresLeaderEvaluatesAlarms(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	smtpURL, msgs := startSMTP(t)
	jst, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	fake := clock.NewFake(time.Date(2026, 11, 23, 7, 0, 0, 0, jst)) // Monday, before business hours
	node := func() (*App, func()) {
		return startStoppable(t, Options{
			Templates: []string{seeds + "seed002-console-login-alarm.yaml"},
			Params:    map[string]string{"EmailAddress": "sec@example.com"},
			SMTP:      smtpURL,
			MailFrom:  "trailwatch@example.com",
			Clock:     fake,
			Postgres:  pg,
			DataDir:   t.TempDir(),
		})
	}
	a0, stop0 := node()
	a1, stop1 := node()
	apps, stops := []*App{a0, a1}, []func(){stop0, stop1}
	l := waitLeader(t, apps...)
	leader, follower := apps[l], apps[1-l]
	if follower.leading.Load() {
		t.Fatal("both nodes lead")
	}
	before := follower.AlarmStates()["ConsoleLogin"]

	// A sign-in reaches the follower: the leader's alarm sees it, one mail.
	if code, body := post(t, follower, loginAt("login-1", fake.Now()), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	if b := mailBody(t, advanceUntilMail(t, fake, msgs)); !bytes.Contains(b, []byte(`"NewStateValue":"ALARM"`)) || !bytes.Contains(b, []byte("login-1")) {
		t.Errorf("alarm mail:\n%s", b)
	}
	waitAllDelivered(t, leader)
	waitAlarm(t, leader, fake, "ConsoleLogin", "OK")
	noMail(t, msgs, "after the first alarm mail")
	if n := alarmTransitions(t, leader); n != 1 {
		t.Errorf("%d ALARM transitions recorded, want 1", n)
	}
	if got := follower.AlarmStates()["ConsoleLogin"]; got != before || follower.leading.Load() {
		t.Errorf("the follower evaluates: its alarm went from %s to %s", before, got)
	}

	// The leader stops: the follower takes over at one of its next tries,
	// with the alarm as the leader left it.
	stops[l]()
	for i := 0; !follower.leading.Load(); i++ {
		if i == 2000 {
			t.Fatal("the follower does not take over")
		}
		if i%10 == 0 {
			fake.Advance(time.Second)
		}
		time.Sleep(5 * time.Millisecond) // polling the lease's progress
	}
	if got := follower.AlarmStates()["ConsoleLogin"]; got != "OK" {
		t.Errorf("after take-over the alarm is %s, want OK (as the leader left it)", got)
	}
	if code, body := post(t, follower, loginAt("login-2", fake.Now()), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	if b := mailBody(t, advanceUntilMail(t, fake, msgs)); !bytes.Contains(b, []byte("login-2")) || bytes.Contains(b, []byte("login-1")) {
		t.Errorf("alarm mail after take-over:\n%s", b)
	}
	waitAllDelivered(t, follower)
	noMail(t, msgs, "after the second alarm mail")
	if n := alarmTransitions(t, follower); n != 2 {
		t.Errorf("%d ALARM transitions recorded, want 2", n)
	}
}
