// Package store is the seam to Trailwatch's durable state: events seen,
// alerts, metric datapoints, alarm states, and the outbox of deliveries
// with their reminders. An alert, the deliveries it queues and the
// event's datapoints are written in the same transaction as the event that
// caused them (an alarm's state with the deliveries of its transition);
// the source is acknowledged only after Record returns. Implementations (store/sqlite, later store/postgres) prove
// themselves with one conformance suite, store/storetest.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify"
)

// Errors.
var (
	// ErrNotFound: no alert or delivery with that id.
	ErrNotFound = errors.New("not found")
	// ErrLeaseLost: the claim expired and the delivery was claimed again
	// (or finished) by someone else; the caller's outcome is not recorded.
	ErrLeaseLost = errors.New("lease lost")
	// ErrNoEventKey: a Seen without an EventKey.
	ErrNoEventKey = errors.New("event without a key")
)

// Alert states, as AlertRow.State and AlertFilter.State read them.
const (
	// StatePending: a folding alert below its threshold; not an alert yet
	// (Alerts lists it only when asked for by state).
	StatePending = "pending"
	// StateNew: fired, no delivery has succeeded yet.
	StateNew = "new"
	// StateNotified: at least one delivery succeeded.
	StateNotified = "notified"
	// StateAcked: someone acknowledged it.
	StateAcked = "acked"
	// StateDeadLettered: not acknowledged, and at least one delivery was
	// dead-lettered.
	StateDeadLettered = "dead-lettered"
)

// Delivery states, as DeliveryRow.State reads them.
const (
	DeliveryPending   = "pending"   // waiting until DueAt
	DeliveryRunning   = "running"   // claimed; the lease ends at DueAt
	DeliveryDone      = "done"      // the receiver took it
	DeliveryDead      = "dead"      // dead-lettered
	DeliveryCancelled = "cancelled" // a reminder cancelled by an ack
)

// Delivery is one notification to queue for an alert.
type Delivery struct {
	Receiver    string
	Body        []byte // nil: receiver's default message
	RuleARN     string
	RemindEvery time.Duration // 0: no reminders
	RemindMax   int           // 0: no reminders
	// NotBefore defers the delivery: it is not claimed before then (a
	// route's time window). Zero: now.
	NotBefore time.Time
	// Digest, when not empty, groups deferred deliveries (one route, one
	// receiver, one window end): Claim takes the due ones together and the
	// outbox sends them as one notification.
	Digest string
}

// Hit is one rule matching one event.
type Hit struct {
	Rule        string        // rule name
	DedupKey    string        // rule.DedupKey(ev): the eventID when the rule has no dedup
	DedupPeriod time.Duration // 0: no folding (each hit is its own alert; Threshold is ignored)
	Threshold   int           // >= 1
	Alert       alert.Alert   // what the alert says (first event's)
	Deliveries  []Delivery
}

// Seen is one ingested event and what it matched (Hits may be empty: the
// event is still recorded as seen).
type Seen struct {
	EventKey  string
	EventTime time.Time
	Hits      []Hit
	// Datapoints are what the event's record gives the metric filters;
	// they count once, with the event.
	Datapoints []alarm.Datapoint
	// Brief is what an alarm notification tells of the event (who, what,
	// from where), kept as long as the event is remembered (see
	// EventBriefs, PruneEvents); nil: none.
	Brief []byte
}

// KeysPerBucket is how many event keys a metric keeps per 10-second
// bucket (the first ones recorded), as alarm.Series does.
const KeysPerBucket = alarm.DefaultKeysPerBucket

// AlarmSnapshot is an alarm's saved state.
type AlarmSnapshot struct {
	Name string
	alarm.Snapshot
}

// RecordResult counts what a Record did.
type RecordResult struct {
	Events     int // events recorded as seen for the first time
	Duplicates int // events seen before, skipped whole
	Alerts     int // alerts created
	Folded     int // hits folded into an existing alert
	Fired      int // alerts that reached their threshold
	Queued     int // deliveries queued
	Datapoints int // datapoints counted
}

