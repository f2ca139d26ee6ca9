package config

import (
	"errors"
	"fmt"

	"github.com/trailwatch/trailwatch/rules"
)

// BuiltinMetrics returns the built-in metric filters and alarms: the CIS
// AWS Foundations monitoring controls (Security Hub CloudWatch.1-14 and
// CIS 1.4 4.15) of rules/metrics/cis.yaml, validated, with no alarm
// actions. A configuration adds them with builtin_metrics: true and gives
// their actions with builtin_metrics_actions.
func BuiltinMetrics() ([]*MetricFilter, []*Alarm, error) {
	fs, as, err := builtinMetricItems(nil)
	if err != nil {
		return nil, nil, err
	}
	l := &errList{}
	cfg := &Config{}
	checkMetrics(l, cfg, fs, as, nil, nil, nil)
	if err := l.err(); err != nil {
		return nil, nil, fmt.Errorf("builtin metrics: %w", err)
	}
	return cfg.MetricFilters, cfg.Alarms, nil
}

// builtinMetricItems decodes the built-in metrics, each alarm with the
// given actions (receiver names or topic ARNs) as its AlarmActions.
func builtinMetricItems(actions []string) ([]filterItem, []alarmItem, error) {
	l := &errList{}
	fc, positions := decodeNative(l, rules.CISMetricsFile, rules.CISMetrics(), nil)
	if err := l.err(); err != nil {
		return nil, nil, fmt.Errorf("builtin metrics: %w", err)
	}
	if fc.BuiltinRules != nil || fc.BuiltinMetrics != nil || len(fc.Rules)+len(fc.Receivers)+len(fc.Routes)+len(fc.Schedules)+len(fc.BuiltinMetricsActions) > 0 {
		return nil, nil, errors.New("builtin metrics: want only metric_filters and alarms")
	}
	fs, as, _ := nativeMetrics(fc, rules.CISMetricsFile, positions, nil, nil, nil)
	for _, it := range as {
		it.a.AlarmActions = append([]string(nil), actions...)
	}
	return fs, as, nil
}
