package config

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/filterpattern"
	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/internal/schedule"
)

// Items of issue 4, with where they were written. skip is set for
// template items: a problem AWS would not reject at deployment (an alarm
// on a metric Trailwatch has no data for) is reported in Skipped with it
// instead of failing the load.
type filterItem struct {
	f *MetricFilter
	o *origin
}

type alarmItem struct {
	a      *Alarm
	o      *origin
	skipAs string // "file: LogicalID (Type)" for template items
}

type scheduleItem struct {
	s       *Schedule
	o       *origin
	flavour schedule.Flavour
	skipAs  string
}

// Schedule actions.
const (
	ActionDisableAlarmActions = "disable_alarm_actions"
	ActionEnableAlarmActions  = "enable_alarm_actions"
	ActionMute                = "mute"
	ActionUnmute              = "unmute"
)

// standardUnits is CloudWatch's StandardUnit enumeration.
var standardUnits = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
	"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
	"Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
	"Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
	"Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

func oneOf(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// validateMetricFilter checks a filter as PutMetricFilter does.
func validateMetricFilter(l *errList, it filterItem) {
	f, o := it.f, it.o
	switch n := utf8.RuneCountInString(f.Name); {
	case n == 0:
		o.errorf(l, "name", nil, "missing")
	case n > 512:
		o.errorf(l, "name", nil, "longer than 512 characters")
	case strings.ContainsAny(f.Name, ":*"):
		o.errorf(l, "name", nil, "must not contain ':' or '*'")
	}
	if utf8.RuneCountInString(f.LogGroupName) > 512 {
		o.errorf(l, "log_group_name", nil, "longer than 512 characters")
	}
	p, err := filterpattern.Parse(f.FilterPattern)
	if err != nil {
		o.errorf(l, "filter_pattern", nil, "%v", err)
	}
	if len(f.Transformations) != 1 {
		o.errorf(l, "metric_transformations", nil, "want exactly one metric transformation (got %d), as AWS allows", len(f.Transformations))
	}
	for i, mt := range f.Transformations {
		sub := fmt.Sprintf("metric_transformations[%d]", i)
		for _, x := range []struct{ key, val string }{{"metric_namespace", mt.MetricNamespace}, {"metric_name", mt.MetricName}} {
			switch n := utf8.RuneCountInString(x.val); {
			case n == 0:
				o.errorf(l, sub+"."+x.key, nil, "missing")
			case n > 255:
				o.errorf(l, sub+"."+x.key, nil, "longer than 255 characters")
			case strings.ContainsAny(x.val, ":*$"):
				o.errorf(l, sub+"."+x.key, nil, "must not contain ':', '*' or '$'")
			}
		}
		switch {
		case mt.MetricValue == "":
			o.errorf(l, sub+".metric_value", nil, "missing")
		case utf8.RuneCountInString(mt.MetricValue) > 100:
			o.errorf(l, sub+".metric_value", nil, "longer than 100 characters")
		case p != nil:
			if err := filterpattern.CheckMetricValue(mt.MetricValue, p); err != nil {
				o.errorf(l, sub+".metric_value", nil, "%v", err)
			}
		}
		if len(mt.Dimensions) > 0 {
			if mt.DefaultValue != nil {
				o.errorf(l, sub+".default_value", nil, "a metric with dimensions cannot have a default value")
			}
			if len(mt.Dimensions) > 3 {
				o.errorf(l, sub+".dimensions", nil, "at most 3 dimensions (got %d)", len(mt.Dimensions))
			}
			if p != nil && p.Kind() == filterpattern.Term {
				o.errorf(l, sub+".dimensions", nil, "dimensions need a JSON or space-delimited filter pattern")
			}
			for _, k := range sortedKeys(mt.Dimensions) {
				v := mt.Dimensions[k]
				dsub := sub + ".dimensions." + k
				switch {
				case k == "" || utf8.RuneCountInString(k) > 255:
					o.errorf(l, dsub, nil, "dimension name must be 1 to 255 characters")
				case !strings.HasPrefix(v, "$"):
					o.errorf(l, dsub, nil, "want a field of the pattern ($.field or $name), got %q", v)
				case p != nil && p.Kind() != filterpattern.Term:
					if err := filterpattern.CheckMetricValue(v, p); err != nil {
						o.errorf(l, dsub, nil, "%v", err)
					}
				}
			}
		}
		if mt.Unit != "" && !oneOf(standardUnits, mt.Unit) {
			o.errorf(l, sub+".unit", nil, "unknown unit %q (want one of %s)", mt.Unit, strings.Join(standardUnits, ", "))
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// alarmKeys maps PutMetricAlarm's parameter names (alarm.ValidationError
// Field) to native keys.
var alarmKeys = map[string]string{
	"AlarmName": "name", "AlarmDescription": "description", "Namespace": "namespace",
	"MetricName": "metric_name", "Dimensions": "dimensions", "Statistic": "statistic", "Unit": "unit",
	"Period": "period", "EvaluationPeriods": "evaluation_periods", "DatapointsToAlarm": "datapoints_to_alarm",
	"Threshold": "threshold", "ComparisonOperator": "comparison_operator", "TreatMissingData": "treat_missing_data",
	"EvaluateLowSampleCountPercentile": "evaluate_low_sample_count_percentile",
	"AlarmActions":                     "alarm_actions", "OKActions": "ok_actions", "InsufficientDataActions": "insufficient_data_actions",
}

// validateAlarm checks an alarm with alarm.Config.Validate (PutMetricAlarm's
// rules) and its actions against the receivers and topics.
func validateAlarm(l *errList, it alarmItem, receivers map[string]bool, topics map[string][]string) {
	a, o := it.a, it.o
	c := a.AlarmConfig()
	if err := c.Validate(); err != nil {
		var errs []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		} else {
			errs = []error{err}
		}
		for _, e := range errs {
			var ve *alarm.ValidationError
			if errors.As(e, &ve) {
				o.errorf(l, alarmKeys[ve.Field], nil, "%s", ve.Message)
			} else {
				o.errorf(l, "", nil, "%v", e)
			}
		}
	}
	for _, x := range []struct {
		key  string
		list []string
	}{{"alarm_actions", a.AlarmActions}, {"ok_actions", a.OKActions}, {"insufficient_data_actions", a.InsufficientDataActions}} {
		for i, act := range x.list {
			if receivers[act] {
				continue
			}
			if _, ok := topics[act]; ok {
				continue
			}
			o.errorf(l, fmt.Sprintf("%s[%d]", x.key, i), nil, "no receiver named %q and no SNS topic with that ARN", act)
		}
	}
}

var scheduleNameRE = regexp.MustCompile(`^([0-9A-Za-z_.-]{1,64}/)?[0-9A-Za-z_.-]{1,64}$`)

// validateSchedule checks a schedule's expression with internal/schedule
// (the flavour's rules, the zone, the bounds) and its action's targets.
// skip is nil for native schedules.
func validateSchedule(l *errList, it scheduleItem, alarms map[string]bool, rules map[string]*rule.Rule, routes map[string]bool, skip func(format string, args ...any)) {
	s, o := it.s, it.o
	if !scheduleNameRE.MatchString(s.Name) {
		o.errorf(l, "name", nil, "want 1 to 64 letters, digits, '-', '_' or '.'")
	}
	var loc *time.Location
	if s.TimeZone != "" {
		if it.flavour == schedule.Rule {
			o.errorf(l, "time_zone", nil, "scheduled rules run in UTC: no time zone")
		} else if z, err := time.LoadLocation(s.TimeZone); err != nil {
			o.errorf(l, "time_zone", nil, "unknown time zone %q", s.TimeZone)
		} else {
			loc = z
		}
	}
	opts := schedule.Options{Flavour: it.flavour}
	for _, x := range []struct {
		key string
		val string
		t   *time.Time
	}{{"start", s.Start, &opts.Start}, {"end", s.End, &opts.End}} {
		if x.val == "" {
			continue
		}
		if it.flavour == schedule.Rule {
			o.errorf(l, x.key, nil, "scheduled rules have no start or end date")
			continue
		}
		v, err := time.Parse(time.RFC3339, x.val)
		if err != nil {
			o.errorf(l, x.key, nil, "want an RFC 3339 time (2024-01-02T15:04:05Z), got %q", x.val)
			continue
		}
		*x.t = v
	}
	if !opts.Start.IsZero() && !opts.End.IsZero() && !opts.End.After(opts.Start) {
		o.errorf(l, "end", nil, "must be after start")
		opts.Start, opts.End = time.Time{}, time.Time{} // reported once
	}
	if s.Expression == "" {
		o.errorf(l, "expression", nil, "missing")
	} else if _, err := schedule.ParseWith(s.Expression, loc, opts); err != nil {
		o.errorf(l, "expression", nil, "%v", err)
	}
	switch s.Action {
	case ActionDisableAlarmActions, ActionEnableAlarmActions:
		if len(s.Alarms) == 0 {
			o.errorf(l, "alarms", nil, "missing (the alarms whose actions to switch)")
		}
		if len(s.Alarms) > 100 {
			o.errorf(l, "alarms", nil, "at most 100 alarms (got %d)", len(s.Alarms))
		}
		if len(s.Rules)+len(s.Routes) > 0 {
			o.errorf(l, "", nil, "rules and routes are for mute and unmute, not %s", s.Action)
		}
		for i, name := range s.Alarms {
			if alarms[name] {
				continue
			}
			if skip != nil {
				// AWS's DisableAlarmActions ignores names that are not
				// alarms; a template's alarm may live in another stack.
				skip("names alarm %q, which nothing loaded defines: nothing to switch for it", name)
				continue
			}
			o.errorf(l, fmt.Sprintf("alarms[%d]", i), nil, "no alarm named %q", name)
		}
	case ActionMute, ActionUnmute:
		if len(s.Rules)+len(s.Routes) == 0 {
			o.errorf(l, "", nil, "give the rules or routes to %s", s.Action)
		}
		if len(s.Alarms) > 0 {
			o.errorf(l, "alarms", nil, "alarms are for disable_alarm_actions and enable_alarm_actions, not %s", s.Action)
		}
		for i, name := range s.Rules {
			if rules[name] == nil {
				o.errorf(l, fmt.Sprintf("rules[%d]", i), nil, "no rule named %q", name)
			}
		}
		for i, name := range s.Routes {
			if !routes[name] {
				o.errorf(l, fmt.Sprintf("routes[%d]", i), nil, "no route named %q", name)
			}
		}
	case "":
		o.errorf(l, "action", nil, "missing (want disable_alarm_actions, enable_alarm_actions, mute or unmute)")
	default:
		o.errorf(l, "action", nil, "unknown action %q (want disable_alarm_actions, enable_alarm_actions, mute or unmute)", s.Action)
	}
}

// metricProducer is what metric filters produce under one namespace and
// name: the dimension name sets, canonical ("" for none).
type metricProducer map[string]bool

func dimKeys(m map[string]string) string { return strings.Join(sortedKeys(m), ",") }

// checkMetrics applies the issue 4 cross-checks and validations to the
// metric filters, alarms and schedules of every file, and adds them to
// cfg.
//
// An alarm must watch a metric that some metric filter produces (same
// namespace, name and dimension names): Trailwatch's only metrics are
// those of its metric filters, so any other alarm would never see a
// datapoint. For a native alarm that is an error (a typo, most likely);
// for a template alarm, which AWS would accept (it may watch an AWS
// service metric), the alarm is reported in Skipped and not run.
func checkMetrics(l *errList, cfg *Config, filters []filterItem, alarms []alarmItem, schedules []scheduleItem, receivers map[string]bool, rules map[string]*rule.Rule) {
	checkAlarms(l, cfg, filters, alarms, nil, schedules, receivers, rules)
}

// checkAlarms is checkMetrics with composite alarms, checked after the
// metric alarms (checkComposites); schedules may switch their actions
// too.
func checkAlarms(l *errList, cfg *Config, filters []filterItem, alarms []alarmItem, composites []compositeItem, schedules []scheduleItem, receivers map[string]bool, rules map[string]*rule.Rule) {
	produced := map[string]metricProducer{}
	type fkey struct{ group, name string }
	seenFilter := map[fkey]*origin{}
	for _, it := range filters {
		validateMetricFilter(l, it)
		k := fkey{it.f.LogGroupName, it.f.Name}
		if prev, ok := seenFilter[k]; ok && it.f.Name != "" {
			it.o.errorf(l, "name", nil, "duplicate metric filter name %q (first defined at %s:%d)", it.f.Name, prev.file, prev.at.line)
			continue
		}
		seenFilter[k] = it.o
		for _, mt := range it.f.Transformations {
			key := mt.MetricNamespace + "\x00" + mt.MetricName
			if produced[key] == nil {
				produced[key] = metricProducer{}
			}
			produced[key][dimKeys(mt.Dimensions)] = true
		}
		cfg.MetricFilters = append(cfg.MetricFilters, it.f)
	}
	names := map[string]*origin{}
	for _, it := range alarms {
		a := it.a
		if prev, ok := names[a.Name]; ok && a.Name != "" {
			it.o.errorf(l, "name", nil, "duplicate alarm name %q (first defined at %s:%d)", a.Name, prev.file, prev.at.line)
			continue
		}
		n := len(l.errs)
		validateAlarm(l, it, receivers, cfg.Topics)
		if len(l.errs) > n {
			continue
		}
		if msg := metricProblem(produced, a); msg != "" {
			if it.skipAs != "" {
				cfg.Skipped = append(cfg.Skipped, it.skipAs+": "+msg+": not run")
				continue
			}
			it.o.errorf(l, "metric_name", nil, "%s", msg)
			continue
		}
		names[a.Name] = it.o
		cfg.Alarms = append(cfg.Alarms, a)
	}
	haveAlarm := make(map[string]bool, len(names))
	for n := range names {
		haveAlarm[n] = true
	}
	checkComposites(l, cfg, composites, alarmNames(alarms), haveAlarm, receivers)
	run := make(map[string]bool, len(haveAlarm)+len(cfg.CompositeAlarms))
	for n := range haveAlarm {
		run[n] = true
	}
	for _, c := range cfg.CompositeAlarms {
		run[c.Name] = true
	}
	haveAlarm = run
	routes := map[string]bool{}
	for _, r := range cfg.Routes {
		if r.Name != "" {
			routes[r.Name] = true
		}
	}
	for _, it := range schedules {
		var skip func(string, ...any)
		if it.skipAs != "" {
			prefix := it.skipAs
			skip = func(format string, args ...any) {
				cfg.Skipped = append(cfg.Skipped, prefix+": "+fmt.Sprintf(format, args...))
			}
		}
		validateSchedule(l, it, haveAlarm, rules, routes, skip)
		cfg.Schedules = append(cfg.Schedules, it.s)
	}
}

func metricProblem(produced map[string]metricProducer, a *Alarm) string {
	p := produced[a.Namespace+"\x00"+a.MetricName]
	if p == nil {
		return fmt.Sprintf("no metric filter produces metric %s in namespace %s (Trailwatch's metrics come from metric filters only)", a.MetricName, a.Namespace)
	}
	if !p[dimKeys(a.Dimensions)] {
		var have []string
		for k := range p {
			if k == "" {
				k = "none"
			}
			have = append(have, "["+k+"]")
		}
		sort.Strings(have)
		want := dimKeys(a.Dimensions)
		if want == "" {
			want = "none"
		}
		return fmt.Sprintf("metric %s in namespace %s has no datapoints with dimensions [%s] (its metric filters give %s)", a.MetricName, a.Namespace, want, strings.Join(have, ", "))
	}
	return ""
}
