package ui

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/schedule"
	"github.com/trailwatch/trailwatch/internal/store"
)

// The alarms pages show what the store says: the UI may run on a node that
// is not the leader, which alone evaluates the alarms, so states come from
// the saved snapshots and the graph is recomputed from the stored
// datapoints with alarm.Series, as the leader computes them.

// Bounds of the alarm page.
const (
	// graphSpan is how far back the graph looks at least; it covers
	// graphPeriods periods when they are longer.
	graphSpan    = 3 * time.Hour
	graphPeriods = 20
	// maxGraphPeriods bounds the points of the graph (and rows of its
	// table); the span is also bounded by what the store keeps.
	maxGraphPeriods = 360
	// maxHistory bounds the state history shown.
	maxHistory = 50
	// nextFirings is how many firings of each schedule are shown.
	nextFirings = 3
	// maxWindows is how many windows of disabled actions are shown, and
	// windowHorizon how far ahead they are looked for.
	maxWindows    = 3
	windowHorizon = 366 * 24 * time.Hour
)

// alarmDef is a configured alarm, checked and with CloudWatch's defaults
// filled in.
type alarmDef struct {
	cfg    alarm.Config
	stat   alarm.Statistic
	key    string        // the metric's key (alarm.MetricKey)
	step   time.Duration // how often the leader evaluates it
	source string
}

// schedDef is a configured schedule, parsed as the app parses it.
type schedDef struct {
	cfg *config.Schedule
	s   schedule.Schedule // nil when it does not parse (err)
	loc *time.Location
	err string
}

// runs reports whether the app runs the schedule (enabled, and parsed).
func (d *schedDef) runs() bool {
	return d.s != nil && (d.cfg.Enabled == nil || *d.cfg.Enabled)
}

// setAlarms checks the configured alarms and parses the schedules.
func (s *Server) setAlarms(o Options) error {
	s.alarms = map[string]*alarmDef{}
	now := s.now()
	for _, a := range o.Alarms {
		if a == nil {
			continue
		}
		al, err := alarm.New(a.AlarmConfig(), now)
		if err != nil {
			return fmt.Errorf("%w: alarm %q: %w", ErrBadOptions, a.Name, err)
		}
		if _, dup := s.alarms[a.Name]; dup {
			return fmt.Errorf("%w: alarm %q given twice", ErrBadOptions, a.Name)
		}
		c := al.Config()
		st, _ := alarm.ParseStatistic(c.Statistic) // Validate checked it
		s.alarms[a.Name] = &alarmDef{cfg: c, stat: st, key: al.MetricKey(), step: al.Step(), source: a.Source}
		s.alarmNames = append(s.alarmNames, a.Name)
	}
	if err := s.setComposites(o.CompositeAlarms); err != nil {
		return err
	}
	sort.Strings(s.alarmNames)
	for _, sc := range o.Schedules {
		if sc != nil {
			s.schedules = append(s.schedules, parseSchedule(sc))
		}
	}
	return nil
}

// parseSchedule parses sc as the app runs it: its expression in its time
// zone, bounded by its start and end.
func parseSchedule(sc *config.Schedule) *schedDef {
	d := &schedDef{cfg: sc, loc: time.UTC}
	s, loc, err := sc.Parse()
	if err != nil {
		d.err = err.Error()
		return d
	}
	d.s, d.loc = s, loc
	return d
}

// alarmHref is the path of an alarm's page (any name: escaped).
func alarmHref(name string) string { return "/alarms/" + url.PathEscape(name) }

// alarmStatus is what the list and the page say of an alarm's state.
type alarmStatus struct {
	Name, Href     string
	State          alarm.State
	Reason         string
	Updated        time.Time
	Evaluated      bool // a snapshot was saved
	ActionsEnabled bool
	Condition      string
	Metric         string
}

func (s *Server) alarmStatus(d *alarmDef, snaps map[string]alarm.Snapshot) alarmStatus {
	st := alarmStatus{
		Name: d.cfg.Name, Href: alarmHref(d.cfg.Name),
		State: alarm.InsufficientData, Reason: "not evaluated yet",
		ActionsEnabled: d.cfg.ActionsEnabled,
		Condition:      conditionText(d.cfg), Metric: metricText(d.cfg),
	}
	if sn, ok := snaps[d.cfg.Name]; ok {
		st.State, st.Reason, st.Updated, st.ActionsEnabled, st.Evaluated = sn.State, sn.Reason, sn.Updated, sn.ActionsEnabled, true
	}
	return st
}

