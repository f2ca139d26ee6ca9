// Package config reads what Trailwatch runs: the native YAML configuration
// and CloudFormation templates, into one Config.
package config

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/internal/schedule"
)

// Config is everything serve runs, however it was written.
type Config struct {
	// Rules are the event rules: native rules, the built-in packs when
	// asked for, and CloudFormation AWS::Events::Rule resources.
	Rules []*rule.Rule
	// Receivers deliver notifications, by unique name.
	Receivers []*Receiver
	// Routes send a rule's alerts to receivers.
	Routes []*Route
	// MetricFilters turn CloudTrail records into metric datapoints
	// (AWS::Logs::MetricFilter, or native metric_filters).
	MetricFilters []*MetricFilter
	// Alarms watch metrics (AWS::CloudWatch::Alarm, or native alarms).
	Alarms []*Alarm
	// CompositeAlarms combine alarms' states (AWS::CloudWatch::
	// CompositeAlarm, or native composite_alarms), each after the
	// composites it references.
	CompositeAlarms []*CompositeAlarm
	// Schedules act when they fire (AWS::Scheduler::Schedule, an
	// AWS::Events::Rule with a ScheduleExpression, or native schedules).
	Schedules []*Schedule
	// Postgres is the PostgreSQL URL of the store when the native
	// configuration names one ("": SQLite in the data directory).
	Postgres Secret
	// Skipped lists what a template holds that Trailwatch does not run (a
	// Lambda target, an unknown resource type), each naming the logical
	// ID, to be reported at start. Never silently ignored.
	Skipped []string
	// Topics maps the ARN of each SNS topic a template defines to the
	// receivers made of its subscriptions (for alarm actions, issue 4).
	Topics map[string][]string
}

// Receiver is one place notifications go. Exactly one of the typed fields
// is set.
type Receiver struct {
	Name           string                `yaml:"name"`
	Slack          *SlackConfig          `yaml:"slack,omitempty"`
	Email          *EmailConfig          `yaml:"email,omitempty"`
	Webhook        *WebhookConfig        `yaml:"webhook,omitempty"`
	SNS            *SNSConfig            `yaml:"sns,omitempty"`
	APIDestination *APIDestinationConfig `yaml:"api_destination,omitempty"`
	Stdout         *StdoutConfig         `yaml:"stdout,omitempty"`
	// Reminders: re-send an unacknowledged alert every RemindEvery, at most
	// RemindMax times (0: no reminders). A route's values override these.
	RemindEvery Duration `yaml:"remind_every,omitempty"`
	RemindMax   int      `yaml:"remind_max,omitempty"`
}

// Type returns the receiver's kind: "slack", "email", "webhook", "sns",
// "api_destination" or "stdout".
func (r *Receiver) Type() string {
	switch {
	case r.Slack != nil:
		return "slack"
	case r.Email != nil:
		return "email"
	case r.Webhook != nil:
		return "webhook"
	case r.SNS != nil:
		return "sns"
	case r.APIDestination != nil:
		return "api_destination"
	case r.Stdout != nil:
		return "stdout"
	}
	return ""
}

// SlackConfig posts to a Slack incoming webhook. Without a fixed body it
// sends a Block Kit message that tells the whole story.
type SlackConfig struct {
	WebhookURL Secret `yaml:"webhook_url"`
	// TimeZone (IANA) in which times are shown beside UTC.
	TimeZone string `yaml:"time_zone,omitempty"`
}

// EmailConfig sends mail through the SMTP server given to serve (--smtp).
type EmailConfig struct {
	To   []string `yaml:"to"`
	From string   `yaml:"from,omitempty"` // default: serve's --mail-from
	// Raw sends the notification body as the plain-text message, as an SNS
	// email subscription does (the event JSON, or the transformed input),
	// with SNS's subject; otherwise a multipart text and HTML message.
	Raw bool `yaml:"raw,omitempty"`
	// Subject overrides the subject line (a Go template over the alert).
	Subject  string `yaml:"subject,omitempty"`
	TimeZone string `yaml:"time_zone,omitempty"`
}

