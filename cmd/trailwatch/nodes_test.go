package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/store/postgres/pgtest"
)

// The tests that run nodes on PostgreSQL share one throwaway server.
func TestMain(m *testing.M) { pgtest.Main(m) }

// buildBinary builds trailwatch into a temporary directory of tb's.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "trailwatch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		tb.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// node is a `trailwatch serve --postgres` process.
type node struct {
	cmd    *exec.Cmd
	addr   string
	done   chan struct{}
	mu     sync.Mutex
	leader bool // the last leader transition it logged
	lead   chan struct{}
}

// startNode runs bin serve on pg with cfg, a --data directory of its own
// and a free port, and waits until it listens. The node is stopped (SIGTERM)
// when tb ends unless it was killed before.
func startNode(tb testing.TB, bin, pg, cfg string, extra ...string) *node {
	tb.Helper()
	n := &node{addr: listenAddr(tb), done: make(chan struct{}), lead: make(chan struct{}, 1)}
	args := append([]string{"serve", "--config", cfg, "--postgres", pg, "--data", tb.TempDir(),
		"--listen", n.addr, "--outbox-lease", "2s", "--log-level", "info"}, extra...)
	n.cmd = exec.Command(bin, args...)
	n.cmd.Stdout = io.Discard
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			line := sc.Text()
			if !once && strings.Contains(line, "listening on") {
				once = true
				close(ready)
			}
			switch {
			case strings.Contains(line, `msg=leader`):
				n.mu.Lock()
				n.leader = true
				n.mu.Unlock()
				select {
				case n.lead <- struct{}{}:
				default:
				}
			case strings.Contains(line, `msg="not leader"`):
				n.mu.Lock()
				n.leader = false
				n.mu.Unlock()
			}
		}
		n.cmd.Wait()
		close(n.done)
	}()
	tb.Cleanup(func() {
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(30 * time.Second):
			n.cmd.Process.Kill()
			<-n.done
		}
	})
	select {
	case <-ready:
	case <-n.done:
		tb.Fatal("serve exited before listening")
	case <-time.After(30 * time.Second):
		n.cmd.Process.Kill()
		tb.Fatal("serve did not start")
	}
	return n
}

func (n *node) kill(tb testing.TB) {
	tb.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatal(err)
	}
	<-n.done
}

func (n *node) leading() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leader
}

// postEvents POSTs a CloudTrail envelope of records to n.
func (n *node) postEvents(records []string) error {
	body := `{"Records":[` + strings.Join(records, ",") + `]}`
	resp, err := http.Post("http://"+n.addr+"/events", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /events to %s: %d", n.addr, resp.StatusCode)
	}
	return nil
}

// nodeConfig writes a configuration whose webhook receiver posts to
// url: root sign-ins alert to it.
func nodeConfig(tb testing.TB, url string) string {
	tb.Helper()
	cfg := filepath.Join(tb.TempDir(), "trailwatch.yaml")
	writeFileTB(tb, cfg, `
receivers:
  - name: hook
    webhook: {url: "`+url+`"}
routes:
  - rules: [root-console-signin]
    receivers: [hook]
`)
	return cfg
}

// request is what the receiver saw of one webhook request.
type request struct {
	key, eventID string
	node         int // the node that sent it (the path of its receiver URL)
	accepted     bool
}

