package alarm

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// DefaultRegion and DefaultAccount are the region and account a Set names
// alarms' ARNs with until SetIdentity says otherwise.
const (
	DefaultRegion  = "us-east-1"
	DefaultAccount = "123456789012"
)

type compEntry struct {
	alarm   *Composite
	pending bool      // to evaluate at the next Tick (created, updated or restored)
	since   time.Time // when it became pending
	// supps are the suppressions of the transitions of the last Tick.
	supps []recordedSuppression
}

// recordedSuppression is the suppression of one transition of a Tick.
type recordedSuppression struct {
	at       time.Time
	from, to State
	sup      TransitionSuppression
}

// childNow is an alarm's state and when it took it.
type childNow struct {
	state   State
	updated time.Time
}

// Updated returns when the composite alarm's state last changed.
func (a *Composite) Updated() time.Time { return a.updated }

// ActionsEnabled reports whether actions fire on transitions.
func (a *Composite) ActionsEnabled() bool { return a.actionsEnabled }

// Reason returns the StateReason of the current state.
func (a *Composite) Reason() string { return a.reason }

// SetIdentity sets the region and account of the alarms' ARNs (composite
// alarms' reasons name their children by ARN).
func (s *Set) SetIdentity(region, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.region, s.account = region, account
}

// PutComposite is PutCompositeAlarm: it creates the composite alarm
// (INSUFFICIENT_DATA, evaluated at the next Tick) or overwrites an
// existing one's configuration, keeping its state and evaluating it again
// at the next Tick. Every alarm the rule references must exist in the set
// (metric or composite), and the rule must not make a cycle of composite
// alarms.
func (s *Set) PutComposite(c CompositeConfig, now time.Time) error {
	a, err := NewComposite(c, now)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.composites[c.Name]; ok {
		a.state, a.reason, a.reasonData, a.updated = prev.alarm.state, prev.alarm.reason, prev.alarm.reasonData, prev.alarm.updated
		if RefName(prev.alarm.cfg.ActionsSuppressor) == RefName(c.ActionsSuppressor) {
			a.sup = prev.alarm.sup // running periods and owed actions go on
		}
	}
	return s.addComposite(a, now)
}

// RestoreComposite adds a composite alarm in a saved state (see
// Composite.Snapshot), evaluated again at the next Tick (its children may
// have changed while it was not watching), at now.
func (s *Set) RestoreComposite(c CompositeConfig, snap Snapshot, now time.Time) error {
	a, err := RestoreComposite(c, snap)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addComposite(a, now)
}

func (s *Set) addComposite(a *Composite, now time.Time) error {
	name := a.cfg.Name
	if _, ok := s.alarms[name]; ok {
		return fmt.Errorf("composite alarm %q: a metric alarm has that name", name)
	}
	for _, ref := range a.rule.Names() {
		_, metric := s.alarms[ref]
		_, comp := s.composites[ref]
		if !metric && !comp {
			return fmt.Errorf("composite alarm %q: its rule references alarm %q, which does not exist", name, ref)
		}
	}
	if sup := a.cfg.ActionsSuppressor; sup != "" {
		ref := RefName(sup)
		_, metric := s.alarms[ref]
		_, comp := s.composites[ref]
		if !metric && !comp {
			return fmt.Errorf("composite alarm %q: its ActionsSuppressor names alarm %q, which does not exist", name, sup)
		}
	}
	prev, had := s.composites[name]
	s.composites[name] = &compEntry{alarm: a, pending: true, since: now}
	if err := s.reorder(); err != nil {
		if had {
			s.composites[name] = prev
		} else {
			delete(s.composites, name)
		}
		_ = s.reorder()
		return fmt.Errorf("composite alarm %q: %w", name, err)
	}
	return nil
}

// reorder sorts the composites so that each comes after those it
// references; it reports a cycle.
func (s *Set) reorder() error {
	names := make([]string, 0, len(s.composites))
	for n := range s.composites {
		names = append(names, n)
	}
	sort.Strings(names)
	order, err := CompositeOrder(names, func(n string) []string { return s.composites[n].alarm.rule.Names() })
	if err != nil {
		return err
	}
	s.compOrder = order
	return nil
}

