package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/internal/store"
)

// Bounds of the rules pages.
const (
	// maxMatchScan bounds the alerts the rules page counts (the last 7
	// days'); beyond it the counts are lower bounds.
	maxMatchScan = 10000
	// maxRuleAlerts is how many recent alerts a rule's page lists.
	maxRuleAlerts = 20
)

// DisabledRule is a rule a configuration holds but does not run (a
// template's AWS::Events::Rule in state DISABLED).
type DisabledRule struct {
	Name   string // the template's logical ID
	File   string // the template (or Terraform configuration)
	Reason string
}

// disabledSuffix ends the Skipped entry config writes for a template's
// rule in state DISABLED: "<file>: <logical ID> (AWS::Events::Rule): State
// is DISABLED, not run".
const disabledSuffix = " (AWS::Events::Rule): State is DISABLED, not run"

// DisabledRules picks the rules in state DISABLED out of config.Config's
// Skipped entries, whose wording config fixes (see disabledSuffix).
func DisabledRules(skipped []string) []DisabledRule {
	var out []DisabledRule
	for _, s := range skipped {
		head, ok := strings.CutSuffix(s, disabledSuffix)
		if !ok {
			continue
		}
		i := strings.LastIndex(head, ": ")
		if i < 0 {
			continue
		}
		out = append(out, DisabledRule{Name: head[i+2:], File: head[:i], Reason: "State is DISABLED"})
	}
	return out
}

// ruleInfo is a loaded rule with where it comes from and how its inline
// tests went (run once, when the Server is built).
type ruleInfo struct {
	R           *rule.Rule
	Href        string
	Pack        string // a built-in pack's name, or the file the rule is written in
	Builtin     bool
	Passed      int
	Results     []testResult
	PatternText string // the pattern as written, indented JSON
	Try         string // the pattern in the playground
}

// Total is the number of inline tests.
func (ri *ruleInfo) Total() int { return len(ri.Results) }

// Failed reports whether an inline test failed.
func (ri *ruleInfo) Failed() bool { return ri.Passed < len(ri.Results) }

// DedupText says how the rule folds matching events into alerts.
func (ri *ruleInfo) DedupText() string {
	d := ri.R.Dedup
	if d.Period == 0 {
		return "none: every matching event is its own alert"
	}
	key := "the rule's name"
	if d.Key != "" {
		key = d.Key
	}
	return fmt.Sprintf("events with the same key (%s) within %s fold into one alert, which fires at %d event(s)",
		key, durationWords(d.Period), max(d.Threshold, 1))
}

// RemindText says how the rule re-sends alerts nobody acknowledged.
func (ri *ruleInfo) RemindText() string {
	if ri.R.RemindEvery == 0 || ri.R.RemindMax == 0 {
		return "none set by the rule (routes and receivers may set them)"
	}
	return fmt.Sprintf("every %s, at most %d", durationWords(ri.R.RemindEvery), ri.R.RemindMax)
}

type testResult struct {
	Name, Source, Message string
	Expect, Passed        bool
	// Try opens the test in the playground: the rule's pattern and the
	// test's event ("" when too long for a link).
	Try string
}

// maxTryLink bounds a playground link (browsers and proxies cut long URLs).
const maxTryLink = 16 << 10

// playgroundLink opens the playground on a pattern and an event.
func playgroundLink(pattern, event []byte) string {
	q := url.Values{"pattern": {string(pattern)}}
	if event != nil {
		q.Set("event", string(event))
	}
	u := "/playground?" + q.Encode()
	if len(u) > maxTryLink {
		return ""
	}
	return u
}

// builtinRules are the rules of the built-in packs (loaded once).
var builtinRules = sync.OnceValue(func() []*rule.Rule {
	rs, _ := rule.Builtin()
	return rs
})

// builtinSources maps each built-in rule's name to its Source: a loaded
// rule with the same name and source is the built-in one (names are
// unique in a rule set).
var builtinSources = sync.OnceValue(func() map[string]string {
	rs := builtinRules()
	m := make(map[string]string, len(rs))
	for _, r := range rs {
		m[r.Name] = r.Source
	}
	return m
})

// builtinPack is the name of the built-in pack of a Source:
// rules/signin.yaml:12 is pack "signin".
func builtinPack(src string) string {
	f := sourceFile(src)
	return strings.TrimSuffix(path.Base(f), path.Ext(f))
}

// sourceFile is the file part of a Source "file:line".
func sourceFile(src string) string {
	if i := strings.LastIndexByte(src, ':'); i >= 0 {
		if _, err := strconv.Atoi(src[i+1:]); err == nil {
			return src[:i]
		}
	}
	return src
}

// setRules groups the rules by pack and runs their inline tests.
func (s *Server) setRules(o Options) {
	s.muted = o.Muted
	s.disabled = append([]DisabledRule(nil), o.DisabledRules...)
	s.ruleInfo = map[string]*ruleInfo{}
	builtins := builtinSources()
	for _, r := range s.rules {
		ri := &ruleInfo{R: r, Href: "/rules/" + url.PathEscape(r.Name), Pack: sourceFile(r.Source)}
		if src, ok := builtins[r.Name]; ok && src == r.Source {
			ri.Builtin = true
			ri.Pack = builtinPack(r.Source)
		}
		ri.PatternText = string(r.PatternJSON)
		ri.Try = playgroundLink(r.PatternJSON, nil)
		var buf bytes.Buffer
		if json.Indent(&buf, r.PatternJSON, "", "  ") == nil {
			ri.PatternText = buf.String()
		}
		s.ruleInfo[r.Name] = ri
	}
	for _, res := range rule.RunTests(s.rules) {
		ri := s.ruleInfo[res.Rule.Name]
		if ri == nil || ri.R != res.Rule {
			continue
		}
		tr := testResult{Name: res.Test.Name, Source: res.Test.Source, Expect: res.Test.Expect, Passed: res.Passed()}
		if ev := res.Test.Event; ev != nil {
			tr.Try = playgroundLink(res.Rule.PatternJSON, ev.JSON)
		}
		switch {
		case res.Err != nil:
			tr.Message = res.Err.Error()
		case !tr.Passed:
			tr.Message = "expected match=" + strconv.FormatBool(res.Test.Expect) + ", got " + strconv.FormatBool(res.Got)
		}
		if tr.Passed {
			ri.Passed++
		}
		ri.Results = append(ri.Results, tr)
	}
}

