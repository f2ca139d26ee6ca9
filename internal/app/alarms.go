package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/metricfilter"
	"github.com/trailwatch/trailwatch/internal/schedule"
	"github.com/trailwatch/trailwatch/internal/store"
)

// alarmTick is how often alarms are evaluated: the shortest period
// CloudWatch allows (high-resolution alarms); each alarm still evaluates at
// its own rhythm (alarm.Set.Tick).
const alarmTick = 10 * time.Second

// watch is the metrics half of the pipeline: metric filters turn records
// into datapoints, alarms watch them, schedules switch alarm actions.
//
// The alarms' series and states are held in memory: a restart starts them
// again from INSUFFICIENT_DATA (their notifications, once queued, are
// durable like any other).
type watch struct {
	filters   *metricfilter.Filters
	alarms    *alarm.Set
	configs   map[string]alarm.Config
	schedules []*timedAction
	region    string
	account   string

	mu      sync.Mutex
	counted map[string]time.Time  // event keys already turned into datapoints (redelivery counts once)
	recent  map[string]eventBrief // who/what/where of recent events behind datapoints
}

// eventBrief is what an alarm notification says about an event behind a
// breaching datapoint.
type eventBrief struct {
	EventID   string `json:"eventID"`
	EventTime string `json:"eventTime"`
	EventName string `json:"eventName"`
	Principal string `json:"principal"`
	ARN       string `json:"principalArn,omitempty"`
	SourceIP  string `json:"sourceIPAddress"`
	UserAgent string `json:"userAgent,omitempty"`
	Region    string `json:"awsRegion"`
	Account   string `json:"account"`
	MFA       string `json:"mfa,omitempty"`
	seen      time.Time
}

// timedAction is a schedule and what it does when it fires.
type timedAction struct {
	cfg  *config.Schedule
	s    schedule.Schedule
	next time.Time
	ok   bool
}

func newWatch(cfg *config.Config, params map[string]string, now time.Time) (*watch, error) {
	w := &watch{
		configs: map[string]alarm.Config{},
		counted: map[string]time.Time{},
		recent:  map[string]eventBrief{},
		region:  params["AWS::Region"],
		account: params["AWS::AccountId"],
	}
	if w.region == "" {
		w.region = "us-east-1"
	}
	if w.account == "" {
		w.account = "123456789012"
	}
	var err error
	if w.filters, err = metricfilter.New(cfg.MetricFilters); err != nil {
		return nil, err
	}
	w.alarms = alarm.NewSet(alarm.NewSeries(0))
	for _, a := range cfg.Alarms {
		c := a.AlarmConfig()
		if err := w.alarms.Put(c, now); err != nil {
			return nil, fmt.Errorf("alarm %s: %w", a.Name, err)
		}
		w.configs[c.Name] = c
	}
	var errs []error
	for _, sc := range cfg.Schedules {
		if sc.Enabled != nil && !*sc.Enabled {
			continue
		}
		loc := time.UTC
		if sc.TimeZone != "" {
			if loc, err = time.LoadLocation(sc.TimeZone); err != nil {
				errs = append(errs, fmt.Errorf("schedule %s: %w", sc.Name, err))
				continue
			}
		}
		var o schedule.Options
		if sc.Start != "" {
			o.Start, _ = time.Parse(time.RFC3339, sc.Start)
		}
		if sc.End != "" {
			o.End, _ = time.Parse(time.RFC3339, sc.End)
		}
		s, err := schedule.ParseWith(sc.Expression, loc, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule %s: %w", sc.Name, err))
			continue
		}
		ta := &timedAction{cfg: sc, s: s}
		ta.next, ta.ok = s.Next(now)
		w.schedules = append(w.schedules, ta)
	}
	return w, errors.Join(errs...)
}

// active reports whether there is anything to watch.
func (w *watch) active() bool {
	return w.filters.Len() > 0 || len(w.configs) > 0 || len(w.schedules) > 0
}

