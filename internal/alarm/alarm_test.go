package alarm

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestComparisonOperators(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op                  string
		below, equal, above bool
		phrase              string
	}{
		{GreaterThanOrEqualToThreshold, false, true, true, "greater than or equal to"},
		{GreaterThanThreshold, false, false, true, "greater than"},
		{LessThanThreshold, true, false, false, "less than"},
		{LessThanOrEqualToThreshold, true, true, false, "less than or equal to"},
	}
	for _, tt := range tests {
		for v, want := range map[float64]bool{4: tt.below, 5: tt.equal, 6: tt.above} {
			if got := breaches(tt.op, v, 5); got != want {
				t.Errorf("%s: %v vs 5 = %v, want %v", tt.op, v, got, want)
			}
			// and through an alarm
			c := Config{Name: "op", Namespace: "N", Metric: "M", Statistic: "Sum", Period: time.Minute,
				EvaluationPeriods: 1, Threshold: 5, ComparisonOperator: tt.op}
			a, err := New(c, tableNow)
			if err != nil {
				t.Fatal(err)
			}
			s := NewSeries(0)
			_ = s.Add(Datapoint{Namespace: "N", Metric: "M", Time: tableNow.Add(-30 * time.Second), Value: v})
			tr, _ := a.Evaluate(tableNow, s)
			wantState := OK
			if want {
				wantState = Alarming
			}
			if tr.To != wantState {
				t.Errorf("%s %v: state %s, want %s", tt.op, v, tr.To, wantState)
			}
			if !strings.Contains(tr.Reason, "] was "+map[bool]string{true: "", false: "not "}[want]+tt.phrase+" the threshold (5.0)") {
				t.Errorf("%s %v: reason %q", tt.op, v, tr.Reason)
			}
		}
	}
}

