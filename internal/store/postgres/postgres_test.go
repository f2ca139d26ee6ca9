package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/postgres/pgtest"
	"github.com/trailwatch/trailwatch/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func opener(t *testing.T, clk clock.Clock) func() store.Store {
	url := pgtest.Start(t)
	return func() store.Store {
		s, err := Open(t.Context(), url, Options{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		return s
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, opener)
}

// Nodes starting together migrate one at a time: each Open succeeds and
// the schema is created once.
func TestOpenTogether(t *testing.T) {
	t.Parallel()
	url := pgtest.Start(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(context.Background(), url, Options{})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
	s, err := Open(t.Context(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n, v int
	if err := s.pool.QueryRow(t.Context(), `SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&n, &v); err != nil || n != 1 || v != schemaVersion {
		t.Errorf("schema_version: %d rows, version %d, %v", n, v, err)
	}
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	t.Parallel()
	url := pgtest.Start(t)
	s, err := Open(t.Context(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(t.Context(), `UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(t.Context(), url, Options{}); err == nil {
		t.Error("a newer schema accepted")
	}
	if _, err := Open(t.Context(), "postgres://127.0.0.1:1/nope?connect_timeout=5", Options{}); err == nil {
		t.Error("an unreachable server accepted")
	}
}

// Event and dedup keys come from the events: any character, NUL too.
func TestKeysWithNUL(t *testing.T) {
	t.Parallel()
	s := opener(t, clock.NewFake(storetest.Epoch))()
	key := "e\x00vil\xff"
	h := store.Hit{Rule: "r", DedupKey: key, Threshold: 1, Deliveries: []store.Delivery{{Receiver: "hook"}}}
	for range 2 {
		if _, err := s.Record(t.Context(), []store.Seen{{EventKey: key, Hits: []store.Hit{h}, Brief: []byte("b")}}); err != nil {
			t.Fatal(err)
		}
	}
	as, err := s.Alerts(t.Context(), store.AlertFilter{})
	if err != nil || len(as) != 1 || as[0].DedupKey != key {
		t.Fatalf("alerts = %+v, %v", as, err)
	}
	if b, err := s.EventBriefs(t.Context(), []string{key}); err != nil || string(b[key]) != "b" {
		t.Errorf("EventBriefs = %q, %v", b, err)
	}
}

// A version 1 database (no attempt log) takes the table and keeps its
// deliveries: a claim made before the migration that expires after it is
// logged.
func TestMigrateFromVersion1(t *testing.T) {
	t.Parallel()
	url := pgtest.Start(t)
	clk := clock.NewFake(storetest.Epoch)
	s, err := Open(t.Context(), url, Options{Clock: clk})
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
	if _, err := s.pool.Exec(t.Context(), `DROP TABLE delivery_attempts; UPDATE schema_version SET version = 1`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(t.Context(), url, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	if err := s.pool.QueryRow(t.Context(), `SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil || v != schemaVersion {
		t.Errorf("schema_version = %d, %v; want %d", v, err, schemaVersion)
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
	s := opener(t, clock.NewFake(storetest.Epoch))().(*Store)
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
		if err := s.pool.QueryRow(t.Context(), `SELECT COUNT(*) FROM delivery_attempts WHERE delivery_id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count(ds[0].ID) != 1 || count(ds[1].ID) != 1 {
		t.Fatalf("logged %d and %d, want 1 each", count(ds[0].ID), count(ds[1].ID))
	}
	if _, err := s.pool.Exec(t.Context(), `DELETE FROM deliveries WHERE id = $1`, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := count(ds[0].ID); n != 0 {
		t.Errorf("a deleted delivery keeps %d logged attempts", n)
	}
	if n := count(ds[1].ID); n != 1 {
		t.Errorf("the other delivery keeps %d logged attempts, want 1", n)
	}
}

// A version 2 database (the account inside the alerts' JSON only, the
// list ordered by alerts_first) takes version 3's column and indexes: its
// alerts are found by account, state and severity, those recorded after
// too.
func TestMigrateFromVersion2(t *testing.T) {
	t.Parallel()
	url := pgtest.Start(t)
	clk := clock.NewFake(storetest.Epoch)
	s, err := Open(t.Context(), url, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	hit := func(ev, account, severity string) store.Seen {
		h := store.Hit{Rule: "r", DedupKey: ev, Threshold: 1, Deliveries: []store.Delivery{{Receiver: "slack"}}}
		h.Alert.Rule, h.Alert.EventID, h.Alert.Account, h.Alert.Severity = "r", ev, account, severity
		// JSON's \u0000, which PostgreSQL's jsonb cannot hold.
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
	// More than the migration's batch of 1000, before and after the others.
	var many []store.Seen
	for i := range 2500 {
		many = append(many, hit(fmt.Sprint("many-", i), "777788889999", "info"))
	}
	if _, err := s.Record(t.Context(), many); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(t.Context(), `DROP INDEX alerts_list, alerts_state, alerts_severity, alerts_rule, alerts_account;
		ALTER TABLE alerts DROP COLUMN account;
		CREATE INDEX alerts_first ON alerts(first_seen);
		UPDATE schema_version SET version = 2`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(t.Context(), url, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	if err := s.pool.QueryRow(t.Context(), `SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil || v != schemaVersion {
		t.Errorf("schema_version = %d, %v; want %d", v, err, schemaVersion)
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
	if as, err := s.Alerts(t.Context(), store.AlertFilter{Account: "777788889999"}); err != nil || len(as) != len(many) {
		t.Errorf("after migration, %d alerts of the account of many, want %d (%v)", len(as), len(many), err)
	}
	rows, err := s.pool.Query(t.Context(), `SELECT indexname FROM pg_indexes WHERE tablename = 'alerts' ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alerts_account", "alerts_fold", "alerts_list", "alerts_pkey", "alerts_rule", "alerts_severity", "alerts_state"}; !slices.Equal(idx, want) {
		t.Errorf("indexes on alerts = %v, want %v", idx, want)
	}
}
