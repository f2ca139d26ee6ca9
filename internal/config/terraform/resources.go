package terraform

import (
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/trailwatch/trailwatch/internal/config"
)

// kinds are the resource types run, with their CloudFormation type and
// the arguments Terraform's AWS provider documents for them.
var kinds = map[string]struct {
	cfn   string
	known string
}{
	"aws_cloudwatch_event_rule": {"AWS::Events::Rule",
		"name name_prefix description event_pattern schedule_expression state is_enabled event_bus_name role_arn tags force_destroy region"},
	"aws_cloudwatch_event_target": {"",
		"rule arn target_id input input_path input_transformer event_bus_name role_arn http_target dead_letter_config retry_policy force_destroy region " +
			"batch_target ecs_target kinesis_target run_command_targets sqs_target redshift_target sagemaker_pipeline_target appsync_target"},
	"aws_sns_topic": {"AWS::SNS::Topic",
		"name name_prefix display_name policy delivery_policy kms_master_key_id fifo_topic content_based_deduplication tags signature_version " +
			"tracing_config archive_policy fifo_throughput_scope region application_success_feedback_role_arn application_success_feedback_sample_rate " +
			"application_failure_feedback_role_arn http_success_feedback_role_arn http_success_feedback_sample_rate http_failure_feedback_role_arn " +
			"lambda_success_feedback_role_arn lambda_success_feedback_sample_rate lambda_failure_feedback_role_arn sqs_success_feedback_role_arn " +
			"sqs_success_feedback_sample_rate sqs_failure_feedback_role_arn firehose_success_feedback_role_arn firehose_success_feedback_sample_rate firehose_failure_feedback_role_arn"},
	"aws_sns_topic_subscription": {"AWS::SNS::Subscription",
		"topic_arn protocol endpoint raw_message_delivery filter_policy filter_policy_scope delivery_policy redrive_policy replay_policy " +
			"subscription_role_arn confirmation_timeout_in_minutes endpoint_auto_confirms region"},
	"aws_cloudwatch_event_connection": {"AWS::Events::Connection",
		"name description authorization_type auth_parameters invocation_connectivity_parameters kms_key_identifier region"},
	"aws_cloudwatch_event_api_destination": {"AWS::Events::ApiDestination",
		"name description connection_arn http_method invocation_endpoint invocation_rate_limit_per_second region"},
	"aws_cloudwatch_log_metric_filter": {"AWS::Logs::MetricFilter",
		"name pattern log_group_name metric_transformation apply_on_transformed_logs region"},
	"aws_cloudwatch_metric_alarm": {"AWS::CloudWatch::Alarm",
		"alarm_name comparison_operator evaluation_periods metric_name namespace period statistic threshold threshold_metric_id actions_enabled " +
			"alarm_actions alarm_description datapoints_to_alarm dimensions insufficient_data_actions ok_actions unit extended_statistic " +
			"treat_missing_data evaluate_low_sample_count_percentiles metric_query tags region"},
	"aws_cloudwatch_composite_alarm": {"AWS::CloudWatch::CompositeAlarm",
		"alarm_name alarm_rule alarm_description actions_enabled alarm_actions ok_actions insufficient_data_actions actions_suppressor tags region"},
	"aws_scheduler_schedule": {"AWS::Scheduler::Schedule",
		"name name_prefix description group_name schedule_expression schedule_expression_timezone start_date end_date state " +
			"flexible_time_window target kms_key_arn action_after_completion region"},
}

// skipReason says why a resource type is not run.
func skipReason(typ string) string {
	switch {
	case strings.HasPrefix(typ, "aws_lambda_"):
		return "Lambda is not run: Trailwatch sends notifications itself, email through its own SMTP client (serve --smtp) rather than a function calling SES; give the SNS topic an email, http or https subscription"
	case strings.HasPrefix(typ, "aws_ses"):
		return "SES is not used: Trailwatch sends email itself (serve --smtp)"
	case strings.HasPrefix(typ, "aws_iam_"), typ == "aws_sns_topic_policy", typ == "aws_cloudwatch_event_permission":
		return "a permission for AWS to deliver; Trailwatch needs none"
	}
	return "resource type not run by Trailwatch"
}

func where(r hcl.Range) string { return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line) }

// out is what the modules' resources map to, with what mapping them
// needs across modules.
type out struct {
	rs         *config.Resources
	arnAddr    map[string]string           // ARN -> resource instance address
	targets    map[string][]target         // rule name -> targets
	ruleByName map[string]*config.Resource // rules by name
}

