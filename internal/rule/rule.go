// Package rule holds Trailwatch's alert rules: an EventBridge event pattern
// with a name, a severity, a summary template and inline test events. Rules
// are written in YAML (see Parse for the format), loaded strictly (an unknown
// key is an error naming file:line:col), compiled together into a Set whose
// single matcher serves every rule, and tested with RunTests.
//
// Built-in packs live in the rules/ directory of the repository and are
// embedded in the binary (Builtin).
package rule

import (
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/pattern"
)

// Severity ranks a rule's alerts: SeverityInfo < SeverityLow < SeverityMedium
// < SeverityHigh < SeverityCritical.
type Severity int

// Severities, in increasing order.
const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the severity's name as written in YAML ("info" ... "critical").
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name (case-insensitive).
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(severityNames[:], ", "))
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Rule is one loaded rule. A Rule is immutable once loaded and safe for
// concurrent use.
type Rule struct {
	Name        string
	Description string
	Severity    Severity
	Tags        []string
	// IncludeReadOnly makes the rule see read-only events (Event.ReadOnly),
	// like an EventBridge rule in state
	// ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS. By default they are not
	// matched.
	IncludeReadOnly bool
	// Pattern is the compiled event pattern, after the sign-in detail-type
	// spelling rewrite (see PatternJSON).
	Pattern *pattern.Pattern
	// PatternJSON is the pattern as written, converted to JSON (YAML key
	// order kept), before the spelling rewrite.
	PatternJSON []byte
	// SummaryTemplate is the summary's text/template source.
	SummaryTemplate string
	// Source locates the rule: "file:line".
	Source string
	Tests  []Test
	// Dedup folds matching events into one alert, as panther-analysis
	// does; its zero value makes every matching event its own alert.
	Dedup Dedup
	// RemindEvery and RemindMax re-send an alert nobody acknowledged
	// (0: no reminders); routes and receivers may set them too.
	RemindEvery time.Duration
	RemindMax   int

	summary *template.Template
}

// Dedup is panther-analysis's detection deduplication: matching events
// whose Key renders the same within Period of the first of them make one
// alert, which fires once Threshold of them have been seen and carries
// their count.
type Dedup struct {
	Key       string // a template like the summary's; "" is the rule's name
	Period    time.Duration
	Threshold int // at least 1

	key *template.Template
}

// DedupKey is the key under which ev's alert is folded: the event's own key
// (its eventID) when the rule has no dedup period, else the rendered Key
// template (the rule's name when Key is "").
func (r *Rule) DedupKey(ev *event.Event) string {
	if r.Dedup.Period == 0 {
		return ev.Key()
	}
	if r.Dedup.key == nil {
		return r.Name
	}
	var b strings.Builder
	if err := r.Dedup.key.Execute(&b, summaryData(ev, nil)); err != nil {
		return r.Name
	}
	return b.String()
}

// Test is one inline test: an event and whether the rule must match it.
type Test struct {
	Name   string
	Expect bool
	Event  *event.Event
	// Source locates the test: "file:line".
	Source string
}

// Matches reports whether the rule matches ev, honouring ReadOnly and
// IncludeReadOnly. A Set matches many rules at once; this is for one.
func (r *Rule) Matches(ev *event.Event) (bool, error) {
	if ev.ReadOnly && !r.IncludeReadOnly {
		return false, nil
	}
	return pattern.Matches(r.Pattern, ev.JSON)
}

// HasTag reports whether the rule carries tag t.
func (r *Rule) HasTag(t string) bool {
	for _, x := range r.Tags {
		if x == t {
			return true
		}
	}
	return false
}

func (r *Rule) String() string { return r.Name }