// observe turns the events' records into datapoints, once per event key.
func (w *watch) observe(evs []*event.Event, now time.Time) {
	if w.filters.Len() == 0 {
		return
	}
	var dps []alarm.Datapoint
	for _, ev := range evs {
		w.mu.Lock()
		_, done := w.counted[ev.Key()]
		if !done {
			w.counted[ev.Key()] = now
		}
		w.mu.Unlock()
		if done {
			continue
		}
		n := len(dps)
		dps = w.filters.Datapoints(ev, dps)
		if len(dps) > n && dps[n].EventKey != "" {
			f := ev.Facts()
			w.mu.Lock()
			w.recent[ev.Key()] = eventBrief{
				EventID: ev.Key(), EventTime: dps[n].Time.UTC().Format(time.RFC3339), EventName: f.EventName,
				Principal: f.Principal, ARN: f.PrincipalARN, SourceIP: f.SourceIP, UserAgent: f.UserAgent,
				Region: ev.Region, Account: ev.Account, MFA: f.MFA, seen: now,
			}
			w.mu.Unlock()
		}
	}
	for _, d := range dps {
		w.alarms.Series().AddAt(now, d)
	}
}

// forget drops what is older than the alarms can look back.
func (w *watch) forget(now time.Time) {
	horizon := now.Add(-2 * w.alarms.Retention())
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, t := range w.counted {
		if t.Before(horizon) {
			delete(w.counted, k)
		}
	}
	for k, b := range w.recent {
		if b.seen.Before(horizon) {
			delete(w.recent, k)
		}
	}
	w.alarms.Series().Prune(now)
}

