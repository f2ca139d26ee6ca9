package config

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/trailwatch/trailwatch/internal/rule"
)

// nameProps is the property holding each resource type's physical name.
var nameProps = map[string]string{
	"AWS::Events::Rule":               "Name",
	"AWS::Events::Connection":         "Name",
	"AWS::Events::ApiDestination":     "Name",
	"AWS::SNS::Topic":                 "TopicName",
	"AWS::IAM::Role":                  "RoleName",
	"AWS::IAM::User":                  "UserName",
	"AWS::IAM::Group":                 "GroupName",
	"AWS::IAM::ManagedPolicy":         "ManagedPolicyName",
	"AWS::IAM::Policy":                "PolicyName",
	"AWS::Lambda::Function":           "FunctionName",
	"AWS::SQS::Queue":                 "QueueName",
	"AWS::Logs::LogGroup":             "LogGroupName",
	"AWS::CloudWatch::Alarm":          "AlarmName",
	"AWS::CloudWatch::CompositeAlarm": "AlarmName",
	"AWS::Scheduler::Schedule":        "Name",
	"AWS::Logs::MetricFilter":         "FilterName",
}

// physicalName is a resource's name: its name property, or
// "<stack>-<logical ID>" as CloudFormation generates one (without the
// random suffix).
func (t *tmpl) physicalName(r *resource) string {
	switch r.nameState {
	case 2:
		return r.name
	case 1:
		t.errorf(r.p, "Resources."+r.id, "the resource's name refers to itself")
		return r.id
	}
	r.nameState = 1
	name := t.stack + "-" + r.id
	switch r.typ {
	case "AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm", "AWS::Logs::MetricFilter", "AWS::Scheduler::Schedule":
		// Named by their logical ID when unnamed, so that a schedule's
		// AlarmNames can be written as the template reads.
		name = r.id
	}
	if prop, ok := nameProps[r.typ]; ok {
		if v := r.props.get(prop); v != nil {
			if x, ok := t.evalString(v, "Resources."+r.id+".Properties."+prop, 0); ok {
				name = x.s
			}
		}
	}
	if r.typ == "AWS::SNS::Topic" && r.props.get("TopicName") == nil && strings.EqualFold(scalarOf(r.props.get("FifoTopic")), "true") {
		name += ".fifo"
	}
	r.name, r.nameState = name, 2
	return name
}

func (t *tmpl) arn(service, resource string) string {
	region := t.region()
	if service == "iam" {
		region = ""
	}
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", t.partition(), service, region, t.account(), resource)
}

// refValue is what Ref returns for a resource.
func (t *tmpl) refValue(r *resource) *tval {
	name := t.physicalName(r)
	var s string
	switch r.typ {
	case "AWS::SNS::Topic":
		s = t.arn("sns", name)
	case "AWS::SNS::Subscription":
		s = t.arn("sns", t.stack+"-"+r.id) + ":00000000-0000-0000-0000-000000000000"
	case "AWS::SQS::Queue":
		s = fmt.Sprintf("https://sqs.%s.%s/%s/%s", t.region(), t.pseudo["AWS::URLSuffix"].s, t.account(), name)
	default:
		s = name
	}
	return strVal(s, r.p, false)
}

