package alarm

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"
)

// Datapoint is one metric value at a time (from a metric filter on one log
// event).
type Datapoint struct {
	Namespace, Metric string
	Dimensions        map[string]string
	Time              time.Time
	Value             float64
	Unit              string
	EventKey          string // the CloudTrail eventID behind it
}

// Resolution is the granularity at which a Series stores datapoints: the
// shortest alarm period, so every period is a whole number of buckets.
const Resolution = 10 * time.Second

// Defaults of a Series.
const (
	// DefaultRetention keeps the largest evaluation range any valid alarm
	// can have (7 days of periods plus the extra periods of the range).
	DefaultRetention = 10 * 24 * time.Hour
	// DefaultKeysPerBucket is how many event keys a 10-second bucket keeps.
	DefaultKeysPerBucket = 100
)

// Errors of Series.Add.
var (
	ErrInvalidValue = errors.New("invalid datapoint value")
	ErrTooOld       = errors.New("datapoint older than the series' retention")
	ErrNoMetric     = errors.New("datapoint without namespace or metric name")
	ErrFuture       = errors.New("datapoint too far in the future")
)

// maxValue is PutMetricData's limit: "Values must be in the range of
// -2^360 to 2^360"; it also keeps sums finite.
const maxValue = 1 << 360

// MaxFuture is how far ahead of now AddAt accepts a datapoint, as
// PutMetricData does ("up to two hours after the current date").
const MaxFuture = 2 * time.Hour

// Series holds recent datapoints per metric (namespace, name, dimensions)
// in 10-second buckets, with the raw values (for percentiles, unit
// filters) and the event keys behind them. Memory is bounded by the
// retention: a metric keeps only the buckets within Retention of its newest
// datapoint (and of the last Prune). A Series is safe for concurrent use.
type Series struct {
	retention     time.Duration
	keysPerBucket int

	mu      sync.Mutex
	streams map[string]*stream
}

type stream struct {
	buckets []bucket // ascending idx
	newest  int64    // highest bucket idx seen
}

type bucket struct {
	idx      int64 // unix seconds / 10
	sum      float64
	min, max float64
	count    int      // datapoints: the samples' n summed
	samples  []sample // in the order added
	nkeys    int
}

// sample is n datapoints of one value and unit (n > 1 only for unkeyed
// values restored from a store's counts, see Replace).
type sample struct {
	value float64
	unit  string
	key   string
	n     int
}

// NewSeries returns a Series that keeps datapoints for retention (at least
// the longest evaluation range of the alarms reading it, see
// Alarm.Range); zero means DefaultRetention.
func NewSeries(retention time.Duration) *Series {
	if retention <= 0 {
		retention = DefaultRetention
	}
	return &Series{retention: retention, keysPerBucket: DefaultKeysPerBucket, streams: map[string]*stream{}}
}

// SetKeysPerBucket sets how many event keys each 10-second bucket keeps
// (the first ones added); zero or less keeps none.
func (s *Series) SetKeysPerBucket(n int) {
	s.mu.Lock()
	s.keysPerBucket = n
	s.mu.Unlock()
}

// MetricKey identifies a metric: namespace, name and dimensions in a
// canonical form.
func MetricKey(namespace, metric string, dims map[string]string) string {
	return string(appendMetricKey(nil, namespace, metric, dims))
}

func appendMetricKey(b []byte, namespace, metric string, dims map[string]string) []byte {
	b = append(b, namespace...)
	b = append(b, 0)
	b = append(b, metric...)
	write := func(k string) {
		b = append(b, 0)
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, dims[k]...)
	}
	if len(dims) == 1 {
		for k := range dims {
			write(k)
		}
	} else if len(dims) > 1 {
		for _, k := range sortedKeys(dims) {
			write(k)
		}
	}
	return b
}

