package alarm

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func pct(v float64) Bound { return Bound{Set: true, Value: v, Percent: true} }
func val(v float64) Bound { return Bound{Set: true, Value: v} }

func TestParseRangeStatistic(t *testing.T) {
	t.Parallel()
	good := []struct {
		s            string
		kind         RangeKind
		lower, upper Bound
	}{
		{"tm90", TrimmedMean, Bound{}, pct(90)},
		{"tm99.9", TrimmedMean, Bound{}, pct(99.9)},
		{"tm100", TrimmedMean, Bound{}, pct(100)},
		{"tm0.0000000001", TrimmedMean, Bound{}, pct(1e-10)},
		{"wm98", WinsorizedMean, Bound{}, pct(98)},
		{"tc90", TrimmedCount, Bound{}, pct(90)},
		{"ts90", TrimmedSum, Bound{}, pct(90)},
		{"IQM", TrimmedMean, pct(25), pct(75)},
		{"TM(10%:90%)", TrimmedMean, pct(10), pct(90)},
		{"TM(2%:98%)", TrimmedMean, pct(2), pct(98)},
		{"TM(:95%)", TrimmedMean, Bound{}, pct(95)},
		{"TM(5%:)", TrimmedMean, pct(5), Bound{}},
		{"TM(0%:100%)", TrimmedMean, pct(0), pct(100)},
		{"TM(150:1000)", TrimmedMean, val(150), val(1000)},
		{"TM(-2.5:0)", TrimmedMean, val(-2.5), val(0)},
		{"WM(10%:90%)", WinsorizedMean, pct(10), pct(90)},
		{"TC(0.005:0.030)", TrimmedCount, val(0.005), val(0.03)},
		{"TS(80%:)", TrimmedSum, pct(80), Bound{}},
		{"PR(:300)", PercentileRank, Bound{}, val(300)},
		{"PR(100:2000)", PercentileRank, val(100), val(2000)},
		{"PR(-0:)", PercentileRank, val(0), Bound{}},
	}
	for _, tt := range good {
		st, err := ParseStatistic(tt.s)
		if err != nil {
			t.Errorf("ParseStatistic(%q): %v", tt.s, err)
			continue
		}
		if st.Name != tt.s || st.Kind != tt.kind || st.Lower != tt.lower || st.Upper != tt.upper ||
			st.IsPercentile() || !st.IsExtended() || !st.NeedsValues() {
			t.Errorf("ParseStatistic(%q) = %+v", tt.s, st)
		}
	}
	for _, s := range []string{"Sum", "Average", "Minimum", "Maximum", "SampleCount"} {
		if st, _ := ParseStatistic(s); st.IsExtended() || st.NeedsValues() || st.Kind != "" {
			t.Errorf("%s is not extended: %+v", s, st)
		}
	}
	if st, _ := ParseStatistic("p90"); !st.IsExtended() || !st.NeedsValues() || st.Kind != "" {
		t.Errorf("p90: %+v", st)
	}
	bad := []struct{ s, want string }{
		{"tm", `trimmed mean "tm" at offset 2: missing digits`},
		{"tm0", `trimmed mean "tm0" at offset 2: the percentage must be greater than 0 and at most 100`},
		{"tm101", "greater than 0 and at most 100"},
		{"tm1000", "at offset 6: too many digits (at most 3)"},
		{"wm9x", `winsorized mean "wm9x" at offset 3: unexpected 'x'`},
		{"tc90.", `trimmed count "tc90." at offset 5: missing digits`},
		{"ts90.12345678901", `trimmed sum "ts90.12345678901" at offset 16: too many digits (at most 10)`},
		{"tm(10%:90%)", "offset 0: write the bounds form in upper case, TM(...)"},
		{"TM90", `trimmed mean "TM90" at offset 2: want '(' (write the one-number form in lower case, tm90)`},
		{"TM", "offset 2: want '('"},
		{"PR90", `percentile rank "PR90" at offset 2: want '('`},
		{"pr90", `percentile rank "pr90" at offset 0: write it PR(a:b)`},
		{"TM(10%:90%", "offset 10: want ')' at the end"},
		{"TM(10%)", "offset 6: want ':' between the lower and the upper bound"},
		{"TM(:)", "offset 3: want a lower bound, an upper bound or both"},
		{"TM(90%:10%)", "offset 7: the upper bound must be greater than the lower bound"},
		{"TM(50%:50%)", "offset 7: the upper bound must be greater than the lower bound"},
		{"TM(1000:150)", "offset 8: the upper bound must be greater"},
		{"TM(:0%)", "offset 4: the upper bound must be greater than 0%"},
		{"TM(100%:)", "offset 3: the lower bound must be less than 100%"},
		{"TM(10%:500)", "offset 7: both bounds must be percentages or both metric values"},
		{"TM(10%:101%)", "offset 7: a percentage must be between 0% and 100%"},
		{"TM(-1%:50%)", "offset 3: a percentage must be between 0% and 100%"},
		{"TM(a:5)", `offset 3: unexpected 'a', want a digit`},
		{"TM(1:5:7)", `offset 6: unexpected ':', want a digit`},
		{"TM( 1:5)", "offset 3: unexpected ' '"},
		{"TM(1.:5)", "offset 5: missing digits"},
		{"TM(-:5)", "offset 4: missing digits"},
		{"TM(1:5%%)", "offset 7: unexpected '%'"},
		{"TM(1:1e3)", "offset 6: unexpected 'e'"},
		{"TM(0.12345678901:1)", "offset 5: too many decimals (at most 10)"},
		{"TM(:" + strings.Repeat("9", 120) + ")", "offset 4: a value must be between -2^360 and 2^360"},
		{"PR(10%:90%)", `percentile rank "PR(10%:90%)" at offset 5: percentile rank bounds are metric values, not percentages`},
		{"Iqm", "offset 0"},
		{"TX(1:2)", "offset 0"},
	}
	for _, tt := range bad {
		_, err := ParseStatistic(tt.s)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseStatistic(%q) = %v, want %q", tt.s, err, tt.want)
		}
	}
}

