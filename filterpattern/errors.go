package filterpattern

import "fmt"

// Error is an invalid filter pattern: Offset is the 0-based byte offset in
// the pattern text where the problem was found, Msg says what it is.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid filter pattern: column %d: %s", e.Offset+1, e.Msg)
}

func errAt(off int, format string, args ...any) *Error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Limits AWS applies to filter patterns.
const (
	// MaxPatternLength is the longest filterPattern PutMetricFilter accepts.
	MaxPatternLength = 1024
	// MaxRegexes is the most regular expressions a JSON or space-delimited
	// pattern may contain.
	MaxRegexes = 2
	// MaxWildcardSelectors is the most wildcard selectors ($.* or [*]) a
	// JSON pattern may contain; each selector may hold at most one.
	MaxWildcardSelectors = 3
)
