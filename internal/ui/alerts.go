package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"

	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/internal/store"
)

type alertsFilter struct{ State, Rule, Severity, Account string }

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := alertsFilter{State: q.Get("state"), Rule: q.Get("rule"), Severity: q.Get("severity"), Account: q.Get("account")}
	states := []string{store.StateNew, store.StateNotified, store.StateAcked, store.StateDeadLettered, store.StatePending}
	if f.State != "" && !slices.Contains(states, f.State) {
		s.errorPage(w, http.StatusBadRequest, "unknown state "+f.State)
		return
	}
	after, err := store.ParseAlertCursor(q.Get("after"))
	if err != nil {
		s.errorPage(w, http.StatusBadRequest, "bad after: "+err.Error())
		return
	}
	// One more than a page says whether there are older alerts.
	out, err := s.st.Alerts(r.Context(), store.AlertFilter{State: f.State, Rule: f.Rule, Severity: f.Severity, Account: f.Account, After: after, Limit: maxListed + 1})
	if err != nil {
		s.log.Error("ui: alerts", "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	v := url.Values{}
	for k, x := range map[string]string{"state": f.State, "rule": f.Rule, "severity": f.Severity, "account": f.Account} {
		if x != "" {
			v.Set(k, x)
		}
	}
	newest := "/?" + v.Encode()
	older := ""
	if len(out) > maxListed {
		out = out[:maxListed]
		v.Set("after", out[len(out)-1].Cursor().String())
		older = "/?" + v.Encode()
	}
	sevs := make([]string, 0, rule.SeverityCritical+1)
	for v := rule.SeverityInfo; v <= rule.SeverityCritical; v++ {
		sevs = append(sevs, v.String())
	}
	names := make([]string, 0, len(s.rules)+len(s.alarms))
	for _, r := range s.rules {
		names = append(names, r.Name)
	}
	for _, a := range s.alarms {
		names = append(names, "alarm:"+a.cfg.Name)
	}
	sort.Strings(names)
	s.render(w, http.StatusOK, "alerts", struct {
		page
		F                         alertsFilter
		States, Severities, Rules []string
		Alerts                    []store.AlertRow
		// Paged is set on a page after the first; Older links to the next.
		Paged         bool
		Newest, Older string
	}{page{Title: "Alerts"}, f, states, sevs, names, out, !after.IsZero(), newest, older})
}

func (s *Server) handleAlert(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, err := s.st.Alert(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, http.StatusNotFound, "no alert "+id)
		return
	}
	if err != nil {
		s.log.Error("ui: alert", "alert_id", id, "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	ev := string(a.Alert.Event)
	var buf bytes.Buffer
	if json.Indent(&buf, a.Alert.Event, "", "  ") == nil {
		ev = buf.String()
	}
	title := a.Alert.Summary
	if title == "" {
		title = a.Rule
	}
	s.render(w, http.StatusOK, "alert", struct {
		page
		A         store.AlertRow
		Event     string
		Reminders []string
	}{page{Title: title, CSRF: s.csrfToken(r)}, a, ev, reminderPolicies(a)})
}

// reminderPolicies says, per receiver, how the alert is reminded: "oncall:
// every 10 minutes, at most 3; next due 2026-03-01 12:10:00Z".
func reminderPolicies(a store.AlertRow) []string {
	var out []string
	for _, d := range a.Deliveries {
		if d.Reminder != 0 || d.RemindEvery <= 0 {
			continue
		}
		p := fmt.Sprintf("%s: every %s, at most %d", d.Receiver, durationWords(d.RemindEvery), d.RemindMax)
		switch {
		case !d.RemindNext.IsZero():
			p += "; next due " + fmtTime(d.RemindNext)
		case a.State == store.StateAcked:
			p += "; stopped by the acknowledgement"
		}
		out = append(out, p)
	}
	return out
}

func (s *Server) handleAck(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !s.csrfOK(r) {
		s.errorPage(w, http.StatusForbidden, "bad or missing CSRF token; reload the page")
		return
	}
	id := r.PathValue("id")
	by := "web ui"
	if u := userOf(r); u != "" {
		by = u + " (web ui)"
	}
	err := s.st.Ack(r.Context(), id, by)
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, http.StatusNotFound, "no alert "+id)
		return
	}
	if err != nil {
		s.log.Error("ui: ack", "alert_id", id, "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "acknowledgement not stored; retry later")
		return
	}
	s.log.Info("alert acknowledged", "alert_id", id, "by", by)
	http.Redirect(w, r, "/alerts/"+url.PathEscape(id), http.StatusSeeOther)
}
