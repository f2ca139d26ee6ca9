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
)

// TestKillDuringDelivery runs the real binary: alerts are recorded, the
// process is killed with SIGKILL while a receiver is holding a delivery,
// and a new process on the same data delivers every alert. None is lost;
// a delivery in flight at the kill may arrive twice (at-least-once).
func TestKillDuringDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "trailwatch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	// The receiver: the third request hangs until the process that sent it
	// is killed; every other one is taken.
	var mu sync.Mutex
	got := map[string]int{}
	requests := 0
	hung := make(chan struct{})
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		requests++
		n := requests
		mu.Unlock()
		if n == 3 {
			close(hung)
			<-release
			return
		}
		var a struct {
			EventID string `json:"event_id"`
		}
		json.Unmarshal(b, &a)
		mu.Lock()
		got[a.EventID]++
		mu.Unlock()
	}))
	defer hook.Close()
	defer close(release)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "trailwatch.yaml")
	writeFile(t, cfg, `
receivers:
  - name: hook
    webhook: {url: "`+hook.URL+`"}
routes:
  - rules: [root-console-signin]
    receivers: [hook]
`)
	data := filepath.Join(dir, "data")
	addr := freeAddr(t)
	serve := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--config", cfg, "--data", data, "--listen", addr, "--outbox-lease", "2s", "--log-level", "warn")
		cmd.Stdout = io.Discard
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(stderr)
			once := false
			for sc.Scan() {
				if !once && strings.Contains(sc.Text(), "listening on") {
					once = true
					close(ready)
				}
			}
		}()
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("serve did not start")
		}
		return cmd
	}

	first := serve()
	const n = 12
	var body strings.Builder
	body.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(rootLogin(fmt.Sprintf("crash-%02d", i)))
	}
	body.WriteString(`]}`)
	resp, err := http.Post("http://"+addr+"/events", "application/json", strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /events: %d", resp.StatusCode)
	}
	// 200 means the alerts are durable: kill the process mid-delivery.
	select {
	case <-hung:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery reached the receiver")
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()

	second := serve()
	defer func() {
		second.Process.Signal(syscall.SIGTERM)
		second.Wait()
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		delivered := len(got)
		mu.Unlock()
		if delivered == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d alerts delivered after the restart: %v", delivered, n, got)
		}
		time.Sleep(50 * time.Millisecond) // polling the receiver, not waiting for time to pass
	}
	mu.Lock()
	defer mu.Unlock()
	for id, c := range got {
		if c > 2 {
			t.Errorf("%s delivered %d times", id, c)
		}
	}
}

func rootLogin(id string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},` +
		`"eventTime":"2024-03-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1",` +
		`"sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},` +
		`"additionalEventData":{"MFAUsed":"No"},"eventID":"` + id + `","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
