package filterpattern

import (
	"fmt"
	"strings"
)

// MetricValue evaluates a metric filter's metricValue for a matching
// message: a number ("1", "-0.5", "1e3") is itself; a field reference
// ("$.bytes" for JSON patterns, "$size" or "$7" for space-delimited ones)
// is the field's value, which must read as a number. A missing or
// non-numeric field is an error; CloudWatch publishes nothing for such an
// event.
func MetricValue(expr string, m Match) (float64, error) {
	e := strings.TrimSpace(expr)
	if e == "" {
		return 0, fmt.Errorf("metric value: empty")
	}
	if e[0] != '$' {
		f, ok := parseNumber(e)
		if !ok {
			return 0, fmt.Errorf("metric value %q: neither a number nor a field reference ($.name, $name, $N)", expr)
		}
		return f, nil
	}
	if m == nil {
		return 0, fmt.Errorf("metric value %s: no matched event", e)
	}
	v, ok := m.Field(e)
	if !ok {
		return 0, fmt.Errorf("metric value %s: field not found in the event", e)
	}
	f, ok := parseNumber(strings.TrimSpace(v))
	if !ok {
		return 0, fmt.Errorf("metric value %s: field value %q is not a number", e, v)
	}
	return f, nil
}

// CheckMetricValue validates a metricValue against the pattern it goes
// with, as PutMetricFilter does: a number, or a field reference of the
// pattern's kind (a $.selector for JSON patterns; $name of one of the
// pattern's fields or $N for space-delimited ones). Term patterns take
// numbers only.
func CheckMetricValue(expr string, p *Pattern) error {
	e := strings.TrimSpace(expr)
	if e == "" {
		return fmt.Errorf("metric value: empty")
	}
	if len(e) > 100 {
		return fmt.Errorf("metric value: longer than 100 characters")
	}
	if e[0] != '$' {
		if !isNumber(e) {
			return fmt.Errorf("metric value %q: neither a number nor a field reference", expr)
		}
		return nil
	}
	switch p.Kind() {
	case JSON:
		if _, end, err := parseSelector(e, 0); err != nil || end != len(e) {
			return fmt.Errorf("metric value %s: not a JSON selector ($.name)", e)
		}
		return nil
	case SpaceDelimited:
		name := e[1:]
		if isNumber(name) && !strings.ContainsAny(name, "+-.eE") && name != "0" {
			return nil
		}
		for _, sl := range p.delim.slots {
			if sl.name == name {
				return nil
			}
		}
		return fmt.Errorf("metric value %s: the pattern has no field %q", e, name)
	}
	return fmt.Errorf("metric value %s: a term pattern has no fields; use a number", e)
}
