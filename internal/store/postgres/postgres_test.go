package postgres

import (
	"context"
	"sync"
	"testing"

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