// WebhookConfig sends an HTTP request.
type WebhookConfig struct {
	URL     Secret            `yaml:"url"`
	Method  string            `yaml:"method,omitempty"` // default POST
	Headers map[string]Secret `yaml:"headers,omitempty"`
	// Auth: at most one.
	BasicAuth   *BasicAuth `yaml:"basic_auth,omitempty"`
	BearerToken Secret     `yaml:"bearer_token,omitempty"`
	// Body: at most one of a Go template over the alert and an EventBridge
	// input transformer over the event; neither sends the alert as JSON.
	Template         string            `yaml:"template,omitempty"`
	InputTransformer *InputTransformer `yaml:"input_transformer,omitempty"`
	// SNSEnvelope wraps the body as an SNS HTTP(S) subscription delivers
	// it (a Notification JSON document with SNS's headers), for endpoints
	// subscribed to an SNS topic in a template.
	SNSEnvelope *SNSEnvelope `yaml:"sns_envelope,omitempty"`
}

// SNSEnvelope describes the topic an SNS-style HTTP delivery comes from.
type SNSEnvelope struct {
	TopicARN string `yaml:"topic_arn"`
	// RawMessageDelivery sends the bare message, as SNS does with the
	// subscription attribute of that name.
	RawMessageDelivery bool `yaml:"raw_message_delivery,omitempty"`
}

// BasicAuth is a user name and password.
type BasicAuth struct {
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
}

// InputTransformer is EventBridge's: JSON paths into the event, and a
// template with <name> placeholders.
type InputTransformer struct {
	InputPathsMap map[string]string `yaml:"input_paths_map,omitempty" json:"InputPathsMap,omitempty"`
	InputTemplate string            `yaml:"input_template" json:"InputTemplate"`
}

// SNSConfig publishes to an SNS topic with the AWS SDK.
type SNSConfig struct {
	TopicARN string `yaml:"topic_arn"`
	Region   string `yaml:"region,omitempty"`   // default: from the ARN
	Endpoint string `yaml:"endpoint,omitempty"` // an endpoint override (tests, SNS-compatible services)
	// Subject of the published message (a Go template over the alert);
	// default: none, as EventBridge publishes.
	Subject string `yaml:"subject,omitempty"`
}

// APIDestinationConfig is an EventBridge API destination with its
// connection: the request EventBridge would send.
type APIDestinationConfig struct {
	Name                         string     `yaml:"name,omitempty"`
	InvocationEndpoint           Secret     `yaml:"invocation_endpoint"` // a Slack webhook URL is a secret
	HTTPMethod                   string     `yaml:"http_method"`
	InvocationRateLimitPerSecond int        `yaml:"invocation_rate_limit_per_second,omitempty"`
	Connection                   Connection `yaml:"connection"`
	// Target HttpParameters: connection parameters win on conflicts.
	HTTPParameters *HTTPParameters `yaml:"http_parameters,omitempty"`
}

// Connection is an AWS::Events::Connection.
type Connection struct {
	Name              string `yaml:"name,omitempty"`
	AuthorizationType string `yaml:"authorization_type"` // API_KEY, BASIC, OAUTH_CLIENT_CREDENTIALS
	// API_KEY
	APIKeyName  string `yaml:"api_key_name,omitempty"`
	APIKeyValue Secret `yaml:"api_key_value,omitempty"`
	// BASIC
	Username string `yaml:"username,omitempty"`
	Password Secret `yaml:"password,omitempty"`
	// OAUTH_CLIENT_CREDENTIALS
	OAuth *OAuthParameters `yaml:"oauth,omitempty"`
	// InvocationHttpParameters: sent with every request.
	InvocationHTTPParameters *HTTPParameters `yaml:"invocation_http_parameters,omitempty"`
}

// OAuthParameters are a connection's OAuth client-credentials settings.
type OAuthParameters struct {
	AuthorizationEndpoint string          `yaml:"authorization_endpoint"`
	HTTPMethod            string          `yaml:"http_method"` // GET, POST, PUT
	ClientID              string          `yaml:"client_id"`
	ClientSecret          Secret          `yaml:"client_secret"`
	OAuthHTTPParameters   *HTTPParameters `yaml:"oauth_http_parameters,omitempty"`
}

