package ui

import (
	"fmt"
	"net/http"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/config"
)

// compositeDef is a configured composite alarm, its rule parsed.
type compositeDef struct {
	cfg    alarm.CompositeConfig
	rule   *alarm.Rule
	source string
}

// setComposites parses the composite alarms' rules.
func (s *Server) setComposites(cs []*config.CompositeAlarm) error {
	s.composites = map[string]*compositeDef{}
	for _, c := range cs {
		if c == nil {
			continue
		}
		cfg := c.CompositeConfig()
		r, err := alarm.ParseRule(cfg.Rule)
		if err != nil {
			return fmt.Errorf("%w: composite alarm %q: %w", ErrBadOptions, cfg.Name, err)
		}
		if _, dup := s.alarms[cfg.Name]; dup {
			return fmt.Errorf("%w: alarm %q given twice", ErrBadOptions, cfg.Name)
		}
		if _, dup := s.composites[cfg.Name]; dup {
			return fmt.Errorf("%w: alarm %q given twice", ErrBadOptions, cfg.Name)
		}
		s.composites[cfg.Name] = &compositeDef{cfg: cfg, rule: r, source: c.Source}
		s.alarmNames = append(s.alarmNames, cfg.Name)
	}
	return nil
}

// status is the composite's line of the alarms list: its state from the
// store, its rule as the condition.
func (c *compositeDef) status(snaps map[string]alarm.Snapshot) alarmStatus {
	st := alarmStatus{
		Name: c.cfg.Name, Href: alarmHref(c.cfg.Name),
		State: alarm.InsufficientData, Reason: "not evaluated yet",
		ActionsEnabled: c.cfg.ActionsEnabled,
		Condition:      c.cfg.Rule, Metric: "composite alarm",
	}
	if sn, ok := snaps[c.cfg.Name]; ok {
		st.State, st.Reason, st.Updated, st.ActionsEnabled, st.Evaluated = sn.State, sn.Reason, sn.Updated, sn.ActionsEnabled, true
	}
	return st
}

// childRow is an alarm a composite's rule names, with its current state.
type childRow struct {
	Name, Href string
	State      alarm.State
	Known      bool // configured here (else the rule names an alarm of no page)
}

// compositePage is a composite alarm's page.
type compositePage struct {
	page
	alarmStatus
	Description, Rule, Source string
	// Suppressor says which alarm suppresses the actions, and its periods
	// ("" none).
	Suppressor                                       string
	Children                                         []childRow
	History                                          []historyRow
	AlarmActions, OKActions, InsufficientDataActions []string
	Schedules                                        []scheduleRow
	Windows                                          []actionsWindow
}

func (s *Server) handleComposite(w http.ResponseWriter, r *http.Request, c *compositeDef) {
	now := s.now()
	snaps, err := s.snapshots(r)
	if err != nil {
		s.log.Error("ui: alarm snapshots", "alarm", c.cfg.Name, "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	history, err := s.history(r, c.cfg.Name)
	if err != nil {
		s.log.Error("ui: alarm history", "alarm", c.cfg.Name, "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	p := compositePage{
		page:        page{Title: "Composite alarm " + c.cfg.Name},
		alarmStatus: c.status(snaps),
		Description: c.cfg.Description, Rule: c.cfg.Rule, Source: c.source,
		History:      history,
		AlarmActions: c.cfg.AlarmActions, OKActions: c.cfg.OKActions, InsufficientDataActions: c.cfg.InsufficientDataActions,
	}
	if sup := c.cfg.ActionsSuppressor; sup != "" {
		p.Suppressor = fmt.Sprintf("%s (while it is in ALARM; waits %s for it after going to ALARM, and keeps suppressing %s after it leaves ALARM)",
			alarm.RefName(sup), durationWords(c.cfg.ActionsSuppressorWaitPeriod), durationWords(c.cfg.ActionsSuppressorExtensionPeriod))
	}
	for _, n := range c.rule.Names() {
		row := childRow{Name: n, State: alarm.InsufficientData}
		_, metric := s.alarms[n]
		_, comp := s.composites[n]
		if row.Known = metric || comp; row.Known {
			row.Href = alarmHref(n)
		}
		if sn, ok := snaps[n]; ok {
			row.State = sn.State
		}
		p.Children = append(p.Children, row)
	}
	p.Schedules, p.Windows = s.actionSchedules(c.cfg.Name, now, p.ActionsEnabled)
	s.render(w, http.StatusOK, "composite", p)
}
