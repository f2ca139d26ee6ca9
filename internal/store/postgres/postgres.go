// Package postgres is the store on PostgreSQL, through pgx: several
// Trailwatch nodes (processes, machines) share one database. It keeps the
// SQLite store's semantics (store/storetest proves both) with
// PostgreSQL's own means of concurrency instead of one writer:
//   - Record runs each batch in one transaction of its own; an event is
//     taken once by INSERT ... ON CONFLICT DO NOTHING on its key (a node
//     that loses the race skips it whole), folding alerts of one rule and
//     dedup key are serialised by a transaction-scoped advisory lock, and
//     datapoints are summed by upserts (count and sum added, LEAST and
//     GREATEST for the minimum and maximum);
//   - Claim takes due deliveries with FOR UPDATE SKIP LOCKED, so claimers
//     on several nodes never wait for or take each other's;
//   - rows are locked in a consistent order (event keys sorted, advisory
//     locks sorted, buckets sorted) and a transaction that still meets a
//     deadlock or serialization failure is retried whole.
//
// Open creates or migrates the schema under an advisory lock, so nodes
// may start together.
package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/store"
)

// Options configure a Store.
type Options struct {
	// Clock decides dedup windows, queue times and leases; default real.
	// Nodes sharing a database should agree on the time (NTP).
	Clock clock.Clock
	// Logger; default discards.
	Logger *slog.Logger
}

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	pool  *pgxpool.Pool
	clock clock.Clock
	log   *slog.Logger
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string, as libpq takes; pool_max_conns and the other pgxpool
// parameters apply) and creates or migrates its schema.
func Open(ctx context.Context, url string, o Options) (*Store, error) {
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres open: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres open: %w", err)
	}
	s := &Store{pool: pool, clock: o.Clock, log: o.Logger}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Pool is the store's connection pool, for what runs beside the store on
// the same database (the leader lease takes its connection settings).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool's connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// maxAttempts bounds the retries of a transaction that failed on a
// deadlock or a serialization failure.
const maxAttempts = 8

// inTx runs fn in a transaction and commits it, retrying the whole
// transaction (fn starts its outcome afresh each time) when PostgreSQL
// aborted it for a deadlock, a serialization failure or a clash of attempt
// log entries (see logAttempts).
func (s *Store) inTx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, s.pool, opts, fn)
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return err
		}
		s.log.Debug("transaction retried", "attempt", attempt, "err", err)
	}
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001" ||
		pe.Code == "23505" && pe.ConstraintName == "delivery_attempts_pkey")
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n *int64) time.Time {
	if n == nil || *n == 0 {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

func eventNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func ptr(n int64) *int64 { return &n }

// Record implements store.Store: one transaction per batch.
func (s *Store) Record(ctx context.Context, batch []store.Seen) (store.RecordResult, error) {
	for i := range batch {
		if batch[i].EventKey == "" {
			return store.RecordResult{}, fmt.Errorf("store record: event %d: %w", i, store.ErrNoEventKey)
		}
	}
	var res store.RecordResult
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		res = store.RecordResult{}
		return s.record(ctx, tx, s.clock.Now(), batch, &res)
	})
	if err != nil {
		return store.RecordResult{}, fmt.Errorf("store record: %w", err)
	}
	return res, nil
}

