// Package alert turns a rule's match on an event into the record people
// read: who did what, from where, when, and why it matters.
package alert

import (
	"encoding/json"
	"time"

	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/rule"
)

// Alert is one (rule, event) match. Its JSON field names are a contract:
// scripts read them from `trailwatch scan --format json`.
type Alert struct {
	Rule          string          `json:"rule"`
	Severity      string          `json:"severity"`
	Tags          []string        `json:"tags,omitempty"`
	EventID       string          `json:"event_id"`
	EventTime     string          `json:"event_time"`
	Account       string          `json:"account"`
	Region        string          `json:"region"`
	EventSource   string          `json:"event_source,omitempty"`
	EventName     string          `json:"event_name"`
	Principal     string          `json:"principal"`
	PrincipalType string          `json:"principal_type,omitempty"`
	PrincipalARN  string          `json:"principal_arn,omitempty"`
	SourceIP      string          `json:"source_ip"`
	UserAgent     string          `json:"user_agent"`
	MFA           string          `json:"mfa,omitempty"`
	ErrorCode     string          `json:"error_code,omitempty"`
	ErrorMessage  string          `json:"error_message,omitempty"`
	Outcome       string          `json:"outcome,omitempty"`
	Summary       string          `json:"summary"`
	File          string          `json:"file,omitempty"`
	Record        int             `json:"record"`
	Event         json.RawMessage `json:"event"`
}

// New builds the alert for rule r matching ev.
func New(r *rule.Rule, ev *event.Event) Alert {
	f := ev.Facts()
	a := Alert{
		Rule:          r.Name,
		Severity:      r.Severity.String(),
		Tags:          r.Tags,
		EventID:       ev.Key(),
		Account:       ev.Account,
		Region:        ev.Region,
		EventSource:   f.EventSource,
		EventName:     f.EventName,
		Principal:     f.Principal,
		PrincipalType: f.PrincipalType,
		PrincipalARN:  f.PrincipalARN,
		SourceIP:      f.SourceIP,
		UserAgent:     f.UserAgent,
		MFA:           f.MFA,
		ErrorCode:     f.ErrorCode,
		ErrorMessage:  f.ErrorMessage,
		Outcome:       f.Outcome,
		Summary:       r.SummaryWith(ev, &f),
		File:          ev.Origin.Name,
		Record:        ev.Origin.Index,
		Event:         json.RawMessage(ev.JSON),
	}
	if a.EventName == "" {
		a.EventName = ev.EventName
	}
	if !ev.Time.IsZero() {
		a.EventTime = ev.Time.UTC().Format(time.RFC3339)
	}
	return a
}
