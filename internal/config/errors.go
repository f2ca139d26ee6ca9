package config

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels, matched with errors.Is against the joined error of Load.
var (
	// ErrUnknownKey: a native configuration key Trailwatch does not know.
	ErrUnknownKey = errors.New("unknown key")
	// ErrMissingEnv: a ${NAME} reference to an unset environment variable.
	ErrMissingEnv = errors.New("environment variable not set")
	// ErrMissingParameter: a template parameter without a value or default.
	ErrMissingParameter = errors.New("missing parameter value")
)

// Error is one configuration error, located in a file. Its text reads
// "file:line:col: field: message"; Field is a native key path
// ("receivers[0].slack.webhook_url") or a template path starting with the
// logical ID ("Resources.EventsRule.Properties.Targets[0]").
type Error struct {
	File  string
	Line  int
	Col   int
	Field string
	Msg   string
	Err   error // a sentinel or cause, for errors.Is; may be nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// pos is a place in a file.
// pos is a place in a file; file is set only where a value may come from
// another file than its template's (Terraform's several .tf files).
type pos struct {
	line, col int
	file      string
}

// errList collects located errors.
type errList struct{ errs []error }

func (l *errList) add(file string, p pos, field string, err error, format string, args ...any) {
	if p.file != "" {
		file = p.file
	}
	l.errs = append(l.errs, &Error{File: file, Line: p.line, Col: p.col, Field: field, Msg: fmt.Sprintf(format, args...), Err: err})
}

func (l *errList) err() error { return errors.Join(l.errs...) }