// TestThreeNodesKillDuringDelivery runs three real processes on one
// PostgreSQL database, events spread over them, and kills one with SIGKILL
// while the receiver holds one of its deliveries. Every alert is delivered
// (its Idempotency-Key seen and taken); a key sent again is one the killed
// node had in flight, sent again after its lease ran out (at-least-once,
// with the same key, so the receiver deduplicates it).
func TestThreeNodesKillDuringDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary on PostgreSQL")
	}
	pg := pgtest.Start(t)
	bin := buildBinary(t)

	const hangAt = 5 // the receiver holds the 5th request until its node is killed
	var (
		mu       sync.Mutex
		reqs     []request
		accepted = map[string]int{} // taken once the sender is alive to record the answer
	)
	hung := make(chan int, 1)
	release := make(chan struct{})
	hook := startHook(t, func(w http.ResponseWriter, r *http.Request, node int) {
		b, _ := io.ReadAll(r.Body)
		var a struct {
			EventID string `json:"event_id"`
		}
		json.Unmarshal(b, &a)
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		reqs = append(reqs, request{key: key, eventID: a.EventID, node: node})
		i := len(reqs)
		mu.Unlock()
		if i == hangAt {
			hung <- node
			<-release
			return
		}
		// The receiver deduplicates by key: a key taken before is answered
		// but not taken again.
		mu.Lock()
		if accepted[key] == 0 {
			reqs[i-1].accepted = true
		}
		accepted[key]++
		mu.Unlock()
	})
	defer close(release)

	nodes := make([]*node, 3)
	for i := range nodes {
		nodes[i] = startNode(t, bin, pg, nodeConfig(t, fmt.Sprintf("%s/%d", hook, i)))
	}
	const events, batch = 30, 5
	var wg sync.WaitGroup
	for b := 0; b*batch < events; b++ {
		records := make([]string, 0, batch)
		for i := b * batch; i < (b+1)*batch; i++ {
			records = append(records, rootLogin(fmt.Sprintf("nodes-%02d", i)))
		}
		wg.Go(func() {
			if err := nodes[b%len(nodes)].postEvents(records); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	var victim int
	select {
	case victim = <-hung:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery reached the receiver")
	}
	nodes[victim].kill(t)
	t.Logf("killed node %d holding request %d", victim, hangAt)

	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if n == events {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d alerts delivered after the kill", n, events)
		}
		time.Sleep(50 * time.Millisecond) // polling the receiver, not waiting for time to pass
	}
	// Let any late re-send arrive before counting (a lease is 2 s).
	time.Sleep(3 * time.Second)

	mu.Lock()
	defer mu.Unlock()
	first := map[string]request{}
	raw := map[string]int{}
	events2keys := map[string]map[string]bool{}
	for _, r := range reqs {
		if r.key == "" {
			t.Errorf("request for %s without an Idempotency-Key", r.eventID)
		}
		raw[r.key]++
		if _, ok := first[r.key]; !ok {
			first[r.key] = r
		}
		if events2keys[r.eventID] == nil {
			events2keys[r.eventID] = map[string]bool{}
		}
		events2keys[r.eventID][r.key] = true
	}
	if len(raw) != events {
		t.Errorf("%d distinct keys, want %d (one per alert)", len(raw), events)
	}
	for i := range events {
		id := fmt.Sprintf("nodes-%02d", i)
		if len(events2keys[id]) != 1 {
			t.Errorf("%s: keys %v, want one", id, events2keys[id])
		}
	}
	dups := 0
	for k, c := range raw {
		if c == 1 {
			continue
		}
		dups += c - 1
		// Sent again: allowed only for what the killed node had sent
		// without recording the outcome, and then once more only.
		if first[k].node != victim || c > 2 {
			t.Errorf("key %s (%s) sent %d times, first by node %d (killed: %d)", k, first[k].eventID, c, first[k].node, victim)
		}
	}
	perNode := [3]int{}
	taken := map[string]int{}
	for _, r := range reqs {
		perNode[r.node]++
		if r.accepted {
			taken[r.key]++
		}
	}
	if len(taken) != events {
		t.Errorf("%d keys taken, want %d", len(taken), events)
	}
	for k, c := range taken {
		if c != 1 {
			t.Errorf("key %s taken %d times after deduplication", k, c)
		}
	}
	t.Logf("%d requests (per node %v), %d distinct keys, %d re-sent after the kill (at-least-once, same key)", len(reqs), perNode, len(raw), dups)
}

// startHook runs a webhook receiver; f gets the index of the node whose
// receiver URL (base/INDEX) the request came to. It returns the base URL.
func startHook(tb testing.TB, f func(http.ResponseWriter, *http.Request, int)) string {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/"), "%d", &i)
		f(w, r, i)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}

// listenAddr is a free loopback address (freeAddr for benchmarks too).
func listenAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeFileTB(tb testing.TB, path, s string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		tb.Fatal(err)
	}
}