// attValue is what Fn::GetAtt returns.
func (t *tmpl) attValue(r *resource, attr string) (*tval, bool) {
	name := t.physicalName(r)
	var s string
	switch r.typ + "." + attr {
	case "AWS::SNS::Topic.TopicArn":
		s = t.arn("sns", name)
	case "AWS::SNS::Topic.TopicName":
		s = name
	case "AWS::Events::Rule.Arn":
		s = t.arn("events", "rule/"+name)
	case "AWS::Events::Connection.Arn", "AWS::Events::Connection.ArnForPolicy":
		s = t.arn("events", "connection/"+name+"/00000000-0000-0000-0000-000000000000")
	case "AWS::Events::Connection.SecretArn":
		s = t.arn("secretsmanager", "secret:events!connection/"+name)
	case "AWS::Events::ApiDestination.Arn", "AWS::Events::ApiDestination.ArnForPolicy":
		s = t.arn("events", "api-destination/"+name+"/00000000-0000-0000-0000-000000000000")
	case "AWS::IAM::Role.Arn":
		s = t.arn("iam", "role/"+name)
	case "AWS::IAM::Role.RoleId", "AWS::IAM::User.Arn", "AWS::IAM::Group.Arn":
		s = t.arn("iam", strings.ToLower(strings.TrimPrefix(r.typ, "AWS::IAM::"))+"/"+name)
	case "AWS::IAM::ManagedPolicy.PolicyArn":
		s = t.arn("iam", "policy/"+name)
	case "AWS::Lambda::Function.Arn":
		s = t.arn("lambda", "function:"+name)
	case "AWS::SQS::Queue.Arn":
		s = t.arn("sqs", name)
	case "AWS::SQS::Queue.QueueName":
		s = name
	case "AWS::SQS::Queue.QueueUrl":
		s = t.refValue(r).s
	case "AWS::CloudWatch::Alarm.Arn", "AWS::CloudWatch::CompositeAlarm.Arn":
		s = t.arn("cloudwatch", "alarm:"+name)
	case "AWS::Scheduler::Schedule.Arn":
		group := "default"
		if g := r.props.get("GroupName"); g != nil && g.kind == vScalar && g.s != "" {
			group = g.s
		}
		s = t.arn("scheduler", "schedule/"+group+"/"+name)
	case "AWS::Logs::LogGroup.Arn":
		s = t.arn("logs", "log-group:"+name+":*")
	default:
		if _, known := interpreted[r.typ]; known || r.typ == "AWS::SNS::Subscription" {
			return nil, false
		}
		// A resource Trailwatch does not run: any attribute, a stand-in
		// value, so that references to it still resolve.
		svc := "unknown"
		if parts := strings.Split(r.typ, "::"); len(parts) == 3 {
			svc = strings.ToLower(parts[1])
		}
		if strings.HasSuffix(attr, "Arn") {
			s = t.arn(svc, strings.ToLower(strings.TrimPrefix(r.typ, "AWS::"+parts1(r.typ)+"::"))+"/"+name)
		} else {
			s = name + "." + attr
		}
	}
	return strVal(s, r.p, false), true
}

func parts1(typ string) string {
	if parts := strings.Split(typ, "::"); len(parts) == 3 {
		return parts[1]
	}
	return ""
}

