package alarm

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSetTickSeeds(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC) // 09:00 in Tokyo
	set := NewSet(NewSeries(0))
	for _, c := range []Config{seed002(), seed004()} {
		if err := set.Put(c, t0); err != nil {
			t.Fatal(err)
		}
	}
	if got := set.Names(); !reflect.DeepEqual(got, []string{"ConsoleLogin", "IAMPolicyChanges"}) {
		t.Fatalf("names %v", got)
	}
	if r := set.Retention(); r != 16*time.Minute {
		t.Errorf("retention %v", r)
	}
	// 09:00 JST: the business-hours schedule disables ConsoleLogin's actions.
	if unknown, err := set.SetActionsEnabled(false, "ConsoleLogin", "NoSuchAlarm"); err != nil || !reflect.DeepEqual(unknown, []string{"NoSuchAlarm"}) {
		t.Fatalf("disable: %v %v", unknown, err)
	}
	add := func(d Datapoint) {
		if err := set.Series().AddAt(d.Time, d); err != nil {
			t.Fatal(err)
		}
	}
	add(login(t0.Add(5*time.Second), "login-1"))
	add(Datapoint{Namespace: "CloudTrailMetrics", Metric: "IAMPolicyEventCount", Time: t0.Add(20 * time.Second), Value: 1, EventKey: "delete-policy"})

	// One tick a minute later replays the six 10-second evaluations of
	// ConsoleLogin and the one-minute evaluation of IAMPolicyChanges.
	var got []string
	for _, tr := range set.Tick(t0.Add(time.Minute)) {
		got = append(got, tr.Time.Format("15:04:05")+" "+tr.Alarm+" "+string(tr.To)+" actions="+strings.Join(tr.Actions, ",")+" events="+strings.Join(tr.Events, ","))
	}
	want := []string{
		"00:00:10 ConsoleLogin ALARM actions= events=login-1", // actions disabled in business hours
		"00:00:40 ConsoleLogin OK actions= events=",
		"00:01:00 IAMPolicyChanges ALARM actions=" + topic + " events=delete-policy",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("transitions\n got %q\nwant %q", got, want)
	}
	// 18:00 JST: enabled again.
	_, _ = set.SetActionsEnabled(true, "ConsoleLogin")
	add(login(t0.Add(9*time.Hour+3*time.Second), "login-2"))
	trs := set.Tick(t0.Add(9*time.Hour + 10*time.Second))
	var alarm *Transition
	for i := range trs {
		if trs[i].Alarm == "ConsoleLogin" && trs[i].To == Alarming {
			alarm = &trs[i]
		}
	}
	if alarm == nil || !reflect.DeepEqual(alarm.Actions, []string{topic}) || !reflect.DeepEqual(alarm.Events, []string{"login-2"}) {
		t.Fatalf("after hours: %+v", trs)
	}
	// Snapshot and restore survive a restart.
	snap, ok := set.Snapshot("ConsoleLogin")
	cfg, _ := set.Config("ConsoleLogin")
	other := NewSet(NewSeries(0))
	if !ok || other.Restore(cfg, snap, t0.Add(9*time.Hour+10*time.Second)) != nil {
		t.Fatal("restore")
	}
	if s2, _ := other.Snapshot("ConsoleLogin"); s2.State != Alarming || !s2.ActionsEnabled {
		t.Errorf("restored %+v", s2)
	}
	if _, ok, err := set.SetState(t0, "nope", OK, "", nil); ok || err == nil {
		t.Error("SetState of an unknown alarm")
	}
	if _, ok, err := set.SetState(t0.Add(9*time.Hour+11*time.Second), "ConsoleLogin", OK, "test", nil); !ok || err != nil {
		t.Errorf("SetState: %v %v", ok, err)
	}
	if !set.Delete("ConsoleLogin") || set.Delete("ConsoleLogin") {
		t.Error("delete")
	}
	if _, err := set.SetActionsEnabled(true, make([]string, 101)...); err == nil {
		t.Error("more than 100 names")
	}
	// Put on an existing alarm updates it and keeps its state.
	c := seed004()
	c.Threshold = 5
	if err := set.Put(c, t0.Add(9*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if s, _ := set.Snapshot("IAMPolicyChanges"); s.State != Alarming && s.State != OK {
		t.Errorf("state after update %s", s.State)
	}
	if c, _ := set.Config("IAMPolicyChanges"); c.Threshold != 5 {
		t.Error("config not updated")
	}
	c.Period = time.Second
	if err := set.Put(c, t0); err == nil {
		t.Error("invalid update accepted")
	}
	if _, ok := set.Snapshot("gone"); ok {
		t.Error("snapshot of a missing alarm")
	}
	if _, ok := set.Config("gone"); ok {
		t.Error("config of a missing alarm")
	}
}

func TestSetTickCatchUpIsBounded(t *testing.T) {
	t.Parallel()
	set := NewSet(NewSeries(0))
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := set.Put(seed002(), t0); err != nil {
		t.Fatal(err)
	}
	// A month later: one catch-up of at most maxCatchUp evaluations, ending
	// in OK (notBreaching, no data).
	trs := set.Tick(t0.Add(30 * 24 * time.Hour))
	if len(trs) != 1 || trs[0].To != OK || trs[0].Time.Before(t0.Add(30*24*time.Hour-maxCatchUp*10*time.Second)) {
		t.Errorf("catch-up: %+v", trs)
	}
	if trs := set.Tick(t0.Add(30 * 24 * time.Hour)); len(trs) != 0 {
		t.Errorf("second tick at the same instant: %+v", trs)
	}
}
