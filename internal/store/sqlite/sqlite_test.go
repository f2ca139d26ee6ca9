package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/storetest"
)

func opener(t *testing.T, clk clock.Clock) func() store.Store {
	path := filepath.Join(t.TempDir(), "trailwatch.db")
	return func() store.Store {
		s, err := Open(t.Context(), path, Options{Clock: clk, Synchronous: "NORMAL"})
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
