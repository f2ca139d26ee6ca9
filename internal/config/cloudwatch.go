package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/schedule"
)

// The universal targets of EventBridge Scheduler that Trailwatch runs.
const (
	disableAlarmActionsARN = "arn:aws:scheduler:::aws-sdk:cloudwatch:disableAlarmActions"
	enableAlarmActionsARN  = "arn:aws:scheduler:::aws-sdk:cloudwatch:enableAlarmActions"
)

// Template property names of the native keys, for errors found by the
// native checks on template items.
var (
	filterProps = map[string]string{
		"name": "FilterName", "log_group_name": "LogGroupName", "filter_pattern": "FilterPattern",
		"metric_transformations": "MetricTransformations", "metric_namespace": "MetricNamespace",
		"metric_name": "MetricName", "metric_value": "MetricValue", "default_value": "DefaultValue",
		"dimensions": "Dimensions", "unit": "Unit",
	}
	alarmProps = map[string]string{
		"name": "AlarmName", "description": "AlarmDescription", "namespace": "Namespace", "metric_name": "MetricName",
		"dimensions": "Dimensions", "statistic": "Statistic", "unit": "Unit", "period": "Period",
		"evaluation_periods": "EvaluationPeriods", "datapoints_to_alarm": "DatapointsToAlarm", "threshold": "Threshold",
		"comparison_operator": "ComparisonOperator", "treat_missing_data": "TreatMissingData",
		"evaluate_low_sample_count_percentile": "EvaluateLowSampleCountPercentile", "actions_enabled": "ActionsEnabled",
		"alarm_actions": "AlarmActions", "ok_actions": "OKActions", "insufficient_data_actions": "InsufficientDataActions",
	}
	scheduleProps = map[string]string{
		"name": "Name", "expression": "ScheduleExpression", "time_zone": "ScheduleExpressionTimezone",
		"start": "StartDate", "end": "EndDate", "enabled": "State", "action": "Target.Arn", "alarms": "Target.Input",
	}
)

// renamer maps each segment of a native key path through names, keeping
// indexes: "metric_transformations[0].unit" -> "MetricTransformations[0].Unit".
func renamer(names map[string]string) func(string) string {
	return func(sub string) string {
		parts := strings.Split(sub, ".")
		for i, p := range parts {
			base, idx := p, ""
			if j := strings.IndexByte(p, '['); j >= 0 {
				base, idx = p[:j], p[j:]
			}
			if n, ok := names[base]; ok {
				parts[i] = n + idx
			}
		}
		return strings.Join(parts, ".")
	}
}

// positionsOf records where each part of a template value was written,
// by path.
func positionsOf(v *tval, field string, m map[string]pos) {
	if v == nil {
		return
	}
	m[field] = v.p
	switch v.kind {
	case vMap:
		for i, k := range v.keys {
			positionsOf(v.vals[i], field+"."+k, m)
		}
	case vList:
		for i, e := range v.list {
			positionsOf(e, fmt.Sprintf("%s[%d]", field, i), m)
		}
	}
}

func (t *tmpl) propOrigin(r *resource, v *tval, names map[string]string) *origin {
	field := "Resources." + r.id + ".Properties"
	m := map[string]pos{}
	positionsOf(v, field, m)
	return &origin{file: t.file, field: field, positions: m, at: v.p, rename: renamer(names)}
}

func (t *tmpl) skipAs(r *resource) string { return fmt.Sprintf("%s: %s (%s)", t.file, r.id, r.typ) }

// Property readers over evaluated properties; each reports a wrong type.

func (t *tmpl) propStr(v *tval, field, key string) string {
	x := v.get(key)
	if x == nil || x.isNull() {
		return ""
	}
	if x.kind != vScalar {
		t.errorf(x.p, field+"."+key, "want a string")
		return ""
	}
	return x.s
}

func (t *tmpl) propNum(v *tval, field, key string) (float64, bool) {
	x := v.get(key)
	if x == nil || x.isNull() {
		return 0, false
	}
	f, err := strconv.ParseFloat(x.s, 64)
	if x.kind != vScalar || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		t.errorf(x.p, field+"."+key, "want a number")
		return 0, false
	}
	return f, true
}