// target is an aws_cloudwatch_event_target, put into its rule's Targets
// once every module is mapped.
type target struct {
	addr string
	n    *node
}

// resourcesOut maps the module instance's evaluated resources to
// config's.
func (m *module) resourcesOut(o *out) {
	rs, arnAddr, targets, ruleByName := o.rs, o.arnAddr, o.targets, o.ruleByName
	for _, r := range m.resources {
		if r.data {
			continue
		}
		k, ok := kinds[r.typ]
		if !ok {
			rs.Skipped = append(rs.Skipped, fmt.Sprintf("%s: %s (%s): %s", where(r.block.DefRange()), m.full(r.addr()), r.typ, skipReason(r.typ)))
			continue
		}
		ctx := m.evalContext(nil)
		exps, _ := m.expand(m.full(r.addr()), r.block.Body, ctx, true)
		for _, ex := range exps {
			n := m.evalBody(ex.addr, r.block.Body, r.block.DefRange(), child(ctx, ex.ctx))
			m.checkKnown(ex.addr, n, k.known)
			res := &config.Resource{ID: ex.addr, Type: k.cfn, File: n.rng.Filename, Line: n.rng.Start.Line, Col: n.rng.Start.Column}
			p := &props{n: n, v: &config.Value{Kind: config.Map, File: n.rng.Filename, Line: n.rng.Start.Line, Col: n.rng.Start.Column}}
			name := r.name
			if in := m.find(r.addr(), ex.addr); in != nil {
				name = str(in.attrs, "name", r.name)
			}
			switch r.typ {
			case "aws_cloudwatch_event_target":
				rule, ok := n.attrs["rule"]
				if !ok || rule.v.Type() != cty.String {
					m.errorf(n.rng, "%s: rule: missing (the name of an aws_cloudwatch_event_rule)", ex.addr)
					continue
				}
				targets[rule.v.AsString()] = append(targets[rule.v.AsString()], target{ex.addr, n})
				continue
			case "aws_cloudwatch_event_rule":
				p.setStr("Name", name)
				p.copy("description", "Description")
				p.copy("event_pattern", "EventPattern")
				p.copy("schedule_expression", "ScheduleExpression")
				p.copy("event_bus_name", "EventBusName")
				p.copy("role_arn", "RoleArn")
				p.copy("state", "State")
				if e, ok := n.attrs["is_enabled"]; ok && e.v.Type() == cty.Bool && e.v.False() && !hasAttr(n, "state") {
					p.add("State", &config.Value{Str: "DISABLED", File: e.rng.Filename, Line: e.rng.Start.Line, Col: e.rng.Start.Column})
				}
				p.tags()
				ruleByName[name] = res
			case "aws_sns_topic":
				p.setStr("TopicName", name)
				p.copy("display_name", "DisplayName")
				p.copy("fifo_topic", "FifoTopic")
			case "aws_sns_topic_subscription":
				proto, ok := n.attrs["protocol"]
				if ok && proto.v.Type() == cty.String {
					switch strings.ToLower(proto.v.AsString()) {
					case "email", "http", "https":
					default:
						to := ""
						if e, ok := n.attrs["endpoint"]; ok && e.v.Type() == cty.String {
							to = " to " + e.v.AsString()
							if a, ok := arnAddr[e.v.AsString()]; ok {
								to = " to " + a
							}
						}
						rs.Skipped = append(rs.Skipped, fmt.Sprintf("%s: %s: protocol %s%s is not run: Trailwatch delivers a topic's email, http and https subscriptions itself and sends email without Lambda or SES",
							where(n.rng), ex.addr, proto.v.AsString(), to))
						continue
					}
				}
				p.copy("topic_arn", "TopicArn")
				p.copy("protocol", "Protocol")
				p.copy("endpoint", "Endpoint")
				p.copy("raw_message_delivery", "RawMessageDelivery")
				p.copy("filter_policy", "FilterPolicy")
				p.copy("delivery_policy", "DeliveryPolicy")
				p.copy("redrive_policy", "RedrivePolicy")
				p.copy("replay_policy", "ReplayPolicy")
			case "aws_cloudwatch_event_connection":
				p.setStr("Name", name)
				p.copy("description", "Description")
				p.copy("authorization_type", "AuthorizationType")
				if ap := p.block("auth_parameters"); ap != nil {
					out := ap.sub()
					if k := ap.block("api_key"); k != nil {
						s := k.sub()
						s.copy("key", "ApiKeyName")
						s.copy("value", "ApiKeyValue")
						out.add("ApiKeyAuthParameters", s.v)
					}
					if b := ap.block("basic"); b != nil {
						s := b.sub()
						s.copy("username", "Username")
						s.copy("password", "Password")
						out.add("BasicAuthParameters", s.v)
					}
					if o := ap.block("oauth"); o != nil {
						s := o.sub()
						s.copy("authorization_endpoint", "AuthorizationEndpoint")
						s.copy("http_method", "HttpMethod")
						if c := o.block("client_parameters"); c != nil {
							cs := c.sub()
							cs.copy("client_id", "ClientID")
							cs.copy("client_secret", "ClientSecret")
							s.add("ClientParameters", cs.v)
						}
						if h := o.block("oauth_http_parameters"); h != nil {
							s.add("OAuthHttpParameters", h.httpParams())
						}
						out.add("OAuthParameters", s.v)
					}
					if h := ap.block("invocation_http_parameters"); h != nil {
						out.add("InvocationHttpParameters", h.httpParams())
					}
					p.add("AuthParameters", out.v)
				}
			case "aws_cloudwatch_event_api_destination":
				p.setStr("Name", name)
				p.copy("description", "Description")
				p.copy("connection_arn", "ConnectionArn")
				p.copy("http_method", "HttpMethod")
				p.copy("invocation_endpoint", "InvocationEndpoint")
				p.copy("invocation_rate_limit_per_second", "InvocationRateLimitPerSecond")
			case "aws_cloudwatch_log_metric_filter":
				p.setStr("FilterName", name)
				p.copy("pattern", "FilterPattern")
				p.copy("log_group_name", "LogGroupName")
				var list []*config.Value
				for _, mt := range n.blocks["metric_transformation"] {
					s := (&props{n: mt}).sub()
					s.copy("name", "MetricName")
					s.copy("namespace", "MetricNamespace")
					s.copy("value", "MetricValue")
					s.copy("default_value", "DefaultValue")
					s.copy("unit", "Unit")
					if d, ok := mt.attrs["dimensions"]; ok {
						s.add("Dimensions", pairs(d, "Key", "Value"))
					}
					list = append(list, s.v)
				}
				if list != nil {
					p.add("MetricTransformations", &config.Value{Kind: config.List, List: list, File: n.rng.Filename, Line: n.rng.Start.Line})
				}
			case "aws_cloudwatch_metric_alarm":
				p.setStr("AlarmName", str(m.find(r.addr(), ex.addr).attrsOr(), "alarm_name", r.name))
				for _, c := range [][2]string{{"comparison_operator", "ComparisonOperator"}, {"evaluation_periods", "EvaluationPeriods"},
					{"metric_name", "MetricName"}, {"namespace", "Namespace"}, {"period", "Period"}, {"statistic", "Statistic"},
					{"threshold", "Threshold"}, {"threshold_metric_id", "ThresholdMetricId"}, {"actions_enabled", "ActionsEnabled"},
					{"alarm_actions", "AlarmActions"}, {"alarm_description", "AlarmDescription"}, {"datapoints_to_alarm", "DatapointsToAlarm"},
					{"insufficient_data_actions", "InsufficientDataActions"}, {"ok_actions", "OKActions"}, {"unit", "Unit"},
					{"extended_statistic", "ExtendedStatistic"}, {"treat_missing_data", "TreatMissingData"},
					{"evaluate_low_sample_count_percentiles", "EvaluateLowSampleCountPercentile"}} {
					p.copy(c[0], c[1])
				}
				if d, ok := n.attrs["dimensions"]; ok {
					p.add("Dimensions", pairs(d, "Name", "Value"))
				}
				if mq := n.blocks["metric_query"]; len(mq) > 0 {
					p.add("Metrics", &config.Value{Kind: config.List, File: mq[0].rng.Filename, Line: mq[0].rng.Start.Line, Col: mq[0].rng.Start.Column})
				}
			case "aws_cloudwatch_composite_alarm":
				p.setStr("AlarmName", str(m.find(r.addr(), ex.addr).attrsOr(), "alarm_name", r.name))
				for _, c := range [][2]string{{"alarm_rule", "AlarmRule"}, {"alarm_description", "AlarmDescription"},
					{"actions_enabled", "ActionsEnabled"}, {"alarm_actions", "AlarmActions"}, {"ok_actions", "OKActions"},
					{"insufficient_data_actions", "InsufficientDataActions"}} {
					p.copy(c[0], c[1])
				}
				if as := n.blocks["actions_suppressor"]; len(as) > 0 {
					s := &props{n: as[0], v: p.v}
					s.copy("alarm", "ActionsSuppressor")
					s.copy("wait_period", "ActionsSuppressorWaitPeriod")
					s.copy("extension_period", "ActionsSuppressorExtensionPeriod")
				}
			case "aws_scheduler_schedule":
				p.setStr("Name", name)
				for _, c := range [][2]string{{"description", "Description"}, {"group_name", "GroupName"}, {"schedule_expression", "ScheduleExpression"},
					{"schedule_expression_timezone", "ScheduleExpressionTimezone"}, {"start_date", "StartDate"}, {"end_date", "EndDate"},
					{"state", "State"}, {"action_after_completion", "ActionAfterCompletion"}, {"kms_key_arn", "KmsKeyArn"}} {
					p.copy(c[0], c[1])
				}
				if fw := p.block("flexible_time_window"); fw != nil {
					s := fw.sub()
					s.copy("mode", "Mode")
					s.copy("maximum_window_in_minutes", "MaximumWindowInMinutes")
					p.add("FlexibleTimeWindow", s.v)
				}
				if tg := p.block("target"); tg != nil {
					s := tg.sub()
					s.copy("arn", "Arn")
					s.copy("role_arn", "RoleArn")
					s.copy("input", "Input")
					p.add("Target", s.v)
				}
			}
			res.Props = p.v
			rs.Items = append(rs.Items, *res)
		}
	}
}

