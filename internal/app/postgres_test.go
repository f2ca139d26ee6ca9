package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/postgres/pgtest"
)

// The package's tests that use PostgreSQL share one throwaway server.
func TestMain(m *testing.M) { pgtest.Main(m) }

// serve on PostgreSQL, end to end: ingest, a webhook that fails twice then
// takes the alert, an acknowledgement through the API.
func TestPostgresRetryThenAck(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	var mu sync.Mutex
	calls := 0
	delivered := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		switch n {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			b, _ := io.ReadAll(r.Body)
			delivered <- b
		}
	}))
	t.Cleanup(hook.Close)
	cfgFile := t.TempDir() + "/trailwatch.yaml"
	writeFile(t, cfgFile, `
builtin_rules: true
receivers:
  - name: hook
    webhook: {url: "`+hook.URL+`"}
routes:
  - rules: [root-console-signin]
    receivers: [hook]
`)
	a := start(t, Options{ConfigFiles: []string{cfgFile}, Postgres: pg, IngestAPIKeys: map[string]string{"X-Api-Key": "k1"}, AdminToken: "admin"})
	if code, body := post(t, a, envelope(rootLogin("r-1")), http.Header{"X-Api-Key": {"k1"}}); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	b := wait(t, delivered, "the webhook delivery")
	waitAllDelivered(t, a) // the outbox records the delivery after the webhook answered
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil || got["rule"] != "root-console-signin" || got["event_id"] != "r-1" {
		t.Errorf("webhook body %s (%v)", b, err)
	}
	// Redelivered: one alert still.
	if code, body := post(t, a, envelope(rootLogin("r-1")), http.Header{"X-Api-Key": {"k1"}}); code != http.StatusOK {
		t.Fatalf("POST again: %d %s", code, body)
	}
	ctx := context.Background()
	rows, err := a.Store().Alerts(ctx, store.AlertFilter{Rule: "root-console-signin"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d alerts, %v", len(rows), err)
	}
	req, _ := http.NewRequest("POST", "http://"+a.Addr()+"/alerts/"+rows[0].ID+"/ack", strings.NewReader(`{"by":"alice"}`))
	req.Header.Set("Authorization", "Bearer admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ack: %d", resp.StatusCode)
	}
	row, err := a.Store().Alert(ctx, rows[0].ID)
	if err != nil || row.State != store.StateAcked || row.AckedBy != "alice" || row.NotifiedAt.IsZero() {
		t.Errorf("after ack: %+v %v", row, err)
	}
}

// Two nodes on one database, both ingesting every event (as two sources
// would, or a retried POST through a load balancer) and both running their
// outboxes: one alert per event, each delivered, none twice (nothing dies
// here, so no lease runs out).
func TestPostgresTwoNodes(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	var (
		mu     sync.Mutex
		counts = map[string]int{}
	)
	got := make(chan string, 256)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			EventID string `json:"event_id"`
		}
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		counts[m.EventID]++
		mu.Unlock()
		got <- m.EventID
	}))
	t.Cleanup(hook.Close)
	cfgFile := t.TempDir() + "/trailwatch.yaml"
	writeFile(t, cfgFile, `
builtin_rules: true
receivers:
  - name: hook
    webhook: {url: "`+hook.URL+`"}
routes:
  - rules: [root-console-signin]
    receivers: [hook]
`)
	nodes := []*App{
		start(t, Options{ConfigFiles: []string{cfgFile}, Postgres: pg}),
		start(t, Options{ConfigFiles: []string{cfgFile}, Postgres: pg}),
	}
	const events = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*events)
	for i := range events {
		for _, a := range nodes {
			wg.Go(func() {
				resp, err := http.Post("http://"+a.Addr()+"/events", "application/json", strings.NewReader(envelope(rootLogin(fmt.Sprint("ev-", i)))))
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("POST ev-%d: %d", i, resp.StatusCode)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for len(seen) < events {
		seen[wait(t, got, fmt.Sprintf("delivery %d of %d", len(seen)+1, events))] = true
	}
	waitAllDelivered(t, nodes[1])
	rows, err := nodes[0].Store().Alerts(context.Background(), store.AlertFilter{Rule: "root-console-signin"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != events {
		t.Errorf("%d alerts, want %d (one per event)", len(rows), events)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range events {
		id := fmt.Sprint("ev-", i)
		if counts[id] != 1 {
			t.Errorf("%s delivered %d times, want once", id, counts[id])
		}
	}
	for _, r := range rows {
		if r.State != store.StateNotified || len(r.Deliveries) != 1 || r.Deliveries[0].Attempts != 1 {
			t.Errorf("alert %s: state %s, deliveries %+v", r.ID, r.State, r.Deliveries)
		}
	}
}

// TestPostgresSharedAckKey: nodes on one database, each with its own
// empty data directory, sign acknowledgement links with one key, made by
// the first node and kept in the database: a link one node made
// acknowledges on the other. An ack.key file in a node's data directory
// overrides it; a file too short to be a key stops the node.
func TestPostgresSharedAckKey(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	a := start(t, Options{Postgres: pg, Stdout: &syncBuffer{}})
	b := start(t, Options{Postgres: pg, Stdout: &syncBuffer{}})
	if len(a.ackKey) < 32 || string(a.ackKey) != string(b.ackKey) {
		t.Fatalf("keys differ: %x %x", a.ackKey, b.ackKey)
	}
	for _, n := range []*App{a, b} {
		if _, err := os.Stat(filepath.Join(n.o.DataDir, "ack.key")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a node wrote ack.key (%v): the key is the database's", err)
		}
	}
	if code, body := post(t, a, envelope(rootLogin("shared-key")), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	rows, err := a.Store().Alerts(t.Context(), store.AlertFilter{Rule: "root-console-signin"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("alerts: %v %v", rows, err)
	}
	link := a.ackURL(rows[0].ID) // made by a, followed on b
	link = "http://" + b.Addr() + link[strings.Index(link, "/ack/"):]
	resp, err := http.PostForm(link, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if row, _ := b.Store().Alert(t.Context(), rows[0].ID); row.State != store.StateAcked {
		t.Fatalf("link of node a on node b: %d, alert %s", resp.StatusCode, row.State)
	}

	own := t.TempDir()
	if err := os.WriteFile(filepath.Join(own, "ack.key"), []byte(strings.Repeat("k", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	c := start(t, Options{Postgres: pg, DataDir: own, Stdout: &syncBuffer{}})
	if string(c.ackKey) != strings.Repeat("k", 32) {
		t.Errorf("the node's ack.key did not override the database's")
	}
	short := t.TempDir()
	if err := os.WriteFile(filepath.Join(short, "ack.key"), []byte("CHANGE-ME"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), Options{Postgres: pg, DataDir: short, Listen: "127.0.0.1:0"}); err == nil || !strings.Contains(err.Error(), "holds 9 bytes") {
		t.Errorf("a short ack.key: %v", err)
	}
}