func (s *Server) snapshots(r *http.Request) (map[string]alarm.Snapshot, error) {
	list, err := s.st.AlarmSnapshots(r.Context())
	if err != nil {
		return nil, err
	}
	out := make(map[string]alarm.Snapshot, len(list))
	for _, sn := range list {
		out[sn.Name] = sn.Snapshot
	}
	return out, nil
}

func (s *Server) handleAlarms(w http.ResponseWriter, r *http.Request) {
	snaps, err := s.snapshots(r)
	if err != nil {
		s.log.Error("ui: alarm snapshots", "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	rows := make([]alarmStatus, 0, len(s.alarmNames))
	for _, n := range s.alarmNames {
		if c, ok := s.composites[n]; ok {
			rows = append(rows, c.status(snaps))
		} else {
			rows = append(rows, s.alarmStatus(s.alarms[n], snaps))
		}
	}
	s.render(w, http.StatusOK, "alarms", struct {
		page
		Alarms []alarmStatus
	}{page{Title: "Alarms"}, rows})
}

// alarmPage is the alarm page's data.
type alarmPage struct {
	page
	alarmStatus
	Description                                      string
	Statistic, Period, Unit, TreatMissing            string
	AlarmActions, OKActions, InsufficientDataActions []string
	Source                                           string
	Graph                                            graph
	Points                                           []periodPoint // newest first, with data only
	Missing                                          int           // periods without data in the graph
	History                                          []historyRow
	Schedules                                        []scheduleRow
	Windows                                          []actionsWindow
}

func (s *Server) handleAlarm(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	d, ok := s.alarms[name]
	if c, comp := s.composites[name]; comp {
		s.handleComposite(w, r, c)
		return
	}
	if !ok {
		s.errorPage(w, http.StatusNotFound, "no alarm "+strconv.Quote(name))
		return
	}
	now := s.now()
	snaps, err := s.snapshots(r)
	if err != nil {
		s.log.Error("ui: alarm snapshots", "alarm", name, "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	periods, err := s.periods(r, d, now)
	if err != nil {
		s.log.Error("ui: alarm datapoints", "alarm", name, "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	history, err := s.history(r, name)
	if err != nil {
		s.log.Error("ui: alarm history", "alarm", name, "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	p := alarmPage{
		page:         page{Title: "Alarm " + name},
		alarmStatus:  s.alarmStatus(d, snaps),
		Description:  d.cfg.Description,
		Statistic:    d.cfg.Statistic,
		Period:       durationWords(d.cfg.Period),
		Unit:         d.cfg.Unit,
		TreatMissing: d.cfg.TreatMissingData,
		AlarmActions: d.cfg.AlarmActions, OKActions: d.cfg.OKActions, InsufficientDataActions: d.cfg.InsufficientDataActions,
		Source:  d.source,
		Graph:   newGraph(periods, d.cfg.Threshold),
		History: history,
	}
	for i := len(periods) - 1; i >= 0; i-- {
		if periods[i].Real {
			p.Points = append(p.Points, periods[i])
		} else {
			p.Missing++
		}
	}
	p.Schedules, p.Windows = s.actionSchedules(name, now, p.ActionsEnabled)
	s.render(w, http.StatusOK, "alarm", p)
}

// actionSchedules are the schedules that switch the named alarm's actions,
// and the windows of disabled actions they make from now.
func (s *Server) actionSchedules(name string, now time.Time, enabled bool) ([]scheduleRow, []actionsWindow) {
	var mine []*schedDef
	var rows []scheduleRow
	for _, sd := range s.schedules {
		if (sd.cfg.Action == config.ActionDisableAlarmActions || sd.cfg.Action == config.ActionEnableAlarmActions) && slices.Contains(sd.cfg.Alarms, name) {
			mine = append(mine, sd)
			rows = append(rows, newScheduleRow(sd, now))
		}
	}
	return rows, disabledWindows(now, enabled, mine, maxWindows)
}

// periodPoint is the alarm's statistic over one period.
type periodPoint struct {
	Start, End time.Time
	Real       bool // the period has data
	Value      float64
	Samples    int
	Breaching  bool
}

// ValueText is the value as the page writes it.
func (p periodPoint) ValueText() string { return fmtValue(p.Value) }

// periods computes the alarm's statistic per period over the graph's
// span, oldest first, from the stored datapoints, with alarm.Series as
// the leader does. The newest period ends at the last evaluation instant
// (now rounded down to the alarm's step).
func (s *Server) periods(r *http.Request, d *alarmDef, now time.Time) ([]periodPoint, error) {
	n := graphPeriodCount(d.cfg.Period)
	end := now.UTC().Truncate(d.step) // the zero time is a whole number of days before the Unix epoch
	start := end.Add(-time.Duration(n) * d.cfg.Period)
	bs, err := s.st.Datapoints(r.Context(), []string{d.key}, start)
	if err != nil {
		return nil, err
	}
	series := alarm.NewSeries(0)
	series.Replace(now, bs)
	with := 0
	if d.stat.NeedsValues() {
		with = alarm.WithValues
	}
	out := make([]periodPoint, n)
	for k := range out {
		lo := start.Add(time.Duration(k) * d.cfg.Period)
		hi := lo.Add(d.cfg.Period)
		pp := periodPoint{Start: lo, End: hi}
		agg := series.Aggregate(d.key, d.cfg.Unit, lo, hi, with)
		if v, ok := agg.Stat(d.stat); ok {
			pp.Real, pp.Value, pp.Samples = true, v, agg.SampleCount
			pp.Breaching = d.cfg.Breaches(v)
		}
		out[k] = pp
	}
	return out, nil
}

// graphPeriodCount is how many periods the graph shows: graphSpan or
// graphPeriods periods, whichever is longer, within maxGraphPeriods and
// the datapoints' retention.
func graphPeriodCount(period time.Duration) int {
	n := int(max(graphSpan, graphPeriods*period) / period)
	n = min(n, maxGraphPeriods, int(alarm.DefaultRetention/period))
	return max(n, 1)
}

// operatorSymbols are the comparison operators as the console writes them.
var operatorSymbols = map[string]string{
	alarm.GreaterThanOrEqualToThreshold: ">=",
	alarm.GreaterThanThreshold:          ">",
	alarm.LessThanThreshold:             "<",
	alarm.LessThanOrEqualToThreshold:    "<=",
}

// conditionText is the alarm's condition in the console's words: "Sum >= 1
// for 1 datapoints within 5 minutes".
func conditionText(c alarm.Config) string {
	op := operatorSymbols[c.ComparisonOperator]
	if op == "" {
		op = c.ComparisonOperator
	}
	return fmt.Sprintf("%s %s %s for %d datapoints within %s", c.Statistic, op, fmtValue(c.Threshold),
		c.DatapointsToAlarm, durationWords(time.Duration(c.EvaluationPeriods)*c.Period))
}

// metricText names the metric: namespace/name and its dimensions.
func metricText(c alarm.Config) string {
	s := c.Namespace + " " + c.Metric
	if d := dimensionsText(c.Dimensions); d != "" {
		s += " (" + d + ")"
	}
	return s
}

func dimensionsText(dims map[string]string) string {
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + dims[k]
	}
	return strings.Join(parts, ", ")
}

// durationWords writes d as the console does: "5 minutes", "1 hour",
// "1 day", "30 seconds".
func durationWords(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		word string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if d >= u.d && d%u.d == 0 {
			n := int64(d / u.d)
			if n == 1 {
				return "1 " + u.word
			}
			return strconv.FormatInt(n, 10) + " " + u.word + "s"
		}
	}
	return d.String()
}

// fmtValue writes a metric value: plain decimals for usual magnitudes,
// an exponent otherwise.
func fmtValue(v float64) string {
	if a := math.Abs(v); v == 0 || a >= 1e-6 && a < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// historyRow is one state transition of an alarm.
type historyRow struct {
	AlertID, Href string
	Time          time.Time
	From, To      alarm.State
	Reason        string
}

// history lists the alarm's transitions, newest first: the alerts the
// leader recorded for them (rule "alarm:<name>"), read from their
// EventBridge state-change events.
func (s *Server) history(r *http.Request, name string) ([]historyRow, error) {
	rows, err := s.st.Alerts(r.Context(), store.AlertFilter{Rule: "alarm:" + name, Limit: maxHistory})
	if err != nil {
		return nil, err
	}
	out := make([]historyRow, 0, len(rows))
	for _, a := range rows {
		h := historyRow{AlertID: a.ID, Href: "/alerts/" + url.PathEscape(a.ID), Time: a.FirstEvent, Reason: a.Alert.Summary}
		var ev struct {
			Detail struct {
				PreviousState struct {
					Value alarm.State `json:"value"`
				} `json:"previousState"`
				State struct {
					Value     alarm.State `json:"value"`
					Reason    string      `json:"reason"`
					Timestamp string      `json:"timestamp"`
				} `json:"state"`
			} `json:"detail"`
		}
		if json.Unmarshal(a.Alert.Event, &ev) == nil && ev.Detail.State.Value != "" {
			h.From, h.To, h.Reason = ev.Detail.PreviousState.Value, ev.Detail.State.Value, ev.Detail.State.Reason
			if t, err := time.Parse("2006-01-02T15:04:05.000-0700", ev.Detail.State.Timestamp); err == nil {
				h.Time = t.UTC()
			}
		}
		if h.Time.IsZero() {
			h.Time = a.FirstSeen
		}
		out = append(out, h)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out, nil
}

// scheduleRow is a schedule that switches an alarm's actions.
type scheduleRow struct {
	Name, Expression, TimeZone, Action, Source, Err string
	Runs                                            bool
	Next                                            []string // the next firings, in the zone and UTC
}

func newScheduleRow(d *schedDef, now time.Time) scheduleRow {
	row := scheduleRow{Name: d.cfg.Name, Expression: d.cfg.Expression, TimeZone: d.loc.String(), Action: d.cfg.Action,
		Source: d.cfg.Source, Err: d.err, Runs: d.runs()}
	if d.s != nil {
		for _, t := range schedule.NextN(d.s, now, nextFirings) {
			row.Next = append(row.Next, zonedTime(t, d.loc))
		}
	}
	return row
}

// zonedTime writes t in loc and in UTC: "Fri 2026-03-06 18:00 JST
// (2026-03-06 09:00 UTC)".
func zonedTime(t time.Time, loc *time.Location) string {
	u := t.UTC().Format("2006-01-02 15:04 UTC")
	if loc == nil || loc == time.UTC || loc.String() == "UTC" {
		return t.UTC().Format("Mon ") + u
	}
	return t.In(loc).Format("Mon 2006-01-02 15:04 MST") + " (" + u + ")"
}

// actionsWindow is a stretch of time during which schedules keep the
// alarm's actions disabled.
type actionsWindow struct {
	From, Until         time.Time // From zero: already disabled now; Until zero: no schedule enables them again
	FromText, UntilText string
}

// disabledWindows returns up to limit windows, from now on, during which
// the schedules disable the alarm's actions: each from a disabling firing
// (or now, when actions are disabled now) until the next enabling firing.
// Schedules are stepped through together in time order, up to
// windowHorizon ahead.
func disabledWindows(now time.Time, enabledNow bool, scheds []*schedDef, limit int) []actionsWindow {
	type cursor struct {
		d    *schedDef
		next time.Time
		ok   bool
	}
	var cs []*cursor
	for _, d := range scheds {
		if d.runs() {
			c := &cursor{d: d}
			c.next, c.ok = d.s.Next(now)
			cs = append(cs, c)
		}
	}
	var out []actionsWindow
	enabled := enabledNow
	var open *actionsWindow
	if !enabled {
		open = &actionsWindow{FromText: "now"}
	}
	horizon := now.Add(windowHorizon)
	for len(out) < limit {
		var c *cursor
		for _, x := range cs {
			if x.ok && (c == nil || x.next.Before(c.next)) {
				c = x
			}
		}
		if c == nil || c.next.After(horizon) {
			break
		}
		at := c.next
		c.next, c.ok = c.d.s.Next(at)
		switch c.d.cfg.Action {
		case config.ActionDisableAlarmActions:
			if enabled {
				enabled = false
				open = &actionsWindow{From: at, FromText: zonedTime(at, c.d.loc)}
			}
		case config.ActionEnableAlarmActions:
			if !enabled {
				enabled = true
				open.Until, open.UntilText = at, zonedTime(at, c.d.loc)
				out = append(out, *open)
				open = nil
			}
		}
	}
	if open != nil && len(out) < limit {
		open.UntilText = "no schedule enables them again"
		out = append(out, *open)
	}
	return out
}

// Geometry of the graph, in SVG user units.
const (
	graphW, graphH        = 720, 260
	graphLeft, graphRight = 64, 16
	graphTop, graphBottom = 16, 40
	plotW                 = graphW - graphLeft - graphRight
	plotH                 = graphH - graphTop - graphBottom
	maxYTicks             = 6
	maxXTicks             = 8
)

// graph is the alarm page's SVG graph, laid out for the template.
type graph struct {
	W, H                     int
	Left, Right, Top, Bottom float64 // the plot area's edges
	PlotW, PlotH, MidX, MidY float64
	Empty                    bool
	XTicks, YTicks           []tick
	ThresholdY               float64
	ThresholdLX, ThresholdLY float64 // where the threshold's label goes
	ThresholdText            string
	Lines                    []string // polyline points of runs of consecutive periods with data
	Points                   []graphPoint
	From, To                 time.Time
}

// tick is an axis tick: where it is and where its label goes.
type tick struct {
	X, Y, LX, LY float64
	Label        string
}

type graphPoint struct {
	X, Y      float64
	Value     string
	Time      time.Time
	Breaching bool
}

// newGraph lays out the periods (oldest first) and the threshold: time
// runs left to right over the periods' span, each value at the middle of
// its period; values run bottom to top over a range that holds zero, the
// values and the threshold, rounded out to whole ticks.
func newGraph(ps []periodPoint, threshold float64) graph {
	g := graph{W: graphW, H: graphH, Left: graphLeft, Right: graphW - graphRight, Top: graphTop, Bottom: graphH - graphBottom,
		PlotW: plotW, PlotH: plotH, MidX: graphLeft + plotW/2, MidY: graphTop + plotH/2}
	if len(ps) == 0 {
		g.Empty = true
		return g
	}
	g.From, g.To = ps[0].Start, ps[len(ps)-1].End
	lo, hi := math.Min(0, threshold), math.Max(0, threshold)
	real := 0
	for _, p := range ps {
		if p.Real {
			lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
			real++
		}
	}
	g.Empty = real == 0
	yTicks, lo, hi := valueTicks(lo, hi)
	y := func(v float64) float64 { return g.Bottom - (v-lo)/(hi-lo)*(g.Bottom-g.Top) }
	span := g.To.Sub(g.From)
	x := func(t time.Time) float64 {
		return g.Left + float64(t.Sub(g.From))/float64(span)*(g.Right-g.Left)
	}
	for _, v := range yTicks {
		yv := round2(y(v))
		g.YTicks = append(g.YTicks, tick{X: g.Left, Y: yv, LX: g.Left - 6, LY: yv + 4, Label: fmtValue(v)})
	}
	for _, t := range timeTicks(g.From, g.To) {
		xv := round2(x(t))
		g.XTicks = append(g.XTicks, tick{X: xv, Y: g.Bottom, LX: xv, LY: g.Bottom + 16, Label: timeLabel(t, span)})
	}
	g.ThresholdY, g.ThresholdText = round2(y(threshold)), fmtValue(threshold)
	g.ThresholdLX, g.ThresholdLY = g.Right-4, g.ThresholdY-4
	var run []string
	flush := func() {
		if len(run) > 1 {
			g.Lines = append(g.Lines, strings.Join(run, " "))
		}
		run = run[:0]
	}
	for _, p := range ps {
		if !p.Real {
			flush()
			continue
		}
		mid := p.Start.Add(p.End.Sub(p.Start) / 2)
		gp := graphPoint{X: round2(x(mid)), Y: round2(y(p.Value)), Value: fmtValue(p.Value), Time: p.Start, Breaching: p.Breaching}
		g.Points = append(g.Points, gp)
		run = append(run, strconv.FormatFloat(gp.X, 'f', 2, 64)+","+strconv.FormatFloat(gp.Y, 'f', 2, 64))
	}
	flush()
	return g
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// valueTicks returns evenly spaced round values covering [lo, hi] (at most
// maxYTicks), and the range they span.
func valueTicks(lo, hi float64) ([]float64, float64, float64) {
	if hi <= lo {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / float64(maxYTicks-1))
	for {
		a, b := math.Floor(lo/step)*step, math.Ceil(hi/step)*step
		n := int(math.Round((b-a)/step)) + 1
		if n <= maxYTicks {
			out := make([]float64, n)
			for i := range out {
				// Rounded to the step's precision: 0.30000000000000004 is 0.3.
				v, _ := strconv.ParseFloat(strconv.FormatFloat(a+float64(i)*step, 'g', 12, 64), 64)
				out[i] = v
			}
			return out, out[0], out[n-1]
		}
		step = niceStep(step * 1.5)
	}
}

// niceStep returns the smallest 1, 2 or 5 times a power of ten that is at
// least v.
func niceStep(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// tickSteps are the intervals of the time axis' ticks.
var tickSteps = []time.Duration{
	10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
	30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour,
}

// timeTicks returns the round UTC instants within [from, to], at most
// maxXTicks of them.
func timeTicks(from, to time.Time) []time.Time {
	span := to.Sub(from)
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s < maxXTicks {
			step = s
			break
		}
	}
	var out []time.Time
	for t := from.UTC().Truncate(step); !t.After(to); t = t.Add(step) {
		if !t.Before(from) {
			out = append(out, t)
		}
	}
	return out
}

// timeLabel writes a time axis label in UTC: the time of day, with the
// date when the span is longer than a day.
func timeLabel(t time.Time, span time.Duration) string {
	if span > 24*time.Hour {
		return t.UTC().Format("01-02 15:04")
	}
	return t.UTC().Format("15:04")
}
