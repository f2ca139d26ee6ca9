package alarm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxChildren is how many alarms one AlarmRule may reference.
const MaxChildren = 100

// CompositeConfig is PutCompositeAlarm's input: a composite alarm whose
// state is its AlarmRule over the states of other alarms (metric or
// composite). ActionsEnabled is taken as written (CloudWatch defaults it
// to true: configuration readers do so).
type CompositeConfig struct {
	Name        string
	Description string
	// Rule is the AlarmRule, as written.
	Rule                    string
	ActionsEnabled          bool
	AlarmActions, OKActions []string
	InsufficientDataActions []string
	// ActionsSuppressor is the alarm (metric or composite, by name or ARN)
	// whose ALARM state suppresses this alarm's actions; empty: never
	// suppressed.
	ActionsSuppressor string
	// ActionsSuppressorWaitPeriod is how long, after this alarm goes to
	// ALARM, it waits for the suppressor to go to ALARM before it runs its
	// actions; ActionsSuppressorExtensionPeriod how long suppression lasts
	// after the suppressor leaves ALARM. Whole seconds; CloudWatch
	// requires both with ActionsSuppressor (configuration readers say
	// whether they default them).
	ActionsSuppressorWaitPeriod      time.Duration
	ActionsSuppressorExtensionPeriod time.Duration
}