// ruleStatus is "enabled" or "muted" (a mute schedule mutes it now: its
// alerts are recorded, not sent).
func (s *Server) ruleStatus(name string) string {
	if s.muted != nil && s.muted(name) {
		return "muted"
	}
	return "enabled"
}

// matchCounts are a rule's recent alerts.
type matchCounts struct {
	Day, Week int
	Last      time.Time // the last matching event's, by the store's clock
}

// recentMatches counts the alerts of the last 7 days by rule (of one rule
// when ruleName is not ""), from one bounded query; capped says the bound
// was reached (counts are then lower bounds).
func (s *Server) recentMatches(r *http.Request, now time.Time, ruleName string) (map[string]*matchCounts, bool, error) {
	rows, err := s.st.Alerts(r.Context(), store.AlertFilter{Rule: ruleName, Since: now.Add(-7 * 24 * time.Hour), Limit: maxMatchScan})
	if err != nil {
		return nil, false, err
	}
	out := map[string]*matchCounts{}
	for _, a := range rows {
		m := out[a.Rule]
		if m == nil {
			m = &matchCounts{}
			out[a.Rule] = m
		}
		m.Week++
		if !a.FirstSeen.Before(now.Add(-24 * time.Hour)) {
			m.Day++
		}
		if a.LastSeen.After(m.Last) {
			m.Last = a.LastSeen
		}
	}
	return out, len(rows) == maxMatchScan, nil
}

// ruleRow is one line of the rules page.
type ruleRow struct {
	*ruleInfo
	Status    string
	Matches   matchCounts
	AlertsURL string
}

// pack is the rules of one pack or file.
type pack struct {
	Name     string
	Builtin  bool
	Rules    []ruleRow
	Disabled []DisabledRule
}

func (s *Server) handleRules(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	counts, capped, err := s.recentMatches(r, now, "")
	if err != nil {
		s.log.Error("ui: rule matches", "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	byName := map[string]*pack{}
	get := func(name string, builtin bool) *pack {
		key := strconv.FormatBool(builtin) + "\x00" + name
		p := byName[key]
		if p == nil {
			p = &pack{Name: name, Builtin: builtin}
			byName[key] = p
		}
		return p
	}
	for _, ri := range s.ruleInfo {
		row := ruleRow{ruleInfo: ri, Status: s.ruleStatus(ri.R.Name), AlertsURL: "/?rule=" + url.QueryEscape(ri.R.Name)}
		if m := counts[ri.R.Name]; m != nil {
			row.Matches = *m
		}
		p := get(ri.Pack, ri.Builtin)
		p.Rules = append(p.Rules, row)
	}
	for _, d := range s.disabled {
		p := get(d.File, false)
		p.Disabled = append(p.Disabled, d)
	}
	// The built-in packs not loaded are listed, to be turned on.
	loaded := map[string]bool{}
	for _, ri := range s.ruleInfo {
		if ri.Builtin {
			loaded[ri.Pack] = true
		}
	}
	for _, b := range builtinRules() {
		if pk := builtinPack(b.Source); !loaded[pk] {
			p := get(pk, true)
			p.Disabled = append(p.Disabled, DisabledRule{Name: b.Name, File: b.Source,
				Reason: "built-in pack not loaded (a configuration file's builtin_rules: false, or templates alone)"})
		}
	}
	packs := make([]*pack, 0, len(byName))
	for _, p := range byName {
		sort.Slice(p.Rules, func(i, j int) bool { return p.Rules[i].R.Name < p.Rules[j].R.Name })
		sort.Slice(p.Disabled, func(i, j int) bool { return p.Disabled[i].Name < p.Disabled[j].Name })
		packs = append(packs, p)
	}
	// Built-in packs first, then files, each by name.
	sort.Slice(packs, func(i, j int) bool {
		if packs[i].Builtin != packs[j].Builtin {
			return packs[i].Builtin
		}
		return packs[i].Name < packs[j].Name
	})
	s.render(w, http.StatusOK, "rules", struct {
		page
		Packs  []*pack
		Capped bool
	}{page{Title: "Rules"}, packs, capped})
}

func (s *Server) handleRule(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	ri, ok := s.ruleInfo[name]
	if !ok {
		s.errorPage(w, http.StatusNotFound, "no rule "+strconv.Quote(name))
		return
	}
	now := s.now()
	alerts, err := s.st.Alerts(r.Context(), store.AlertFilter{Rule: name, Limit: maxRuleAlerts})
	if err != nil {
		s.log.Error("ui: rule alerts", "rule", name, "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	counts, capped, err := s.recentMatches(r, now, name)
	if err != nil {
		s.log.Error("ui: rule matches", "rule", name, "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	row := ruleRow{ruleInfo: ri, Status: s.ruleStatus(name), AlertsURL: "/?rule=" + url.QueryEscape(name)}
	if m := counts[name]; m != nil {
		row.Matches = *m
	}
	s.render(w, http.StatusOK, "rule", struct {
		page
		ruleRow
		Capped bool
		Alerts []store.AlertRow
	}{page{Title: "Rule " + name}, row, capped, alerts})
}