// HTTPParameters are extra header, query string and body parameters.
type HTTPParameters struct {
	HeaderParameters      map[string]Secret `yaml:"header_parameters,omitempty"`
	QueryStringParameters map[string]Secret `yaml:"query_string_parameters,omitempty"`
	BodyParameters        map[string]Secret `yaml:"body_parameters,omitempty"`
	PathParameterValues   []string          `yaml:"path_parameter_values,omitempty"`
}

// StdoutConfig prints alerts on standard output.
type StdoutConfig struct {
	Format string `yaml:"format,omitempty"` // text (default) or json
}

// Route sends the alerts of the rules it selects to receivers.
type Route struct {
	Name string `yaml:"name,omitempty"`
	// Selection: all given conditions must hold; none selects every rule.
	Rules       []string       `yaml:"rules,omitempty"`        // rule names
	Tags        []string       `yaml:"tags,omitempty"`         // any of these tags
	MinSeverity *rule.Severity `yaml:"min_severity,omitempty"` // at least this severity
	Receivers   []string       `yaml:"receivers"`
	// Body, at most one, as EventBridge targets have: Input (constant JSON
	// text), InputPath (a JSONPath into the event) or an InputTransformer.
	// None: the receiver's default message.
	Input            *string           `yaml:"input,omitempty"`
	InputPath        string            `yaml:"input_path,omitempty"`
	InputTransformer *InputTransformer `yaml:"input_transformer,omitempty"`
	// Reminders, overriding the receivers' own (nil: the receiver's).
	RemindEvery *Duration `yaml:"remind_every,omitempty"`
	RemindMax   *int      `yaml:"remind_max,omitempty"`
	// MuteWindow mutes the route at recurring times (business hours, say):
	// its alerts are still recorded and listed, and are sent when the
	// window closes, or never with Drop. It holds from start-up on, unlike
	// a schedule, which acts only when it fires.
	MuteWindow *Window `yaml:"mute_window,omitempty"`
	// RuleARN is the ARN EventBridge would give the rule, for
	// <aws.events.rule-arn>; templates set it, native routes may.
	RuleARN string `yaml:"rule_arn,omitempty"`
}

// MetricFilter is a CloudWatch Logs metric filter over the CloudTrail
// records Trailwatch ingests (as in a CloudTrail log group).
type MetricFilter struct {
	Name string `yaml:"name"`
	// LogGroupName is shown, and restricts the filter to events from a
	// source of that name when set on the source; "" any.
	LogGroupName  string `yaml:"log_group_name,omitempty"`
	FilterPattern string `yaml:"filter_pattern"` // CloudWatch Logs syntax, verbatim
	// Transformations: what a matching record adds to which metric (AWS
	// allows one).
	Transformations []MetricTransformation `yaml:"metric_transformations"`
	Source          string                 `yaml:"-"` // file:line or template logical ID
}

// MetricTransformation is PutMetricFilter's MetricTransformation.
type MetricTransformation struct {
	MetricNamespace string            `yaml:"metric_namespace"`
	MetricName      string            `yaml:"metric_name"`
	MetricValue     string            `yaml:"metric_value"`            // "1", "$.bytes", "$size"
	DefaultValue    *float64          `yaml:"default_value,omitempty"` // reported for records that do not match
	Dimensions      map[string]string `yaml:"dimensions,omitempty"`    // name -> "$.field"
	Unit            string            `yaml:"unit,omitempty"`
}

// Alarm is a CloudWatch alarm on one metric with a static threshold
// (PutMetricAlarm's fields). Actions are SNS topic ARNs (their
// subscriptions, see Topics) or receiver names.
type Alarm struct {
	Name                             string            `yaml:"name"`
	Description                      string            `yaml:"description,omitempty"`
	Namespace                        string            `yaml:"namespace"`
	MetricName                       string            `yaml:"metric_name"`
	Dimensions                       map[string]string `yaml:"dimensions,omitempty"`
	Statistic                        string            `yaml:"statistic"` // Sum, Average, Minimum, Maximum, SampleCount, pNN, tmNN, IQM, TM(a:b), PR(a:b)...
	Unit                             string            `yaml:"unit,omitempty"`
	Period                           Duration          `yaml:"period"`
	EvaluationPeriods                int               `yaml:"evaluation_periods"`
	DatapointsToAlarm                int               `yaml:"datapoints_to_alarm,omitempty"`
	Threshold                        float64           `yaml:"threshold"`
	ComparisonOperator               string            `yaml:"comparison_operator"`
	TreatMissingData                 string            `yaml:"treat_missing_data,omitempty"`
	EvaluateLowSampleCountPercentile string            `yaml:"evaluate_low_sample_count_percentile,omitempty"`
	ActionsEnabled                   *bool             `yaml:"actions_enabled,omitempty"` // nil: true, as CloudWatch
	AlarmActions                     []string          `yaml:"alarm_actions,omitempty"`
	OKActions                        []string          `yaml:"ok_actions,omitempty"`
	InsufficientDataActions          []string          `yaml:"insufficient_data_actions,omitempty"`
	Source                           string            `yaml:"-"`
}

