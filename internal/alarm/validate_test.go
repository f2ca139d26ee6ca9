package alarm

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := (&Config{Name: "ok"}).Validate(); err == nil {
		t.Fatal("an empty config must not validate")
	}
	for _, c := range []Config{seed002(), seed004(), trafficConfig()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		field  string
		want   string // substring of the message
	}{
		{"no name", func(c *Config) { c.Name = "" }, "AlarmName", "Member must have length greater than or equal to 1"},
		{"long name", func(c *Config) { c.Name = strings.Repeat("a", 256) }, "AlarmName", "less than or equal to 255"},
		{"control char", func(c *Config) { c.Name = "a\tb" }, "AlarmName", "can't contain ASCII control characters"},
		{"bad utf-8", func(c *Config) { c.Name = "a\xffb" }, "AlarmName", "only UTF-8"},
		{"long description", func(c *Config) { c.Description = strings.Repeat("d", 1025) }, "AlarmDescription", "less than or equal to 1024"},
		{"no namespace", func(c *Config) { c.Namespace = "" }, "Namespace", "greater than or equal to 1"},
		{"colon namespace", func(c *Config) { c.Namespace = ":x" }, "Namespace", "[^:].*"},
		{"no metric", func(c *Config) { c.Metric = "" }, "MetricName", "greater than or equal to 1"},
		{"empty dimension value", func(c *Config) { c.Dimensions = map[string]string{"a": ""} }, "Dimensions", "value of length between 1 and 1024"},
		{"no statistic", func(c *Config) { c.Statistic = "" }, "Statistic", "Statistic or ExtendedStatistic must be specified"},
		{"bad statistic", func(c *Config) { c.Statistic = "sum" }, "Statistic", `statistic "sum" at offset 0`},
		{"p101", func(c *Config) { c.Statistic = "p101" }, "Statistic", "between p0 and p100"},
		{"trimmed mean bounds reversed", func(c *Config) { c.Statistic = "TM(90%:10%)" }, "Statistic", `trimmed mean "TM(90%:10%)" at offset 7: the upper bound must be greater than the lower bound`},
		{"bad unit", func(c *Config) { c.Unit = "Parsecs" }, "Unit", "enum value set"},
		{"period 0", func(c *Config) { c.Period = 0 }, "Period", "greater than or equal to 1"},
		{"period 45", func(c *Config) { c.Period = 45 * time.Second }, "Period", "must be 10, 20, 30, or a multiple of 60, got 45"},
		{"period 90", func(c *Config) { c.Period = 90 * time.Second }, "Period", "multiple of 60"},
		{"period 1.5s", func(c *Config) { c.Period = 1500 * time.Millisecond }, "Period", "whole number of seconds"},
		{"N 0", func(c *Config) { c.EvaluationPeriods = 0 }, "EvaluationPeriods", "greater than or equal to 1"},
		{"M > N", func(c *Config) { c.DatapointsToAlarm = 2 }, "DatapointsToAlarm", "DatapointsToAlarm must be less than or equal to EvaluationPeriods"},
		{"M < 0", func(c *Config) { c.DatapointsToAlarm = -1 }, "DatapointsToAlarm", "greater than or equal to 1"},
		{"more than a day", func(c *Config) { c.Period = time.Minute; c.EvaluationPeriods = 1441 }, "EvaluationPeriods", "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)"},
		{"more than 7 days", func(c *Config) { c.Period = time.Hour; c.EvaluationPeriods = 169 }, "EvaluationPeriods", "more than 7 days"},
		{"range < N", func(c *Config) { c.EvaluationPeriods = 3; c.EvaluationRange = 2 }, "EvaluationRange", "at least EvaluationPeriods"},
		{"max events", func(c *Config) { c.MaxEvents = -1 }, "MaxEvents", "negative"},
		{"NaN threshold", func(c *Config) { c.Threshold = nan() }, "Threshold", "finite"},
		{"bad operator", func(c *Config) { c.ComparisonOperator = "GreaterThan" }, "ComparisonOperator", "value 'GreaterThan' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold]"},
		{"anomaly operator", func(c *Config) { c.ComparisonOperator = "GreaterThanUpperThreshold" }, "ComparisonOperator", "anomaly detection"},
		{"bad treatment", func(c *Config) { c.TreatMissingData = "NotBreaching" }, "TreatMissingData", "[breaching, notBreaching, ignore, missing]"},
		{"bad low sample", func(c *Config) { c.EvaluateLowSampleCountPercentile = "skip" }, "EvaluateLowSampleCountPercentile", "enum value set"},
		{"6 actions", func(c *Config) { c.AlarmActions = []string{"a", "b", "c", "d", "e", "f"} }, "AlarmActions", "less than or equal to 5"},
		{"empty action", func(c *Config) { c.OKActions = []string{""} }, "OKActions", "OKActions[0]"},
	}
	for _, tt := range tests {
		c := seed002()
		tt.mutate(&c)
		err := c.Validate()
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: got %v, want a *ValidationError", tt.name, err)
			continue
		}
		if ve.Field != tt.field || !strings.Contains(ve.Message, tt.want) {
			t.Errorf("%s: got field %s message %q, want %s %q", tt.name, ve.Field, ve.Message, tt.field, tt.want)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "alarm ") || strings.HasSuffix(msg, ".") {
			t.Errorf("%s: error %q should start lower-case and have no trailing period", tt.name, msg)
		}
		if _, err := New(c, tableNow); err == nil {
			t.Errorf("%s: New accepted an invalid config", tt.name)
		}
	}
	// All problems at once.
	c := Config{Name: "many", Period: 45 * time.Second}
	if n := len(err2list(c.Validate())); n < 5 {
		t.Errorf("want every problem reported, got %d: %v", n, c.Validate())
	}
	// Valid edge values.
	for _, mut := range []func(*Config){
		func(c *Config) { c.Period = 20 * time.Second },
		func(c *Config) { c.Period = 30 * time.Second; c.EvaluationPeriods = 2880 },
		func(c *Config) { c.Period = time.Hour; c.EvaluationPeriods = 168 },
		func(c *Config) { c.Statistic = "p99.99" },
		func(c *Config) { c.Statistic = "p0" },
		func(c *Config) { c.Statistic = "tm90" },
		func(c *Config) { c.Statistic = "IQM" },
		func(c *Config) { c.Statistic = "PR(:300)" },
		func(c *Config) { c.Statistic = "WM(10%:90%)" },
		func(c *Config) { c.Statistic = "TS(150:1000)"; c.EvaluateLowSampleCountPercentile = "ignore" },
		func(c *Config) { c.TreatMissingData = TreatIgnore; c.Unit = "Count/Second" },
		func(c *Config) { c.Dimensions = map[string]string{"InstanceId": "i-1"} },
	} {
		c := seed002()
		mut(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func err2list(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return nil
}

func nan() float64 { var z float64; return z / z }

func TestParseStatistic(t *testing.T) {
	t.Parallel()
	good := map[string]float64{"Sum": -1, "Average": -1, "Minimum": -1, "Maximum": -1, "SampleCount": -1,
		"p0": 0, "p50": 50, "p90": 90, "p99": 99, "p99.9": 99.9, "p99.99": 99.99, "p100": 100, "p0.5": 0.5}
	for s, p := range good {
		st, err := ParseStatistic(s)
		if err != nil || st.Percentile != p || st.Name != s {
			t.Errorf("ParseStatistic(%q) = %+v, %v", s, st, err)
		}
	}
	bad := map[string]string{
		"":           "missing statistic",
		"average":    "offset 0",
		"P99":        "offset 0",
		"p":          "missing digits",
		"p9x":        "offset 2: unexpected 'x'",
		"p99.":       "missing digits",
		"p99.9.9":    "offset 5: unexpected '.'",
		"p1000":      "too many digits",
		"p100.5":     "between p0 and p100",
		"p-1":        "offset 1",
		"p 9":        "offset 1",
		"iqm":        "offset 0",
		"TM(10%:90)": "offset 7: both bounds must be percentages or both metric values",
	}
	for s, want := range bad {
		_, err := ParseStatistic(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseStatistic(%q) = %v, want %q", s, err, want)
		}
	}
}
