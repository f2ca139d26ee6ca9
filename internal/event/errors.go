package event

import (
	"errors"
	"fmt"
)

// Errors a record or an input can fail with; test them with errors.Is.
var (
	ErrSyntax       = errors.New("invalid json")
	ErrTruncated    = errors.New("unexpected end of input")
	ErrNotObject    = errors.New("not a json object")
	ErrNotRecord    = errors.New("not a cloudtrail record or eventbridge event")
	ErrNotEnvelope  = errors.New("not an eventbridge event")
	ErrTooLarge     = errors.New("value too large")
	ErrTooDeep      = errors.New("json nested too deeply")
	ErrBadPayload   = errors.New("bad encoded payload")
	ErrTrailingData = errors.New("trailing data after value")

	// errShort says the buffer ended inside a value: read more and retry.
	errShort = errors.New("short buffer")
)

// RecordError is an error about one record position of one input. After a
// RecordError the decoder may go on with the next record, unless the input
// lost its framing, in which case the next call returns io.EOF.
type RecordError struct {
	Name   string // input name, as given to NewDecoder
	Index  int    // 0-based record index within Name
	Offset int64  // where the record starts in the (decompressed) input; -1 when unknown
	Err    error
}

func (e *RecordError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("%s: record %d: %v", e.Name, e.Index, e.Err)
	}
	return fmt.Sprintf("%s: record %d (offset %d): %v", e.Name, e.Index, e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// syntaxError reports a JSON syntax problem at byte off of a value.
func syntaxError(off int, msg string) error {
	return fmt.Errorf("%w: %s at byte %d of the value", ErrSyntax, msg, off)
}

// OneRecord reports whether a Decoder error is about one record, which
// the decoder skips and a retry would not mend, rather than about the
// input (truncated, corrupt gzip, JSON that loses its framing), after
// which the decoder stops.
func OneRecord(err error) bool {
	for _, e := range []error{ErrNotRecord, ErrNotObject, ErrNotEnvelope, ErrTooLarge, ErrTooDeep, ErrBadPayload} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
