package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkEndToEnd sends events to POST /events at a fixed rate (one
// event per request, as EventBridge API destinations deliver them), each
// matching a rule routed to a webhook, and reports the latency from the
// POST to the receiver's request: p50 and p99 (goal: p99 < 50 ms at
// 2,000 events/s on a 2-core machine). Run with -benchtime=1x; the rate
// is -rate style via the sub-benchmark name.
func BenchmarkEndToEnd(b *testing.B) {
	for _, rate := range []int{500, 2000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			benchEndToEnd(b, rate, 2*time.Second)
		})
	}
}

func benchEndToEnd(b *testing.B, rate int, dur time.Duration) {
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lat []time.Duration
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		now := time.Now()
		i := strings.Index(string(body), `"event_id":"`)
		if i < 0 {
			return
		}
		id := string(body[i+12 : i+12+strings.IndexByte(string(body[i+12:]), '"')])
		mu.Lock()
		if t, ok := sent[id]; ok {
			lat = append(lat, now.Sub(t))
			delete(sent, id)
		}
		mu.Unlock()
	}))
	defer hook.Close()
	dir := b.TempDir()
	cfg := dir + "/c.yaml"
	if err := writeFileErr(cfg, `
receivers:
  - name: hook
    webhook: {url: "`+hook.URL+`"}
routes:
  - rules: [root-console-signin]
    receivers: [hook]
`); err != nil {
		b.Fatal(err)
	}
	a, err := New(context.Background(), Options{ConfigFiles: []string{cfg}, DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	if err := a.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	url := "http://" + a.Addr() + "/events"
	total := int(float64(rate) * dur.Seconds())
	interval := time.Second / time.Duration(rate)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < total; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d) // the load's own pacing
		}
		id := fmt.Sprintf("bench-%d-%d", rate, i)
		mu.Lock()
		sent[id] = time.Now()
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Post(url, "application/json", strings.NewReader(envelope(rootLogin(id))))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(lat)
		mu.Unlock()
		if n == total || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	if len(lat) < total {
		b.Errorf("%d of %d events reached the receiver", len(lat), total)
	}
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/time.Since(start).Seconds(), "delivered/s")
}
