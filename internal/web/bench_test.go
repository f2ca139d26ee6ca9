package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/event"
)

// BenchmarkPostEventsOne posts one EventBridge event, authenticated by an
// API key, through the handler to a sink that does nothing.
func BenchmarkPostEventsOne(b *testing.B) {
	nop := SinkFunc(func(ctx context.Context, evs []*event.Event) (IngestResult, error) {
		return IngestResult{Events: len(evs)}, nil
	})
	s, err := New(Options{Sink: nop, Now: fixedNow, Registry: prometheus.NewRegistry(), APIKeys: map[string]string{"x-api-key": "k"}})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	body := ebEvent("bench-1")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(body))
		req.Header.Set("X-Api-Key", "k")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