// AlertFilter selects alerts. The zero value lists every fired alert.
// Its conditions all apply (AND). Store.Alerts lists in one order, newest
// first: by FirstSeen, latest first, then by ID (ascending, bytewise), as
// many alerts share a FirstSeen. A long list is read a page at a time:
// Limit rows, then the next Limit after the last row shown (After).
type AlertFilter struct {
	State string // one of the State constants; "" any but pending
	Rule  string // "" any
	// Severity is the alerts' severity ("info" ... "critical", as rules
	// name them; letters A-Z match a-z); "" any.
	Severity string
	// Account is the alerts' AWS account (alert.Alert.Account), exactly;
	// "" any.
	Account string
	Since   time.Time // first seen at or after; zero: any
	// After lists only the alerts after it in the list's order: first
	// seen before After.FirstSeen, or at it with an ID after After.ID (an
	// ID without a FirstSeen is an error). Its zero value lists from the
	// newest. Set it to the last row of a page (AlertRow.Cursor) to list
	// the next: paging so neither repeats nor skips an alert that was
	// there when the first page was read.
	After AlertCursor
	Limit int // 0: no limit
}

// AlertCursor is a place in the alerts list (see AlertFilter.After): an
// alert's FirstSeen and ID.
type AlertCursor struct {
	FirstSeen time.Time
	ID        string
}

// Cursor is r's place in the alerts list: AlertFilter{After:
// r.Cursor()} lists the alerts after r.
func (r AlertRow) Cursor() AlertCursor { return AlertCursor{FirstSeen: r.FirstSeen, ID: r.ID} }

// IsZero reports whether c is the zero cursor: the start of the list.
func (c AlertCursor) IsZero() bool { return c.ID == "" && c.FirstSeen.IsZero() }

// String is c in text, for a URL's query (ParseAlertCursor reads it back):
// FirstSeen in Unix nanoseconds, a dot, the ID. The zero cursor is "".
func (c AlertCursor) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.FormatInt(c.FirstSeen.UnixNano(), 10) + "." + c.ID
}

