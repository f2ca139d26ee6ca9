package sqlite

import (
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
)

func TestReopenKeepsState(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dir with space", "tw.db")
	if err := mkdirAll(filepath.Dir(path)); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	s, err := Open(t.Context(), path, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(t.Context(), []store.Seen{{EventKey: "e1", Hits: []store.Hit{{Rule: "r", DedupKey: "e1", Threshold: 1,
		Deliveries: []store.Delivery{{Receiver: "slack"}}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(t.Context(), path, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Record(t.Context(), []store.Seen{{EventKey: "e1"}})
	if err != nil || res.Duplicates != 1 {
		t.Fatalf("after reopen: %+v %v", res, err)
	}
	if ds, err := s.Claim(t.Context(), "w", 10, time.Minute); err != nil || len(ds) != 1 {
		t.Fatalf("after reopen: claimed %d, %v", len(ds), err)
	}
	var mode string
	if err := s.r.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v", mode, err)
	}
	if _, err := s.r.ExecContext(t.Context(), "DELETE FROM events"); err == nil {
		t.Error("the read pool can write")
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Open(t.Context(), filepath.Join(dir, "a.db"), Options{Synchronous: "OFF"}); err == nil {
		t.Error("synchronous OFF accepted")
	}
	path := filepath.Join(dir, "newer.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(t.Context(), path, Options{}); err == nil {
		t.Error("a newer schema accepted")
	}
}

func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

// A version 1 database (no datapoints, no alarm states, events without a
// brief) takes the new tables and keeps its events.
func TestMigrateFromVersion1(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE events (key TEXT PRIMARY KEY, seen_at INTEGER NOT NULL) WITHOUT ROWID`,
		`INSERT INTO events VALUES ('old', 1)`,
		`PRAGMA user_version = 1`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Record(t.Context(), []store.Seen{{EventKey: "old"}, {EventKey: "new", Brief: []byte(`{}`)}})
	if err != nil || res.Duplicates != 1 || res.Events != 1 {
		t.Fatalf("after migration: %+v %v", res, err)
	}
	if snaps, err := s.AlarmSnapshots(t.Context()); err != nil || len(snaps) != 0 {
		t.Errorf("AlarmSnapshots = %v, %v", snaps, err)
	}
}

// A version 2 database (deliveries without a digest) takes the column and
// keeps its queued deliveries.
func TestMigrateFromVersion2(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v2.db")
	clk := clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	s, err := Open(t.Context(), path, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(t.Context(), []store.Seen{{EventKey: "e1", Hits: []store.Hit{{Rule: "r", DedupKey: "e1", Threshold: 1,
		Deliveries: []store.Delivery{{Receiver: "slack"}}}}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP INDEX deliveries_digest`,
		`ALTER TABLE deliveries DROP COLUMN digest`,
		`PRAGMA user_version = 2`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	s, err = Open(t.Context(), path, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Record(t.Context(), []store.Seen{{EventKey: "e2", Hits: []store.Hit{{Rule: "r", DedupKey: "e2", Threshold: 1,
		Deliveries: []store.Delivery{{Receiver: "slack", Digest: "d"}}}}}}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(t.Context(), "w", 10, time.Minute)
	if err != nil || len(ds) != 2 {
		t.Fatalf("after migration: claimed %d, %v", len(ds), err)
	}
	digests := map[string]bool{}
	for _, d := range ds {
		digests[d.Digest] = true
	}
	if !digests[""] || !digests["d"] {
		t.Errorf("digests = %v, want the old one without and the new one with", digests)
	}
}

// A version 3 database (no checkpoints) takes the table and keeps its
// events.
func TestMigrateFromVersion3(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v3.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(t.Context(), []store.Seen{{EventKey: "old"}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE checkpoints`, `PRAGMA user_version = 3`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	s, err = Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok, err := s.Checkpoint(t.Context(), "k"); err != nil || ok {
		t.Fatalf("Checkpoint after migration: %v, %v", ok, err)
	}
	if err := s.SetCheckpoint(t.Context(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Checkpoint(t.Context(), "k"); err != nil || !ok || v != "v" {
		t.Fatalf("Checkpoint = %q, %v, %v", v, ok, err)
	}
	res, err := s.Record(t.Context(), []store.Seen{{EventKey: "old"}})
	if err != nil || res.Duplicates != 1 {
		t.Fatalf("after migration: %+v %v", res, err)
	}
}

// A version 4 database (no attempt log) takes the table and its trigger
// and keeps its deliveries: a claim made before the migration that
// expires after it is logged.
func TestMigrateFromVersion4(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v4.db")
	clk := clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	s, err := Open(t.Context(), path, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(t.Context(), []store.Seen{{EventKey: "e1", Hits: []store.Hit{{Rule: "r", DedupKey: "e1", Threshold: 1,
		Deliveries: []store.Delivery{{Receiver: "slack"}}}}}}); err != nil {
		t.Fatal(err)
	}
	if ds, err := s.Claim(t.Context(), "w", 10, time.Minute); err != nil || len(ds) != 1 {
		t.Fatalf("claimed %d, %v", len(ds), err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER deliveries_reclaimed`, `DROP TABLE delivery_attempts`, `PRAGMA user_version = 4`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	s, err = Open(t.Context(), path, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	if err := s.r.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion {
		t.Errorf("user_version = %d, %v; want %d", v, err, schemaVersion)
	}
	clk.Advance(time.Minute)
	ds, err := s.Claim(t.Context(), "w", 10, time.Minute)
	if err != nil || len(ds) != 1 || ds[0].Attempts != 2 {
		t.Fatalf("after migration: claimed %+v, %v", ds, err)
	}
	if err := s.Retry(t.Context(), ds[0].ID, ds[0].Token, clk.Now(), "503"); err != nil {
		t.Fatal(err)
	}
	a, err := s.Alert(t.Context(), ds[0].AlertID)
	if err != nil {
		t.Fatal(err)
	}
	log := a.Deliveries[0].Log
	if len(log) != 2 || log[0].Outcome != store.AttemptLeaseExpired || log[0].N != 1 || log[1].Outcome != store.AttemptRetry || log[1].N != 2 {
		t.Errorf("log after migration = %+v", log)
	}
}

// Whatever deletes a delivery deletes its attempt log with it.
func TestAttemptLogGoesWithItsDelivery(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "tw.db"), Options{Clock: clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Record(t.Context(), []store.Seen{{EventKey: "e1", Hits: []store.Hit{{Rule: "r", DedupKey: "e1", Threshold: 1,
		Deliveries: []store.Delivery{{Receiver: "slack"}, {Receiver: "mail"}}}}}}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(t.Context(), "w", 10, time.Minute)
	if err != nil || len(ds) != 2 {
		t.Fatalf("claimed %d, %v", len(ds), err)
	}
	for _, d := range ds {
		if err := s.DeadLetter(t.Context(), d.ID, d.Token, "gone"); err != nil {
			t.Fatal(err)
		}
	}
	count := func(id string) (n int) {
		t.Helper()
		if err := s.r.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM delivery_attempts WHERE delivery_id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count(ds[0].ID) != 1 || count(ds[1].ID) != 1 {
		t.Fatalf("logged %d and %d, want 1 each", count(ds[0].ID), count(ds[1].ID))
	}
	if _, err := s.w.ExecContext(t.Context(), `DELETE FROM deliveries WHERE id = ?`, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := count(ds[0].ID); n != 0 {
		t.Errorf("a deleted delivery keeps %d logged attempts", n)
	}
	if n := count(ds[1].ID); n != 1 {
		t.Errorf("the other delivery keeps %d logged attempts, want 1", n)
	}
}

// A version 5 database (the account inside the alerts' JSON only, state
// not a column, the list ordered by alerts_first) takes version 6's
// columns and indexes: its alerts are found by account, state and
// severity, those recorded after too.
func TestMigrateFromVersion5(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v5.db")
	clk := clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	s, err := Open(t.Context(), path, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	hit := func(ev, account, severity string) store.Seen {
		h := store.Hit{Rule: "r", DedupKey: ev, Threshold: 1, Deliveries: []store.Delivery{{Receiver: "slack"}}}
		h.Alert.Rule, h.Alert.EventID, h.Alert.Account, h.Alert.Severity = "r", ev, account, severity
		h.Alert.Summary = "a summary with a NUL \x00 in it"
		return store.Seen{EventKey: ev, Hits: []store.Hit{h}}
	}
	if _, err := s.Record(t.Context(), []store.Seen{hit("e1", "111122223333", "high"), hit("e2", "444455556666", "low"), hit("e3", "", "low")}); err != nil {
		t.Fatal(err)
	}
	id := func(ev string) string { return store.AlertID("r", ev, time.Time{}, false) }
	if err := s.Ack(t.Context(), id("e2"), "alice"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP INDEX alerts_list`, `DROP INDEX alerts_state`, `DROP INDEX alerts_severity`, `DROP INDEX alerts_rule`, `DROP INDEX alerts_account`,
		`ALTER TABLE alerts DROP COLUMN state`, `ALTER TABLE alerts DROP COLUMN account`,
		`CREATE INDEX alerts_first ON alerts(first_seen)`,
		`PRAGMA user_version = 5`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	s, err = Open(t.Context(), path, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	if err := s.r.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion {
		t.Errorf("user_version = %d, %v; want %d", v, err, schemaVersion)
	}
	clk.Advance(time.Minute)
	if _, err := s.Record(t.Context(), []store.Seen{hit("e4", "111122223333", "critical")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    store.AlertFilter
		want []string
	}{
		{store.AlertFilter{Account: "111122223333"}, []string{id("e4"), id("e1")}},
		{store.AlertFilter{Account: "444455556666"}, []string{id("e2")}},
		{store.AlertFilter{State: store.StateAcked}, []string{id("e2")}},
		{store.AlertFilter{Severity: "LOW", State: store.StateNew}, []string{id("e3")}},
	} {
		as, err := s.Alerts(t.Context(), tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range as {
			got = append(got, a.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("after migration, Alerts(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
	rows, err := s.r.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alerts' AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var idx []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		idx = append(idx, n)
	}
	if want := []string{"alerts_account", "alerts_fold", "alerts_list", "alerts_rule", "alerts_severity", "alerts_state"}; !slices.Equal(idx, want) {
		t.Errorf("indexes on alerts = %v, want %v", idx, want)
	}
}
