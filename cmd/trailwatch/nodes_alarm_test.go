package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/store/postgres/pgtest"
)

// TestThreeNodesKillLeader runs three real processes on one PostgreSQL
// database with a 10 s ConsoleLogin alarm: a sign-in alarms once; the
// leader (the one evaluating alarms) is killed with SIGKILL; another node
// takes over from the alarm's saved state, so the first sign-in does not
// alarm again, and a second sign-in alarms exactly once more. Real time:
// about 55 s (an OK comes about 30 s after the ALARM).
func TestThreeNodesKillLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary on PostgreSQL, in real time")
	}
	pg := pgtest.Start(t)
	bin := buildBinary(t)

	var (
		mu     sync.Mutex
		alarms = map[string]string{} // Idempotency-Key: body, of ALARM and OK notifications
		raw    int
	)
	got := make(chan string, 16)
	hook := startHook(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		b, _ := io.ReadAll(r.Body)
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		raw++
		_, dup := alarms[key]
		alarms[key] = string(b)
		mu.Unlock()
		if !dup {
			got <- string(b)
		}
	})
	cfg := filepath.Join(t.TempDir(), "alarm.yaml")
	writeFileTB(t, cfg, `
receivers:
  - name: hook
    webhook: {url: "`+hook+`/0"}
metric_filters:
  - name: console-logins
    filter_pattern: '{ ($.eventName = ConsoleLogin) }'
    metric_transformations:
      - {metric_namespace: CloudTrailMetrics, metric_name: ConsoleLogin, metric_value: "1"}
alarms:
  - name: ConsoleLogin
    namespace: CloudTrailMetrics
    metric_name: ConsoleLogin
    statistic: Sum
    period: 10s
    evaluation_periods: 1
    threshold: 1
    comparison_operator: GreaterThanOrEqualToThreshold
    treat_missing_data: notBreaching
    alarm_actions: [hook]
    ok_actions: [hook]
`)
	nodes := make([]*node, 3)
	for i := range nodes {
		nodes[i] = startNode(t, bin, pg, cfg)
	}
	leader := waitForLeader(t, nodes, -1)

	follower := nodes[(leader+1)%len(nodes)]
	if err := follower.postEvents([]string{loginNow("leader-login-1")}); err != nil {
		t.Fatal(err)
	}
	first := waitAlarm(t, got, "the first ALARM notification")
	// An evaluation instant may pass before the sign-in is recorded: the
	// alarm then leaves INSUFFICIENT_DATA for OK first (an OK action).
	for isState(first, "OK") && strings.Contains(first, `"OldStateValue":"INSUFFICIENT_DATA"`) {
		first = waitAlarm(t, got, "the first ALARM notification")
	}
	firstAt := time.Now()
	if !isState(first, "ALARM") || !strings.Contains(first, "leader-login-1") {
		t.Errorf("first ALARM notification:\n%s", first)
	}

	// Killed in ALARM: the next leader goes on from there, back to OK once
	// (without alarming again for the first sign-in).
	nodes[leader].kill(t)
	next := waitForLeader(t, nodes, leader)
	t.Logf("node %d led, killed; node %d leads (%s after the first ALARM)", leader, next, time.Since(firstAt).Round(time.Millisecond))
	if ok := waitAlarm(t, got, "the OK notification"); !isState(ok, "OK") {
		t.Fatalf("after the take-over, want OK:\n%s", ok)
	}
	t.Logf("OK %s after the first ALARM", time.Since(firstAt).Round(time.Millisecond))

	if err := nodes[(next+1)%len(nodes)].postEvents([]string{loginNow("leader-login-2")}); err != nil {
		t.Fatal(err)
	}
	second := waitAlarm(t, got, "the second ALARM notification")
	if !isState(second, "ALARM") || !strings.Contains(second, "leader-login-2") || strings.Contains(second, "leader-login-1") {
		t.Errorf("second ALARM notification:\n%s", second)
	}
	// A moment for a late or repeated notification (a re-send has the
	// same key, and is not counted again).
	select {
	case b := <-got:
		t.Errorf("another notification:\n%s", b)
	case <-time.After(3 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d notifications (ALARM, OK, ALARM; %d requests)", len(alarms), raw)
}

// waitForLeader waits until a node other than not (and not killed) logs
// that it leads, and returns its index.
func waitForLeader(t *testing.T, nodes []*node, not int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for i, n := range nodes {
			if i != not && n.leading() {
				return i
			}
		}
		time.Sleep(50 * time.Millisecond) // polling the nodes' logs
	}
	t.Fatal("no node leads")
	return -1
}

func waitAlarm(t *testing.T, got chan string, what string) string {
	t.Helper()
	select {
	case b := <-got:
		return b
	case <-time.After(45 * time.Second): // an OK comes about 30 s after the ALARM
		t.Fatalf("no %s", what)
		return ""
	}
}

// loginNow is a console sign-in (not root: it alerts through the alarm
// only) at the current time.
func loginNow(id string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},` +
		`"eventTime":"` + time.Now().UTC().Format(time.RFC3339) + `","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1",` +
		`"sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},` +
		`"additionalEventData":{"MFAUsed":"Yes"},"eventID":"` + id + `","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`
}

// isState tells whether an alarm notification is a transition to state.
func isState(body, state string) bool {
	return strings.Contains(body, fmt.Sprintf(`"NewStateValue":"%s"`, state))
}
