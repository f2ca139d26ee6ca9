package alarm

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// State is an alarm state.
type State string

// The three alarm states.
const (
	OK               State = "OK"
	Alarming         State = "ALARM"
	InsufficientData State = "INSUFFICIENT_DATA"
)

// Valid reports whether s is one of the three states.
func (s State) Valid() bool { return s == OK || s == Alarming || s == InsufficientData }

// InitialReason is the StateReason of a newly created alarm.
const InitialReason = "Unchecked: Initial alarm creation"

// Transition is a change of an alarm's state.
type Transition struct {
	Alarm    string
	From, To State
	Time     time.Time
	// Reason is CloudWatch's StateReason; ReasonData its StateReasonData
	// JSON.
	Reason     string
	ReasonData []byte
	// Actions are the actions to fire: those of the new state, only when
	// actions are enabled.
	Actions []string
	// FromReason, FromReasonData and FromTime describe the state left
	// (EventBridge's previousState).
	FromReason     string
	FromReasonData []byte
	FromTime       time.Time
	// Events are the event keys (CloudTrail eventIDs) behind the breaching
	// datapoints the decision counted, oldest first, at most
	// Config.MaxEvents (the most recent ones).
	Events []string
	// Triggering are, for a composite alarm, the referenced alarms whose
	// change of state caused the transition (see Composite.Evaluate).
	Triggering []ChildState
}

// Alarm is one alarm's state machine. It is not safe for concurrent use.
type Alarm struct {
	cfg            Config
	stat           Statistic
	metricKey      string
	state          State
	reason         string
	reasonData     []byte
	updated        time.Time
	actionsEnabled bool
}

// New validates c and returns its alarm in INSUFFICIENT_DATA, as
// PutMetricAlarm creates it at now.
func New(c Config, now time.Time) (*Alarm, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	a := &Alarm{state: InsufficientData, reason: InitialReason, updated: now}
	a.setConfig(c)
	a.actionsEnabled = c.ActionsEnabled
	return a, nil
}

func (a *Alarm) setConfig(c Config) {
	a.cfg = c.normalized()
	a.stat, _ = ParseStatistic(c.Statistic)
	a.metricKey = MetricKey(c.Namespace, c.Metric, c.Dimensions)
}

// Update replaces the configuration as PutMetricAlarm does for an
// existing alarm: the state is left unchanged and the configuration,
// ActionsEnabled included, is overwritten.
func (a *Alarm) Update(c Config) error {
	if c.Name != a.cfg.Name {
		return fmt.Errorf("alarm %q: update cannot rename to %q", a.cfg.Name, c.Name)
	}
	if err := c.Validate(); err != nil {
		return err
	}
	a.setConfig(c)
	a.actionsEnabled = c.ActionsEnabled
	return nil
}

// Config returns the alarm's configuration with defaults filled in.
func (a *Alarm) Config() Config { return a.cfg }

// Name returns the alarm's name.
func (a *Alarm) Name() string { return a.cfg.Name }

// State returns the current state.
func (a *Alarm) State() State { return a.state }

// Reason returns the StateReason of the current state.
func (a *Alarm) Reason() string { return a.reason }

// ReasonData returns the StateReasonData of the current state.
func (a *Alarm) ReasonData() []byte { return a.reasonData }

// Updated returns when the state last changed.
func (a *Alarm) Updated() time.Time { return a.updated }

// ActionsEnabled reports whether actions fire on transitions.
func (a *Alarm) ActionsEnabled() bool { return a.actionsEnabled }

// SetActionsEnabled is EnableAlarmActions (true) and DisableAlarmActions
// (false). Evaluation goes on while actions are disabled; enabling them
// fires nothing by itself, even in ALARM.
func (a *Alarm) SetActionsEnabled(on bool) { a.actionsEnabled = on }

// MetricKey returns the key of the metric the alarm watches (see
// MetricKey).
func (a *Alarm) MetricKey() string { return a.metricKey }

// Range returns how far back an evaluation looks: the evaluation range of
// periods plus the evaluation step. A Series read by the alarm should
// retain at least this.
func (a *Alarm) Range() time.Duration {
	return time.Duration(a.cfg.EvaluationRange)*a.cfg.Period + a.Step()
}

// Step returns how often CloudWatch evaluates the alarm: every 10 seconds
// for high-resolution periods, every hour when EvaluationPeriods x Period
// exceeds a day, every minute otherwise.
func (a *Alarm) Step() time.Duration {
	switch {
	case a.cfg.Period < time.Minute:
		return 10 * time.Second
	case a.cfg.Period*time.Duration(a.cfg.EvaluationPeriods) > 24*time.Hour:
		return time.Hour
	}
	return time.Minute
}

// evalEnd is the end of the newest period evaluated at now: now rounded
// down to the evaluation step.
func (a *Alarm) evalEnd(now time.Time) time.Time {
	step := int64(a.Step() / time.Second)
	return time.Unix(floorDiv(now.Unix(), step)*step, 0).UTC()
}