func TestStatistics(t *testing.T) {
	t.Parallel()
	s := NewSeries(0)
	start := tableNow.Add(-time.Minute)
	var vals []float64
	for i := 100; i >= 1; i-- { // 1..100, added out of order
		vals = append(vals, float64(i))
		if err := s.Add(Datapoint{Namespace: "N", Metric: "M", Time: start.Add(time.Duration(i%60) * time.Second), Value: float64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	p := s.Aggregate(MetricKey("N", "M", nil), "", start, tableNow, WithValues)
	want := map[string]float64{
		"Sum": 5050, "SampleCount": 100, "Average": 50.5, "Minimum": 1, "Maximum": 100,
		"p0": 1, "p1": 1, "p50": 50, "p90": 90, "p99": 99, "p99.5": 100, "p100": 100, "p10.5": 11,
	}
	for name, w := range want {
		st, err := ParseStatistic(name)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := p.Stat(st); !ok || got != w {
			t.Errorf("%s = %v (%v), want %v", name, got, ok, w)
		}
	}
	// p99.9 over 1000 values, p90 over 10.
	thousand := make([]float64, 1000)
	for i := range thousand {
		thousand[i] = float64(1000 - i)
	}
	if got := Percentile(thousand, 99.9); got != 999 {
		t.Errorf("p99.9 of 1..1000 = %v", got)
	}
	if got := Percentile([]float64{5, 1, 9, 3, 7, 2, 8, 4, 6, 10}, 90); got != 9 {
		t.Errorf("p90 of 1..10 = %v", got)
	}
	if !math.IsNaN(Percentile(nil, 50)) {
		t.Error("percentile of nothing should be NaN")
	}
	if thousand[0] != 1000 {
		t.Error("Percentile sorted its input")
	}
	var empty Period
	if _, ok := empty.Stat(Statistic{Name: "Sum", Percentile: -1}); ok {
		t.Error("an empty period is missing, not 0")
	}
}

func TestPercentileAlarm(t *testing.T) {
	t.Parallel()
	c := Config{Name: "latency", Namespace: "N", Metric: "Latency", Statistic: "p90", Period: time.Minute,
		EvaluationPeriods: 1, Threshold: 90, ComparisonOperator: GreaterThanOrEqualToThreshold, ActionsEnabled: true}
	a, _ := New(c, tableNow)
	s := NewSeries(0)
	for i := 1; i <= 100; i++ {
		_ = s.Add(Datapoint{Namespace: "N", Metric: "Latency", Time: tableNow.Add(-time.Minute), Value: float64(i), EventKey: "e" + string(rune('0'+i%10))})
	}
	tr, ok := a.Evaluate(tableNow, s)
	if !ok || tr.To != Alarming || !strings.Contains(tr.Reason, "[90.0 (01/05/24 11:59:00)]") {
		t.Fatalf("got %+v", tr)
	}
	if !strings.Contains(string(tr.ReasonData), `"extendedStatistic":"p90"`) {
		t.Errorf("reason data %s", tr.ReasonData)
	}
	// Low sample count: p90 needs 10/(1-0.9) = 100 samples; with ignore
	// the state does not change on fewer.
	c.EvaluateLowSampleCountPercentile = "ignore"
	b, _ := New(c, tableNow)
	s2 := NewSeries(0)
	for i := 1; i <= 99; i++ {
		_ = s2.Add(Datapoint{Namespace: "N", Metric: "Latency", Time: tableNow.Add(-time.Minute), Value: 100})
	}
	if _, ok := b.Evaluate(tableNow, s2); ok || b.State() != InsufficientData {
		t.Errorf("low sample count with ignore: state %s", b.State())
	}
	_ = s2.Add(Datapoint{Namespace: "N", Metric: "Latency", Time: tableNow.Add(-time.Minute), Value: 100})
	if _, ok := b.Evaluate(tableNow, s2); !ok || b.State() != Alarming {
		t.Errorf("100 samples with ignore: state %s", b.State())
	}
	for _, tt := range []struct {
		p    float64
		n    int
		want bool
	}{{99, 999, true}, {99, 1000, false}, {10, 99, true}, {10, 100, false}, {50, 19, true}, {50, 20, false}, {100, 1, false}, {0, 1, false}} {
		if got := lowSampleCount(Statistic{Percentile: tt.p}, tt.n); got != tt.want {
			t.Errorf("lowSampleCount(p%v, %d) = %v", tt.p, tt.n, got)
		}
	}
}

func TestActionsOnlyOnTransitions(t *testing.T) {
	t.Parallel()
	c := seed002()
	c.OKActions = []string{"ok"}
	c.InsufficientDataActions = []string{"insufficient"}
	c.TreatMissingData = TreatMissing
	a, _ := New(c, tableNow)
	s := NewSeries(0)
	at := func(sec int) time.Time { return tableNow.Add(time.Duration(sec) * time.Second) }
	var fired []string
	eval := func(sec int) {
		if tr, ok := a.Evaluate(at(sec), s); ok {
			fired = append(fired, string(tr.To)+":"+strings.Join(tr.Actions, ","))
		}
	}
	eval(10) // still INSUFFICIENT_DATA: no transition
	_ = s.Add(login(at(12), "a"))
	eval(20) // ALARM
	eval(21)
	eval(22)
	_ = s.Add(Datapoint{Namespace: "CloudTrailMerics", Metric: "ConsoleLogin", Time: at(25), Value: 0})
	eval(30) // OK (0 < 1)
	eval(40)
	a.SetActionsEnabled(false)
	_ = s.Add(login(at(45), "b"))
	eval(50) // ALARM, silent
	a.SetActionsEnabled(true)
	eval(55) // no re-fire on enabling
	_ = s.Add(login(at(55), "c"))
	eval(60) // still ALARM: nothing
	eval(90) // no data in the range: INSUFFICIENT_DATA
	want := []string{"ALARM:" + topic, "OK:ok", "ALARM:", "INSUFFICIENT_DATA:insufficient"}
	if !reflect.DeepEqual(fired, want) {
		t.Errorf("fired %q\nwant  %q", fired, want)
	}
	if !a.ActionsEnabled() {
		t.Error("actions should be enabled")
	}
}

func TestSetStateAndSnapshot(t *testing.T) {
	t.Parallel()
	a, _ := New(seed002(), tableNow)
	tr, ok, err := a.SetState(tableNow, Alarming, "testing", []byte(`{"a":1}`))
	if err != nil || !ok || tr.From != InsufficientData || tr.To != Alarming || !reflect.DeepEqual(tr.Actions, []string{topic}) {
		t.Fatalf("SetState: %+v %v %v", tr, ok, err)
	}
	if _, ok, _ := a.SetState(tableNow, Alarming, "again", nil); ok || a.Reason() != "again" {
		t.Error("same state: no transition, reason updated")
	}
	for _, bad := range []struct {
		s    State
		r    string
		data string
	}{{"BROKEN", "", ""}, {OK, strings.Repeat("x", 1024), ""}, {OK, "", "{"}, {OK, "", strings.Repeat(" ", 4001)}} {
		if _, _, err := a.SetState(tableNow, bad.s, bad.r, []byte(bad.data)); err == nil {
			t.Errorf("SetState(%q, %d chars, %q) should fail", bad.s, len(bad.r), bad.data)
		}
	}
	// The next evaluation returns the alarm to its actual state.
	if tr, ok := a.Evaluate(tableNow.Add(10*time.Second), NewSeries(0)); !ok || tr.To != OK {
		t.Errorf("after SetState: %+v", tr)
	}
	snap := a.Snapshot()
	b, err := Restore(seed002(), snap)
	if err != nil || b.State() != OK || b.Reason() != a.Reason() || !b.Updated().Equal(a.Updated()) {
		t.Fatalf("restore: %v %+v", err, b.Snapshot())
	}
	if _, err := Restore(seed002(), Snapshot{State: "nope"}); err == nil {
		t.Error("restore of an invalid state should fail")
	}
	// Update keeps the state and overwrites the configuration.
	c := seed002()
	c.Threshold = 3
	c.ActionsEnabled = false
	if err := b.Update(c); err != nil || b.State() != OK || b.Config().Threshold != 3 || b.ActionsEnabled() {
		t.Errorf("update: %v %s %+v", err, b.State(), b.Config())
	}
	c.Name = "other"
	if err := b.Update(c); err == nil {
		t.Error("update must not rename")
	}
	c = seed002()
	c.Period = 7 * time.Second
	if err := b.Update(c); err == nil {
		t.Error("update must validate")
	}
}

func TestEvaluationCadenceAndRange(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		period time.Duration
		n      int
		step   time.Duration
		rng    time.Duration
	}{
		{10 * time.Second, 1, 10 * time.Second, 40 * time.Second},
		{30 * time.Second, 3, 10 * time.Second, 160 * time.Second},
		{time.Minute, 3, time.Minute, 6 * time.Minute},
		{time.Hour, 48, time.Hour, (48 + 16 + 1) * time.Hour},
	} {
		a, err := New(Config{Name: "c", Namespace: "N", Metric: "M", Statistic: "Sum", Period: tt.period,
			EvaluationPeriods: tt.n, ComparisonOperator: GreaterThanThreshold}, tableNow)
		if err != nil {
			t.Fatal(err)
		}
		if a.Step() != tt.step || a.Range() != tt.rng {
			t.Errorf("period %v N %d: step %v range %v, want %v %v", tt.period, tt.n, a.Step(), a.Range(), tt.step, tt.rng)
		}
	}
	for n, want := range map[int]int{1: 3, 2: 4, 3: 5, 5: 7, 6: 8, 9: 12, 30: 40} {
		if got := DefaultEvaluationRange(n); got != want {
			t.Errorf("DefaultEvaluationRange(%d) = %d, want %d", n, got, want)
		}
	}
	// A 30 s period slides every 10 s.
	c := Config{Name: "hr", Namespace: "N", Metric: "M", Statistic: "Sum", Period: 30 * time.Second,
		EvaluationPeriods: 1, EvaluationRange: 1, Threshold: 2, ComparisonOperator: GreaterThanOrEqualToThreshold}
	a, _ := New(c, tableNow)
	s := NewSeries(0)
	_ = s.Add(Datapoint{Namespace: "N", Metric: "M", Time: tableNow.Add(5 * time.Second), Value: 1})
	_ = s.Add(Datapoint{Namespace: "N", Metric: "M", Time: tableNow.Add(25 * time.Second), Value: 1})
	var states []State
	for _, sec := range []int{10, 29, 30, 39, 40, 50, 60} {
		a.Evaluate(tableNow.Add(time.Duration(sec)*time.Second), s)
		states = append(states, a.State())
	}
	want := []State{OK, OK, Alarming, Alarming, OK, OK, InsufficientData}
	if !reflect.DeepEqual(states, want) {
		t.Errorf("states %v, want %v", states, want)
	}
}

func TestSeries(t *testing.T) {
	t.Parallel()
	s := NewSeries(time.Minute)
	key := MetricKey("N", "M", map[string]string{"b": "2", "a": "1"})
	if key != MetricKey("N", "M", map[string]string{"a": "1", "b": "2"}) {
		t.Fatal("MetricKey depends on map order")
	}
	dims := map[string]string{"a": "1", "b": "2"}
	add := func(sec int, v float64, unit string) error {
		return s.Add(Datapoint{Namespace: "N", Metric: "M", Dimensions: dims, Time: tableNow.Add(time.Duration(sec) * time.Second), Value: v, Unit: unit, EventKey: "k"})
	}
	for _, d := range []struct {
		sec  int
		v    float64
		unit string
	}{{0, 1, "Count"}, {20, 2, "Count"}, {10, 4, "Bytes"}, {5, 8, ""}} {
		if err := add(d.sec, d.v, d.unit); err != nil {
			t.Fatal(err)
		}
	}
	if err := add(0, math.NaN(), ""); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("NaN: %v", err)
	}
	if err := add(0, math.Inf(1), ""); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("Inf: %v", err)
	}
	if err := add(0, 1e109, ""); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("1e109 (> 2^360): %v", err)
	}
	if err := s.Add(Datapoint{Metric: "M"}); !errors.Is(err, ErrNoMetric) {
		t.Errorf("no namespace: %v", err)
	}
	p := s.Aggregate(key, "", tableNow, tableNow.Add(time.Minute), 0)
	if p.Sum != 15 || p.SampleCount != 4 || p.Minimum != 1 || p.Maximum != 8 {
		t.Errorf("all units: %+v", p)
	}
	p = s.Aggregate(key, "Count", tableNow, tableNow.Add(time.Minute), WithKeys)
	if p.Sum != 3 || p.SampleCount != 2 || p.Minimum != 1 || p.Maximum != 2 || len(p.Keys) != 2 {
		t.Errorf("Count only: %+v", p)
	}
	if p := s.Aggregate(MetricKey("N", "M", nil), "", tableNow, tableNow.Add(time.Minute), 0); p.SampleCount != 0 {
		t.Error("dimensions must match exactly")
	}
	// Retention: a datapoint 2 minutes later drops the old buckets.
	if err := add(120, 1, ""); err != nil {
		t.Fatal(err)
	}
	if n := s.Len(); n != 1 {
		t.Errorf("after retention: %d datapoints", n)
	}
	if err := add(30, 1, ""); !errors.Is(err, ErrTooOld) {
		t.Errorf("too old: %v", err)
	}
	if err := add(70, 1, ""); err != nil { // within retention, out of order
		t.Errorf("late datapoint: %v", err)
	}
	s.Prune(tableNow.Add(10 * time.Minute))
	if n := s.Len(); n != 0 {
		t.Errorf("after prune: %d datapoints", n)
	}
	// Keys per bucket are capped.
	s2 := NewSeries(0)
	s2.SetKeysPerBucket(2)
	for i := 0; i < 5; i++ {
		_ = s2.Add(Datapoint{Namespace: "N", Metric: "M", Time: tableNow, Value: 1, EventKey: string(rune('a' + i))})
	}
	if p := s2.Aggregate(MetricKey("N", "M", nil), "", tableNow, tableNow.Add(10*time.Second), WithKeys); !reflect.DeepEqual(p.Keys, []string{"a", "b"}) || p.SampleCount != 5 {
		t.Errorf("capped keys: %+v", p)
	}
	// Times before 1970 bucket correctly (floor division).
	old := time.Date(1969, 12, 31, 23, 59, 55, 0, time.UTC)
	s3 := NewSeries(0)
	_ = s3.Add(Datapoint{Namespace: "N", Metric: "M", Time: old, Value: 1})
	if p := s3.Aggregate(MetricKey("N", "M", nil), "", old.Add(-5*time.Second), old.Add(5*time.Second), 0); p.SampleCount != 1 {
		t.Errorf("pre-1970: %+v", p)
	}
}