// TestRangeStatistics checks every range statistic against values
// computed by hand. Values are shuffled: the statistics sort a copy.
func TestRangeStatistics(t *testing.T) {
	t.Parallel()
	oneToTen := []float64{7, 3, 10, 1, 9, 5, 2, 8, 6, 4}
	oneToFifteen := []float64{15, 1, 14, 2, 13, 3, 12, 4, 11, 5, 10, 6, 9, 7, 8}
	// The AWS examples: TM(150:1000) drops <= 150 and > 1000.
	aws := []float64{1001, 150, 500, 100, 1000, 151}
	const missing = math.MaxFloat64 // want ok == false
	tests := []struct {
		values []float64
		stat   string
		want   float64
	}{
		// 1..10: each point is 10% of the data.
		{oneToTen, "tm90", 5},           // 1..9
		{oneToTen, "tm100", 5.5},        // all
		{oneToTen, "TM(10%:90%)", 5.5},  // 2..9
		{oneToTen, "TM(:50%)", 3},       // 1..5
		{oneToTen, "TM(50%:)", 8},       // 6..10
		{oneToTen, "IQM", 5.5},          // 3/2 + 4..7 + 8/2 over 5 points
		{oneToTen, "tc90", 9},           // 1..9
		{oneToTen, "TC(10%:90%)", 8},    // 2..9
		{oneToTen, "ts90", 45},          // 1+...+9
		{oneToTen, "TS(80%:)", 19},      // 9+10
		{oneToTen, "wm90", 5.4},         // 10 counted as p90 = 9
		{oneToTen, "WM(10%:90%)", 5.5},  // 2,2,3..8,9,9
		{oneToTen, "WM(:100%)", 5.5},    // nothing replaced
		{oneToTen, "TM(2:8)", 5.5},      // 3..8
		{oneToTen, "TC(2:8)", 6},        // 2 excluded, 8 included
		{oneToTen, "TS(2:8)", 33},       // 3+...+8
		{oneToTen, "WM(2:8)", 5.3},      // 1,2 -> 2; 9,10 -> 8: (4+33+16)/10
		{oneToTen, "WM(:5)", 4},         // 6..10 -> 5: (15+25)/10
		{oneToTen, "TM(10:)", missing},  // nothing above 10
		{oneToTen, "TC(10:)", 0},        // 0, not missing
		{oneToTen, "TS(10:)", 0},        // 0, not missing
		{oneToTen, "WM(10:)", 10},       // everything counted as 10
		{oneToTen, "TM(:0.5)", missing}, // nothing at or below 0.5
		{oneToTen, "PR(:3)", 30},        // 1, 2, 3
		{oneToTen, "PR(2:8)", 60},       // 3..8
		{oneToTen, "PR(10:)", 0},        // > 10
		{oneToTen, "PR(0:)", 100},       // all
		// 15 points: 10% is 1.5 points; the 2nd and 14th count by half.
		{oneToFifteen, "TM(10%:90%)", 8},          // (2/2 + 3..13 + 14/2) / 12
		{oneToFifteen, "TC(10%:90%)", 12},         // 15 * 0.8
		{oneToFifteen, "TS(10%:90%)", 96},         // 1 + 88 + 7
		{oneToFifteen, "tc90", 13.5},              // 15 * 0.9: fractional
		{oneToFifteen, "ts90", 98},                // 1..13 + 14/2
		{oneToFifteen, "tm90", 98 / 13.5},         //
		{oneToFifteen, "wm90", 119.0 / 15},        // 1.5 points counted as p90 = 14
		{oneToFifteen, "WM(10%:90%)", 120.0 / 15}, // 1.5 points as 2, 1.5 as 14
		// AWS's examples, with values on the bounds.
		{aws, "TM(150:1000)", 1651.0 / 3}, // 151, 500, 1000
		{aws, "TC(150:1000)", 3},          //
		{aws, "TS(150:1000)", 1651},       //
		{aws, "WM(150:1000)", 2951.0 / 6}, // 100,150 -> 150; 1001 -> 1000
		{aws, "PR(:300)", 50},             // 100, 150, 151
		{aws, "PR(100:2000)", 500.0 / 6},  // 100 excluded
		{[]float64{0.005, 0.01, 0.03, 0.031}, "TC(0.005:0.030)", 2},
		// Ties at percentage bounds are split as their shares are.
		{[]float64{5, 5, 5, 5}, "IQM", 5},
		{[]float64{5, 5, 5, 5}, "TC(25%:75%)", 2},
		{[]float64{5, 5, 5, 5}, "WM(25%:75%)", 5},
		{[]float64{2, 1, 2, 3, 2}, "tm60", 5.0 / 3},  // 1, 2, 2
		{[]float64{2, 1, 2, 3, 2}, "tm50", 1.6},      // 1, 2, 2/2 over 2.5
		{[]float64{2, 1, 2, 3, 2}, "TM(20%:60%)", 2}, // 2, 2
		{[]float64{2, 1, 2, 3, 2}, "WM(20%:60%)", 2}, // 1 -> 2, 3 and a 2 -> 2
		{[]float64{2, 1, 2, 3, 2}, "TM(1:2)", 2},     // 1 excluded, the three 2s in
		{[]float64{2, 1, 2, 3, 2}, "TC(1:2)", 3},     //
		{[]float64{2, 1, 2, 3, 2}, "PR(:2)", 80},     //
		// One value: any percentage range keeps part of it.
		{[]float64{7}, "tm90", 7},
		{[]float64{7}, "tc90", 0.9},
		{[]float64{7}, "IQM", 7},
		{[]float64{7}, "WM(10%:90%)", 7},
		// Negative values and bounds.
		{[]float64{-5, -1, 0, 3}, "TM(-2:1)", -0.5},
		{[]float64{-5, -1, 0, 3}, "PR(-2:1)", 50},
		{[]float64{-5, -1, 0, 3}, "TM(:-1)", -3},
	}
	for _, tt := range tests {
		st, err := ParseStatistic(tt.stat)
		if err != nil {
			t.Fatal(err)
		}
		in := slices.Clone(tt.values)
		p := Period{SampleCount: len(in), Values: in}
		got, ok := p.Stat(st)
		switch {
		case tt.want == missing:
			if ok {
				t.Errorf("%s of %v = %v, want missing", tt.stat, tt.values, got)
			}
		case !ok || math.Abs(got-tt.want) > 1e-12*math.Max(1, math.Abs(tt.want)):
			t.Errorf("%s of %v = %v (ok %v), want %v", tt.stat, tt.values, got, ok, tt.want)
		}
		if !slices.Equal(in, tt.values) {
			t.Errorf("%s modified its input", tt.stat)
		}
	}
	// An empty period is missing for every statistic, counts included.
	for _, s := range []string{"tm90", "tc90", "ts90", "wm90", "IQM", "PR(:300)", "TC(1:2)"} {
		st, _ := ParseStatistic(s)
		var empty Period
		if v, ok := empty.Stat(st); ok {
			t.Errorf("%s of an empty period = %v, want missing", s, v)
		}
	}
}