// Snapshot is what a store keeps of an alarm between runs.
type Snapshot struct {
	State          State
	Reason         string
	ReasonData     []byte
	Updated        time.Time
	ActionsEnabled bool
}

// Snapshot returns the alarm's state for persistence.
func (a *Alarm) Snapshot() Snapshot {
	return Snapshot{State: a.state, Reason: a.reason, ReasonData: a.reasonData, Updated: a.updated, ActionsEnabled: a.actionsEnabled}
}

// Restore returns the alarm of c in the state s (from Snapshot).
func Restore(c Config, s Snapshot) (*Alarm, error) {
	if !s.State.Valid() {
		return nil, fmt.Errorf("alarm %q: restore: invalid state %q", c.Name, s.State)
	}
	a, err := New(c, s.Updated)
	if err != nil {
		return nil, err
	}
	a.state, a.reason, a.reasonData, a.actionsEnabled = s.State, s.Reason, s.ReasonData, s.ActionsEnabled
	return a, nil
}

// SetState is SetAlarmState: it sets the state for testing until the next
// evaluation, firing the new state's actions when the state changes.
// reason must be at most 1023 characters; reasonData, when given, JSON of
// at most 4000 bytes.
func (a *Alarm) SetState(now time.Time, to State, reason string, reasonData []byte) (Transition, bool, error) {
	switch {
	case !to.Valid():
		return Transition{}, false, fmt.Errorf("alarm %q: set state: value '%s' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]", a.cfg.Name, to)
	case utf8.RuneCountInString(reason) > 1023:
		return Transition{}, false, fmt.Errorf("alarm %q: set state: StateReason must have length less than or equal to 1023", a.cfg.Name)
	case len(reasonData) > 4000:
		return Transition{}, false, fmt.Errorf("alarm %q: set state: StateReasonData must have length less than or equal to 4000", a.cfg.Name)
	case len(reasonData) > 0 && !json.Valid(reasonData):
		return Transition{}, false, fmt.Errorf("alarm %q: set state: StateReasonData is not valid JSON", a.cfg.Name)
	}
	if to == a.state {
		a.reason, a.reasonData = reason, reasonData
		return Transition{}, false, nil
	}
	return a.transition(to, now, reason, reasonData, nil), true, nil
}

func (a *Alarm) transition(to State, now time.Time, reason string, data []byte, events []string) Transition {
	t := Transition{Alarm: a.cfg.Name, From: a.state, To: to, Time: now, Reason: reason, ReasonData: data, Events: events,
		FromReason: a.reason, FromReasonData: a.reasonData, FromTime: a.updated}
	if a.actionsEnabled {
		var acts []string
		switch to {
		case Alarming:
			acts = a.cfg.AlarmActions
		case OK:
			acts = a.cfg.OKActions
		case InsufficientData:
			acts = a.cfg.InsufficientDataActions
		}
		t.Actions = append([]string(nil), acts...)
	}
	a.state, a.reason, a.reasonData, a.updated = to, reason, data, now
	return t
}

// slot is one period of the evaluation range.
type slot struct {
	start, end time.Time
	count      int
	value      float64
	real       bool
	breaching  bool
	lowSample  bool
}

// decision is the outcome of one evaluation.
type decision struct {
	state  State
	retain bool
	used   []int // indexes (newest first) of the real slots evaluated
	fill   int   // missing datapoints filled in by TreatMissingData
	// fillBreaching tells how filled datapoints count.
	fillBreaching bool
}

// Evaluate evaluates the alarm at now against s, as CloudWatch does at
// each evaluation (every minute, or every 10 seconds for high-resolution
// periods): the newest period ends at now rounded down to the evaluation
// step. It returns the Transition when the state changes.
func (a *Alarm) Evaluate(now time.Time, s *Series) (Transition, bool) {
	slots := a.slots(now, s)
	d := decide(slots, a.cfg.EvaluationPeriods, a.cfg.DatapointsToAlarm, a.treatment(), a.state)
	if d.retain || d.state == a.state {
		return Transition{}, false
	}
	if a.cfg.EvaluateLowSampleCountPercentile == "ignore" && a.stat.IsPercentile() {
		for _, i := range d.used {
			if slots[i].lowSample {
				return Transition{}, false
			}
		}
	}
	reason := a.reasonText(d, slots, d.state)
	data := a.reasonJSON(d, slots, now)
	var events []string
	if s != nil {
		events = a.events(d, slots, s)
	}
	return a.transition(d.state, now, reason, data, events), true
}

// treatment is TreatMissingData, except that alarms on the AWS/DynamoDB
// namespace always behave as ignore (PutMetricAlarm's documentation).
func (a *Alarm) treatment() string {
	if a.cfg.Namespace == "AWS/DynamoDB" {
		return TreatIgnore
	}
	return a.cfg.TreatMissingData
}

// NextEvaluation returns the first evaluation instant after now (now
// rounded down to the step, plus the step): when a scheduler should call
// Evaluate next.
func (a *Alarm) NextEvaluation(now time.Time) time.Time {
	return a.evalEnd(now).Add(a.Step())
}

