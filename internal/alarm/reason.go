package alarm

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// reasonDate is the date format inside a StateReason (dd/MM/yy HH:mm:ss,
// UTC).
const reasonDate = "02/01/06 15:04:05"

// awsTime is CloudWatch's timestamp format in StateReasonData and SNS
// messages.
const awsTime = "2006-01-02T15:04:05.000-0700"

func formatAWSTime(t time.Time) string { return t.UTC().Format(awsTime) }

// JavaDouble formats v as Java's Double.toString does, as CloudWatch
// prints values in reasons: 3.0, 99.50160229693434, 1.0E7, 1.0E-4.
func JavaDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(v); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'E', -1, 64)
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func treatedAs(breaching bool) string {
	if breaching {
		return "[Breaching]"
	}
	return "[NonBreaching]"
}

// reasonText writes CloudWatch's StateReason for decision d (specs §3.5).
func (a *Alarm) reasonText(d decision, slots []slot, to State) string {
	n, m := a.cfg.EvaluationPeriods, a.cfg.DatapointsToAlarm
	if to == InsufficientData {
		return fmt.Sprintf("Insufficient Data: %d %s %s unknown.", n, plural(n, "datapoint"), wasWere(n))
	}
	if len(d.used) == 0 {
		return fmt.Sprintf("Threshold Crossed: no datapoints were received for %d %s and %d missing %s %s treated as %s.",
			d.fill, plural(d.fill, "period"), d.fill, plural(d.fill, "datapoint"), wasWere(d.fill), treatedAs(d.fillBreaching))
	}
	toAlarm := to == Alarming
	need := m
	if !toAlarm {
		need = n - m + 1
	}
	var list []string
	for _, i := range d.used {
		if slots[i].breaching == toAlarm {
			list = append(list, fmt.Sprintf("%s (%s)", JavaDouble(slots[i].value), slots[i].start.UTC().Format(reasonDate)))
		}
	}
	fillSupports := d.fill > 0 && d.fillBreaching == toAlarm
	total := len(d.used) + d.fill
	phrase := operatorPhrase(a.cfg.ComparisonOperator)
	if !toAlarm {
		phrase = "not " + phrase
	}
	var b strings.Builder
	b.WriteString("Threshold Crossed: ")
	if len(list) == 0 {
		fmt.Fprintf(&b, "%d out of the last %d datapoints %s missing and treated as %s", d.fill, total, wasWere(d.fill), treatedAs(d.fillBreaching))
	} else {
		fmt.Fprintf(&b, "%d out of the last %d datapoints [%s] %s %s the threshold (%s)",
			len(list), total, strings.Join(list, ", "), wasWere(len(list)), phrase, JavaDouble(a.cfg.Threshold))
		if fillSupports {
			fmt.Fprintf(&b, " and %d missing %s %s treated as %s", d.fill, plural(d.fill, "datapoint"), wasWere(d.fill), treatedAs(d.fillBreaching))
		}
	}
	fmt.Fprintf(&b, " (minimum %d %s for %s -> %s transition).", need, plural(need, "datapoint"), a.state, to)
	return b.String()
}

// reasonJSON writes CloudWatch's StateReasonData for decision d.
func (a *Alarm) reasonJSON(d decision, slots []slot, now time.Time) []byte {
	var b bytes.Buffer
	b.WriteString(`{"version":"1.0","queryDate":"`)
	b.WriteString(formatAWSTime(now))
	b.WriteByte('"')
	if len(d.used) > 0 {
		fmt.Fprintf(&b, `,"startDate":"%s"`, formatAWSTime(slots[d.used[len(d.used)-1]].start))
	}
	if a.cfg.Unit != "" {
		fmt.Fprintf(&b, `,"unit":%s`, strconv.Quote(a.cfg.Unit))
	}
	if a.stat.IsExtended() {
		fmt.Fprintf(&b, `,"extendedStatistic":%s`, strconv.Quote(a.stat.Name))
	} else {
		fmt.Fprintf(&b, `,"statistic":%s`, strconv.Quote(a.stat.Name))
	}
	fmt.Fprintf(&b, `,"period":%d,"recentDatapoints":[`, int64(a.cfg.Period/time.Second))
	for j := len(d.used) - 1; j >= 0; j-- { // oldest first
		if j != len(d.used)-1 {
			b.WriteByte(',')
		}
		b.WriteString(JavaDouble(slots[d.used[j]].value))
	}
	fmt.Fprintf(&b, `],"threshold":%s`, JavaDouble(a.cfg.Threshold))
	if len(d.used) > 0 {
		b.WriteString(`,"evaluatedDatapoints":[`)
		for j, i := range d.used { // newest first
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"timestamp":"%s","sampleCount":%s,"value":%s}`,
				formatAWSTime(slots[i].start), JavaDouble(float64(slots[i].count)), JavaDouble(slots[i].value))
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.Bytes()
}
