package filterpattern

import (
	"strings"
)

// Kind is the family of a filter pattern.
type Kind int

// The three pattern families.
const (
	Term           Kind = iota // unstructured terms, also %regex% and the empty pattern
	JSON                       // { $.selector op value ... }
	SpaceDelimited             // [field, field, ...]
)

func (k Kind) String() string {
	switch k {
	case JSON:
		return "JSON"
	case SpaceDelimited:
		return "space-delimited"
	default:
		return "term"
	}
}

// Pattern is one validated filter pattern. It is safe for concurrent use.
type Pattern struct {
	src   string
	kind  Kind
	term  *termPattern
	json  *jsonPattern
	delim *delimPattern
}

// Parse validates a filter pattern. An invalid pattern is reported as
// *Error.
func Parse(src string) (*Pattern, error) {
	if len(src) > MaxPatternLength {
		return nil, errAt(MaxPatternLength, "filter pattern is longer than %d characters", MaxPatternLength)
	}
	p := &Pattern{src: src}
	start := len(src) - len(strings.TrimLeft(src, " \t\r\n"))
	var err error
	switch {
	case start < len(src) && src[start] == '{':
		p.kind = JSON
		p.json, err = parseJSON(src, start)
	case start < len(src) && src[start] == '[':
		p.kind = SpaceDelimited
		p.delim, err = parseDelimited(src, start)
	default:
		p.kind = Term
		p.term, err = parseTerms(src)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// MustParse is Parse that panics on an invalid pattern, for patterns fixed
// in source code.
func MustParse(src string) *Pattern {
	p, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the pattern's text as given to Parse.
func (p *Pattern) String() string { return p.src }

// Kind reports the pattern's family.
func (p *Pattern) Kind() Kind { return p.kind }

// Match is what a matching message offers a metric filter: the values its
// metricValue and dimensions may name.
//
// For JSON patterns Field takes a selector ("$.bytes", "$.users[0].id") and
// looks it up in the message; for space-delimited patterns it takes a
// field name ("$status") or a 1-based position ("$7"). Term patterns have
// no fields. Field reports false when the value is missing, null, an object
// or an array.
//
// Values returns what TestMetricFilter calls extractedValues: the fields of
// a space-delimited pattern keyed "$name" or "$N", empty for the other
// kinds.
type Match interface {
	Field(name string) (string, bool)
	Values() map[string]string
}

// Match reports whether the log message matches the pattern and, when it
// does, the values a metric filter can extract from it.
func (p *Pattern) Match(message []byte) (Match, bool) {
	switch p.kind {
	case JSON:
		if !p.json.match(message) {
			return nil, false
		}
		return jsonMatch(message), true
	case SpaceDelimited:
		return p.delim.match(message)
	default:
		if !p.term.match(message) {
			return nil, false
		}
		return noFields{}, true
	}
}

// Matches reports whether the log message matches the pattern, without
// the extracted values.
func (p *Pattern) Matches(message []byte) bool {
	switch p.kind {
	case JSON:
		return p.json.match(message)
	case SpaceDelimited:
		_, ok := p.delim.match(message)
		return ok
	default:
		return p.term.match(message)
	}
}

// noFields is the Match of a term pattern.
type noFields struct{}

func (noFields) Field(string) (string, bool) { return "", false }
func (noFields) Values() map[string]string   { return map[string]string{} }

var (
	_ Match = noFields{}
	_ Match = jsonMatch(nil)
	_ Match = (*delimMatch)(nil)
)
