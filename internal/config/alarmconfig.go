package config

import (
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// AlarmConfig returns the alarm as internal/alarm runs it: PutMetricAlarm's
// fields, with ActionsEnabled true unless set false, as CloudWatch
// defaults it. Actions are copied as written (topic ARNs or receiver
// names; Config.ActionReceivers resolves them).
func (a *Alarm) AlarmConfig() alarm.Config {
	c := alarm.Config{
		Name:                             a.Name,
		Description:                      a.Description,
		Namespace:                        a.Namespace,
		Metric:                           a.MetricName,
		Statistic:                        a.Statistic,
		Unit:                             a.Unit,
		Period:                           time.Duration(a.Period),
		EvaluationPeriods:                a.EvaluationPeriods,
		DatapointsToAlarm:                a.DatapointsToAlarm,
		Threshold:                        a.Threshold,
		ComparisonOperator:               a.ComparisonOperator,
		TreatMissingData:                 a.TreatMissingData,
		EvaluateLowSampleCountPercentile: a.EvaluateLowSampleCountPercentile,
		ActionsEnabled:                   a.ActionsEnabled == nil || *a.ActionsEnabled,
		AlarmActions:                     append([]string(nil), a.AlarmActions...),
		OKActions:                        append([]string(nil), a.OKActions...),
		InsufficientDataActions:          append([]string(nil), a.InsufficientDataActions...),
	}
	if a.Dimensions != nil {
		c.Dimensions = make(map[string]string, len(a.Dimensions))
		for k, v := range a.Dimensions {
			c.Dimensions[k] = v
		}
	}
	return c
}

// ActionReceivers returns the receivers an alarm action names: the
// receiver of that name, or the receivers of the SNS topic with that ARN
// (Topics); nil when neither exists.
func (c *Config) ActionReceivers(action string) []string {
	for _, r := range c.Receivers {
		if r.Name == action {
			return []string{action}
		}
	}
	if names, ok := c.Topics[action]; ok {
		return append([]string(nil), names...)
	}
	return nil
}
