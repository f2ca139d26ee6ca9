// Package sqlite is the store on an embedded SQLite file, through the
// pure-Go modernc.org/sqlite driver: WAL, a busy timeout, one writer
// connection (BEGIN IMMEDIATE) and a small pool of readers. Record, Claim,
// Complete, Retry and DeadLetter go through one committer that commits
// the calls waiting together (group commit: one sync for all of them).
// Several handles, even in several processes, may share one file.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/store"
)

// Options configure a Store.
type Options struct {
	// Clock decides dedup windows, queue times and leases; default real.
	Clock clock.Clock
	// Logger; default discards.
	Logger *slog.Logger
	// Synchronous is SQLite's synchronous setting: "FULL" (default: a
	// committed Record survives power loss) or "NORMAL" (survives a
	// process crash; faster).
	Synchronous string
	// BusyTimeout is how long a writer waits for another handle's write
	// lock; default 10s.
	BusyTimeout time.Duration
}

// Store is a store.Store on one SQLite file.
type Store struct {
	w, r  *sql.DB
	clock clock.Clock
	log   *slog.Logger
	// Statements Record runs for every event, prepared once on the writer.
	insEvent, findFold, insAlert, foldAlert, insDelivery *sql.Stmt
	// Statements summing datapoints.
	upBucket, upValue *sql.Stmt
	// Statements of the outbox's claims and outcomes.
	claim, claimDigest, completeDelivery, completeAlert, retry, deadDelivery, deadAlert *sql.Stmt
	// The attempt log's entry, that each outcome appends.
	insAttempt *sql.Stmt
	// Statements on the readers.
	nextDue, nextReminder *sql.Stmt
	// The group commit of Record, Claim, Complete, Retry and DeadLetter.
	writes        chan *write
	quit, stopped chan struct{}
	closeOnce     sync.Once
}

