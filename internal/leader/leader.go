// Package leader elects the one node that runs what must run once (alarm
// evaluation, schedules, reminders) among the nodes that share a store.
//
// A Lease's Run blocks, trying to become leader; while it is, it runs a
// lead function with a context that is cancelled the moment leadership is
// lost, then tries again. Always is the lease of a store only one process
// opens (SQLite: it is always leader); Postgres holds a session-level
// advisory lock on a connection of its own, so that leadership goes with
// the connection: a node that dies, or whose connection dies, lets another
// take over.
package leader

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trailwatch/trailwatch/internal/clock"
)

// Lease elects a leader.
type Lease interface {
	// Run blocks until ctx ends or lead returns, trying to become leader
	// and, each time it is, running lead with a context cancelled as soon
	// as leadership is lost (Run waits for lead to return, then tries
	// again). It returns lead's error, or ctx's once ctx ends.
	Run(ctx context.Context, lead func(ctx context.Context) error) error
}

// Always is the lease of a process that is alone on its store: it leads
// at once and for ever.
func Always() Lease { return always{} }

type always struct{}

func (always) Run(ctx context.Context, lead func(context.Context) error) error {
	if err := lead(ctx); err != nil {
		return err
	}
	return ctx.Err()
}

// Options tune a Postgres lease.
type Options struct {
	// Clock times the retries and checks; default real.
	Clock clock.Clock
	// Logger; default discards. Run logs "leader" and "not leader" on
	// each transition.
	Logger *slog.Logger
	// Retry is how often a node that is not leader tries to become it
	// (default 5 s): at most this long after a leader's connection goes,
	// another node leads.
	Retry time.Duration
	// Check is how often the leader checks that its connection, and so
	// its lock, is still there (default 5 s).
	Check time.Duration
	// Timeout bounds each statement on the network (default 10 s): a
	// check that hangs counts as a lost connection. It is a network
	// deadline, on the system clock.
	Timeout time.Duration
}

// Postgres returns a lease on the session-level advisory lock key of
// pool's database: the leader holds it on a connection of its own (opened
// with pool's connection settings, outside the pool), which it checks
// every Check; a lost connection (the server terminated it, the network
// went) is lost leadership. Nodes that are not leader try
// pg_try_advisory_lock every Retry.
//
// The lock does not fence writes: a leader that lost its connection
// without noticing yet still writes through its pool until its next
// check. Work done under the lease must be safe to repeat (Trailwatch's
// alarm transitions are keyed by alarm and instant, so a repeat is
// taken once).
func Postgres(pool *pgxpool.Pool, key int64, o Options) Lease {
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Retry <= 0 {
		o.Retry = 5 * time.Second
	}
	if o.Check <= 0 {
		o.Check = 5 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return &pgLease{cfg: pool.Config().ConnConfig, key: key, o: o}
}

type pgLease struct {
	cfg *pgx.ConnConfig
	key int64
	o   Options
}

func (l *pgLease) Run(ctx context.Context, lead func(context.Context) error) error {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			l.close(conn)
		}
	}()
	failing := false // a failure was logged: log again only once it worked
	for {
		var err error
		if conn == nil {
			if conn, err = l.connect(ctx); err != nil {
				conn, err = nil, fmt.Errorf("connect: %w", err)
			}
		}
		if conn != nil {
			var got bool
			if err = l.query(ctx, conn, &got, `SELECT pg_try_advisory_lock($1)`, l.key); err != nil {
				l.close(conn)
				conn, err = nil, fmt.Errorf("try lock: %w", err)
			} else if got {
				failing = false
				returned, leadErr := l.hold(ctx, conn, lead)
				// Leaving or lost, the connection goes, and the lock
				// with it; unlocking first hands over at once (the
				// server releases a closed session's locks only as
				// its backend exits).
				l.unlock(ctx, conn)
				l.close(conn)
				conn = nil
				if returned {
					return leadErr
				}
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !failing {
			l.o.Logger.Warn("leader lease", "err", err)
		}
		failing = err != nil
		t := l.o.Clock.NewTimer(l.o.Retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}

// hold runs lead while conn holds the lock, checking conn every Check,
// until ctx ends, lead returns (returned, with its error) or a check
// fails (lead's context is cancelled and hold waits for lead to return).
func (l *pgLease) hold(ctx context.Context, conn *pgx.Conn, lead func(context.Context) error) (returned bool, _ error) {
	l.o.Logger.Info("leader")
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- lead(lctx) }()
	for {
		t := l.o.Clock.NewTimer(l.o.Check)
		select {
		case <-ctx.Done():
			t.Stop()
			cancel()
			<-done
			l.o.Logger.Info("not leader", "reason", "stopping")
			return false, nil
		case err := <-done:
			t.Stop()
			l.o.Logger.Info("not leader", "reason", "lead returned", "err", err)
			return true, err
		case <-t.C():
		}
		var one int
		if err := l.query(ctx, conn, &one, `SELECT 1`); err != nil {
			cancel()
			<-done
			if ctx.Err() != nil {
				l.o.Logger.Info("not leader", "reason", "stopping")
			} else {
				l.o.Logger.Warn("not leader", "reason", "connection lost", "err", err)
			}
			return false, nil
		}
	}
}

func (l *pgLease) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, l.o.Timeout)
	defer cancel()
	return pgx.ConnectConfig(ctx, l.cfg)
}

func (l *pgLease) query(ctx context.Context, conn *pgx.Conn, dst any, sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, l.o.Timeout)
	defer cancel()
	return conn.QueryRow(ctx, sql, args...).Scan(dst)
}

// unlock releases the lock, if conn still works.
func (l *pgLease) unlock(ctx context.Context, conn *pgx.Conn) {
	var ok bool
	l.query(context.WithoutCancel(ctx), conn, &ok, `SELECT pg_advisory_unlock($1)`, l.key)
}

// close closes conn, which releases the lock if it holds it.
func (l *pgLease) close(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), l.o.Timeout)
	defer cancel()
	conn.Close(ctx)
}