// ParseAlertCursor reads a cursor that AlertCursor.String wrote; "" is
// the zero cursor.
func ParseAlertCursor(s string) (AlertCursor, error) {
	if s == "" {
		return AlertCursor{}, nil
	}
	ns, id, ok := strings.Cut(s, ".")
	if !ok {
		return AlertCursor{}, fmt.Errorf("alert cursor %q: want <unix nanoseconds>.<alert id>", s)
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil || n <= 0 {
		return AlertCursor{}, fmt.Errorf("alert cursor %q: %q is not a time in unix nanoseconds", s, ns)
	}
	return AlertCursor{FirstSeen: time.Unix(0, n).UTC(), ID: id}, nil
}

// AlertRow is an alert with its state.
type AlertRow struct {
	ID         string
	Rule       string
	Severity   string
	DedupKey   string
	Count      int // matching events folded into it
	Threshold  int
	State      string
	FirstSeen  time.Time // by the store's clock
	LastSeen   time.Time
	FirstEvent time.Time // event times (zero when unknown)
	LastEvent  time.Time
	FiredAt    time.Time // zero: below threshold
	NotifiedAt time.Time // first successful delivery; zero: none
	AckedAt    time.Time
	AckedBy    string
	Reminders  int // reminders delivered
	Alert      alert.Alert
	// Deliveries summarises the alert's deliveries, oldest first; their
	// Notification is left zero.
	Deliveries []DeliveryRow
}

// DeliveryRow is one queued notification.
type DeliveryRow struct {
	ID        string
	AlertID   string
	Receiver  string
	Reminder  int // 0: the first notification
	State     string
	Attempts  int
	QueuedAt  time.Time
	DueAt     time.Time // pending: next attempt; running: lease end
	DoneAt    time.Time // done or dead-lettered at
	LastError string
	// Digest is the delivery's digest key ("" none; see Delivery.Digest).
	Digest string
	// RemindEvery and RemindMax are a first notification's reminder
	// policy (0: none); RemindNext is when its next reminder is due (zero:
	// none is, acknowledged or all sent).
	RemindEvery time.Duration
	RemindMax   int
	RemindNext  time.Time
	// Token identifies a claim; Complete, Retry and DeadLetter need it.
	Token string
	// Notification is the stored message (Claim and DeadLetters fill it).
	Notification notify.Notification
	// Log is the delivery's attempts that ended, oldest first, at most
	// the last AttemptLogSize of them (Alert fills it; the others leave it
	// nil). A claim still running has no entry yet. Requeue keeps the log:
	// after it, N starts again at 1.
	Log []Attempt
}

// Attempt outcomes, as Attempt.Outcome reads them.
const (
	// AttemptDelivered: the receiver took it (Complete).
	AttemptDelivered = "delivered"
	// AttemptRetry: it failed and is tried again at NextAt (Retry).
	AttemptRetry = "retry"
	// AttemptDeadLettered: it failed and was given up (DeadLetter).
	AttemptDeadLettered = "dead-lettered"
	// AttemptLeaseExpired: the claim's lease ran out with no outcome
	// recorded (its worker died or stopped mid-attempt) and the delivery
	// was claimed again; the receiver may or may not have taken it.
	AttemptLeaseExpired = "lease expired"
)

// AttemptLogSize bounds a delivery's attempt log: the store keeps the
// last AttemptLogSize attempts and forgets older ones. A delivery retried
// with back-off for a day has a few dozen.
const AttemptLogSize = 50

// Attempt is one attempt of a delivery and how it ended, written with its
// outcome (in the same transaction) by the store's clock. An outcome
// given with a claim no longer held (ErrLeaseLost) is not an attempt
// that counted and is not logged.
type Attempt struct {
	// N is the attempt's number, as DeliveryRow.Attempts counted it when
	// it was claimed: 1 for the first.
	N int
	// At is when it ended: when the outcome was recorded or, for
	// AttemptLeaseExpired, when the lease ran out.
	At time.Time
	// Outcome is AttemptDelivered, AttemptRetry, AttemptDeadLettered or
	// AttemptLeaseExpired.
	Outcome string
	// Error is why it failed (Retry's and DeadLetter's reason); "" for
	// the other outcomes.
	Error string
	// NextAt is when the next attempt is due (AttemptRetry); zero for the
	// other outcomes.
	NextAt time.Time
}

// Store is Trailwatch's durable state.
type Store interface {
	// Record stores a batch in ONE transaction: each event not seen
	// before (by EventKey) is marked seen; each hit creates or folds into
	// an alert (same rule and DedupKey within DedupPeriod of the alert's
	// first event, by the store's clock: count++); when an alert reaches
	// its Threshold, the deliveries of the hit that made it are queued
	// (once). Events seen before are skipped whole. Returns after commit.
	Record(ctx context.Context, batch []Seen) (RecordResult, error)
	// Alerts lists the alerts f selects, newest first (see AlertFilter).
	Alerts(ctx context.Context, f AlertFilter) ([]AlertRow, error)
	// Alert returns one alert, or ErrNotFound. Its deliveries carry their
	// attempt logs (DeliveryRow.Log).
	Alert(ctx context.Context, id string) (AlertRow, error)
	// Ack acknowledges an alert (ErrNotFound); acknowledging again keeps
	// the first acknowledgement. It cancels pending reminders.
	Ack(ctx context.Context, id, by string) error
	// DeadLetters lists dead-lettered deliveries, newest first.
	DeadLetters(ctx context.Context) ([]DeliveryRow, error)
	// Requeue sends a dead-lettered delivery again, as a fresh one
	// (ErrNotFound when no dead letter has that id); its attempt log is
	// kept.
	Requeue(ctx context.Context, deliveryID string) error

	// Claim leases up to max due deliveries (pending ones due by now, and
	// running ones whose lease expired: their worker died) to owner until
	// now+lease, counting an attempt for each. When a claimed delivery
	// has a Digest, the other due deliveries with that Digest are claimed
	// with it, in the same call and under the same token, even beyond max.
	// A running delivery claimed again logs its previous attempt as
	// AttemptLeaseExpired, at its lease's end.
	Claim(ctx context.Context, owner string, max int, lease time.Duration) ([]DeliveryRow, error)
	// Complete records a claimed delivery as delivered: the alert is
	// notified and, for a first notification with reminders, the first
	// reminder is scheduled. ErrLeaseLost when the claim is no longer held.
	// Complete, Retry and DeadLetter log the attempt (Attempt) with its
	// outcome, unless they return ErrLeaseLost.
	Complete(ctx context.Context, id, token string) error
	// Retry releases a claimed delivery to be tried again at at.
	Retry(ctx context.Context, id, token string, at time.Time, reason string) error
	// DeadLetter gives up on a claimed delivery; the alert shows it.
	DeadLetter(ctx context.Context, id, token, reason string) error
	// NextDue returns when the earliest pending delivery is due or the
	// earliest lease ends; ok is false when there is none.
	NextDue(ctx context.Context) (t time.Time, ok bool, err error)

	// QueueReminders queues the reminders due by now for notified,
	// unacknowledged alerts and returns how many it queued. A reminder is
	// skipped (and the next one scheduled) while the previous one is still
	// undelivered.
	QueueReminders(ctx context.Context) (int, error)
	// NextReminder returns when the earliest reminder is due.
	NextReminder(ctx context.Context) (t time.Time, ok bool, err error)

	// PruneEvents forgets events seen before t (redelivery after that is
	// no longer recognised) and returns how many it forgot.
	PruneEvents(ctx context.Context, before time.Time) (int64, error)

	// Datapoints returns the buckets of the metrics (alarm.MetricKey)
	// that start at or after since, by metric, start and unit. Record
	// sums each event's datapoints into them (count, sum, minimum,
	// maximum, each distinct value's count) with the first KeysPerBucket
	// event keys and their values.
	Datapoints(ctx context.Context, metrics []string, since time.Time) ([]alarm.Bucket, error)
	// PruneDatapoints forgets the buckets that start before t and returns
	// how many it forgot.
	PruneDatapoints(ctx context.Context, before time.Time) (int64, error)
	// EventBriefs returns the briefs of the events with those keys (see
	// Seen.Brief); keys without one are absent.
	EventBriefs(ctx context.Context, keys []string) (map[string][]byte, error)

	// SaveAlarms stores the alarms' snapshots (replacing those saved
	// before) and records batch (the alerts and deliveries of their
	// transitions, as Record does) in ONE transaction.
	SaveAlarms(ctx context.Context, snaps []AlarmSnapshot, batch []Seen) (RecordResult, error)
	// AlarmSnapshots returns every saved snapshot, by name.
	AlarmSnapshots(ctx context.Context) ([]AlarmSnapshot, error)

	// Checkpoint returns the value a source saved under key (how far it
	// has read: an S3 key, a log stream token, a time); ok is false when
	// none was saved.
	Checkpoint(ctx context.Context, key string) (value string, ok bool, err error)
	// SetCheckpoint saves value under key, replacing the one before. A
	// source calls it only after the events up to value were recorded.
	SetCheckpoint(ctx context.Context, key, value string) error
	// InitCheckpoint sets key to value unless it is set already, and
	// returns the value it has then: the first writer's, on whichever node
	// (shared secrets such as the ack-link key are made so).
	InitCheckpoint(ctx context.Context, key, value string) (string, error)
	Close() error
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func shortID(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	return idEncoding.EncodeToString(h.Sum(nil)[:12]) // 96 bits, 20 characters
}

// AlertID is an alert's id: short, URL-safe, and derived from what makes
// the alert (rule, dedup key and, for a folding alert, the start of its
// window), so that redelivery cannot create a second one.
func AlertID(rule, dedupKey string, windowStart time.Time, folding bool) string {
	var w []byte
	if folding {
		w = binary.BigEndian.AppendUint64(nil, uint64(windowStart.UnixNano()))
	}
	return shortID([]byte("alert"), []byte(rule), []byte(dedupKey), w)
}

// DeliveryID is the id of the i-th delivery queued for an alert.
func DeliveryID(alertID string, i int, receiver string) string {
	return shortID([]byte("delivery"), []byte(alertID), binary.BigEndian.AppendUint32(nil, uint32(i)), []byte(receiver))
}

// ReminderID is the id of the n-th reminder of a first notification.
func ReminderID(originID string, n int) string {
	return shortID([]byte("reminder"), []byte(originID), binary.BigEndian.AppendUint32(nil, uint32(n)))
}

// NewNotification builds the notification a delivery stores. Its
// idempotency key is its id: the same for every attempt, another for each
// reminder.
func NewNotification(id, alertID string, d Delivery, a alert.Alert, count, reminder int, queued time.Time) notify.Notification {
	return notify.Notification{
		ID:       id,
		Key:      id,
		Thread:   id,
		AlertID:  alertID,
		Receiver: d.Receiver,
		Alert:    a,
		Count:    count,
		Reminder: reminder,
		Body:     d.Body,
		RuleARN:  d.RuleARN,
		Digest:   d.Digest,
		Queued:   queued.UTC(),
	}
}