func (t *tmpl) propInt(v *tval, field, key string) int {
	x := v.get(key)
	if x == nil || x.isNull() {
		return 0
	}
	n, err := strconv.Atoi(x.s)
	if x.kind != vScalar || err != nil {
		t.errorf(x.p, field+"."+key, "want a whole number")
		return 0
	}
	return n
}

func (t *tmpl) propBool(v *tval, field, key string) *bool {
	x := v.get(key)
	if x == nil || x.isNull() {
		return nil
	}
	var b bool
	switch {
	case x.kind == vScalar && strings.EqualFold(x.s, "true"):
		b = true
	case x.kind == vScalar && strings.EqualFold(x.s, "false"):
	default:
		t.errorf(x.p, field+"."+key, "want true or false")
		return nil
	}
	return &b
}

func (t *tmpl) propList(v *tval, field, key string) []*tval {
	x := v.get(key)
	if x == nil || x.isNull() {
		return nil
	}
	if x.kind != vList {
		t.errorf(x.p, field+"."+key, "want a list")
		return nil
	}
	return x.list
}

func (t *tmpl) checkKeys(v *tval, field string, known map[string]bool) {
	for i, k := range v.keys {
		if !known[k] {
			t.errorf(v.vals[i].p, field+"."+k, "unknown key")
		}
	}
}

// metricFilter reads an AWS::Logs::MetricFilter.
func (t *tmpl) metricFilter(r *resource, v *tval) {
	field := "Resources." + r.id + ".Properties"
	f := &MetricFilter{
		Name:          t.physicalName(r),
		LogGroupName:  t.propStr(v, field, "LogGroupName"),
		FilterPattern: t.propStr(v, field, "FilterPattern"),
		Source:        t.source(r.p),
	}
	if v.get("FilterPattern") == nil {
		t.errorf(v.p, field+".FilterPattern", "missing")
		return
	}
	if v.get("LogGroupName") == nil {
		t.errorf(v.p, field+".LogGroupName", "missing")
	}
	for _, k := range []string{"ApplyOnTransformedLogs", "EmitSystemFieldDimensions", "FieldSelectionCriteria"} {
		if v.get(k) != nil {
			t.skip("%s (%s): %s is not applied (Trailwatch filters the CloudTrail record itself)", r.id, r.typ, k)
		}
	}
	mts := t.propList(v, field, "MetricTransformations")
	for i, m := range mts {
		mf := fmt.Sprintf("%s.MetricTransformations[%d]", field, i)
		if m.kind != vMap {
			t.errorf(m.p, mf, "want a mapping with MetricNamespace, MetricName and MetricValue")
			continue
		}
		t.checkKeys(m, mf, set("MetricNamespace", "MetricName", "MetricValue", "DefaultValue", "Dimensions", "Unit"))
		mt := MetricTransformation{
			MetricNamespace: t.propStr(m, mf, "MetricNamespace"),
			MetricName:      t.propStr(m, mf, "MetricName"),
			MetricValue:     t.propStr(m, mf, "MetricValue"),
			Unit:            t.propStr(m, mf, "Unit"),
		}
		if d, ok := t.propNum(m, mf, "DefaultValue"); ok {
			mt.DefaultValue = &d
		}
		for j, d := range t.propList(m, mf, "Dimensions") {
			df := fmt.Sprintf("%s.Dimensions[%d]", mf, j)
			key, val := d.get("Key"), d.get("Value")
			if d.kind != vMap || key == nil || val == nil || key.kind != vScalar || val.kind != vScalar {
				t.errorf(d.p, df, "want a mapping with Key and Value")
				continue
			}
			t.checkKeys(d, df, set("Key", "Value"))
			if mt.Dimensions == nil {
				mt.Dimensions = map[string]string{}
			}
			if _, dup := mt.Dimensions[key.s]; dup {
				t.errorf(key.p, df+".Key", "duplicate dimension %q", key.s)
			}
			mt.Dimensions[key.s] = val.s
		}
		f.Transformations = append(f.Transformations, mt)
	}
	t.out.filters = append(t.out.filters, filterItem{f, t.propOrigin(r, v, filterProps)})
}