func TestEventsCapAndDefaults(t *testing.T) {
	t.Parallel()
	c := Config{Name: "sum", Namespace: "N", Metric: "M", Statistic: "Sum", Period: time.Minute,
		EvaluationPeriods: 2, DatapointsToAlarm: 2, Threshold: 5, ComparisonOperator: GreaterThanOrEqualToThreshold, MaxEvents: 3}
	a, _ := New(c, tableNow)
	s := NewSeries(0)
	for i := 0; i < 12; i++ { // 6 per minute, value 1 each; one 0 (a default value)
		v := 1.0
		if i == 0 {
			v = 0
		}
		_ = s.Add(Datapoint{Namespace: "N", Metric: "M", Time: tableNow.Add(-2*time.Minute + time.Duration(i*10)*time.Second), Value: v, EventKey: "e" + string(rune('a'+i))})
	}
	tr, ok := a.Evaluate(tableNow, s)
	if !ok || tr.To != Alarming {
		t.Fatalf("got %+v", tr)
	}
	if !reflect.DeepEqual(tr.Events, []string{"ej", "ek", "el"}) {
		t.Errorf("events %q", tr.Events)
	}
	c.MaxEvents = 0
	b, _ := New(c, tableNow)
	_ = s.Add(Datapoint{Namespace: "N", Metric: "M", Time: tableNow.Add(-2 * time.Minute), Value: 1, EventKey: "eb"}) // duplicate key
	tr, _ = b.Evaluate(tableNow, s)
	if len(tr.Events) != 11 || tr.Events[0] != "eb" { // the 0 (ea) is not behind the breach
		t.Errorf("events %q", tr.Events)
	}
	// Evaluate without a series: everything is missing.
	d, _ := New(seed002(), tableNow)
	if tr, ok := d.Evaluate(tableNow, nil); !ok || tr.To != OK || tr.Events != nil {
		t.Errorf("nil series: %+v", tr)
	}
}

