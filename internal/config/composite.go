package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// CompositeAlarm is a CloudWatch composite alarm (PutCompositeAlarm's
// fields): its state is its rule over the states of other alarms, metric
// or composite. Actions are SNS topic ARNs or receiver names, as a metric
// alarm's.
type CompositeAlarm struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// Rule is the AlarmRule: ALARM(name), OK(name), INSUFFICIENT_DATA(name),
	// TRUE, FALSE, AND, OR, NOT and parentheses; names or alarm ARNs.
	Rule                    string   `yaml:"rule"`
	ActionsEnabled          *bool    `yaml:"actions_enabled,omitempty"` // nil: true, as CloudWatch
	AlarmActions            []string `yaml:"alarm_actions,omitempty"`
	OKActions               []string `yaml:"ok_actions,omitempty"`
	InsufficientDataActions []string `yaml:"insufficient_data_actions,omitempty"`
	// ActionsSuppressor names (or gives the ARN of) the alarm whose ALARM
	// state suppresses the actions; the periods default to
	// DefaultSuppressorPeriod in native files (CloudFormation requires
	// them with ActionsSuppressor).
	ActionsSuppressor                string    `yaml:"actions_suppressor,omitempty"`
	ActionsSuppressorWaitPeriod      *Duration `yaml:"actions_suppressor_wait_period,omitempty"`
	ActionsSuppressorExtensionPeriod *Duration `yaml:"actions_suppressor_extension_period,omitempty"`
	Source                           string    `yaml:"-"`
}

// DefaultSuppressorPeriod is a native composite alarm's WaitPeriod and
// ExtensionPeriod when its actions_suppressor is set without them: the
// 60 seconds CloudWatch's guide recommends (and the CDK's default).
const DefaultSuppressorPeriod = Duration(time.Minute)

// CompositeConfig returns the composite alarm as internal/alarm runs it,
// ActionsEnabled true unless set false, unset periods 0.
func (a *CompositeAlarm) CompositeConfig() alarm.CompositeConfig {
	c := alarm.CompositeConfig{
		Name:                    a.Name,
		Description:             a.Description,
		Rule:                    a.Rule,
		ActionsEnabled:          a.ActionsEnabled == nil || *a.ActionsEnabled,
		AlarmActions:            append([]string(nil), a.AlarmActions...),
		OKActions:               append([]string(nil), a.OKActions...),
		InsufficientDataActions: append([]string(nil), a.InsufficientDataActions...),
		ActionsSuppressor:       a.ActionsSuppressor,
	}
	if a.ActionsSuppressorWaitPeriod != nil {
		c.ActionsSuppressorWaitPeriod = time.Duration(*a.ActionsSuppressorWaitPeriod)
	}
	if a.ActionsSuppressorExtensionPeriod != nil {
		c.ActionsSuppressorExtensionPeriod = time.Duration(*a.ActionsSuppressorExtensionPeriod)
	}
	return c
}

type compositeItem struct {
	a      *CompositeAlarm
	o      *origin
	skipAs string // "file: LogicalID (Type)" for template items
}

// compositeProps are the template property names of the native keys.
var compositeProps = map[string]string{
	"name": "AlarmName", "description": "AlarmDescription", "rule": "AlarmRule", "actions_enabled": "ActionsEnabled",
	"alarm_actions": "AlarmActions", "ok_actions": "OKActions", "insufficient_data_actions": "InsufficientDataActions",
	"actions_suppressor": "ActionsSuppressor", "actions_suppressor_wait_period": "ActionsSuppressorWaitPeriod",
	"actions_suppressor_extension_period": "ActionsSuppressorExtensionPeriod",
}

