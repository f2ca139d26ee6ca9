package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/ui"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// browser starts a headless Chromium for the test, or skips without one
// (CI installs it and must not skip).
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: %v (install Debian's chromium, as .ci/run does)", chromiumPath, err)
		}
		t.Skipf("%s: %v (install Debian's chromium to run the browser tests)", chromiumPath, err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelT := context.WithTimeout(ctx, 120*time.Second) // a generous bound, not a wait
	t.Cleanup(func() { cancelT(); cancel(); cancelAlloc() })
	return ctx
}

// do runs the browser actions, failing the test with what they were for.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// shoot saves a screenshot of the page as a test artifact (go test
// -artifacts keeps them).
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserAckStopsReminders drives the web UI in a real headless
// Chromium: a user logs in with a password, an event posted to /events
// shows up as an alert on the list, its notification and a first reminder
// reach the receiver, the alert is opened and acknowledged by clicks, and
// no reminder follows however long the clock runs.
func TestBrowserAckStopsReminders(t *testing.T) {
	ctx := browser(t)
	type msg struct {
		AlertID  string `json:"alert_id"`
		Reminder int    `json:"reminder"`
	}
	got := make(chan msg, 16)
	failed := make(chan struct{}, 1)
	var calls atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 { // the first attempt fails: the page lists it
			http.Error(w, "receiver down", http.StatusInternalServerError)
			failed <- struct{}{}
			return
		}
		var m msg
		json.NewDecoder(r.Body).Decode(&m)
		got <- m
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	writeFile(t, dir+"/c.yaml", `
receivers:
  - name: oncall
    webhook:
      url: "`+hook.URL+`"
      template: '{"alert_id": "{{.alert_id}}", "reminder": {{.reminder}}}'
    remind_every: 10m
    remind_max: 5
routes:
  - rules: [root-console-signin]
    receivers: [oncall]
`)
	pw, err := ui.HashPassword([]byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	fake := clock.NewFake(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	a := start(t, Options{ConfigFiles: []string{dir + "/c.yaml"}, Clock: fake, UIUsers: map[string][]byte{"alice": pw}})
	base := "http://" + a.Addr()
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) { t.Helper(); do(t, ctx, what, actions...) }
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("browser: read %s: %v", sel, err)
		}
		return s
	}

	// Not logged in: the list sends to the login form.
	step("log in", chromedp.Navigate(base+"/"), chromedp.WaitVisible("#password"),
		chromedp.SendKeys("#user", "alice"), chromedp.SendKeys("#password", "correct horse"),
		chromedp.Click("#login"), chromedp.WaitVisible("#alerts"))

	// The list updates itself (live refresh, called at once here rather
	// than waited for): the same page, not reloaded, shows the new alert.
	step("mark the page", chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	if code, body := post(t, a, `{"Records":[`+rootLogin("browser-1")+`]}`, nil); code != http.StatusOK {
		t.Fatalf("POST /events: %d %s", code, body)
	}
	wait(t, failed, "the first, failing attempt")
	var first msg
	advanceUntil(t, fake, got, time.Second, func(m msg) bool { first = m; return m.Reminder == 0 })
	waitDelivered(t, a, first.AlertID, 1)
	link := `a[href="/alerts/` + first.AlertID + `"]`
	refresh := chromedp.Evaluate[chromedp.Void](`trailwatchRefresh()`, chromedp.EvalAwaitPromise)
	step("refresh the list", refresh)
	if shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded === true && document.querySelector('`+link+`') !== null`)); err != nil || !shown {
		t.Fatalf("the new alert is not in the list without a reload (%v)", err)
	}
	list := text("#alerts")
	shoot(t, ctx, "alerts.png")
	step("open the alert", chromedp.Click(link), chromedp.WaitVisible("#ack"))
	before := text("#reminders")

	// On a phone's screen the page fits its width and the button spans it.
	step("as a phone", chromedp.EmulateViewport(390, 844))
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Math.round(document.querySelector("#ack").getBoundingClientRect().width)`)); err != nil || w < 300 {
		t.Errorf("Acknowledge button %d px wide on a phone (%v)", w, err)
	}
	if over, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); err != nil || over {
		t.Errorf("the alert page is wider than a phone's screen (%v)", err)
	}
	shoot(t, ctx, "alert-phone.png")
	step("as a desktop", chromedp.EmulateViewport(1280, 900))

	// A reminder goes out; the open alert page shows it without a reload.
	advanceUntil(t, fake, got, 10*time.Minute, func(m msg) bool { return m.Reminder == 1 })
	waitDelivered(t, a, first.AlertID, 2)
	step("see the reminder", refresh)
	reminders := text("#reminders")
	attempts := text("#deliveries ol.attempts")
	shoot(t, ctx, "alert.png")
	if !strings.Contains(attempts, "retry: webhook send: status 500") || !strings.Contains(attempts, "delivered") {
		t.Errorf("attempts shown: %q", attempts)
	}
	step("acknowledge", chromedp.Click("#ack"), chromedp.WaitVisible("#state.state-acked"))
	state := text("#state")
	shoot(t, ctx, "acked.png")
	if strings.TrimSpace(before) != "0" {
		t.Errorf("reminders shown before the reminder: %q", before)
	}
	if !strings.Contains(list, "root-console-signin") {
		t.Errorf("list: %q", list)
	}
	if strings.TrimSpace(reminders) != "1" {
		t.Errorf("reminders shown once one went out: %q, want 1", reminders)
	}
	if !strings.HasPrefix(state, "acked by alice (web ui)") {
		t.Errorf("state shown: %q", state)
	}
	row, err := a.Store().Alert(t.Context(), first.AlertID)
	if err != nil || row.State != store.StateAcked || row.AckedBy != "alice (web ui)" {
		t.Fatalf("stored: %v %q %v", row.State, row.AckedBy, err)
	}

	// Acknowledged: the reminders stop, for all of remind_max's span.
	for range 6 {
		fake.Advance(10 * time.Minute)
		select {
		case m := <-got:
			t.Fatalf("notification after the ack: %+v", m)
		case <-time.After(100 * time.Millisecond):
		}
	}
	step("reload the alert", chromedp.Reload(), chromedp.WaitVisible("#state.state-acked"))
	reminders = text("#reminders")
	if policy := text("#remind-policy"); !strings.Contains(policy, "oncall: every 10 minutes, at most 5; stopped by the acknowledgement") {
		t.Errorf("reminder policy shown after the ack: %q", policy)
	}
	if strings.TrimSpace(reminders) != "1" {
		t.Errorf("reminders shown after the ack: %q, want still 1", reminders)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#deliveries tbody tr.delivery").length`))
	if err != nil || n != 2 {
		t.Errorf("%d delivery rows (%v), want the notification and one reminder", n, err)
	}
}

