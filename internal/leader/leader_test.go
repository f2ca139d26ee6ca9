package leader

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store/postgres/pgtest"
)

// The package's tests share one throwaway PostgreSQL server.
func TestMain(m *testing.M) { pgtest.Main(m) }

const key = 0x7465_7374 // "test"

var epoch = time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)

// node is a Postgres lease running in the background, with its own fake
// clock, reporting when its lead function starts and ends.
type node struct {
	name    string
	fake    *clock.Fake
	started chan struct{}
	ended   chan struct{}
	cancel  context.CancelFunc
	done    chan error
}

func startNode(t *testing.T, url, name string) *node {
	t.Helper()
	pool := openPool(t, url+"&application_name="+name)
	n := &node{name: name, fake: clock.NewFake(epoch), started: make(chan struct{}, 8), ended: make(chan struct{}, 8), done: make(chan error, 1)}
	l := Postgres(pool, key, Options{Clock: n.fake, Retry: 5 * time.Second, Check: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		n.done <- l.Run(ctx, func(ctx context.Context) error {
			n.started <- struct{}{}
			<-ctx.Done()
			n.ended <- struct{}{}
			return nil
		})
	}()
	t.Cleanup(n.stop)
	return n
}

// stop cancels the node's Run and waits for it to return.
func (n *node) stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.cancel = nil
	<-n.done
}

// settle waits until the node waits on its clock again (a retry, or a
// leader's check): whatever its last tick started is done.
func (n *node) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.fake.WaitTimers(ctx, 1); err != nil {
		t.Fatalf("%s never waits on its clock: %v", n.name, err)
	}
}

// tick moves the node's clock to its next retry or check and waits for
// it to be done with it.
func (n *node) tick(t *testing.T) {
	t.Helper()
	n.settle(t)
	n.fake.Advance(5 * time.Second)
	n.settle(t)
}

// leads waits for the node's lead function to start.
func (n *node) leads(t *testing.T) {
	t.Helper()
	select {
	case <-n.started:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s holds the lock but its lead does not start", n.name)
	}
}

func openPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// lockHolder is the backend pid holding the lease's lock and its
// application name (the node's), 0 and "" if none.
func lockHolder(t *testing.T, pool *pgxpool.Pool) (int, string) {
	t.Helper()
	var (
		pid  int
		name string
	)
	err := pool.QueryRow(context.Background(), `SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint << 32 | l.objid::bigint = $1
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		int64(key)).Scan(&pid, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return pid, name
}

// holder is the name of the node holding the lock, "" if none.
func holder(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	_, name := lockHolder(t, pool)
	return name
}

// Two leases on one database: one leads, the other does not however often
// it tries; the leader's connection killed, its lead's context is
// cancelled and the other leads within a few ticks.
func TestPostgresOneLeaderThenTakeOverOnLostConnection(t *testing.T) {
	t.Parallel()
	url := pgtest.Start(t)
	pool := openPool(t, url)
	a := startNode(t, url, "a")
	a.leads(t)
	b := startNode(t, url, "b")
	for range 5 {
		b.tick(t)
		a.tick(t)
	}
	pid, name := lockHolder(t, pool)
	if name != "a" {
		t.Fatalf("lock held by %q, want a", name)
	}
	select {
	case <-b.started:
		t.Fatal("b leads beside a")
	default:
	}

	// a's connection dies: at its next check, a stops leading.
	var ok bool
	if err := pool.QueryRow(context.Background(), `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate %d: %v %v", pid, ok, err)
	}
	a.settle(t)
	a.fake.Advance(5 * time.Second)
	select {
	case <-a.ended:
	case <-time.After(20 * time.Second):
		t.Fatal("a's lead context is not cancelled after its connection died")
	}
	// The server releases the dead session's lock only as its backend
	// exits, which pg_terminate_backend does not wait for: wait for it.
	for i := 0; ; i++ {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if i == 2000 {
			t.Fatalf("backend %d still alive", pid)
		}
		time.Sleep(10 * time.Millisecond) // polling the server, not waiting for time to pass
	}
	// b takes over at one of its next tries (a, whose clock stays, does
	// not try meanwhile).
	for i := 0; holder(t, pool) != "b"; i++ {
		if i == 20 {
			t.Fatalf("b does not take over; lock held by %q", holder(t, pool))
		}
		b.tick(t)
	}
	b.leads(t)
	// a, trying again, does not lead.
	for range 3 {
		a.tick(t)
	}
	if got := holder(t, pool); got != "b" {
		t.Errorf("lock held by %q, want b", got)
	}
	select {
	case <-a.started:
		t.Error("a leads again beside b")
	default:
	}
}

// A leader whose Run is cancelled releases the lock at once: its lead's
// context is cancelled, Run returns, the other leads at its next try.
func TestPostgresStopHandsOver(t *testing.T) {
	t.Parallel()
	url := pgtest.Start(t)
	pool := openPool(t, url)
	a := startNode(t, url, "a")
	a.leads(t)
	b := startNode(t, url, "b")
	b.tick(t)
	if got := holder(t, pool); got != "a" {
		t.Fatalf("lock held by %q, want a", got)
	}
	a.stop()
	select {
	case <-a.ended:
	default:
		t.Fatal("Run returned before a's lead did")
	}
	b.tick(t)
	if got := holder(t, pool); got != "b" {
		t.Fatalf("lock held by %q after a stopped, want b at its first try", got)
	}
	b.leads(t)
}

// A lead that returns on its own ends Run with its error, and releases the
// lock.
func TestPostgresLeadError(t *testing.T) {
	t.Parallel()
	pool := openPool(t, pgtest.Start(t))
	boom := errors.New("boom")
	l := Postgres(pool, key, Options{Clock: clock.NewFake(epoch)})
	if err := l.Run(context.Background(), func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want boom", err)
	}
	if pid, _ := lockHolder(t, pool); pid != 0 {
		t.Errorf("lock still held by %d", pid)
	}
}

// An unreachable database: Run keeps trying, on its clock, until ctx ends.
func TestPostgresUnreachableRetries(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig("postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg) // connects lazily
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	fake := clock.NewFake(epoch)
	l := Postgres(pool, key, Options{Clock: fake})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- l.Run(ctx, func(context.Context) error { t.Error("leads without a database"); return nil })
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	for range 3 {
		if err := fake.WaitTimers(wctx, 1); err != nil {
			t.Fatal("Run does not wait to retry")
		}
		fake.Advance(5 * time.Second)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func TestAlways(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	led := false
	go cancel()
	err := Always().Run(ctx, func(ctx context.Context) error {
		led = true
		<-ctx.Done()
		return nil
	})
	if !led || !errors.Is(err, context.Canceled) {
		t.Errorf("led %v, Run = %v", led, err)
	}
	boom := errors.New("boom")
	if err := Always().Run(context.Background(), func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Run = %v, want boom", err)
	}
}