func bucketIndex(t time.Time) int64 {
	return floorDiv(t.Unix(), int64(Resolution/time.Second))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Add records d. Values must be finite (CloudWatch rejects NaN and
// infinities); a datapoint older than the retention, counted back from
// the newest datapoint of its metric, is refused with ErrTooOld. Add trusts
// timestamps: one far in the future makes the metric's older datapoints
// expire. Use AddAt for timestamps from outside.
func (s *Series) Add(d Datapoint) error { return s.add(time.Time{}, d) }

// AddAt records d received at now: as Add, but the retention counts back
// from now, and a datapoint more than MaxFuture ahead of now is refused
// with ErrFuture.
func (s *Series) AddAt(now time.Time, d Datapoint) error {
	if d.Time.After(now.Add(MaxFuture)) {
		return fmt.Errorf("%w: %s is more than %v after %s", ErrFuture,
			d.Time.UTC().Format(time.RFC3339), MaxFuture, now.UTC().Format(time.RFC3339))
	}
	return s.add(now, d)
}

func (s *Series) add(now time.Time, d Datapoint) error {
	if d.Namespace == "" || d.Metric == "" {
		return ErrNoMetric
	}
	if math.IsNaN(d.Value) || math.IsInf(d.Value, 0) || math.Abs(d.Value) > maxValue {
		return fmt.Errorf("%w: %v (values must be finite, between -2^360 and 2^360)", ErrInvalidValue, d.Value)
	}
	idx := bucketIndex(d.Time)
	var arr [128]byte
	key := appendMetricKey(arr[:0], d.Namespace, d.Metric, d.Dimensions)
	keep := int64(s.retention / Resolution)

	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[string(key)] // no allocation for the lookup
	if st == nil {
		st = &stream{newest: idx}
		s.streams[string(key)] = st
	}
	mark := idx
	if !now.IsZero() {
		mark = bucketIndex(now)
	}
	if idx <= max(st.newest, mark)-keep {
		return fmt.Errorf("%w: %s", ErrTooOld, d.Time.UTC().Format(time.RFC3339))
	}
	if mark > st.newest {
		st.newest = mark
		st.dropBefore(mark - keep + 1)
	}
	b := st.bucketFor(idx)
	smp := sample{value: d.Value, unit: d.Unit, n: 1}
	if d.EventKey != "" && b.nkeys < s.keysPerBucket {
		smp.key = d.EventKey
		b.nkeys++
	}
	b.addSample(smp)
	return nil
}

func (b *bucket) addSample(smp sample) {
	if b.count == 0 {
		b.min, b.max = smp.value, smp.value
	} else {
		b.min = math.Min(b.min, smp.value)
		b.max = math.Max(b.max, smp.value)
	}
	b.sum += smp.value * float64(smp.n)
	b.count += smp.n
	b.samples = append(b.samples, smp)
}

// Bucket is one metric's datapoints of one unit in one 10-second bucket,
// as a store keeps them: aggregates that sum with upserts, the distinct
// values with how many datapoints had each (for percentiles), and the
// event keys behind the first values (see SetKeysPerBucket).
type Bucket struct {
	Namespace, Metric string
	Dimensions        map[string]string
	Unit              string
	Start             time.Time // a multiple of Resolution
	Count             int64
	Sum, Min, Max     float64
	Values            []ValueCount // distinct values; their counts sum to Count
	Events            []EventValue // oldest first
}

// ValueCount is how many datapoints of a bucket had one value.
type ValueCount struct {
	Value float64
	Count int64
}

// EventValue is the event behind a datapoint, and its value.
type EventValue struct {
	Key   string
	Value float64
}

// Replace sets the buckets bs name to their content, replacing what the
// series held for them: a store's rows, reloaded whole. Buckets of one
// metric and start in bs (one per unit) merge. A bucket beyond the
// retention, counted back from now, is skipped. The datapoints are read
// from Values and Events (Count, Sum, Min and Max follow from Values).
func (s *Series) Replace(now time.Time, bs []Bucket) {
	keep := int64(s.retention / Resolution)
	mark := bucketIndex(now)
	type at struct {
		key string
		idx int64
	}
	reset := map[at]bool{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range bs {
		b := &bs[i]
		if b.Namespace == "" || b.Metric == "" || b.Count <= 0 {
			continue
		}
		idx := bucketIndex(b.Start)
		key := MetricKey(b.Namespace, b.Metric, b.Dimensions)
		st := s.streams[key]
		if st == nil {
			st = &stream{newest: mark}
			s.streams[key] = st
		}
		if idx <= max(st.newest, mark)-keep {
			continue
		}
		if mark > st.newest {
			st.newest = mark
			st.dropBefore(mark - keep + 1)
		}
		bk := st.bucketFor(idx)
		if k := (at{key, idx}); !reset[k] {
			reset[k] = true
			*bk = bucket{idx: idx}
		}
		// The keyed values first (they were added first), then the rest
		// of each value's count as one run.
		left := make(map[float64]int64, len(b.Values))
		for _, v := range b.Values {
			left[v.Value] += v.Count
		}
		for _, e := range b.Events {
			if left[e.Value] <= 0 {
				continue
			}
			left[e.Value]--
			smp := sample{value: e.Value, unit: b.Unit, n: 1}
			if e.Key != "" && bk.nkeys < s.keysPerBucket {
				smp.key = e.Key
				bk.nkeys++
			}
			bk.addSample(smp)
		}
		for _, v := range b.Values {
			if n := left[v.Value]; n > 0 {
				left[v.Value] = 0
				bk.addSample(sample{value: v.Value, unit: b.Unit, n: int(n)})
			}
		}
	}
}

// bucketFor returns the bucket idx, inserting it in order.
func (st *stream) bucketFor(idx int64) *bucket {
	n := len(st.buckets)
	if n > 0 && st.buckets[n-1].idx == idx {
		return &st.buckets[n-1]
	}
	if n == 0 || st.buckets[n-1].idx < idx {
		st.buckets = append(st.buckets, bucket{idx: idx})
		return &st.buckets[n]
	}
	i := sort.Search(n, func(i int) bool { return st.buckets[i].idx >= idx })
	if i < n && st.buckets[i].idx == idx {
		return &st.buckets[i]
	}
	st.buckets = append(st.buckets, bucket{})
	copy(st.buckets[i+1:], st.buckets[i:])
	st.buckets[i] = bucket{idx: idx}
	return &st.buckets[i]
}

// dropBefore drops buckets whose idx < lo.
func (st *stream) dropBefore(lo int64) {
	i := sort.Search(len(st.buckets), func(i int) bool { return st.buckets[i].idx >= lo })
	if i == 0 {
		return
	}
	n := copy(st.buckets, st.buckets[i:])
	clear(st.buckets[n:])
	st.buckets = st.buckets[:n]
}

// Prune drops every bucket older than now minus the retention, and the
// metrics left empty.
func (s *Series) Prune(now time.Time) {
	lo := bucketIndex(now.Add(-s.retention)) + 1
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, st := range s.streams {
		st.dropBefore(lo)
		if len(st.buckets) == 0 {
			delete(s.streams, k)
		}
	}
}

// Len returns the number of datapoints held.
func (s *Series) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, st := range s.streams {
		for i := range st.buckets {
			n += st.buckets[i].count
		}
	}
	return n
}

// Period is the aggregate of one metric over [Start, End).
type Period struct {
	Start, End  time.Time
	SampleCount int
	Sum         float64
	Minimum     float64
	Maximum     float64
	// Values are the raw values, in the order they were added.
	Values []float64
	// Keys are the event keys behind the values (up to the per-bucket
	// limit) and KeyValues the value each of them brought.
	Keys      []string
	KeyValues []float64
}

// Average is Sum / SampleCount (NaN for an empty period).
func (p *Period) Average() float64 {
	if p.SampleCount == 0 {
		return math.NaN()
	}
	return p.Sum / float64(p.SampleCount)
}

// Stat returns the statistic's value for p; ok is false for an empty
// (missing) period, and for a trimmed mean with no value in range (a
// missing datapoint too). Extended statistics are computed from Values:
// aggregate with WithValues when st.NeedsValues().
func (p *Period) Stat(st Statistic) (v float64, ok bool) {
	if p.SampleCount == 0 {
		return 0, false
	}
	switch st.Name {
	case "Sum":
		return p.Sum, true
	case "SampleCount":
		return float64(p.SampleCount), true
	case "Average":
		return p.Average(), true
	case "Minimum":
		return p.Minimum, true
	case "Maximum":
		return p.Maximum, true
	}
	if st.IsPercentile() {
		return Percentile(p.Values, st.Percentile), true
	}
	if st.Kind != "" {
		return rangeStat(st, p.Values)
	}
	return 0, false
}

// Percentile returns the nearest-rank percentile p (0-100) of values: the
// smallest value v such that at least p% of the values are <= v. It is
// NaN for no values. values is not modified.
func Percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	// The epsilon absorbs binary rounding (99.9% of 1000 is rank 999).
	rank := int(math.Ceil(p*float64(len(sorted))/100 - 1e-9))
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// What Aggregate collects besides the counts.
const (
	WithValues = 1 << iota // Period.Values (extended statistics)
	WithKeys               // Period.Keys
)

// Aggregate returns the metric's period [start, end) (both rounded down to
// the 10-second resolution), restricted to unit when unit is not empty.
// with is a combination of WithValues and WithKeys.
func (s *Series) Aggregate(metricKey, unit string, start, end time.Time, with int) Period {
	p := Period{Start: start, End: end}
	lo, hi := bucketIndex(start), bucketIndex(end)
	needValues, needKeys := with&WithValues != 0, with&WithKeys != 0
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[metricKey]
	if st == nil {
		return p
	}
	i := sort.Search(len(st.buckets), func(i int) bool { return st.buckets[i].idx >= lo })
	for ; i < len(st.buckets) && st.buckets[i].idx < hi; i++ {
		b := &st.buckets[i]
		if unit == "" {
			if b.count == 0 {
				continue
			}
			if p.SampleCount == 0 {
				p.Minimum, p.Maximum = b.min, b.max
			} else {
				p.Minimum = math.Min(p.Minimum, b.min)
				p.Maximum = math.Max(p.Maximum, b.max)
			}
			p.Sum += b.sum
			p.SampleCount += b.count
			if !needValues && !(needKeys && b.nkeys > 0) {
				continue
			}
		}
		for _, smp := range b.samples {
			if unit != "" {
				if smp.unit != unit {
					continue
				}
				if p.SampleCount == 0 {
					p.Minimum, p.Maximum = smp.value, smp.value
				} else {
					p.Minimum = math.Min(p.Minimum, smp.value)
					p.Maximum = math.Max(p.Maximum, smp.value)
				}
				p.Sum += smp.value * float64(smp.n)
				p.SampleCount += smp.n
			}
			if needValues {
				for range smp.n {
					p.Values = append(p.Values, smp.value)
				}
			}
			if needKeys && smp.key != "" {
				p.Keys = append(p.Keys, smp.key)
				p.KeyValues = append(p.KeyValues, smp.value)
			}
		}
	}
	return p
}