// TestTrimmedIdentities: over random-looking data, TS = TM * TC, a
// percentage TC is n(b-a)/100, TM(0%:100%) and WM(0%:100%) are the
// average, and tmNN agrees with TM(:NN%).
func TestTrimmedIdentities(t *testing.T) {
	t.Parallel()
	var values []float64
	x := uint32(12345)
	for range 97 {
		x = x*1664525 + 1013904223
		values = append(values, float64(x%1000)/10) // ties likely
	}
	p := Period{SampleCount: len(values), Values: values}
	for _, sum := range values {
		p.Sum += sum
	}
	lo, hi := slices.Min(values), slices.Max(values)
	stat := func(s string) float64 {
		t.Helper()
		st, err := ParseStatistic(s)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := p.Stat(st)
		if !ok {
			t.Fatalf("%s missing", s)
		}
		return v
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	for _, r := range []string{"(3%:97%)", "(:12.5%)", "(33.3333333333%:)", "(25%:75%)", "(10:60)", "(:50)"} {
		tm, tc, ts := stat("TM"+r), stat("TC"+r), stat("TS"+r)
		if !near(ts, tm*tc) {
			t.Errorf("%s: TS %v != TM %v * TC %v", r, ts, tm, tc)
		}
		if wm := stat("WM" + r); strings.Contains(r, "%") && (wm < lo || wm > hi || tm < lo || tm > hi) {
			t.Errorf("%s: WM %v or TM %v outside [%v, %v]", r, wm, tm, lo, hi)
		}
	}
	if got, want := stat("TC(3%:97%)"), 97*0.94; !near(got, want) {
		t.Errorf("TC(3%%:97%%) = %v, want %v", got, want)
	}
	if got, want := stat("TM(0%:100%)"), p.Average(); !near(got, want) {
		t.Errorf("TM(0%%:100%%) = %v, want the average %v", got, want)
	}
	if got, want := stat("WM(0%:100%)"), p.Average(); !near(got, want) {
		t.Errorf("WM(0%%:100%%) = %v, want the average %v", got, want)
	}
	if stat("tm87.5") != stat("TM(:87.5%)") || stat("IQM") != stat("TM(25%:75%)") {
		t.Error("one-number forms differ from their bounds forms")
	}
	// Winsorizing at the percentiles: the top share counts as the
	// nearest-rank percentile, the value Percentile returns.
	if got, want := stat("wm80"), (stat("ts80")+(97-stat("tc80"))*Percentile(values, 80))/97; !near(got, want) {
		t.Errorf("wm80 = %v, want %v", got, want)
	}
}

// TestRangeStatisticAlarms evaluates alarms on tm90 and PR(:300) end to
// end: series, evaluation, reason, events and SNS message.
func TestRangeStatisticAlarms(t *testing.T) {
	t.Parallel()
	minute := tableNow.Add(-time.Minute)
	t.Run("tm90", func(t *testing.T) {
		t.Parallel()
		// tm90 ignores the slowest 10%: nine calls at 100 ms and one at
		// 10 s are fine (the average, 1090, would breach).
		c := Config{Name: "latency", Namespace: "N", Metric: "Latency", Statistic: "tm90", Period: time.Minute,
			EvaluationPeriods: 1, Threshold: 500, ComparisonOperator: GreaterThanThreshold, ActionsEnabled: true,
			EvaluateLowSampleCountPercentile: "ignore", AlarmActions: []string{"arn:aws:sns:us-east-1:123456789012:t"}}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		a, err := New(c, tableNow)
		if err != nil {
			t.Fatal(err)
		}
		s := NewSeries(0)
		add := func(at time.Time, key string, v float64) {
			if err := s.Add(Datapoint{Namespace: "N", Metric: "Latency", Time: at, Value: v, EventKey: key}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 9 {
			add(minute.Add(time.Duration(i)*time.Second), "fast", 100)
		}
		add(minute.Add(30*time.Second), "slow", 10000)
		// Ten samples are "too few" for a p90 (100 needed); ignore does
		// not apply to tm90, so the alarm is evaluated.
		tr, ok := a.Evaluate(tableNow, s)
		if !ok || tr.To != OK || !strings.Contains(tr.Reason, "[100.0 (01/05/24 11:59:00)]") {
			t.Fatalf("first evaluation: %v %+v", ok, tr)
		}
		// The next minute, the bulk is slow.
		for i := range 10 {
			add(tableNow.Add(time.Duration(i)*time.Second), "e"+string(rune('0'+i)), 600+float64(i))
		}
		tr, ok = a.Evaluate(tableNow.Add(time.Minute), s)
		// tm90 of 600..609 is 604 (609 dropped).
		if !ok || tr.To != Alarming || !strings.Contains(tr.Reason, "[604.0 (01/05/24 12:00:00)]") {
			t.Fatalf("second evaluation: %v %+v", ok, tr)
		}
		if !strings.Contains(string(tr.ReasonData), `"extendedStatistic":"tm90"`) || strings.Contains(string(tr.ReasonData), `"statistic"`) {
			t.Errorf("reason data %s", tr.ReasonData)
		}
		// The events whose own value breaches.
		if len(tr.Events) != 10 || tr.Events[0] != "e0" {
			t.Errorf("events %v", tr.Events)
		}
		var msg struct {
			Trigger map[string]any
		}
		if err := json.Unmarshal(Notification(c, tr, "us-east-1", "123456789012"), &msg); err != nil {
			t.Fatal(err)
		}
		if msg.Trigger["StatisticType"] != "ExtendedStatistic" || msg.Trigger["ExtendedStatistic"] != "tm90" ||
			msg.Trigger["Statistic"] != nil || msg.Trigger["EvaluateLowSampleCountPercentile"] != "ignore" {
			t.Errorf("trigger %v", msg.Trigger)
		}
	})
	t.Run("PR(:300)", func(t *testing.T) {
		t.Parallel()
		// Fewer than 90% of the requests within 300 ms.
		c := Config{Name: "slo", Namespace: "N", Metric: "Latency", Statistic: "PR(:300)", Period: time.Minute,
			EvaluationPeriods: 1, Threshold: 90, ComparisonOperator: LessThanThreshold, ActionsEnabled: true}
		a, err := New(c, tableNow)
		if err != nil {
			t.Fatal(err)
		}
		s := NewSeries(0)
		for i, v := range []float64{100, 300, 250, 400} { // 300 is within: 75%
			_ = s.Add(Datapoint{Namespace: "N", Metric: "Latency", Time: minute.Add(time.Duration(i) * time.Second), Value: v,
				EventKey: "k" + string(rune('a'+i))})
		}
		tr, ok := a.Evaluate(tableNow, s)
		if !ok || tr.To != Alarming || !strings.Contains(tr.Reason, "[75.0 (01/05/24 11:59:00)] was less than the threshold (90.0)") {
			t.Fatalf("got %v %+v", ok, tr)
		}
		// A rate counts every request: all four events are behind it.
		if !slices.Equal(tr.Events, []string{"ka", "kb", "kc", "kd"}) {
			t.Errorf("events %v", tr.Events)
		}
		if !strings.Contains(string(tr.ReasonData), `"extendedStatistic":"PR(:300)"`) {
			t.Errorf("reason data %s", tr.ReasonData)
		}
		var msg struct{ Trigger map[string]any }
		if err := json.Unmarshal(Notification(c, tr, "us-east-1", "123456789012"), &msg); err != nil {
			t.Fatal(err)
		}
		if msg.Trigger["StatisticType"] != "ExtendedStatistic" || msg.Trigger["ExtendedStatistic"] != "PR(:300)" {
			t.Errorf("trigger %v", msg.Trigger)
		}
		// The next minute all requests are fast: 100% is not < 90.
		for i := range 5 {
			_ = s.Add(Datapoint{Namespace: "N", Metric: "Latency", Time: tableNow.Add(time.Duration(i) * time.Second), Value: 120})
		}
		if tr, ok := a.Evaluate(tableNow.Add(time.Minute), s); !ok || tr.To != OK || !strings.Contains(tr.Reason, "[100.0 (01/05/24 12:00:00)]") {
			t.Fatalf("recovery: %v %+v", ok, tr)
		}
	})
}