// record records a batch in tx.
func (s *Store) record(ctx context.Context, tx pgx.Tx, now time.Time, batch []store.Seen, res *store.RecordResult) error {
	if len(batch) == 0 {
		return nil
	}
	// The batch's distinct keys, inserted in one statement in key order
	// (concurrent batches that share keys wait for each other in the same
	// order: no deadlock); RETURNING names those seen for the first time.
	first := make(map[string]int, len(batch))
	keys := make([][]byte, 0, len(batch))
	briefs := make([][]byte, 0, len(batch))
	for i := range batch {
		k := batch[i].EventKey
		if _, ok := first[k]; ok {
			continue
		}
		first[k] = i
		keys = append(keys, []byte(k))
		briefs = append(briefs, batch[i].Brief)
	}
	rows, err := tx.Query(ctx, `INSERT INTO events (key, seen_at, brief)
		SELECT k, $3, b FROM unnest($1::bytea[], $2::bytea[]) AS u(k, b) ORDER BY k
		ON CONFLICT DO NOTHING RETURNING key`, keys, briefs, nanos(now))
	if err != nil {
		return err
	}
	fresh := make(map[string]bool, len(keys))
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		fresh[string(k)] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	isNew := func(i int) bool { return fresh[batch[i].EventKey] && first[batch[i].EventKey] == i }

	// Folding alerts: one transaction at a time per rule and dedup key
	// (finding the open window and creating one must not race), locks
	// taken in order.
	var locks []int64
	for i := range batch {
		if !isNew(i) {
			continue
		}
		for _, h := range batch[i].Hits {
			if h.DedupPeriod > 0 {
				locks = append(locks, foldLock(h.Rule, h.DedupKey))
			}
		}
	}
	if len(locks) > 0 {
		slices.Sort(locks)
		locks = slices.Compact(locks)
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k`, locks); err != nil {
			return err
		}
	}

	// Alerts that do not fold (most): inserted in one statement, in id
	// order; those that already existed (the same rule and key twice)
	// fold one by one below.
	created, err := insertPlainAlerts(ctx, tx, now, batch, isNew)
	if err != nil {
		return err
	}
	var (
		sums store.BucketSums
		ds   deliveryRows
	)
	for i := range batch {
		ev := &batch[i]
		if !isNew(i) {
			res.Duplicates++
			continue
		}
		res.Events++
		for j := range ev.Hits {
			h := &ev.Hits[j]
			if h.DedupPeriod <= 0 {
				id := store.AlertID(h.Rule, h.DedupKey, now, false)
				if created[id] {
					delete(created, id) // a second hit on it folds
					res.Alerts++
					if err := ds.fire(now, id, h.Alert, 1, h.Deliveries, res); err != nil {
						return err
					}
					continue
				}
				if err := s.fold(ctx, tx, now, id, eventNanos(ev.EventTime), h, &ds, res); err != nil {
					return err
				}
				continue
			}
			if err := s.recordHit(ctx, tx, now, ev, h, &ds, res); err != nil {
				return err
			}
		}
		for j := range ev.Datapoints {
			if err := sums.Add(&ev.Datapoints[j]); err != nil {
				return fmt.Errorf("event %s: %w", ev.EventKey, err)
			}
			res.Datapoints++
		}
	}
	if err := ds.insert(ctx, tx, res); err != nil {
		return err
	}
	return writeSums(ctx, tx, &sums)
}

// insertPlainAlerts inserts the alerts of the new events' hits that do
// not fold, fired at once, and returns the ids it created.
func insertPlainAlerts(ctx context.Context, tx pgx.Tx, now time.Time, batch []store.Seen, isNew func(int) bool) (map[string]bool, error) {
	type row struct {
		id, rule, severity, account string
		dedup, alert                []byte
		event                       int64
	}
	var rs []row
	seen := map[string]bool{}
	for i := range batch {
		if !isNew(i) {
			continue
		}
		for j := range batch[i].Hits {
			h := &batch[i].Hits[j]
			if h.DedupPeriod > 0 {
				continue
			}
			id := store.AlertID(h.Rule, h.DedupKey, now, false)
			if seen[id] {
				continue
			}
			seen[id] = true
			aj, err := json.Marshal(h.Alert)
			if err != nil {
				return nil, fmt.Errorf("alert %s: %w", id, err)
			}
			rs = append(rs, row{id, h.Rule, h.Alert.Severity, h.Alert.Account, []byte(h.DedupKey), aj, eventNanos(batch[i].EventTime)})
		}
	}
	created := make(map[string]bool, len(rs))
	if len(rs) == 0 {
		return created, nil
	}
	slices.SortFunc(rs, func(a, b row) int { return strings.Compare(a.id, b.id) })
	var (
		ids, rules, sevs, accts []string
		dedups, alerts          [][]byte
		events                  []int64
	)
	for _, r := range rs {
		ids, rules, sevs, accts = append(ids, r.id), append(rules, r.rule), append(sevs, r.severity), append(accts, r.account)
		dedups, alerts, events = append(dedups, r.dedup), append(alerts, r.alert), append(events, r.event)
	}
	rows, err := tx.Query(ctx, `INSERT INTO alerts
		(id, rule, severity, dedup_key, threshold, count, first_seen, last_seen, window_end, first_event, last_event, fired_at, alert, account)
		SELECT id, rule, sev, dk, 1, 1, $7, $7, NULL, ev, ev, $7, aj, acct
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bigint[], $6::bytea[], $8::text[]) AS u(id, rule, sev, dk, ev, aj, acct)
		ORDER BY id ON CONFLICT (id) DO NOTHING RETURNING id`, ids, rules, sevs, dedups, events, alerts, nanos(now), accts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		created[id] = true
	}
	return created, rows.Err()
}

// deliveryRows are the deliveries a batch queues, inserted together at
// its end.
type deliveryRows struct {
	ids, alertIDs, receivers, digests []string
	notifications                     [][]byte
	due, every                        []int64
	most                              []int32
	now                               int64
}

// fire queues the deliveries of an alert that reached its threshold.
func (r *deliveryRows) fire(now time.Time, id string, a alert.Alert, count int, ds []store.Delivery, res *store.RecordResult) error {
	res.Fired++
	r.now = nanos(now)
	for i, d := range ds {
		did := store.DeliveryID(id, i, d.Receiver)
		n := store.NewNotification(did, id, d, a, count, 0, now)
		nj, err := json.Marshal(&n)
		if err != nil {
			return fmt.Errorf("delivery %s: %w", did, err)
		}
		every, most := int64(d.RemindEvery), d.RemindMax
		if every <= 0 || most <= 0 {
			every, most = 0, 0
		}
		due := now
		if d.NotBefore.After(now) {
			due = d.NotBefore
		}
		r.ids, r.alertIDs, r.receivers, r.digests = append(r.ids, did), append(r.alertIDs, id), append(r.receivers, d.Receiver), append(r.digests, d.Digest)
		r.notifications, r.due, r.every, r.most = append(r.notifications, nj), append(r.due, nanos(due)), append(r.every, every), append(r.most, int32(most))
	}
	return nil
}

// insert writes the deliveries in one statement, counting those queued
// (a delivery id already there is not queued again).
func (r *deliveryRows) insert(ctx context.Context, tx pgx.Tx, res *store.RecordResult) error {
	if len(r.ids) == 0 {
		return nil
	}
	tag, err := tx.Exec(ctx, `INSERT INTO deliveries
		(id, alert_id, receiver, reminder, origin, state, notification, queued_at, due_at, remind_every, remind_max, digest)
		SELECT id, aid, rcv, 0, id, 'pending', n, $9, due, ev, mx, dg
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bigint[], $6::bigint[], $7::int[], $8::text[])
			AS u(id, aid, rcv, n, due, ev, mx, dg)
		ORDER BY id ON CONFLICT (id) DO NOTHING`,
		r.ids, r.alertIDs, r.receivers, r.notifications, r.due, r.every, r.most, r.digests, r.now)
	if err != nil {
		return err
	}
	res.Queued += int(tag.RowsAffected())
	return nil
}

// foldLock is the advisory lock key of a folding alert's rule and dedup
// key.
func foldLock(rule, dedupKey string) int64 {
	h := fnv.New64a()
	h.Write([]byte("fold\x00"))
	h.Write([]byte(rule))
	h.Write([]byte{0})
	h.Write([]byte(dedupKey))
	return int64(h.Sum64())
}

const (
	sqlFindFold = `SELECT id FROM alerts
		WHERE rule = $1 AND dedup_key = $2 AND window_end IS NOT NULL AND window_end > $3
		ORDER BY first_seen DESC LIMIT 1`
	sqlInsAlert = `INSERT INTO alerts
		(id, rule, severity, dedup_key, threshold, count, first_seen, last_seen, window_end, first_event, last_event, fired_at, alert, account)
		VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING`
	sqlFoldAlert = `UPDATE alerts SET count = count + 1, last_seen = $1::bigint,
		last_event = GREATEST(last_event, $2::bigint),
		first_event = CASE WHEN first_event = 0 OR ($2::bigint <> 0 AND $2::bigint < first_event) THEN $2::bigint ELSE first_event END,
		fired_at = CASE WHEN fired_at IS NULL AND count + 1 >= threshold THEN $1::bigint ELSE fired_at END
		WHERE id = $3 RETURNING count, threshold, COALESCE(fired_at = $1::bigint AND count = threshold, false), alert`
)

func (s *Store) recordHit(ctx context.Context, tx pgx.Tx, now time.Time, ev *store.Seen, h *store.Hit, ds *deliveryRows, res *store.RecordResult) error {
	folding := h.DedupPeriod > 0
	threshold := max(h.Threshold, 1)
	if !folding {
		threshold = 1
	}
	et := eventNanos(ev.EventTime)
	if folding {
		var id string
		err := tx.QueryRow(ctx, sqlFindFold, h.Rule, []byte(h.DedupKey), nanos(now)).Scan(&id)
		switch {
		case err == nil:
			return s.fold(ctx, tx, now, id, et, h, ds, res)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
	}
	id := store.AlertID(h.Rule, h.DedupKey, now, folding)
	aj, err := json.Marshal(h.Alert)
	if err != nil {
		return fmt.Errorf("alert %s: %w", id, err)
	}
	var windowEnd, fired *int64
	if folding {
		windowEnd = ptr(nanos(now.Add(h.DedupPeriod)))
	}
	if threshold <= 1 {
		fired = ptr(nanos(now))
	}
	tag, err := tx.Exec(ctx, sqlInsAlert,
		id, h.Rule, h.Alert.Severity, []byte(h.DedupKey), threshold, nanos(now), nanos(now), windowEnd, et, et, fired, aj, h.Alert.Account)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		// The same rule matched the same key twice at one instant (a rule
		// listed twice, say): one alert.
		return s.fold(ctx, tx, now, id, et, h, ds, res)
	}
	res.Alerts++
	if fired != nil {
		return ds.fire(now, id, h.Alert, 1, h.Deliveries, res)
	}
	return nil
}

func (s *Store) fold(ctx context.Context, tx pgx.Tx, now time.Time, id string, et int64, h *store.Hit, ds *deliveryRows, res *store.RecordResult) error {
	var (
		count, threshold int
		firedNow         bool
		aj               []byte
	)
	if err := tx.QueryRow(ctx, sqlFoldAlert, nanos(now), et, id).Scan(&count, &threshold, &firedNow, &aj); err != nil {
		return err
	}
	res.Folded++
	if !firedNow {
		return nil
	}
	var a alert.Alert
	if err := json.Unmarshal(aj, &a); err != nil {
		return fmt.Errorf("alert %s: %w", id, err)
	}
	return ds.fire(now, id, a, count, h.Deliveries, res)
}

// writeSums upserts the batch's buckets and value counts, two statements
// whatever their number, in key order (concurrent batches on the same
// buckets lock them in the same order).
func writeSums(ctx context.Context, tx pgx.Tx, m *store.BucketSums) error {
	if len(m.Order) == 0 {
		return nil
	}
	order := slices.Clone(m.Order)
	slices.SortFunc(order, store.BucketKey.Compare)
	var (
		units, nss, names, dims, keys []string
		metrics, vMetrics             [][]byte
		buckets, counts               []int64
		sums, mins, maxs              []float64
		nkeys                         []int32
		vUnits                        []string
		vBuckets, vNs                 []int64
		vValues                       []float64
	)
	var kb []byte
	for _, k := range order {
		b := m.By[k]
		dj := []byte("{}")
		if b.First.Dimensions != nil {
			var err error
			if dj, err = json.Marshal(b.First.Dimensions); err != nil {
				return err
			}
		}
		kb = kb[:0]
		for _, e := range b.Keys {
			kb = store.AppendBucketKey(kb, e)
		}
		metrics, buckets, units = append(metrics, []byte(k.Metric)), append(buckets, k.Bucket), append(units, k.Unit)
		nss, names, dims = append(nss, b.First.Namespace), append(names, b.First.Metric), append(dims, string(dj))
		counts, sums, mins, maxs = append(counts, b.Count), append(sums, b.Sum), append(mins, b.Min), append(maxs, b.Max)
		nkeys, keys = append(nkeys, int32(len(b.Keys))), append(keys, string(kb))
		vals := slices.Clone(b.ValueOrder)
		slices.Sort(vals)
		for _, v := range vals {
			vMetrics, vBuckets, vUnits = append(vMetrics, []byte(k.Metric)), append(vBuckets, k.Bucket), append(vUnits, k.Unit)
			vValues, vNs = append(vValues, v), append(vNs, b.Values[v])
		}
	}
	// A bucket's event keys are appended while it holds fewer than
	// KeysPerBucket (a batch appends at most that many: readers keep the
	// first ones).
	if _, err := tx.Exec(ctx, `INSERT INTO metric_buckets AS m
		(metric, bucket, unit, namespace, name, dimensions, count, sum, min, max, nkeys, keys)
		SELECT * FROM unnest($1::bytea[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::bigint[], $8::float8[], $9::float8[], $10::float8[], $11::int[], $12::text[])
		ON CONFLICT (metric, bucket, unit) DO UPDATE SET count = m.count + excluded.count,
			sum = m.sum + excluded.sum, min = LEAST(m.min, excluded.min), max = GREATEST(m.max, excluded.max),
			keys = CASE WHEN m.nkeys >= $13 THEN m.keys ELSE m.keys || excluded.keys END,
			nkeys = CASE WHEN m.nkeys >= $13 THEN m.nkeys ELSE m.nkeys + excluded.nkeys END`,
		metrics, buckets, units, nss, names, dims, counts, sums, mins, maxs, nkeys, keys, store.KeysPerBucket); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO metric_values AS v (metric, bucket, unit, value, n)
		SELECT * FROM unnest($1::bytea[], $2::bigint[], $3::text[], $4::float8[], $5::bigint[])
		ON CONFLICT (metric, bucket, unit, value) DO UPDATE SET n = v.n + excluded.n`,
		vMetrics, vBuckets, vUnits, vValues, vNs)
	return err
}

