package ui_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
	"github.com/trailwatch/trailwatch/internal/ui"
)

// serveWith starts an open UI on a fresh SQLite store whose clock is clk;
// seed fills the store before the server is built.
func serveWith(t *testing.T, clk *clock.Fake, o ui.Options, seed func(store.Store)) *fixture {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{Clock: clk, Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if seed != nil {
		seed(st)
	}
	o.Store, o.Open, o.Now = st, true, clk.Now
	u, err := ui.New(o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	u.Register(mux)
	f := &fixture{st: st, srv: httptest.NewServer(mux), ids: map[string]string{}}
	t.Cleanup(f.srv.Close)
	jar, _ := cookiejar.New(nil)
	f.c = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return f
}

const (
	testNS     = "Trailwatch"
	testMetric = "ConsoleLoginFailures"
	hostile    = `<b>x</b> "q" & a/../b?c#d %41`
)

func failedLogins() *config.Alarm {
	return &config.Alarm{
		Name: "failed-logins", Description: "Too many failed console logins", Namespace: testNS, MetricName: testMetric,
		Statistic: "Sum", Period: config.Duration(5 * time.Minute), EvaluationPeriods: 1, Threshold: 3,
		ComparisonOperator: alarm.GreaterThanOrEqualToThreshold, AlarmActions: []string{"oncall-slack"},
		OKActions: []string{"oncall-email"}, Source: "trailwatch.yaml:12",
	}
}

// seenDatapoints is an event that gave the metric filters n datapoints of
// value v at at.
func seenDatapoints(key string, at time.Time, v float64, n int, dims map[string]string) store.Seen {
	s := store.Seen{EventKey: key, EventTime: at}
	for i := range n {
		s.Datapoints = append(s.Datapoints, alarm.Datapoint{Namespace: testNS, Metric: testMetric, Dimensions: dims,
			Time: at.Add(time.Duration(i) * time.Second), Value: v, EventKey: key})
	}
	return s
}

// transition saves an alarm's state change as the leader does: the
// snapshot, and an alert "alarm:<name>" with the EventBridge event.
func transition(t *testing.T, st store.Store, c alarm.Config, from, to alarm.State, reason string, at time.Time, actionsEnabled bool) {
	t.Helper()
	tr := alarm.Transition{Alarm: c.Name, From: from, To: to, Time: at, Reason: reason}
	key := "alarm:" + c.Name + ":" + at.UTC().Format(time.RFC3339Nano)
	_, err := st.SaveAlarms(t.Context(), []store.AlarmSnapshot{{Name: c.Name, Snapshot: alarm.Snapshot{State: to, Reason: reason, Updated: at, ActionsEnabled: actionsEnabled}}},
		[]store.Seen{{EventKey: key, EventTime: at, Hits: []store.Hit{{Rule: "alarm:" + c.Name, DedupKey: key, Threshold: 1,
			Alert: alert.Alert{Rule: "alarm:" + c.Name, Severity: "high", EventID: key, EventTime: at.UTC().Format(time.RFC3339),
				Summary: fmt.Sprintf("%s: %s -> %s: %s", alarm.Subject(tr, "eu-west-1"), from, to, reason),
				Event:   alarm.StateChangeEvent(c, tr, "eu-west-1", "123456789012", key)},
		}}}})
	if err != nil {
		t.Fatal(err)
	}
}

// assertStrict checks that the pages work under the CSP: served with it,
// without inline scripts or style attributes.
func assertStrict(t *testing.T, f *fixture, paths ...string) {
	t.Helper()
	for _, p := range paths {
		resp, body := f.get(t, p)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, "<style") {
			t.Errorf("%s: inline script or style", p)
		}
	}
}

var (
	yTickRe   = regexp.MustCompile(`<line class="grid" x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="[\d.]+"/><text class="ylabel" x="[\d.]+" y="[\d.]+" data-value="([-\d.e+]+)">`)
	thrRe     = regexp.MustCompile(`<line id="threshold" class="threshold" x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="([\d.]+)" data-value="([-\d.]+)"/>`)
	pointRe   = regexp.MustCompile(`<circle class="point( breaching)?" cx="([\d.]+)" cy="([\d.]+)" r="3" data-value="([-\d.]+)"`)
	dataRowRe = regexp.MustCompile(`<tr class="datapoint( breaching)?"><td>([^<]+)</td><td class="value">([^<]+)</td><td>(\d+)</td><td>(yes|no)</td></tr>`)
	histRe    = regexp.MustCompile(`<tr class="transition"><td>([^<]+)</td><td class="alarm-\w+">(\w+)</td><td class="alarm-\w+">(\w+)</td><td>([^<]*)</td><td><a href="/alerts/([a-z0-9]+)">`)
)

func TestAlarmPage(t *testing.T) {
	clk := clock.NewFake(t0.Add(-2 * time.Hour)) // the page is read at t0, 2026-03-01 12:00:00Z, a Sunday
	fl := failedLogins()
	c := fl.AlarmConfig()
	disable := &config.Schedule{Name: "weekend-off", Expression: "cron(0 18 ? * FRI *)", TimeZone: "Asia/Tokyo",
		Action: config.ActionDisableAlarmActions, Alarms: []string{"failed-logins"}, Source: "trailwatch.yaml:40"}
	enable := &config.Schedule{Name: "weekday-on", Expression: "cron(0 9 ? * MON *)", TimeZone: "Asia/Tokyo",
		Action: config.ActionEnableAlarmActions, Alarms: []string{"failed-logins"}}
	other := &config.Schedule{Name: "other", Expression: "rate(1 hour)", Action: config.ActionDisableAlarmActions, Alarms: []string{"quiet"}}
	f := serveWith(t, clk, ui.Options{
		Alarms:    []*config.Alarm{fl, {Name: "quiet", Namespace: testNS, MetricName: "Other", Statistic: "Maximum", Period: config.Duration(time.Minute), EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 10, ComparisonOperator: alarm.LessThanThreshold}},
		Schedules: []*config.Schedule{disable, enable, other},
	}, func(st store.Store) {
		_, err := st.Record(t.Context(), []store.Seen{
			seenDatapoints("e-old", t0.Add(-4*time.Hour), 100, 1, nil),               // before the graph's span
			seenDatapoints("e-1000", t0.Add(-2*time.Hour+30*time.Second), 5, 1, nil), // 10:00-10:05: 5, breaching
			seenDatapoints("e-1100", t0.Add(-time.Hour+time.Minute), 1, 3, nil),      // 11:00-11:05: 3, at the threshold: breaching
			seenDatapoints("e-1150", t0.Add(-10*time.Minute+5*time.Second), 1, 2, nil),
			seenDatapoints("e-1156", t0.Add(-4*time.Minute), 1, 4, nil),                          // 11:55-12:00: 4, breaching
			seenDatapoints("e-dims", t0.Add(-4*time.Minute), 50, 1, map[string]string{"a": "b"}), // another metric
			seenDatapoints("e-late", t0.Add(10*time.Second), 7, 1, nil),                          // after the last evaluation
		})
		if err != nil {
			t.Fatal(err)
		}
		clk.Set(t0.Add(-117 * time.Minute))
		transition(t, st, c, alarm.InsufficientData, alarm.Alarming, "Threshold Crossed: 1 datapoint [5.0] was greater than or equal to the threshold (3.0).", t0.Add(-117*time.Minute), true)
		clk.Set(t0.Add(-100 * time.Minute))
		transition(t, st, c, alarm.Alarming, alarm.OK, "Threshold Crossed: 1 datapoint [0.0] was not greater than or equal to the threshold (3.0).", t0.Add(-100*time.Minute), true)
		clk.Set(t0.Add(-3 * time.Minute))
		transition(t, st, c, alarm.OK, alarm.Alarming, "Threshold Crossed: 1 datapoint [4.0] was greater than or equal to the threshold (3.0).", t0.Add(-3*time.Minute), true)
		clk.Set(t0)
	})

	resp, body := f.get(t, "/alarms/failed-logins")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /alarms/failed-logins: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`<dd id="alarm-state" class="alarm-ALARM">ALARM</dd>`,
		`<dd id="condition">Sum &gt;= 3 for 1 datapoints within 5 minutes</dd>`,
		`id="actions-enabled" class="actions-enabled">enabled`,
		"Too many failed console logins", "trailwatch.yaml:12",
		"<dt>In ALARM</dt><dd>oncall-slack</dd>", "<dt>In OK</dt><dd>oncall-email</dd>", "<dt>In INSUFFICIENT_DATA</dt><dd>none</dd>",
		"32 period(s) of the graph without data",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("alarm page lacks %q", want)
		}
	}

	// The table: the per-period sums, newest first, over 09:00-12:00.
	type row struct {
		period, value string
		breaching     bool
	}
	var rows []row
	for _, m := range dataRowRe.FindAllStringSubmatch(body, -1) {
		if (m[1] != "") != (m[5] == "yes") {
			t.Errorf("row %q: class and cell disagree", m[0])
		}
		rows = append(rows, row{html.UnescapeString(m[2]), m[3], m[5] == "yes"})
	}
	want := []row{
		{"2026-03-01 11:55:00Z – 2026-03-01 12:00:00Z", "4", true},
		{"2026-03-01 11:50:00Z – 2026-03-01 11:55:00Z", "2", false},
		{"2026-03-01 11:00:00Z – 2026-03-01 11:05:00Z", "3", true},
		{"2026-03-01 10:00:00Z – 2026-03-01 10:05:00Z", "5", true},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("datapoints table:\n got %v\nwant %v", rows, want)
	}

	// The graph: the value scale from the tick labels; the threshold and
	// every point on it; breaching points marked as such, only they.
	ticks := yTickRe.FindAllStringSubmatch(body, -1)
	if len(ticks) < 2 {
		t.Fatalf("y ticks: %v", ticks)
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	y0, v0 := num(ticks[0][1]), num(ticks[0][2])
	y1, v1 := num(ticks[len(ticks)-1][1]), num(ticks[len(ticks)-1][2])
	if v0 > 0 || v1 < 5 || y1 >= y0 {
		t.Errorf("value axis from %v (y %v) to %v (y %v): want 0 to at least 5, upwards", v0, y0, v1, y1)
	}
	yOf := func(v float64) float64 { return y0 + (v-v0)/(v1-v0)*(y1-y0) }
	near := func(a, b float64) bool { return a-b < 0.02 && b-a < 0.02 }
	th := thrRe.FindStringSubmatch(body)
	if th == nil || th[3] != "3" || th[1] != th[2] || !near(num(th[1]), yOf(3)) {
		t.Errorf("threshold line %v, want y %.2f", th, yOf(3))
	}
	points := pointRe.FindAllStringSubmatch(body, -1)
	if len(points) != 4 {
		t.Fatalf("points: %v", points)
	}
	lastX := 0.0
	for i, p := range points {
		v := num(p[4])
		if breaching := p[1] != ""; breaching != (v >= 3) {
			t.Errorf("point %v: breaching %t", v, breaching)
		}
		if !near(num(p[3]), yOf(v)) {
			t.Errorf("point %v at y %s, want %.2f", v, p[3], yOf(v))
		}
		if x := num(p[2]); x <= lastX {
			t.Errorf("point %d not right of the one before", i)
		} else {
			lastX = x
		}
	}
	if !strings.Contains(body, `<text class="xlabel"`) || !strings.Contains(body, ">09:00</text>") || !strings.Contains(body, ">12:00</text>") {
		t.Errorf("time axis labels missing")
	}

	// State history, newest first, read from the transitions' events.
	hist := histRe.FindAllStringSubmatch(body, -1)
	var got []string
	for _, h := range hist {
		got = append(got, h[1]+" "+h[2]+"->"+h[3])
	}
	wantHist := []string{"2026-03-01 11:57:00Z OK->ALARM", "2026-03-01 10:20:00Z ALARM->OK", "2026-03-01 10:03:00Z INSUFFICIENT_DATA->ALARM"}
	if strings.Join(got, "|") != strings.Join(wantHist, "|") {
		t.Errorf("history %v, want %v", got, wantHist)
	}
	if len(hist) > 0 {
		if !strings.Contains(hist[0][4], "[4.0] was greater than or equal") {
			t.Errorf("history reason %q", hist[0][4])
		}
		resp, alertBody := f.get(t, "/alerts/"+hist[0][5])
		if resp.StatusCode != 200 {
			t.Errorf("history link: %d", resp.StatusCode)
		}
		// The state change's alert leads back to the alarm.
		if !strings.Contains(alertBody, `<a id="rule" href="/alarms/`) {
			t.Errorf("the transition's alert does not link to its alarm")
		}
	}

	// The schedules naming the alarm, their next firings, and the window
	// they make: from Friday 18:00 to Monday 09:00 in Tokyo.
	for _, want := range []string{
		"weekend-off", "weekday-on", "cron(0 18 ? * FRI *)", "Asia/Tokyo", "trailwatch.yaml:40",
		"Fri 2026-03-06 18:00 JST (2026-03-06 09:00 UTC)<br>Fri 2026-03-13 18:00 JST (2026-03-13 09:00 UTC)<br>Fri 2026-03-20 18:00 JST (2026-03-20 09:00 UTC)",
		"Mon 2026-03-02 09:00 JST (2026-03-02 00:00 UTC)",
		`<li class="window">actions disabled from Fri 2026-03-06 18:00 JST (2026-03-06 09:00 UTC) until Mon 2026-03-09 09:00 JST (2026-03-09 00:00 UTC)</li>`,
		`<li class="window">actions disabled from Fri 2026-03-13 18:00 JST (2026-03-13 09:00 UTC) until Mon 2026-03-16 09:00 JST (2026-03-16 00:00 UTC)</li>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("alarm page lacks %q", want)
		}
	}
	if strings.Contains(body, "rate(1 hour)") {
		t.Errorf("a schedule of another alarm is listed")
	}
	if n := strings.Count(body, `<li class="window">`); n != 3 {
		t.Errorf("%d windows, want 3", n)
	}

	// The alarm never evaluated: INSUFFICIENT_DATA, not evaluated yet; the
	// condition counts M of N over N periods.
	_, body = f.get(t, "/alarms/quiet")
	for _, want := range []string{`class="alarm-INSUFFICIENT_DATA">INSUFFICIENT_DATA`, "not evaluated yet",
		"Maximum &lt; 10 for 2 datapoints within 3 minutes", "No state change recorded.", "No datapoints.",
		`<text class="empty"`, "180 period(s)", "rate(1 hour)",
		// An hourly disable and no enable: one window, open-ended.
		`<li class="window">actions disabled from Sun 2026-03-01 13:00 UTC until no schedule enables them again</li>`} {
		if !strings.Contains(body, want) {
			t.Errorf("quiet alarm page lacks %q", want)
		}
	}
	if strings.Contains(body, "cron(0 18") {
		t.Errorf("a schedule of another alarm is listed")
	}
	assertStrict(t, f, "/alarms", "/alarms/failed-logins", "/alarms/quiet")
	if resp, _ := f.get(t, "/alarms/nosuchalarm"); resp.StatusCode != 404 {
		t.Errorf("unknown alarm: %d", resp.StatusCode)
	}
}

func TestAlarmWindowsWhileDisabled(t *testing.T) {
	clk := clock.NewFake(t0.Add(24 * time.Hour)) // Monday 2026-03-02 12:00Z = 21:00 JST
	fl := failedLogins()
	f := serveWith(t, clk, ui.Options{
		Alarms: []*config.Alarm{fl},
		Schedules: []*config.Schedule{
			{Name: "off", Expression: "cron(0 18 ? * FRI *)", TimeZone: "Asia/Tokyo", Action: config.ActionDisableAlarmActions, Alarms: []string{fl.Name}},
			{Name: "on", Expression: "cron(0 9 ? * TUE *)", TimeZone: "Asia/Tokyo", Action: config.ActionEnableAlarmActions, Alarms: []string{fl.Name}},
			{Name: "paused", Expression: "cron(0 12 * * ? *)", Action: config.ActionEnableAlarmActions, Alarms: []string{fl.Name}, Enabled: new(false)},
		},
	}, func(st store.Store) {
		// Actions disabled (by a schedule, say): the first window starts now.
		transition(t, st, fl.AlarmConfig(), alarm.InsufficientData, alarm.OK, "ok", t0, false)
	})
	_, body := f.get(t, "/alarms/failed-logins")
	for _, want := range []string{
		`id="actions-enabled" class="actions-disabled">disabled`,
		"actions disabled from now until Tue 2026-03-03 09:00 JST (2026-03-03 00:00 UTC)",
		"actions disabled from Fri 2026-03-06 18:00 JST (2026-03-06 09:00 UTC) until Tue 2026-03-10 09:00 JST (2026-03-10 00:00 UTC)",
		"disabled: not run",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("alarm page lacks %q", want)
		}
	}
	// The disabled schedule would enable actions daily at 12:00 UTC: it
	// must not end a window.
	if strings.Contains(body, "12:00 UTC)</li>") {
		t.Errorf("a disabled schedule ends a window")
	}
}

func TestAlarmsList(t *testing.T) {
	clk := clock.NewFake(t0)
	fl := failedLogins()
	weird := failedLogins()
	weird.Name = hostile
	f := serveWith(t, clk, ui.Options{Alarms: []*config.Alarm{fl, weird}}, func(st store.Store) {
		transition(t, st, fl.AlarmConfig(), alarm.InsufficientData, alarm.Alarming, "Threshold Crossed: boom", t0.Add(-time.Minute), false)
	})
	resp, body := f.get(t, "/alarms")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /alarms: %d", resp.StatusCode)
	}
	rows := strings.Split(body, `<tr class="alarm-row">`)[1:]
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	// Sorted by name: "<b>..." before "failed-logins".
	for i, c := range []struct{ name, href string }{
		{html.EscapeString(hostile), "/alarms/" + url.PathEscape(hostile)},
		{"failed-logins", "/alarms/failed-logins"},
	} {
		if !strings.Contains(rows[i], ">"+c.name+"</a>") {
			t.Errorf("row %d lacks the name %q: %s", i, c.name, rows[i])
		}
		if !strings.Contains(rows[i], `href="`+html.EscapeString(c.href)+`"`) && !strings.Contains(rows[i], `href="`+c.href+`"`) {
			t.Errorf("row %d lacks the link %q: %s", i, c.href, rows[i])
		}
	}
	for _, want := range []string{`class="alarm-state alarm-ALARM">ALARM`, "Threshold Crossed: boom", "2026-03-01 11:59:00Z", `class="actions-disabled">disabled`, "Sum &gt;= 3 for 1 datapoints within 5 minutes", "Trailwatch ConsoleLoginFailures"} {
		if !strings.Contains(rows[1], want) {
			t.Errorf("failed-logins row lacks %q: %s", want, rows[1])
		}
	}
	for _, want := range []string{`alarm-INSUFFICIENT_DATA">INSUFFICIENT_DATA`, "not evaluated yet", `class="actions-enabled">enabled`} {
		if !strings.Contains(rows[0], want) {
			t.Errorf("never evaluated row lacks %q: %s", want, rows[0])
		}
	}
	if strings.Contains(body, "<b>x</b>") {
		t.Errorf("the hostile name is not escaped")
	}

	// The hostile name's page, by its escaped path.
	resp, body = f.get(t, "/alarms/"+url.PathEscape(hostile))
	if resp.StatusCode != 200 {
		t.Fatalf("hostile alarm page: %d", resp.StatusCode)
	}
	if strings.Contains(body, "<b>x</b>") || !strings.Contains(body, "<h1>Alarm "+html.EscapeString(hostile)+"</h1>") {
		t.Errorf("hostile alarm page does not escape the name")
	}
}

// TestAlarmPageTrimmedMean: an alarm on a statistic computed from the raw
// values (IQM = TM(25%:75%)) is graphed from them: 1, 2, 3 and 100 in one
// period make 2.5.
func TestAlarmPageTrimmedMean(t *testing.T) {
	clk := clock.NewFake(t0.Add(-time.Hour))
	fl := failedLogins()
	fl.Statistic = "IQM"
	f := serveWith(t, clk, ui.Options{Alarms: []*config.Alarm{fl}}, func(st store.Store) {
		var batch []store.Seen
		for i, v := range []float64{1, 2, 3, 100} {
			batch = append(batch, seenDatapoints(fmt.Sprintf("iqm-%d", i), t0.Add(-4*time.Minute+time.Duration(i)*time.Second), v, 1, nil))
		}
		if _, err := st.Record(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
		clk.Set(t0)
	})
	_, body := f.get(t, "/alarms/failed-logins")
	if !strings.Contains(body, `<td class="value">2.5</td><td>4</td>`) {
		t.Errorf("IQM of the period not shown as 2.5 over 4 samples:\n%s", body)
	}
}