func TestSeriesAddAt(t *testing.T) {
	t.Parallel()
	s := NewSeries(time.Hour)
	dp := func(at time.Time) Datapoint { return Datapoint{Namespace: "N", Metric: "M", Time: at, Value: 1} }
	if err := s.AddAt(tableNow, dp(tableNow.Add(3*time.Hour))); !errors.Is(err, ErrFuture) {
		t.Errorf("3 h ahead: %v", err)
	}
	if err := s.AddAt(tableNow, dp(tableNow.Add(-2*time.Hour))); !errors.Is(err, ErrTooOld) {
		t.Errorf("2 h old: %v", err)
	}
	for _, d := range []time.Duration{-30 * time.Minute, 0, time.Hour} {
		if err := s.AddAt(tableNow, dp(tableNow.Add(d))); err != nil {
			t.Errorf("%v: %v", d, err)
		}
	}
	// Time goes on: the watermark follows now, old buckets go.
	if err := s.AddAt(tableNow.Add(80*time.Minute), dp(tableNow.Add(80*time.Minute))); err != nil {
		t.Fatal(err)
	}
	if n := s.Len(); n != 2 { // +60 min and +80 min remain
		t.Errorf("after 80 min: %d datapoints, want 2", n)
	}
	// With Add, a datapoint far ahead expires the others (documented).
	s2 := NewSeries(time.Hour)
	_ = s2.Add(dp(tableNow))
	_ = s2.Add(dp(tableNow.Add(48 * time.Hour)))
	if n := s2.Len(); n != 1 {
		t.Errorf("Add far ahead: %d datapoints", n)
	}
}