// notification is CloudWatch's SNS message for the transition, with the
// events behind the breaching datapoints told in full: who, what, where.
func (w *watch) notification(c alarm.Config, t alarm.Transition) []byte {
	body := alarm.Notification(c, t, w.region, w.account)
	if len(t.Events) == 0 {
		return body
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	w.mu.Lock()
	briefs := make([]eventBrief, 0, len(t.Events))
	for _, k := range t.Events {
		if b, ok := w.recent[k]; ok {
			briefs = append(briefs, b)
		} else {
			briefs = append(briefs, eventBrief{EventID: k})
		}
	}
	w.mu.Unlock()
	ev, err := json.Marshal(briefs)
	if err != nil {
		return body
	}
	m["Events"] = ev
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// evaluate runs the alarms due by now and queues the notifications of their
// transitions durably, through the same store and outbox as alerts.
func (a *App) evaluate(ctx context.Context, now time.Time) error {
	w := a.watch
	trs := w.alarms.Tick(now)
	if len(trs) == 0 {
		return nil
	}
	batch := make([]store.Seen, 0, len(trs))
	for _, t := range trs {
		a.log.Info("alarm state change", "alarm", t.Alarm, "from", t.From, "to", t.To, "reason", t.Reason)
		c := w.configs[t.Alarm]
		body := w.notification(c, t)
		key := "alarm:" + t.Alarm + ":" + t.Time.UTC().Format(time.RFC3339Nano)
		var deliveries []store.Delivery
		for _, action := range t.Actions {
			recvs := a.cfg.ActionReceivers(action)
			if len(recvs) == 0 {
				a.log.Warn("alarm action goes nowhere", "alarm", t.Alarm, "action", action)
			}
			for _, r := range recvs {
				deliveries = append(deliveries, store.Delivery{Receiver: r, Body: body, RuleARN: alarm.ARN(w.region, w.account, t.Alarm)})
			}
		}
		sev := "medium"
		if t.To == alarm.Alarming {
			sev = "high"
		}
		batch = append(batch, store.Seen{EventKey: key, EventTime: t.Time, Hits: []store.Hit{{
			Rule:      "alarm:" + t.Alarm,
			DedupKey:  key,
			Threshold: 1,
			Alert: alert.Alert{
				Rule: "alarm:" + t.Alarm, Severity: sev, EventID: key,
				EventTime: t.Time.UTC().Format(time.RFC3339), Account: w.account, Region: w.region,
				EventSource: "aws.cloudwatch", EventName: "CloudWatch Alarm State Change",
				Summary: fmt.Sprintf("%s: %s -> %s: %s", alarm.Subject(t, w.region), t.From, t.To, t.Reason),
				Event:   alarm.StateChangeEvent(c, t, w.region, w.account, key),
			},
			Deliveries: deliveries,
		}}})
	}
	res, err := a.store.Record(ctx, batch)
	if err != nil {
		return err
	}
	if res.Queued > 0 {
		a.outbox.Kick()
	}
	return nil
}

// watchLoop evaluates alarms every alarmTick and applies schedules when they
// fire, until ctx ends.
func (a *App) watchLoop(ctx context.Context) error {
	w := a.watch
	nextEval := a.clock.Now()
	for {
		now := a.clock.Now()
		// Schedules due by now act first: an evaluation at now sees what
		// they switched.
		for _, ta := range w.schedules {
			for ta.ok && !now.Before(ta.next) {
				a.fire(ta.cfg, ta.next)
				ta.next, ta.ok = ta.s.Next(ta.next)
			}
		}
		if !now.Before(nextEval) {
			if err := a.evaluate(ctx, now); err != nil {
				a.log.Error("alarm evaluation", "err", err)
			}
			w.forget(now)
			nextEval = now.Truncate(alarmTick).Add(alarmTick)
		}
		wake := nextEval
		for _, ta := range w.schedules {
			if ta.ok && ta.next.Before(wake) {
				wake = ta.next
			}
		}
		t := a.clock.NewTimer(wake.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}

// fire does what a schedule does when it fires.
func (a *App) fire(sc *config.Schedule, at time.Time) {
	a.log.Info("schedule fired", "schedule", sc.Name, "action", sc.Action, "at", at)
	switch sc.Action {
	case config.ActionDisableAlarmActions, config.ActionEnableAlarmActions:
		on := sc.Action == config.ActionEnableAlarmActions
		unknown, err := a.watch.alarms.SetActionsEnabled(on, sc.Alarms...)
		if err != nil || len(unknown) > 0 {
			a.log.Warn("schedule names unknown alarms", "schedule", sc.Name, "alarms", unknown, "err", err)
		}
	case config.ActionMute, config.ActionUnmute:
		a.setMuted(sc.Action == config.ActionMute, sc.Rules, sc.Routes)
	default:
		a.log.Warn("schedule action not run", "schedule", sc.Name, "action", sc.Action)
	}
}

// muted is the set of rules and routes a schedule muted: their alerts are
// recorded but not sent.
type muted struct {
	rules, routes map[string]bool
}

func (a *App) setMuted(on bool, rules, routes []string) {
	a.muteMu.Lock()
	defer a.muteMu.Unlock()
	next := muted{rules: map[string]bool{}, routes: map[string]bool{}}
	for k := range a.mute.rules {
		next.rules[k] = true
	}
	for k := range a.mute.routes {
		next.routes[k] = true
	}
	for _, r := range rules {
		if on {
			next.rules[r] = true
		} else {
			delete(next.rules, r)
		}
	}
	for _, r := range routes {
		if on {
			next.routes[r] = true
		} else {
			delete(next.routes, r)
		}
	}
	a.mute = next
}

func (a *App) mutedNow() muted {
	a.muteMu.Lock()
	defer a.muteMu.Unlock()
	return a.mute
}

// AlarmActionsEnabled reports whether the alarm's actions are enabled.
func (a *App) AlarmActionsEnabled(name string) bool {
	s, ok := a.watch.alarms.Snapshot(name)
	return ok && s.ActionsEnabled
}

// AlarmStates lists the alarms and their states, for tests and commands.
func (a *App) AlarmStates() map[string]alarm.State {
	out := map[string]alarm.State{}
	names := a.watch.alarms.Names()
	sort.Strings(names)
	for _, n := range names {
		if s, ok := a.watch.alarms.Snapshot(n); ok {
			out[n] = s.State
		}
	}
	return out
}
