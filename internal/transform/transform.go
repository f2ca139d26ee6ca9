// Package transform renders what an EventBridge target sends: the event
// itself, a constant Input, an InputPath, or an InputTransformer
// (InputPathsMap + InputTemplate), exactly as EventBridge renders them.
//
// The rules, from AWS's documentation and from behaviour recorded on real
// AWS (see testdata/README.md):
//
//   - A template whose first non-blank character is '{' or '[' is a JSON
//     template; any other is a string template, delivered as it is,
//     including the double quotes around it ("instance <instance>" is sent
//     with its quotes).
//   - In a JSON template, a placeholder outside any string is replaced by the
//     value's JSON text: a string keeps its quotes, numbers, booleans, null,
//     objects and arrays are inserted as JSON.
//   - Anywhere in a string template, a placeholder is replaced by the
//     value's text without escaping: a string's characters, a number or
//     literal as written, an array as [A,B] and an object as {k:v,k2:v2}
//     (quotes removed, no spaces).
//   - Inside a quoted string of a JSON template, a string, number or literal
//     is inserted the same way, but an object or array is inserted as its
//     JSON text, quotes and all: the result is not JSON, and AWS does not
//     deliver it (recorded on real AWS for {"payload": "<payload>"}).
//   - A placeholder is '<', the shortest run of other characters on the
//     same line, and '>'. AWS offers no escape for < and >, so text such as
//     a Slack link <https://...|open> is a placeholder and, undefined, is
//     refused by New.
//   - A path the event lacks renders as the empty string; outside a string
//     in a JSON template that is "".
//   - Predefined variables: aws.events.rule-arn, aws.events.rule-name,
//     aws.events.event.ingestion-time (ISO 8601, UTC, seconds),
//     aws.events.event (the envelope without detail, with the key
//     "detailType" and the ingestion time as "time", as AWS renders it) and
//     aws.events.event.json (the whole event). The last two are inserted as
//     JSON text in every context: AWS does not escape them.
//   - A JSON template whose rendering is not valid JSON is not delivered:
//     Render returns an error wrapping ErrInvalidJSON.
//
// Choices where AWS's behaviour is not recorded: a string value inside a
// string is inserted decoded (so a value holding a double quote breaks a
// JSON template, as "EventBridge doesn't escape values" implies); an
// InputPath that selects nothing is an error wrapping ErrNoValue.
package transform

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors.
var (
	// ErrInvalid: the transformer or target input would be refused by
	// PutTargets. Errors wrapping it are *ValidationError.
	ErrInvalid = errors.New("invalid target input")
	// ErrInvalidJSON: a JSON template rendered text that is not JSON;
	// EventBridge does not deliver it (a failed invocation).
	ErrInvalidJSON = errors.New("rendered json template is not valid json")
	// ErrEvent: the event is not a JSON object.
	ErrEvent = errors.New("event is not a json object")
	// ErrNoValue: an InputPath selected nothing in the event.
	ErrNoValue = errors.New("input path selects no value")

	errNotJSON = errors.New("not json")
)

// ValidationError is a target input PutTargets refuses. Error gives a
// Trailwatch message; AWSMessage gives AWS's own text for a target.
type ValidationError struct {
	// Reason says what is wrong, in lower case.
	Reason string
	// aws is AWS's message with {target} where the target id goes.
	aws string
}

