package alarm

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// FuzzEvaluate drives random configurations and datapoints through Series
// and Alarm: nothing panics, states are only the three, transitions chain
// and change state, reasons and notifications are well formed.
func FuzzEvaluate(f *testing.F) {
	f.Add(uint8(0), uint8(1), uint8(1), uint8(0), uint8(1), uint8(0), 1.0, 1.0, []byte{0, 13, 1, 0, 30, 0})
	f.Add(uint8(2), uint8(3), uint8(2), uint8(2), uint8(0), uint8(6), 5.0, 1.0, []byte{10, 0, 255, 200, 1, 7, 99, 99, 99})
	f.Add(uint8(1), uint8(5), uint8(5), uint8(3), uint8(3), uint8(8), -2.5, 1e300, []byte{})
	f.Add(uint8(4), uint8(20), uint8(1), uint8(1), uint8(2), uint8(5), 0.0, 1e105, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	periods := []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, time.Hour}
	stats := []string{"Sum", "Average", "Minimum", "Maximum", "SampleCount", "p0", "p50", "p90", "p99.9", "p100",
		"tm90", "IQM", "wm98", "tc90", "ts90", "TM(150:1000)", "WM(10%:90%)", "TC(:0)", "TS(5%:)", "PR(:300)"}
	treats := []string{TreatMissing, TreatNotBreaching, TreatBreaching, TreatIgnore}
	units := []string{"", "Count", "Bytes"}
	f.Fuzz(func(t *testing.T, pi, n, m, op, treat, stat uint8, threshold, scale float64, data []byte) {
		c := Config{
			Name: "fuzz", Namespace: "N", Metric: "M",
			Statistic: stats[int(stat)%len(stats)], Period: periods[int(pi)%len(periods)],
			EvaluationPeriods: 1 + int(n)%24, DatapointsToAlarm: int(m) % 25, Threshold: threshold,
			ComparisonOperator: comparisonOperators[int(op)%len(comparisonOperators)],
			TreatMissingData:   treats[int(treat)%len(treats)], ActionsEnabled: treat%2 == 0,
			AlarmActions: []string{"a"}, OKActions: []string{"o"}, InsufficientDataActions: []string{"i"},
			EvaluateLowSampleCountPercentile: []string{"", "ignore"}[int(stat/16)%2],
			Unit:                             units[int(op/8)%len(units)],
		}
		t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		a, err := New(c, t0)
		if err != nil {
			if c.Validate() == nil {
				t.Fatalf("New failed on a valid config: %v", err)
			}
			return
		}
		s := NewSeries(a.Range())
		state := a.State()
		at := t0
		for len(data) >= 4 {
			step := time.Duration(data[0]) * time.Second * time.Duration(1+int(pi)%7)
			v := float64(int16(binary.BigEndian.Uint16(data[1:3]))) / 4 * scale
			at = at.Add(step)
			_ = s.Add(Datapoint{Namespace: "N", Metric: "M", Time: at.Add(-time.Duration(data[3]) * time.Second), Value: v,
				Unit: units[int(data[3])%len(units)], EventKey: string(rune('a' + data[3]%26))})
			if data[3]%5 == 0 {
				a.SetActionsEnabled(!a.ActionsEnabled())
			}
			data = data[4:]
			tr, changed := a.Evaluate(at, s)
			if !a.State().Valid() {
				t.Fatalf("invalid state %q", a.State())
			}
			if !changed {
				if a.State() != state {
					t.Fatalf("state changed from %s to %s without a transition", state, a.State())
				}
				continue
			}
			if tr.From != state || tr.To == tr.From || tr.To != a.State() {
				t.Fatalf("transition %+v from %s", tr, state)
			}
			if tr.Reason == "" || !json.Valid(tr.ReasonData) {
				t.Fatalf("reason %q data %s", tr.Reason, tr.ReasonData)
			}
			if len(tr.Actions) > 0 && !a.ActionsEnabled() {
				t.Fatal("actions fired while disabled")
			}
			if len(tr.Events) > DefaultMaxEvents {
				t.Fatalf("%d events", len(tr.Events))
			}
			if msg := Notification(c, tr, "us-east-1", "123456789012"); !json.Valid(msg) {
				t.Fatalf("notification %s", msg)
			}
			state = tr.To
		}
		if n := s.Len(); n < 0 || math.IsNaN(float64(n)) {
			t.Fatal("len")
		}
	})
}

