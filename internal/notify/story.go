package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
)

// Story is what a notification tells, arranged for people: the seeds'
// complaint is messages that say "something happened" and nothing more,
// so every receiver's default message carries all of it.
type Story struct {
	// Title: "Reminder 2: [CRITICAL] root-signin: root signed in (3 events)".
	Title    string
	Severity string // upper case
	Rule     string
	Summary  string
	// The facts, grouped; empty values are left out.
	Who, What, When, Where []Fact
	// ConsoleURL opens the event in the CloudTrail console ("" when the
	// alert has no region or event ID).
	ConsoleURL string
	// AckURL acknowledges the alert ("" when none).
	AckURL   string
	Reminder int
	Count    int
}

// Fact is one labelled value.
type Fact struct {
	Label string
	Value string
}

// NewStory arranges what n tells; tz (nil: UTC only) is the zone shown
// beside UTC, consoleBase as in Options.ConsoleBase.
func NewStory(n *Notification, tz *time.Location, consoleBase string) Story {
	a := &n.Alert
	s := Story{
		Severity:   strings.ToUpper(a.Severity),
		Rule:       a.Rule,
		Summary:    a.Summary,
		ConsoleURL: ConsoleURL(a, consoleBase),
		AckURL:     n.AckURL,
		Reminder:   n.Reminder,
		Count:      max(n.Count, 1),
	}
	s.Title = Title(n)

	principal := a.Principal
	if a.PrincipalType != "" && a.PrincipalType != a.Principal {
		principal += " (" + a.PrincipalType + ")"
	}
	s.Who = facts(
		"Principal", principal,
		"ARN", a.PrincipalARN,
	)
	event := strings.TrimSpace(a.EventSource + " " + a.EventName)
	errText := a.ErrorCode
	if a.ErrorMessage != "" {
		errText = strings.TrimPrefix(errText+": "+a.ErrorMessage, ": ")
	}
	count := ""
	if s.Count > 1 {
		count = strconv.Itoa(s.Count) + " matching events"
		if n.Held {
			count = strconv.Itoa(s.Count) + " alerts held during the mute window"
		}
	}
	s.What = facts(
		"Event", event,
		"Rule", a.Rule,
		"Severity", s.Severity,
		"Outcome", a.Outcome,
		"Error", errText,
		"Count", count,
		"Event ID", a.EventID,
	)
	utc, local := Times(a.EventTime, tz)
	s.When = facts("UTC", utc, "Local", local)
	s.Where = facts(
		"Account", a.Account,
		"Region", a.Region,
		"Source IP", a.SourceIP,
		"User agent", a.UserAgent,
		"MFA", a.MFA,
	)
	return s
}

func facts(kv ...string) []Fact {
	var fs []Fact
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			fs = append(fs, Fact{Label: kv[i], Value: kv[i+1]})
		}
	}
	return fs
}

// Title is the one-line headline of a notification:
// "[SEVERITY] rule: summary", with "Reminder n: " before it on reminders
// and " (N events)" after it when deduplication folded several events.
func Title(n *Notification) string {
	a := &n.Alert
	var b strings.Builder
	if n.Reminder > 0 {
		fmt.Fprintf(&b, "Reminder %d: ", n.Reminder)
	}
	if a.Severity != "" {
		b.WriteString("[" + strings.ToUpper(a.Severity) + "] ")
	}
	b.WriteString(a.Rule)
	if a.Summary != "" {
		b.WriteString(": " + a.Summary)
	}
	if n.Count > 1 {
		unit := "events"
		if n.Held {
			unit = "alerts"
		}
		fmt.Fprintf(&b, " (%d %s)", n.Count, unit)
	}
	return b.String()
}

// Times formats an RFC 3339 event time in UTC and, when tz is set and not
// UTC, in tz: "2024-03-01 10:00:00 UTC", "2024-03-01 19:00:00 JST
// (Asia/Tokyo)". A time that does not parse is returned as it is.
func Times(eventTime string, tz *time.Location) (utc, local string) {
	if eventTime == "" {
		return "", ""
	}
	t, err := time.Parse(time.RFC3339Nano, eventTime)
	if err != nil {
		return eventTime, ""
	}
	utc = t.UTC().Format("2006-01-02 15:04:05 UTC")
	if tz != nil && tz != time.UTC && tz.String() != "UTC" {
		lt := t.In(tz)
		local = lt.Format("2006-01-02 15:04:05 MST")
		if name := tz.String(); name != "" && name != "Local" && name != lt.Format("MST") {
			local += " (" + name + ")"
		}
	}
	return utc, local
}

