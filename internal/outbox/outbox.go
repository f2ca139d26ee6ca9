// Package outbox delivers the notifications the store queued, durably:
// receivers say whether to retry, the outbox says when (exponential
// back-off with jitter, honouring Retry-After), gives up after MaxAge by
// dead-lettering (never dropping), and re-sends reminders for alerts
// nobody acknowledged. Claims are leased, so a delivery whose worker died
// is claimed again once the lease ends: at-least-once. Deliveries of one
// digest (a route's mute window held them for one receiver) that were
// claimed together go out as one notification (notify.Digest), and its
// outcome is every one's.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/store"
)

// Errors.
var (
	ErrNoStore    = errors.New("no store")
	ErrNoNotifier = errors.New("no notifier for receiver")
	ErrMaxAge     = errors.New("maximum age reached")
	ErrStopped    = errors.New("receiver asked to stop retrying")
)

// Options configure an Outbox. Zero values take the defaults.
type Options struct {
	Store     store.Store
	Notifiers map[string]notify.Notifier // by receiver name
	Clock     clock.Clock                // default real
	Logger    *slog.Logger               // default discards
	// MaxAge: a delivery that fails later than this after it was queued is
	// dead-lettered (default 24h, as EventBridge). A delivery is always
	// tried at least once, even when claimed after a long outage.
	MaxAge time.Duration
	// MinBackoff and MaxBackoff bound the exponential back-off (defaults
	// 1s and 5m): attempt n waits between half and all of
	// min(MinBackoff*2^(n-1), MaxBackoff), or what the receiver asked for
	// (Retry-After) if longer.
	MinBackoff, MaxBackoff time.Duration
	// Workers is the number of receiver calls in flight at once (default
	// 64; a worker is free again once the receiver answered, while the
	// outcome commits). It also bounds a claim.
	Workers int
	// Lease is how long a claim holds a delivery before another worker may
	// take it (default 5m). It must exceed Timeout.
	Lease time.Duration
	// Timeout bounds one attempt (default Lease/2, at most 1m).
	Timeout time.Duration
	// PollInterval is the longest the outbox waits before looking at the
	// store again without a Kick (for deliveries queued by other
	// processes); default 5s.
	PollInterval time.Duration
	// Owner names this process in claims; default host-pid-random.
	Owner string
	// AckURL, when set, gives the acknowledgement link put into each
	// notification at send time.
	AckURL func(alertID string) string
	// Metrics, when set, receives the trailwatch_outbox_* metrics.
	Metrics prometheus.Registerer
	// Rand returns jitter in [0, 1); default math/rand/v2.
	Rand func() float64
}

// Outbox delivers queued notifications.
type Outbox struct {
	o     Options
	log   *slog.Logger
	m     *metrics
	kick  chan struct{} // capacity 1: new deliveries or a finished one
	rkick chan struct{} // capacity 1: a delivery completed (reminders may be due)

	// idle, for tests, is called when the dispatcher waits with nothing in
	// flight, with the time it will next look at the store.
	idle func(next time.Time)
	// ridle, for tests, is called when the reminder loop waits.
	ridle func(next time.Time)
}