const (
	sqlInsEvent = `INSERT INTO events (key, seen_at, brief) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`
	sqlFindFold = `SELECT id FROM alerts
		WHERE rule = ? AND dedup_key = ? AND window_end IS NOT NULL AND window_end > ?
		ORDER BY first_seen DESC LIMIT 1`
	sqlInsAlert = `INSERT INTO alerts
		(id, rule, severity, dedup_key, threshold, count, first_seen, last_seen, window_end, first_event, last_event, fired_at, alert, account)
		VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	sqlFoldAlert = `UPDATE alerts SET count = count + 1, last_seen = ?1,
		last_event = CASE WHEN ?2 > last_event THEN ?2 ELSE last_event END,
		first_event = CASE WHEN first_event = 0 OR (?2 <> 0 AND ?2 < first_event) THEN ?2 ELSE first_event END,
		fired_at = CASE WHEN fired_at IS NULL AND count + 1 >= threshold THEN ?1 ELSE fired_at END
		WHERE id = ?3 RETURNING count, threshold, fired_at = ?1 AND count = threshold, alert`
	sqlInsDelivery = `INSERT INTO deliveries
		(id, alert_id, receiver, reminder, origin, state, notification, queued_at, due_at, remind_every, remind_max, digest)
		VALUES (?, ?, ?, 0, ?, 'pending', ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`

	// A bucket's aggregates and its values' counts sum with upserts; its
	// event keys are appended while it holds fewer than KeysPerBucket (a
	// batch appends at most that many: readers keep the first ones).
	sqlUpBucket = `INSERT INTO metric_buckets
		(metric, bucket, unit, namespace, name, dimensions, count, sum, min, max, nkeys, keys)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (metric, bucket, unit) DO UPDATE SET count = count + excluded.count,
			sum = sum + excluded.sum, min = MIN(min, excluded.min), max = MAX(max, excluded.max),
			keys = CASE WHEN nkeys >= ?13 THEN keys ELSE keys || excluded.keys END,
			nkeys = CASE WHEN nkeys >= ?13 THEN nkeys ELSE nkeys + excluded.nkeys END`
	sqlUpValue = `INSERT INTO metric_values (metric, bucket, unit, value, n) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (metric, bucket, unit, value) DO UPDATE SET n = n + excluded.n`

	sqlClaim = `UPDATE deliveries
		SET state = 'running', due_at = ?, attempts = attempts + 1, token = ?, owner = ?
		WHERE id IN (SELECT id FROM deliveries WHERE state IN ('pending', 'running') AND due_at <= ?
			ORDER BY due_at, id LIMIT ?)
		RETURNING ` + deliveryColumns
	// The rest of a digest: its other due deliveries, under the same claim.
	sqlClaimDigest = `UPDATE deliveries
		SET state = 'running', due_at = ?1, attempts = attempts + 1, token = ?2, owner = ?3
		WHERE digest = ?5 AND state IN ('pending', 'running') AND due_at <= ?4 AND token <> ?2
		RETURNING ` + deliveryColumns
	sqlCompleteDelivery = `UPDATE deliveries SET state = 'done', done_at = ?1, token = '', last_error = '',
		remind_next = CASE WHEN reminder = 0 AND remind_every > 0 AND remind_max > reminders_sent
			AND (SELECT acked_at FROM alerts WHERE id = deliveries.alert_id) IS NULL
			THEN ?1 + remind_every ELSE NULL END
		WHERE id = ?2 AND token = ?3 AND state = 'running' RETURNING alert_id, reminder`
	sqlCompleteAlert = `UPDATE alerts SET notified_at = COALESCE(notified_at, ?), reminders = reminders + ?
		WHERE id = ?`
	sqlRetry = `UPDATE deliveries SET state = 'pending', due_at = ?, last_error = ?, token = ''
		WHERE id = ? AND token = ? AND state = 'running'`
	sqlDeadDelivery = `UPDATE deliveries SET state = 'dead', done_at = ?, last_error = ?, token = ''
		WHERE id = ? AND token = ? AND state = 'running' RETURNING alert_id`
	sqlDeadAlert = `UPDATE alerts SET dead = dead + 1 WHERE id = ?`
	// The entry of a delivery's attempt that just ended, numbered after its
	// last one (the delivery_attempts_bound trigger forgets the oldest
	// beyond store.AttemptLogSize). One row, VALUES and no RETURNING:
	// SQLite then needs neither a statement journal nor a result table.
	sqlInsAttempt = `INSERT INTO delivery_attempts (delivery_id, seq, n, at, outcome, error, next_at) VALUES (?1,
		(SELECT COALESCE(MAX(seq), 0) + 1 FROM delivery_attempts WHERE delivery_id = ?1),
		(SELECT attempts FROM deliveries WHERE id = ?1), ?2, ?3, ?4, ?5)`

	sqlNextDue      = `SELECT MIN(due_at) FROM deliveries WHERE state IN ('pending', 'running')`
	sqlNextReminder = `SELECT MIN(remind_next) FROM deliveries WHERE remind_next IS NOT NULL`
)

var _ store.Store = (*Store)(nil)

const schemaVersion = 6

// schema is the whole schema, as version 6 has it (migrate runs it on an
// empty database; its IF NOT EXISTS let an older database take the
// tables, indexes and triggers it lacks, after migrate added the columns).
const schema = `
CREATE TABLE IF NOT EXISTS events (
	key     TEXT PRIMARY KEY,
	seen_at INTEGER NOT NULL,
	brief   BLOB                -- what an alarm notification tells of it
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_seen ON events(seen_at);

CREATE TABLE IF NOT EXISTS alerts (
	id               TEXT PRIMARY KEY,
	rule             TEXT NOT NULL,
	severity         TEXT NOT NULL,
	dedup_key        TEXT NOT NULL,
	threshold        INTEGER NOT NULL,
	count            INTEGER NOT NULL,
	first_seen       INTEGER NOT NULL,
	last_seen        INTEGER NOT NULL,
	window_end       INTEGER,           -- NULL: the alert does not fold
	first_event      INTEGER NOT NULL,  -- 0: unknown
	last_event       INTEGER NOT NULL,
	fired_at         INTEGER,
	notified_at      INTEGER,
	acked_at         INTEGER,
	acked_by         TEXT NOT NULL DEFAULT '',
	dead             INTEGER NOT NULL DEFAULT 0,
	reminders        INTEGER NOT NULL DEFAULT 0,
	alert            BLOB NOT NULL,
	-- Version 6: alert.Alert.Account (store.AlertFilter.Account), and the
	-- alert's state (store.AlertRow.State), computed when read.
	account          TEXT NOT NULL DEFAULT '',
	state            TEXT GENERATED ALWAYS AS (` + alertState + `) VIRTUAL
);
CREATE INDEX IF NOT EXISTS alerts_fold ON alerts(rule, dedup_key, window_end) WHERE window_end IS NOT NULL;
-- Version 6: the alerts list's order (store.AlertFilter), whole and after
-- each filter: a page reads an index from its cursor on and sorts
-- nothing. (Version 5's alerts_first, on first_seen alone, sorted the
-- alerts sharing a first_seen and scanned for the filters.) With no
-- statistics (no ANALYZE), SQLite takes for two filters the index
-- created last: the account's, then the rule's, the severity's, the
-- state's (the least selective: most alerts are new or notified).
CREATE INDEX IF NOT EXISTS alerts_list ON alerts(first_seen DESC, id);
CREATE INDEX IF NOT EXISTS alerts_state ON alerts(state, first_seen DESC, id);
CREATE INDEX IF NOT EXISTS alerts_severity ON alerts(severity COLLATE NOCASE, first_seen DESC, id);
CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule, first_seen DESC, id);
CREATE INDEX IF NOT EXISTS alerts_account ON alerts(account, first_seen DESC, id);

CREATE TABLE IF NOT EXISTS deliveries (
	id             TEXT PRIMARY KEY,
	alert_id       TEXT NOT NULL REFERENCES alerts(id),
	receiver       TEXT NOT NULL,
	reminder       INTEGER NOT NULL,
	origin         TEXT NOT NULL,      -- the first notification a reminder repeats; itself for one
	state          TEXT NOT NULL,
	notification   BLOB NOT NULL,
	queued_at      INTEGER NOT NULL,
	due_at         INTEGER NOT NULL,
	attempts       INTEGER NOT NULL DEFAULT 0,
	token          TEXT NOT NULL DEFAULT '',
	owner          TEXT NOT NULL DEFAULT '',
	last_error     TEXT NOT NULL DEFAULT '',
	done_at        INTEGER,
	remind_every   INTEGER NOT NULL DEFAULT 0,
	remind_max     INTEGER NOT NULL DEFAULT 0,
	remind_next    INTEGER,
	reminders_sent INTEGER NOT NULL DEFAULT 0,
	digest         TEXT NOT NULL DEFAULT ''  -- store.Delivery.Digest; '': none
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(due_at) WHERE state IN ('pending', 'running');
CREATE INDEX IF NOT EXISTS deliveries_alert ON deliveries(alert_id);
CREATE INDEX IF NOT EXISTS deliveries_remind ON deliveries(remind_next) WHERE remind_next IS NOT NULL;
CREATE INDEX IF NOT EXISTS deliveries_dead ON deliveries(done_at) WHERE state = 'dead';
CREATE INDEX IF NOT EXISTS deliveries_origin ON deliveries(origin) WHERE reminder > 0 AND state IN ('pending', 'running');
CREATE INDEX IF NOT EXISTS deliveries_digest ON deliveries(digest) WHERE digest <> '' AND state IN ('pending', 'running');

-- Metric datapoints, summed per metric (alarm.MetricKey), 10-second bucket
-- (unix seconds / 10) and unit: rows several writers upsert. keys holds
-- the events behind the first datapoints, in the order recorded, one JSON
-- array [eventKey, value] a line.
CREATE TABLE IF NOT EXISTS metric_buckets (
	metric     TEXT NOT NULL,
	bucket     INTEGER NOT NULL,
	unit       TEXT NOT NULL,
	namespace  TEXT NOT NULL,
	name       TEXT NOT NULL,
	dimensions TEXT NOT NULL,       -- JSON object
	count      INTEGER NOT NULL,
	sum        REAL NOT NULL,
	min        REAL NOT NULL,
	max        REAL NOT NULL,
	nkeys      INTEGER NOT NULL,
	keys       TEXT NOT NULL,
	PRIMARY KEY (metric, bucket, unit)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS metric_buckets_bucket ON metric_buckets(bucket);
-- Each distinct value's count: exact percentiles.
CREATE TABLE IF NOT EXISTS metric_values (
	metric TEXT NOT NULL,
	bucket INTEGER NOT NULL,
	unit   TEXT NOT NULL,
	value  REAL NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (metric, bucket, unit, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS metric_values_bucket ON metric_values(bucket);

CREATE TABLE IF NOT EXISTS alarms (
	name            TEXT PRIMARY KEY,
	state           TEXT NOT NULL,
	reason          TEXT NOT NULL,
	reason_data     BLOB,
	updated         INTEGER NOT NULL,
	actions_enabled INTEGER NOT NULL,
	saved_at        INTEGER NOT NULL
) WITHOUT ROWID;

-- Version 4: how far each source has read (store.Store.SetCheckpoint).
CREATE TABLE IF NOT EXISTS checkpoints (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Version 5: each delivery's attempts that ended (store.Attempt), the last
-- store.AttemptLogSize (50) of them. seq numbers a delivery's entries 1,
-- 2, ... and goes on after a requeue, where n starts again.
CREATE TABLE IF NOT EXISTS delivery_attempts (
	delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL,
	n           INTEGER NOT NULL,  -- the attempt's number: deliveries.attempts when claimed
	at          INTEGER NOT NULL,
	outcome     TEXT NOT NULL,     -- store.Attempt*
	error       TEXT NOT NULL DEFAULT '',
	next_at     INTEGER,           -- retry: when the next attempt is due
	PRIMARY KEY (delivery_id, seq)
) WITHOUT ROWID;
-- Each entry after a delivery's 50th forgets the oldest: the log keeps the
-- last 50 (store.AttemptLogSize: changing it takes a new schema version).
CREATE TRIGGER IF NOT EXISTS delivery_attempts_bound AFTER INSERT ON delivery_attempts
	WHEN NEW.seq > 50
BEGIN
	DELETE FROM delivery_attempts WHERE delivery_id = NEW.delivery_id AND seq <= NEW.seq - 50;
END;
-- A running delivery claimed again (sqlClaim and sqlClaimDigest take those
-- whose lease ended) logs the attempt that expired, at its lease's end, in
-- the claim's statement: the old row is known only here.
CREATE TRIGGER IF NOT EXISTS deliveries_reclaimed AFTER UPDATE OF token ON deliveries
	WHEN OLD.state = 'running' AND NEW.state = 'running'
BEGIN
	INSERT INTO delivery_attempts (delivery_id, seq, n, at, outcome) VALUES (OLD.id,
		(SELECT COALESCE(MAX(seq), 0) + 1 FROM delivery_attempts WHERE delivery_id = OLD.id),
		OLD.attempts, OLD.due_at, 'lease expired');
END;
`

// Open opens (creating it if needed) the database in the file at path.
func Open(ctx context.Context, path string, o Options) (*Store, error) {
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	sync := strings.ToUpper(o.Synchronous)
	switch sync {
	case "":
		sync = "FULL"
	case "FULL", "NORMAL":
	default:
		return nil, fmt.Errorf("sqlite open: synchronous %q: want FULL or NORMAL", o.Synchronous)
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Second
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()

	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, clock: o.Clock, log: o.Logger}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.insEvent, sqlInsEvent}, {&s.findFold, sqlFindFold}, {&s.insAlert, sqlInsAlert},
		{&s.foldAlert, sqlFoldAlert}, {&s.insDelivery, sqlInsDelivery},
		{&s.upBucket, sqlUpBucket}, {&s.upValue, sqlUpValue},
		{&s.claim, sqlClaim}, {&s.claimDigest, sqlClaimDigest}, {&s.completeDelivery, sqlCompleteDelivery}, {&s.completeAlert, sqlCompleteAlert},
		{&s.retry, sqlRetry}, {&s.deadDelivery, sqlDeadDelivery}, {&s.deadAlert, sqlDeadAlert},
		{&s.insAttempt, sqlInsAttempt},
	} {
		if *p.st, err = w.PrepareContext(ctx, p.sql); err != nil {
			w.Close()
			return nil, fmt.Errorf("sqlite open: %w", err)
		}
	}
	q.Add("_pragma", "query_only(1)")
	q.Set("_txlock", "deferred")
	r, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite open: %w", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.r = r
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.nextDue, sqlNextDue}, {&s.nextReminder, sqlNextReminder},
	} {
		if *p.st, err = r.PrepareContext(ctx, p.sql); err != nil {
			w.Close()
			r.Close()
			return nil, fmt.Errorf("sqlite open: %w", err)
		}
	}
	s.writes, s.quit, s.stopped = make(chan *write), make(chan struct{}), make(chan struct{})
	go s.committer()
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("sqlite migrate: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("sqlite migrate: database schema %d is newer than this program's %d", v, schemaVersion)
	}
	if v == schemaVersion {
		return nil
	}
	if v == 1 {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE events ADD COLUMN brief BLOB`); err != nil {
			return fmt.Errorf("sqlite migrate: %w", err)
		}
	}
	if v >= 1 && v <= 2 {
		// Version 3: deliveries carry their digest key.
		var cols, digest int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE name = 'digest')
			FROM pragma_table_info('deliveries')`).Scan(&cols, &digest); err != nil {
			return fmt.Errorf("sqlite migrate: %w", err)
		}
		if cols > 0 && digest == 0 {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE deliveries ADD COLUMN digest TEXT NOT NULL DEFAULT ''`); err != nil {
				return fmt.Errorf("sqlite migrate: %w", err)
			}
		}
	}
	if v >= 1 && v <= 5 {
		if err := migrateAlertsList(ctx, tx); err != nil {
			return fmt.Errorf("sqlite migrate: version 6: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("sqlite migrate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("sqlite migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite migrate: %w", err)
	}
	return nil
}

// migrateAlertsList gives an older database's alerts version 6's columns:
// account, filled from each alert's JSON (Record fills it from then on),
// and state; schema then adds the list's indexes, instead of
// alerts_first.
func migrateAlertsList(ctx context.Context, tx *sql.Tx) error {
	var cols, account int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE name = 'account')
		FROM pragma_table_xinfo('alerts')`).Scan(&cols, &account); err != nil {
		return err
	}
	if cols == 0 || account > 0 {
		return nil
	}
	for _, q := range []string{
		`ALTER TABLE alerts ADD COLUMN account TEXT NOT NULL DEFAULT ''`,
		// The JSON is text in a BLOB (json_extract would read a BLOB as
		// JSONB); an alert whose JSON does not parse keeps ''.
		`UPDATE alerts SET account = COALESCE(json_extract(CAST(alert AS TEXT), '$.account'), '')
			WHERE json_valid(CAST(alert AS TEXT))`,
		`ALTER TABLE alerts ADD COLUMN state TEXT GENERATED ALWAYS AS (` + alertState + `) VIRTUAL`,
		`DROP INDEX IF EXISTS alerts_first`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// Close waits for the writes in progress and closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.quit) })
	<-s.stopped
	return errors.Join(s.r.Close(), s.w.Close())
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid || n.Int64 == 0 {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

func eventNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Record implements store.Store. Concurrent calls are committed together
// (group commit, see write): one transaction and one sync for all the
// batches waiting while the previous commit ran.
func (s *Store) Record(ctx context.Context, batch []store.Seen) (store.RecordResult, error) {
	for i := range batch {
		if batch[i].EventKey == "" {
			return store.RecordResult{}, fmt.Errorf("store record: event %d: %w", i, store.ErrNoEventKey)
		}
	}
	var res store.RecordResult
	err := s.write(ctx, len(batch), func(ctx context.Context, tx *sql.Tx) error {
		res = store.RecordResult{}
		return s.record(ctx, tx, batch, &res)
	})
	if err != nil {
		return store.RecordResult{}, fmt.Errorf("store record: %w", err)
	}
	return res, nil
}

var errClosed = errors.New("store closed")

// A write is one call's share of a group-committed transaction.
type write struct {
	ctx  context.Context
	size int // events (1 for an outbox write), to bound a group
	// last: run after the group's other writes (a claim then takes the
	// deliveries queued in the same transaction).
	last bool
	// run does the call's work in tx and keeps its outcome. It may run
	// twice (in a group, then alone), so it starts its outcome afresh. An
	// error means the transaction failed; an outcome that writes nothing
	// (lease lost) is not an error.
	run  func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// write runs fn in the writer's next transaction and returns after it
// commits (or fails). Concurrent writes are committed together (group
// commit): one transaction and one sync for all the writes waiting while
// the previous commit ran. A group that fails is retried one write at a
// time, so one bad write fails only its own caller.
func (s *Store) write(ctx context.Context, size int, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.send(&write{ctx: ctx, size: max(size, 1), run: fn})
}

func (s *Store) send(w *write) error {
	w.done = make(chan error, 1)
	select {
	case s.writes <- w:
	case <-w.ctx.Done():
		return w.ctx.Err()
	case <-s.quit:
		return errClosed
	}
	// Once handed over, wait for the outcome: returning early could let the
	// caller believe a write that then commits was not made.
	return <-w.done
}

// maxGroup bounds the events committed in one group.
const maxGroup = 2000

// committer runs the writes' transactions, grouping the writes waiting.
func (s *Store) committer() {
	defer close(s.stopped)
	for {
		var w *write
		select {
		case w = <-s.writes:
		case <-s.quit:
			return
		}
		group, n := []*write{w}, w.size
	more:
		for n < maxGroup {
			select {
			case w := <-s.writes:
				group = append(group, w)
				n += w.size
			default:
				break more
			}
		}
		// Claims last: a delivery recorded in this group can be claimed at
		// once, without waiting for the next commit.
		slices.SortStableFunc(group, func(a, b *write) int {
			switch {
			case a.last == b.last:
				return 0
			case a.last:
				return 1
			}
			return -1
		})
		s.commitGroup(group)
	}
}

func (s *Store) commitGroup(group []*write) {
	live := group[:0]
	for _, w := range group {
		if err := w.ctx.Err(); err != nil {
			w.done <- err
			continue
		}
		live = append(live, w)
	}
	if len(live) == 0 {
		return
	}
	ctx := live[0].ctx
	if len(live) > 1 {
		ctx = context.Background() // one caller's cancellation must not fail the others
	}
	err := s.writeTx(ctx, live)
	if err == nil || len(live) == 1 {
		for _, w := range live {
			w.done <- err
		}
		return
	}
	for _, w := range live {
		w.done <- s.writeTx(w.ctx, []*write{w})
	}
}

// writeTx runs the writes in one transaction.
func (s *Store) writeTx(ctx context.Context, ws []*write) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, w := range ws {
		if err := w.run(ctx, tx); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// record records a batch in tx.
func (s *Store) record(ctx context.Context, tx *sql.Tx, batch []store.Seen, res *store.RecordResult) error {
	now := s.clock.Now()
	ins := tx.StmtContext(ctx, s.insEvent)
	var sums store.BucketSums
	for i := range batch {
		ev := &batch[i]
		r, err := ins.ExecContext(ctx, ev.EventKey, nanos(now), ev.Brief)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			res.Duplicates++
			continue
		}
		res.Events++
		for j := range ev.Hits {
			if err := s.recordHit(ctx, tx, now, ev, &ev.Hits[j], res); err != nil {
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
	return s.writeSums(ctx, tx, &sums)
}

func (s *Store) writeSums(ctx context.Context, tx *sql.Tx, m *store.BucketSums) error {
	if len(m.Order) == 0 {
		return nil
	}
	up, val := tx.StmtContext(ctx, s.upBucket), tx.StmtContext(ctx, s.upValue)
	var keys []byte
	for _, k := range m.Order {
		b := m.By[k]
		dims, err := json.Marshal(b.First.Dimensions)
		if err != nil {
			return err
		}
		if b.First.Dimensions == nil {
			dims = []byte("{}")
		}
		keys = keys[:0]
		for _, e := range b.Keys {
			keys = store.AppendBucketKey(keys, e)
		}
		if _, err := up.ExecContext(ctx, k.Metric, k.Bucket, k.Unit, b.First.Namespace, b.First.Metric, string(dims),
			b.Count, b.Sum, b.Min, b.Max, len(b.Keys), string(keys), store.KeysPerBucket); err != nil {
			return err
		}
		for _, v := range b.ValueOrder {
			if _, err := val.ExecContext(ctx, k.Metric, k.Bucket, k.Unit, v, b.Values[v]); err != nil {
				return err
			}
		}
	}
	return nil
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
	args := make([]any, 0, len(metrics)+1)
	args = append(args, lo)
	for _, m := range metrics {
		args = append(args, m)
	}
	in := "bucket >= ? AND metric IN (?" + strings.Repeat(", ?", len(metrics)-1) + ")"
	// One read transaction: the three tables agree.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store datapoints: %w", err)
	}
	defer tx.Rollback()
	var out []alarm.Bucket
	idx := map[store.BucketKey]int{}
	rows, err := tx.QueryContext(ctx, `SELECT metric, bucket, unit, namespace, name, dimensions, count, sum, min, max, keys
		FROM metric_buckets WHERE `+in+` ORDER BY metric, bucket, unit`, args...)
	if err != nil {
		return nil, fmt.Errorf("store datapoints: %w", err)
	}
	for rows.Next() {
		var (
			k    store.BucketKey
			b    alarm.Bucket
			dims string
			keys string
		)
		if err := rows.Scan(&k.Metric, &k.Bucket, &k.Unit, &b.Namespace, &b.Metric, &dims, &b.Count, &b.Sum, &b.Min, &b.Max, &keys); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store datapoints: %w", err)
		}
		if dims != "{}" {
			if err := json.Unmarshal([]byte(dims), &b.Dimensions); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store datapoints: %s: %w", k.Metric, err)
			}
		}
		if b.Events, err = store.ParseBucketKeys(keys); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store datapoints: %s: keys: %w", k.Metric, err)
		}
		b.Unit, b.Start = k.Unit, time.Unix(k.Bucket*int64(alarm.Resolution/time.Second), 0).UTC()
		idx[k] = len(out)
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store datapoints: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT metric, bucket, unit, value, n FROM metric_values WHERE `+in, args...)
	if err != nil {
		return nil, fmt.Errorf("store datapoints: %w", err)
	}
	for rows.Next() {
		var (
			k  store.BucketKey
			vc alarm.ValueCount
		)
		if err := rows.Scan(&k.Metric, &k.Bucket, &k.Unit, &vc.Value, &vc.Count); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store datapoints: %w", err)
		}
		if i, ok := idx[k]; ok {
			out[i].Values = append(out[i].Values, vc)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
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
	err := s.write(ctx, 1, func(ctx context.Context, tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM metric_buckets WHERE bucket < ?`, lo)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		_, err = tx.ExecContext(ctx, `DELETE FROM metric_values WHERE bucket < ?`, lo)
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
	for start := 0; start < len(keys); start += 500 {
		chunk := keys[start:min(start+500, len(keys))]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		rows, err := s.r.QueryContext(ctx, `SELECT key, brief FROM events
			WHERE brief IS NOT NULL AND key IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store event briefs: %w", err)
		}
		for rows.Next() {
			var (
				k string
				b []byte
			)
			if err := rows.Scan(&k, &b); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store event briefs: %w", err)
			}
			out[k] = b
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store event briefs: %w", err)
		}
	}
	return out, nil
}

// SaveAlarms implements store.Store. It shares the group commit with
// Record.
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
	var res store.RecordResult
	err := s.write(ctx, len(batch)+len(snaps), func(ctx context.Context, tx *sql.Tx) error {
		res = store.RecordResult{}
		now := nanos(s.clock.Now())
		for _, sn := range snaps {
			var data any
			if sn.ReasonData != nil {
				data = sn.ReasonData
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO alarms (name, state, reason, reason_data, updated, actions_enabled, saved_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET state = excluded.state, reason = excluded.reason,
				reason_data = excluded.reason_data, updated = excluded.updated, actions_enabled = excluded.actions_enabled,
				saved_at = excluded.saved_at`,
				sn.Name, string(sn.State), sn.Reason, data, nanos(sn.Updated), sn.ActionsEnabled, now); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, batch, &res)
	})
	if err != nil {
		return store.RecordResult{}, fmt.Errorf("store save alarms: %w", err)
	}
	return res, nil
}

// AlarmSnapshots implements store.Store.
func (s *Store) AlarmSnapshots(ctx context.Context) ([]store.AlarmSnapshot, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+store.AlarmSnapshotColumns+` FROM alarms ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store alarm snapshots: %w", err)
	}
	defer rows.Close()
	return store.ReadAlarmSnapshots(rows)
}

// Checkpoint implements store.Store.
func (s *Store) Checkpoint(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM checkpoints WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store checkpoint: %w", err)
	}
	return v, true, nil
}

// SetCheckpoint implements store.Store. It shares the group commit with
// Record.
func (s *Store) SetCheckpoint(ctx context.Context, key, value string) error {
	err := s.write(ctx, 1, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			key, value, nanos(s.clock.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("store set checkpoint: %w", err)
	}
	return nil
}

// InitCheckpoint implements store.Store.
func (s *Store) InitCheckpoint(ctx context.Context, key, value string) (string, error) {
	var got string
	err := s.write(ctx, 1, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO NOTHING`, key, value, nanos(s.clock.Now())); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM checkpoints WHERE key = ?`, key).Scan(&got)
	})
	if err != nil {
		return "", fmt.Errorf("store init checkpoint: %w", err)
	}
	return got, nil
}

func (s *Store) recordHit(ctx context.Context, tx *sql.Tx, now time.Time, ev *store.Seen, h *store.Hit, res *store.RecordResult) error {
	folding := h.DedupPeriod > 0
	threshold := max(h.Threshold, 1)
	if !folding {
		threshold = 1
	}
	et := eventNanos(ev.EventTime)
	if folding {
		var id string
		err := tx.StmtContext(ctx, s.findFold).QueryRowContext(ctx, h.Rule, h.DedupKey, nanos(now)).Scan(&id)
		switch {
		case err == nil:
			return s.fold(ctx, tx, now, id, et, h, res)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	id := store.AlertID(h.Rule, h.DedupKey, now, folding)
	aj, err := json.Marshal(h.Alert)
	if err != nil {
		return fmt.Errorf("alert %s: %w", id, err)
	}
	var windowEnd sql.NullInt64
	if folding {
		windowEnd = sql.NullInt64{Int64: nanos(now.Add(h.DedupPeriod)), Valid: true}
	}
	var fired sql.NullInt64
	if threshold <= 1 {
		fired = sql.NullInt64{Int64: nanos(now), Valid: true}
	}
	r, err := tx.StmtContext(ctx, s.insAlert).ExecContext(ctx,
		id, h.Rule, h.Alert.Severity, h.DedupKey, threshold, nanos(now), nanos(now), windowEnd, et, et, fired, aj, h.Alert.Account)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		// The same rule matched the same key twice at one instant (a rule
		// listed twice, say): one alert.
		return s.fold(ctx, tx, now, id, et, h, res)
	}
	res.Alerts++
	if fired.Valid {
		return s.fire(ctx, tx, now, id, h.Alert, 1, h.Deliveries, res)
	}
	return nil
}

func (s *Store) fold(ctx context.Context, tx *sql.Tx, now time.Time, id string, et int64, h *store.Hit, res *store.RecordResult) error {
	var (
		count, threshold int
		firedNow         bool
		aj               []byte
	)
	err := tx.StmtContext(ctx, s.foldAlert).QueryRowContext(ctx, nanos(now), et, id).Scan(&count, &threshold, &firedNow, &aj)
	if err != nil {
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
	return s.fire(ctx, tx, now, id, a, count, h.Deliveries, res)
}

func (s *Store) fire(ctx context.Context, tx *sql.Tx, now time.Time, id string, a alert.Alert, count int, ds []store.Delivery, res *store.RecordResult) error {
	res.Fired++
	ins := tx.StmtContext(ctx, s.insDelivery)
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
		r, err := ins.ExecContext(ctx, did, id, d.Receiver, did, nj, nanos(now), nanos(due), every, most, d.Digest)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n > 0 {
			res.Queued++
		}
	}
	return nil
}

// alertState is an alert's state (store.AlertRow.State), the alerts'
// generated column state.
const alertState = `CASE
	WHEN fired_at IS NULL THEN 'pending'
	WHEN acked_at IS NOT NULL THEN 'acked'
	WHEN dead > 0 THEN 'dead-lettered'
	WHEN notified_at IS NOT NULL THEN 'notified'
	ELSE 'new' END`

const alertColumns = `a.id, a.rule, a.severity, a.dedup_key, a.count, a.threshold, a.state,
	a.first_seen, a.last_seen, a.first_event, a.last_event, a.fired_at, a.notified_at, a.acked_at,
	a.acked_by, a.reminders, a.alert`

func scanAlert(sc interface{ Scan(...any) error }) (store.AlertRow, error) {
	var (
		r                                        store.AlertRow
		fs, ls, fe, le, fired, notified, ackedAt sql.NullInt64
		aj                                       []byte
	)
	if err := sc.Scan(&r.ID, &r.Rule, &r.Severity, &r.DedupKey, &r.Count, &r.Threshold, &r.State,
		&fs, &ls, &fe, &le, &fired, &notified, &ackedAt, &r.AckedBy, &r.Reminders, &aj); err != nil {
		return r, err
	}
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
	switch f.State {
	case "":
		where = append(where, "a.fired_at IS NOT NULL")
	case store.StatePending, store.StateNew, store.StateNotified, store.StateAcked, store.StateDeadLettered:
		where = append(where, "a.state = ?")
		args = append(args, f.State)
	default:
		return nil, fmt.Errorf("store alerts: unknown state %q", f.State)
	}
	if f.Rule != "" {
		where = append(where, "a.rule = ?")
		args = append(args, f.Rule)
	}
	if f.Severity != "" {
		where = append(where, "a.severity = ? COLLATE NOCASE") // as alerts_severity
		args = append(args, f.Severity)
	}
	if f.Account != "" {
		where = append(where, "a.account = ?")
		args = append(args, f.Account)
	}
	if !f.Since.IsZero() {
		where = append(where, "a.first_seen >= ?")
		args = append(args, nanos(f.Since))
	}
	if c := f.After; !c.IsZero() {
		if c.FirstSeen.IsZero() {
			return nil, fmt.Errorf("store alerts: cursor after alert %q has no first-seen time", c.ID)
		}
		// The rows after c in the list's order; first_seen <= bounds the
		// index's range, the rest picks within it.
		where = append(where, "a.first_seen <= ? AND (a.first_seen < ? OR a.id > ?)")
		args = append(args, nanos(c.FirstSeen), nanos(c.FirstSeen), c.ID)
	}
	q := "SELECT " + alertColumns + " FROM alerts a WHERE " + strings.Join(where, " AND ") + " ORDER BY a.first_seen DESC, a.id"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
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
	if err := summarise(ctx, s.r, out); err != nil {
		return nil, fmt.Errorf("store alerts: %w", err)
	}
	return out, nil
}

// querier is what the readers query: the pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// summarise fills the alerts' Deliveries.
func summarise(ctx context.Context, q querier, as []store.AlertRow) error {
	idx := make(map[string]int, len(as))
	for i := range as {
		idx[as[i].ID] = i
	}
	for start := 0; start < len(as); start += 500 {
		chunk := as[start:min(start+500, len(as))]
		args := make([]any, len(chunk))
		for i := range chunk {
			args[i] = chunk[i].ID
		}
		rows, err := q.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
			WHERE alert_id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`) ORDER BY queued_at, reminder, id`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			d, err := scanDelivery(rows, false)
			if err != nil {
				rows.Close()
				return err
			}
			a := &as[idx[d.AlertID]]
			a.Deliveries = append(a.Deliveries, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

const deliveryColumns = `id, alert_id, receiver, reminder, state, attempts, queued_at, due_at, done_at, last_error, token, digest, remind_every, remind_max, remind_next, notification`

// scanDeliveryRaw scans a row of deliveryColumns, leaving the notification
// encoded.
func scanDeliveryRaw(sc interface{ Scan(...any) error }) (store.DeliveryRow, []byte, error) {
	var (
		d                   store.DeliveryRow
		queued, due, doneAt sql.NullInt64
		remindNext          sql.NullInt64
		remindEvery         int64
		nj                  []byte
	)
	if err := sc.Scan(&d.ID, &d.AlertID, &d.Receiver, &d.Reminder, &d.State, &d.Attempts,
		&queued, &due, &doneAt, &d.LastError, &d.Token, &d.Digest, &remindEvery, &d.RemindMax, &remindNext, &nj); err != nil {
		return d, nil, err
	}
	d.QueuedAt, d.DueAt, d.DoneAt = fromNanos(queued), fromNanos(due), fromNanos(doneAt)
	d.RemindEvery, d.RemindNext = time.Duration(remindEvery), fromNanos(remindNext)
	return d, nj, nil
}

func scanDelivery(sc interface{ Scan(...any) error }, withNotification bool) (store.DeliveryRow, error) {
	d, nj, err := scanDeliveryRaw(sc)
	if err != nil {
		return d, err
	}
	if withNotification {
		if err := json.Unmarshal(nj, &d.Notification); err != nil {
			return d, fmt.Errorf("delivery %s: %w", d.ID, err)
		}
	}
	return d, nil
}

// Alert implements store.Store. The alert, its deliveries and their
// attempt logs are read in one transaction: they agree.
func (s *Store) Alert(ctx context.Context, id string) (store.AlertRow, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.AlertRow{}, fmt.Errorf("store alert: %w", err)
	}
	defer tx.Rollback()
	r, err := scanAlert(tx.QueryRowContext(ctx, "SELECT "+alertColumns+" FROM alerts a WHERE a.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("store alert %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("store alert: %w", err)
	}
	as := []store.AlertRow{r}
	if err := summarise(ctx, tx, as); err != nil {
		return r, fmt.Errorf("store alert: %w", err)
	}
	if err := attemptLogs(ctx, tx, &as[0]); err != nil {
		return r, fmt.Errorf("store alert %s: %w", id, err)
	}
	return as[0], nil
}

// attemptLogs fills the Log of a's deliveries.
func attemptLogs(ctx context.Context, q querier, a *store.AlertRow) error {
	if len(a.Deliveries) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, `SELECT t.delivery_id, t.n, t.at, t.outcome, t.error, t.next_at
		FROM deliveries d JOIN delivery_attempts t ON t.delivery_id = d.id
		WHERE d.alert_id = ? ORDER BY t.delivery_id, t.seq`, a.ID)
	if err != nil {
		return fmt.Errorf("attempt log: %w", err)
	}
	defer rows.Close()
	return store.ReadAttemptLogs(a, rows)
}

// Ack implements store.Store.
func (s *Store) Ack(ctx context.Context, id, by string) error {
	now := s.clock.Now()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store ack: %w", err)
	}
	defer tx.Rollback()
	var acked sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT acked_at FROM alerts WHERE id = ?`, id).Scan(&acked)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store ack %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store ack: %w", err)
	}
	if acked.Valid {
		return nil
	}
	for _, q := range []string{
		`UPDATE alerts SET acked_at = ?2, acked_by = ?3 WHERE id = ?1`,
		`UPDATE deliveries SET remind_next = NULL WHERE alert_id = ?1 AND remind_next IS NOT NULL`,
		`UPDATE deliveries SET state = 'cancelled', done_at = ?2, last_error = 'acknowledged'
			WHERE alert_id = ?1 AND reminder > 0 AND state = 'pending'`,
	} {
		if _, err := tx.ExecContext(ctx, q, id, nanos(now), by); err != nil {
			return fmt.Errorf("store ack: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store ack: %w", err)
	}
	return nil
}

// DeadLetters implements store.Store.
func (s *Store) DeadLetters(ctx context.Context) ([]store.DeliveryRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
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
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store requeue: %w", err)
	}
	defer tx.Rollback()
	var alertID string
	err = tx.QueryRowContext(ctx, `UPDATE deliveries SET state = 'pending', queued_at = ?, due_at = ?,
		attempts = 0, done_at = NULL, token = '', owner = ''
		WHERE id = ? AND state = 'dead' RETURNING alert_id`, now, now, id).Scan(&alertID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store requeue %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store requeue: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE alerts SET dead = dead - 1 WHERE id = ? AND dead > 0`, alertID); err != nil {
		return fmt.Errorf("store requeue: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store requeue: %w", err)
	}
	return nil
}

func newToken() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Claim implements store.Store. It shares the group commit with the other
// writes.
func (s *Store) Claim(ctx context.Context, owner string, most int, lease time.Duration) ([]store.DeliveryRow, error) {
	if most <= 0 {
		return nil, nil
	}
	now, token := s.clock.Now(), newToken()
	var (
		out []store.DeliveryRow
		njs [][]byte
	)
	err := s.send(&write{ctx: ctx, size: 1, last: true, run: func(ctx context.Context, tx *sql.Tx) error {
		out, njs = out[:0], njs[:0]
		scan := func(rows *sql.Rows, err error) error {
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				d, nj, err := scanDeliveryRaw(rows)
				if err != nil {
					return err
				}
				out, njs = append(out, d), append(njs, nj)
			}
			return rows.Err()
		}
		if err := scan(tx.StmtContext(ctx, s.claim).QueryContext(ctx, nanos(now.Add(lease)), token, owner, nanos(now), most)); err != nil {
			return err
		}
		// A digest goes out whole: take its other due deliveries too.
		var digests []string
		for _, d := range out {
			if d.Digest != "" && !slices.Contains(digests, d.Digest) {
				digests = append(digests, d.Digest)
			}
		}
		for _, dg := range digests {
			if err := scan(tx.StmtContext(ctx, s.claimDigest).QueryContext(ctx, nanos(now.Add(lease)), token, owner, nanos(now), dg)); err != nil {
				return err
			}
		}
		return nil
	}})
	if err != nil {
		return nil, fmt.Errorf("store claim: %w", err)
	}
	// Decoded after the commit, out of the writer's way.
	for i := range out {
		if err := json.Unmarshal(njs[i], &out[i].Notification); err != nil {
			return nil, fmt.Errorf("store claim: delivery %s: %w", out[i].ID, err)
		}
	}
	return out, nil
}

// Complete implements store.Store. Concurrent calls share one transaction.
func (s *Store) Complete(ctx context.Context, id, token string) error {
	now, lost := nanos(s.clock.Now()), false
	err := s.write(ctx, 1, func(ctx context.Context, tx *sql.Tx) error {
		lost = false
		var (
			alertID  string
			reminder int
		)
		err := tx.StmtContext(ctx, s.completeDelivery).QueryRowContext(ctx, now, id, token).Scan(&alertID, &reminder)
		if errors.Is(err, sql.ErrNoRows) {
			lost = true
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.logAttempt(ctx, tx, id, now, store.AttemptDelivered, "", sql.NullInt64{}); err != nil {
			return err
		}
		add := 0
		if reminder > 0 {
			add = 1
		}
		_, err = tx.StmtContext(ctx, s.completeAlert).ExecContext(ctx, now, add, alertID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store complete: %w", err)
	}
	if lost {
		return fmt.Errorf("store complete %s: %w", id, store.ErrLeaseLost)
	}
	return nil
}

// Retry implements store.Store. Concurrent calls share one transaction.
func (s *Store) Retry(ctx context.Context, id, token string, at time.Time, reason string) error {
	now, lost := nanos(s.clock.Now()), false
	err := s.write(ctx, 1, func(ctx context.Context, tx *sql.Tx) error {
		r, err := tx.StmtContext(ctx, s.retry).ExecContext(ctx, nanos(at), reason, id, token)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return err
		}
		if lost = n == 0; lost {
			return nil
		}
		return s.logAttempt(ctx, tx, id, now, store.AttemptRetry, reason, sql.NullInt64{Int64: nanos(at), Valid: true})
	})
	if err != nil {
		return fmt.Errorf("store retry: %w", err)
	}
	if lost {
		return fmt.Errorf("store retry %s: %w", id, store.ErrLeaseLost)
	}
	return nil
}

// DeadLetter implements store.Store. Concurrent calls share one
// transaction.
func (s *Store) DeadLetter(ctx context.Context, id, token, reason string) error {
	now, lost := nanos(s.clock.Now()), false
	err := s.write(ctx, 1, func(ctx context.Context, tx *sql.Tx) error {
		lost = false
		var alertID string
		err := tx.StmtContext(ctx, s.deadDelivery).QueryRowContext(ctx, now, reason, id, token).Scan(&alertID)
		if errors.Is(err, sql.ErrNoRows) {
			lost = true
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.logAttempt(ctx, tx, id, now, store.AttemptDeadLettered, reason, sql.NullInt64{}); err != nil {
			return err
		}
		_, err = tx.StmtContext(ctx, s.deadAlert).ExecContext(ctx, alertID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store dead letter: %w", err)
	}
	if lost {
		return fmt.Errorf("store dead letter %s: %w", id, store.ErrLeaseLost)
	}
	return nil
}

// logAttempt appends the attempt of delivery id that the caller just ended
// in tx (at at, with outcome) to its log. (An attempt whose lease expired
// is logged by the deliveries_reclaimed trigger.)
func (s *Store) logAttempt(ctx context.Context, tx *sql.Tx, id string, at int64, outcome, reason string, next sql.NullInt64) error {
	if _, err := tx.StmtContext(ctx, s.insAttempt).ExecContext(ctx, id, at, outcome, reason, next); err != nil {
		return fmt.Errorf("attempt log: %w", err)
	}
	return nil
}

func (s *Store) minTime(ctx context.Context, q *sql.Stmt) (time.Time, bool, error) {
	var n sql.NullInt64
	if err := q.QueryRowContext(ctx).Scan(&n); err != nil {
		return time.Time{}, false, err
	}
	if !n.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(0, n.Int64).UTC(), true, nil
}

// NextDue implements store.Store.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	t, ok, err := s.minTime(ctx, s.nextDue)
	if err != nil {
		return t, ok, fmt.Errorf("store next due: %w", err)
	}
	return t, ok, nil
}

// NextReminder implements store.Store.
func (s *Store) NextReminder(ctx context.Context) (time.Time, bool, error) {
	t, ok, err := s.minTime(ctx, s.nextReminder)
	if err != nil {
		return t, ok, fmt.Errorf("store next reminder: %w", err)
	}
	return t, ok, nil
}

// QueueReminders implements store.Store.
func (s *Store) QueueReminders(ctx context.Context) (int, error) {
	now := s.clock.Now()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store queue reminders: %w", err)
	}
	defer tx.Rollback()
	type due struct {
		id, alertID       string
		nj                []byte
		every             int64
		most, sent, count int
		busy              bool
	}
	rows, err := tx.QueryContext(ctx, `SELECT d.id, d.alert_id, d.notification, d.remind_every, d.remind_max,
			d.reminders_sent, a.count,
			EXISTS (SELECT 1 FROM deliveries p WHERE p.origin = d.id AND p.reminder > 0 AND p.state IN ('pending', 'running'))
		FROM deliveries d JOIN alerts a ON a.id = d.alert_id
		WHERE d.remind_next IS NOT NULL AND d.remind_next <= ? AND a.acked_at IS NULL
		ORDER BY d.remind_next, d.id`, nanos(now))
	if err != nil {
		return 0, fmt.Errorf("store queue reminders: %w", err)
	}
	var dues []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.alertID, &d.nj, &d.every, &d.most, &d.sent, &d.count, &d.busy); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store queue reminders: %w", err)
		}
		dues = append(dues, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store queue reminders: %w", err)
	}
	queued := 0
	for _, d := range dues {
		next := sql.NullInt64{Int64: nanos(now) + d.every, Valid: true}
		sent := d.sent
		if !d.busy {
			sent++
			var n notify.Notification
			if err := json.Unmarshal(d.nj, &n); err != nil {
				return 0, fmt.Errorf("store queue reminders: delivery %s: %w", d.id, err)
			}
			n.ID = store.ReminderID(d.id, sent)
			n.Key, n.Reminder, n.Count, n.Queued, n.AckURL, n.Digest = n.ID, sent, d.count, now.UTC(), "", ""
			nj, err := json.Marshal(&n)
			if err != nil {
				return 0, fmt.Errorf("store queue reminders: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries
				(id, alert_id, receiver, reminder, origin, state, notification, queued_at, due_at)
				VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				n.ID, d.alertID, n.Receiver, sent, d.id, nj, nanos(now), nanos(now)); err != nil {
				return 0, fmt.Errorf("store queue reminders: %w", err)
			}
			queued++
			if sent >= d.most {
				next = sql.NullInt64{}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET reminders_sent = ?, remind_next = ? WHERE id = ?`,
			sent, next, d.id); err != nil {
			return 0, fmt.Errorf("store queue reminders: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store queue reminders: %w", err)
	}
	return queued, nil
}

// PruneEvents implements store.Store.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	r, err := s.w.ExecContext(ctx, `DELETE FROM events WHERE seen_at < ?`, nanos(before))
	if err != nil {
		return 0, fmt.Errorf("store prune events: %w", err)
	}
	n, _ := r.RowsAffected()
	return n, nil
}
