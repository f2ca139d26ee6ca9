package lookupsrc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/source/awstest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func record(id, region string, at time.Time) []byte {
	return fmt.Appendf(nil, `{"eventVersion":"1.08","eventID":%q,"eventName":"CreateAccessKey","eventSource":"iam.amazonaws.com","eventTime":%q,"eventType":"AwsApiCall","readOnly":false,"awsRegion":%q,"recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","userName":"alice"}}`,
		id, at.UTC().Format(time.RFC3339), region)
}

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
		c.keys = append(c.keys, e.Region+"/"+e.Key())
	}
	return nil
}

func (c *collector) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.keys
	c.keys = nil
	sort.Strings(k)
	return k
}

type env struct {
	clk   *clock.Fake
	trail *awstest.Trail
	cps   *awstest.Checkpoints
	got   *collector
	src   *Source
}

func newEnv(t *testing.T, o Options, regions ...string) *env {
	t.Helper()
	clk := clock.NewFake(t0)
	trail := awstest.NewTrail(clk.Now) // 2 requests/s per region, like CloudTrail
	url := awstest.Start(t, trail)
	clients := map[string]API{}
	for _, r := range regions {
		clients[r] = cloudtrail.NewFromConfig(awstest.Config(url, r))
	}
	e := &env{clk: clk, trail: trail, cps: &awstest.Checkpoints{}, got: &collector{}}
	o.Clock = clk
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	src, err := New(clients, e.cps, e.got.sink, o)
	if err != nil {
		t.Fatal(err)
	}
	e.src = src
	return e
}

// drive runs f, advancing the fake clock by step whenever f waits on it.
func (e *env) drive(t *testing.T, step time.Duration, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	for {
		ctx, cancel := context.WithCancel(context.Background())
		waiting := make(chan error, 1)
		go func() { waiting <- e.clk.WaitTimers(ctx, 1) }()
		select {
		case err := <-done:
			cancel()
			return err
		case err := <-waiting:
			cancel()
			if err == nil {
				e.clk.Advance(step)
			}
		}
	}
}

func (e *env) poll(t *testing.T, region string) Stats {
	t.Helper()
	var st Stats
	err := e.drive(t, 100*time.Millisecond, func() error {
		var err error
		st, err = e.src.Poll(context.Background(), region)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPollPagesWithinRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{}, "eu-west-1", "us-east-1")
	for i := range 120 {
		if err := e.trail.Put("eu-west-1", record(fmt.Sprintf("e%03d", i), "eu-west-1", t0.Add(-time.Duration(120-i)*2*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.trail.Put("us-east-1", record("u1", "us-east-1", t0.Add(-time.Minute))); err != nil {
		t.Fatal(err)
	}
	st := e.poll(t, "eu-west-1")
	if st != (Stats{Windows: 1, Pages: 3, Events: 120}) {
		t.Errorf("stats %+v", st)
	}
	if got := e.got.take(); len(got) != 120 || got[0] != "eu-west-1/e000" {
		t.Errorf("sink got %d events starting %v", len(got), got[:1])
	}
	// burst 1 at 2/s: requests 500ms apart, none throttled
	calls := e.trail.Calls()
	for i, c := range calls {
		if c.Error != "" || c.Region != "eu-west-1" {
			t.Errorf("call %d: %+v", i, c)
		}
		if i > 0 && c.At.Sub(calls[i-1].At) < 500*time.Millisecond {
			t.Errorf("calls %d and %d %v apart", i-1, i, c.At.Sub(calls[i-1].At))
		}
	}
	if len(calls) != 3 {
		t.Errorf("%d calls, want 3", len(calls))
	}
	e.poll(t, "us-east-1")
	if got := fmt.Sprint(e.got.take()); got != "[us-east-1/u1]" {
		t.Errorf("us-east-1: %s", got)
	}
	for _, r := range []string{"eu-west-1", "us-east-1"} {
		if _, ok, _ := e.cps.Checkpoint(context.Background(), "lookup-events:"+r); !ok {
			t.Errorf("no checkpoint for %s", r)
		}
	}
}

func TestLateEventsInOverlap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{}, "eu-west-1")
	e.trail.Delay = 3 * time.Minute // the history lags the call
	_ = e.trail.Put("eu-west-1", record("a", "eu-west-1", t0.Add(-time.Minute)))
	e.poll(t, "eu-west-1")
	if got := e.got.take(); len(got) != 0 {
		t.Errorf("before the delay: %v", got)
	}
	e.clk.Advance(3 * time.Minute)
	_ = e.trail.Put("eu-west-1", record("b", "eu-west-1", e.clk.Now()))
	e.poll(t, "eu-west-1")
	if got := fmt.Sprint(e.got.take()); got != "[eu-west-1/a]" {
		t.Errorf("after the delay: %s", got)
	}
	e.clk.Advance(3 * time.Minute)
	st := e.poll(t, "eu-west-1")
	if got := fmt.Sprint(e.got.take()); got != "[eu-west-1/b]" || st.Repeats != 1 {
		t.Errorf("third poll: %s, %+v", got, st)
	}
}

func TestThrottlingIsRetriedOnTheClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{}, "eu-west-1")
	_ = e.trail.Put("eu-west-1", record("a", "eu-west-1", t0.Add(-time.Minute)))
	e.trail.Fail("ThrottlingException", "ThrottlingException")
	st := e.poll(t, "eu-west-1")
	if st.Throttled != 2 || st.Events != 1 {
		t.Errorf("stats %+v", st)
	}
	calls := e.trail.Calls()
	// back-off 1s then 2s
	if len(calls) != 3 || calls[1].At.Sub(calls[0].At) < time.Second || calls[2].At.Sub(calls[1].At) < 2*time.Second {
		t.Errorf("calls %+v", calls)
	}
}

func TestSinkFailureKeepsCheckpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{}, "eu-west-1")
	_ = e.trail.Put("eu-west-1", record("a", "eu-west-1", t0.Add(-time.Minute)))
	e.got.fail = errors.New("disk full")
	err := e.drive(t, 100*time.Millisecond, func() error { _, err := e.src.Poll(context.Background(), "eu-west-1"); return err })
	if !errors.Is(err, ErrSink) || e.cps.Sets() != 0 {
		t.Fatalf("poll: %v, %d checkpoints", err, e.cps.Sets())
	}
	e.got.fail = nil
	e.clk.Advance(time.Minute)
	e.poll(t, "eu-west-1")
	if got := fmt.Sprint(e.got.take()); got != "[eu-west-1/a]" {
		t.Errorf("retry: %s", got)
	}
}

func TestCatchUpAndBadCheckpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{MaxWindow: time.Hour}, "eu-west-1", "ap-south-1")
	_ = e.trail.Put("eu-west-1", record("old", "eu-west-1", t0.Add(-150*time.Minute)), record("new", "eu-west-1", t0.Add(-time.Second)))
	_ = e.cps.SetCheckpoint(context.Background(), "lookup-events:eu-west-1", t0.Add(-3*time.Hour).Format(time.RFC3339Nano))
	st := e.poll(t, "eu-west-1")
	if st.Windows != 4 || st.Events != 2 {
		t.Errorf("stats %+v", st)
	}
	_ = e.cps.SetCheckpoint(context.Background(), "lookup-events:ap-south-1", "soon")
	if _, err := e.src.Poll(context.Background(), "ap-south-1"); !errors.Is(err, ErrBadCheckpoint) {
		t.Errorf("bad checkpoint: %v", err)
	}
	if _, err := e.src.Poll(context.Background(), "mars-1"); !errors.Is(err, ErrNoClient) {
		t.Errorf("unknown region: %v", err)
	}
	if _, err := New(nil, e.cps, e.got.sink, Options{}); !errors.Is(err, ErrNoRegions) {
		t.Errorf("New without regions: %v", err)
	}
}

func TestRunPollsEveryRegion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{Interval: time.Minute}, "eu-west-1", "us-east-1")
	_ = e.trail.Put("eu-west-1", record("a", "eu-west-1", t0.Add(-time.Second)))
	_ = e.trail.Put("us-east-1", record("b", "us-east-1", t0.Add(-time.Second)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.src.Run(ctx) }()
	if err := e.clk.WaitTimers(ctx, 2); err != nil { // both regions wait for the next poll
		t.Fatal(err)
	}
	_ = e.trail.Put("us-east-1", record("c", "us-east-1", e.clk.Now()))
	e.clk.Advance(time.Minute)
	if err := e.clk.WaitTimers(ctx, 2); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	if got := fmt.Sprint(e.got.take()); got != "[eu-west-1/a us-east-1/b us-east-1/c]" {
		t.Errorf("sink got %s", got)
	}
	if e.cps.Sets() != 4 {
		t.Errorf("%d checkpoints, want 4", e.cps.Sets())
	}
}