// TestBrowserAlarmAndPlayground: seed 002 runs until its alarm fires; the
// alarms list and the alarm's page (graph with the breaching datapoint and
// the threshold, history, the business-hours schedules) render in a real
// browser; then a pattern is typed into the playground, which says which
// condition did not match. Screenshots of each page are kept.
func TestBrowserAlarmAndPlayground(t *testing.T) {
	ctx := browser(t)
	a, fake, msgs, _ := startSeed002(t)
	if code, body := post(t, a, loginAt("login-1", fake.Now()), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	advanceUntilMail(t, fake, msgs)
	waitAllDelivered(t, a)
	base := "http://" + a.Addr()
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) { t.Helper(); do(t, ctx, what, actions...) }
	eval := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("browser: %s: %v", js, err)
		}
		return n
	}

	step("open the alarms", chromedp.Navigate(base+"/alarms"), chromedp.WaitVisible(`a.alarm-link`))
	if state, _ := chromedp.Run(ctx, chromedp.Text(`#alarms .alarm-state`)); state != "ALARM" {
		t.Errorf("alarms list state: %q", state)
	}
	shoot(t, ctx, "alarms.png")
	step("open the alarm", chromedp.Click(`a.alarm-link`), chromedp.WaitVisible(`#graph`))
	if n := eval(`document.querySelectorAll("#graph circle.point.breaching").length`); n != 1 {
		t.Errorf("%d breaching points drawn, want the one sign-in's", n)
	}
	if n := eval(`document.querySelectorAll("#graph .threshold").length`); n < 1 {
		t.Error("no threshold line")
	}
	// The graph is drawn inside its box (the browser laid it out).
	if w := eval(`Math.round(document.querySelector("#graph").getBoundingClientRect().width)`); w < 300 {
		t.Errorf("graph %d px wide", w)
	}
	if n := eval(`document.querySelectorAll("#history tbody tr").length`); n < 1 {
		t.Error("no state history")
	}
	windows, _ := chromedp.Run(ctx, chromedp.Text(`#windows`))
	if !strings.Contains(windows, "disabled from") {
		t.Errorf("windows: %q", windows)
	}
	shoot(t, ctx, "alarm.png")

	step("type a pattern in the playground", chromedp.Navigate(base+"/playground"), chromedp.WaitVisible("#pattern"),
		chromedp.SetValue("#pattern", `{"detail":{"eventName":["ConsoleLogin"],"userIdentity":{"type":["Root"]}}}`),
		chromedp.SetValue("#event", loginAt("pg-1", fake.Now())),
		chromedp.Click("#test-pattern"), chromedp.WaitVisible("#explain"))
	result, _ := chromedp.Run(ctx, chromedp.Text("#event-result"))
	failed, _ := chromedp.Run(ctx, chromedp.Text(`#explain tr.failed td.path`))
	if !strings.HasPrefix(result, "matches: false") || failed != "detail.userIdentity.type" {
		t.Errorf("playground: %q, failed condition %q", result, failed)
	}
	shoot(t, ctx, "playground.png")
}
