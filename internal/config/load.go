package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/trailwatch/trailwatch/internal/rule"
)

// Load reads native configuration files (YAML) and CloudFormation templates
// (YAML or JSON, long and short intrinsic forms) into one Config, validated
// whole: every error names file:line:col and the field (or the template's
// logical ID), all errors joined. params are template parameter values
// (--parameter KEY=VALUE), which also set the pseudo parameters
// ("AWS::Region", "AWS::AccountId", "AWS::StackName", ...); env looks up
// ${ENV} references (os.LookupEnv in production, a map in tests).
//
// The built-in rule packs are included when a native file asks for them
// (builtin_rules, default true) or when there are no files at all; a set
// of templates alone runs only what the templates define, as in AWS.
//
// On error Load returns a nil Config.
func Load(configFiles, templateFiles []string, params map[string]string, env func(string) (string, bool)) (*Config, error) {
	return LoadWith(configFiles, templateFiles, nil, params, env)
}

// LoadWith is Load with external resources as well (Terraform's, read by
// internal/config/terraform), validated whole with the files: a native
// alarm may name a Terraform topic's ARN, a Terraform target a rule's.
// As with templates, resources alone run only what they define.
func LoadWith(configFiles, templateFiles []string, external []*Resources, params map[string]string, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	l := &errList{}
	cfg := &Config{}
	var receivers []receiverItem
	var routes []routeItem
	builtin := len(configFiles) > 0 || len(templateFiles) == 0 && len(external) == 0
	var rulePaths []string
	var filters []filterItem
	var alarms []alarmItem
	var schedules []scheduleItem
	var composites []compositeItem
	builtinMetrics := false
	type actionAt struct {
		name string
		o    *origin
	}
	var builtinActions []actionAt
	for _, file := range configFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("config: %w", err))
			continue
		}
		fc, positions := decodeNative(l, file, data, env)
		if fc.BuiltinRules != nil {
			builtin = *fc.BuiltinRules
		}
		if fc.Postgres != "" {
			cfg.Postgres = fc.Postgres
		}
		dir := filepath.Dir(file)
		for _, p := range fc.Rules {
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			rulePaths = append(rulePaths, p)
		}
		for i, r := range fc.Receivers {
			if r == nil {
				continue
			}
			field := fmt.Sprintf("receivers[%d]", i)
			receivers = append(receivers, receiverItem{r, &origin{file: file, field: field, positions: positions, at: positions[field]}})
		}
		for i, r := range fc.Routes {
			if r == nil {
				continue
			}
			field := fmt.Sprintf("routes[%d]", i)
			routes = append(routes, routeItem{r, &origin{file: file, field: field, positions: positions, at: positions[field]}})
		}
		if fc.BuiltinMetrics != nil {
			builtinMetrics = *fc.BuiltinMetrics
		}
		for i, a := range fc.BuiltinMetricsActions {
			field := fmt.Sprintf("builtin_metrics_actions[%d]", i)
			builtinActions = append(builtinActions, actionAt{a, &origin{file: file, field: field, positions: positions, at: positions[field]}})
		}
		filters, alarms, schedules = nativeMetrics(fc, file, positions, filters, alarms, schedules)
		composites = nativeComposites(fc, file, positions, composites)
	}
	var builtinAlarms []alarmItem
	if builtinMetrics {
		fs, as, err := builtinMetricItems(nil)
		if err != nil {
			l.errs = append(l.errs, err)
		}
		filters = append(filters, fs...)
		builtinAlarms = as
	} else if len(builtinActions) > 0 {
		builtinActions[0].o.errorf(l, "", nil, "given without builtin_metrics: true")
	}
	if builtin {
		rs, err := rule.Builtin()
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("builtin rules: %w", err))
		}
		cfg.Rules = append(cfg.Rules, rs...)
	}
	if len(rulePaths) > 0 {
		rs, err := rule.LoadFiles(rulePaths...)
		if err != nil {
			l.errs = append(l.errs, err)
		}
		cfg.Rules = append(cfg.Rules, rs...)
	}
	declared := map[string]bool{}
	results := make([]*templateResult, 0, len(templateFiles)+len(external))
	for _, file := range templateFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("template: %w", err))
			continue
		}
		results = append(results, loadTemplate(l, file, data, params))
	}
	for _, rs := range external {
		results = append(results, loadResources(l, rs))
	}
	for _, t := range results {
		for name := range t.declared {
			declared[name] = true
		}
		cfg.Rules = append(cfg.Rules, t.rules...)
		receivers = append(receivers, t.receivers...)
		routes = append(routes, t.routes...)
		cfg.Skipped = append(cfg.Skipped, t.skipped...)
		filters = append(filters, t.filters...)
		alarms = append(alarms, t.alarms...)
		composites = append(composites, t.composites...)
		schedules = append(schedules, t.schedules...)
		for arn, names := range t.topics {
			if cfg.Topics == nil {
				cfg.Topics = map[string][]string{}
			}
			cfg.Topics[arn] = append(cfg.Topics[arn], names...)
		}
	}
	var unknown []string
	for name := range params {
		if !declared[name] && !strings.HasPrefix(name, "AWS::") {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		l.errs = append(l.errs, fmt.Errorf("parameter %s: no template declares it", name))
	}

	// Rules: unique names.
	rules := map[string]*rule.Rule{}
	for _, r := range cfg.Rules {
		if prev, ok := rules[r.Name]; ok {
			l.errs = append(l.errs, fmt.Errorf("%s: rule %q: duplicate name (first defined at %s)", r.Source, r.Name, prev.Source))
			continue
		}
		rules[r.Name] = r
	}
	// Receivers: valid, unique names.
	names := map[string]*origin{}
	for _, it := range receivers {
		validateReceiver(l, it)
		if it.r.Name == "" {
			continue
		}
		if prev, ok := names[it.r.Name]; ok {
			it.o.errorf(l, "name", nil, "duplicate receiver name %q (first defined at %s:%d)", it.r.Name, prev.file, prev.at.line)
			continue
		}
		names[it.r.Name] = it.o
		cfg.Receivers = append(cfg.Receivers, it.r)
	}
	haveReceiver := make(map[string]bool, len(names))
	for n := range names {
		haveReceiver[n] = true
	}
	for _, it := range routes {
		validateRoute(l, it, haveReceiver, rules)
		cfg.Routes = append(cfg.Routes, it.r)
	}
	// The built-in alarms' actions, checked once here rather than on
	// each alarm.
	var actions []string
	for _, a := range builtinActions {
		if !builtinMetrics {
			break
		}
		if _, ok := cfg.Topics[a.name]; !ok && !haveReceiver[a.name] {
			a.o.errorf(l, "", nil, "no receiver named %q and no SNS topic with that ARN", a.name)
			continue
		}
		actions = append(actions, a.name)
	}
	for _, it := range builtinAlarms {
		it.a.AlarmActions = append([]string(nil), actions...)
	}
	checkAlarms(l, cfg, filters, append(builtinAlarms, alarms...), composites, schedules, haveReceiver, rules)
	if err := errors.Join(l.errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// nativeMetrics adds a native file's metric filters, alarms and schedules
// to the items to check.
func nativeMetrics(fc *fileConfig, file string, positions map[string]pos, filters []filterItem, alarms []alarmItem, schedules []scheduleItem) ([]filterItem, []alarmItem, []scheduleItem) {
	at := func(field string) *origin {
		return &origin{file: file, field: field, positions: positions, at: positions[field]}
	}
	for i, f := range fc.MetricFilters {
		if f == nil {
			continue
		}
		field := fmt.Sprintf("metric_filters[%d]", i)
		f.Source = fmt.Sprintf("%s:%d", file, positions[field].line)
		filters = append(filters, filterItem{f, at(field)})
	}
	for i, a := range fc.Alarms {
		if a == nil {
			continue
		}
		field := fmt.Sprintf("alarms[%d]", i)
		a.Source = fmt.Sprintf("%s:%d", file, positions[field].line)
		if a.ActionsEnabled == nil {
			on := true // CloudWatch's default
			a.ActionsEnabled = &on
		}
		alarms = append(alarms, alarmItem{a: a, o: at(field)})
	}
	for i, s := range fc.Schedules {
		if s == nil {
			continue
		}
		field := fmt.Sprintf("schedules[%d]", i)
		s.Source = fmt.Sprintf("%s:%d", file, positions[field].line)
		schedules = append(schedules, scheduleItem{s: s, o: at(field)})
	}
	return filters, alarms, schedules
}