// New checks the options and fills the defaults.
func New(o Options) (*Outbox, error) {
	if o.Store == nil {
		return nil, fmt.Errorf("outbox: %w", ErrNoStore)
	}
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 24 * time.Hour
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.MaxBackoff < o.MinBackoff {
		return nil, fmt.Errorf("outbox: max backoff %s is less than min backoff %s", o.MaxBackoff, o.MinBackoff)
	}
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.Lease <= 0 {
		o.Lease = 5 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = min(o.Lease/2, time.Minute)
	}
	if o.Timeout >= o.Lease {
		return nil, fmt.Errorf("outbox: timeout %s must be less than the lease %s", o.Timeout, o.Lease)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		rand.Read(b[:])
		o.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if o.Rand == nil {
		o.Rand = mrand.Float64
	}
	m, err := newMetrics(o.Metrics)
	if err != nil {
		return nil, fmt.Errorf("outbox metrics: %w", err)
	}
	return &Outbox{
		o:     o,
		log:   o.Logger.With("owner", o.Owner),
		m:     m,
		kick:  make(chan struct{}, 1),
		rkick: make(chan struct{}, 1),
	}, nil
}

// Kick tells the outbox that new deliveries were recorded: it looks at
// once instead of at its next wake-up.
func (o *Outbox) Kick() { signal(o.kick) }

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Backoff is the wait before attempt n+1 after n failed attempts: the
// exponential base min(lo*2^(n-1), hi), jittered by r in [0, 1) to between
// half and all of it.
func Backoff(n int, lo, hi time.Duration, r float64) time.Duration {
	base := lo
	for i := 1; i < n && base < hi; i++ {
		base *= 2
	}
	base = min(base, hi)
	r = min(max(r, 0), 1)
	return base/2 + time.Duration(float64(base/2)*r)
}

// Run delivers until ctx ends: it claims due deliveries (up to Workers in
// flight), wakes when the next one is due, at once after Kick, and at
// least every PollInterval. Deliveries in flight when ctx ends are left
// claimed: their lease runs out and they are sent again (at-least-once).
// It returns nil when ctx ends.
func (o *Outbox) Run(ctx context.Context) error {
	var (
		wg sync.WaitGroup
		// A token per delivery in flight: taken at the claim, given back
		// when the receiver has answered, so that a worker does not wait
		// for the outcome's commit before taking the next delivery.
		slot = make(chan struct{}, o.o.Workers)
		busy atomic.Int64             // deliveries whose outcome is not recorded yet
		done = make(chan struct{}, 1) // a worker is free or an outcome recorded
	)
	defer wg.Wait()
	// due: deliveries may be due now (the last claim took all it could, or
	// a kick or the timer came since). When it is false, a delivery
	// finishing frees a worker without a claim: the last one found nothing
	// more, and anything due later wakes the timer.
	due := true
	for {
		if ctx.Err() != nil {
			return nil
		}
		free := o.o.Workers - len(slot)
		claimed := 0
		failed := false
		if free > 0 && due {
			ds, err := o.o.Store.Claim(ctx, o.o.Owner, free, o.o.Lease)
			if err != nil && ctx.Err() == nil {
				o.log.Error("outbox claim", "err", err)
				failed = true
			}
			// A digest's deliveries come together, beyond free if need be;
			// each batch takes one worker.
			claimed = len(ds)
			due = claimed >= free || failed
			for _, b := range batches(ds) {
				slot <- struct{}{}
				o.m.inflight.Inc()
				busy.Add(1)
				wg.Go(func() {
					var once sync.Once
					answered := func() {
						once.Do(func() {
							<-slot
							o.m.inflight.Dec()
							signal(done)
						})
					}
					defer func() {
						answered()
						busy.Add(-1)
						signal(done)
					}()
					o.deliver(ctx, b, answered)
				})
			}
			if claimed >= free {
				continue // there may be more
			}
		}
		next := o.o.Clock.Now().Add(o.o.PollInterval)
		if at, ok, err := o.o.Store.NextDue(ctx); err != nil {
			if ctx.Err() == nil {
				o.log.Error("outbox next due", "err", err)
			}
		} else if ok && at.Before(next) {
			next = at
		}
		if failed {
			next = o.o.Clock.Now().Add(o.o.MinBackoff) // no busy loop on a failing store
		}
		timer := o.o.Clock.NewTimer(next.Sub(o.o.Clock.Now()))
		if busy.Load() == 0 && o.idle != nil {
			o.idle(next)
		}
		select {
		case <-ctx.Done():
		case <-o.kick:
			due = true
		case <-done:
		case <-timer.C():
			due = true
		}
		timer.Stop()
	}
}

// Drain delivers every delivery due now, waits for them, and returns how
// many it attempted (a digest counts its deliveries). It is Run without waiting, for tests and one-shot
// commands.
func (o *Outbox) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		ds, err := o.o.Store.Claim(ctx, o.o.Owner, o.o.Workers, o.o.Lease)
		if err != nil {
			return total, fmt.Errorf("outbox drain: %w", err)
		}
		if len(ds) == 0 {
			return total, nil
		}
		var wg sync.WaitGroup
		for _, b := range batches(ds) {
			wg.Go(func() { o.deliver(ctx, b, func() {}) })
		}
		wg.Wait()
		total += len(ds)
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// batches groups claimed deliveries into what one receiver call sends:
// the deliveries of one digest together (oldest first), every other
// delivery alone; in the order claimed.
func batches(ds []store.DeliveryRow) [][]store.DeliveryRow {
	var out [][]store.DeliveryRow
	at := map[string]int{}
	for _, d := range ds {
		if d.Digest == "" || d.Reminder > 0 {
			out = append(out, []store.DeliveryRow{d})
			continue
		}
		k := d.Receiver + "\x00" + d.Digest
		if i, ok := at[k]; ok {
			out[i] = append(out[i], d)
			continue
		}
		at[k] = len(out)
		out = append(out, []store.DeliveryRow{d})
	}
	for _, b := range out {
		slices.SortFunc(b, func(x, y store.DeliveryRow) int {
			if c := x.QueuedAt.Compare(y.QueuedAt); c != 0 {
				return c
			}
			return strings.Compare(x.ID, y.ID)
		})
	}
	return out
}

// deliver makes one attempt of a batch of claimed deliveries (one, or a
// digest's) and records its outcome for each. It calls answered once the
// receiver has answered, before the outcome is recorded.
func (o *Outbox) deliver(ctx context.Context, b []store.DeliveryRow, answered func()) {
	d := b[0]
	log := o.log.With("delivery", d.ID, "alert", d.AlertID, "receiver", d.Receiver, "attempt", d.Attempts)
	var n notify.Notification
	if len(b) == 1 {
		n = d.Notification
		if o.o.AckURL != nil {
			n.AckURL = o.o.AckURL(n.AlertID)
		}
	} else {
		ns := make([]*notify.Notification, len(b))
		for i := range b {
			ns[i] = &b[i].Notification
		}
		n = *notify.Digest(ns)
		log = log.With("digest", d.Digest, "deliveries", len(b))
	}
	// The outcome is recorded even if ctx ends meanwhile: a sent message
	// must not be sent again for want of a bookkeeping write.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.o.Timeout)
	defer cancel()

	nt, ok := o.o.Notifiers[d.Receiver]
	if !ok {
		answered()
		o.deadLetter(bctx, log, b, fmt.Errorf("outbox: %w %q", ErrNoNotifier, d.Receiver))
		return
	}
	start := time.Now()
	actx, acancel := context.WithTimeout(ctx, o.o.Timeout)
	retry, err := nt.Notify(actx, &n)
	acancel()
	answered()
	o.m.duration.WithLabelValues(d.Receiver).Observe(time.Since(start).Seconds())
	if err == nil {
		for _, d := range b {
			if err := o.o.Store.Complete(bctx, d.ID, d.Token); err != nil {
				o.m.result(d.Receiver, "lost")
				log.Warn("outbox complete", "id", d.ID, "err", err)
				continue
			}
			o.m.result(d.Receiver, "sent")
		}
		log.Debug("delivered", "reminder", d.Reminder)
		signal(o.rkick)
		return
	}
	if ctx.Err() != nil {
		// Shutting down (or crashing) mid-attempt: leave the claim; it is
		// retried once the lease ends.
		log.Info("outbox stopped during delivery; it will be retried after the lease", "err", err)
		return
	}
	if !retry {
		o.deadLetter(bctx, log, b, err)
		return
	}
	// A batch waits as its most tried delivery would, and ages as its
	// oldest.
	attempts, queued := d.Attempts, d.QueuedAt
	for _, d := range b[1:] {
		attempts = max(attempts, d.Attempts)
		if d.QueuedAt.Before(queued) {
			queued = d.QueuedAt
		}
	}
	wait := Backoff(attempts, o.o.MinBackoff, o.o.MaxBackoff, o.o.Rand())
	if ra, ok := notify.RetryAfter(err); ok {
		if ra < 0 {
			o.deadLetter(bctx, log, b, fmt.Errorf("%w: %w", ErrStopped, err))
			return
		}
		wait = max(wait, ra)
	}
	now := o.o.Clock.Now()
	next := now.Add(wait)
	if next.Sub(queued) > o.o.MaxAge {
		o.deadLetter(bctx, log, b, fmt.Errorf("%w (%s) after %d attempts: %w", ErrMaxAge, o.o.MaxAge, attempts, err))
		return
	}
	retried := 0
	for _, d := range b {
		if err := o.o.Store.Retry(bctx, d.ID, d.Token, next, err.Error()); err != nil {
			o.m.result(d.Receiver, "lost")
			log.Warn("outbox retry", "id", d.ID, "err", err)
			continue
		}
		o.m.result(d.Receiver, "retry")
		retried++
	}
	if retried > 0 {
		log.Info("delivery failed; will retry", "err", err, "wait", wait)
	}
}

func (o *Outbox) deadLetter(ctx context.Context, log *slog.Logger, b []store.DeliveryRow, cause error) {
	dead := 0
	for _, d := range b {
		if err := o.o.Store.DeadLetter(ctx, d.ID, d.Token, cause.Error()); err != nil {
			o.m.result(d.Receiver, "lost")
			log.Warn("outbox dead letter", "id", d.ID, "err", err)
			continue
		}
		o.m.result(d.Receiver, "dead")
		dead++
	}
	if dead > 0 {
		log.Error("delivery dead-lettered", "err", cause)
	}
}

// RunReminders queues reminders for notified, unacknowledged alerts when
// they are due (every RemindEvery, at most RemindMax, until acknowledged)
// and kicks the delivery loop, until ctx ends. Run it on one node only
// (the leader); it returns nil when ctx ends.
func (o *Outbox) RunReminders(ctx context.Context) error {
	// queue: look for due reminders on this pass (the first, and each time
	// the timer fires). A completed delivery only schedules its first
	// reminder later than now, so its kick just shortens the wait.
	queue := true
	for {
		if queue {
			n, err := o.o.Store.QueueReminders(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				o.log.Error("outbox reminders", "err", err)
			}
			if n > 0 {
				o.m.reminders.Add(float64(n))
				o.log.Info("reminders queued", "count", n)
				o.Kick()
			}
		}
		next := o.o.Clock.Now().Add(o.o.PollInterval)
		if at, ok, err := o.o.Store.NextReminder(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			o.log.Error("outbox next reminder", "err", err)
		} else if ok && at.Before(next) {
			next = at
		}
		timer := o.o.Clock.NewTimer(next.Sub(o.o.Clock.Now()))
		if o.ridle != nil {
			o.ridle(next)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-o.rkick:
			queue = false
		case <-timer.C():
			queue = true
		}
		timer.Stop()
	}
}

type metrics struct {
	deliveries *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	reminders  prometheus.Counter
	inflight   prometheus.Gauge
}

func (m *metrics) result(receiver, result string) {
	m.deliveries.WithLabelValues(receiver, result).Inc()
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_outbox_deliveries_total",
			Help: "Delivery attempts by receiver and result (sent, retry, dead, lost: the claim had expired).",
		}, []string{"receiver", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trailwatch_outbox_delivery_duration_seconds",
			Help:    "Time a receiver took to answer one delivery attempt.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}, []string{"receiver"}),
		reminders: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_outbox_reminders_total",
			Help: "Reminders queued for unacknowledged alerts.",
		}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trailwatch_outbox_deliveries_in_flight",
			Help: "Deliveries being attempted now.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.deliveries, m.duration, m.reminders, m.inflight} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
