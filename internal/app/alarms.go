package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
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
// Everything it decides on is in the store: Ingest records each event's
// datapoints with the event (a redelivered event, skipped whole, counts
// once); each evaluation reloads the watched metrics' buckets over the
// alarms' evaluation range into the set's Series (alarm.Series.Replace)
// and evaluates from them, so that datapoints any writer recorded count
// (several nodes, issue 6) and a restart loses none; an alarm's state is
// saved with the deliveries of its transition in one transaction, its
// actions switch with the schedule that switched them, and New restores
// both.
type watch struct {
	filters *metricfilter.Filters
	alarms  *alarm.Set
	configs map[string]alarm.Config
	// composites are the composite alarms' configurations; the set
	// evaluates them when an alarm they reference changes state.
	composites map[string]alarm.CompositeConfig
	metrics    []string // the metric keys the alarms watch
	schedules  []*timedAction
	region     string
	account    string

	loaded time.Time // the last evaluation's instant: the next reload starts a range before it
	pruned time.Time // when datapoints were last pruned
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
		configs:    map[string]alarm.Config{},
		composites: map[string]alarm.CompositeConfig{},
		region:     params["AWS::Region"],
		account:    params["AWS::AccountId"],
		loaded:     now,
		pruned:     now,
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
	w.alarms.SetIdentity(w.region, w.account)
	for _, a := range cfg.Alarms {
		c := a.AlarmConfig()
		if err := w.alarms.Put(c, now); err != nil {
			return nil, fmt.Errorf("alarm %s: %w", a.Name, err)
		}
		w.configs[c.Name] = c
		if k := alarm.MetricKey(c.Namespace, c.Metric, c.Dimensions); !slices.Contains(w.metrics, k) {
			w.metrics = append(w.metrics, k)
		}
	}
	// In the configuration's order: each after the composites it
	// references.
	for _, a := range cfg.CompositeAlarms {
		c := a.CompositeConfig()
		if err := w.alarms.PutComposite(c, now); err != nil {
			return nil, fmt.Errorf("composite alarm %s: %w", a.Name, err)
		}
		w.composites[c.Name] = c
	}
	var errs []error
	for _, sc := range cfg.Schedules {
		if sc.Enabled != nil && !*sc.Enabled {
			continue
		}
		s, _, err := sc.Parse()
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

// datapoints returns the datapoints ev's record gives the metric filters,
// appended to dst, and the brief an alarm notification tells of the event
// (nil when no datapoint names it). Datapoints CloudWatch would refuse
// (more than alarm.MaxFuture ahead of now, older than the series keeps,
// values out of range) are left out.
func (w *watch) datapoints(ev *event.Event, now time.Time, dst []alarm.Datapoint) ([]alarm.Datapoint, []byte) {
	if w.filters.Len() == 0 {
		return dst, nil
	}
	n := len(dst)
	dst = w.filters.Datapoints(ev, dst)
	keep, keyed := dst[:n], false
	for _, d := range dst[n:] {
		if d.Time.After(now.Add(alarm.MaxFuture)) || d.Time.Before(now.Add(-alarm.DefaultRetention)) ||
			math.IsNaN(d.Value) || math.IsInf(d.Value, 0) || math.Abs(d.Value) > 1<<360 {
			continue
		}
		keyed = keyed || d.EventKey != ""
		keep = append(keep, d)
	}
	if !keyed {
		return keep, nil
	}
	f := ev.Facts()
	brief, err := json.Marshal(eventBrief{
		EventID: ev.Key(), EventTime: ev.Time.UTC().Format(time.RFC3339), EventName: f.EventName,
		Principal: f.Principal, ARN: f.PrincipalARN, SourceIP: f.SourceIP, UserAgent: f.UserAgent,
		Region: ev.Region, Account: ev.Account, MFA: f.MFA,
	})
	if err != nil {
		return keep, nil
	}
	return keep, brief
}

// load refreshes the set's series from the store: the buckets of the
// watched metrics from an evaluation range before the last evaluation (so
// instants Tick catches up on see their data) up to now.
func (w *watch) load(ctx context.Context, st store.Store, now time.Time) error {
	if len(w.metrics) == 0 {
		return nil
	}
	since := w.loaded
	if now.Before(since) {
		since = now
	}
	since = since.Add(-w.alarms.Retention() - alarm.Resolution)
	if floor := now.Add(-alarm.DefaultRetention); since.Before(floor) {
		since = floor
	}
	bs, err := st.Datapoints(ctx, w.metrics, since)
	if err != nil {
		return err
	}
	w.alarms.Series().Replace(now, bs)
	w.loaded = now
	return nil
}

// forget drops from memory what the alarms no longer look at and, once an
// hour, the datapoints in the store older than any alarm can look back.
func (w *watch) forget(ctx context.Context, st store.Store, now time.Time) error {
	w.alarms.Series().Prune(now)
	if now.Sub(w.pruned) < time.Hour {
		return nil
	}
	w.pruned = now
	_, err := st.PruneDatapoints(ctx, now.Add(-alarm.DefaultRetention))
	return err
}

// restore puts the alarms back in the states the store saved (actions
// enabled or not included); alarms no longer configured are ignored.
// Composite alarms are restored after the metric alarms, in the
// configuration's order, and evaluated again at the next evaluation.
func (w *watch) restore(ctx context.Context, st store.Store, now time.Time) error {
	if len(w.configs) == 0 && len(w.composites) == 0 {
		return nil
	}
	snaps, err := st.AlarmSnapshots(ctx)
	if err != nil {
		return err
	}
	var comps []store.AlarmSnapshot
	for _, sn := range snaps {
		if _, ok := w.composites[sn.Name]; ok {
			comps = append(comps, sn)
			continue
		}
		c, ok := w.configs[sn.Name]
		if !ok {
			continue
		}
		if err := w.alarms.Restore(c, sn.Snapshot, now); err != nil {
			return fmt.Errorf("alarm %s: %w", sn.Name, err)
		}
	}
	// Referenced composites first: restoring one validates that those it
	// references exist, which they do (newWatch put them all).
	for _, sn := range comps {
		if err := w.alarms.RestoreComposite(w.composites[sn.Name], sn.Snapshot, now); err != nil {
			return fmt.Errorf("composite alarm %s: %w", sn.Name, err)
		}
	}
	return nil
}

// putBack returns an alarm, metric or composite, to a saved state.
func (w *watch) putBack(sn store.AlarmSnapshot, now time.Time) error {
	if c, ok := w.composites[sn.Name]; ok {
		return w.alarms.RestoreComposite(c, sn.Snapshot, now)
	}
	return w.alarms.Restore(w.configs[sn.Name], sn.Snapshot, now)
}

// snapshots returns the named alarms' snapshots, for the store.
func (w *watch) snapshots(names ...string) []store.AlarmSnapshot {
	out := make([]store.AlarmSnapshot, 0, len(names))
	for _, n := range names {
		if sn, ok := w.alarms.Snapshot(n); ok {
			out = append(out, store.AlarmSnapshot{Name: n, Snapshot: sn})
		}
	}
	return out
}

// notification is CloudWatch's SNS message for the transition, with the
// events behind the breaching datapoints told in full: who, what, where.
func (w *watch) notification(c alarm.Config, t alarm.Transition, known map[string][]byte) []byte {
	body := alarm.Notification(c, t, w.region, w.account)
	if len(t.Events) == 0 {
		return body
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	briefs := make([]json.RawMessage, 0, len(t.Events))
	for _, k := range t.Events {
		b, ok := known[k]
		if !ok || !json.Valid(b) {
			b, _ = json.Marshal(eventBrief{EventID: k})
		}
		briefs = append(briefs, b)
	}
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

// evaluate runs the alarms due by now on the datapoints in the store and
// saves their new states with the notifications of their transitions, in
// one transaction, through the same store and outbox as alerts. When the
// save fails, the alarms go back to their saved states (the next
// evaluation decides again).
func (a *App) evaluate(ctx context.Context, now time.Time) error {
	w := a.watch
	if err := w.load(ctx, a.store, now); err != nil {
		return fmt.Errorf("load datapoints: %w", err)
	}
	before := w.snapshots(w.alarms.Names()...)
	trs := w.alarms.Tick(now)
	if len(trs) == 0 {
		return nil
	}
	var keys []string
	for _, t := range trs {
		keys = append(keys, t.Events...)
	}
	known, err := a.store.EventBriefs(ctx, keys)
	if err != nil {
		a.log.Warn("alarm notifications without event details", "err", err)
	}
	batch := make([]store.Seen, 0, len(trs))
	var changed []string
	for _, t := range trs {
		a.log.Info("alarm state change", "alarm", t.Alarm, "from", t.From, "to", t.To, "reason", t.Reason)
		if !slices.Contains(changed, t.Alarm) {
			changed = append(changed, t.Alarm)
		}
		key := "alarm:" + t.Alarm + ":" + t.Time.UTC().Format(time.RFC3339Nano)
		var body, change []byte
		if cc, ok := w.composites[t.Alarm]; ok {
			body = alarm.CompositeNotification(cc, t, w.region, w.account)
			change = alarm.CompositeStateChangeEvent(cc, t, w.alarms.CompositeSuppression(t), w.region, w.account, key)
		} else {
			c := w.configs[t.Alarm]
			body = w.notification(c, t, known)
			change = alarm.StateChangeEvent(c, t, w.region, w.account, key)
		}
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
				Event:   change,
			},
			Deliveries: deliveries,
		}}})
	}
	res, err := a.store.SaveAlarms(ctx, w.snapshots(changed...), batch)
	if err != nil {
		for _, sn := range before {
			if slices.Contains(changed, sn.Name) {
				if rerr := w.putBack(sn, now); rerr != nil {
					a.log.Error("alarm state not put back", "alarm", sn.Name, "err", rerr)
				}
			}
		}
		return err
	}
	if res.Queued > 0 {
		a.outbox.Kick()
	}
	return nil
}