// attachTargets puts the targets into their rules' Targets, in address
// order: a target names its rule by name, in any module.
func (r *reader) attachTargets(o *out) {
	rs, targets, ruleByName := o.rs, o.targets, o.ruleByName
	// Targets go into their rule's Targets, in address order.
	names := make([]string, 0, len(targets))
	for name := range targets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rule := ruleByName[name]
		ts := targets[name]
		if rule == nil {
			for _, t := range ts {
				a := t.n.attrs["rule"]
				r.errorf(a.rng, "%s: rule: no aws_cloudwatch_event_rule named %q in these files", t.addr, name)
			}
			continue
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].addr < ts[j].addr })
		var list []*config.Value
		for _, t := range ts {
			s := (&props{n: t.n}).sub()
			s.copy("arn", "Arn")
			id := t.addr
			if v, ok := t.n.attrs["target_id"]; ok && v.v.Type() == cty.String {
				id = v.v.AsString()
			}
			s.setStr("Id", id)
			s.copy("input", "Input")
			s.copy("input_path", "InputPath")
			s.copy("role_arn", "RoleArn")
			if it := s.block("input_transformer"); it != nil {
				x := it.sub()
				x.copy("input_paths", "InputPathsMap")
				x.copy("input_template", "InputTemplate")
				s.add("InputTransformer", x.v)
			}
			if ht := s.block("http_target"); ht != nil {
				x := ht.sub()
				x.copy("header_parameters", "HeaderParameters")
				x.copy("query_string_parameters", "QueryStringParameters")
				x.copy("path_parameter_values", "PathParameterValues")
				s.add("HttpParameters", x.v)
			}
			list = append(list, s.v)
		}
		for i := range rs.Items {
			if rs.Items[i].ID == rule.ID {
				rs.Items[i].Props.Keys = append(rs.Items[i].Props.Keys, "Targets")
				rs.Items[i].Props.Vals = append(rs.Items[i].Props.Vals, &config.Value{Kind: config.List, List: list, File: rule.File, Line: rule.Line, Col: rule.Col})
			}
		}
	}
}

