package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// schemaVersion is the version of the schema below, kept in the
// schema_version table (PostgreSQL's own numbering: SQLite's user_version
// is another story).
const schemaVersion = 3

// migrateLock is the advisory lock key that serialises migrations: nodes
// starting together migrate one at a time, the others then find the
// schema current.
const migrateLock = 0x747277_6d696772 // "trw" "migr"

// schema is the whole schema, as version 3 has it (its IF NOT EXISTS let
// an older database take what it lacks, after migrate added the
// columns). Times are int64 unix nanoseconds, as in the SQLite store
// (exact round trips with the clock; timestamptz keeps microseconds
// only); ids sort bytewise (COLLATE "C") whatever the database's locale;
// event keys, dedup keys and metric keys are BYTEA, as they may hold NUL,
// which TEXT cannot.
const schema = `
CREATE TABLE IF NOT EXISTS events (
	key     BYTEA PRIMARY KEY,    -- an event key may hold any character, NUL too
	seen_at BIGINT NOT NULL,
	brief   BYTEA                -- what an alarm notification tells of it
);
CREATE INDEX IF NOT EXISTS events_seen ON events(seen_at);

CREATE TABLE IF NOT EXISTS alerts (
	id          TEXT COLLATE "C" PRIMARY KEY,
	rule        TEXT NOT NULL,
	severity    TEXT NOT NULL,
	dedup_key   BYTEA NOT NULL,    -- from the event: any character
	threshold   INTEGER NOT NULL,
	count       INTEGER NOT NULL,
	first_seen  BIGINT NOT NULL,
	last_seen   BIGINT NOT NULL,
	window_end  BIGINT,            -- NULL: the alert does not fold
	first_event BIGINT NOT NULL,   -- 0: unknown
	last_event  BIGINT NOT NULL,
	fired_at    BIGINT,
	notified_at BIGINT,
	acked_at    BIGINT,
	acked_by    TEXT NOT NULL DEFAULT '',
	dead        INTEGER NOT NULL DEFAULT 0,
	reminders   INTEGER NOT NULL DEFAULT 0,
	alert       BYTEA NOT NULL,    -- alert.Alert as JSON, byte for byte
	account     TEXT NOT NULL DEFAULT ''  -- version 3: alert.Alert.Account (store.AlertFilter.Account)
);
CREATE INDEX IF NOT EXISTS alerts_fold ON alerts(rule, dedup_key, window_end) WHERE window_end IS NOT NULL;
-- Version 3: the alerts list's order (store.AlertFilter), whole and after
-- each filter: a page reads an index from its cursor on and sorts
-- nothing; with two filters the planner takes the more selective index.
-- (Version 2's alerts_first, on first_seen alone, sorted the alerts
-- sharing a first_seen and scanned for the filters.) The state's and the
-- severity's are on the expressions the queries compare.
CREATE INDEX IF NOT EXISTS alerts_list ON alerts(first_seen DESC, id);
CREATE INDEX IF NOT EXISTS alerts_state ON alerts((` + alertState + `), first_seen DESC, id);
CREATE INDEX IF NOT EXISTS alerts_severity ON alerts(lower(severity), first_seen DESC, id);
CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule, first_seen DESC, id);
CREATE INDEX IF NOT EXISTS alerts_account ON alerts(account, first_seen DESC, id);

CREATE TABLE IF NOT EXISTS deliveries (
	id             TEXT COLLATE "C" PRIMARY KEY,
	alert_id       TEXT COLLATE "C" NOT NULL REFERENCES alerts(id),
	receiver       TEXT NOT NULL,
	reminder       INTEGER NOT NULL,
	origin         TEXT COLLATE "C" NOT NULL, -- the first notification a reminder repeats; itself for one
	state          TEXT NOT NULL,
	notification   BYTEA NOT NULL,
	queued_at      BIGINT NOT NULL,
	due_at         BIGINT NOT NULL,
	attempts       INTEGER NOT NULL DEFAULT 0,
	token          TEXT NOT NULL DEFAULT '',
	owner          TEXT NOT NULL DEFAULT '',
	last_error     TEXT NOT NULL DEFAULT '',
	done_at        BIGINT,
	remind_every   BIGINT NOT NULL DEFAULT 0,
	remind_max     INTEGER NOT NULL DEFAULT 0,
	remind_next    BIGINT,
	reminders_sent INTEGER NOT NULL DEFAULT 0,
	digest         TEXT NOT NULL DEFAULT ''  -- store.Delivery.Digest; '': none
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(due_at, id) WHERE state IN ('pending', 'running');
CREATE INDEX IF NOT EXISTS deliveries_alert ON deliveries(alert_id);
CREATE INDEX IF NOT EXISTS deliveries_remind ON deliveries(remind_next) WHERE remind_next IS NOT NULL;
CREATE INDEX IF NOT EXISTS deliveries_dead ON deliveries(done_at) WHERE state = 'dead';
CREATE INDEX IF NOT EXISTS deliveries_origin ON deliveries(origin) WHERE reminder > 0 AND state IN ('pending', 'running');
CREATE INDEX IF NOT EXISTS deliveries_digest ON deliveries(digest) WHERE digest <> '' AND state IN ('pending', 'running');

-- Metric datapoints, summed per metric (alarm.MetricKey), 10-second bucket
-- (unix seconds / 10) and unit: rows every node upserts. keys holds the
-- events behind the first datapoints, one JSON array [eventKey, value] a
-- line.
CREATE TABLE IF NOT EXISTS metric_buckets (
	metric     BYTEA NOT NULL,      -- alarm.MetricKey: NUL-separated
	bucket     BIGINT NOT NULL,
	unit       TEXT COLLATE "C" NOT NULL,
	namespace  TEXT NOT NULL,
	name       TEXT NOT NULL,
	dimensions TEXT NOT NULL,       -- JSON object
	count      BIGINT NOT NULL,
	sum        DOUBLE PRECISION NOT NULL,
	min        DOUBLE PRECISION NOT NULL,
	max        DOUBLE PRECISION NOT NULL,
	nkeys      INTEGER NOT NULL,
	keys       TEXT NOT NULL,
	PRIMARY KEY (metric, bucket, unit)
);
CREATE INDEX IF NOT EXISTS metric_buckets_bucket ON metric_buckets(bucket);
-- Each distinct value's count: exact percentiles.
CREATE TABLE IF NOT EXISTS metric_values (
	metric BYTEA NOT NULL,
	bucket BIGINT NOT NULL,
	unit   TEXT COLLATE "C" NOT NULL,
	value  DOUBLE PRECISION NOT NULL,
	n      BIGINT NOT NULL,
	PRIMARY KEY (metric, bucket, unit, value)
);
CREATE INDEX IF NOT EXISTS metric_values_bucket ON metric_values(bucket);

CREATE TABLE IF NOT EXISTS alarms (
	name            TEXT COLLATE "C" PRIMARY KEY,
	state           TEXT NOT NULL,
	reason          TEXT NOT NULL,
	reason_data     BYTEA,
	updated         BIGINT NOT NULL,
	actions_enabled BOOLEAN NOT NULL,
	saved_at        BIGINT NOT NULL
);

-- How far each source has read (store.Store.SetCheckpoint).
CREATE TABLE IF NOT EXISTS checkpoints (
	key        TEXT COLLATE "C" PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);

-- Version 2: each delivery's attempts that ended (store.Attempt), the last
-- store.AttemptLogSize of them (see logAttempts). seq numbers a
-- delivery's entries 1, 2, ... and goes on after a requeue, where n starts
-- again.
CREATE TABLE IF NOT EXISTS delivery_attempts (
	delivery_id TEXT COLLATE "C" NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL,
	n           INTEGER NOT NULL,  -- the attempt's number: deliveries.attempts when claimed
	at          BIGINT NOT NULL,
	outcome     TEXT NOT NULL,     -- store.Attempt*
	error       TEXT NOT NULL DEFAULT '',
	next_at     BIGINT,            -- retry: when the next attempt is due
	PRIMARY KEY (delivery_id, seq)
);
`

