package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/trailwatch/trailwatch/internal/rule"
)

// The detail-types EventBridge gives CloudTrail events. Sign-in events come
// under both spellings ("Sign In" historically, "Signin" since 2024), so a
// rule names both.
const (
	detailTypeSignIn    = "AWS Console Sign In via CloudTrail"
	detailTypeSignInNew = "AWS Console Signin via CloudTrail"
	detailTypeAPICall   = "AWS API Call via CloudTrail"
)

// Patterns are the event patterns of the rules the export deploys.
type Patterns struct {
	// SignIn matches console sign-in events (both detail-type spellings).
	SignIn []byte
	// APICalls match API calls, narrowed to what some rule matches when
	// asked for and possible; several patterns when one would be longer
	// than EventBridge's default limit (MaxPatternSize), one rule each.
	APICalls [][]byte
	// ReadOnly: the API-call rule must see read-only events too (state
	// ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS): a rule needs them.
	ReadOnly bool
	// Notes explain what narrowing did not do, one line each.
	Notes []string
}

// BuildPatterns returns the patterns of the deployed rules. With rules
// nil, every sign-in and API-call event is forwarded. With rules, the
// API-call pattern is narrowed to the union of the detail.eventSource
// matchers of the rules that can match an API call: a superset of what
// they match, since dropping the other fields of a pattern only widens it.
// When one of them matches API calls from any event source, nothing is
// narrowed and a note says which rule.
func BuildPatterns(rules []*rule.Rule) (*Patterns, error) {
	p := &Patterns{
		SignIn:   mustJSON(map[string]any{"detail-type": []string{detailTypeSignIn, detailTypeSignInNew}}),
		APICalls: [][]byte{mustJSON(map[string]any{"detail-type": []string{detailTypeAPICall}})},
	}
	if rules == nil {
		return p, nil
	}
	sources := map[string]json.RawMessage{} // matcher's JSON text -> matcher
	branches := map[string][]byte{}         // patterns of rules that name no event source
	narrow := true
	for _, r := range rules {
		var pat map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(r.PatternJSON))
		dec.UseNumber()
		if err := dec.Decode(&pat); err != nil {
			return nil, fmt.Errorf("rule %s: pattern: %w", r.Name, err)
		}
		if !mayMatchAPICall(pat["detail-type"]) {
			if unforwarded(pat["detail-type"]) {
				p.Notes = append(p.Notes, fmt.Sprintf("rule %s matches detail-types the export does not forward", r.Name))
			}
			continue
		}
		if r.IncludeReadOnly {
			p.ReadOnly = true
		}
		var detail map[string]json.RawMessage
		if d, ok := pat["detail"]; ok {
			_ = json.Unmarshal(d, &detail) // not an object: no eventSource
		}
		var ms []json.RawMessage
		if es, ok := detail["eventSource"]; ok {
			if err := json.Unmarshal(es, &ms); err != nil {
				ms = nil
			}
		}
		if len(ms) == 0 {
			// No event source: the rule's own pattern, for API calls only,
			// becomes a branch of an $or.
			_, hasOr := pat["$or"]
			if _, ok := pat["detail"]; !ok || hasOr {
				p.Notes = append(p.Notes, fmt.Sprintf("rule %s matches API calls of any event source: API calls are not narrowed", r.Name))
				narrow = false
				continue
			}
			pat["detail-type"] = json.RawMessage(mustJSON([]string{detailTypeAPICall}))
			b := mustJSON(pat)
			branches[string(b)] = b
			continue
		}
		for _, m := range ms {
			var b bytes.Buffer
			if err := json.Compact(&b, m); err != nil {
				return nil, fmt.Errorf("rule %s: pattern: %w", r.Name, err)
			}
			sources[b.String()] = json.RawMessage(b.Bytes())
		}
	}
	if !narrow {
		return p, nil
	}
	var or []json.RawMessage
	if len(sources) > 0 {
		or = append(or, mustJSON(map[string]any{
			"detail-type": []string{detailTypeAPICall},
			"detail":      map[string]any{"eventSource": sortedValues(sources)},
		}))
	}
	or = append(or, sortedValues(branches)...)
	switch len(or) {
	case 0:
		// No rule matches API calls: the rule matches nothing real.
		p.APICalls = [][]byte{mustJSON(map[string]any{
			"detail-type": []string{detailTypeAPICall},
			"detail":      map[string]any{"eventSource": []string{"none.trailwatch.invalid"}},
		})}
		p.Notes = append(p.Notes, "no rule matches API calls: the API-call rule matches nothing")
	default:
		p.APICalls = pack(or)
		for _, b := range p.APICalls {
			if len(b) > MaxPatternSize {
				p.Notes = append(p.Notes, fmt.Sprintf("an API-call pattern is %d characters, beyond EventBridge's default %d (ask for the 4096 quota)", len(b), MaxPatternSize))
			}
		}
	}
	return p, nil
}

// MaxPatternSize is EventBridge's default limit on an event pattern's
// length, in characters (adjustable to 4096).
const MaxPatternSize = 2048

// pack puts the alternatives in as few patterns ($or) of at most
// MaxPatternSize as it can, in order.
func pack(alts []json.RawMessage) [][]byte {
	var out [][]byte
	var cur []json.RawMessage
	flush := func() {
		switch len(cur) {
		case 0:
			return
		case 1:
			out = append(out, cur[0])
		default:
			out = append(out, mustJSON(map[string]any{"$or": cur}))
		}
		cur = nil
	}
	for _, a := range alts {
		next := append(append([]json.RawMessage(nil), cur...), a)
		if len(cur) > 0 && len(mustJSON(map[string]any{"$or": next})) > MaxPatternSize {
			flush()
			next = []json.RawMessage{a}
		}
		cur = next
	}
	flush()
	return out
}

// mayMatchAPICall reports whether a pattern's detail-type field (nil when
// absent) lets an API call through.
func mayMatchAPICall(dt json.RawMessage) bool {
	if dt == nil {
		return true
	}
	var list []any
	if err := json.Unmarshal(dt, &list); err != nil {
		return true
	}
	for _, v := range list {
		s, ok := v.(string)
		if !ok || s == detailTypeAPICall {
			return true // a matcher object: assume it may
		}
	}
	return false
}

// unforwarded reports whether a detail-type field names only exact values
// none of which the export forwards.
func unforwarded(dt json.RawMessage) bool {
	var list []any
	if dt == nil || json.Unmarshal(dt, &list) != nil {
		return false
	}
	for _, v := range list {
		s, ok := v.(string)
		if !ok || s == detailTypeSignIn || s == detailTypeSignInNew || s == detailTypeAPICall {
			return false
		}
	}
	return true
}

// mustJSON encodes v, which holds only strings, lists, maps and raw JSON.
func mustJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSpace(b.Bytes())
}

// sortedValues returns m's values in the order of their keys.
func sortedValues[V ~[]byte](m map[string]V) []json.RawMessage {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]json.RawMessage, len(keys))
	for i, k := range keys {
		out[i] = json.RawMessage(m[k])
	}
	return out
}