// Validate checks c against PutCompositeAlarm's rules and reports every
// broken rule at once (errors.Join of *ValidationError; a bad AlarmRule's
// message carries the *RuleError's position).
func (c *CompositeConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ValidationError{Alarm: c.Name, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if n := utf8.RuneCountInString(c.Name); n < 1 || n > 255 {
		bad("AlarmName", "AlarmName must have length between 1 and 255")
	} else if !utf8.ValidString(c.Name) || strings.IndexFunc(c.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		bad("AlarmName", "AlarmName must contain only UTF-8 characters, and can't contain ASCII control characters")
	}
	if utf8.RuneCountInString(c.Description) > 1024 {
		bad("AlarmDescription", "AlarmDescription must have length less than or equal to 1024")
	}
	if r, err := ParseRule(c.Rule); err != nil {
		bad("AlarmRule", "%v", err)
	} else {
		names := r.Names()
		if len(names) > MaxChildren {
			bad("AlarmRule", "alarm rule references %d alarms, at most %d allowed", len(names), MaxChildren)
		}
		for _, n := range names {
			if n == c.Name {
				bad("AlarmRule", "alarm rule references the composite alarm itself")
			}
		}
	}
	checkActions(bad, c.AlarmActions, c.OKActions, c.InsufficientDataActions)
	c.validateSuppressor(bad)
	return errors.Join(errs...)
}

// validateSuppressor checks ActionsSuppressor and its periods: a name or
// ARN of 1 to 1600 characters other than the alarm's own, periods of
// whole non-negative seconds, periods only with a suppressor.
func (c *CompositeConfig) validateSuppressor(bad func(field, format string, args ...any)) {
	if c.ActionsSuppressor == "" {
		for _, p := range []struct {
			field string
			d     time.Duration
		}{{"ActionsSuppressorWaitPeriod", c.ActionsSuppressorWaitPeriod}, {"ActionsSuppressorExtensionPeriod", c.ActionsSuppressorExtensionPeriod}} {
			if p.d != 0 {
				bad(p.field, "%s is set but ActionsSuppressor is not", p.field)
			}
		}
		return
	}
	if n := utf8.RuneCountInString(c.ActionsSuppressor); n > 1600 {
		bad("ActionsSuppressor", "ActionsSuppressor must have length between 1 and 1600")
	}
	if RefName(c.ActionsSuppressor) == c.Name {
		bad("ActionsSuppressor", "ActionsSuppressor names the composite alarm itself")
	}
	for _, p := range []struct {
		field string
		d     time.Duration
	}{{"ActionsSuppressorWaitPeriod", c.ActionsSuppressorWaitPeriod}, {"ActionsSuppressorExtensionPeriod", c.ActionsSuppressorExtensionPeriod}} {
		switch {
		case p.d < 0:
			bad(p.field, "%s must not be negative, got %v", p.field, p.d)
		case p.d%time.Second != 0:
			bad(p.field, "%s must be whole seconds, got %v", p.field, p.d)
		}
	}
}

// ChildState is a referenced alarm's state as a composite alarm's reason
// reports it (StateReasonData's triggeringAlarms, the SNS message's
// TriggeringChildren).
type ChildState struct {
	ARN       string
	State     State
	Timestamp time.Time
}

// Composite is one composite alarm's state machine. It is not safe for
// concurrent use (a Set is).
//
// As CloudWatch documents, a new composite alarm is INSUFFICIENT_DATA
// until its first evaluation, the only time it is ever in that state;
// afterwards it is ALARM when its rule is true and OK when false, and it
// is evaluated whenever an alarm its rule references changes state.
type Composite struct {
	cfg            CompositeConfig
	rule           *Rule
	state          State
	reason         string
	reasonData     []byte
	updated        time.Time
	actionsEnabled bool
	sup            suppression
}

// NewComposite validates c and returns its composite alarm in
// INSUFFICIENT_DATA, as PutCompositeAlarm creates it at now.
func NewComposite(c CompositeConfig, now time.Time) (*Composite, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r, _ := ParseRule(c.Rule)
	c = c.normalized()
	return &Composite{cfg: c, rule: r, state: InsufficientData, reason: InitialReason, updated: now, actionsEnabled: c.ActionsEnabled}, nil
}

// RestoreComposite returns the composite alarm of c in the state s (from
// Snapshot).
func RestoreComposite(c CompositeConfig, s Snapshot) (*Composite, error) {
	if !s.State.Valid() {
		return nil, fmt.Errorf("composite alarm %q: restore: invalid state %q", c.Name, s.State)
	}
	a, err := NewComposite(c, s.Updated)
	if err != nil {
		return nil, err
	}
	a.state, a.reason, a.reasonData, a.actionsEnabled = s.State, s.Reason, s.ReasonData, s.ActionsEnabled
	return a, nil
}

func (c CompositeConfig) normalized() CompositeConfig {
	c.AlarmActions = append([]string(nil), c.AlarmActions...)
	c.OKActions = append([]string(nil), c.OKActions...)
	c.InsufficientDataActions = append([]string(nil), c.InsufficientDataActions...)
	return c
}

// Config returns the composite alarm's configuration.
func (a *Composite) Config() CompositeConfig { return a.cfg }

// Rule returns the parsed AlarmRule.
func (a *Composite) Rule() *Rule { return a.rule }

// State returns the current state.
func (a *Composite) State() State { return a.state }

// Snapshot returns the composite alarm's state for persistence.
func (a *Composite) Snapshot() Snapshot {
	return Snapshot{State: a.state, Reason: a.reason, ReasonData: a.reasonData, Updated: a.updated, ActionsEnabled: a.actionsEnabled}
}

// SetActionsEnabled is EnableAlarmActions (true) and DisableAlarmActions
// (false) for the composite alarm.
func (a *Composite) SetActionsEnabled(on bool) { a.actionsEnabled = on }

// Evaluate evaluates the rule at now with the states of the referenced
// alarms (state, by name; RefName reduces ARNs) and returns the
// Transition when the state changes. triggering are the referenced alarms
// whose change caused this evaluation: the reason names them. With an
// ActionsSuppressor (its state read through state too), the transition's
// Actions are empty while they are suppressed; see Set.Tick for the
// actions run when suppression ends.
func (a *Composite) Evaluate(now time.Time, state func(name string) (State, bool), triggering []ChildState) (Transition, bool) {
	t, _, ok := a.evaluate(now, state, triggering)
	return t, ok
}

func (a *Composite) evaluate(now time.Time, state func(name string) (State, bool), triggering []ChildState) (Transition, TransitionSuppression, bool) {
	a.observeSuppressor(now, state)
	to := OK
	if a.rule.Eval(func(ref string) (State, bool) { return state(RefName(ref)) }) {
		to = Alarming
	}
	if to == a.state {
		return Transition{}, TransitionSuppression{}, false
	}
	reason, data := compositeReason(triggering, to)
	t := Transition{Alarm: a.cfg.Name, From: a.state, To: to, Time: now, Reason: reason, ReasonData: data,
		FromReason: a.reason, FromReasonData: a.reasonData, FromTime: a.updated,
		Triggering: append([]ChildState(nil), triggering...), Actions: a.actions(to)}
	sup := TransitionSuppression{Previous: a.sup.current, State: a.suppressAt(now, to)}
	a.sup.current, a.sup.owed = sup.State, false
	if sup.State.By != "" {
		a.sup.owed, t.Actions = len(t.Actions) > 0, nil
	}
	a.state, a.reason, a.reasonData, a.updated = to, reason, data, now
	return t, sup, true
}

// compositeDate is how a composite alarm's StateReason writes a child's
// transition time: "Friday 04 August, 2023 12:54:46 UTC".
const compositeDate = "Monday 02 January, 2006 15:04:05 UTC"

// compositeReason writes CloudWatch's StateReason and StateReasonData of
// a composite alarm: "<child ARN> transitioned to ALARM at Friday 04
// August, 2023 12:54:46 UTC" for each triggering child (joined with ", "
// when several changed at once, derived), and {"triggeringAlarms":[{"arn",
// "state":{"value","timestamp"}}]}. With no triggering child (a rule of
// TRUE or FALSE only) the reason says what the rule evaluated to
// (derived).
func compositeReason(triggering []ChildState, to State) (string, []byte) {
	type jsState struct {
		Value     State  `json:"value"`
		Timestamp string `json:"timestamp"`
	}
	type jsChild struct {
		ARN   string  `json:"arn"`
		State jsState `json:"state"`
	}
	children := make([]jsChild, 0, len(triggering))
	parts := make([]string, 0, len(triggering))
	for _, c := range triggering {
		children = append(children, jsChild{ARN: c.ARN, State: jsState{Value: c.State, Timestamp: formatAWSTime(c.Timestamp)}})
		parts = append(parts, fmt.Sprintf("%s transitioned to %s at %s", c.ARN, c.State, c.Timestamp.UTC().Format(compositeDate)))
	}
	reason := strings.Join(parts, ", ")
	if reason == "" {
		v := "TRUE"
		if to != Alarming {
			v = "FALSE"
		}
		reason = "Alarm rule evaluated to " + v
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		TriggeringAlarms []jsChild `json:"triggeringAlarms"`
	}{children}); err != nil {
		return reason, nil
	}
	return reason, bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

type snsChildState struct {
	Value     State  `json:"Value"`
	Timestamp string `json:"Timestamp"`
}

type snsChild struct {
	Arn   string        `json:"Arn"`
	State snsChildState `json:"State"`
}

type snsCompositeMessage struct {
	snsHeader
	AlarmRule          string     `json:"AlarmRule"`
	TriggeringChildren []snsChild `json:"TriggeringChildren"`
}

// CompositeNotification renders the SNS message CloudWatch sends for a
// composite alarm's transition: the metric alarm's fields without Trigger,
// plus AlarmRule and TriggeringChildren ([{"Arn","State":{"Value",
// "Timestamp"}}]).
func CompositeNotification(c CompositeConfig, t Transition, region, accountID string) []byte {
	m := snsCompositeMessage{
		snsHeader:          newSNSHeader(c.Name, c.Description, t, region, accountID, c.OKActions, c.AlarmActions, c.InsufficientDataActions),
		AlarmRule:          c.Rule,
		TriggeringChildren: []snsChild{},
	}
	for _, ch := range t.Triggering {
		m.TriggeringChildren = append(m.TriggeringChildren, snsChild{Arn: ch.ARN, State: snsChildState{Value: ch.State, Timestamp: formatAWSTime(ch.Timestamp)}})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// ebCompositeState is a composite alarm's state in its event: a metric
// alarm's, plus how its actions were suppressed.
type ebCompositeState struct {
	ebState
	ActionsSuppressedBy     SuppressedBy `json:"actionsSuppressedBy,omitempty"`
	ActionsSuppressedReason string       `json:"actionsSuppressedReason,omitempty"`
}

type ebCompositeDetail struct {
	AlarmName     string           `json:"alarmName"`
	State         ebCompositeState `json:"state"`
	PreviousState ebCompositeState `json:"previousState"`
	Configuration struct {
		AlarmRule                        string `json:"alarmRule"`
		Description                      string `json:"description,omitempty"`
		ActionsSuppressor                string `json:"actionsSuppressor,omitempty"`
		ActionsSuppressorWaitPeriod      *int64 `json:"actionsSuppressorWaitPeriod,omitempty"`
		ActionsSuppressorExtensionPeriod *int64 `json:"actionsSuppressorExtensionPeriod,omitempty"`
	} `json:"configuration"`
}

// CompositeStateChangeEvent renders the EventBridge "CloudWatch Alarm
// State Change" event of a composite alarm's transition: state and
// previousState as for a metric alarm, each with actionsSuppressedBy and
// actionsSuppressedReason when sup says its actions were suppressed, and
// configuration.alarmRule (and the actionsSuppressor settings, in
// seconds) instead of metrics.
func CompositeStateChangeEvent(c CompositeConfig, t Transition, sup TransitionSuppression, region, accountID, id string) []byte {
	d := &ebCompositeDetail{AlarmName: c.Name}
	d.State = ebCompositeState{ebState{Reason: t.Reason, ReasonData: string(t.ReasonData), Timestamp: formatAWSTime(t.Time), Value: t.To},
		sup.State.By, sup.State.Reason}
	d.PreviousState = ebCompositeState{ebState{Reason: t.FromReason, ReasonData: string(t.FromReasonData), Timestamp: formatAWSTime(t.FromTime), Value: t.From},
		sup.Previous.By, sup.Previous.Reason}
	d.Configuration.AlarmRule = c.Rule
	d.Configuration.Description = c.Description
	if c.ActionsSuppressor != "" {
		w, e := int64(c.ActionsSuppressorWaitPeriod/time.Second), int64(c.ActionsSuppressorExtensionPeriod/time.Second)
		d.Configuration.ActionsSuppressor = c.ActionsSuppressor
		d.Configuration.ActionsSuppressorWaitPeriod, d.Configuration.ActionsSuppressorExtensionPeriod = &w, &e
	}
	return stateChangeEvent(c.Name, t, region, accountID, id, d)
}