// interpreted are the resource types a template runs (or accepts with no
// effect); their properties are checked.
var interpreted = map[string]map[string]bool{
	"AWS::Events::Rule": set("Description", "EventBusName", "EventPattern", "Name", "RoleArn", "ScheduleExpression", "State", "Targets", "Tags"),
	"AWS::Events::Connection": set("Name", "Description", "AuthorizationType", "AuthParameters", "InvocationConnectivityParameters",
		"KmsKeyIdentifier"),
	"AWS::Events::ApiDestination": set("Name", "Description", "ConnectionArn", "HttpMethod", "InvocationEndpoint", "InvocationRateLimitPerSecond"),
	"AWS::SNS::Topic": set("ArchivePolicy", "ContentBasedDeduplication", "DataProtectionPolicy", "DeliveryStatusLogging", "DisplayName",
		"FifoThroughputScope", "FifoTopic", "KmsMasterKeyId", "SignatureVersion", "Subscription", "Tags", "TopicName", "TracingConfig"),
	"AWS::Logs::MetricFilter": set("FilterName", "FilterPattern", "LogGroupName", "MetricTransformations",
		"ApplyOnTransformedLogs", "EmitSystemFieldDimensions", "FieldSelectionCriteria"),
	"AWS::CloudWatch::Alarm": set("ActionsEnabled", "AlarmActions", "AlarmDescription", "AlarmName", "ComparisonOperator",
		"DatapointsToAlarm", "Dimensions", "EvaluateLowSampleCountPercentile", "EvaluationPeriods", "ExtendedStatistic",
		"InsufficientDataActions", "MetricName", "Metrics", "Namespace", "OKActions", "Period", "Statistic", "Tags",
		"Threshold", "ThresholdMetricId", "TreatMissingData", "Unit"),
	"AWS::CloudWatch::CompositeAlarm": set("ActionsEnabled", "ActionsSuppressor", "ActionsSuppressorExtensionPeriod",
		"ActionsSuppressorWaitPeriod", "AlarmActions", "AlarmDescription", "AlarmName", "AlarmRule", "InsufficientDataActions",
		"OKActions", "Tags"),
	"AWS::Scheduler::Schedule": set("ActionAfterCompletion", "Description", "EndDate", "FlexibleTimeWindow", "GroupName",
		"KmsKeyArn", "Name", "ScheduleExpression", "ScheduleExpressionTimezone", "StartDate", "State", "Target"),
	"AWS::SNS::Subscription": set("DeliveryPolicy", "Endpoint", "FilterPolicy", "FilterPolicyScope", "Protocol", "RawMessageDelivery",
		"RedrivePolicy", "Region", "ReplayPolicy", "SubscriptionRoleArn", "TopicArn"),
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// noEffect reports whether a resource type is accepted with no effect.
func noEffect(typ string) bool {
	return typ == "AWS::SNS::TopicPolicy" || typ == "AWS::SNS::TopicInlinePolicy" || strings.HasPrefix(typ, "AWS::IAM::")
}

// build turns the template's resources into rules, receivers and routes.
func (t *tmpl) build() {
	props := map[string]*tval{}
	for _, id := range t.order {
		r := t.resources[id]
		if !r.created {
			continue
		}
		field := "Resources." + id + ".Properties"
		known, ok := interpreted[r.typ]
		if !ok {
			if noEffect(r.typ) {
				// Accepted with no effect; still resolved, for errors.
				t.eval(r.props, field)
				continue
			}
			t.skip("%s (%s): resource type not supported, skipped", id, r.typ)
			// Indexed all the same, so that a target naming it is
			// reported with its logical ID.
			t.arnIndex[t.refValue(r).s] = id
			if a, ok := t.attValue(r, "Arn"); ok {
				t.arnIndex[a.s] = id
			}
			continue
		}
		for i, k := range r.props.keys {
			if !known[k] {
				t.errorf(r.props.vals[i].p, field+"."+k, "unknown property of %s", r.typ)
			}
		}
		v, ok := t.eval(r.props, field)
		if !ok || v == nil {
			continue
		}
		props[id] = v
		r.evaluated = v
		t.arnIndex[t.refValue(r).s] = id
		if a, ok := t.attValue(r, "Arn"); ok {
			t.arnIndex[a.s] = id
		}
	}
	// Receivers of topics, then API destinations, then rules.
	topicSubs := map[string][]string{} // topic ARN -> receiver names
	for _, id := range t.order {
		r, v := t.resources[id], props[id]
		if v == nil {
			continue
		}
		switch r.typ {
		case "AWS::SNS::Topic":
			arn := t.refValue(r).s
			topicSubs[arn] = topicSubs[arn][:len(topicSubs[arn]):len(topicSubs[arn])]
			if subs := v.get("Subscription"); subs != nil {
				if subs.kind != vList {
					t.errorf(subs.p, "Resources."+id+".Properties.Subscription", "want a list")
					break
				}
				for i, s := range subs.list {
					f := fmt.Sprintf("Resources.%s.Properties.Subscription[%d]", id, i)
					if s.kind != vMap {
						t.errorf(s.p, f, "want a mapping with Protocol and Endpoint")
						continue
					}
					for j, k := range s.keys {
						if k != "Protocol" && k != "Endpoint" {
							t.errorf(s.vals[j].p, f+"."+k, "unknown property (want Protocol and Endpoint)")
						}
					}
					name := fmt.Sprintf("%s/%s/%d", t.stack, id, i)
					if t.subscriptionReceiver(name, f, arn, s, false) {
						topicSubs[arn] = append(topicSubs[arn], name)
					}
				}
			}
		case "AWS::SNS::Subscription":
			f := "Resources." + id + ".Properties"
			topic := v.get("TopicArn")
			if topic == nil || topic.kind != vScalar {
				t.errorf(v.p, f+".TopicArn", "missing")
				continue
			}
			for _, k := range []string{"FilterPolicy", "DeliveryPolicy", "RedrivePolicy", "ReplayPolicy"} {
				if v.get(k) != nil {
					t.skip("%s (%s): %s is not applied", id, r.typ, k)
				}
			}
			raw := strings.EqualFold(scalarOf(v.get("RawMessageDelivery")), "true")
			name := t.stack + "/" + id
			if t.subscriptionReceiver(name, f, topic.s, v, raw) {
				topicSubs[topic.s] = append(topicSubs[topic.s], name)
			}
		}
	}
	for arn, names := range topicSubs {
		t.out.topics[arn] = names
	}
	apiDest := map[string]*APIDestinationConfig{} // logical ID -> config
	for _, id := range t.order {
		r, v := t.resources[id], props[id]
		if v == nil || r.typ != "AWS::Events::ApiDestination" {
			continue
		}
		if a := t.apiDestination(r, v); a != nil {
			apiDest[id] = a
		}
	}
	for _, id := range t.order {
		r, v := t.resources[id], props[id]
		if v == nil {
			continue
		}
		switch r.typ {
		case "AWS::Events::Rule":
			t.eventsRule(r, v, topicSubs, apiDest)
		case "AWS::Logs::MetricFilter":
			t.metricFilter(r, v)
		case "AWS::CloudWatch::Alarm":
			t.cloudWatchAlarm(r, v)
		case "AWS::CloudWatch::CompositeAlarm":
			t.cloudWatchCompositeAlarm(r, v)
		case "AWS::Scheduler::Schedule":
			t.schedulerSchedule(r, v)
		}
	}
}

func (t *tmpl) addReceiver(rc *Receiver, field string, p pos) {
	t.out.receivers = append(t.out.receivers, receiverItem{rc, &origin{file: t.file, field: field, at: p}})
}

// subscriptionReceiver makes a receiver of an SNS subscription; false when
// its protocol is not one Trailwatch delivers.
func (t *tmpl) subscriptionReceiver(name, field, topicARN string, s *tval, raw bool) bool {
	proto, endpoint := s.get("Protocol"), s.get("Endpoint")
	if proto == nil || proto.kind != vScalar {
		t.errorf(s.p, field+".Protocol", "missing")
		return false
	}
	if endpoint == nil || endpoint.kind != vScalar {
		t.errorf(s.p, field+".Endpoint", "missing")
		return false
	}
	switch strings.ToLower(proto.s) {
	case "email":
		t.addReceiver(&Receiver{Name: name, Email: &EmailConfig{To: []string{endpoint.s}, Raw: true}}, field, s.p)
	case "http", "https":
		if !strings.HasPrefix(strings.ToLower(endpoint.s), strings.ToLower(proto.s)+"://") {
			t.errorf(endpoint.p, field+".Endpoint", "want a %s:// URL for protocol %s", strings.ToLower(proto.s), proto.s)
			return false
		}
		t.addReceiver(&Receiver{Name: name, Webhook: &WebhookConfig{
			URL: Secret(endpoint.s), Method: "POST",
			SNSEnvelope: &SNSEnvelope{TopicARN: topicARN, RawMessageDelivery: raw},
		}}, field, s.p)
	default:
		t.skip("%s: SNS subscription with protocol %s is not supported, skipped", strings.TrimPrefix(field, "Resources."), proto.show())
		return false
	}
	return true
}

// httpParams reads InvocationHttpParameters or a target's HttpParameters.
func (t *tmpl) httpParams(v *tval, field string) *HTTPParameters {
	if v == nil {
		return nil
	}
	if v.kind != vMap {
		t.errorf(v.p, field, "want a mapping")
		return nil
	}
	hp := &HTTPParameters{}
	for i, k := range v.keys {
		val := v.vals[i]
		f := field + "." + k
		switch k {
		case "HeaderParameters", "QueryStringParameters", "BodyParameters":
			m := map[string]Secret{}
			switch val.kind {
			case vMap: // a target's: {name: value}
				for j, name := range val.keys {
					m[name] = Secret(val.vals[j].s)
				}
			case vList: // a connection's: [{Key, Value, IsValueSecret}]
				for _, e := range val.list {
					key, value := e.get("Key"), e.get("Value")
					if key == nil || value == nil {
						t.errorf(e.p, f, "want Key and Value")
						continue
					}
					m[key.s] = Secret(value.s)
				}
			default:
				t.errorf(val.p, f, "want a mapping or a list of Key and Value")
			}
			switch k {
			case "HeaderParameters":
				hp.HeaderParameters = m
			case "QueryStringParameters":
				hp.QueryStringParameters = m
			default:
				hp.BodyParameters = m
			}
		case "PathParameterValues":
			if val.kind != vList {
				t.errorf(val.p, f, "want a list")
				continue
			}
			for _, e := range val.list {
				hp.PathParameterValues = append(hp.PathParameterValues, e.s)
			}
		default:
			t.errorf(val.p, f, "unknown key")
		}
	}
	return hp
}

func (t *tmpl) connection(r *resource) (*Connection, bool) {
	field := "Resources." + r.id + ".Properties"
	v := r.evaluated
	if v == nil {
		return nil, false
	}
	c := &Connection{Name: t.physicalName(r), AuthorizationType: scalarOf(v.get("AuthorizationType"))}
	ap := v.get("AuthParameters")
	if ap == nil || ap.kind != vMap {
		t.errorf(v.p, field+".AuthParameters", "missing")
		return nil, false
	}
	for i, k := range ap.keys {
		switch k {
		case "ApiKeyAuthParameters", "BasicAuthParameters", "OAuthParameters", "InvocationHttpParameters", "ConnectivityParameters":
		default:
			t.errorf(ap.vals[i].p, field+".AuthParameters."+k, "unknown key")
		}
	}
	c.InvocationHTTPParameters = t.httpParams(ap.get("InvocationHttpParameters"), field+".AuthParameters.InvocationHttpParameters")
	want := map[string]string{"API_KEY": "ApiKeyAuthParameters", "BASIC": "BasicAuthParameters", "OAUTH_CLIENT_CREDENTIALS": "OAuthParameters"}[c.AuthorizationType]
	if want == "" {
		t.errorf(v.p, field+".AuthorizationType", "want API_KEY, BASIC or OAUTH_CLIENT_CREDENTIALS")
		return nil, false
	}
	p := ap.get(want)
	if p == nil || p.kind != vMap {
		t.errorf(ap.p, field+".AuthParameters."+want, "missing (AuthorizationType is %s)", c.AuthorizationType)
		return nil, false
	}
	switch c.AuthorizationType {
	case "API_KEY":
		c.APIKeyName = scalarOf(p.get("ApiKeyName"))
		c.APIKeyValue = Secret(scalarOf(p.get("ApiKeyValue")))
	case "BASIC":
		c.Username = scalarOf(p.get("Username"))
		c.Password = Secret(scalarOf(p.get("Password")))
	case "OAUTH_CLIENT_CREDENTIALS":
		o := &OAuthParameters{
			AuthorizationEndpoint: scalarOf(p.get("AuthorizationEndpoint")),
			HTTPMethod:            scalarOf(p.get("HttpMethod")),
		}
		if cp := p.get("ClientParameters"); cp != nil {
			o.ClientID = scalarOf(cp.get("ClientID"))
			o.ClientSecret = Secret(scalarOf(cp.get("ClientSecret")))
		}
		o.OAuthHTTPParameters = t.httpParams(p.get("OAuthHttpParameters"), field+".AuthParameters.OAuthParameters.OAuthHttpParameters")
		c.OAuth = o
	}
	return c, true
}

func (t *tmpl) apiDestination(r *resource, v *tval) *APIDestinationConfig {
	field := "Resources." + r.id + ".Properties"
	connARN := v.get("ConnectionArn")
	if connARN == nil || connARN.kind != vScalar {
		t.errorf(v.p, field+".ConnectionArn", "missing")
		return nil
	}
	connID, ok := t.arnIndex[connARN.s]
	if !ok || t.resources[connID].typ != "AWS::Events::Connection" {
		t.skip("%s (%s): its connection is not defined in the template, skipped", r.id, r.typ)
		return nil
	}
	conn, ok := t.connection(t.resources[connID])
	if !ok {
		return nil
	}
	a := &APIDestinationConfig{
		Name:               t.physicalName(r),
		InvocationEndpoint: Secret(scalarOf(v.get("InvocationEndpoint"))),
		HTTPMethod:         scalarOf(v.get("HttpMethod")),
		Connection:         *conn,
	}
	if rl := v.get("InvocationRateLimitPerSecond"); rl != nil {
		n, err := fmt.Sscanf(rl.s, "%d", &a.InvocationRateLimitPerSecond)
		if n != 1 || err != nil {
			t.errorf(rl.p, field+".InvocationRateLimitPerSecond", "want a whole number")
		}
	}
	return a
}

var ruleNameRE = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)

