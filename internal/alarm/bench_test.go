package alarm

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkAddEvaluate adds 10,000 datapoints (a busy sign-in metric over
// an hour, 5 dimension sets) and evaluates a 1-minute 3-of-5 alarm every
// minute, as the leader would.
func BenchmarkAddEvaluate(b *testing.B) {
	for _, stat := range []string{"Sum", "p99"} {
		b.Run(stat, func(b *testing.B) {
			c := Config{Name: "bench", Namespace: "CloudTrailMetrics", Metric: "ConsoleLogin",
				Dimensions: map[string]string{"user": "u0"}, Statistic: stat, Period: time.Minute,
				EvaluationPeriods: 5, DatapointsToAlarm: 3, Threshold: 20,
				ComparisonOperator: GreaterThanOrEqualToThreshold, TreatMissingData: TreatNotBreaching,
				ActionsEnabled: true, AlarmActions: []string{"topic"}}
			t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
			const n = 10000
			dps := make([]Datapoint, n)
			dims := make([]map[string]string, 5)
			for i := range dims {
				dims[i] = map[string]string{"user": fmt.Sprintf("u%d", i)}
			}
			for i := range dps {
				dps[i] = Datapoint{Namespace: c.Namespace, Metric: c.Metric, Dimensions: dims[i%5],
					Time: t0.Add(time.Duration(i) * 360 * time.Millisecond), Value: float64(i % 40), EventKey: fmt.Sprintf("e%d", i)}
			}
			b.ReportAllocs()
			b.ResetTimer()
			transitions := 0
			for b.Loop() {
				a, _ := New(c, t0)
				s := NewSeries(a.Range())
				next := t0.Add(time.Minute)
				for _, d := range dps {
					if d.Time.After(next) {
						if _, ok := a.Evaluate(next, s); ok {
							transitions++
						}
						next = next.Add(time.Minute)
					}
					_ = s.Add(d)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "datapoints/s")
			_ = transitions
		})
	}
}
