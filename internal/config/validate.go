package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"text/template"
	"time"

	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/internal/transform"
)

// item pairs a receiver or route with where it was written.
type receiverItem struct {
	r *Receiver
	o *origin
}

type routeItem struct {
	r *Route
	o *origin
}

var httpMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true, "OPTIONS": true}

// checkURL reports whether s is an absolute http(s) URL (https only when
// httpsOnly). It never echoes s, which may be a secret.
func checkURL(s string, httpsOnly bool) string {
	if s == "" {
		return "missing"
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && (httpsOnly || u.Scheme != "http")) {
		if httpsOnly {
			return "not an https URL"
		}
		return "not an http or https URL"
	}
	return ""
}

func checkTimeZone(o *origin, l *errList, sub, tz string) {
	if tz == "" {
		return
	}
	if _, err := time.LoadLocation(tz); err != nil {
		o.errorf(l, sub, nil, "unknown time zone %q", tz)
	}
}

func checkTemplate(o *origin, l *errList, sub, src string) {
	if src == "" {
		return
	}
	if _, err := template.New("t").Option("missingkey=zero").Parse(src); err != nil {
		o.errorf(l, sub, nil, "bad template: %v", err)
	}
}

var snsARNRE = regexp.MustCompile(`^arn:[a-z0-9-]+:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

func validateReceiver(l *errList, it receiverItem) {
	r, o := it.r, it.o
	if r.Name == "" {
		o.errorf(l, "name", nil, "missing")
	}
	n := 0
	for _, set := range []bool{r.Slack != nil, r.Email != nil, r.Webhook != nil, r.SNS != nil, r.APIDestination != nil, r.Stdout != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		o.errorf(l, "", nil, "want exactly one of slack, email, webhook, sns, api_destination and stdout (got %d)", n)
	}
	if r.RemindMax < 0 {
		o.errorf(l, "remind_max", nil, "must not be negative")
	}
	if r.RemindMax > 0 && r.RemindEvery <= 0 {
		o.errorf(l, "remind_every", nil, "missing (remind_max is set)")
	}
	if s := r.Slack; s != nil {
		if m := checkURL(s.WebhookURL.Reveal(), false); m != "" {
			o.errorf(l, "slack.webhook_url", nil, "%s", m)
		}
		checkTimeZone(o, l, "slack.time_zone", s.TimeZone)
	}
	if e := r.Email; e != nil {
		if len(e.To) == 0 {
			o.errorf(l, "email.to", nil, "missing")
		}
		for i, a := range e.To {
			if _, err := mail.ParseAddress(a); err != nil {
				o.errorf(l, fmt.Sprintf("email.to[%d]", i), nil, "not an email address")
			}
		}
		if e.From != "" {
			if _, err := mail.ParseAddress(e.From); err != nil {
				o.errorf(l, "email.from", nil, "not an email address")
			}
		}
		checkTemplate(o, l, "email.subject", e.Subject)
		checkTimeZone(o, l, "email.time_zone", e.TimeZone)
	}
	if w := r.Webhook; w != nil {
		if m := checkURL(w.URL.Reveal(), false); m != "" {
			o.errorf(l, "webhook.url", nil, "%s", m)
		}
		if w.Method != "" && !httpMethods[w.Method] {
			o.errorf(l, "webhook.method", nil, "unknown HTTP method %q", w.Method)
		}
		if w.BasicAuth != nil && w.BearerToken != "" {
			o.errorf(l, "webhook", nil, "give at most one of basic_auth and bearer_token")
		}
		if w.BasicAuth != nil && w.BasicAuth.Username == "" {
			o.errorf(l, "webhook.basic_auth.username", nil, "missing")
		}
		if w.Template != "" && w.InputTransformer != nil {
			o.errorf(l, "webhook", nil, "give at most one of template and input_transformer")
		}
		checkTemplate(o, l, "webhook.template", w.Template)
		if w.InputTransformer != nil {
			checkTransformer(o, l, "webhook.input_transformer", w.InputTransformer)
		}
		if w.SNSEnvelope != nil && !snsARNRE.MatchString(w.SNSEnvelope.TopicARN) {
			o.errorf(l, "webhook.sns_envelope.topic_arn", nil, "not an SNS topic ARN")
		}
	}
	if s := r.SNS; s != nil {
		if !snsARNRE.MatchString(s.TopicARN) {
			o.errorf(l, "sns.topic_arn", nil, "not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
		}
		if s.Endpoint != "" {
			if m := checkURL(s.Endpoint, false); m != "" {
				o.errorf(l, "sns.endpoint", nil, "%s", m)
			}
		}
		checkTemplate(o, l, "sns.subject", s.Subject)
	}
	if a := r.APIDestination; a != nil {
		validateAPIDestination(l, o, a)
	}
	if s := r.Stdout; s != nil {
		switch s.Format {
		case "", "text", "json":
		default:
			o.errorf(l, "stdout.format", nil, "want text or json")
		}
	}
}

func validateAPIDestination(l *errList, o *origin, a *APIDestinationConfig) {
	if m := checkURL(a.InvocationEndpoint.Reveal(), true); m != "" {
		o.errorf(l, "api_destination.invocation_endpoint", nil, "%s", m)
	}
	if !httpMethods[a.HTTPMethod] {
		o.errorf(l, "api_destination.http_method", nil, "want one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS")
	}
	if a.InvocationRateLimitPerSecond < 0 {
		o.errorf(l, "api_destination.invocation_rate_limit_per_second", nil, "must not be negative")
	}
	c := &a.Connection
	switch c.AuthorizationType {
	case "API_KEY":
		if c.APIKeyName == "" {
			o.errorf(l, "api_destination.connection.api_key_name", nil, "missing")
		}
	case "BASIC":
		if c.Username == "" {
			o.errorf(l, "api_destination.connection.username", nil, "missing")
		}
	case "OAUTH_CLIENT_CREDENTIALS":
		if c.OAuth == nil {
			o.errorf(l, "api_destination.connection.oauth", nil, "missing")
			break
		}
		if m := checkURL(c.OAuth.AuthorizationEndpoint, true); m != "" {
			o.errorf(l, "api_destination.connection.oauth.authorization_endpoint", nil, "%s", m)
		}
		switch c.OAuth.HTTPMethod {
		case "GET", "POST", "PUT":
		default:
			o.errorf(l, "api_destination.connection.oauth.http_method", nil, "want GET, POST or PUT")
		}
		if c.OAuth.ClientID == "" {
			o.errorf(l, "api_destination.connection.oauth.client_id", nil, "missing")
		}
	default:
		o.errorf(l, "api_destination.connection.authorization_type", nil, "want API_KEY, BASIC or OAUTH_CLIENT_CREDENTIALS")
	}
}

// checkTransformer validates an EventBridge input transformer as
// PutTargets does (internal/transform).
func checkTransformer(o *origin, l *errList, sub string, t *InputTransformer) {
	if _, err := transform.New(t.InputPathsMap, t.InputTemplate); err != nil {
		o.errorf(l, sub, nil, "%v", err)
	}
}

func validateRoute(l *errList, it routeItem, receivers map[string]bool, rules map[string]*rule.Rule) {
	r, o := it.r, it.o
	if len(r.Receivers) == 0 {
		o.errorf(l, "receivers", nil, "missing")
	}
	for i, name := range r.Receivers {
		if !receivers[name] {
			o.errorf(l, fmt.Sprintf("receivers[%d]", i), nil, "no receiver named %q", name)
		}
	}
	for i, name := range r.Rules {
		if rules[name] == nil {
			o.errorf(l, fmt.Sprintf("rules[%d]", i), nil, "no rule named %q", name)
		}
	}
	var pathsMap map[string]string
	var tmpl string
	if r.InputTransformer != nil {
		pathsMap, tmpl = r.InputTransformer.InputPathsMap, r.InputTransformer.InputTemplate
	}
	if _, err := transform.NewInput(r.Input, r.InputPath, pathsMap, tmpl, r.InputTransformer != nil); err != nil {
		sub := ""
		switch {
		case r.InputTransformer != nil && r.Input == nil && r.InputPath == "":
			sub = "input_transformer"
		case r.Input != nil && r.InputPath == "" && r.InputTransformer == nil:
			sub = "input"
		case r.InputPath != "" && r.Input == nil && r.InputTransformer == nil:
			sub = "input_path"
		}
		o.errorf(l, sub, nil, "%v", err)
	}
	if r.RemindMax != nil && *r.RemindMax < 0 {
		o.errorf(l, "remind_max", nil, "must not be negative")
	}
	if r.MuteWindow != nil {
		if _, err := r.MuteWindow.Parse(); err != nil {
			o.errorf(l, "mute_window", nil, "%v", err)
		}
	}
}
