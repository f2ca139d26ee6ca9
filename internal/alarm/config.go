package alarm

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Treatments of missing data (TreatMissingData).
const (
	TreatMissing      = "missing"
	TreatNotBreaching = "notBreaching"
	TreatBreaching    = "breaching"
	TreatIgnore       = "ignore"
)

// Static-threshold comparison operators.
const (
	GreaterThanOrEqualToThreshold = "GreaterThanOrEqualToThreshold"
	GreaterThanThreshold          = "GreaterThanThreshold"
	LessThanThreshold             = "LessThanThreshold"
	LessThanOrEqualToThreshold    = "LessThanOrEqualToThreshold"
)

// DefaultMaxEvents is how many event keys a Transition carries at most
// when Config.MaxEvents is zero.
const DefaultMaxEvents = 100

// Config is PutMetricAlarm's single-metric, static-threshold surface, plus
// a few Trailwatch settings (EvaluationRange, MaxEvents).
//
// Zero values mean CloudWatch's defaults, except ActionsEnabled: CloudWatch
// defaults it to true, and a configuration loader must set it so.
type Config struct {
	Name, Description string
	Namespace, Metric string
	// Dimensions must equal a datapoint's dimensions exactly.
	Dimensions map[string]string
	// Statistic is Sum, Average, Minimum, Maximum, SampleCount or an
	// ExtendedStatistic: a percentile pNN (p90, p99.9), tmNN, wmNN, tcNN,
	// tsNN, IQM, TM(a:b), WM(a:b), TC(a:b), TS(a:b) or PR(a:b) (see
	// ParseStatistic).
	Statistic string
	// Unit, when set, restricts the alarm to datapoints of that unit.
	Unit string
	// Period is 10, 20 or 30 seconds, or a multiple of 60 seconds.
	Period time.Duration
	// EvaluationPeriods is N; DatapointsToAlarm is M (default N).
	EvaluationPeriods, DatapointsToAlarm int
	Threshold                            float64
	ComparisonOperator                   string
	// TreatMissingData is missing (default), notBreaching, breaching or
	// ignore.
	TreatMissingData string
	// EvaluateLowSampleCountPercentile is evaluate (default) or ignore;
	// it applies to percentiles pNN only, not to the other extended
	// statistics.
	EvaluateLowSampleCountPercentile string
	ActionsEnabled                   bool
	AlarmActions, OKActions          []string
	InsufficientDataActions          []string

	// EvaluationRange is the number of periods retrieved at each
	// evaluation (R >= N); zero means N + max(N/3, 2).
	EvaluationRange int
	// MaxEvents caps Transition.Events; zero means DefaultMaxEvents.
	MaxEvents int
}

// ValidationError is one rule of PutMetricAlarm that a Config breaks.
// Message keeps CloudWatch's wording where CloudWatch's is known.
type ValidationError struct {
	Alarm   string // the alarm's name
	Field   string // the PutMetricAlarm parameter, e.g. "Period"
	Message string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("alarm %q: %s", e.Alarm, e.Message)
}

var comparisonOperators = []string{
	GreaterThanOrEqualToThreshold, GreaterThanThreshold,
	LessThanThreshold, LessThanOrEqualToThreshold,
}

var anomalyOperators = []string{
	"LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold",
}

var treatments = []string{TreatBreaching, TreatNotBreaching, TreatIgnore, TreatMissing}

// standardUnits is CloudWatch's StandardUnit enumeration.
var standardUnits = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
	"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
	"Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
	"Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
	"Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Validate checks c against CloudWatch's rules for PutMetricAlarm and
