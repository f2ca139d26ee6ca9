package alarm

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCompositeValidateSuppressor(t *testing.T) {
	base := CompositeConfig{Name: "c", Rule: "ALARM(a)"}
	with := func(f func(*CompositeConfig)) CompositeConfig { c := base; f(&c); return c }
	for _, tc := range []struct {
		name string
		c    CompositeConfig
		want string
	}{
		{"suppressor and periods", with(func(c *CompositeConfig) {
			c.ActionsSuppressor, c.ActionsSuppressorWaitPeriod, c.ActionsSuppressorExtensionPeriod = "s", time.Minute, time.Minute
		}), ""},
		{"zero periods", with(func(c *CompositeConfig) { c.ActionsSuppressor = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:s" }), ""},
		{"wait without suppressor", with(func(c *CompositeConfig) { c.ActionsSuppressorWaitPeriod = time.Minute }), "ActionsSuppressorWaitPeriod is set but ActionsSuppressor is not"},
		{"extension without suppressor", with(func(c *CompositeConfig) { c.ActionsSuppressorExtensionPeriod = time.Second }), "ActionsSuppressorExtensionPeriod is set but ActionsSuppressor is not"},
		{"itself", with(func(c *CompositeConfig) { c.ActionsSuppressor = "c" }), "names the composite alarm itself"},
		{"itself by ARN", with(func(c *CompositeConfig) { c.ActionsSuppressor = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:c" }), "names the composite alarm itself"},
		{"too long", with(func(c *CompositeConfig) { c.ActionsSuppressor = strings.Repeat("s", 1601) }), "between 1 and 1600"},
		{"negative", with(func(c *CompositeConfig) { c.ActionsSuppressor, c.ActionsSuppressorWaitPeriod = "s", -time.Second }), "must not be negative"},
		{"fraction", with(func(c *CompositeConfig) {
			c.ActionsSuppressor, c.ActionsSuppressorExtensionPeriod = "s", 1500*time.Millisecond
		}), "whole seconds"},
	} {
		err := tc.c.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Validate = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestCompositeSuppression runs composite c (ALARM(a), actions "page" and
// "ok") with suppressor b on a timeline of datapoints. A datapoint added at
// step S (metric alarms a and b of compositeSet) puts its alarm in ALARM
// at S and back to OK at S+30 s unless another follows.
func TestCompositeSuppression(t *testing.T) {
	secs := func(from, to int) []int {
		var out []int
		for s := from; s <= to; s += 10 {
			out = append(out, s)
		}
		return out
	}
	const initial = "c:INSUFFICIENT_DATA>OK[ok]"
	for _, tc := range []struct {
		name       string
		wait, ext  time.Duration
		a, b       []int // steps (seconds after t0) with a datapoint of a, b
		ticks      []int // when Tick runs; every 10 s to 150 s when nil
		want       []string
		wantDetail map[string]string // "c:from>to@secs": "State/Previous" suppression
	}{
		{
			name: "suppressor in ALARM before", wait: 30 * time.Second, ext: 30 * time.Second,
			a: secs(20, 60), b: []int{10},
			// b: ALARM at 10, OK at 40, extension to 70; a: ALARM 20 to 90.
			want: []string{initial, "c:OK>ALARM[]@20", "c:ALARM>ALARM[page]@70", "c:ALARM>OK[ok]@90"},
			wantDetail: map[string]string{
				"c:OK>ALARM@20":    "Alarm/",
				"c:ALARM>ALARM@70": "/Alarm",
				"c:ALARM>OK@90":    "/",
			},
		},
		{
			name: "suppressor goes to ALARM during the wait period", wait: 30 * time.Second, ext: 20 * time.Second,
			a: secs(20, 90), b: secs(30, 40),
			// c ALARM at 20 waits to 50; b ALARM at 30, OK at 70,
			// extension to 90; a OK at 120.
			want: []string{initial, "c:OK>ALARM[]@20", "c:ALARM>ALARM[page]@90", "c:ALARM>OK[ok]@120"},
			wantDetail: map[string]string{
				"c:OK>ALARM@20":    "WaitPeriod/",
				"c:ALARM>ALARM@90": "/WaitPeriod",
			},
		},
		{
			name: "suppressor never comes", wait: 30 * time.Second, ext: 30 * time.Second,
			a: []int{20},
			// c ALARM at 20 waits to 50 while a goes OK at 50: the OK
			// transition at 50 comes first, its actions run, nothing owed.
			want: []string{initial, "c:OK>ALARM[]@20", "c:ALARM>OK[ok]@50"},
		},
		{
			name: "wait period ends with c still in ALARM", wait: 30 * time.Second, ext: 30 * time.Second,
			a:    secs(20, 40),
			want: []string{initial, "c:OK>ALARM[]@20", "c:ALARM>ALARM[page]@50", "c:ALARM>OK[ok]@70"},
		},
		{
			name: "ALARM after the extension period waits again", wait: 20 * time.Second, ext: 20 * time.Second,
			a: []int{80}, b: []int{10},
			// b ALARM 10 to 40, extension to 60; c ALARM at 80, waits to 100,
			// but a goes OK at 110 only.
			want: []string{initial, "c:OK>ALARM[]@80", "c:ALARM>ALARM[page]@100", "c:ALARM>OK[ok]@110"},
		},
		{
			name: "no wait period: actions at once outside suppression", ext: 20 * time.Second,
			a: []int{50, 120}, b: []int{10},
			// b ALARM 10 to 40, extension to 60: c ALARM at 50 is
			// suppressed, OK at 80 after the extension, ALARM at 120 is not.
			want: []string{initial, "c:OK>ALARM[]@50", "c:ALARM>ALARM[page]@60", "c:ALARM>OK[ok]@80", "c:OK>ALARM[page]@120", "c:ALARM>OK[ok]@150"},
			wantDetail: map[string]string{
				"c:OK>ALARM@50":    "ExtensionPeriod/",
				"c:ALARM>ALARM@60": "/ExtensionPeriod",
			},
		},
		{
			name: "OK while suppressed: the current state's actions run", wait: 30 * time.Second, ext: 30 * time.Second,
			a: []int{20}, b: secs(10, 40),
			// b ALARM 10 to 70, extension to 100; c ALARM 20 to 50.
			want: []string{initial, "c:OK>ALARM[]@20", "c:ALARM>OK[]@50", "c:OK>OK[ok]@100"},
		},
		{
			name: "one late tick replays the periods at their instants", wait: 30 * time.Second, ext: 30 * time.Second,
			a: secs(20, 40), ticks: []int{0, 20, 150},
			want: []string{initial, "c:OK>ALARM[]@20", "c:ALARM>ALARM[page]@50", "c:ALARM>OK[ok]@70"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := CompositeConfig{Name: "c", Rule: "ALARM(a)", ActionsEnabled: true, AlarmActions: []string{"page"}, OKActions: []string{"ok"},
				ActionsSuppressor: "b", ActionsSuppressorWaitPeriod: tc.wait, ActionsSuppressorExtensionPeriod: tc.ext}
			s := compositeSet(t, c)
			for _, x := range []struct {
				metric string
				at     []int
			}{{"a", tc.a}, {"b", tc.b}} {
				for _, sec := range x.at {
					now := t0.Add(time.Duration(sec) * time.Second)
					if err := s.Series().AddAt(now, Datapoint{Namespace: "NS", Metric: x.metric, Time: now.Add(-5 * time.Second), Value: 1}); err != nil {
						t.Fatal(err)
					}
				}
			}
			ticks := tc.ticks
			if ticks == nil {
				ticks = secs(0, 150)
			}
			var got []string
			details := map[string]string{}
			for _, sec := range ticks {
				for _, tr := range s.Tick(t0.Add(time.Duration(sec) * time.Second)) {
					if tr.Alarm != "c" {
						continue
					}
					at := fmt.Sprintf("@%d", int(tr.Time.Sub(t0)/time.Second))
					if tr.Time.Equal(t0) {
						at = ""
					}
					got = append(got, fmt.Sprintf("c:%s>%s[%s]%s", tr.From, tr.To, strings.Join(tr.Actions, ","), at))
					sup := s.CompositeSuppression(tr)
					details[fmt.Sprintf("c:%s>%s%s", tr.From, tr.To, at)] = string(sup.State.By) + "/" + string(sup.Previous.By)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("transitions:\n got %v\nwant %v", got, tc.want)
			}
			for k, want := range tc.wantDetail {
				if details[k] != want {
					t.Errorf("%s: suppression %q, want %q", k, details[k], want)
				}
			}
		})
	}
}

func TestPutCompositeUnknownSuppressor(t *testing.T) {
	s := compositeSet(t)
	err := s.PutComposite(CompositeConfig{Name: "c", Rule: "ALARM(a)", ActionsSuppressor: "nope"}, t0)
	if err == nil || !strings.Contains(err.Error(), `ActionsSuppressor names alarm "nope", which does not exist`) {
		t.Errorf("PutComposite = %v", err)
	}
}

func TestCompositeStateChangeEventSuppression(t *testing.T) {
	c := CompositeConfig{Name: "Main", Rule: "ALARM(a)", ActionsSuppressor: "Sup",
		ActionsSuppressorWaitPeriod: 120 * time.Second, ActionsSuppressorExtensionPeriod: 180 * time.Second}
	tr := Transition{Alarm: "Main", From: Alarming, To: Alarming, Time: t0.Add(2 * time.Minute), FromTime: t0, Reason: "r", FromReason: "r"}
	var ev struct {
		Detail struct {
			State, PreviousState map[string]any
			Configuration        map[string]any
		} `json:"detail"`
	}
	raw := CompositeStateChangeEvent(c, tr, TransitionSuppression{Previous: suppressedBy(SuppressedByWaitPeriod)}, "us-east-1", "111122223333", "id")
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	d := ev.Detail
	if d.PreviousState["actionsSuppressedBy"] != "WaitPeriod" || d.PreviousState["actionsSuppressedReason"] != "Actions suppressed by WaitPeriod" {
		t.Errorf("previousState = %v", d.PreviousState)
	}
	if _, ok := d.State["actionsSuppressedBy"]; ok {
		t.Errorf("state = %v, want no actionsSuppressedBy", d.State)
	}
	if d.Configuration["actionsSuppressor"] != "Sup" || d.Configuration["actionsSuppressorWaitPeriod"] != 120.0 || d.Configuration["actionsSuppressorExtensionPeriod"] != 180.0 {
		t.Errorf("configuration = %v", d.Configuration)
	}
	c.ActionsSuppressor, c.ActionsSuppressorWaitPeriod, c.ActionsSuppressorExtensionPeriod = "", 0, 0
	if raw := CompositeStateChangeEvent(c, tr, TransitionSuppression{}, "us-east-1", "111122223333", "id"); strings.Contains(string(raw), "uppress") {
		t.Errorf("event without a suppressor mentions suppression: %s", raw)
	}
}
