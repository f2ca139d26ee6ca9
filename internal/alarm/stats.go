package alarm

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"
)

// RangeKind is the kind of a CloudWatch extended statistic computed over
// the values between two bounds (CloudWatch statistics definitions).
type RangeKind string

// The range statistics. IQM is TrimmedMean over (25%, 75%].
const (
	// TrimmedMean (tmNN, TM(a:b)) is the mean of the values in range.
	TrimmedMean RangeKind = "TM"
	// WinsorizedMean (wmNN, WM(a:b)) is the mean of all values, those
	// outside the range counted as the value at the edge they passed.
	WinsorizedMean RangeKind = "WM"
	// TrimmedCount (tcNN, TC(a:b)) is the number of values in range.
	TrimmedCount RangeKind = "TC"
	// TrimmedSum (tsNN, TS(a:b)) is the sum of the values in range.
	TrimmedSum RangeKind = "TS"
	// PercentileRank (PR(a:b)) is the percentage (0-100) of the values
	// in range; its bounds are metric values.
	PercentileRank RangeKind = "PR"
)

// label names k in error messages.
func (k RangeKind) label() string {
	switch k {
	case TrimmedMean:
		return "trimmed mean"
	case WinsorizedMean:
		return "winsorized mean"
	case TrimmedCount:
		return "trimmed count"
	case TrimmedSum:
		return "trimmed sum"
	case PercentileRank:
		return "percentile rank"
	}
	return string(k)
}

// Bound is one bound of a range statistic. The range is (lower, upper]:
// the lower bound excluded, the upper included.
type Bound struct {
	// Set is false for an open bound (TM(:95%) has no lower bound).
	Set bool
	// Value is a percentage of the values (0-100, Percent true) or a
	// metric value.
	Value   float64
	Percent bool
}

// shortKinds are the range statistics with a one-number form (tm90 is
// TM(:90%)); PR has none.
var shortKinds = map[string]RangeKind{"tm": TrimmedMean, "wm": WinsorizedMean, "tc": TrimmedCount, "ts": TrimmedSum}

// rangeKinds are the range statistics with a bounds form.
var rangeKinds = map[string]RangeKind{"TM": TrimmedMean, "WM": WinsorizedMean, "TC": TrimmedCount, "TS": TrimmedSum, "PR": PercentileRank}

// iqm is the interquartile mean, TM(25%:75%).
var iqm = Statistic{Name: "IQM", Percentile: -1, Kind: TrimmedMean,
	Lower: Bound{Set: true, Value: 25, Percent: true}, Upper: Bound{Set: true, Value: 75, Percent: true}}

// maxFracDigits is how many decimals a bound may have ("up to 10 decimal
// places").
const maxFracDigits = 10

// parseShortRange parses tmNN, wmNN, tcNN and tsNN: the range (0%, NN%],
// 0 < NN <= 100.
func parseShortRange(s string, kind RangeKind) (Statistic, error) {
	num := s[2:]
	if strings.HasPrefix(num, "(") {
		return Statistic{}, fmt.Errorf("%s %q at offset 0: write the bounds form in upper case, %s(...)", kind.label(), s, kind)
	}
	intPart, frac, hasDot := strings.Cut(num, ".")
	if err := digits(intPart, 1, 3); err != nil {
		return Statistic{}, fmt.Errorf("%s %q at offset %d: %v", kind.label(), s, 2+offsetOfBad(intPart), err)
	}
	if hasDot {
		if err := digits(frac, 1, maxFracDigits); err != nil {
			return Statistic{}, fmt.Errorf("%s %q at offset %d: %v", kind.label(), s, 3+len(intPart)+offsetOfBad(frac), err)
		}
	}
	p, err := strconv.ParseFloat(num, 64)
	if err != nil || p <= 0 || p > 100 {
		return Statistic{}, fmt.Errorf("%s %q at offset 2: the percentage must be greater than 0 and at most 100", kind.label(), s)
	}
	return Statistic{Name: s, Percentile: -1, Kind: kind, Upper: Bound{Set: true, Value: p, Percent: true}}, nil
}

