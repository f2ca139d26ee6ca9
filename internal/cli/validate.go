package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/config"
	tfconfig "github.com/trailwatch/trailwatch/internal/config/terraform"
)

const validateHelp = "validate [--config FILE]... [--template FILE [--parameter KEY=VALUE]...] [--terraform FILE|DIR [--var NAME=VALUE]...]... [-q]"

// runValidate is `trailwatch validate`: load a configuration as serve
// would, without running it; print what it would run and every problem.
// Exit 0 when valid, 2 otherwise.
func runValidate(_ context.Context, args []string, env *Env) (int, error) {
	fs := newFlagSet("validate", env, validateHelp)
	var configs, templates, terraform stringList
	params, tfVars := keyValues{}, keyValues{}
	fs.Var(&configs, "config", "native YAML configuration `FILE`; repeatable")
	fs.Var(&templates, "template", "CloudFormation template `FILE`; repeatable")
	fs.Var(params, "parameter", "template parameter `KEY=VALUE` (also AWS::Region, AWS::AccountId, AWS::StackName); repeatable")
	fs.Var(&terraform, "terraform", "Terraform `FILE` or directory of .tf files; repeatable")
	fs.Var(tfVars, "var", "Terraform variable `NAME=VALUE` (also TF_VAR_NAME); repeatable")
	quiet := fs.Bool("q", false, "print only the problems")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return ExitFailure, err
	}
	if len(pos) > 0 {
		return ExitFailure, fmt.Errorf("%w: unexpected argument %q (give files with --config, --template)", errUsage, pos[0])
	}
	if len(configs) == 0 && len(templates) == 0 && len(terraform) == 0 {
		return ExitFailure, fmt.Errorf("%w: give at least one --config, --template or --terraform", errUsage)
	}
	var external []*config.Resources
	if len(terraform) > 0 {
		var rs *config.Resources
		if rs, err = tfconfig.Read(terraform, tfVars, os.LookupEnv); err == nil {
			external = append(external, rs)
		}
	}
	var cfg *config.Config
	if err == nil {
		cfg, err = config.LoadWith(configs, templates, external, params, os.LookupEnv)
	}
	if err != nil {
		problems := flattenErrors(err)
		for _, p := range problems {
			fmt.Fprintln(env.Stderr, p)
		}
		fmt.Fprintf(env.Stderr, "invalid: %d problem(s)\n", len(problems))
		return ExitFailure, nil
	}
	if !*quiet {
		describeConfig(env.Stdout, cfg)
	}
	fmt.Fprintln(env.Stdout, "valid")
	return ExitOK, nil
}

// flattenErrors unwraps joined errors into one message per problem, each
// on a single line.
func flattenErrors(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		for _, line := range strings.Split(e.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
	}
	walk(err)
	return out
}

// describeConfig prints what serve would run.
func describeConfig(w io.Writer, cfg *config.Config) {
	fmt.Fprintf(w, "rules: %d\n", len(cfg.Rules))
	for _, r := range cfg.Rules {
		ro := ""
		if r.IncludeReadOnly {
			ro = ", read-only events too"
		}
		fmt.Fprintf(w, "  %s (%s%s) %s\n", r.Name, r.Severity, ro, r.Source)
	}
	fmt.Fprintf(w, "receivers: %d\n", len(cfg.Receivers))
	for _, r := range cfg.Receivers {
		fmt.Fprintf(w, "  %s (%s)\n", r.Name, r.Type())
	}
	fmt.Fprintf(w, "routes: %d\n", len(cfg.Routes))
	for _, r := range cfg.Routes {
		var sel []string
		if len(r.Rules) > 0 {
			sel = append(sel, "rules "+strings.Join(r.Rules, ","))
		}
		if len(r.Tags) > 0 {
			sel = append(sel, "tags "+strings.Join(r.Tags, ","))
		}
		if r.MinSeverity != nil {
			sel = append(sel, "severity >= "+r.MinSeverity.String())
		}
		if len(sel) == 0 {
			sel = append(sel, "all rules")
		}
		name := r.Name
		if name == "" {
			name = "(unnamed)"
		}
		fmt.Fprintf(w, "  %s: %s -> %s\n", name, strings.Join(sel, "; "), strings.Join(r.Receivers, ", "))
	}
	fmt.Fprintf(w, "metric filters: %d\n", len(cfg.MetricFilters))
	for _, f := range cfg.MetricFilters {
		var metrics []string
		for _, m := range f.Transformations {
			metrics = append(metrics, m.MetricNamespace+"/"+m.MetricName)
		}
		fmt.Fprintf(w, "  %s: %q -> %s %s\n", f.Name, f.FilterPattern, strings.Join(metrics, ", "), f.Source)
	}
	fmt.Fprintf(w, "alarms: %d\n", len(cfg.Alarms))
	for _, a := range cfg.Alarms {
		fmt.Fprintf(w, "  %s: %s(%s/%s) over %s x%d %s %g -> %s %s\n", a.Name, a.Statistic, a.Namespace, a.MetricName,
			time.Duration(a.Period), a.EvaluationPeriods, a.ComparisonOperator, a.Threshold, orNone(a.AlarmActions), a.Source)
	}
	if len(cfg.CompositeAlarms) > 0 {
		fmt.Fprintf(w, "composite alarms: %d\n", len(cfg.CompositeAlarms))
		for _, c := range cfg.CompositeAlarms {
			fmt.Fprintf(w, "  %s: %s -> %s %s\n", c.Name, c.Rule, orNone(c.AlarmActions), c.Source)
		}
	}
	fmt.Fprintf(w, "schedules: %d\n", len(cfg.Schedules))
	for _, s := range cfg.Schedules {
		tz := s.TimeZone
		if tz == "" {
			tz = "UTC"
		}
		var on []string
		on = append(on, s.Alarms...)
		on = append(on, s.Rules...)
		on = append(on, s.Routes...)
		fmt.Fprintf(w, "  %s: %s %s: %s %s %s\n", s.Name, s.Expression, tz, s.Action, orNone(on), s.Source)
	}
	if len(cfg.Topics) > 0 {
		arns := make([]string, 0, len(cfg.Topics))
		for arn := range cfg.Topics {
			arns = append(arns, arn)
		}
		sort.Strings(arns)
		fmt.Fprintf(w, "topics: %d\n", len(arns))
		for _, arn := range arns {
			fmt.Fprintf(w, "  %s -> %s\n", arn, orNone(cfg.Topics[arn]))
		}
	}
	fmt.Fprintf(w, "skipped: %d\n", len(cfg.Skipped))
	for _, s := range cfg.Skipped {
		fmt.Fprintf(w, "  %s\n", s)
	}
}

func orNone(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return strings.Join(l, ", ")
}