// FuzzParseStatistic: ParseStatistic never panics, accepts only names it
// can evaluate, a percentile is within 0-100, a range statistic's bounds
// are ordered and its value within what its kind allows, and the same
// name parses to the same statistic.
func FuzzParseStatistic(f *testing.F) {
	for _, s := range []string{"Sum", "Average", "Minimum", "Maximum", "SampleCount", "p0", "p50", "p90", "p99", "p99.9",
		"p100", "p100.0", "p101", "p", "p.5", "p9.", "P99", "tm90", "IQM", "TM(10%:90%)", "p99.99999999999", "", "p0009",
		"tm0", "wm99.5", "tc100", "ts1", "TM(:95%)", "TM(5%:)", "TM(150:1000)", "WM(-1.5:2)", "TC(0.005:0.030)",
		"TS(80%:)", "PR(:300)", "PR(100:2000)", "PR(1%:)", "TM(:)", "TM(2:1)", "TM(1%:2)", "tm(1%:2%)", "TM90"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseStatistic(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if st.Name != s {
			t.Fatalf("name %q for %q", st.Name, s)
		}
		if again, _ := ParseStatistic(s); again != st {
			t.Fatalf("%q parsed to %+v then %+v", s, st, again)
		}
		if st.IsPercentile() && (st.Percentile < 0 || st.Percentile > 100 || math.IsNaN(st.Percentile)) {
			t.Fatalf("percentile %v", st.Percentile)
		}
		if st.IsPercentile() && st.Kind != "" {
			t.Fatalf("both a percentile and a %s", st.Kind)
		}
		lo, hi := st.Lower, st.Upper
		for _, b := range []Bound{lo, hi} {
			if b.Set && (math.IsNaN(b.Value) || math.IsInf(b.Value, 0) || b.Percent && (b.Value < 0 || b.Value > 100)) {
				t.Fatalf("bound %+v", b)
			}
		}
		if st.Kind != "" && (!lo.Set && !hi.Set || lo.Set && hi.Set && (lo.Percent != hi.Percent || lo.Value >= hi.Value)) {
			t.Fatalf("bounds %+v %+v", lo, hi)
		}
		if st.Kind == PercentileRank && (lo.Percent || hi.Percent) {
			t.Fatal("percentile rank with percentages")
		}
		var p Period
		p.SampleCount, p.Sum, p.Minimum, p.Maximum, p.Values = 3, 6, 1, 3, []float64{2, 1, 3}
		v, ok := p.Stat(st)
		byValue := st.Kind != "" && !lo.Percent && !hi.Percent
		if !ok {
			// Only a trimmed mean of value bounds can find nothing in range.
			if st.Kind != TrimmedMean || !byValue {
				t.Fatalf("Stat(%q) missing", s)
			}
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("Stat(%q) = %v", s, v)
		}
		switch st.Kind {
		case TrimmedCount:
			if v < 0 || v > 3 {
				t.Fatalf("%s = %v of 3 values", s, v)
			}
		case PercentileRank:
			if v < 0 || v > 100 {
				t.Fatalf("%s = %v%%", s, v)
			}
		case TrimmedMean:
			if v < 1 || v > 3 {
				t.Fatalf("%s = %v outside the values", s, v)
			}
		case WinsorizedMean:
			if !byValue && (v < 1 || v > 3) {
				t.Fatalf("%s = %v outside the values", s, v)
			}
		}
	})
}