// ConsoleURL links to the event in the CloudTrail console; "" when the
// alert lacks a region or an event ID. base as in Options.ConsoleBase.
func ConsoleURL(a *alert.Alert, base string) string {
	if a.Region == "" || a.EventID == "" {
		return ""
	}
	if base == "" {
		base = "https://{region}.console.aws.amazon.com"
	}
	base = strings.TrimRight(strings.ReplaceAll(base, "{region}", a.Region), "/")
	return base + "/cloudtrailv2/home?region=" + url.QueryEscape(a.Region) + "#/events/" + url.PathEscape(a.EventID)
}

// LoadZone loads an IANA time zone; "" returns def.
func LoadZone(name string, def *time.Location) (*time.Location, error) {
	if name == "" {
		return def, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}

// AlertJSON is the alert as JSON with the notification's count, reminder
// and ack_url added: the default body of webhooks and the stdout json
// line. Field names are alert.Alert's.
func AlertJSON(n *Notification) ([]byte, error) {
	b, err := json.Marshal(&n.Alert)
	if err != nil {
		return nil, fmt.Errorf("alert json: %w", err)
	}
	extra := struct {
		Count    int    `json:"count"`
		Reminder int    `json:"reminder"`
		AckURL   string `json:"ack_url,omitempty"`
	}{max(n.Count, 1), n.Reminder, n.AckURL}
	e, _ := json.Marshal(extra)
	out := make([]byte, 0, len(b)+len(e))
	out = append(out, b[:len(b)-1]...)
	out = append(out, ',')
	out = append(out, e[1:]...)
	return out, nil
}

// EventJSON is the message EventBridge would send without a transformer:
// the EventBridge event; the alert as JSON when the alert carries none.
func EventJSON(n *Notification) ([]byte, error) {
	if len(n.Alert.Event) > 0 && string(n.Alert.Event) != "null" {
		return n.Alert.Event, nil
	}
	return AlertJSON(n)
}

// Message returns n.Body when a route fixed one, else EventJSON.
func Message(n *Notification) ([]byte, error) {
	if n.Body != nil {
		return n.Body, nil
	}
	return EventJSON(n)
}

// ParseTemplate parses a message template (Go text/template). Templates
// see the alert's JSON fields by name ({{.rule}}, {{.source_ip}},
// {{.event.detail.eventName}}) and count, reminder, ack_url, alert_id,
// rule_arn, receiver, console_url and title; functions: json (a value as
// JSON text), upper, lower, join, default.
func ParseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Funcs(template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
		"join": func(sep string, v []any) string {
			ss := make([]string, len(v))
			for i, x := range v {
				ss[i] = fmt.Sprint(x)
			}
			return strings.Join(ss, sep)
		},
		"default": func(def, v any) any {
			if v == nil || v == "" {
				return def
			}
			return v
		},
	}).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrTemplate, name, err)
	}
	return t, nil
}

// TemplateData is what templates see (see ParseTemplate).
func TemplateData(n *Notification, consoleBase string) (map[string]any, error) {
	b, err := json.Marshal(&n.Alert)
	if err != nil {
		return nil, fmt.Errorf("template data: %w", err)
	}
	d := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("template data: %w", err)
	}
	d["count"] = max(n.Count, 1)
	d["reminder"] = n.Reminder
	d["ack_url"] = n.AckURL
	d["alert_id"] = n.AlertID
	d["rule_arn"] = n.RuleARN
	d["receiver"] = n.Receiver
	d["console_url"] = ConsoleURL(&n.Alert, consoleBase)
	d["title"] = Title(n)
	return d, nil
}

// Render executes t over n's template data.
func Render(t *template.Template, n *Notification, consoleBase string) ([]byte, error) {
	d, err := TemplateData(n, consoleBase)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrTemplate, t.Name(), err)
	}
	return b.Bytes(), nil
}
