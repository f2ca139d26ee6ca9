package rules

import (
	_ "embed"
	"slices"
)

//go:embed metrics/cis.yaml
var cisMetrics []byte

// CISMetricsFile is the name CISMetrics' text is read under, for errors.
const CISMetricsFile = "rules/metrics/cis.yaml"

// CISMetrics returns the CIS AWS Foundations monitoring controls (Security
// Hub CloudWatch.1-14 and CIS 1.4 4.15) as native Trailwatch YAML: metric
// filters with their published patterns verbatim, and alarms with the CIS
// remediation settings. internal/config reads it (builtin_metrics: true).
// The caller owns the returned slice.
func CISMetrics() []byte { return slices.Clone(cisMetrics) }