var targetKeys = set("Arn", "Id", "Input", "InputPath", "InputTransformer", "RoleArn", "HttpParameters", "DeadLetterConfig",
	"RetryPolicy", "EcsParameters", "KinesisParameters", "RunCommandParameters", "SqsParameters", "BatchParameters",
	"RedshiftDataParameters", "SageMakerPipelineParameters", "AppSyncParameters")

func (t *tmpl) eventsRule(r *resource, v *tval, topicSubs map[string][]string, apiDest map[string]*APIDestinationConfig) {
	field := "Resources." + r.id + ".Properties"
	name := t.physicalName(r)
	if v.get("Name") == nil {
		name = r.id
	}
	if !ruleNameRE.MatchString(name) {
		t.errorf(v.p, field+".Name", "rule name must be 1 to 64 letters, digits, '.', '-' or '_'")
		return
	}
	hasSchedule := v.get("ScheduleExpression") != nil
	state := "ENABLED"
	if s := v.get("State"); s != nil {
		state = s.s
	}
	includeRO := false
	switch state {
	case "ENABLED":
	case "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS":
		includeRO = true
	case "DISABLED":
		if hasSchedule && v.get("EventPattern") == nil {
			t.scheduledRule(r, v, name, false)
			return
		}
		t.skip("%s (%s): State is DISABLED, not run", r.id, r.typ)
		return
	default:
		t.errorf(v.get("State").p, field+".State", "want ENABLED, DISABLED or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
		return
	}
	if bus := v.get("EventBusName"); bus != nil && bus.s != "default" && !strings.HasSuffix(bus.s, ":event-bus/default") {
		t.skip("%s (%s): on event bus %s, which CloudTrail events do not reach, skipped", r.id, r.typ, bus.show())
		return
	}
	ep := v.get("EventPattern")
	if hasSchedule {
		if ep == nil {
			t.scheduledRule(r, v, name, true)
			return
		}
		t.skip("%s (%s): the ScheduleExpression of a rule that also has an EventPattern is not run (the pattern is)", r.id, r.typ)
	}
	if ep == nil {
		t.errorf(v.p, field+".EventPattern", "missing (give EventPattern or ScheduleExpression)")
		return
	}
	var pat []byte
	if ep.kind == vScalar {
		pat = []byte(ep.s)
	} else {
		pat = ep.appendJSON(nil)
	}
	sev, tags := t.ruleHints(r, v)
	source := t.source(r.p)
	rl, err := rule.New(name, scalarOf(v.get("Description")), sev, pat, includeRO, source)
	if err != nil {
		t.errorf(ep.p, field+".EventPattern", "%v", err)
		return
	}
	rl.Tags = tags
	t.out.rules = append(t.out.rules, rl)
	ruleARN := t.arn("events", "rule/"+name)
	targets := v.get("Targets")
	if targets == nil {
		return
	}
	if targets.kind != vList {
		t.errorf(targets.p, field+".Targets", "want a list")
		return
	}
	for i, tg := range targets.list {
		t.target(r, name, ruleARN, tg, fmt.Sprintf("%s.Targets[%d]", field, i), topicSubs, apiDest)
	}
}

// ruleHints reads a rule's severity and tags from its Metadata
// (Trailwatch: {Severity: high, Tags: [...]}) or its Tags
// (trailwatch:severity, trailwatch:tags as a comma-separated list).
func (t *tmpl) ruleHints(r *resource, v *tval) (rule.Severity, []string) {
	sev := rule.SeverityMedium
	var tags []string
	setSev := func(s *tval, field string) {
		if s == nil || s.kind != vScalar {
			t.errorf(v.p, field, "want a severity")
			return
		}
		x, err := rule.ParseSeverity(s.s)
		if err != nil {
			t.errorf(s.p, field, "%v", err)
			return
		}
		sev = x
	}
	if md := r.node.get("Metadata"); md != nil {
		if tw := md.get("Trailwatch"); tw != nil {
			tw, ok := t.eval(tw, "Resources."+r.id+".Metadata.Trailwatch")
			if ok && tw != nil {
				for i, k := range tw.keys {
					switch k {
					case "Severity":
						setSev(tw.vals[i], "Resources."+r.id+".Metadata.Trailwatch.Severity")
					case "Tags":
						for _, e := range tw.vals[i].list {
							tags = append(tags, e.s)
						}
					default:
						t.errorf(tw.vals[i].p, "Resources."+r.id+".Metadata.Trailwatch."+k, "unknown key (want Severity or Tags)")
					}
				}
			}
		}
	}
	if tl := v.get("Tags"); tl != nil && tl.kind == vList {
		for _, e := range tl.list {
			switch scalarOf(e.get("Key")) {
			case "trailwatch:severity":
				setSev(e.get("Value"), "Resources."+r.id+".Properties.Tags")
			case "trailwatch:tags":
				for _, s := range strings.Split(scalarOf(e.get("Value")), ",") {
					if s = strings.TrimSpace(s); s != "" {
						tags = append(tags, s)
					}
				}
			}
		}
	}
	return sev, tags
}

func (t *tmpl) target(r *resource, ruleName, ruleARN string, tg *tval, field string, topicSubs map[string][]string, apiDest map[string]*APIDestinationConfig) {
	if tg.kind != vMap {
		t.errorf(tg.p, field, "want a mapping with Arn and Id")
		return
	}
	for i, k := range tg.keys {
		if !targetKeys[k] {
			t.errorf(tg.vals[i].p, field+"."+k, "unknown target property")
		}
	}
	arn, id := tg.get("Arn"), tg.get("Id")
	if arn == nil || arn.kind != vScalar {
		t.errorf(tg.p, field+".Arn", "missing")
		return
	}
	if id == nil || id.kind != vScalar || id.s == "" {
		t.errorf(tg.p, field+".Id", "missing")
		return
	}
	rt := &Route{Name: t.stack + "/" + ruleName + "/" + id.s, Rules: []string{ruleName}, RuleARN: ruleARN}
	if in := tg.get("Input"); in != nil {
		s := in.s
		if in.kind != vScalar {
			s = string(in.appendJSON(nil))
		}
		rt.Input = &s
	}
	if ip := tg.get("InputPath"); ip != nil {
		rt.InputPath = ip.s
	}
	if it := tg.get("InputTransformer"); it != nil {
		x := &InputTransformer{InputTemplate: scalarOf(it.get("InputTemplate"))}
		if pm := it.get("InputPathsMap"); pm != nil {
			x.InputPathsMap = map[string]string{}
			for i, k := range pm.keys {
				x.InputPathsMap[k] = pm.vals[i].s
			}
		}
		for i, k := range it.keys {
			if k != "InputTemplate" && k != "InputPathsMap" {
				t.errorf(it.vals[i].p, field+".InputTransformer."+k, "unknown key")
			}
		}
		rt.InputTransformer = x
	}
	what := fmt.Sprintf("%s target %s", r.id, id.s)
	if logical, ok := t.arnIndex[arn.s]; ok {
		tr := t.resources[logical]
		switch tr.typ {
		case "AWS::SNS::Topic":
			rt.Receivers = append(rt.Receivers, topicSubs[arn.s]...)
			if len(rt.Receivers) == 0 {
				t.skip("%s: topic %s has no subscription Trailwatch delivers to, skipped", what, logical)
				return
			}
		case "AWS::Events::ApiDestination":
			a := apiDest[logical]
			if a == nil {
				t.skip("%s: API destination %s cannot run, skipped", what, logical)
				return
			}
			name := t.stack + "/" + logical
			if hp := tg.get("HttpParameters"); hp != nil {
				cp := *a
				cp.HTTPParameters = t.httpParams(hp, field+".HttpParameters")
				name = t.stack + "/" + logical + "/" + ruleName + "/" + id.s
				t.addReceiver(&Receiver{Name: name, APIDestination: &cp}, field, tg.p)
			} else if !t.haveReceiver(name) {
				t.addReceiver(&Receiver{Name: name, APIDestination: a}, "Resources."+logical, tr.p)
			}
			rt.Receivers = []string{name}
		default:
			t.skip("%s: %s (%s) targets are not supported, skipped", what, logical, tr.typ)
			return
		}
	} else {
		parts := strings.SplitN(arn.s, ":", 6)
		switch {
		case len(parts) == 6 && parts[0] == "arn" && parts[2] == "sns":
			name := t.stack + "/" + ruleName + "/" + id.s
			t.addReceiver(&Receiver{Name: name, SNS: &SNSConfig{TopicARN: arn.s, Region: parts[3]}}, field, tg.p)
			rt.Receivers = []string{name}
		case len(parts) == 6 && parts[0] == "arn":
			t.skip("%s: %s targets are not supported, skipped", what, parts[2])
			return
		default:
			t.errorf(arn.p, field+".Arn", "not an ARN")
			return
		}
	}
	t.out.routes = append(t.out.routes, routeItem{rt, &origin{file: t.file, field: field, at: tg.p}})
}

func (t *tmpl) haveReceiver(name string) bool {
	for _, it := range t.out.receivers {
		if it.r.Name == name {
			return true
		}
	}
	return false
}

// outputs resolves the Outputs section, for its errors.
func (t *tmpl) outputs(o *tval) {
	if o == nil {
		return
	}
	if o.kind != vMap {
		t.errorf(o.p, "Outputs", "want a mapping")
		return
	}
	for i, name := range o.keys {
		v := o.vals[i]
		field := "Outputs." + name
		if v.kind != vMap || v.get("Value") == nil {
			t.errorf(v.p, field+".Value", "missing")
			continue
		}
		for j, k := range v.keys {
			switch k {
			case "Description", "Value", "Export", "Condition":
			default:
				t.errorf(v.vals[j].p, field+"."+k, "unknown key")
			}
		}
		if c := v.get("Condition"); c != nil && !t.condition(c.s, c.p, field+".Condition") {
			continue
		}
		t.eval(v.get("Value"), field+".Value")
		if e := v.get("Export"); e != nil {
			t.eval(e, field+".Export")
		}
	}
}