// stateExpr is an alert's state (store.AlertRow.State), as the index
// alerts_state has it (the query's expression must be the index's).
const stateExpr = `(` + alertState + `)`

const alertColumns = `a.id, a.rule, a.severity, a.dedup_key, a.count, a.threshold, ` + stateExpr + `,
	a.first_seen, a.last_seen, a.first_event, a.last_event, a.fired_at, a.notified_at, a.acked_at,
	a.acked_by, a.reminders, a.alert`

func scanAlert(sc pgx.Row) (store.AlertRow, error) {
	var (
		r                                        store.AlertRow
		fs, ls, fe, le, fired, notified, ackedAt *int64
		aj, dk                                   []byte
	)
	if err := sc.Scan(&r.ID, &r.Rule, &r.Severity, &dk, &r.Count, &r.Threshold, &r.State,
		&fs, &ls, &fe, &le, &fired, &notified, &ackedAt, &r.AckedBy, &r.Reminders, &aj); err != nil {
		return r, err
	}
	r.DedupKey = string(dk)
	r.FirstSeen, r.LastSeen = fromNanos(fs), fromNanos(ls)
	r.FirstEvent, r.LastEvent = fromNanos(fe), fromNanos(le)
	r.FiredAt, r.NotifiedAt, r.AckedAt = fromNanos(fired), fromNanos(notified), fromNanos(ackedAt)
	if err := json.Unmarshal(aj, &r.Alert); err != nil {
		return r, fmt.Errorf("alert %s: %w", r.ID, err)
	}
	return r, nil
}

