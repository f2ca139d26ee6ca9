package alarm

import "time"

// SuppressedBy is why a composite alarm's actions are suppressed
// (CloudWatch's ActionsSuppressedBy).
type SuppressedBy string

// The values of ActionsSuppressedBy.
const (
	// SuppressedByAlarm: the suppressor alarm is in ALARM.
	SuppressedByAlarm SuppressedBy = "Alarm"
	// SuppressedByWaitPeriod: the composite alarm went to ALARM and waits,
	// at most ActionsSuppressorWaitPeriod, for the suppressor to go to
	// ALARM.
	SuppressedByWaitPeriod SuppressedBy = "WaitPeriod"
	// SuppressedByExtensionPeriod: the suppressor left ALARM less than
	// ActionsSuppressorExtensionPeriod ago.
	SuppressedByExtensionPeriod SuppressedBy = "ExtensionPeriod"
)

// Suppression is how a composite alarm's actions were suppressed in one
// state (ActionsSuppressedBy and ActionsSuppressedReason); the zero value
// when they were not.
type Suppression struct {
	By     SuppressedBy
	Reason string
}

// TransitionSuppression is the suppression of a composite alarm's
// transition: State that of the state entered (its actions were not run),
// Previous that of the state left (EventBridge's state and previousState).
type TransitionSuppression struct {
	State, Previous Suppression
}

func suppressedBy(by SuppressedBy) Suppression {
	// CloudWatch's own example event says "Actions suppressed by
	// WaitPeriod"; the other values are written the same way (derived).
	return Suppression{By: by, Reason: "Actions suppressed by " + string(by)}
}

// suppression is a composite alarm's ActionsSuppressor state. It is not
// persisted: a restored alarm starts with no period running and no actions
// owed.
type suppression struct {
	known       bool      // alarm has been observed once
	alarm       bool      // the suppressor is in ALARM, as last observed
	waitUntil   time.Time // end of the running WaitPeriod, zero: none
	extendUntil time.Time // end of the running ExtensionPeriod, zero: none
	owed        bool      // the current state's actions were suppressed and are still to run
	current     Suppression
}

// observeSuppressor takes the suppressor's state at instant at: going to
// ALARM ends any period (the suppressor suppresses now), leaving it starts
// the ExtensionPeriod. The first observation only records the state. It
// reports whether owed actions are now due (an ExtensionPeriod of 0).
func (a *Composite) observeSuppressor(at time.Time, state func(name string) (State, bool)) bool {
	if a.cfg.ActionsSuppressor == "" {
		return false
	}
	st, ok := state(RefName(a.cfg.ActionsSuppressor))
	on := ok && st == Alarming
	s := &a.sup
	if !s.known {
		s.known, s.alarm = true, on
		return false
	}
	if on == s.alarm {
		return false
	}
	s.alarm = on
	if on {
		s.waitUntil, s.extendUntil = time.Time{}, time.Time{}
		return false
	}
	s.extendUntil = at.Add(a.cfg.ActionsSuppressorExtensionPeriod)
	if !s.extendUntil.After(at) {
		s.extendUntil = time.Time{}
	}
	return a.releasable(at)
}

// suppressAt decides whether the actions of a transition to to at instant
// at are suppressed, starting the WaitPeriod of a transition to ALARM.
func (a *Composite) suppressAt(at time.Time, to State) Suppression {
	s := &a.sup
	switch {
	case a.cfg.ActionsSuppressor == "":
		return Suppression{}
	case s.alarm:
		return suppressedBy(SuppressedByAlarm)
	case s.extendUntil.After(at):
		return suppressedBy(SuppressedByExtensionPeriod)
	case to == Alarming && a.cfg.ActionsSuppressorWaitPeriod > 0:
		s.waitUntil = at.Add(a.cfg.ActionsSuppressorWaitPeriod)
		return suppressedBy(SuppressedByWaitPeriod)
	case s.waitUntil.After(at):
		return suppressedBy(SuppressedByWaitPeriod)
	}
	return Suppression{}
}

// releasable reports whether owed actions may run at at: nothing
// suppresses any more.
func (a *Composite) releasable(at time.Time) bool {
	s := &a.sup
	return s.owed && !s.alarm && !s.waitUntil.After(at) && !s.extendUntil.After(at)
}

// deadline returns when the next running period ends (zero: none).
func (a *Composite) deadline() time.Time {
	s := &a.sup
	switch {
	case s.waitUntil.IsZero():
		return s.extendUntil
	case s.extendUntil.IsZero() || s.waitUntil.Before(s.extendUntil):
		return s.waitUntil
	}
	return s.extendUntil
}

// expire ends the periods ending by at and reports whether owed actions
// are now due.
func (a *Composite) expire(at time.Time) bool {
	s := &a.sup
	if !s.waitUntil.IsZero() && !s.waitUntil.After(at) {
		s.waitUntil = time.Time{}
	}
	if !s.extendUntil.IsZero() && !s.extendUntil.After(at) {
		s.extendUntil = time.Time{}
	}
	return a.releasable(at)
}

// release runs the owed actions at at: as CloudWatch does when a period
// ends, it returns a "transition" from the current state to itself whose
// Actions are the current state's, previousState carrying the suppression.
// The alarm's state and its time do not change.
func (a *Composite) release(at time.Time) (Transition, TransitionSuppression) {
	t := Transition{Alarm: a.cfg.Name, From: a.state, To: a.state, Time: at, Reason: a.reason, ReasonData: a.reasonData,
		FromReason: a.reason, FromReasonData: a.reasonData, FromTime: a.updated, Actions: a.actions(a.state)}
	sup := TransitionSuppression{Previous: a.sup.current}
	a.sup.owed, a.sup.current = false, Suppression{}
	return t, sup
}

// actions returns the actions to run on entering state, none when actions
// are disabled.
func (a *Composite) actions(state State) []string {
	if !a.actionsEnabled {
		return nil
	}
	switch state {
	case Alarming:
		return append([]string(nil), a.cfg.AlarmActions...)
	case OK:
		return append([]string(nil), a.cfg.OKActions...)
	}
	return nil
}