// cloudWatchAlarm reads an AWS::CloudWatch::Alarm.
func (t *tmpl) cloudWatchAlarm(r *resource, v *tval) {
	field := "Resources." + r.id + ".Properties"
	if v.get("Metrics") != nil {
		t.skip("%s (%s): metric math alarms (Metrics) are not supported, not run", r.id, r.typ)
		return
	}
	if v.get("ThresholdMetricId") != nil {
		t.skip("%s (%s): anomaly detection alarms (ThresholdMetricId) are not supported, not run", r.id, r.typ)
		return
	}
	a := &Alarm{
		Name:                             t.physicalName(r),
		Description:                      t.propStr(v, field, "AlarmDescription"),
		Namespace:                        t.propStr(v, field, "Namespace"),
		MetricName:                       t.propStr(v, field, "MetricName"),
		Statistic:                        t.propStr(v, field, "Statistic"),
		Unit:                             t.propStr(v, field, "Unit"),
		Period:                           Duration(time.Duration(t.propInt(v, field, "Period")) * time.Second),
		EvaluationPeriods:                t.propInt(v, field, "EvaluationPeriods"),
		DatapointsToAlarm:                t.propInt(v, field, "DatapointsToAlarm"),
		ComparisonOperator:               t.propStr(v, field, "ComparisonOperator"),
		TreatMissingData:                 t.propStr(v, field, "TreatMissingData"),
		EvaluateLowSampleCountPercentile: t.propStr(v, field, "EvaluateLowSampleCountPercentile"),
		ActionsEnabled:                   t.propBool(v, field, "ActionsEnabled"),
		Source:                           t.source(r.p),
	}
	names := alarmProps
	if ext := t.propStr(v, field, "ExtendedStatistic"); ext != "" {
		if a.Statistic != "" {
			t.errorf(v.get("ExtendedStatistic").p, field+".ExtendedStatistic", "give Statistic or ExtendedStatistic, not both")
		}
		a.Statistic = ext
		names = map[string]string{"statistic": "ExtendedStatistic"}
		for k, n := range alarmProps {
			if k != "statistic" {
				names[k] = n
			}
		}
	}
	if th, ok := t.propNum(v, field, "Threshold"); ok {
		a.Threshold = th
	} else if v.get("Threshold") == nil {
		t.errorf(v.p, field+".Threshold", "missing")
	}
	if a.ActionsEnabled == nil {
		on := true // CloudWatch's default
		a.ActionsEnabled = &on
	}
	for i, d := range t.propList(v, field, "Dimensions") {
		df := fmt.Sprintf("%s.Dimensions[%d]", field, i)
		name, val := d.get("Name"), d.get("Value")
		if d.kind != vMap || name == nil || val == nil || name.kind != vScalar || val.kind != vScalar {
			t.errorf(d.p, df, "want a mapping with Name and Value")
			continue
		}
		t.checkKeys(d, df, set("Name", "Value"))
		if a.Dimensions == nil {
			a.Dimensions = map[string]string{}
		}
		a.Dimensions[name.s] = val.s
	}
	a.AlarmActions = t.alarmActions(r, v, field, "AlarmActions")
	a.OKActions = t.alarmActions(r, v, field, "OKActions")
	a.InsufficientDataActions = t.alarmActions(r, v, field, "InsufficientDataActions")
	t.out.alarms = append(t.out.alarms, alarmItem{a, t.propOrigin(r, v, names), t.skipAs(r)})
}

