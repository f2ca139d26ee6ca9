package storetest

import (
	"sync"
	"testing"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
)

func checkpoint(t *testing.T, s store.Store, key string) (string, bool) {
	t.Helper()
	v, ok, err := s.Checkpoint(ctxT(t), key)
	if err != nil {
		t.Fatalf("Checkpoint(%q): %v", key, err)
	}
	return v, ok
}

func setCheckpoint(t *testing.T, s store.Store, key, value string) {
	t.Helper()
	if err := s.SetCheckpoint(ctxT(t), key, value); err != nil {
		t.Fatalf("SetCheckpoint(%q, %q): %v", key, value, err)
	}
}

// A checkpoint reads back what was last saved under its key, from any
// handle; other keys are untouched; a missing key is not an error.
func testCheckpointRoundTrip(t *testing.T, clk *clock.Fake, open func() store.Store) {
	a, b := open(), open()
	if v, ok := checkpoint(t, a, "s3/bucket/AWSLogs/111122223333/CloudTrail/us-east-1/"); ok || v != "" {
		t.Fatalf("unset checkpoint = %q, %v; want none", v, ok)
	}
	setCheckpoint(t, a, "k1", "AWSLogs/1/CloudTrail/us-east-1/2026/03/01/a.json.gz")
	setCheckpoint(t, a, "k2", "x")
	setCheckpoint(t, a, "k1", "AWSLogs/1/CloudTrail/us-east-1/2026/03/01/b.json.gz")
	setCheckpoint(t, a, "empty", "")
	for _, s := range []store.Store{a, b} {
		if v, ok := checkpoint(t, s, "k1"); !ok || v != "AWSLogs/1/CloudTrail/us-east-1/2026/03/01/b.json.gz" {
			t.Errorf("k1 = %q, %v; want the last value", v, ok)
		}
		if v, ok := checkpoint(t, s, "k2"); !ok || v != "x" {
			t.Errorf("k2 = %q, %v", v, ok)
		}
		if v, ok := checkpoint(t, s, "empty"); !ok || v != "" {
			t.Errorf("empty = %q, %v; want a saved empty value", v, ok)
		}
	}
}

// Checkpoints written concurrently (through the group commit, alongside
// Record) each land; a checkpoint survives with the events recorded before
// it.
func testCheckpointConcurrent(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	var wg sync.WaitGroup
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Record(ctxT(t), []store.Seen{seen(k + "-event")}); err != nil {
				t.Errorf("Record: %v", err)
			}
			if err := s.SetCheckpoint(ctxT(t), k, keys[len(keys)-1-i]); err != nil {
				t.Errorf("SetCheckpoint: %v", err)
			}
		}()
	}
	wg.Wait()
	r := open()
	for i, k := range keys {
		if v, ok := checkpoint(t, r, k); !ok || v != keys[len(keys)-1-i] {
			t.Errorf("%s = %q, %v", k, v, ok)
		}
	}
	if res := record(t, r, seen("a-event")); res.Duplicates != 1 {
		t.Errorf("event recorded before the checkpoint not seen: %+v", res)
	}
}

// InitCheckpoint keeps the first value written, whichever handle (node)
// wrote it and however many race: every caller gets that one value, and a
// later SetCheckpoint still changes it.
func testInitCheckpoint(t *testing.T, clk *clock.Fake, open func() store.Store) {
	a, b := open(), open()
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			v, err := s.InitCheckpoint(ctxT(t), "secret/k", string(rune('a'+i)))
			if err != nil {
				t.Errorf("InitCheckpoint %d: %v", i, err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	for i, v := range got {
		if v != got[0] || v == "" {
			t.Fatalf("caller %d got %q, caller 0 %q: want one value for all", i, v, got[0])
		}
	}
	if v, ok := checkpoint(t, b, "secret/k"); !ok || v != got[0] {
		t.Errorf("Checkpoint = %q %v, want %q", v, ok, got[0])
	}
	if v, err := a.InitCheckpoint(ctxT(t), "secret/k", "later"); err != nil || v != got[0] {
		t.Errorf("a later InitCheckpoint = %q %v, want the first value %q", v, err, got[0])
	}
	setCheckpoint(t, a, "secret/k", "replaced")
	if v, err := b.InitCheckpoint(ctxT(t), "secret/k", "x"); err != nil || v != "replaced" {
		t.Errorf("after SetCheckpoint: %q %v", v, err)
	}
}
