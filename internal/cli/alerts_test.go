package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/app"
	"github.com/trailwatch/trailwatch/internal/event"
)

func TestAlertsListAndAck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, err := app.New(context.Background(), app.Options{DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := event.FromRecord([]byte(rootLogin("list-1")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ingest(context.Background(), []*event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	a.Close()

	code, out, errOut := run(t, "", "alerts", "list", "--data", dir, "--format", "json")
	if code != ExitOK {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["state"] != "new" || m["event_id"] != "list-1" || m["id"] == "" {
			t.Errorf("alert %v", m)
		}
		ids = append(ids, m["id"].(string))
	}
	if len(ids) == 0 {
		t.Fatal("no alerts listed")
	}
	// Filters by severity and account (rootLogin's account is 111122223333).
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"--severity", "critical", "--account", "111122223333"}, true},
		{[]string{"--severity", "low"}, false},
		{[]string{"--account", "999999999999"}, false},
	} {
		code, out, _ := run(t, "", append([]string{"alerts", "list", "--data", dir}, c.args...)...)
		if code != ExitOK || strings.Contains(out, ids[0]) != c.want {
			t.Errorf("list %v: exit %d, listed %v, want %v\n%s", c.args, code, strings.Contains(out, ids[0]), c.want, out)
		}
	}
	code, out, errOut = run(t, "", "alerts", "ack", "--data", dir, "--by", "alice", ids[0])
	if code != ExitOK || !strings.Contains(out, ids[0]+" acked") {
		t.Fatalf("ack: exit %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, "", "alerts", "list", "--data", dir, "--state", "acked")
	if code != ExitOK || !strings.Contains(out, ids[0]) || !strings.HasPrefix(out, "ID") {
		t.Errorf("list acked: exit %d\n%s", code, out)
	}
	if code, _, errOut := run(t, "", "alerts", "ack", "--data", dir, "nosuchalert"); code != ExitFailure || !strings.Contains(errOut, "nosuchalert") {
		t.Errorf("ack unknown: exit %d %q", code, errOut)
	}
	if code, _, _ := run(t, "", "alerts", "list", "--data", dir, "--state", "bogus"); code != ExitFailure {
		t.Errorf("bad state: exit %d", code)
	}
	if code, _, errOut := run(t, "", "alerts", "list", "--data", t.TempDir()); code != ExitFailure || !strings.Contains(errOut, "no store") {
		t.Errorf("empty data dir: exit %d %q", code, errOut)
	}
}

func TestServeFlags(t *testing.T) {
	t.Parallel()
	if code, _, errOut := run(t, "", "serve", "--smtp", "http://x", "--data", t.TempDir()); code != ExitFailure || !strings.Contains(errOut, "--smtp") {
		t.Errorf("bad --smtp: %d %q", code, errOut)
	}
	if code, _, errOut := run(t, "", "serve", "--listen", "0.0.0.0:0", "--data", t.TempDir()); code != ExitFailure || !strings.Contains(errOut, "--insecure-ingest") {
		t.Errorf("open ingest off loopback: %d %q", code, errOut)
	}
	if code, _, errOut := run(t, "", "serve", "--parameter", "novalue", "--data", t.TempDir()); code != ExitFailure || !strings.Contains(errOut, "KEY=VALUE") {
		t.Errorf("bad --parameter: %d %q", code, errOut)
	}
}
