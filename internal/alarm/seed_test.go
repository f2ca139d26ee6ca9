package alarm

import (
	"reflect"
	"testing"
	"time"
)

const topic = "arn:aws:sns:ap-northeast-1:123456789012:console-login-alarm"

// seed002 is the ConsoleLoginAlarm of seed002-console-login-alarm.yaml.
func seed002() Config {
	return Config{
		Name: "ConsoleLogin", Description: "Someone signed in to the AWS Management Console",
		Namespace: "CloudTrailMerics", Metric: "ConsoleLogin", Statistic: "Sum",
		Period: 10 * time.Second, EvaluationPeriods: 1, Threshold: 1,
		ComparisonOperator: GreaterThanOrEqualToThreshold, TreatMissingData: TreatNotBreaching,
		ActionsEnabled: true, AlarmActions: []string{topic},
	}
}

// seed004 is the IAMPolicyChangesAlarm of seed004-iam-policy-alarm.yaml.
func seed004() Config {
	return Config{
		Name: "IAMPolicyChanges", Namespace: "CloudTrailMetrics", Metric: "IAMPolicyEventCount",
		Statistic: "Maximum", Period: 300 * time.Second, EvaluationPeriods: 1, Threshold: 0,
		ComparisonOperator: GreaterThanThreshold, TreatMissingData: TreatNotBreaching,
		ActionsEnabled: true, AlarmActions: []string{topic},
	}
}

type step struct {
	at          time.Time
	add         []Datapoint
	enable      *bool // SetActionsEnabled before evaluating
	wantState   State
	wantChange  bool
	wantActions []string
	wantEvents  []string
	wantReason  string
}

func runSteps(t *testing.T, a *Alarm, s *Series, steps []step) {
	t.Helper()
	for i, st := range steps {
		for _, d := range st.add {
			if err := s.Add(d); err != nil {
				t.Fatalf("step %d: add: %v", i, err)
			}
		}
		if st.enable != nil {
			a.SetActionsEnabled(*st.enable)
		}
		tr, changed := a.Evaluate(st.at, s)
		if changed != st.wantChange || a.State() != st.wantState {
			t.Fatalf("step %d (%s): state %s changed %v, want %s changed %v (reason %q)", i, st.at.Format(time.TimeOnly), a.State(), changed, st.wantState, st.wantChange, a.Reason())
		}
		if !changed {
			continue
		}
		if !reflect.DeepEqual(tr.Actions, st.wantActions) && (len(tr.Actions) != 0 || len(st.wantActions) != 0) {
			t.Errorf("step %d: actions %q, want %q", i, tr.Actions, st.wantActions)
		}
		if !reflect.DeepEqual(tr.Events, st.wantEvents) && (len(tr.Events) != 0 || len(st.wantEvents) != 0) {
			t.Errorf("step %d: events %q, want %q", i, tr.Events, st.wantEvents)
		}
		if st.wantReason != "" && tr.Reason != st.wantReason {
			t.Errorf("step %d: reason\n got %s\nwant %s", i, tr.Reason, st.wantReason)
		}
		if !tr.Time.Equal(st.at) || tr.Alarm != a.Name() {
			t.Errorf("step %d: transition %+v", i, tr)
		}
	}
}

func login(at time.Time, id string) Datapoint {
	return Datapoint{Namespace: "CloudTrailMerics", Metric: "ConsoleLogin", Time: at, Value: 1, EventKey: id}
}