// leaderLock is the advisory lock key of the leader lease on PostgreSQL.
const leaderLock = 0x747277_6c656164 // "trw" "lead"

// takeOverGrace is how far back a new leader fires the schedules due
// before it led, which the node that led before may have missed while it
// went (firing one again switches nothing).
const takeOverGrace = time.Minute

// isMute reports whether a schedule mutes or unmutes: it decides only what
// each node's Ingest sends, so it runs on every node.
func isMute(ta *timedAction) bool {
	return ta.cfg.Action == config.ActionMute || ta.cfg.Action == config.ActionUnmute
}

// muteSchedules are the schedules every node runs.
func (w *watch) muteSchedules() []*timedAction {
	var out []*timedAction
	for _, ta := range w.schedules {
		if isMute(ta) {
			out = append(out, ta)
		}
	}
	return out
}

// leaderSchedules are the schedules only the leader runs: they switch the
// alarms' actions, which the store keeps.
func (w *watch) leaderSchedules() []*timedAction {
	var out []*timedAction
	for _, ta := range w.schedules {
		if !isMute(ta) {
			out = append(out, ta)
		}
	}
	return out
}

// takeOver readies the watch for a term as leader: the alarms go back to
// the states the store saved (the last leader's, perhaps another node's),
// each evaluated next from now, and the leader's schedules from
// takeOverGrace ago.
func (w *watch) takeOver(ctx context.Context, st store.Store, now time.Time) error {
	for _, c := range w.configs {
		if err := w.alarms.Put(c, now); err != nil {
			return fmt.Errorf("alarm %s: %w", c.Name, err)
		}
	}
	// PutComposite keeps a composite's state and its references exist.
	for _, c := range w.composites {
		if err := w.alarms.PutComposite(c, now); err != nil {
			return fmt.Errorf("composite alarm %s: %w", c.Name, err)
		}
	}
	if err := w.restore(ctx, st, now); err != nil {
		return err
	}
	w.loaded = now
	for _, ta := range w.leaderSchedules() {
		ta.next, ta.ok = ta.s.Next(now.Add(-takeOverGrace))
	}
	return nil
}