func (m *module) find(addr, instAddr string) *instance {
	for _, in := range m.instances[addr] {
		if in.addr == instAddr {
			return in
		}
	}
	return nil
}

func (in *instance) attrsOr() map[string]cty.Value {
	if in == nil {
		return nil
	}
	return in.attrs
}

// checkKnown reports arguments the resource type does not have.
func (m *module) checkKnown(addr string, n *node, known string) {
	ok := map[string]bool{}
	for _, k := range strings.Fields(known) {
		ok[k] = true
	}
	for _, name := range n.names {
		if ok[name] {
			continue
		}
		rng := n.rng
		if a, found := n.attrs[name]; found {
			rng = a.rng
		} else if at, found := n.at[name]; found {
			rng = at
		}
		m.errorf(rng, "%s: unsupported argument %q", addr, name)
	}
}

// props builds a CloudFormation property mapping from a block.
type props struct {
	n *node
	v *config.Value
}

func (p *props) add(key string, v *config.Value) {
	p.v.Keys = append(p.v.Keys, key)
	p.v.Vals = append(p.v.Vals, v)
}

func (p *props) setStr(key, s string) {
	p.add(key, &config.Value{Str: s, Tag: "str", File: p.v.File, Line: p.v.Line, Col: p.v.Col})
}