func TestSeed002ConsoleLogin(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC) // 18:00 in Tokyo
	a, err := New(seed002(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if a.State() != InsufficientData || a.Reason() != InitialReason {
		t.Fatalf("new alarm: %s %q", a.State(), a.Reason())
	}
	off, on := false, true
	s := NewSeries(a.Range())
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	runSteps(t, a, s, []step{
		{at: at(10), wantState: OK, wantChange: true,
			wantReason: "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."},
		{at: at(13), wantState: OK},
		{at: at(20), add: []Datapoint{login(at(13), "evt-1")}, wantState: Alarming, wantChange: true,
			wantActions: []string{topic}, wantEvents: []string{"evt-1"},
			wantReason: "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (01/05/24 09:00:10)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."},
		{at: at(25), wantState: Alarming}, // same period: no new transition
		// The evaluation range is 3 periods (N + 2): while the breaching
		// datapoint is in it, it is the most recent real datapoint, and
		// missing data is not filled in (AWS's rule 2). AWS's alarms on
		// sparse metrics stay in ALARM so.
		{at: at(30), wantState: Alarming},
		{at: at(40), wantState: Alarming},
		{at: at(50), wantState: OK, wantChange: true,
			wantReason: "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."},
		// Two sign-ins in one period: Sum 2, both events carried.
		{at: at(70), add: []Datapoint{login(at(61), "evt-2"), login(at(68), "evt-3")}, wantState: Alarming, wantChange: true,
			wantActions: []string{topic}, wantEvents: []string{"evt-2", "evt-3"},
			wantReason: "Threshold Crossed: 1 out of the last 1 datapoints [2.0 (01/05/24 09:01:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."},
		{at: at(100), wantState: OK, wantChange: true},
		// Business hours: the schedule disables actions; the alarm still
		// changes state, silently.
		{at: at(120), enable: &off, add: []Datapoint{login(at(115), "evt-4")}, wantState: Alarming, wantChange: true, wantEvents: []string{"evt-4"}},
		// Re-enabled while in ALARM and the sign-ins go on: no re-fire.
		{at: at(130), enable: &on, add: []Datapoint{login(at(125), "evt-5")}, wantState: Alarming},
		{at: at(160), wantState: OK, wantChange: true},
		{at: at(180), add: []Datapoint{login(at(171), "evt-6")}, wantState: Alarming, wantChange: true,
			wantActions: []string{topic}, wantEvents: []string{"evt-6"}},
	})
}

func TestSeed004IAMPolicyChanges(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	a, err := New(seed004(), t0)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSeries(a.Range())
	at := func(min, sec int) time.Time {
		return t0.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
	}
	// The metric filter has DefaultValue 0: every ingested record that
	// does not match yields 0, a DeletePolicy yields 1.
	dp := func(at time.Time, v float64, id string) Datapoint {
		return Datapoint{Namespace: "CloudTrailMetrics", Metric: "IAMPolicyEventCount", Time: at, Value: v, EventKey: id}
	}
	runSteps(t, a, s, []step{
		{at: at(1, 0), add: []Datapoint{dp(at(0, 40), 0, "other-1")}, wantState: OK, wantChange: true,
			wantReason: "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (01/05/24 11:56:00)] was not greater than the threshold (0.0) (minimum 1 datapoint for INSUFFICIENT_DATA -> OK transition)."},
		{at: at(2, 0), wantState: OK},
		{at: at(3, 0), add: []Datapoint{dp(at(2, 15), 1, "delete-policy"), dp(at(2, 20), 0, "other-2")}, wantState: Alarming, wantChange: true,
			wantActions: []string{topic}, wantEvents: []string{"delete-policy"},
			wantReason: "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (01/05/24 11:58:00)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)."},
		// The 5-minute window slides by a minute per evaluation: the
		// change stays in it until 12:07:00.
		{at: at(4, 0), wantState: Alarming},
		{at: at(7, 0), wantState: Alarming},
		{at: at(8, 0), add: []Datapoint{dp(at(7, 30), 0, "other-3")}, wantState: OK, wantChange: true,
			wantReason: "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (01/05/24 12:03:00)] was not greater than the threshold (0.0) (minimum 1 datapoint for ALARM -> OK transition)."},
		{at: at(30, 0), wantState: OK}, // no records at all: notBreaching keeps OK
		{at: at(31, 0), add: []Datapoint{dp(at(30, 5), 1, "put-role-policy")}, wantState: Alarming, wantChange: true,
			wantActions: []string{topic}, wantEvents: []string{"put-role-policy"}},
		// Sparse data: the change stays the most recent real datapoint while
		// it is in the 15-minute evaluation range (3 periods).
		{at: at(36, 0), wantState: Alarming},
		{at: at(45, 0), wantState: Alarming},
		{at: at(46, 0), wantState: OK, wantChange: true,
			wantReason: "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."},
	})
}