// slots aggregates the evaluation range, newest period first.
func (a *Alarm) slots(now time.Time, s *Series) []slot {
	end := a.evalEnd(now)
	r := a.cfg.EvaluationRange
	out := make([]slot, r)
	with := 0
	if a.stat.NeedsValues() {
		with = WithValues
	}
	for k := range out {
		hi := end.Add(-time.Duration(k) * a.cfg.Period)
		lo := hi.Add(-a.cfg.Period)
		sl := slot{start: lo, end: hi}
		if s != nil {
			p := s.Aggregate(a.metricKey, a.cfg.Unit, lo, hi, with)
			if v, ok := p.Stat(a.stat); ok {
				sl.real, sl.value, sl.count = true, v, p.SampleCount
				sl.breaching = breaches(a.cfg.ComparisonOperator, v, a.cfg.Threshold)
				sl.lowSample = lowSampleCount(a.stat, p.SampleCount)
			}
		}
		out[k] = sl
	}
	return out
}

// lowSampleCount reports whether n samples are too few for the percentile
// to be statistically significant (EvaluateLowSampleCountPercentile).
func lowSampleCount(st Statistic, n int) bool {
	if !st.IsPercentile() {
		return false
	}
	// 10/(1-q) and 10/q with q = p/100, computed without rounding for
	// whole percentiles.
	p := st.Percentile
	switch {
	case p >= 50 && p < 100:
		return float64(n) < 1000/(100-p)
	case p > 0 && p < 50:
		return float64(n) < 1000/p
	}
	return false
}

// decide applies CloudWatch's rules to the evaluation range (newest
// first): see the package documentation.
func decide(slots []slot, n, m int, treat string, cur State) decision {
	var reals []int
	for i, s := range slots {
		if s.real {
			reals = append(reals, i)
		}
	}
	countBreaching := func(idx []int) int {
		b := 0
		for _, i := range idx {
			if slots[i].breaching {
				b++
			}
		}
		return b
	}
	verdict := func(b int) State {
		if b >= m {
			return Alarming
		}
		return OK
	}
	switch {
	case len(reals) >= n:
		used := reals[:n]
		return decision{state: verdict(countBreaching(used)), used: used}
	case len(reals) == 0:
		switch treat {
		case TreatBreaching:
			return decision{state: Alarming, fill: n, fillBreaching: true}
		case TreatNotBreaching:
			return decision{state: OK, fill: n}
		case TreatIgnore:
			return decision{state: cur, retain: true}
		}
		return decision{state: InsufficientData}
	case treat == TreatBreaching || treat == TreatNotBreaching:
		fill := n - len(reals)
		b := countBreaching(reals)
		if treat == TreatBreaching {
			b += fill
		}
		return decision{state: verdict(b), used: reals, fill: fill, fillBreaching: treat == TreatBreaching}
	}
	// missing or ignore, with fewer real datapoints than N.
	b := countBreaching(reals)
	if b < len(reals) {
		return decision{state: verdict(b), used: reals}
	}
	// Every real datapoint breaches: the premature-alarm rule.
	oldest := -1
	for i := 0; i < n && i < len(slots); i++ {
		if slots[i].real {
			oldest = i
		}
	}
	if oldest >= 0 && oldest+1 >= m && treat == TreatMissing {
		var used []int
		for _, i := range reals {
			if i < n {
				used = append(used, i)
			}
		}
		return decision{state: Alarming, used: used}
	}
	return decision{state: cur, retain: true}
}

// events returns the keys behind the breaching slots the decision used.
// Within a breaching period, the events whose own value breaches the
// threshold are the ones behind it (a metric filter's default value 0 is
// not); when none does (a Sum over many small values), those with a
// non-zero value; for SampleCount, TC and PR, all.
func (a *Alarm) events(d decision, slots []slot, s *Series) []string {
	var out []string
	seen := map[string]bool{}
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for j := len(d.used) - 1; j >= 0; j-- { // oldest first
		sl := slots[d.used[j]]
		if !sl.breaching {
			continue
		}
		p := s.Aggregate(a.metricKey, a.cfg.Unit, sl.start, sl.end, WithKeys)
		var pick []int
		if !countsDatapoints(a.stat) {
			for i, v := range p.KeyValues {
				if breaches(a.cfg.ComparisonOperator, v, a.cfg.Threshold) {
					pick = append(pick, i)
				}
			}
			if len(pick) == 0 {
				for i, v := range p.KeyValues {
					if v != 0 {
						pick = append(pick, i)
					}
				}
			}
		}
		if len(pick) == 0 {
			for _, k := range p.Keys {
				add(k)
			}
			continue
		}
		for _, i := range pick {
			add(p.Keys[i])
		}
	}
	if len(out) > a.cfg.MaxEvents {
		out = out[len(out)-a.cfg.MaxEvents:]
	}
	return out
}

// countsDatapoints reports whether st counts datapoints rather than
// aggregating their values (SampleCount, TC, PR): every event of a
// breaching period is behind it, whatever its own value.
func countsDatapoints(st Statistic) bool {
	return st.Name == "SampleCount" || st.Kind == TrimmedCount || st.Kind == PercentileRank
}