// Alerts implements store.Store.
func (s *Store) Alerts(ctx context.Context, f store.AlertFilter) ([]store.AlertRow, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	switch f.State {
	case "":
		where = append(where, "a.fired_at IS NOT NULL")
	case store.StatePending, store.StateNew, store.StateNotified, store.StateAcked, store.StateDeadLettered:
		where = append(where, stateExpr+" = "+arg(f.State))
	default:
		return nil, fmt.Errorf("store alerts: unknown state %q", f.State)
	}
	if f.Rule != "" {
		where = append(where, "a.rule = "+arg(f.Rule))
	}
	if f.Severity != "" {
		where = append(where, "lower(a.severity) = lower("+arg(f.Severity)+")") // as alerts_severity
	}
	if f.Account != "" {
		where = append(where, "a.account = "+arg(f.Account))
	}
	if !f.Since.IsZero() {
		where = append(where, "a.first_seen >= "+arg(nanos(f.Since)))
	}
	if c := f.After; !c.IsZero() {
		if c.FirstSeen.IsZero() {
			return nil, fmt.Errorf("store alerts: cursor after alert %q has no first-seen time", c.ID)
		}
		// The rows after c in the list's order; first_seen <= bounds the
		// index's range, the rest picks within it.
		at, id := arg(nanos(c.FirstSeen)), arg(c.ID)
		where = append(where, "a.first_seen <= "+at+" AND (a.first_seen < "+at+" OR a.id > "+id+")")
	}
	q := "SELECT " + alertColumns + " FROM alerts a WHERE " + strings.Join(where, " AND ") + " ORDER BY a.first_seen DESC, a.id"
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store alerts: %w", err)
	}
	defer rows.Close()
	var out []store.AlertRow
	for rows.Next() {
		r, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("store alerts: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store alerts: %w", err)
	}
	if err := summarise(ctx, s.pool, out); err != nil {
		return nil, fmt.Errorf("store alerts: %w", err)
	}
	return out, nil
}