// alarmActions resolves an alarm's action ARNs to SNS topic ARNs whose
// receivers are in Topics; other actions are reported in Skipped.
func (t *tmpl) alarmActions(r *resource, v *tval, field, key string) []string {
	var out []string
	for i, x := range t.propList(v, field, key) {
		f := fmt.Sprintf("%s.%s[%d]", field, key, i)
		if x.kind != vScalar {
			t.errorf(x.p, f, "want an ARN")
			continue
		}
		arn := x.s
		what := fmt.Sprintf("%s (%s): %s[%d]", r.id, r.typ, key, i)
		if logical, ok := t.arnIndex[arn]; ok {
			tr := t.resources[logical]
			if tr.typ != "AWS::SNS::Topic" {
				t.skip("%s: %s (%s) actions are not supported, skipped", what, logical, tr.typ)
				continue
			}
			if len(t.out.topics[arn]) == 0 {
				t.skip("%s: topic %s has no subscription Trailwatch delivers to, skipped", what, logical)
				continue
			}
			out = append(out, arn)
			continue
		}
		parts := strings.SplitN(arn, ":", 6)
		switch {
		case len(parts) == 6 && parts[0] == "arn" && parts[2] == "sns":
			// A topic of another stack: publish to it.
			if _, ok := t.out.topics[arn]; !ok {
				name := t.stack + "/" + parts[5]
				t.addReceiver(&Receiver{Name: name, SNS: &SNSConfig{TopicARN: arn, Region: parts[3]}}, f, x.p)
				t.out.topics[arn] = []string{name}
			}
			out = append(out, arn)
		case len(parts) == 6 && parts[0] == "arn":
			t.skip("%s: %s actions (%s) are not supported, skipped", what, parts[2], arn)
		default:
			t.errorf(x.p, f, "not an ARN")
		}
	}
	return out
}

var flexibleKeys = set("Mode", "MaximumWindowInMinutes")

var scheduleTargetKeys = set("Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig", "EcsParameters",
	"EventBridgeParameters", "KinesisParameters", "SageMakerPipelineParameters", "SqsParameters")

// schedulerSchedule reads an AWS::Scheduler::Schedule.
func (t *tmpl) schedulerSchedule(r *resource, v *tval) {
	field := "Resources." + r.id + ".Properties"
	s := &Schedule{
		Name:       t.physicalName(r),
		Expression: t.propStr(v, field, "ScheduleExpression"),
		TimeZone:   t.propStr(v, field, "ScheduleExpressionTimezone"),
		Start:      t.propStr(v, field, "StartDate"),
		End:        t.propStr(v, field, "EndDate"),
		Source:     t.source(r.p),
	}
	if g := t.propStr(v, field, "GroupName"); g != "" && g != "default" {
		s.Name = g + "/" + s.Name
	}
	if v.get("ScheduleExpression") == nil {
		t.errorf(v.p, field+".ScheduleExpression", "missing")
		return
	}
	switch st := t.propStr(v, field, "State"); st {
	case "", "ENABLED":
	case "DISABLED":
		off := false
		s.Enabled = &off
	default:
		t.errorf(v.get("State").p, field+".State", "want ENABLED or DISABLED")
	}
	switch a := t.propStr(v, field, "ActionAfterCompletion"); a {
	case "", "NONE", "DELETE":
	default:
		t.errorf(v.get("ActionAfterCompletion").p, field+".ActionAfterCompletion", "want NONE or DELETE")
	}
	// FlexibleTimeWindow: required, accepted; Trailwatch acts at the
	// scheduled time, which is within any window.
	if fw := v.get("FlexibleTimeWindow"); fw == nil || fw.kind != vMap {
		t.errorf(v.p, field+".FlexibleTimeWindow", "missing (want {Mode: 'OFF'} or {Mode: FLEXIBLE, MaximumWindowInMinutes: N})")
	} else {
		ff := field + ".FlexibleTimeWindow"
		t.checkKeys(fw, ff, flexibleKeys)
		switch t.propStr(fw, ff, "Mode") {
		case "OFF":
		case "FLEXIBLE":
			if n := t.propInt(fw, ff, "MaximumWindowInMinutes"); n < 1 || n > 1440 {
				t.errorf(fw.p, ff+".MaximumWindowInMinutes", "want 1 to 1440 with Mode FLEXIBLE")
			}
		default:
			t.errorf(fw.p, ff+".Mode", "want OFF or FLEXIBLE")
		}
	}
	tg := v.get("Target")
	if tg == nil || tg.kind != vMap {
		t.errorf(v.p, field+".Target", "missing (want a mapping with Arn and RoleArn)")
		return
	}
	tf := field + ".Target"
	t.checkKeys(tg, tf, scheduleTargetKeys)
	if !t.alarmTarget(r, s, tg, tf) {
		return
	}
	o := t.propOrigin(r, v, scheduleProps)
	t.out.schedules = append(t.out.schedules, scheduleItem{s, o, schedule.Scheduler, t.skipAs(r)})
}

