// Package alarm evaluates CloudWatch metric alarms in memory, as pure,
// clock-driven logic: a Series aggregates metric datapoints (from metric
// filters) per metric and period, and an Alarm is one PutMetricAlarm
// single-metric, static-threshold alarm whose state machine follows
// CloudWatch's documented semantics.
//
// # What it models
//
//   - Periods of 10, 20 and 30 seconds (high resolution, evaluated every 10
//     seconds) and any multiple of 60 seconds (evaluated every minute;
//     alarms covering more than a day are evaluated every hour). Periods
//     are sliding windows ending at the evaluation instant, not aligned
//     buckets: a 5-minute alarm evaluated at 12:06 looks at 12:01-12:06.
//   - Statistics Sum, Average, Minimum, Maximum, SampleCount and exact
//     percentiles pNN over the raw values of a period (nearest rank: the
//     smallest value v such that at least NN% of the values are <= v),
//     and CloudWatch's other extended statistics, exact too: trimmed mean,
//     winsorized mean, trimmed count and trimmed sum (tm90, TM(10%:90%),
//     TM(150:1000), IQM, ...) and percentile rank (PR(:300)); see
//     ParseStatistic and ALARMS.md.
//   - M out of N (DatapointsToAlarm out of EvaluationPeriods), every static
//     ComparisonOperator, and TreatMissingData (missing, notBreaching,
//     breaching, ignore) with AWS's evaluation range: the alarm retrieves
//     R > N periods, R = N + max(N/3, 2) by default (5 for N = 3, as in
//     AWS's tables), configurable with Config.EvaluationRange.
//   - States OK, ALARM and INSUFFICIENT_DATA; a new alarm starts in
//     INSUFFICIENT_DATA with the reason "Unchecked: Initial alarm creation".
//   - Actions fire only on transitions and only while actions are enabled
//     (DisableAlarmActions / EnableAlarmActions, e.g. from a schedule).
//     Re-enabling actions never fires actions for a transition that
//     happened while they were disabled.
//   - StateReason and StateReasonData in CloudWatch's wording and the SNS
//     notification message CloudWatch sends (Notification, Subject).
//
// Beyond CloudWatch, a Transition carries the keys (CloudTrail eventIDs) of
// the events behind its breaching datapoints, so a notification can say
// who did what from where.
//
// # Decisions where AWS documents nothing
//
// The missing-data rules follow the reference algorithm of specs §3.3,
// which reproduces all ten rows of AWS's two tables:
//
//  1. With at least N real datapoints in the evaluation range, the N most
//     recent are evaluated and TreatMissingData does not matter.
//  2. With none: missing -> INSUFFICIENT_DATA, ignore -> keep the state,
//     breaching -> ALARM, notBreaching -> OK.
//  3. breaching / notBreaching with fewer than N: the real datapoints plus
//     N - len(real) filled ones are evaluated.
//  4. missing / ignore with fewer than N: if every real datapoint is
//     breaching, the alarm goes to ALARM (missing) or keeps its state
//     (ignore) when the oldest breaching datapoint among the last N
//     periods is at least M periods old (AWS's "premature transition"
//     rule), and otherwise keeps its state; if some real datapoint is not
//     breaching, ALARM when at least M are breaching, else OK.
//
// The reason for a decision that used filled datapoints and the order of
// evaluatedDatapoints in StateReasonData are derived from observed
// messages, not documented. The SNS message writes TreatMissingData as the
// real messages of specs §3.6 do ("- TreatMissingData:" padded, then the
// value).
//
// A Set holds the alarms of an account and region (PutMetricAlarm,
// DeleteAlarms, EnableAlarmActions, DisableAlarmActions, SetAlarmState) and
// evaluates each at its own cadence on Tick. Persistence is outside: a store
// saves each Transition with the alarm's Snapshot and restores them at
// start-up. ALARMS.md lists every rule and its source.
//
// Neither Series, Alarm nor Set reads the clock: every method that depends on
// time takes it as an argument. A Series and a Set are safe for concurrent
// use; an Alarm is not (use a Set, or evaluate an alarm from one goroutine, as the
// leader does).
package alarm
