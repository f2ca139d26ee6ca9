package sqlite

import (
	"database/sql"
	"os"
	"path/filepath"
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