// compositeKeys maps PutCompositeAlarm's parameter names to native keys.
var compositeKeys = map[string]string{
	"AlarmName": "name", "AlarmDescription": "description", "AlarmRule": "rule",
	"AlarmActions": "alarm_actions", "OKActions": "ok_actions", "InsufficientDataActions": "insufficient_data_actions",
	"ActionsSuppressor": "actions_suppressor", "ActionsSuppressorWaitPeriod": "actions_suppressor_wait_period",
	"ActionsSuppressorExtensionPeriod": "actions_suppressor_extension_period",
}

// checkComposites validates the composite alarms and adds those that run
// to cfg.CompositeAlarms, each after the composites it references.
// declared are the names of every metric alarm written (run or not),
// run those of cfg.Alarms. A rule naming an alarm nothing defines is an
// error naming both; one naming an alarm that does not run (a template
// alarm on a metric no filter produces) skips a template composite and
// is an error for a native one. Composites must not reference each other
// in a cycle.
func checkComposites(l *errList, cfg *Config, items []compositeItem, declared, run map[string]bool, receivers map[string]bool) {
	byName := map[string]compositeItem{}
	var names []string
	for _, it := range items {
		a, o := it.a, it.o
		if prev, ok := byName[a.Name]; ok && a.Name != "" {
			o.errorf(l, "name", nil, "duplicate alarm name %q (first defined at %s:%d)", a.Name, prev.o.file, prev.o.at.line)
			continue
		}
		if declared[a.Name] {
			o.errorf(l, "name", nil, "alarm name %q is a metric alarm's too", a.Name)
			continue
		}
		n := len(l.errs)
		c := a.CompositeConfig()
		if err := c.Validate(); err != nil {
			for _, e := range unjoin(err) {
				var ve *alarm.ValidationError
				if errors.As(e, &ve) {
					o.errorf(l, compositeKeys[ve.Field], nil, "%s", ve.Message)
				} else {
					o.errorf(l, "", nil, "%v", e)
				}
			}
		}
		checkActions(l, o, receivers, cfg.Topics, a.AlarmActions, a.OKActions, a.InsufficientDataActions)
		if len(l.errs) > n {
			continue
		}
		byName[a.Name] = it
		names = append(names, a.Name)
	}
	// refs are the alarms a composite needs to run: its rule's and its
	// suppressor.
	refs := func(n string) []string {
		r, _ := alarm.ParseRule(byName[n].a.Rule)
		names := r.Names()
		if sup := byName[n].a.ActionsSuppressor; sup != "" {
			names = append(names, alarm.RefName(sup))
		}
		return names
	}
	order, err := alarm.CompositeOrder(names, refs)
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("composite_alarms: %w", err))
		return
	}
	runs := map[string]bool{}
	for _, n := range order {
		it := byName[n]
		ok := true
		for _, ref := range refs(n) {
			if run[ref] || runs[ref] {
				continue
			}
			_, isComposite := byName[ref]
			key, what := "rule", "references"
			if it.a.ActionsSuppressor != "" && alarm.RefName(it.a.ActionsSuppressor) == ref {
				key, what = "actions_suppressor", "has as actions suppressor"
			}
			switch {
			case !declared[ref] && !isComposite:
				it.o.errorf(l, key, nil, "composite alarm %q %s alarm %q, which no configuration defines", n, what, ref)
			case it.skipAs != "":
				cfg.Skipped = append(cfg.Skipped, fmt.Sprintf("%s: %s alarm %q, which is not run: not run", it.skipAs, what, ref))
			default:
				it.o.errorf(l, key, nil, "composite alarm %q %s alarm %q, which is not run", n, what, ref)
			}
			ok = false
			break
		}
		if ok {
			runs[n] = true
			cfg.CompositeAlarms = append(cfg.CompositeAlarms, it.a)
		}
	}
}