// alertState is an alert's state (store.AlertRow.State).
const alertState = `CASE
	WHEN fired_at IS NULL THEN 'pending'
	WHEN acked_at IS NOT NULL THEN 'acked'
	WHEN dead > 0 THEN 'dead-lettered'
	WHEN notified_at IS NOT NULL THEN 'notified'
	ELSE 'new' END`

// migrateAlertsList gives a version 1 or 2 database's alerts version 3's
// account, filled from each alert's JSON (Record fills it from then on);
// schema then adds the list's indexes (after the backfill: faster),
// instead of alerts_first.
func migrateAlertsList(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `ALTER TABLE alerts ADD COLUMN IF NOT EXISTS account TEXT NOT NULL DEFAULT '';
		DROP INDEX IF EXISTS alerts_first`); err != nil {
		return err
	}
	// The JSON is read here as the store reads it (encoding/json), not by
	// PostgreSQL's ->>, which fails on the whole UPDATE for one string
	// it cannot make text (\u0000, a lone surrogate) anywhere in an
	// alert's event. An alert that does not decode keeps ''.
	const batch = 1000
	after := ""
	for {
		rows, err := tx.Query(ctx, `SELECT id, alert FROM alerts WHERE id > $1 ORDER BY id LIMIT $2`, after, batch)
		if err != nil {
			return err
		}
		var ids, accounts []string
		n := 0
		for rows.Next() {
			var (
				aj []byte
				a  struct {
					Account string `json:"account"`
				}
			)
			if err := rows.Scan(&after, &aj); err != nil {
				rows.Close()
				return err
			}
			n++
			if json.Unmarshal(aj, &a) == nil && a.Account != "" {
				ids, accounts = append(ids, after), append(accounts, a.Account)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE alerts AS a SET account = u.account
				FROM unnest($1::text[], $2::text[]) AS u(id, account) WHERE a.id = u.id`, ids, accounts); err != nil {
				return err
			}
		}
		if n < batch {
			return nil
		}
	}
}

// migrate brings the database to schemaVersion under an advisory lock
// (DDL is transactional in PostgreSQL: a failed migration leaves nothing).
func (s *Store) migrate(ctx context.Context) error {
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var v int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
			return err
		}
		if v > schemaVersion {
			return fmt.Errorf("database schema %d is newer than this program's %d", v, schemaVersion)
		}
		if v == schemaVersion {
			return nil
		}
		if v >= 1 && v <= 2 {
			if err := migrateAlertsList(ctx, tx); err != nil {
				return fmt.Errorf("version 3: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM schema_version`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, schemaVersion)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres migrate: %w", err)
	}
	return nil
}