// querier is what reads query: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// summarise fills the alerts' Deliveries.
func summarise(ctx context.Context, q querier, as []store.AlertRow) error {
	if len(as) == 0 {
		return nil
	}
	idx := make(map[string]int, len(as))
	ids := make([]string, len(as))
	for i := range as {
		idx[as[i].ID] = i
		ids[i] = as[i].ID
	}
	rows, err := q.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE alert_id = ANY($1::text[]) ORDER BY queued_at, reminder, id`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDelivery(rows, false)
		if err != nil {
			return err
		}
		a := &as[idx[d.AlertID]]
		a.Deliveries = append(a.Deliveries, d)
	}
	return rows.Err()
}

const deliveryColumns = `id, alert_id, receiver, reminder, state, attempts, queued_at, due_at, done_at, last_error, token, digest, remind_every, remind_max, remind_next, notification`

func scanDelivery(sc pgx.Row, withNotification bool) (store.DeliveryRow, error) {
	var (
		d                   store.DeliveryRow
		queued, due, doneAt *int64
		remindNext          *int64
		remindEvery         int64
		nj                  []byte
	)
	if err := sc.Scan(&d.ID, &d.AlertID, &d.Receiver, &d.Reminder, &d.State, &d.Attempts,
		&queued, &due, &doneAt, &d.LastError, &d.Token, &d.Digest, &remindEvery, &d.RemindMax, &remindNext, &nj); err != nil {
		return d, err
	}
	d.QueuedAt, d.DueAt, d.DoneAt = fromNanos(queued), fromNanos(due), fromNanos(doneAt)
	d.RemindEvery, d.RemindNext = time.Duration(remindEvery), fromNanos(remindNext)
	if withNotification {
		if err := json.Unmarshal(nj, &d.Notification); err != nil {
			return d, fmt.Errorf("delivery %s: %w", d.ID, err)
		}
	}
	return d, nil
}

// Alert implements store.Store. The alert, its deliveries and their
// attempt logs are read from one snapshot: they agree.
func (s *Store) Alert(ctx context.Context, id string) (store.AlertRow, error) {
	var r store.AlertRow
	found := false
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		r, err = scanAlert(tx.QueryRow(ctx, "SELECT "+alertColumns+" FROM alerts a WHERE a.id = $1", id))
		found = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		as := []store.AlertRow{r}
		if err := summarise(ctx, tx, as); err != nil {
			return err
		}
		if err := attemptLogs(ctx, tx, &as[0]); err != nil {
			return err
		}
		r = as[0]
		return nil
	})
	if err != nil {
		return store.AlertRow{}, fmt.Errorf("store alert %s: %w", id, err)
	}
	if !found {
		return store.AlertRow{}, fmt.Errorf("store alert %s: %w", id, store.ErrNotFound)
	}
	return r, nil
}

// attemptLogs fills the Log of a's deliveries.
func attemptLogs(ctx context.Context, q querier, a *store.AlertRow) error {
	if len(a.Deliveries) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT t.delivery_id, t.n, t.at, t.outcome, t.error, t.next_at
		FROM deliveries d JOIN delivery_attempts t ON t.delivery_id = d.id
		WHERE d.alert_id = $1 ORDER BY t.delivery_id, t.seq`, a.ID)
	if err != nil {
		return fmt.Errorf("attempt log: %w", err)
	}
	defer rows.Close()
	return store.ReadAttemptLogs(a, rows)
}

