package alarm

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Set is the alarms of one account and region with the Series they read:
// what PutMetricAlarm, DeleteAlarms, EnableAlarmActions and
// DisableAlarmActions act on, and what the leader evaluates on each tick.
// It is safe for concurrent use. Persistence stays outside: save each
// Transition and the alarm's Snapshot, and Restore them at start-up.
type Set struct {
	series *Series

	mu     sync.Mutex
	alarms map[string]*entry

	// Composite alarms (compositeset.go), evaluated in compOrder: each
	// after the composites it references.
	composites      map[string]*compEntry
	compOrder       []string
	region, account string
}

type entry struct {
	alarm *Alarm
	next  time.Time // next evaluation instant
}

// maxCatchUp bounds how many missed evaluation instants Tick replays for
// one alarm (a node that was down for days resumes at the evaluation
// range).
const maxCatchUp = 1000

// NewSet returns an empty set reading series.
func NewSet(series *Series) *Set {
	return &Set{series: series, alarms: map[string]*entry{}, composites: map[string]*compEntry{},
		region: DefaultRegion, account: DefaultAccount}
}

// Series returns the series the set reads.
func (s *Set) Series() *Series { return s.series }

// Put is PutMetricAlarm: it creates the alarm (INSUFFICIENT_DATA) or
// overwrites an existing one's configuration, keeping its state.
func (s *Set) Put(c Config, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.composites[c.Name]; ok {
		return fmt.Errorf("alarm %q: a composite alarm has that name", c.Name)
	}
	if e, ok := s.alarms[c.Name]; ok {
		if err := e.alarm.Update(c); err != nil {
			return err
		}
		e.next = e.alarm.NextEvaluation(now)
		return nil
	}
	a, err := New(c, now)
	if err != nil {
		return err
	}
	s.alarms[c.Name] = &entry{alarm: a, next: a.NextEvaluation(now)}
	return nil
}

// Restore adds an alarm in a saved state (see Alarm.Snapshot); now is when
// it is next evaluated from.
func (s *Set) Restore(c Config, snap Snapshot, now time.Time) error {
	a, err := Restore(c, snap)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.composites[c.Name]; ok {
		return fmt.Errorf("alarm %q: a composite alarm has that name", c.Name)
	}
	s.alarms[c.Name] = &entry{alarm: a, next: a.NextEvaluation(now)}
	return nil
}

// Delete is DeleteAlarms for one alarm, metric or composite; it reports
// whether it existed. A composite alarm referencing a deleted alarm
// evaluates its functions as false.
func (s *Set) Delete(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.alarms[name]
	delete(s.alarms, name)
	if _, c := s.composites[name]; c {
		delete(s.composites, name)
		s.reorder()
		ok = true
	}
	return ok
}

// Names returns the alarms' names, metric and composite, sorted.
func (s *Set) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.alarms)+len(s.composites))
	for n := range s.alarms {
		names = append(names, n)
	}
	for n := range s.composites {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Snapshot returns the named alarm's state, metric or composite.
func (s *Set) Snapshot(name string) (Snapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.composites[name]; ok {
		return c.alarm.Snapshot(), true
	}
	e, ok := s.alarms[name]
	if !ok {
		return Snapshot{}, false
	}
	return e.alarm.Snapshot(), true
}

// Config returns the named alarm's configuration.
func (s *Set) Config(name string) (Config, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.alarms[name]
	if !ok {
		return Config{}, false
	}
	return e.alarm.Config(), true
}

// SetActionsEnabled is EnableAlarmActions (on) or DisableAlarmActions for
// up to 100 alarm names; names of alarms that do not exist are returned
// (CloudWatch ignores them).
func (s *Set) SetActionsEnabled(on bool, names ...string) (unknown []string, err error) {
	if len(names) > 100 {
		return nil, fmt.Errorf("alarm actions: value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		if c, ok := s.composites[n]; ok {
			c.alarm.SetActionsEnabled(on)
			continue
		}
		e, ok := s.alarms[n]
		if !ok {
			unknown = append(unknown, n)
			continue
		}
		e.alarm.SetActionsEnabled(on)
	}
	return unknown, nil
}

// SetState is SetAlarmState for the named alarm.
func (s *Set) SetState(now time.Time, name string, to State, reason string, reasonData []byte) (Transition, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.alarms[name]
	if !ok {
		return Transition{}, false, fmt.Errorf("alarm %q: set state: alarm does not exist", name)
	}
	return e.alarm.SetState(now, to, reason, reasonData)
}

// Retention is the longest evaluation range of the alarms: how long the
// series must keep datapoints.
func (s *Set) Retention() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r time.Duration
	for _, e := range s.alarms {
		r = max(r, e.alarm.Range())
	}
	return r
}

// Tick evaluates every alarm at each of its evaluation instants up to now
// (every 10 s or every minute, see Alarm.Step), replaying the instants
// missed since the last tick, and returns the transitions in time order
// (then by alarm name). A transition's Time is its evaluation instant.
//
// Composite alarms are evaluated after the metric alarms, at each instant
// an alarm they reference changed state (in time order, each composite
// after the composites it references), and once after PutComposite or
// RestoreComposite; their transitions are in the result too.
func (s *Set) Tick(now time.Time) []Transition {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.alarms))
	before := make(map[string]childNow, len(s.alarms)+len(s.composites))
	for n, e := range s.alarms {
		names = append(names, n)
		before[n] = childNow{e.alarm.State(), e.alarm.Updated()}
	}
	sort.Strings(names)
	var out []Transition
	for _, n := range names {
		e := s.alarms[n]
		step := e.alarm.Step()
		if behind := now.Sub(e.next) / step; behind > maxCatchUp {
			e.next = e.next.Add((behind - maxCatchUp) * step)
		}
		for !e.next.After(now) {
			if t, ok := e.alarm.Evaluate(e.next, s.series); ok {
				out = append(out, t)
			}
			e.next = e.next.Add(step)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	if len(s.composites) > 0 {
		out = s.evaluateComposites(now, before, out)
	}
	return out
}
