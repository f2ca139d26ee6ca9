package alarm

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

type evalCases struct {
	Cases []struct {
		N        int               `json:"evaluation_periods"`
		M        int               `json:"datapoints_to_alarm"`
		R        int               `json:"evaluation_range"`
		Points   string            `json:"datapoints"`
		ToFill   int               `json:"to_fill"`
		Expected map[string]string `json:"expected"`
	} `json:"cases"`
	Premature []struct {
		Points    string `json:"datapoints"`
		M         int    `json:"datapoints_to_alarm"`
		Treatment string `json:"treatment"`
		Expected  string `json:"expected"`
	} `json:"premature_examples"`
}

func loadEvalCases(t *testing.T) evalCases {
	t.Helper()
	b, err := os.ReadFile("testdata/alarm_eval_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var c evalCases
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// tableNow is an evaluation instant on a minute boundary.
var tableNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// tableAlarm returns a 5-minute alarm, threshold 5, GreaterThanThreshold.
func tableAlarm(t *testing.T, n, m, r int, treat string, state State) *Alarm {
	t.Helper()
	c := Config{
		Name: "table", Namespace: "Test", Metric: "M", Statistic: "Maximum",
		Period: 5 * time.Minute, EvaluationPeriods: n, DatapointsToAlarm: m, EvaluationRange: r,
		Threshold: 5, ComparisonOperator: GreaterThanThreshold, TreatMissingData: treat,
		ActionsEnabled: true, AlarmActions: []string{"alarm-topic"}, OKActions: []string{"ok-topic"},
		InsufficientDataActions: []string{"insufficient-topic"},
	}
	a, err := Restore(c, Snapshot{State: state, Reason: "restored", Updated: tableNow.Add(-time.Hour), ActionsEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// tableSeries puts the doc's datapoints (oldest to newest; 0 not
// breaching, X breaching, - missing) in the periods an alarm evaluated at
// tableNow sees.
func tableSeries(t *testing.T, points string, period time.Duration) *Series {
	t.Helper()
	s := NewSeries(0)
	f := strings.Fields(points)
	for i, p := range f {
		age := len(f) - 1 - i // 0 = newest period
		start := tableNow.Add(-time.Duration(age+1) * period)
		var v float64
		switch p {
		case "-":
			continue
		case "0":
			v = 0
		case "X":
			v = 10
		default:
			t.Fatalf("bad datapoint %q in %q", p, points)
		}
		if err := s.Add(Datapoint{Namespace: "Test", Metric: "M", Time: start.Add(30 * time.Second), Value: v, EventKey: p + "-" + start.Format("1504")}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestMissingDataTables(t *testing.T) {
	t.Parallel()
	cases := loadEvalCases(t)
	if len(cases.Cases) != 10 {
		t.Fatalf("want the 10 rows of AWS's two tables, got %d", len(cases.Cases))
	}
	for _, c := range cases.Cases {
		for _, treat := range []string{TreatMissing, TreatIgnore, TreatBreaching, TreatNotBreaching} {
			want := c.Expected[treat]
			for _, from := range []State{InsufficientData, OK, Alarming} {
				name := c.Points + "/M=" + string(rune('0'+c.M)) + "/" + treat + "/from " + string(from)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					a := tableAlarm(t, c.N, c.M, c.R, treat, from)
					s := tableSeries(t, c.Points, a.cfg.Period)
					tr, changed := a.Evaluate(tableNow, s)
					wantState := State(want)
					if want == "RETAIN" {
						wantState = from
					}
					if got := a.State(); got != wantState {
						t.Fatalf("state = %s, want %s (%s)", got, wantState, want)
					}
					if changed != (wantState != from) {
						t.Fatalf("changed = %v, from %s to %s", changed, from, wantState)
					}
					if changed && (tr.From != from || tr.To != wantState || len(tr.Actions) != 1) {
						t.Fatalf("transition = %+v", tr)
					}
				})
			}
		}
	}
}

// TestMissingDataTablesFill checks the doc's "# to fill" column: how many
// missing datapoints the treatment fills in (breaching / notBreaching).
func TestMissingDataTablesFill(t *testing.T) {
	t.Parallel()
	for _, c := range loadEvalCases(t).Cases {
		slots := slotsFromPoints(c.Points)
		d := decide(slots, c.N, c.M, TreatBreaching, OK)
		if d.fill != c.ToFill {
			t.Errorf("%s: fill = %d, want %d", c.Points, d.fill, c.ToFill)
		}
	}
}

// slotsFromPoints turns "0 - X - X" (oldest first) into slots, newest
// first.
func slotsFromPoints(points string) []slot {
	f := strings.Fields(points)
	out := make([]slot, len(f))
	for i, p := range f {
		out[len(f)-1-i] = slot{real: p != "-", breaching: p == "X"}
	}
	return out
}

func TestPrematureAlarm(t *testing.T) {
	t.Parallel()
	for _, c := range loadEvalCases(t).Premature {
		for _, from := range []State{InsufficientData, OK} {
			t.Run(c.Points+"/from "+string(from), func(t *testing.T) {
				t.Parallel()
				a := tableAlarm(t, 3, c.M, 5, c.Treatment, from)
				_, changed := a.Evaluate(tableNow, tableSeries(t, c.Points, a.cfg.Period))
				if a.State() == Alarming || changed {
					t.Fatalf("state = %s (changed %v), want no ALARM: %s", a.State(), changed, c.Expected)
				}
			})
		}
	}
	// The doc's counterpart: "- - X - -" goes to ALARM under missing.
	a := tableAlarm(t, 3, 3, 5, TreatMissing, OK)
	tr, changed := a.Evaluate(tableNow, tableSeries(t, "- - X - -", a.cfg.Period))
	if !changed || tr.To != Alarming {
		t.Fatalf("- - X - -: got %+v, %v; want ALARM", tr, changed)
	}
}

// TestDecideMoreRows checks cases beyond the tables: the evaluation range
// of other N, and old breaching datapoints.
func TestDecideMoreRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		points string
		n, m   int
		treat  string
		from   State
		want   State
	}{
		{"X - - - -", 3, 3, TreatMissing, OK, OK},         // too old for the premature rule: retain
		{"X - - - -", 3, 3, TreatBreaching, OK, Alarming}, // 1 real + 2 breaching
		{"- - X", 1, 1, TreatMissing, OK, Alarming},       // N=1, R=3
		{"- X -", 1, 1, TreatMissing, OK, Alarming},       // the newest real datapoint within the range
		{"- X -", 1, 1, TreatNotBreaching, OK, Alarming},  // a real datapoint beats filling
		{"- - -", 1, 1, TreatNotBreaching, Alarming, OK},
		{"- - -", 1, 1, TreatMissing, Alarming, InsufficientData},
		{"0 0 0 0 X X X X", 6, 4, TreatMissing, OK, Alarming},
		{"0 0 0 0 0 X X X", 6, 4, TreatMissing, Alarming, OK},
		{"- - - - X X X -", 6, 4, TreatMissing, OK, Alarming},   // premature rule: oldest breaching is 4 periods old, M = 4
		{"- - - - - X X -", 6, 4, TreatMissing, OK, OK},         // 3 periods old < M: retain
		{"- - - - X X X -", 6, 4, TreatIgnore, OK, OK},          // ignore retains
		{"- - - - - X X -", 6, 4, TreatBreaching, OK, Alarming}, // 2 real + 4 filled
	}
	for _, tt := range tests {
		d := decide(slotsFromPoints(tt.points), tt.n, tt.m, tt.treat, tt.from)
		got := d.state
		if got != tt.want {
			t.Errorf("%s N=%d M=%d %s from %s: got %s (retain %v), want %s", tt.points, tt.n, tt.m, tt.treat, tt.from, got, d.retain, tt.want)
		}
	}
}
