package cwlsrc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/source/awstest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const group = "aws-cloudtrail-logs"

func record(id string, at time.Time) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","eventID":%q,"eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","eventTime":%q,"eventType":"AwsConsoleSignIn","awsRegion":"us-east-1","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","userName":"alice"}}`,
		id, at.UTC().Format(time.RFC3339))
}

// collector is a sink remembering the keys it was handed.
type collector struct {
	mu   sync.Mutex
	keys []string
	fail error
}

func (c *collector) sink(_ context.Context, evs []*event.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	for _, e := range evs {
		c.keys = append(c.keys, e.Key())
	}
	return nil
}

func (c *collector) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.keys
	c.keys = nil
	return k
}

type env struct {
	clk  *clock.Fake
	logs *awstest.Logs
	api  *cloudwatchlogs.Client
	cps  *awstest.Checkpoints
	got  *collector
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := clock.NewFake(t0)
	logs := awstest.NewLogs(clk.Now)
	logs.CreateGroup(group)
	api := cloudwatchlogs.NewFromConfig(awstest.Config(awstest.Start(t, logs), awstest.Region))
	return &env{clk: clk, logs: logs, api: api, cps: &awstest.Checkpoints{}, got: &collector{}}
}

func (e *env) source(t *testing.T, o Options) *Source {
	t.Helper()
	o.LogGroup = group
	o.Clock = e.clk
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(e.api, e.cps, e.got.sink, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) put(id string, at time.Time) {
	e.logs.Put(group, awstest.LogEvent{Stream: "111122223333_CloudTrail_us-east-1", Timestamp: at, Message: record(id, at)})
}

func TestPollPagesAndCheckpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.logs.PageSize = 2
	e.logs.EmptyPages = 1
	e.put("old", t0.Add(-6*time.Minute)) // before Since (5m): not read
	for i := range 5 {
		e.put(fmt.Sprintf("e%d", i), t0.Add(-time.Duration(5-i)*time.Minute))
	}
	s := e.source(t, Options{})
	st, err := s.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(e.got.take()); got != "[e0 e1 e2 e3 e4]" {
		t.Errorf("sink got %s", got)
	}
	if st != (Stats{Windows: 1, Pages: 4, Events: 5}) {
		t.Errorf("stats %+v", st)
	}
	if v, _, _ := e.cps.Checkpoint(context.Background(), "cloudwatch-logs:"+group); v != t0.Format(time.RFC3339Nano) {
		t.Errorf("checkpoint %q", v)
	}

	// A minute later: an event stamped 2m before the checkpoint arrives late
	// (inside the overlap) and one stamped 7m before (outside it).
	e.clk.Advance(time.Minute)
	e.put("late", t0.Add(-2*time.Minute))
	e.put("too-late", t0.Add(-7*time.Minute))
	e.put("new", t0.Add(30*time.Second))
	st, err = s.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(e.got.take()); got != "[late new]" {
		t.Errorf("second poll: sink got %s", got)
	}
	// the overlap [t0-5m, t0+1m] held e0..e4 again: dropped here
	if st.Repeats != 5 || st.Late != 0 {
		t.Errorf("second poll stats %+v", st)
	}

	// A restarted source forgets what it handed over: the overlap
	// [t0+1m-5m, t0+2m], both ends inclusive, is handed over again, for the
	// store's eventID dedup to drop.
	e.clk.Advance(time.Minute)
	s2 := e.source(t, Options{})
	if _, err := s2.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(e.got.take()); got != "[e1 e2 e3 late e4 new]" {
		t.Errorf("after restart: sink got %s", got)
	}
}

func TestSinkFailureKeepsCheckpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.put("a", t0.Add(-time.Minute))
	s := e.source(t, Options{})
	e.got.fail = errors.New("disk full")
	if _, err := s.Poll(context.Background()); !errors.Is(err, ErrSink) {
		t.Fatalf("poll: %v, want ErrSink", err)
	}
	if e.cps.Sets() != 0 {
		t.Errorf("checkpoint set after a failed sink")
	}
	e.got.fail = nil
	e.clk.Advance(time.Minute)
	if _, err := s.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(e.got.take()); got != "[a]" {
		t.Errorf("retry: sink got %s", got)
	}
}

func TestThrottledPollKeepsCheckpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.logs.PageSize = 1
	e.put("a", t0.Add(-time.Minute))
	e.put("b", t0.Add(-time.Minute))
	s := e.source(t, Options{})
	e.logs.Fail("", "ThrottlingException") // "" answers normally: the second page is throttled
	_, err := s.Poll(context.Background())
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Fatalf("poll: %v, want ThrottlingException", err)
	}
	if e.cps.Sets() != 0 {
		t.Errorf("checkpoint set after a throttled page")
	}
	if got := fmt.Sprint(e.got.take()); got != "[a]" {
		t.Errorf("first page: sink got %s", got)
	}
	if _, err := s.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(e.got.take()); got != "[b]" { // a is dropped as a repeat
		t.Errorf("retry: sink got %s", got)
	}
}

func TestCatchUpWindowByWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 6 {
		e.put(fmt.Sprintf("h%d", i), t0.Add(-time.Duration(6-i)*30*time.Minute))
	}
	e.put("bad", t0.Add(-time.Minute))
	e.logs.Put(group, awstest.LogEvent{Stream: "s", Timestamp: t0.Add(-time.Minute), Message: "not json"})
	if err := e.cps.SetCheckpoint(context.Background(), "cloudwatch-logs:"+group, t0.Add(-3*time.Hour).Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	s := e.source(t, Options{MaxWindow: time.Hour})
	st, err := s.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// from t0-3h05m: windows end at -2h05m, -1h10m, -15m, t0
	if st.Windows != 4 || st.Events != 7 || st.Bad != 1 || e.cps.Sets() != 5 {
		t.Errorf("stats %+v, checkpoint sets %d", st, e.cps.Sets())
	}
	if got := fmt.Sprint(e.got.take()); got != "[h0 h1 h2 h3 h4 h5 bad]" {
		t.Errorf("sink got %s", got)
	}
}

func TestBadCheckpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_ = e.cps.SetCheckpoint(context.Background(), "k", "yesterday")
	s := e.source(t, Options{Key: "k"})
	if _, err := s.Poll(context.Background()); !errors.Is(err, ErrBadCheckpoint) {
		t.Errorf("poll: %v, want ErrBadCheckpoint", err)
	}
	if _, err := New(e.api, e.cps, e.got.sink, Options{}); !errors.Is(err, ErrNoLogGroup) {
		t.Errorf("New without a group: %v", err)
	}
}

func TestRunPollsEveryInterval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.source(t, Options{Interval: 30 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for i := range 3 {
		if err := e.clk.WaitTimers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if got := e.cps.Sets(); got != i+1 {
			t.Fatalf("after %d intervals: %d checkpoints", i, got)
		}
		e.put(fmt.Sprintf("r%d", i), e.clk.Now())
		e.clk.Advance(30 * time.Second)
	}
	if err := e.clk.WaitTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	if got := fmt.Sprint(e.got.take()); got != "[r0 r1 r2]" {
		t.Errorf("sink got %s", got)
	}
}
