package ui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"

	"github.com/trailwatch/trailwatch/filterpattern"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/pattern"
)

type kv struct{ K, V string }

// playgroundData is the playground page: an event pattern tested against
// an event, and a filter pattern against a log message, each with the
// explanation of what matched and what did not.
type playgroundData struct {
	page
	Pattern, Event, EventErr string
	EventTested, EventMatch  bool
	// Wrapped is the EventBridge event a pasted CloudTrail record was
	// tested as ("" when an event was pasted).
	Wrapped string
	Explain *pattern.Explanation
	// RulesMatching are the loaded rules the event matches.
	RulesMatching []string

	Filter, Message, FilterErr string
	FilterTested, FilterMatch  bool
	FilterExplain              *filterpattern.Explanation
	Values                     []kv
}

// maxPlayground bounds what the playground tests.
const maxPlayground = 256 << 10

func (s *Server) handlePlayground(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := playgroundData{page: page{Title: "Playground"}, Pattern: q.Get("pattern"), Event: q.Get("event"), Filter: q.Get("filter"), Message: q.Get("message")}
	switch {
	case d.Pattern == "" && d.Event == "":
	case len(d.Pattern) > maxPlayground || len(d.Event) > maxPlayground:
		d.EventErr = "too large (at most 256 KiB each)"
	default:
		s.testEventPattern(&d)
	}
	if q.Has("filter") || d.Message != "" {
		if len(d.Filter) > maxPlayground || len(d.Message) > maxPlayground {
			d.FilterErr = "too large (at most 256 KiB each)"
		} else if p, err := filterpattern.Parse(d.Filter); err != nil {
			d.FilterErr = "filter pattern: " + err.Error()
		} else {
			d.FilterTested = true
			var m filterpattern.Match
			m, d.FilterMatch = p.Match([]byte(d.Message))
			d.FilterExplain = p.Explain([]byte(d.Message))
			if d.FilterMatch {
				for k, v := range m.Values() {
					d.Values = append(d.Values, kv{k, v})
				}
				sort.Slice(d.Values, func(i, j int) bool { return d.Values[i].K < d.Values[j].K })
			}
		}
	}
	s.render(w, http.StatusOK, "playground", d)
}

// testEventPattern tests d's pattern against d's event as the rules do
// (rule.ParsePattern: both sign-in detail-type spellings), explaining each
// condition. A pasted CloudTrail record is first wrapped in the envelope
// EventBridge delivers it in; the loaded rules that match are listed too.
func (s *Server) testEventPattern(d *playgroundData) {
	evJSON := []byte(d.Event)
	var ev *event.Event
	if isRecord(evJSON) {
		e, err := event.FromRecord(evJSON)
		if err != nil {
			d.EventErr = "CloudTrail record: " + err.Error()
			return
		}
		ev, evJSON = e, e.JSON
		var buf bytes.Buffer
		if json.Indent(&buf, e.JSON, "", "  ") == nil {
			d.Wrapped = buf.String()
		} else {
			d.Wrapped = string(e.JSON)
		}
	} else if e, err := event.FromEnvelope(evJSON); err == nil {
		ev = e
	}
	if d.Pattern != "" {
		p, err := rule.ParsePattern([]byte(d.Pattern))
		if err != nil {
			d.EventErr = "pattern: " + err.Error()
			return
		}
		if d.EventMatch, err = pattern.Matches(p, evJSON); err != nil {
			d.EventErr = "event: " + err.Error()
			return
		}
		if d.Explain, err = pattern.Explain(p, evJSON); err != nil {
			d.EventErr = "event: " + err.Error()
			return
		}
		d.EventTested = true
	}
	if ev == nil {
		if d.Pattern == "" {
			d.EventErr = "event: not an EventBridge event or a CloudTrail record"
		}
		return
	}
	for _, r := range s.rules {
		if ok, err := r.Matches(ev); err == nil && ok {
			d.RulesMatching = append(d.RulesMatching, r.Name)
		}
	}
	sort.Strings(d.RulesMatching)
}

// isRecord reports whether b is a CloudTrail record rather than an
// EventBridge event: an object with eventVersion and eventSource and no
// detail-type.
func isRecord(b []byte) bool {
	_, hasType := event.Lookup(b, "detail-type")
	_, hasVersion := event.Lookup(b, "eventVersion")
	_, hasSource := event.Lookup(b, "eventSource")
	return !hasType && hasVersion && hasSource
}