// Ack implements store.Store.
func (s *Store) Ack(ctx context.Context, id, by string) error {
	found := false
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		now := nanos(s.clock.Now())
		var acked *int64
		err := tx.QueryRow(ctx, `SELECT acked_at FROM alerts WHERE id = $1 FOR UPDATE`, id).Scan(&acked)
		found = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil || acked != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE alerts SET acked_at = $2, acked_by = $3 WHERE id = $1`, id, now, by); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET remind_next = NULL WHERE alert_id = $1 AND remind_next IS NOT NULL`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET state = 'cancelled', done_at = $2, last_error = 'acknowledged'
			WHERE alert_id = $1 AND reminder > 0 AND state = 'pending'`, id, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("store ack: %w", err)
	}
	if !found {
		return fmt.Errorf("store ack %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// DeadLetters implements store.Store.
func (s *Store) DeadLetters(ctx context.Context) ([]store.DeliveryRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE state = 'dead' ORDER BY done_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("store dead letters: %w", err)
	}
	defer rows.Close()
	var out []store.DeliveryRow
	for rows.Next() {
		d, err := scanDelivery(rows, true)
		if err != nil {
			return nil, fmt.Errorf("store dead letters: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store dead letters: %w", err)
	}
	return out, nil
}

// Requeue implements store.Store.
func (s *Store) Requeue(ctx context.Context, id string) error {
	now := nanos(s.clock.Now())
	tag, err := s.pool.Exec(ctx, `WITH d AS (
			UPDATE deliveries SET state = 'pending', queued_at = $1, due_at = $1,
				attempts = 0, done_at = NULL, token = '', owner = ''
			WHERE id = $2 AND state = 'dead' RETURNING alert_id)
		UPDATE alerts a SET dead = GREATEST(a.dead - 1, 0) FROM d WHERE a.id = d.alert_id`, now, id)
	if err != nil {
		return fmt.Errorf("store requeue: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store requeue %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func newToken() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// logAttempts is the CTEs that log an attempt for each row of the CTE
// named src (columns id, n, at, outcome, error, next_at), in the statement
// that records its outcome: one appends the entry after the delivery's
// last, one forgets those beyond store.AttemptLogSize. The statement holds
// the delivery's row, so no other appends to its log meanwhile; but its
// snapshot may predate a wait for that row (a digest claim waits), after
// which the delivery could still be found expired only through clock skew
// between nodes: the entry's number then clashes, and inTx retries the
// claim.
func logAttempts(src string) string {
	return `log_seq AS (
			SELECT x.id, x.n, x.at, x.outcome, x.error, x.next_at,
				COALESCE((SELECT MAX(t.seq) FROM delivery_attempts t WHERE t.delivery_id = x.id), 0) + 1 AS seq
			FROM ` + src + ` x),
		log_ins AS (INSERT INTO delivery_attempts (delivery_id, seq, n, at, outcome, error, next_at)
			SELECT id, seq, n, at, outcome, error, next_at FROM log_seq),
		log_del AS (DELETE FROM delivery_attempts t USING log_seq l
			WHERE t.delivery_id = l.id AND t.seq <= l.seq - ` + strconv.Itoa(store.AttemptLogSize) + `)`
}

// The claims take due deliveries: pending ones, and running ones whose
// lease ended, whose attempt they log as expired (at the lease's end).
var (
	// Due deliveries, skipping those another claimer holds locked.
	sqlClaim = `WITH c AS (
			SELECT id, state, attempts, due_at FROM deliveries WHERE state IN ('pending', 'running') AND due_at <= $4
			ORDER BY due_at, id LIMIT $5 FOR UPDATE SKIP LOCKED),
		o AS (SELECT id, attempts AS n, due_at AS at, '` + store.AttemptLeaseExpired + `'::text AS outcome,
			''::text AS error, NULL::bigint AS next_at FROM c WHERE state = 'running'),
		` + logAttempts("o") + `
		UPDATE deliveries SET state = 'running', due_at = $1, attempts = attempts + 1, token = $2, owner = $3
		WHERE id IN (SELECT id FROM c) RETURNING ` + deliveryColumns
	// The rest of a digest: its other due deliveries, under the same
	// claim. Not SKIP LOCKED: a digest member another claimer is taking
	// is waited for, then found claimed (a digest is not split).
	sqlClaimDigest = `WITH c AS (
			SELECT id, state, attempts, due_at FROM deliveries WHERE digest = $5 AND state IN ('pending', 'running')
			AND due_at <= $4 AND token <> $2 ORDER BY id FOR UPDATE),
		o AS (SELECT id, attempts AS n, due_at AS at, '` + store.AttemptLeaseExpired + `'::text AS outcome,
			''::text AS error, NULL::bigint AS next_at FROM c WHERE state = 'running'),
		` + logAttempts("o") + `
		UPDATE deliveries SET state = 'running', due_at = $1, attempts = attempts + 1, token = $2, owner = $3
		WHERE id IN (SELECT id FROM c) RETURNING ` + deliveryColumns
)

// Claim implements store.Store.
func (s *Store) Claim(ctx context.Context, owner string, most int, lease time.Duration) ([]store.DeliveryRow, error) {
	if most <= 0 {
		return nil, nil
	}
	var out []store.DeliveryRow
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		out = out[:0]
		now, token := s.clock.Now(), newToken()
		scan := func(rows pgx.Rows, err error) error {
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				d, err := scanDelivery(rows, true)
				if err != nil {
					return err
				}
				out = append(out, d)
			}
			return rows.Err()
		}
		if err := scan(tx.Query(ctx, sqlClaim, nanos(now.Add(lease)), token, owner, nanos(now), most)); err != nil {
			return err
		}
		// A digest goes out whole: take its other due deliveries too.
		var digests []string
		for _, d := range out {
			if d.Digest != "" && !slices.Contains(digests, d.Digest) {
				digests = append(digests, d.Digest)
			}
		}
		slices.Sort(digests)
		for _, dg := range digests {
			if err := scan(tx.Query(ctx, sqlClaimDigest, nanos(now.Add(lease)), token, owner, nanos(now), dg)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store claim: %w", err)
	}
	return out, nil
}

// Outcomes: each one statement, that logs the attempt too.
var (
	sqlComplete = `WITH d AS (
			UPDATE deliveries SET state = 'done', done_at = $1, token = '', last_error = '',
				remind_next = CASE WHEN reminder = 0 AND remind_every > 0 AND remind_max > reminders_sent
					AND (SELECT acked_at FROM alerts WHERE id = deliveries.alert_id) IS NULL
					THEN $1::bigint + remind_every ELSE NULL END
			WHERE id = $2 AND token = $3 AND state = 'running' RETURNING id, alert_id, reminder, attempts),
		o AS (SELECT id, attempts AS n, $1::bigint AS at, '` + store.AttemptDelivered + `'::text AS outcome,
			''::text AS error, NULL::bigint AS next_at FROM d),
		` + logAttempts("o") + `
		UPDATE alerts a SET notified_at = COALESCE(a.notified_at, $1),
			reminders = a.reminders + CASE WHEN d.reminder > 0 THEN 1 ELSE 0 END
		FROM d WHERE a.id = d.alert_id`
	sqlRetry = `WITH d AS (
			UPDATE deliveries SET state = 'pending', due_at = $1, last_error = $2, token = ''
			WHERE id = $3 AND token = $4 AND state = 'running' RETURNING id, attempts),
		o AS (SELECT id, attempts AS n, $5::bigint AS at, '` + store.AttemptRetry + `'::text AS outcome,
			$2::text AS error, $1::bigint AS next_at FROM d),
		` + logAttempts("o") + `
		SELECT COUNT(*) FROM d`
	sqlDeadLetter = `WITH d AS (
			UPDATE deliveries SET state = 'dead', done_at = $1, last_error = $2, token = ''
			WHERE id = $3 AND token = $4 AND state = 'running' RETURNING id, alert_id, attempts),
		o AS (SELECT id, attempts AS n, $1::bigint AS at, '` + store.AttemptDeadLettered + `'::text AS outcome,
			$2::text AS error, NULL::bigint AS next_at FROM d),
		` + logAttempts("o") + `
		UPDATE alerts a SET dead = a.dead + 1 FROM d WHERE a.id = d.alert_id`
)

// Complete implements store.Store: one statement.
func (s *Store) Complete(ctx context.Context, id, token string) error {
	tag, err := s.pool.Exec(ctx, sqlComplete, nanos(s.clock.Now()), id, token)
	if err != nil {
		return fmt.Errorf("store complete: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store complete %s: %w", id, store.ErrLeaseLost)
	}
	return nil
}

// Retry implements store.Store: one statement.
func (s *Store) Retry(ctx context.Context, id, token string, at time.Time, reason string) error {
	var n int
	err := s.pool.QueryRow(ctx, sqlRetry, nanos(at), reason, id, token, nanos(s.clock.Now())).Scan(&n)
	if err != nil {
		return fmt.Errorf("store retry: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store retry %s: %w", id, store.ErrLeaseLost)
	}
	return nil
}

// DeadLetter implements store.Store: one statement.
func (s *Store) DeadLetter(ctx context.Context, id, token, reason string) error {
	tag, err := s.pool.Exec(ctx, sqlDeadLetter, nanos(s.clock.Now()), reason, id, token)
	if err != nil {
		return fmt.Errorf("store dead letter: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store dead letter %s: %w", id, store.ErrLeaseLost)
	}
	return nil
}

func (s *Store) minTime(ctx context.Context, q string) (time.Time, bool, error) {
	var n *int64
	if err := s.pool.QueryRow(ctx, q).Scan(&n); err != nil {
		return time.Time{}, false, err
	}
	if n == nil {
		return time.Time{}, false, nil
	}
	return time.Unix(0, *n).UTC(), true, nil
}

// NextDue implements store.Store.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	t, ok, err := s.minTime(ctx, `SELECT MIN(due_at) FROM deliveries WHERE state IN ('pending', 'running')`)
	if err != nil {
		return t, ok, fmt.Errorf("store next due: %w", err)
	}
	return t, ok, nil
}

// NextReminder implements store.Store.
func (s *Store) NextReminder(ctx context.Context) (time.Time, bool, error) {
	t, ok, err := s.minTime(ctx, `SELECT MIN(remind_next) FROM deliveries WHERE remind_next IS NOT NULL`)
	if err != nil {
		return t, ok, fmt.Errorf("store next reminder: %w", err)
	}
	return t, ok, nil
}

// QueueReminders implements store.Store. Nodes running it together each
// take the due first notifications the others are not holding (SKIP
// LOCKED), and a reminder's id is derived, so none is queued twice.
func (s *Store) QueueReminders(ctx context.Context) (int, error) {
	queued := 0
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		queued = 0
		now := s.clock.Now()
		type due struct {
			id, alertID       string
			nj                []byte
			every             int64
			most, sent, count int
			busy              bool
		}
		rows, err := tx.Query(ctx, `SELECT d.id, d.alert_id, d.notification, d.remind_every, d.remind_max,
				d.reminders_sent, a.count,
				EXISTS (SELECT 1 FROM deliveries p WHERE p.origin = d.id AND p.reminder > 0 AND p.state IN ('pending', 'running'))
			FROM deliveries d JOIN alerts a ON a.id = d.alert_id
			WHERE d.remind_next IS NOT NULL AND d.remind_next <= $1 AND a.acked_at IS NULL
			ORDER BY d.remind_next, d.id FOR UPDATE OF d SKIP LOCKED`, nanos(now))
		if err != nil {
			return err
		}
		var dues []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.alertID, &d.nj, &d.every, &d.most, &d.sent, &d.count, &d.busy); err != nil {
				rows.Close()
				return err
			}
			dues = append(dues, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range dues {
			next := ptr(nanos(now) + d.every)
			sent := d.sent
			if !d.busy {
				sent++
				var n notify.Notification
				if err := json.Unmarshal(d.nj, &n); err != nil {
					return fmt.Errorf("delivery %s: %w", d.id, err)
				}
				n.ID = store.ReminderID(d.id, sent)
				n.Key, n.Reminder, n.Count, n.Queued, n.AckURL, n.Digest = n.ID, sent, d.count, now.UTC(), "", ""
				nj, err := json.Marshal(&n)
				if err != nil {
					return err
				}
				tag, err := tx.Exec(ctx, `INSERT INTO deliveries
					(id, alert_id, receiver, reminder, origin, state, notification, queued_at, due_at)
					VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $7) ON CONFLICT (id) DO NOTHING`,
					n.ID, d.alertID, n.Receiver, sent, d.id, nj, nanos(now))
				if err != nil {
					return err
				}
				queued += int(tag.RowsAffected())
				if sent >= d.most {
					next = nil
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE deliveries SET reminders_sent = $1, remind_next = $2 WHERE id = $3`,
				sent, next, d.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store queue reminders: %w", err)
	}
	return queued, nil
}