// copy sets key to the block's attribute name, when given and not null.
func (p *props) copy(name, key string) {
	a, ok := p.n.attrs[name]
	if !ok || a.v.IsNull() {
		return
	}
	p.add(key, value(a.v, a.rng))
}

func (p *props) block(name string) *props {
	bs := p.n.blocks[name]
	if len(bs) == 0 {
		return nil
	}
	return &props{n: bs[0]}
}

// sub starts a mapping for this block's values.
func (p *props) sub() *props {
	return &props{n: p.n, v: &config.Value{Kind: config.Map, File: p.n.rng.Filename, Line: p.n.rng.Start.Line, Col: p.n.rng.Start.Column}}
}

// tags turns tags = {...} into CloudFormation's [{Key, Value}] (for
// trailwatch:severity and trailwatch:tags).
func (p *props) tags() {
	if a, ok := p.n.attrs["tags"]; ok && !a.v.IsNull() {
		p.add("Tags", pairs(a, "Key", "Value"))
	}
}

// httpParams maps a connection's parameters blocks (header, query_string,
// body: {key, value, is_value_secret}) to CloudFormation's lists.
func (p *props) httpParams() *config.Value {
	out := p.sub()
	for _, c := range [][2]string{{"header", "HeaderParameters"}, {"query_string", "QueryStringParameters"}, {"body", "BodyParameters"}} {
		var list []*config.Value
		for _, b := range p.n.blocks[c[0]] {
			s := (&props{n: b}).sub()
			s.copy("key", "Key")
			s.copy("value", "Value")
			list = append(list, s.v)
		}
		if list != nil {
			out.add(c[1], &config.Value{Kind: config.List, List: list, File: p.n.rng.Filename, Line: p.n.rng.Start.Line})
		}
	}
	return out.v
}

// pairs turns a map into a list of {k: key, v: value}, keys sorted.
func pairs(a attr, k, v string) *config.Value {
	out := &config.Value{Kind: config.List, File: a.rng.Filename, Line: a.rng.Start.Line, Col: a.rng.Start.Column}
	if !a.v.CanIterateElements() {
		return value(a.v, a.rng)
	}
	type kv struct {
		k string
		v cty.Value
	}
	var kvs []kv
	for it := a.v.ElementIterator(); it.Next(); {
		key, val := it.Element()
		if key.Type() != cty.String {
			return value(a.v, a.rng)
		}
		kvs = append(kvs, kv{key.AsString(), val})
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
	for _, e := range kvs {
		out.List = append(out.List, &config.Value{Kind: config.Map, Keys: []string{k, v},
			Vals: []*config.Value{value(cty.StringVal(e.k), a.rng), value(e.v, a.rng)}, File: a.rng.Filename, Line: a.rng.Start.Line, Col: a.rng.Start.Column})
	}
	return out
}

// value converts an evaluated value, located at rng.
func value(v cty.Value, rng hcl.Range) *config.Value {
	out := &config.Value{File: rng.Filename, Line: rng.Start.Line, Col: rng.Start.Column}
	if v.IsMarked() {
		v, _ = v.Unmark()
	}
	ty := v.Type()
	switch {
	case v.IsNull():
		out.Tag = "null"
	case ty == cty.String:
		out.Str, out.Tag = v.AsString(), "str"
	case ty == cty.Bool:
		out.Str, out.Tag = fmt.Sprint(v.True()), "bool"
	case ty == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			i, _ := bf.Int(nil)
			out.Str, out.Tag = i.String(), "int"
		} else {
			out.Str, out.Tag = bf.Text('g', -1), "float"
			if f, _ := bf.Float64(); big.NewFloat(f).Cmp(bf) == 0 {
				out.Str = fmt.Sprint(f)
			}
		}
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		out.Kind = config.List
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out.List = append(out.List, value(e, rng))
		}
	case ty.IsMapType() || ty.IsObjectType():
		out.Kind = config.Map
		var keys []string
		vals := map[string]cty.Value{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			keys = append(keys, k.AsString())
			vals[k.AsString()] = e
		}
		sort.Strings(keys)
		for _, k := range keys {
			out.Keys = append(out.Keys, k)
			out.Vals = append(out.Vals, value(vals[k], rng))
		}
	default:
		out.Str, out.Tag = v.GoString(), "str"
	}
	return out
}

func hasAttr(n *node, name string) bool {
	_, ok := n.attrs[name]
	return ok
}