// CompositeOrder sorts composite alarms so that each comes after the
// composites its rule references (refs gives a composite's referenced
// names; names not among names are metric alarms). It reports a cycle,
// naming the alarms on it.
func CompositeOrder(names []string, refs func(string) []string) ([]string, error) {
	is := make(map[string]bool, len(names))
	for _, n := range names {
		is[n] = true
	}
	const (
		unseen = iota
		visiting
		done
	)
	mark := map[string]int{}
	var order, path []string
	var visit func(string) error
	visit = func(n string) error {
		switch mark[n] {
		case done:
			return nil
		case visiting:
			i := slices.Index(path, n)
			return fmt.Errorf("composite alarms reference each other in a cycle: %s", strings.Join(append(slices.Clone(path[i:]), n), " -> "))
		}
		mark[n] = visiting
		path = append(path, n)
		for _, r := range refs(n) {
			if is[r] {
				if err := visit(r); err != nil {
					return err
				}
			}
		}
		path = path[:len(path)-1]
		mark[n] = done
		order = append(order, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// CompositeConfig returns the named composite alarm's configuration.
func (s *Set) CompositeConfig(name string) (CompositeConfig, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.composites[name]
	if !ok {
		return CompositeConfig{}, false
	}
	return c.alarm.Config(), true
}

// CompositeSuppression returns how the actions of t, a transition of a
// composite alarm that the last Tick returned, were suppressed (the zero
// value for any other transition).
func (s *Set) CompositeSuppression(t Transition) TransitionSuppression {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.composites[t.Alarm]
	if !ok {
		return TransitionSuppression{}
	}
	for _, r := range e.supps {
		if r.at.Equal(t.Time) && r.from == t.From && r.to == t.To {
			return r.sup
		}
	}
	return TransitionSuppression{}
}

// IsComposite reports whether name is a composite alarm of the set.
func (s *Set) IsComposite(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.composites[name]
	return ok
}

// evaluateComposites evaluates the composites after the metric alarms'
// transitions trs (in time order) of one Tick; before holds the metric
// alarms' states before it. It returns trs with the composites'
// transitions, each after the transitions that caused it.
//
// It also follows each composite's ActionsSuppressor: at each instant,
// after the composites' evaluation, it observes the suppressors' states,
// and it ends the WaitPeriods and ExtensionPeriods due by now at their
// instants (after the transitions of the same instant). When suppression
// ends with actions owed, the composite runs the actions of its current
// state: a transition from that state to itself (see Composite.release).
func (s *Set) evaluateComposites(now time.Time, before map[string]childNow, trs []Transition) []Transition {
	states := make(map[string]childNow, len(before)+len(s.composites))
	for n, c := range before {
		states[n] = c
	}
	for n, c := range s.composites {
		states[n] = childNow{c.alarm.state, c.alarm.updated}
		c.supps = c.supps[:0]
	}
	lookup := func(n string) (State, bool) {
		c, ok := states[n]
		return c.state, ok
	}
	child := func(n string) ChildState {
		c := states[n]
		return ChildState{ARN: ARN(s.region, s.account, n), State: c.state, Timestamp: c.updated}
	}
	var out []Transition
	record := func(e *compEntry, t Transition, sup TransitionSuppression) {
		out = append(out, t)
		if sup != (TransitionSuppression{}) {
			e.supps = append(e.supps, recordedSuppression{at: t.Time, from: t.From, to: t.To, sup: sup})
		}
	}
	release := func(e *compEntry, at time.Time) {
		t, sup := e.alarm.release(at)
		record(e, t, sup)
	}
	// observe follows the suppressors' states at instant at.
	observe := func(at time.Time) {
		for _, n := range s.compOrder {
			e := s.composites[n]
			if e.alarm.observeSuppressor(at, lookup) {
				release(e, at)
			}
		}
	}
	// evaluate runs the composites in order at instant at: those pending,
	// and those referencing an alarm in changed.
	evaluate := func(at time.Time, changed map[string]bool) {
		for _, n := range s.compOrder {
			e := s.composites[n]
			refs := e.alarm.rule.Names()
			var trig []ChildState
			for _, r := range refs {
				if changed[r] {
					trig = append(trig, child(r))
				}
			}
			switch {
			case e.pending:
				if len(trig) == 0 {
					trig = latest(refs, states, child)
				}
				e.pending = false
			case len(trig) == 0:
				continue
			}
			t, sup, ok := e.alarm.evaluate(at, lookup, trig)
			if !ok {
				continue
			}
			record(e, t, sup)
			states[n] = childNow{t.To, t.Time}
			changed[n] = true
		}
		observe(at)
	}
	var first time.Time
	for _, e := range s.composites {
		if e.pending && (first.IsZero() || e.since.Before(first)) {
			first = e.since
		}
	}
	if !first.IsZero() {
		if first.After(now) {
			first = now
		}
		evaluate(first, map[string]bool{})
	}
	for i := 0; ; {
		if d := s.nextDeadline(); !d.IsZero() && !d.After(now) && (i == len(trs) || d.Before(trs[i].Time)) {
			for _, n := range s.compOrder {
				e := s.composites[n]
				if e.alarm.deadline().Equal(d) && e.alarm.expire(d) {
					release(e, d)
				}
			}
			continue
		}
		if i == len(trs) {
			break
		}
		at := trs[i].Time
		changed := map[string]bool{}
		for ; i < len(trs) && trs[i].Time.Equal(at); i++ {
			out = append(out, trs[i])
			states[trs[i].Alarm] = childNow{trs[i].To, trs[i].Time}
			changed[trs[i].Alarm] = true
		}
		evaluate(at, changed)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// nextDeadline returns when the next WaitPeriod or ExtensionPeriod of the
// composites ends (zero: none runs).
func (s *Set) nextDeadline() time.Time {
	var d time.Time
	for _, e := range s.composites {
		if x := e.alarm.deadline(); !x.IsZero() && (d.IsZero() || x.Before(d)) {
			d = x
		}
	}
	return d
}

// latest returns the referenced alarms that changed state last: what a
// composite's first evaluation names as triggering it.
func latest(refs []string, states map[string]childNow, child func(string) ChildState) []ChildState {
	var last time.Time
	for _, r := range refs {
		if c, ok := states[r]; ok && c.updated.After(last) {
			last = c.updated
		}
	}
	var out []ChildState
	for _, r := range refs {
		if c, ok := states[r]; ok && c.updated.Equal(last) {
			out = append(out, child(r))
		}
	}
	return out
}