// alarmTarget reads a target that switches alarm actions into s; false
// (reported in Skipped or as an error) for any other target.
func (t *tmpl) alarmTarget(r *resource, s *Schedule, tg *tval, tf string) bool {
	arn := tg.get("Arn")
	if arn == nil || arn.kind != vScalar {
		t.errorf(tg.p, tf+".Arn", "missing")
		return false
	}
	switch arn.s {
	case disableAlarmActionsARN:
		s.Action = ActionDisableAlarmActions
	case enableAlarmActionsARN:
		s.Action = ActionEnableAlarmActions
	default:
		what := arn.s
		if parts := strings.SplitN(arn.s, ":", 6); len(parts) == 6 && parts[0] == "arn" {
			what = parts[2]
			if parts[2] == "scheduler" {
				what = parts[5]
			}
		}
		t.skip("%s (%s): %s target %s is not run (Trailwatch's schedules switch alarm actions: cloudwatch:disableAlarmActions and enableAlarmActions), skipped",
			r.id, r.typ, strings.TrimPrefix(tf, "Resources."+r.id+".Properties."), what)
		return false
	}
	in := tg.get("Input")
	if in == nil {
		t.errorf(tg.p, tf+".Input", `missing (want {"AlarmNames":[...]})`)
		return false
	}
	text := []byte(in.s)
	if in.kind != vScalar {
		text = in.appendJSON(nil)
	}
	var body struct {
		AlarmNames []string
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || dec.More() {
		msg := "trailing data"
		if err != nil {
			msg = err.Error()
		}
		t.errorf(in.p, tf+".Input", `want {"AlarmNames":[...]}: %s`, strings.TrimPrefix(msg, "json: "))
		return false
	}
	s.Alarms = body.AlarmNames
	return true
}

// scheduledRule reads an AWS::Events::Rule with a ScheduleExpression:
// each target that switches alarm actions becomes a schedule (Rule
// flavour: UTC, no start or end); any other target is reported in
// Skipped, since Trailwatch does not send the "Scheduled Event".
func (t *tmpl) scheduledRule(r *resource, v *tval, name string, enabled bool) {
	field := "Resources." + r.id + ".Properties"
	expr := v.get("ScheduleExpression")
	if expr.kind != vScalar {
		t.errorf(expr.p, field+".ScheduleExpression", "want a string")
		return
	}
	if _, err := schedule.ParseWith(expr.s, nil, schedule.Options{Flavour: schedule.Rule}); err != nil {
		t.errorf(expr.p, field+".ScheduleExpression", "%v", err)
		return
	}
	targets := t.propList(v, field, "Targets")
	if len(targets) == 0 {
		t.skip("%s (%s): a scheduled rule without targets does nothing, skipped", r.id, r.typ)
		return
	}
	for i, tg := range targets {
		tf := fmt.Sprintf("%s.Targets[%d]", field, i)
		if tg.kind != vMap {
			t.errorf(tg.p, tf, "want a mapping with Arn and Id")
			continue
		}
		for j, k := range tg.keys {
			if !targetKeys[k] {
				t.errorf(tg.vals[j].p, tf+"."+k, "unknown target property")
			}
		}
		id := scalarOf(tg.get("Id"))
		s := &Schedule{Name: name + "/" + id, Expression: expr.s, Source: t.source(r.p)}
		if !enabled {
			off := false
			s.Enabled = &off
		}
		if !t.alarmTarget(r, s, tg, tf) {
			continue
		}
		o := t.propOrigin(r, v, map[string]string{
			"name": "Name", "expression": "ScheduleExpression", "enabled": "State",
			"action": fmt.Sprintf("Targets[%d].Arn", i), "alarms": fmt.Sprintf("Targets[%d].Input", i),
		})
		t.out.schedules = append(t.out.schedules, scheduleItem{s, o, schedule.Rule, t.skipAs(r)})
	}
}