// PruneEvents implements store.Store.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM events WHERE seen_at < $1`, nanos(before))
	if err != nil {
		return 0, fmt.Errorf("store prune events: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Datapoints implements store.Store.
func (s *Store) Datapoints(ctx context.Context, metrics []string, since time.Time) ([]alarm.Bucket, error) {
	if len(metrics) == 0 {
		return nil, nil
	}
	lo := store.BucketOf(since)
	if since.After(time.Unix(lo*int64(alarm.Resolution/time.Second), 0)) {
		lo++ // buckets that start at or after since
	}
	mk := make([][]byte, len(metrics))
	for i, m := range metrics {
		mk[i] = []byte(m)
	}
	var out []alarm.Bucket
	// One snapshot: the two tables agree.
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		out = out[:0]
		idx := map[store.BucketKey]int{}
		rows, err := tx.Query(ctx, `SELECT metric, bucket, unit, namespace, name, dimensions, count, sum, min, max, keys
			FROM metric_buckets WHERE bucket >= $1 AND metric = ANY($2::bytea[]) ORDER BY metric, bucket, unit`, lo, mk)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				k          store.BucketKey
				b          alarm.Bucket
				dims, keys string
				metric     []byte
			)
			if err := rows.Scan(&metric, &k.Bucket, &k.Unit, &b.Namespace, &b.Metric, &dims, &b.Count, &b.Sum, &b.Min, &b.Max, &keys); err != nil {
				rows.Close()
				return err
			}
			k.Metric = string(metric)
			if dims != "{}" {
				if err := json.Unmarshal([]byte(dims), &b.Dimensions); err != nil {
					rows.Close()
					return fmt.Errorf("%s: %w", k.Metric, err)
				}
			}
			if b.Events, err = store.ParseBucketKeys(keys); err != nil {
				rows.Close()
				return fmt.Errorf("%s: keys: %w", k.Metric, err)
			}
			b.Unit, b.Start = k.Unit, time.Unix(k.Bucket*int64(alarm.Resolution/time.Second), 0).UTC()
			idx[k] = len(out)
			out = append(out, b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT metric, bucket, unit, value, n FROM metric_values
			WHERE bucket >= $1 AND metric = ANY($2::bytea[]) ORDER BY metric, bucket, unit, value`, lo, mk)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				k      store.BucketKey
				vc     alarm.ValueCount
				metric []byte
			)
			if err := rows.Scan(&metric, &k.Bucket, &k.Unit, &vc.Value, &vc.Count); err != nil {
				return err
			}
			k.Metric = string(metric)
			if i, ok := idx[k]; ok {
				out[i].Values = append(out[i].Values, vc)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store datapoints: %w", err)
	}
	return out, nil
}

// PruneDatapoints implements store.Store.
func (s *Store) PruneDatapoints(ctx context.Context, before time.Time) (int64, error) {
	lo := store.BucketOf(before)
	if before.After(time.Unix(lo*int64(alarm.Resolution/time.Second), 0)) {
		lo++ // a bucket that starts before t, ending after it, goes too
	}
	var n int64
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM metric_buckets WHERE bucket < $1`, lo)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM metric_values WHERE bucket < $1`, lo)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store prune datapoints: %w", err)
	}
	return n, nil
}

// EventBriefs implements store.Store.
func (s *Store) EventBriefs(ctx context.Context, keys []string) (map[string][]byte, error) {
	out := map[string][]byte{}
	if len(keys) == 0 {
		return out, nil
	}
	bk := make([][]byte, len(keys))
	for i, k := range keys {
		bk[i] = []byte(k)
	}
	rows, err := s.pool.Query(ctx, `SELECT key, brief FROM events WHERE brief IS NOT NULL AND key = ANY($1::bytea[])`, bk)
	if err != nil {
		return nil, fmt.Errorf("store event briefs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, b []byte
		if err := rows.Scan(&k, &b); err != nil {
			return nil, fmt.Errorf("store event briefs: %w", err)
		}
		out[string(k)] = b
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store event briefs: %w", err)
	}
	return out, nil
}

// SaveAlarms implements store.Store.
func (s *Store) SaveAlarms(ctx context.Context, snaps []store.AlarmSnapshot, batch []store.Seen) (store.RecordResult, error) {
	for i := range batch {
		if batch[i].EventKey == "" {
			return store.RecordResult{}, fmt.Errorf("store save alarms: event %d: %w", i, store.ErrNoEventKey)
		}
	}
	for _, sn := range snaps {
		if sn.Name == "" || !sn.State.Valid() {
			return store.RecordResult{}, fmt.Errorf("store save alarms: alarm %q: invalid state %q", sn.Name, sn.State)
		}
	}
	sorted := slices.Clone(snaps)
	slices.SortStableFunc(sorted, func(a, b store.AlarmSnapshot) int { return strings.Compare(a.Name, b.Name) })
	var res store.RecordResult
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		res = store.RecordResult{}
		now := s.clock.Now()
		for _, sn := range sorted {
			var data []byte
			if sn.ReasonData != nil {
				data = sn.ReasonData
			}
			if _, err := tx.Exec(ctx, `INSERT INTO alarms (name, state, reason, reason_data, updated, actions_enabled, saved_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET state = excluded.state, reason = excluded.reason,
				reason_data = excluded.reason_data, updated = excluded.updated, actions_enabled = excluded.actions_enabled,
				saved_at = excluded.saved_at`,
				sn.Name, string(sn.State), sn.Reason, data, nanos(sn.Updated), sn.ActionsEnabled, nanos(now)); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, now, batch, &res)
	})
	if err != nil {
		return store.RecordResult{}, fmt.Errorf("store save alarms: %w", err)
	}
	return res, nil
}

// AlarmSnapshots implements store.Store.
func (s *Store) AlarmSnapshots(ctx context.Context) ([]store.AlarmSnapshot, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+store.AlarmSnapshotColumns+` FROM alarms ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store alarm snapshots: %w", err)
	}
	defer rows.Close()
	return store.ReadAlarmSnapshots(rows)
}

// Checkpoint implements store.Store.
func (s *Store) Checkpoint(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM checkpoints WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store checkpoint: %w", err)
	}
	return v, true, nil
}

// SetCheckpoint implements store.Store.
func (s *Store) SetCheckpoint(ctx context.Context, key, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO checkpoints (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, nanos(s.clock.Now()))
	if err != nil {
		return fmt.Errorf("store set checkpoint: %w", err)
	}
	return nil
}

// InitCheckpoint implements store.Store.
func (s *Store) InitCheckpoint(ctx context.Context, key, value string) (string, error) {
	var got string
	err := s.pool.QueryRow(ctx, `WITH ins AS (
			INSERT INTO checkpoints (key, value, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO NOTHING RETURNING value)
		SELECT value FROM ins UNION ALL SELECT value FROM checkpoints WHERE key = $1 LIMIT 1`,
		key, value, nanos(s.clock.Now())).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another node inserted it after this statement's snapshot was
		// taken: a new statement sees it.
		err = s.pool.QueryRow(ctx, `SELECT value FROM checkpoints WHERE key = $1`, key).Scan(&got)
	}
	if err != nil {
		return "", fmt.Errorf("store init checkpoint: %w", err)
	}
	return got, nil
}