// parseRange parses TM(a:b), WM(a:b), TC(a:b), TS(a:b) and PR(a:b): each
// bound empty (open), a percentage (10%, 99.5%) or a metric value (150,
// -2.5); both bounds of one kind; PR's are values.
func parseRange(s string, kind RangeKind) (Statistic, error) {
	fail := func(off int, format string, args ...any) (Statistic, error) {
		return Statistic{}, fmt.Errorf("%s %q at offset %d: %s", kind.label(), s, off, fmt.Sprintf(format, args...))
	}
	if len(s) < 3 || s[2] != '(' {
		if kind != PercentileRank && len(s) > 2 && s[2] >= '0' && s[2] <= '9' {
			return fail(2, "want '(' (write the one-number form in lower case, %s%s)", strings.ToLower(string(kind)), s[2:])
		}
		return fail(2, "want '('")
	}
	if !strings.HasSuffix(s, ")") {
		return fail(len(s), "want ')' at the end")
	}
	body := s[3 : len(s)-1]
	lo, hi, ok := strings.Cut(body, ":")
	if !ok {
		return fail(len(s)-1, "want ':' between the lower and the upper bound")
	}
	loOff, hiOff := 3, 4+len(lo)
	lower, off, msg := parseBound(lo, kind)
	if msg != "" {
		return fail(loOff+off, "%s", msg)
	}
	upper, off, msg := parseBound(hi, kind)
	if msg != "" {
		return fail(hiOff+off, "%s", msg)
	}
	switch {
	case !lower.Set && !upper.Set:
		return fail(loOff, "want a lower bound, an upper bound or both")
	case lower.Set && upper.Set && lower.Percent != upper.Percent:
		return fail(hiOff, "both bounds must be percentages or both metric values")
	case lower.Set && upper.Set && upper.Value <= lower.Value:
		return fail(hiOff, "the upper bound must be greater than the lower bound")
	case !lower.Set && upper.Percent && upper.Value == 0:
		return fail(hiOff, "the upper bound must be greater than 0%%")
	case !upper.Set && lower.Percent && lower.Value == 100:
		return fail(loOff, "the lower bound must be less than 100%%")
	}
	return Statistic{Name: s, Percentile: -1, Kind: kind, Lower: lower, Upper: upper}, nil
}