// reports every broken rule at once (errors.Join of *ValidationError).
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ValidationError{Alarm: c.Name, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	enum := func(field, value string, set []string) {
		bad(field, "value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
			value, lowerFirst(field), strings.Join(set, ", "))
	}
	length := func(field, value string, min, max int) {
		n := utf8.RuneCountInString(value)
		if n < min {
			bad(field, "value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", value, lowerFirst(field), min)
		} else if n > max {
			bad(field, "value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", lowerFirst(field), max)
		}
	}

	length("AlarmName", c.Name, 1, 255)
	if !utf8.ValidString(c.Name) || strings.IndexFunc(c.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		bad("AlarmName", "AlarmName must contain only UTF-8 characters, and can't contain ASCII control characters")
	}
	length("AlarmDescription", c.Description, 0, 1024)
	length("Namespace", c.Namespace, 1, 255)
	if strings.HasPrefix(c.Namespace, ":") {
		bad("Namespace", "value '%s' at 'namespace' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:].*", c.Namespace)
	}
	length("MetricName", c.Metric, 1, 255)
	if len(c.Dimensions) > 30 {
		bad("Dimensions", "value at 'dimensions' failed to satisfy constraint: Member must have length less than or equal to 30")
	}
	for _, k := range sortedKeys(c.Dimensions) {
		if k == "" || utf8.RuneCountInString(k) > 255 {
			bad("Dimensions", "dimension name %q must have length between 1 and 255", k)
		}
		if v := c.Dimensions[k]; v == "" || utf8.RuneCountInString(v) > 1024 {
			bad("Dimensions", "dimension %q must have a value of length between 1 and 1024", k)
		}
	}
	if _, err := ParseStatistic(c.Statistic); err != nil {
		bad("Statistic", "%v", err)
	}
	if c.Unit != "" && !contains(standardUnits, c.Unit) {
		enum("Unit", c.Unit, standardUnits)
	}

	periodOK := false
	switch p := c.Period; {
	case p <= 0:
		bad("Period", "value '%d' at 'period' failed to satisfy constraint: Member must have value greater than or equal to 1", int64(p/time.Second))
	case p%time.Second != 0:
		bad("Period", "Period must be a whole number of seconds, got %v", p)
	case p == 10*time.Second || p == 20*time.Second || p == 30*time.Second || p%time.Minute == 0:
		periodOK = true
	default:
		bad("Period", "The parameter Period must be 10, 20, 30, or a multiple of 60, got %d", int64(p/time.Second))
	}
	if c.EvaluationPeriods < 1 {
		bad("EvaluationPeriods", "value '%d' at 'evaluationPeriods' failed to satisfy constraint: Member must have value greater than or equal to 1", c.EvaluationPeriods)
	}
	if c.DatapointsToAlarm < 0 {
		bad("DatapointsToAlarm", "value '%d' at 'datapointsToAlarm' failed to satisfy constraint: Member must have value greater than or equal to 1", c.DatapointsToAlarm)
	} else if c.EvaluationPeriods >= 1 && c.DatapointsToAlarm > c.EvaluationPeriods {
		bad("DatapointsToAlarm", "DatapointsToAlarm must be less than or equal to EvaluationPeriods")
	}
	if periodOK && c.EvaluationPeriods >= 1 {
		span := int64(c.Period/time.Second) * int64(c.EvaluationPeriods)
		switch {
		case c.Period < time.Hour && span > 86400:
			bad("EvaluationPeriods", "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)")
		case span > 604800:
			bad("EvaluationPeriods", "Metrics cannot be checked across more than 7 days (EvaluationPeriods * Period must be <= 604800)")
		}
	}
	if c.EvaluationRange != 0 && c.EvaluationRange < c.EvaluationPeriods {
		bad("EvaluationRange", "EvaluationRange must be 0 (the default) or at least EvaluationPeriods (%d), got %d", c.EvaluationPeriods, c.EvaluationRange)
	}
	if c.MaxEvents < 0 {
		bad("MaxEvents", "MaxEvents must not be negative, got %d", c.MaxEvents)
	}
	if math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0) {
		bad("Threshold", "Threshold must be a finite number, got %v", c.Threshold)
	}
	switch {
	case contains(comparisonOperators, c.ComparisonOperator):
	case contains(anomalyOperators, c.ComparisonOperator):
		bad("ComparisonOperator", "ComparisonOperator %s is only valid for anomaly detection alarms, which are not supported", c.ComparisonOperator)
	default:
		enum("ComparisonOperator", c.ComparisonOperator, append(append([]string(nil), comparisonOperators...), anomalyOperators...))
	}
	if c.TreatMissingData != "" && !contains(treatments, c.TreatMissingData) {
		enum("TreatMissingData", c.TreatMissingData, treatments)
	}
	switch c.EvaluateLowSampleCountPercentile {
	case "", "evaluate", "ignore":
	default:
		enum("EvaluateLowSampleCountPercentile", c.EvaluateLowSampleCountPercentile, []string{"evaluate", "ignore"})
	}
	checkActions(bad, c.AlarmActions, c.OKActions, c.InsufficientDataActions)
	return errors.Join(errs...)
}

