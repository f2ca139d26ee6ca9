// Package schedule evaluates AWS schedule expressions, cron(...), rate(...)
// and at(...), with the semantics of Amazon EventBridge scheduled rules and
// EventBridge Scheduler, and recurring time windows (business hours) for
// muting or deferring alerts. SCHEDULE.md in this directory is the
// normative description, with the choices made where AWS documents nothing.
//
// Parse and ParseWith validate an expression and return a Schedule whose
// Next gives fire times in UTC. Cron and at() expressions are evaluated in
// an IANA time zone as EventBridge Scheduler does: a cron time that does not
// exist on a spring-forward day is skipped, a cron time that occurs twice on
// a fall-back day fires once, at its first occurrence.
//
// The package uses only the standard library and never reads the clock:
// every function is given the time it works from.
package schedule

import (
	"fmt"
	"time"
)

// Schedule is a parsed schedule expression.
type Schedule interface {
	// Next returns the first fire time strictly after t, in UTC; ok is
	// false when there is none (an at() in the past, a cron whose years
	// have passed, past EndDate).
	Next(t time.Time) (time.Time, bool)
	// String returns the expression as it was parsed.
	String() string
}

// Flavour says whose rules an expression is checked against.
type Flavour int

const (
	// Scheduler is EventBridge Scheduler (AWS::Scheduler::Schedule): cron,
	// rate and at; a time zone; StartDate and EndDate; rate accepts the
	// singular and plural unit whatever the value ("rate(1 days)").
	Scheduler Flavour = iota
	// Rule is an EventBridge (CloudWatch Events) scheduled rule
	// (AWS::Events::Rule ScheduleExpression): cron and rate only, UTC
	// only, no start or end date, and rate's unit must be singular for 1
	// and plural above ("rate(1 hours)" and "rate(5 hour)" are invalid).
	Rule
)

func (f Flavour) String() string {
	switch f {
	case Scheduler:
		return "scheduler"
	case Rule:
		return "rule"
	}
	return fmt.Sprintf("flavour(%d)", int(f))
}

// Options are the settings of a schedule besides its expression.
type Options struct {
	// Start and End bound a Scheduler's recurring schedule (StartDate,
	// EndDate); both are inclusive and either may be zero. at() ignores
	// them, as in AWS.
	Start, End time.Time
	// Created is when the schedule was created. It anchors a rate()
	// without Start: a Scheduler rate fires at Created, Created+rate, ...;
	// a Rule rate at Created+rate, Created+2*rate, ... When both Start and
	// Created are zero a rate is anchored at the Unix epoch, so
	// rate(5 minutes) fires at :00, :05, ... and rate(1 day) at 00:00 UTC.
	Created time.Time
	// Flavour is Scheduler (the zero value) or Rule.
	Flavour Flavour
}

// MaxLength is the longest schedule expression AWS accepts (both APIs).
const MaxLength = 256

// AWSMessage is the message AWS returns for an invalid ScheduleExpression
// (PutRule ValidationException, as recorded in CloudTrail and in CloudFormation
// stack events). AWS gives no detail; Error.Msg does.
const AWSMessage = "Parameter ScheduleExpression is not valid."

// Error is an invalid schedule expression or window.
type Error struct {
	Expr   string // the text that was parsed
	Offset int    // byte offset in Expr of the offending part
	Msg    string // what is wrong
	Window bool   // a time window's part, not a schedule expression
}

func (e *Error) Error() string {
	what := "schedule expression"
	if e.Window {
		what = "window"
	}
	return fmt.Sprintf("invalid %s %q: column %d: %s", what, e.Expr, e.Offset+1, e.Msg)
}

// AWSMessage returns what AWS says about the expression.
func (e *Error) AWSMessage() string { return AWSMessage }

func errorf(expr string, off int, format string, args ...any) *Error {
	return &Error{Expr: expr, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Parse parses a "cron(...)", "rate(...)" or "at(...)" expression with
// EventBridge Scheduler's rules, evaluated in loc (nil: UTC).
func Parse(expr string, loc *time.Location) (Schedule, error) {
	return ParseWith(expr, loc, Options{})
}

// ParseWith parses an expression with the given options.
func ParseWith(expr string, loc *time.Location, o Options) (Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	if len(expr) > MaxLength {
		return nil, errorf(expr, MaxLength, "longer than %d characters", MaxLength)
	}
	if o.Flavour != Scheduler && o.Flavour != Rule {
		return nil, fmt.Errorf("schedule: unknown flavour %d", int(o.Flavour))
	}
	if !o.Start.IsZero() && !o.End.IsZero() && o.End.Before(o.Start) {
		return nil, fmt.Errorf("schedule: end date %s is before start date %s",
			o.End.UTC().Format(time.RFC3339), o.Start.UTC().Format(time.RFC3339))
	}
	if o.Flavour == Rule {
		if loc != time.UTC && loc.String() != "UTC" {
			return nil, fmt.Errorf("schedule: scheduled rules run in utc only; time zone %s needs an eventbridge scheduler schedule", loc)
		}
		if !o.Start.IsZero() || !o.End.IsZero() {
			return nil, fmt.Errorf("schedule: scheduled rules have no start or end date")
		}
	}
	name, body, ok := splitCall(expr)
	if !ok {
		return nil, errorf(expr, 0, "want cron(...), rate(...) or at(...)")
	}
	off := len(name) + 1
	switch name {
	case "cron":
		return parseCron(expr, body, off, loc, o)
	case "rate":
		return parseRate(expr, body, off, o)
	case "at":
		if o.Flavour == Rule {
			return nil, errorf(expr, 0, "at() is an eventbridge scheduler expression; scheduled rules take cron() or rate()")
		}
		return parseAt(expr, body, off, loc)
	}
	return nil, errorf(expr, 0, "unknown expression type %q: want cron, rate or at", name)
}

// splitCall splits "name(body)".
func splitCall(expr string) (name, body string, ok bool) {
	i := 0
	for i < len(expr) && expr[i] >= 'a' && expr[i] <= 'z' {
		i++
	}
	if i == 0 || i >= len(expr) || expr[i] != '(' || expr[len(expr)-1] != ')' || len(expr) < i+2 {
		return "", "", false
	}
	return expr[:i], expr[i+1 : len(expr)-1], true
}

// NextN returns the next n fire times of s strictly after from, fewer when
// the schedule ends first.
func NextN(s Schedule, from time.Time, n int) []time.Time {
	var out []time.Time
	t := from
	for len(out) < n {
		u, ok := s.Next(t)
		if !ok {
			break
		}
		out = append(out, u)
		t = u
	}
	return out
}

// bounds applies Start and End to a recurring schedule's Next.
type bounds struct{ start, end time.Time }

// from returns the time to search after so that a fire at start counts.
func (b bounds) from(t time.Time) time.Time {
	if !b.start.IsZero() && t.Before(b.start) {
		return b.start.Add(-time.Nanosecond)
	}
	return t
}

func (b bounds) ok(u time.Time) bool { return b.end.IsZero() || !u.After(b.end) }
