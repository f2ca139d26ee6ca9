package store

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// BucketSums adds up a batch's datapoints per 10-second bucket before a
// store writes them: one upsert row per bucket and distinct value, however
// many events. Every implementation writes the same sums.
type BucketSums struct {
	Order []BucketKey // first seen first
	By    map[BucketKey]*BucketSum
}

// BucketKey names one bucket of one metric and unit.
type BucketKey struct {
	Metric string // alarm.MetricKey
	Bucket int64  // BucketOf
	Unit   string
}

// BucketSum is what a batch adds to one bucket.
type BucketSum struct {
	First         *alarm.Datapoint // the first: namespace, name, dimensions
	Count         int64
	Sum, Min, Max float64
	Values        map[float64]int64 // count per distinct value (exact percentiles)
	ValueOrder    []float64
	Keys          []alarm.EventValue // at most KeysPerBucket
}

// Add counts one datapoint.
func (m *BucketSums) Add(d *alarm.Datapoint) error {
	if d.Namespace == "" || d.Metric == "" {
		return alarm.ErrNoMetric
	}
	if math.IsNaN(d.Value) || math.IsInf(d.Value, 0) {
		return fmt.Errorf("%w: %v", alarm.ErrInvalidValue, d.Value)
	}
	k := BucketKey{alarm.MetricKey(d.Namespace, d.Metric, d.Dimensions), BucketOf(d.Time), d.Unit}
	if m.By == nil {
		m.By = map[BucketKey]*BucketSum{}
	}
	b := m.By[k]
	if b == nil {
		b = &BucketSum{First: d, Min: d.Value, Max: d.Value, Values: map[float64]int64{}}
		m.By[k] = b
		m.Order = append(m.Order, k)
	}
	b.Count++
	b.Sum += d.Value
	b.Min, b.Max = math.Min(b.Min, d.Value), math.Max(b.Max, d.Value)
	if b.Values[d.Value] == 0 {
		b.ValueOrder = append(b.ValueOrder, d.Value)
	}
	b.Values[d.Value]++
	if d.EventKey != "" && len(b.Keys) < KeysPerBucket {
		b.Keys = append(b.Keys, alarm.EventValue{Key: d.EventKey, Value: d.Value})
	}
	return nil
}

// BucketOf is t's 10-second bucket: unix seconds / 10, rounded down.
func BucketOf(t time.Time) int64 {
	step := int64(alarm.Resolution / time.Second)
	s := t.Unix()
	q := s / step
	if s%step != 0 && s < 0 {
		q--
	}
	return q
}

// Compare orders keys by metric, bucket and unit (stores lock buckets in
// this order, so concurrent batches do not deadlock).
func (k BucketKey) Compare(o BucketKey) int {
	if c := strings.Compare(k.Metric, o.Metric); c != 0 {
		return c
	}
	if k.Bucket != o.Bucket {
		if k.Bucket < o.Bucket {
			return -1
		}
		return 1
	}
	return strings.Compare(k.Unit, o.Unit)
}