// checkActions checks an alarm's three action lists as PutMetricAlarm and
// PutCompositeAlarm do: at most 5 each, each 1 to 1024 characters.
func checkActions(bad func(field, format string, args ...any), alarm, ok, insufficient []string) {
	for _, f := range []struct {
		name string
		arns []string
	}{{"AlarmActions", alarm}, {"OKActions", ok}, {"InsufficientDataActions", insufficient}} {
		if len(f.arns) > 5 {
			bad(f.name, "value at '%s' failed to satisfy constraint: Member must have length less than or equal to 5", lowerFirst(f.name))
		}
		for i, a := range f.arns {
			if a == "" || utf8.RuneCountInString(a) > 1024 {
				bad(f.name, "%s[%d] must have length between 1 and 1024", f.name, i)
			}
		}
	}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// normalized returns c with CloudWatch's defaults filled in.
func (c Config) normalized() Config {
	if c.DatapointsToAlarm == 0 {
		c.DatapointsToAlarm = c.EvaluationPeriods
	}
	if c.TreatMissingData == "" {
		c.TreatMissingData = TreatMissing
	}
	if c.EvaluationRange == 0 {
		c.EvaluationRange = DefaultEvaluationRange(c.EvaluationPeriods)
	}
	if c.MaxEvents == 0 {
		c.MaxEvents = DefaultMaxEvents
	}
	c.Dimensions = copyMap(c.Dimensions)
	c.AlarmActions = append([]string(nil), c.AlarmActions...)
	c.OKActions = append([]string(nil), c.OKActions...)
	c.InsufficientDataActions = append([]string(nil), c.InsufficientDataActions...)
	return c
}

// DefaultEvaluationRange is the number of periods an alarm with n
// evaluation periods retrieves: n + max(n/3, 2) (specs §8 item 1; AWS's
// tables use 5 for n = 3).
func DefaultEvaluationRange(n int) int {
	return n + max(n/3, 2)
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Statistic is a parsed statistic name.
type Statistic struct {
	Name       string  // as written: "Sum", "p99.9", "tm90", "TM(10%:90%)"
	Percentile float64 // 0-100 for pNN; -1 otherwise
	// Kind is the range statistic (tmNN, TM(a:b), IQM, wm, tc, ts, PR),
	// "" for the others; Lower and Upper are its bounds.
	Kind         RangeKind
	Lower, Upper Bound
}

// IsPercentile reports whether s is an ExtendedStatistic pNN.
func (s Statistic) IsPercentile() bool { return s.Percentile >= 0 }

// IsExtended reports whether s is an ExtendedStatistic (a percentile or
// a range statistic) rather than a Statistic (Sum, Average, Minimum,
// Maximum, SampleCount).
func (s Statistic) IsExtended() bool { return s.IsPercentile() || s.Kind != "" }

// NeedsValues reports whether Period.Stat needs the period's raw values
// for s: aggregate with WithValues.
func (s Statistic) NeedsValues() bool { return s.IsExtended() }

// ParseStatistic parses Sum, Average, Minimum, Maximum, SampleCount and
// CloudWatch's extended statistics: a percentile p0 to p100 with up to ten
// decimals (p99, p99.9, p0.5); the one-number forms tmNN, wmNN, tcNN,
// tsNN (tm90 is TM(:90%)); IQM (TM(25%:75%)); and the bounds forms
// TM(a:b), WM(a:b), TC(a:b), TS(a:b) and PR(a:b), each bound empty,
// a percentage (TM(10%:90%)) or a metric value (TM(150:1000), PR(:300)).
func ParseStatistic(s string) (Statistic, error) {
	switch s {
	case "Sum", "Average", "Minimum", "Maximum", "SampleCount":
		return Statistic{Name: s, Percentile: -1}, nil
	case "IQM":
		return iqm, nil
	case "":
		return Statistic{}, errors.New("missing statistic: Statistic or ExtendedStatistic must be specified")
	}
	if len(s) >= 2 {
		if k, ok := shortKinds[s[:2]]; ok {
			return parseShortRange(s, k)
		}
		if k, ok := rangeKinds[s[:2]]; ok {
			return parseRange(s, k)
		}
		if strings.ToUpper(s[:2]) == "PR" {
			return Statistic{}, fmt.Errorf("percentile rank %q at offset 0: write it PR(a:b)", s)
		}
	}
	if s[0] != 'p' {
		return Statistic{}, fmt.Errorf("statistic %q at offset 0: want Sum, Average, Minimum, Maximum, SampleCount, a percentile pNN, tmNN, wmNN, tcNN, tsNN, IQM, TM(a:b), WM(a:b), TC(a:b), TS(a:b) or PR(a:b)", s)
	}
	num := s[1:]
	intPart, frac, hasDot := strings.Cut(num, ".")
	if err := digits(intPart, 1, 3); err != nil {
		return Statistic{}, fmt.Errorf("percentile %q at offset %d: %v", s, 1+offsetOfBad(intPart), err)
	}
	if hasDot {
		if err := digits(frac, 1, 10); err != nil {
			return Statistic{}, fmt.Errorf("percentile %q at offset %d: %v", s, 2+len(intPart)+offsetOfBad(frac), err)
		}
	}
	p, err := strconv.ParseFloat(num, 64)
	if err != nil || p < 0 || p > 100 {
		return Statistic{}, fmt.Errorf("percentile %q at offset 1: must be between p0 and p100", s)
	}
	return Statistic{Name: s, Percentile: p}, nil
}

func digits(s string, min, max int) error {
	if i := offsetOfBad(s); i < len(s) {
		return fmt.Errorf("unexpected %q, want a digit", s[i])
	}
	if len(s) < min {
		return errors.New("missing digits")
	}
	if len(s) > max {
		return fmt.Errorf("too many digits (at most %d)", max)
	}
	return nil
}

func offsetOfBad(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return i
		}
	}
	return len(s)
}

// breaches reports whether v breaches threshold t under operator op.
// Breaches reports whether a statistic's value v breaches the alarm's
// threshold under its comparison operator.
func (c *Config) Breaches(v float64) bool { return breaches(c.ComparisonOperator, v, c.Threshold) }

func breaches(op string, v, t float64) bool {
	switch op {
	case GreaterThanOrEqualToThreshold:
		return v >= t
	case GreaterThanThreshold:
		return v > t
	case LessThanThreshold:
		return v < t
	case LessThanOrEqualToThreshold:
		return v <= t
	}
	return false
}

// operatorPhrase is the operator's words in a StateReason.
func operatorPhrase(op string) string {
	switch op {
	case GreaterThanOrEqualToThreshold:
		return "greater than or equal to"
	case GreaterThanThreshold:
		return "greater than"
	case LessThanThreshold:
		return "less than"
	case LessThanOrEqualToThreshold:
		return "less than or equal to"
	}
	return op
}