func (e *ValidationError) Error() string { return "target input: " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// AWSMessage is the message of PutTargets' ValidationException for this
// error on the target with id targetID. Texts recorded from AWS: "invalid
// placeholder" and "Only one of Input, InputPath, or InputTransformer";
// length and key-pattern errors follow AWS's constraint messages (without
// the offending value); a bad JSON path, a placeholder used as an object
// key and an Input that is not JSON are in AWS's style, their exact AWS
// text not being on record.
func (e *ValidationError) AWSMessage(targetID string) string {
	return strings.Replace(e.aws, "{target}", targetID, 1)
}

func invalid(reason, aws string) error {
	return &ValidationError{Reason: reason, aws: aws}
}

// Limits of PutTargets.
const (
	maxVars        = 100  // InputPathsMap entries
	maxKeyLen      = 256  // InputPathsMap key
	maxTemplateLen = 8192 // InputTemplate and Input
)

// Predefined variables.
const (
	varRuleARN       = "aws.events.rule-arn"
	varRuleName      = "aws.events.rule-name"
	varEvent         = "aws.events.event"
	varEventJSON     = "aws.events.event.json"
	varIngestionTime = "aws.events.event.ingestion-time"
)

// Vars are the predefined variables' values for one delivery.
type Vars struct {
	RuleARN, RuleName string
	// IngestionTime is when the event was received. Zero: the event's own
	// "time".
	IngestionTime time.Time
}

// kinds of values a placeholder takes.
const (
	kindPath = iota
	kindRuleARN
	kindRuleName
	kindIngestion
	kindEvent
	kindEventJSON
)

// part is a piece of a compiled template: literal text followed by at most
// one placeholder.
type part struct {
	text   string
	hole   bool
	inText bool // inside a string (or a string template): insert as text
	v      int  // index into Transformer.vars
}

// variable is one distinct placeholder of a template.
type variable struct {
	name string
	kind int
	path path
}

// Transformer is a compiled InputTransformer. It is immutable and safe for
// concurrent use.
type Transformer struct {
	template string
	json     bool
	parts    []part
	vars     []variable
}

// New validates and compiles an InputTransformer as PutTargets does: at most
// 100 variables, keys of 1 to 256 characters [A-Za-z0-9_-] (so neither a
// predefined name nor "AWS." can be one), paths that are JSON paths of at
// most 256 characters, a template of 1 to 8192 characters whose every
// <placeholder> is a key or a predefined variable, and, in a JSON template,
// no placeholder as an object key. pathsMap may be nil.
func New(pathsMap map[string]string, template string) (*Transformer, error) {
	if len(pathsMap) > maxVars {
		return nil, invalid(fmt.Sprintf("input_paths_map has %d variables, more than %d", len(pathsMap), maxVars),
			"1 validation error detected: Value at 'targets.1.member.inputTransformer.inputPathsMap' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	paths := make(map[string]path, len(pathsMap))
	for k, p := range pathsMap {
		if !validKey(k) {
			reason := fmt.Sprintf("input_paths_map key %q: want 1 to 256 characters of A-Z a-z 0-9 _ -", k)
			if isPredefined(k) {
				reason = fmt.Sprintf("input_paths_map key %q is a predefined variable", k)
			}
			return nil, invalid(reason,
				"1 validation error detected: Value at 'targets.1.member.inputTransformer.inputPathsMap' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [A-Za-z0-9\\_\\-]+]")
		}
		c, err := compilePath(p)
		if err != nil {
			return nil, invalid(fmt.Sprintf("input_paths_map %s: json path %q: %v", k, p, err),
				"InputPathsMap for target {target} contains an invalid JSON path "+p+".")
		}
		paths[k] = c
	}
	if template == "" || len(template) > maxTemplateLen {
		return nil, invalid(fmt.Sprintf("input_template has %d characters, want 1 to %d", len(template), maxTemplateLen),
			"1 validation error detected: Value at 'targets.1.member.inputTransformer.inputTemplate' failed to satisfy constraint: Member must have length less than or equal to 8192, Member must have length greater than or equal to 1")
	}
	t := &Transformer{template: template, json: isJSONTemplate(template)}
	if err := t.compile(paths); err != nil {
		return nil, err
	}
	return t, nil
}

func validKey(k string) bool {
	if k == "" || len(k) > maxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func isPredefined(name string) bool {
	_, ok := predefinedKind(name)
	return ok
}

func predefinedKind(name string) (int, bool) {
	switch name {
	case varRuleARN:
		return kindRuleARN, true
	case varRuleName:
		return kindRuleName, true
	case varEvent:
		return kindEvent, true
	case varEventJSON:
		return kindEventJSON, true
	case varIngestionTime:
		return kindIngestion, true
	}
	return 0, false
}

// isJSONTemplate: the template's first non-blank character opens a JSON
// object or array.
func isJSONTemplate(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// compile splits the template into parts. A placeholder is '<', the shortest
// run of characters other than a line break, and '>' (AWS offers no way to
// escape < and >). In a JSON template the scan follows strings (with their
// backslash escapes) to know whether a placeholder is inside one, and
// containers to know whether it stands where an object key must.
func (t *Transformer) compile(paths map[string]path) error {
	s := t.template
	index := map[string]int{}
	inString := !t.json
	var stack []byte // open containers outside strings: '{' or '['
	expectKey := false
	lit := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c == '<' {
			if j := placeholderEnd(s, i); j > 0 {
				name := s[i+1 : j]
				v, ok := index[name]
				if !ok {
					if k, pre := predefinedKind(name); pre {
						t.vars = append(t.vars, variable{name: name, kind: k})
					} else if p, def := paths[name]; def {
						t.vars = append(t.vars, variable{name: name, kind: kindPath, path: p})
					} else {
						return invalid("input_template contains invalid placeholder "+name,
							"InputTemplate for target {target} contains invalid placeholder "+name+".")
					}
					v = len(t.vars) - 1
					index[name] = v
				}
				if t.json && !inString && expectKey && len(stack) > 0 && stack[len(stack)-1] == '{' {
					return invalid("input_template uses placeholder "+name+" as an object key",
						"InputTemplate for target {target} uses placeholder "+name+" as an object key.")
				}
				t.parts = append(t.parts, part{text: s[lit:i], hole: true, inText: inString, v: v})
				i = j + 1
				lit = i
				continue
			}
		}
		if t.json {
			if inString {
				switch c {
				case '\\':
					if i+1 < len(s) && s[i+1] != '<' {
						i++
					}
				case '"':
					inString = false
				}
			} else {
				switch c {
				case '"':
					inString = true
					if expectKey {
						// The key; the value comes after ':'.
						expectKey = false
					}
				case '{':
					stack = append(stack, '{')
					expectKey = true
				case '[':
					stack = append(stack, '[')
				case '}', ']':
					if len(stack) > 0 {
						stack = stack[:len(stack)-1]
					}
					expectKey = false
				case ',':
					expectKey = len(stack) > 0 && stack[len(stack)-1] == '{'
				case ':':
					expectKey = false
				}
			}
		}
		i++
	}
	if lit < len(s) {
		t.parts = append(t.parts, part{text: s[lit:]})
	}
	return nil
}

// placeholderEnd returns the index of the '>' closing the placeholder that
// opens at s[i], or -1.
func placeholderEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '>':
			return j
		case '\n', '\r':
			return -1
		}
	}
	return -1
}

// JSON reports whether the template is a JSON template (its rendering must
// be valid JSON to be delivered).
func (t *Transformer) JSON() bool { return t.json }

// Template returns the InputTemplate.
func (t *Transformer) Template() string { return t.template }

// Render renders the template over one event (its EventBridge envelope
// JSON). The event is parsed once. A JSON template that renders invalid
// JSON is an error wrapping ErrInvalidJSON: AWS does not deliver it.
func (t *Transformer) Render(event []byte, v Vars) ([]byte, error) {
	root, err := parse(event)
	if err != nil {
		return nil, fmt.Errorf("render: %w: %w", ErrEvent, err)
	}
	if root.kind != '{' {
		return nil, fmt.Errorf("render: %w", ErrEvent)
	}
	// Each variable's value, once: a node (nil when missing) or text.
	vals := make([]value, len(t.vars))
	for i, vr := range t.vars {
		vals[i] = resolve(vr, root, v)
	}
	out := make([]byte, 0, len(t.template)+64*len(t.parts))
	for _, p := range t.parts {
		out = append(out, p.text...)
		if !p.hole {
			continue
		}
		val := vals[p.v]
		switch {
		case val.json != nil:
			out = append(out, val.json...)
		case val.n != nil && p.inText && (!t.json || val.n.kind != '{' && val.n.kind != '['):
			out = val.n.appendText(out)
		case val.n != nil:
			out = val.n.appendJSON(out)
		case p.inText:
			out = append(out, val.text...)
		default:
			out = appendQuoted(out, val.text)
		}
	}
	if t.json && !validJSON(out) {
		return nil, fmt.Errorf("render: %w", ErrInvalidJSON)
	}
	return out, nil
}

// value is a variable's value for one event: a node of the event, JSON text
// inserted as it is in every context, or a string (text; "" when missing).
type value struct {
	n    *node
	json []byte
	text string
}

func resolve(vr variable, root *node, v Vars) value {
	switch vr.kind {
	case kindPath:
		return value{n: vr.path.eval(root)}
	case kindRuleARN:
		return value{text: v.RuleARN}
	case kindRuleName:
		return value{text: v.RuleName}
	case kindIngestion:
		return value{text: ingestionTime(root, v)}
	case kindEvent:
		return value{json: eventWithoutDetail(root, v)}
	case kindEventJSON:
		return value{json: root.raw}
	}
	return value{}
}

// ingestionTime formats Vars.IngestionTime as EventBridge formats times, or
// gives the event's own time when it is zero.
func ingestionTime(root *node, v Vars) string {
	if !v.IngestionTime.IsZero() {
		return v.IngestionTime.UTC().Format("2006-01-02T15:04:05Z")
	}
	if n := root.member("time"); n != nil && n.kind == '"' {
		return unquote(n.raw)
	}
	return ""
}

// eventWithoutDetail renders <aws.events.event> as AWS does: the envelope's
// fields but detail, in AWS's order, detail-type as "detailType" and the
// ingestion time as "time".
func eventWithoutDetail(root *node, v Vars) []byte {
	out := []byte{'{'}
	add := func(key string, val []byte) {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = appendQuoted(out, key)
		out = append(out, ':')
		out = append(out, val...)
	}
	for _, k := range [...]string{"id", "account", "detail-type", "time", "source", "region", "resources", "version"} {
		switch k {
		case "time":
			add("time", appendQuoted(nil, ingestionTime(root, v)))
		case "detail-type":
			if n := root.member(k); n != nil {
				add("detailType", n.raw)
			}
		default:
			if n := root.member(k); n != nil {
				add(k, n.raw)
			}
		}
	}
	return append(out, '}')
}
