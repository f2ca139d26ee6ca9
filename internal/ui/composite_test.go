package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/ui"
)

// TestCompositeAlarmPages: a composite alarm is listed with its rule, and
// its page shows its state, the alarms its rule names with their states
// (linked), its history, actions and the schedules that switch them.
func TestCompositeAlarmPages(t *testing.T) {
	clk := clock.NewFake(t0)
	logins := failedLogins()
	stops := failedLogins()
	stops.Name, stops.Description = "trail-stops", "A trail was stopped"
	on := true
	wait, ext := config.Duration(time.Minute), config.Duration(2*time.Minute)
	comp := &config.CompositeAlarm{Name: "attack", Description: "Both at once", Rule: `ALARM("failed-logins") AND ALARM(trail-stops)`,
		ActionsEnabled: &on, AlarmActions: []string{"oncall-slack"}, Source: "trailwatch.yaml:40",
		ActionsSuppressor: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:trail-stops", ActionsSuppressorWaitPeriod: &wait, ActionsSuppressorExtensionPeriod: &ext}
	f := serveWith(t, clk, ui.Options{
		Alarms: []*config.Alarm{logins, stops}, CompositeAlarms: []*config.CompositeAlarm{comp},
		Schedules: []*config.Schedule{{Name: "night", Expression: "cron(0 18 ? * FRI *)", TimeZone: "Asia/Tokyo", Action: config.ActionDisableAlarmActions, Alarms: []string{"attack"}}},
	}, func(st store.Store) {
		transition(t, st, logins.AlarmConfig(), alarm.InsufficientData, alarm.Alarming, "Threshold Crossed", t0.Add(-2*time.Minute), true)
		cc := alarm.Config{Name: "attack"}
		transition(t, st, cc, alarm.InsufficientData, alarm.OK, "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:failed-logins transitioned to ALARM", t0.Add(-time.Minute), true)
	})
	_, body := f.get(t, "/alarms")
	for _, want := range []string{`<a class="alarm-link" href="/alarms/attack">attack</a>`, `ALARM(&#34;failed-logins&#34;) AND ALARM(trail-stops)`, "composite alarm"} {
		if !strings.Contains(body, want) {
			t.Errorf("alarms list lacks %s", want)
		}
	}
	resp, body := f.get(t, "/alarms/attack")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /alarms/attack: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`<dd id="alarm-state" class="alarm-OK">OK</dd>`,
		`<code id="rule">ALARM(&#34;failed-logins&#34;) AND ALARM(trail-stops)</code>`,
		`<tr class="child"><td><a href="/alarms/failed-logins">failed-logins</a></td><td class="alarm-ALARM">ALARM</td></tr>`,
		`<tr class="child"><td><a href="/alarms/trail-stops">trail-stops</a></td><td class="alarm-INSUFFICIENT_DATA">INSUFFICIENT_DATA</td></tr>`,
		`<tr class="transition">`, "oncall-slack",
		`<p id="suppressor">Actions suppressed by trail-stops (while it is in ALARM; waits 1 minute for it after going to ALARM, and keeps suppressing 2 minutes after it leaves ALARM)</p>`, `<tr class="schedule"><td>night</td>`, "actions disabled from Fri",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("composite page lacks %s", want)
		}
	}
	if strings.Contains(body, `id="graph"`) {
		t.Error("a composite alarm has no graph")
	}
	assertStrict(t, f, "/alarms", "/alarms/attack", "/alarms/failed-logins")
}