// parseBound parses one bound; on error it returns the offset within b
// and a message.
func parseBound(b string, kind RangeKind) (Bound, int, string) {
	if b == "" {
		return Bound{}, 0, ""
	}
	i := 0
	neg := b[0] == '-'
	if neg {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == start {
		return Bound{}, i, unexpected(b, i)
	}
	if i < len(b) && b[i] == '.' {
		i++
		fstart := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == fstart {
			return Bound{}, i, unexpected(b, i)
		}
		if i-fstart > maxFracDigits {
			return Bound{}, fstart, fmt.Sprintf("too many decimals (at most %d)", maxFracDigits)
		}
	}
	num := b[:i]
	pct := i < len(b) && b[i] == '%'
	if pct {
		if kind == PercentileRank {
			return Bound{}, i, "percentile rank bounds are metric values, not percentages"
		}
		i++
	}
	if i < len(b) {
		return Bound{}, i, unexpected(b, i)
	}
	v, err := strconv.ParseFloat(num, 64)
	switch {
	case pct && (neg || err != nil || v > 100):
		return Bound{}, 0, "a percentage must be between 0% and 100%"
	case err != nil || math.Abs(v) > maxValue:
		return Bound{}, 0, "a value must be between -2^360 and 2^360"
	}
	if v == 0 {
		v = 0 // no -0
	}
	return Bound{Set: true, Value: v, Percent: pct}, 0, ""
}

func unexpected(b string, i int) string {
	if i >= len(b) {
		return "missing digits"
	}
	return fmt.Sprintf("unexpected %q, want a digit", b[i])
}

// rangeStat returns the range statistic st over values (in any order;
// not modified). ok is false with no values, and for a trimmed mean with
// no value in range. TC and TS of an empty range are 0.
//
// Value bounds keep the values v with lower < v <= upper. Percentage
// bounds keep a share of the data points, not of the value axis: sorted,
// each point owns an equal slice of (0%, 100%], and the range (a%, b%]
// keeps each point in proportion to the part of its slice inside, so
// TM(10%:90%) of 15 points keeps 12 points' worth (the 2nd and the 14th
// by half) and ties at a bound are split as their slices are. TC is then
// n(b-a)/100, possibly fractional, as CloudWatch documents it can be.
// WM counts the points below the range as its lowest value kept (below a
// value bound: as the bound) and those above as its highest value kept
// (the nearest-rank percentile b, as Percentile; above a value bound: as
// the bound).
func rangeStat(st Statistic, values []float64) (float64, bool) {
	n := len(values)
	if n == 0 {
		return 0, false
	}
	if st.Kind == PercentileRank {
		in := 0
		for _, v := range values {
			if (!st.Lower.Set || v > st.Lower.Value) && (!st.Upper.Set || v <= st.Upper.Value) {
				in++
			}
		}
		return 100 * float64(in) / float64(n), true
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	var r trimmed
	if st.Lower.Percent || st.Upper.Percent {
		r = trimByShare(sorted, st.Lower, st.Upper)
	} else {
		r = trimByValue(sorted, st.Lower, st.Upper)
	}
	switch st.Kind {
	case TrimmedCount:
		return r.count, true
	case TrimmedSum:
		return r.sum, true
	case TrimmedMean:
		if r.count == 0 {
			return 0, false
		}
		return r.sum / r.count, true
	case WinsorizedMean:
		return (r.below*r.low + r.sum + r.above*r.high) / float64(n), true
	}
	return 0, false
}

// trimmed is a range applied to sorted values: the count and sum kept,
// how many points (possibly fractional) fell below and above, and the
// values winsorizing replaces them with.
type trimmed struct {
	count, sum   float64
	below, above float64
	low, high    float64
}

// trimByValue keeps lower < v <= upper.
func trimByValue(sorted []float64, lower, upper Bound) trimmed {
	r := trimmed{low: lower.Value, high: upper.Value}
	for _, v := range sorted {
		switch {
		case lower.Set && v <= lower.Value:
			r.below++
		case upper.Set && v > upper.Value:
			r.above++
		default:
			r.count++
			r.sum += v
		}
	}
	return r
}

// trimByShare keeps the points' share of (a%, b%] (see rangeStat). Open
// bounds are 0% and 100%. Requires a < b.
func trimByShare(sorted []float64, lower, upper Bound) trimmed {
	n := len(sorted)
	a, b := 0.0, 100.0
	if lower.Set {
		a = lower.Value
	}
	if upper.Set {
		b = upper.Value
	}
	// Point j (0-based) owns [j, j+1) on the axis 0..n; the range is
	// [aw+af, bw+bf).
	aw, af := sharePosition(a, n)
	bw, bf := sharePosition(b, n)
	last := bw // the last point with a part in range
	if bf == 0 {
		last = bw - 1
	}
	r := trimmed{
		count: float64(bw-aw) + bf - af,
		below: float64(aw) + af,
		above: float64(n-bw) - bf,
		low:   sorted[aw],
		high:  sorted[last],
	}
	for j := aw; j <= last; j++ {
		lo, hi := 0.0, 1.0
		if j == aw {
			lo = af
		}
		if j == bw {
			hi = bf
		}
		r.sum += (hi - lo) * sorted[j]
	}
	return r
}

// sharePosition returns pct% of n as whole points and a fraction in
// [0, 1), exactly: pct has at most 10 decimals, so pct*1e10 is an integer.
func sharePosition(pct float64, n int) (whole int, frac float64) {
	const scale = 1e10
	scaled := uint64(math.Round(pct * scale))
	hi, lo := bits.Mul64(scaled, uint64(n))
	q, rem := bits.Div64(hi, lo, 100*scale) // hi < 100*scale as scaled <= 100*scale
	return int(q), float64(rem) / (100 * scale)
}
