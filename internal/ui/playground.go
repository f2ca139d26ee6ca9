package ui

import (
	"net/http"
	"sort"

	"github.com/trailwatch/trailwatch/filterpattern"
	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/pattern"
)

type kv struct{ K, V string }

type playgroundData struct {
	page
	Pattern, Event, EventErr string
	EventTested, EventMatch  bool

	Filter, Message, FilterErr string
	FilterTested, FilterMatch  bool
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
		d.EventErr = "too large"
	default:
		d.EventMatch, d.EventErr = testEventPattern(d.Pattern, d.Event)
		d.EventTested = d.EventErr == ""
	}
	if q.Has("filter") || d.Message != "" {
		if len(d.Filter) > maxPlayground || len(d.Message) > maxPlayground {
			d.FilterErr = "too large"
		} else if p, err := filterpattern.Parse(d.Filter); err != nil {
			d.FilterErr = "filter pattern: " + err.Error()
		} else {
			d.FilterTested = true
			var m filterpattern.Match
			m, d.FilterMatch = p.Match([]byte(d.Message))
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

func testEventPattern(pat, ev string) (bool, string) {
	p, err := rule.ParsePattern([]byte(pat))
	if err != nil {
		return false, "pattern: " + err.Error()
	}
	ok, err := pattern.Matches(p, []byte(ev))
	if err != nil {
		return false, "event: " + err.Error()
	}
	return ok, ""
}
