package alarm

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestReasonDocExamples reproduces the StateReason / StateReasonData
// examples of specs §3.5 (AWS's EventBridge sample and a real SNS
// message).
func TestReasonDocExamples(t *testing.T) {
	t.Parallel()
	cpu := Config{
		Name: "ServerCpuTooHigh", Namespace: "AWS/EC2", Metric: "CPUUtilization",
		Dimensions: map[string]string{"InstanceId": "i-12345678901234567"},
		Statistic:  "Average", Period: 300 * time.Second, EvaluationPeriods: 1, Threshold: 50,
		ComparisonOperator: GreaterThanThreshold, ActionsEnabled: true,
	}
	add := func(s *Series, at time.Time, v float64) {
		t.Helper()
		if err := s.Add(Datapoint{Namespace: "AWS/EC2", Metric: "CPUUtilization", Dimensions: cpu.Dimensions, Time: at, Value: v}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("ALARM -> OK", func(t *testing.T) {
		t.Parallel()
		a, _ := Restore(cpu, Snapshot{State: Alarming})
		s := NewSeries(0)
		add(s, time.Date(2019, 10, 1, 13, 47, 0, 0, time.UTC), 0.0666851903306472)
		// Evaluated at 13:56:40.985; the newest period (13:51-13:56) has
		// no data yet, so the datapoint of 13:46 is the most recent.
		tr, ok := a.Evaluate(time.Date(2019, 10, 1, 13, 56, 40, 985e6, time.UTC), s)
		if !ok {
			t.Fatal("no transition")
		}
		want := "Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition)."
		if tr.Reason != want {
			t.Errorf("reason\n got %s\nwant %s", tr.Reason, want)
		}
		wantData := `{"version":"1.0","queryDate":"2019-10-01T13:56:40.985+0000","startDate":"2019-10-01T13:46:00.000+0000","statistic":"Average","period":300,"recentDatapoints":[0.0666851903306472],"threshold":50.0`
		if !strings.HasPrefix(string(tr.ReasonData), wantData) || !json.Valid(tr.ReasonData) {
			t.Errorf("reason data\n got %s\nwant %s...", tr.ReasonData, wantData)
		}
	})

	t.Run("OK -> ALARM", func(t *testing.T) {
		t.Parallel()
		a, _ := Restore(cpu, Snapshot{State: OK})
		s := NewSeries(0)
		add(s, time.Date(2019, 10, 2, 16, 59, 0, 0, time.UTC), 99.50160229693434)
		tr, ok := a.Evaluate(time.Date(2019, 10, 2, 17, 4, 40, 989e6, time.UTC), s)
		want := "Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition)."
		if !ok || tr.Reason != want {
			t.Errorf("reason\n got %s\nwant %s", tr.Reason, want)
		}
	})

	t.Run("3 of 3 SNS", func(t *testing.T) {
		t.Parallel()
		a, _ := Restore(trafficConfig(), Snapshot{State: OK})
		tr, ok := a.Evaluate(trafficEval, trafficSeries(t))
		want := "Threshold Crossed: 3 out of the last 3 datapoints [1141.0 (09/10/20 21:24:00), 1226.0 (09/10/20 21:19:00), 1390.0 (09/10/20 21:14:00)] were greater than or equal to the threshold (30.0) (minimum 3 datapoints for OK -> ALARM transition)."
		if !ok || tr.Reason != want {
			t.Errorf("reason\n got %s\nwant %s", tr.Reason, want)
		}
	})
}

// trafficConfig is the alarm of the real SNS message of specs §3.6.
func trafficConfig() Config {
	return Config{
		Name: "Traffic", Description: "A high amount of traffic: did we just get slashdotted?",
		Namespace: "AWS/ApplicationELB", Metric: "RequestCount",
		Dimensions: map[string]string{"LoadBalancer": "app/GccExplorerApp/4a4513393260c7c5"},
		Statistic:  "Sum", Period: 300 * time.Second, EvaluationPeriods: 3, Threshold: 30,
		ComparisonOperator: GreaterThanOrEqualToThreshold, TreatMissingData: TreatMissing, ActionsEnabled: true,
	}
}

// trafficEval is when the alarm evaluated the periods starting 21:14,
// 21:19 and 21:24 (CloudWatch sent the message at 21:32:10.617, the
// load balancer's metrics arriving late).
var trafficEval = time.Date(2020, 10, 9, 21, 29, 10, 0, time.UTC)

func trafficSeries(t *testing.T) *Series {
	t.Helper()
	s := NewSeries(0)
	c := trafficConfig()
	for _, p := range []struct {
		min int
		v   float64
	}{{14, 1390}, {19, 1226}, {24, 1141}} {
		// several requests per period, summed
		for i := 0; i < 2; i++ {
			d := Datapoint{Namespace: c.Namespace, Metric: c.Metric, Dimensions: c.Dimensions,
				Time: time.Date(2020, 10, 9, 21, p.min, 10*i, 0, time.UTC), Value: p.v / 2}
			if err := s.Add(d); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

// TestReasonRealMOfN reproduces a real 3-of-5 recovery reason quoted from
// a CloudWatch alarm email: only the non-breaching datapoints are listed,
// and an ALARM -> OK transition needs N - M + 1 of them.
func TestReasonRealMOfN(t *testing.T) {
	t.Parallel()
	c := Config{Name: "Linear-255-1-EuroNews-ML-ActiveAlerts", Namespace: "N", Metric: "ActiveAlerts", Statistic: "Maximum",
		Period: time.Minute, EvaluationPeriods: 5, DatapointsToAlarm: 3, Threshold: 0, ComparisonOperator: GreaterThanThreshold}
	a, _ := Restore(c, Snapshot{State: Alarming})
	s := NewSeries(0)
	for min, v := range map[int]float64{41: 1, 42: 0, 43: 2, 44: 0, 45: 0} {
		_ = s.Add(Datapoint{Namespace: "N", Metric: "ActiveAlerts", Time: time.Date(2021, 12, 21, 6, min, 20, 0, time.UTC), Value: v})
	}
	tr, ok := a.Evaluate(time.Date(2021, 12, 21, 6, 46, 11, 0, time.UTC), s)
	want := "Threshold Crossed: 3 out of the last 5 datapoints [0.0 (21/12/21 06:45:00), 0.0 (21/12/21 06:44:00), 0.0 (21/12/21 06:42:00)] were not greater than the threshold (0.0) (minimum 3 datapoints for ALARM -> OK transition)."
	if !ok || tr.Reason != want {
		t.Errorf("reason\n got %s\nwant %s", tr.Reason, want)
	}
}

func TestReasonForms(t *testing.T) {
	t.Parallel()
	base := Config{Name: "r", Namespace: "N", Metric: "M", Statistic: "Maximum", Period: time.Minute,
		EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 5, ComparisonOperator: LessThanOrEqualToThreshold}
	tests := []struct {
		points string // oldest first; X = 1 (breaching: <= 5), 0 = 10
		treat  string
		from   State
		want   string
	}{
		{"- - - - -", TreatMissing, OK, "Insufficient Data: 3 datapoints were unknown."},
		{"- - - - -", TreatBreaching, OK, "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching]."},
		{"- - - - -", TreatNotBreaching, Alarming, "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [NonBreaching]."},
		{"0 X X - 0", TreatMissing, OK, "Threshold Crossed: 2 out of the last 3 datapoints [1.0 (01/05/24 11:57:00), 1.0 (01/05/24 11:56:00)] were less than or equal to the threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition)."},
		{"X 0 0 - X", TreatMissing, Alarming, "Threshold Crossed: 2 out of the last 3 datapoints [10.0 (01/05/24 11:57:00), 10.0 (01/05/24 11:56:00)] were not less than or equal to the threshold (5.0) (minimum 2 datapoints for ALARM -> OK transition)."},
		{"- - - - X", TreatBreaching, OK, "Threshold Crossed: 1 out of the last 3 datapoints [1.0 (01/05/24 11:59:00)] was less than or equal to the threshold (5.0) and 2 missing datapoints were treated as [Breaching] (minimum 2 datapoints for OK -> ALARM transition)."},
		{"- - - - 0", TreatBreaching, OK, "Threshold Crossed: 2 out of the last 3 datapoints were missing and treated as [Breaching] (minimum 2 datapoints for OK -> ALARM transition)."},
		{"- - - X X", TreatMissing, InsufficientData, "Threshold Crossed: 2 out of the last 2 datapoints [1.0 (01/05/24 11:59:00), 1.0 (01/05/24 11:58:00)] were less than or equal to the threshold (5.0) (minimum 2 datapoints for INSUFFICIENT_DATA -> ALARM transition)."},
	}
	for _, tt := range tests {
		c := base
		c.TreatMissingData = tt.treat
		a, err := Restore(c, Snapshot{State: tt.from})
		if err != nil {
			t.Fatal(err)
		}
		s := NewSeries(0)
		f := strings.Fields(tt.points)
		for i, p := range f {
			if p == "-" {
				continue
			}
			v := 10.0
			if p == "X" {
				v = 1
			}
			start := tableNow.Add(-time.Duration(len(f)-i) * time.Minute)
			if err := s.Add(Datapoint{Namespace: "N", Metric: "M", Time: start.Add(time.Second), Value: v}); err != nil {
				t.Fatal(err)
			}
		}
		tr, ok := a.Evaluate(tableNow, s)
		if !ok {
			t.Errorf("%s %s: no transition from %s", tt.points, tt.treat, tt.from)
			continue
		}
		if tr.Reason != tt.want {
			t.Errorf("%s %s:\n got %s\nwant %s", tt.points, tt.treat, tr.Reason, tt.want)
		}
		if !json.Valid(tr.ReasonData) {
			t.Errorf("%s: invalid reason data %s", tt.points, tr.ReasonData)
		}
	}
}

func TestJavaDouble(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{
		0: "0.0", 1: "1.0", 3: "3.0", 1141: "1141.0", 50: "50.0", -2.5: "-2.5",
		99.50160229693434: "99.50160229693434", 0.0666851903306472: "0.0666851903306472",
		1e7: "1.0E7", 12345678: "1.2345678E7", 0.001: "0.001", 0.0001: "1.0E-4", 1.5e-9: "1.5E-9",
		9999999: "9999999.0", -1e21: "-1.0E21",
	} {
		if got := JavaDouble(v); got != want {
			t.Errorf("JavaDouble(%v) = %s, want %s", v, got, want)
		}
	}
}