// Schedule fires at the times of a cron(), rate() or at() expression and
// then acts on alarms (as EventBridge Scheduler's universal targets
// cloudwatch:disableAlarmActions / enableAlarmActions do) or on rules and
// routes (mute / unmute).
type Schedule struct {
	Name       string `yaml:"name"`
	Expression string `yaml:"expression"`          // cron(...), rate(...), at(...)
	TimeZone   string `yaml:"time_zone,omitempty"` // IANA; "" UTC
	// Start and End bound a recurring schedule (RFC 3339); "" unbounded.
	Start string `yaml:"start,omitempty"`
	End   string `yaml:"end,omitempty"`
	// Enabled is false for a schedule in state DISABLED (nil: enabled).
	Enabled *bool `yaml:"enabled,omitempty"`
	// Action is one of disable_alarm_actions, enable_alarm_actions,
	// mute, unmute.
	Action string `yaml:"action"`
	// Alarms are the alarm names of the alarm actions; Rules and Routes
	// the rule and route names of mute/unmute.
	Alarms []string `yaml:"alarms,omitempty"`
	Rules  []string `yaml:"rules,omitempty"`
	Routes []string `yaml:"routes,omitempty"`
	Source string   `yaml:"-"`
}

// Parse returns the schedule as it runs: its expression in its time zone
// (returned too), bounded by its start and end.
func (s *Schedule) Parse() (schedule.Schedule, *time.Location, error) {
	loc := time.UTC
	if s.TimeZone != "" {
		var err error
		if loc, err = time.LoadLocation(s.TimeZone); err != nil {
			return nil, nil, fmt.Errorf("time zone %q: %w", s.TimeZone, err)
		}
	}
	var o schedule.Options
	for _, b := range []struct {
		field, v string
		t        *time.Time
	}{{"start", s.Start, &o.Start}, {"end", s.End, &o.End}} {
		if b.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, b.v)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %q: want an RFC 3339 time", b.field, b.v)
		}
		*b.t = t
	}
	sch, err := schedule.ParseWith(s.Expression, loc, o)
	if err != nil {
		return nil, nil, err
	}
	return sch, loc, nil
}

// Window is a recurring time window, like weekdays 09:00-18:00 in Tokyo.
type Window struct {
	Days     string `yaml:"days"`                // "MON-FRI", "SAT,SUN"
	From     string `yaml:"from"`                // "09:00"
	To       string `yaml:"to"`                  // "18:00" (before From: across midnight)
	TimeZone string `yaml:"time_zone,omitempty"` // IANA; "" UTC
	// Drop discards what the window mutes instead of sending it when the
	// window closes.
	Drop bool `yaml:"drop,omitempty"`
}

// Parse returns the window as internal/schedule evaluates it.
func (w *Window) Parse() (*schedule.Window, error) {
	loc := time.UTC
	if w.TimeZone != "" {
		var err error
		if loc, err = time.LoadLocation(w.TimeZone); err != nil {
			return nil, fmt.Errorf("time_zone: %w", err)
		}
	}
	return schedule.ParseWindow(w.Days, w.From, w.To, loc)
}

// Duration is a time.Duration written as "5m", "24h", "90s".
type Duration time.Duration

// UnmarshalText reads "5m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: want a number and a unit, like 90s, 5m or 24h", b)
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes "5m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Secret is a value that is never printed or logged: its String and JSON
// forms are "<secret>". Use Reveal where the value is really needed.
type Secret string

const redacted = "<secret>"

// Reveal returns the value.
func (s Secret) Reveal() string { return string(s) }

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText hides the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