// checkActions checks that alarm actions name receivers or topics.
func checkActions(l *errList, o *origin, receivers map[string]bool, topics map[string][]string, alarmActions, okActions, insufficient []string) {
	for _, x := range []struct {
		key  string
		list []string
	}{{"alarm_actions", alarmActions}, {"ok_actions", okActions}, {"insufficient_data_actions", insufficient}} {
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

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// cloudWatchCompositeAlarm reads an AWS::CloudWatch::CompositeAlarm. Its
// AlarmRule is evaluated like any property (Fn::Sub, Fn::Join, Ref and
// Fn::GetAtt of alarms give their names and ARNs), and so is
// ActionsSuppressor with ActionsSuppressorWaitPeriod and
// ActionsSuppressorExtensionPeriod (seconds), which CloudFormation requires
// with it: without them the alarm runs with its actions never suppressed,
// which Skipped says.
func (t *tmpl) cloudWatchCompositeAlarm(r *resource, v *tval) {
	field := "Resources." + r.id + ".Properties"
	a := &CompositeAlarm{
		Name:           t.physicalName(r),
		Description:    t.propStr(v, field, "AlarmDescription"),
		Rule:           t.propStr(v, field, "AlarmRule"),
		ActionsEnabled: t.propBool(v, field, "ActionsEnabled"),
		Source:         t.source(r.p),
	}
	if v.get("AlarmRule") == nil {
		t.errorf(v.p, field+".AlarmRule", "missing")
	}
	if a.ActionsEnabled == nil {
		on := true // CloudWatch's default
		a.ActionsEnabled = &on
	}
	a.ActionsSuppressor = t.propStr(v, field, "ActionsSuppressor")
	var missing []string
	for _, p := range []struct {
		key string
		dst **Duration
	}{{"ActionsSuppressorWaitPeriod", &a.ActionsSuppressorWaitPeriod}, {"ActionsSuppressorExtensionPeriod", &a.ActionsSuppressorExtensionPeriod}} {
		if x := v.get(p.key); x == nil || x.isNull() {
			missing = append(missing, p.key)
			continue
		}
		d := Duration(time.Duration(t.propInt(v, field, p.key)) * time.Second)
		*p.dst = &d
	}
	if a.ActionsSuppressor != "" && len(missing) > 0 {
		// CloudFormation would refuse the template; the alarm runs
		// without its suppressor, which Skipped says.
		t.skip("%s (%s): ActionsSuppressor is not supported without %s (CloudFormation requires them): the alarm runs with its actions never suppressed",
			r.id, r.typ, strings.Join(missing, " and "))
		a.ActionsSuppressor, a.ActionsSuppressorWaitPeriod, a.ActionsSuppressorExtensionPeriod = "", nil, nil
	}
	a.AlarmActions = t.alarmActions(r, v, field, "AlarmActions")
	a.OKActions = t.alarmActions(r, v, field, "OKActions")
	a.InsufficientDataActions = t.alarmActions(r, v, field, "InsufficientDataActions")
	t.out.composites = append(t.out.composites, compositeItem{a, t.propOrigin(r, v, compositeProps), t.skipAs(r)})
}

// nativeComposites adds a native file's composite alarms to the items to
// check.
func nativeComposites(fc *fileConfig, file string, positions map[string]pos, items []compositeItem) []compositeItem {
	for i, a := range fc.CompositeAlarms {
		if a == nil {
			continue
		}
		field := fmt.Sprintf("composite_alarms[%d]", i)
		a.Source = fmt.Sprintf("%s:%d", file, positions[field].line)
		if a.ActionsEnabled == nil {
			on := true // CloudWatch's default
			a.ActionsEnabled = &on
		}
		if a.ActionsSuppressor != "" {
			for _, p := range []**Duration{&a.ActionsSuppressorWaitPeriod, &a.ActionsSuppressorExtensionPeriod} {
				if *p == nil {
					d := DefaultSuppressorPeriod
					*p = &d
				}
			}
		}
		items = append(items, compositeItem{a: a, o: &origin{file: file, field: field, positions: positions, at: positions[field]}})
	}
	return items
}

// alarmNames returns the names of the alarm items.
func alarmNames(items []alarmItem) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, it := range items {
		m[it.a.Name] = true
	}
	return m
}
