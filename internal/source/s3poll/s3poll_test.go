package s3poll_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/source/s3poll"
	"github.com/trailwatch/trailwatch/internal/source/s3src/s3srctest"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

const (
	bucket  = "trail-bucket"
	account = "111122223333"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// logFile is a CloudTrail log file delivered at t in region holding the
// events ids.
func logFile(region string, t time.Time, n int, ids ...string) (key string, body []byte) {
	key = fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_Tw%014d.json.gz",
		account, region, t.Format("2006/01/02"), account, region, t.Format("20060102T1504Z"), n)
	var recs []string
	for _, id := range ids {
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"Root","accountId":%q},"eventTime":%q,`+
			`"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":%q,"sourceIPAddress":"203.0.113.9",`+
			`"eventID":%q,"eventType":"AwsConsoleSignIn","recipientAccountId":%q}`,
			account, t.Add(-time.Minute).Format(time.RFC3339), region, id, account))
	}
	return key, []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}

// sink records the event ids it accepted, per region, and fails while
// fail is set.
type sink struct {
	mu   sync.Mutex
	ids  map[string][]string
	fail error
}

func newSink() *sink { return &sink{ids: map[string][]string{}} }

func (s *sink) take(ctx context.Context, evs []*event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	for _, e := range evs {
		s.ids[e.Region] = append(s.ids[e.Region], e.Key())
	}
	return nil
}

func (s *sink) got(region string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ids[region])
}

func (s *sink) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

func openStore(t *testing.T, path string, clk clock.Clock) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{Clock: clk, Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

type rig struct {
	srv *s3srctest.Server
	clk *clock.Fake
	db  string
}

func newRig(t *testing.T) *rig {
	srv := s3srctest.Start(t)
	srv.CreateBucket(t, bucket)
	return &rig{srv: srv, clk: clock.NewFake(start), db: filepath.Join(t.TempDir(), "tw.db")}
}

func (r *rig) put(t *testing.T, region string, at time.Time, n int, ids ...string) string {
	key, body := logFile(region, at, n, ids...)
	r.srv.Put(t, bucket, key, body)
	return key
}

func (r *rig) poller(t *testing.T, sk *sink, o s3poll.Options) (*s3poll.Poller, *sqlite.Store) {
	st := openStore(t, r.db, r.clk)
	o.Bucket, o.Clock = bucket, r.clk
	return s3poll.New(r.srv.Client(), st, sk.take, o), st
}

func poll(t *testing.T, p *s3poll.Poller) s3poll.Round {
	t.Helper()
	r, err := p.Poll(t.Context())
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	return r
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// Objects that appear over time are each ingested once, in key order per
// region folder, by Run's rounds on the fake clock; objects older than
// Since on the first round are left.
func TestRunIngestsNewObjectsOnceInOrder(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.put(t, "us-east-1", start.Add(-2*time.Hour), 0, "too-old") // before Since
	r.put(t, "us-east-1", start.Add(-30*time.Minute), 2, "e2a", "e2b")
	r.put(t, "us-east-1", start.Add(-40*time.Minute), 1, "e1")
	r.put(t, "eu-west-1", start.Add(-10*time.Minute), 1, "w1")
	sk := newSink()
	p, st := r.poller(t, sk, s3poll.Options{Interval: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	if err := r.clk.WaitTimers(t.Context(), 1); err != nil { // first round over
		t.Fatal(err)
	}
	equal(t, "us-east-1 after round 1", sk.got("us-east-1"), []string{"e1", "e2a", "e2b"})
	equal(t, "eu-west-1 after round 1", sk.got("eu-west-1"), []string{"w1"})

	gets := r.srv.Gets()
	r.put(t, "us-east-1", start.Add(time.Minute), 3, "e3")
	r.put(t, "us-east-1", start.Add(2*time.Minute), 4, "e4")
	r.put(t, "eu-west-1", start.Add(time.Minute), 2, "w2")
	r.clk.Advance(time.Minute)
	if err := r.clk.WaitTimers(t.Context(), 1); err != nil { // second round over
		t.Fatal(err)
	}
	equal(t, "us-east-1 after round 2", sk.got("us-east-1"), []string{"e1", "e2a", "e2b", "e3", "e4"})
	equal(t, "eu-west-1 after round 2", sk.got("eu-west-1"), []string{"w1", "w2"})
	if g := r.srv.Gets() - gets; g != 3 {
		t.Errorf("round 2 fetched %d objects, want the 3 new ones", g)
	}

	// A round with nothing new fetches nothing.
	gets = r.srv.Gets()
	r.clk.Advance(time.Minute)
	if err := r.clk.WaitTimers(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if g := r.srv.Gets() - gets; g != 0 {
		t.Errorf("an idle round fetched %d objects", g)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	cp, ok, err := st.Checkpoint(t.Context(), s3poll.CheckpointKey(bucket, "AWSLogs/"+account+"/CloudTrail/us-east-1/"))
	if err != nil || !ok || !strings.Contains(cp, "_20260301T1202Z_") {
		t.Errorf("us-east-1 checkpoint = %q, %v, %v; want the last file", cp, ok, err)
	}
}

// A failing sink leaves the checkpoint where it was; the next round reads
// the object again, and the objects after it, once the sink works.
func TestFailingSinkRetriedNextRound(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	k1 := r.put(t, "us-east-1", start.Add(-30*time.Minute), 1, "e1")
	sk := newSink()
	p, st := r.poller(t, sk, s3poll.Options{})
	poll(t, p)
	cpKey := s3poll.CheckpointKey(bucket, "AWSLogs/"+account+"/CloudTrail/us-east-1/")
	if cp, _, _ := st.Checkpoint(t.Context(), cpKey); cp != k1 {
		t.Fatalf("checkpoint = %q, want %q", cp, k1)
	}

	r.put(t, "us-east-1", start.Add(-20*time.Minute), 2, "e2")
	r.put(t, "us-east-1", start.Add(-10*time.Minute), 3, "e3")
	sk.setFail(errors.New("store down"))
	round, err := p.Poll(t.Context())
	if err == nil || round.Failed != 1 || round.Ingested != 0 {
		t.Fatalf("failing round = %+v, %v; want one failure and an error", round, err)
	}
	if cp, _, _ := st.Checkpoint(t.Context(), cpKey); cp != k1 {
		t.Errorf("checkpoint moved to %q after a failed sink", cp)
	}

	sk.setFail(nil)
	round = poll(t, p)
	if round.Ingested != 2 || round.Events != 2 {
		t.Errorf("retry round = %+v, want the 2 objects", round)
	}
	equal(t, "ingested", sk.got("us-east-1"), []string{"e1", "e2", "e3"})
}

// A broken object (not gzip nor JSON framing) stops its folder at the
// checkpoint before it; other folders go on.
func TestBrokenObjectStopsItsFolderOnly(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	key, _ := logFile("us-east-1", start.Add(-30*time.Minute), 1)
	r.srv.Put(t, bucket, key, []byte{0x1f, 0x8b, 0x08, 0x00, 0x01}) // truncated gzip
	r.put(t, "us-east-1", start.Add(-20*time.Minute), 2, "e2")
	r.put(t, "eu-west-1", start.Add(-20*time.Minute), 2, "w2")
	sk := newSink()
	p, st := r.poller(t, sk, s3poll.Options{})
	round, err := p.Poll(t.Context())
	if err == nil || round.Failed != 1 || round.Ingested != 1 {
		t.Fatalf("round = %+v, %v", round, err)
	}
	equal(t, "us-east-1", sk.got("us-east-1"), nil)
	equal(t, "eu-west-1", sk.got("eu-west-1"), []string{"w2"})
	if _, ok, _ := st.Checkpoint(t.Context(), s3poll.CheckpointKey(bucket, "AWSLogs/"+account+"/CloudTrail/us-east-1/")); ok {
		t.Error("a checkpoint saved for a folder whose first object failed")
	}
}

// A poller started again on the same store reads nothing it had
// ingested, even when its checkpoint is older than Since: it lists from the
// checkpoint's day and takes only the keys after it.
func TestRestartFromCheckpoint(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.put(t, "us-east-1", start.Add(-30*time.Minute), 1, "e1")
	r.put(t, "us-east-1", start.Add(-20*time.Minute), 2, "e2")
	sk := newSink()
	p, _ := r.poller(t, sk, s3poll.Options{})
	poll(t, p)
	equal(t, "first run", sk.got("us-east-1"), []string{"e1", "e2"})

	// Down for three hours (longer than Since); files kept arriving.
	r.clk.Advance(3 * time.Hour)
	r.put(t, "us-east-1", start.Add(10*time.Minute), 3, "e3")
	r.put(t, "us-east-1", start.Add(2*time.Hour+50*time.Minute), 4, "e4")
	sk2 := newSink()
	gets := r.srv.Gets()
	p2, _ := r.poller(t, sk2, s3poll.Options{})
	round := poll(t, p2)
	equal(t, "after restart", sk2.got("us-east-1"), []string{"e3", "e4"})
	if g := r.srv.Gets() - gets; g != 2 || round.Ingested != 2 {
		t.Errorf("restart fetched %d objects (round %+v), want only the 2 new ones", g, round)
	}
}

// Regions and Accounts filter what is listed; BatchSize splits an object
// into several sink calls before its checkpoint.
func TestFiltersAndBatches(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.put(t, "us-east-1", start.Add(-30*time.Minute), 1, "e1", "e2", "e3")
	r.put(t, "eu-west-1", start.Add(-30*time.Minute), 1, "w1")
	sk := newSink()
	var calls int
	take := sk.take
	p := s3poll.New(r.srv.Client(), openStore(t, r.db, r.clk), func(ctx context.Context, evs []*event.Event) error {
		calls++
		return take(ctx, evs)
	}, s3poll.Options{Bucket: bucket, Clock: r.clk, Regions: []string{"us-east-1"}, BatchSize: 2, Concurrency: 1})
	round := poll(t, p)
	equal(t, "us-east-1", sk.got("us-east-1"), []string{"e1", "e2", "e3"})
	equal(t, "eu-west-1", sk.got("eu-west-1"), nil)
	if calls != 2 || round.Ingested != 1 || round.Events != 3 {
		t.Errorf("calls = %d, round = %+v; want 2 sink calls for one object of 3 events", calls, round)
	}
}

func TestFolder(t *testing.T) {
	for _, tc := range []struct{ key, prefix, want string }{
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T1200Z_a.json.gz", "",
			"AWSLogs/111122223333/CloudTrail/us-east-1/"},
		{"t/AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2026/03/01/111122223333_CloudTrail_eu-west-1_20260301T1200Z_a.json.gz", "t/",
			"t/AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/"},
		{"dump/x.json", "dump/", "dump/"},
	} {
		if got := s3poll.Folder(tc.key, tc.prefix); got != tc.want {
			t.Errorf("Folder(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}
