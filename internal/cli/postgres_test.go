package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/app"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// alerts list and ack read and write serve's PostgreSQL database.
func TestAlertsOnPostgres(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	a, err := app.New(context.Background(), app.Options{DataDir: t.TempDir(), Postgres: pg, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := event.FromRecord([]byte(rootLogin("pg-1")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ingest(context.Background(), []*event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	code, out, errOut := run(t, "", "alerts", "list", "--postgres", pg)
	if code != ExitOK || !strings.Contains(out, "root-console-signin") {
		t.Fatalf("list: exit %d: %s %s", code, out, errOut)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	if code, out, errOut := run(t, "", "alerts", "ack", "--postgres", pg, "--by", "alice", id); code != ExitOK || !strings.Contains(out, id+" acked") {
		t.Fatalf("ack: exit %d %q %q", code, out, errOut)
	}
	if code, out, _ := run(t, "", "alerts", "list", "--postgres", pg, "--state", "acked"); code != ExitOK || !strings.Contains(out, id) {
		t.Errorf("list acked: exit %d\n%s", code, out)
	}
}