// lead is what the leader runs, until ctx ends (leadership lost, or
// stopping): reminders, and alarms with their schedules.
// On a store of its own (SQLite) the states New restored are current: the
// one term runs on from them.
func (a *App) lead(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { a.outbox.RunReminders(ctx) })
	defer wg.Wait()
	w := a.watch
	scheds := w.leaderSchedules()
	active := w.filters.Len() > 0 || len(w.configs) > 0 || len(w.composites) > 0 || len(scheds) > 0
	for active && a.shared {
		err := w.takeOver(ctx, a.store, a.clock.Now())
		if err == nil {
			break
		}
		a.log.Error("alarms not taken over: not evaluated", "err", err)
		t := a.clock.NewTimer(alarmTick)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
	a.leading.Store(true)
	defer a.leading.Store(false)
	if !active {
		<-ctx.Done()
		return ctx.Err()
	}
	return a.watchLoop(ctx, scheds, true)
}

// watchLoop applies the schedules when they fire and, when evaluate,
// evaluates the alarms every alarmTick, until ctx ends.
func (a *App) watchLoop(ctx context.Context, schedules []*timedAction, evaluate bool) error {
	w := a.watch
	nextEval := a.clock.Now()
	first := true
	for {
		now := a.clock.Now()
		// Schedules due by now act first, in the order they fired (one
		// may undo another: mute at 09:00, unmute at 18:00): an
		// evaluation at now sees what they switched.
		fired := 0
		for {
			var due *timedAction
			for _, ta := range schedules {
				if ta.ok && !now.Before(ta.next) && (due == nil || ta.next.Before(due.next)) {
					due = ta
				}
			}
			if due == nil {
				break
			}
			a.fire(ctx, due.cfg, due.next, now.Sub(due.next) > time.Minute)
			due.next, due.ok = due.s.Next(due.next)
			fired++
		}
		if (fired > 0 || first) && !evaluate {
			// The mute loop saves its state once caught up at start, and
			// whenever a schedule changed it.
			a.saveMutes(ctx, now)
		}
		first = false
		if evaluate && !now.Before(nextEval) {
			if err := a.evaluate(ctx, now); err != nil {
				a.log.Error("alarm evaluation", "err", err)
			}
			if err := w.forget(ctx, a.store, now); err != nil {
				a.log.Warn("prune datapoints", "err", err)
			}
			nextEval = now.Truncate(alarmTick).Add(alarmTick)
		}
		var wake time.Time
		if evaluate {
			wake = nextEval
		}
		for _, ta := range schedules {
			if ta.ok && (wake.IsZero() || ta.next.Before(wake)) {
				wake = ta.next
			}
		}
		if wake.IsZero() {
			<-ctx.Done()
			return ctx.Err()
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

// fire does what a schedule does when it fires (late: catching up on a
// firing missed while stopped, logged at debug level). Alarm actions
// switched are saved with the alarms' states, so a restart keeps them as
// switched; mutes are saved by the loop (saveMutes) once it has caught up.
func (a *App) fire(ctx context.Context, sc *config.Schedule, at time.Time, late bool) {
	level := slog.LevelInfo
	if late {
		level = slog.LevelDebug
	}
	a.log.Log(ctx, level, "schedule fired", "schedule", sc.Name, "action", sc.Action, "at", at)
	switch sc.Action {
	case config.ActionDisableAlarmActions, config.ActionEnableAlarmActions:
		on := sc.Action == config.ActionEnableAlarmActions
		unknown, err := a.watch.alarms.SetActionsEnabled(on, sc.Alarms...)
		if err != nil || len(unknown) > 0 {
			a.log.Warn("schedule names unknown alarms", "schedule", sc.Name, "alarms", unknown, "err", err)
		}
		if _, err := a.store.SaveAlarms(ctx, a.watch.snapshots(sc.Alarms...), nil); err != nil {
			a.log.Error("alarm actions not saved", "schedule", sc.Name, "err", err)
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

// muteCheckpoint is the store checkpoint of the mute schedules' state.
const muteCheckpoint = "schedules/mutes"

// muteCatchUp is how far back a node with no saved mute state replays the
// mute schedules, to start in the state they put the rules in (a weekly
// business-hours pair settles within a week).
const muteCatchUp = 7 * 24 * time.Hour

// savedMutes is the mute schedules' state as the store keeps it: what
// they muted, as of At.
type savedMutes struct {
	At     time.Time `json:"at"`
	Rules  []string  `json:"rules"`
	Routes []string  `json:"routes"`
}

// saveMutes keeps what the mute schedules muted as of now, so that a
// restart (or another node starting) resumes in that state.
func (a *App) saveMutes(ctx context.Context, now time.Time) {
	m := a.mutedNow()
	sv := savedMutes{At: now.UTC(), Rules: slices.Sorted(maps.Keys(m.rules)), Routes: slices.Sorted(maps.Keys(m.routes))}
	b, err := json.Marshal(sv)
	if err == nil {
		err = a.store.SetCheckpoint(ctx, muteCheckpoint, string(b))
	}
	if err != nil {
		a.log.Warn("mute state not saved", "err", err)
	}
}

// restoreMutes readies the mute schedules at start: the saved state back,
// and each schedule set to fire again from when it was saved, so that the
// loop replays, in order, the firings missed while stopped. With no saved
// state they replay the last muteCatchUp; when the store does not answer,
// they start from now.
func (a *App) restoreMutes(ctx context.Context, now time.Time) {
	mutes := a.watch.muteSchedules()
	from := now.Add(-muteCatchUp)
	v, ok, err := a.store.Checkpoint(ctx, muteCheckpoint)
	if err != nil {
		a.log.Error("mute state not read: mute schedules start from now", "err", err)
		from, ok = now, false
	}
	if ok {
		var sv savedMutes
		if err := json.Unmarshal([]byte(v), &sv); err != nil {
			a.log.Warn("mute state unreadable: replaying the schedules", "err", err)
		} else {
			a.setMuted(true, sv.Rules, sv.Routes)
			if sv.At.After(from) && !sv.At.After(now) {
				from = sv.At
			}
		}
	}
	for _, ta := range mutes {
		ta.next, ta.ok = ta.s.Next(from)
	}
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
