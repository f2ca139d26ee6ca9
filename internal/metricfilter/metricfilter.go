// Package metricfilter turns CloudTrail records into metric datapoints, as
// CloudWatch Logs metric filters do in a CloudTrail log group: each filter
// pattern sees the raw record, and a match adds its metric value (with its
// dimensions) at the record's time.
package metricfilter

import (
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/filterpattern"
	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/event"
)

// Filters is a compiled set of metric filters; it is immutable and safe for
// concurrent use.
type Filters struct {
	set     *filterpattern.Set
	filters []*config.MetricFilter
	// defaults are the filters with a default value: a record they do not
	// match reports it, as CloudWatch reports DefaultValue for log events
	// that match nothing.
	defaults []int
}

// New compiles the metric filters.
func New(mfs []*config.MetricFilter) (*Filters, error) {
	f := &Filters{filters: mfs}
	pats := make([]*filterpattern.Pattern, len(mfs))
	for i, mf := range mfs {
		p, err := filterpattern.Parse(mf.FilterPattern)
		if err != nil {
			return nil, fmt.Errorf("metric filter %s: %w", mf.Name, err)
		}
		pats[i] = p
		for _, t := range mf.Transformations {
			if t.DefaultValue != nil {
				f.defaults = append(f.defaults, i)
				break
			}
		}
	}
	f.set = filterpattern.NewSet(pats...)
	return f, nil
}

// Len is the number of filters.
func (f *Filters) Len() int { return len(f.filters) }

// Datapoints appends to dst the datapoints that ev's CloudTrail record
// produces. A record whose metric value cannot be read (a "$.bytes" that is
// not a number) produces nothing for that filter, as in CloudWatch.
func (f *Filters) Datapoints(ev *event.Event, dst []alarm.Datapoint) []alarm.Datapoint {
	if ev.Record == nil || len(f.filters) == 0 {
		return dst
	}
	t := ev.Time
	if t.IsZero() {
		return dst // a datapoint needs a time; the event's rules still ran
	}
	matched := f.set.Match(ev.Record, nil)
	next := 0
	for _, i := range matched {
		// Defaults of filters before this match: they did not match.
		for next < len(f.defaults) && f.defaults[next] < i {
			dst = f.appendDefaults(dst, f.defaults[next], ev, t)
			next++
		}
		if next < len(f.defaults) && f.defaults[next] == i {
			next++
		}
		m, ok := f.set.Pattern(i).Match(ev.Record)
		if !ok {
			continue
		}
		for _, tr := range f.filters[i].Transformations {
			v, err := filterpattern.MetricValue(tr.MetricValue, m)
			if err != nil {
				continue
			}
			dims, ok := dimensions(tr.Dimensions, m)
			if !ok {
				continue
			}
			dst = append(dst, alarm.Datapoint{
				Namespace: tr.MetricNamespace, Metric: tr.MetricName, Dimensions: dims,
				Time: t, Value: v, Unit: tr.Unit, EventKey: ev.Key(),
			})
		}
	}
	for ; next < len(f.defaults); next++ {
		dst = f.appendDefaults(dst, f.defaults[next], ev, t)
	}
	return dst
}

func (f *Filters) appendDefaults(dst []alarm.Datapoint, i int, ev *event.Event, t time.Time) []alarm.Datapoint {
	for _, tr := range f.filters[i].Transformations {
		if tr.DefaultValue == nil || len(tr.Dimensions) > 0 {
			continue
		}
		dst = append(dst, alarm.Datapoint{
			Namespace: tr.MetricNamespace, Metric: tr.MetricName,
			Time: t, Value: *tr.DefaultValue, Unit: tr.Unit,
		})
	}
	return dst
}

// dimensions reads a transformation's dimension values ("$.field") from a
// match; a record lacking one produces no datapoint.
func dimensions(spec map[string]string, m filterpattern.Match) (map[string]string, bool) {
	if len(spec) == 0 {
		return nil, true
	}
	dims := make(map[string]string, len(spec))
	for name, sel := range spec {
		v, ok := m.Field(sel)
		if !ok || v == "" {
			return nil, false
		}
		dims[name] = v
	}
	return dims, true
}
