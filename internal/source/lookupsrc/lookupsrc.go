// Package lookupsrc is the CloudTrail event history source: it polls
// LookupEvents in every region it is given (the caller lists the enabled
// regions), each from its own checkpoint, and hands the records
// (Events[].CloudTrailEvent) to a sink as Events. It needs no trail, so it
// works on an account with no set-up at all; it sees management events
// only, and the history lags the API call by minutes.
//
// Each region's poll reads the window [checkpoint - Overlap, now] (in
// slices of at most MaxWindow). LookupEvents answers newest first, so a
// window is read to its last page, each page handed to the sink, before the
// checkpoint moves to the window's end; a failure or crash re-reads it.
// The overlap (default 5 minutes) catches events that reach the history
// after a poll whose window already covered their eventTime; events seen
// again are dropped here while the process lives and by the store's
// eventID dedup across restarts.
//
// CloudTrail allows 2 LookupEvents requests per second per account per
// region: each region's requests pass a token bucket on the injected clock
// (Rate 2/s, Burst 1 by default), and a ThrottlingException (another
// reader in the account shares the limit) is retried after a back-off on
// the clock, the page's NextToken kept.
package lookupsrc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/smithy-go"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/event"
)

// API is the part of *cloudtrail.Client the source uses.
type API interface {
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

var _ API = (*cloudtrail.Client)(nil)

// Checkpoints saves how far the source has read (the store implements it).
type Checkpoints interface {
	Checkpoint(ctx context.Context, key string) (string, bool, error)
	SetCheckpoint(ctx context.Context, key, value string) error
}

// Sink takes a page's events; it returns nil once they are durable (serve
// passes app.Ingest). The checkpoint moves only after that.
type Sink func(ctx context.Context, evs []*event.Event) error

// Errors; test them with errors.Is.
var (
	ErrNoRegions     = errors.New("lookup events source: no regions")
	ErrNoClient      = errors.New("no client for region")
	ErrBadCheckpoint = errors.New("bad checkpoint")
	ErrSink          = errors.New("sink")
)

// Defaults.
const (
	DefaultInterval     = time.Minute
	DefaultOverlap      = 5 * time.Minute
	DefaultMaxWindow    = time.Hour
	DefaultRate         = 2.0 // requests per second per region, CloudTrail's limit
	DefaultBurst        = 1
	DefaultBackoff      = time.Second
	DefaultMaxThrottled = 5
	// History is how far back LookupEvents reaches.
	History = 90 * 24 * time.Hour
)

// Options configure a Source; the zero value of a field means its default.
type Options struct {
	// Interval is the pause between a region's polls (default 1m).
	Interval time.Duration
	// Overlap is how far behind the checkpoint each poll starts (default 5m).
	Overlap time.Duration
	// Since is how far back the first poll of a region reads when it has no
	// checkpoint (default Overlap; at most 90 days).
	Since time.Duration
	// MaxWindow bounds one window (default 1h, at least twice Overlap).
	MaxWindow time.Duration
	// Rate and Burst shape each region's requests (default 2/s, burst 1).
	Rate  float64
	Burst int
	// Backoff is the first pause after a ThrottlingException, doubled on
	// each one in a row (default 1s); after MaxThrottled in a row the poll
	// fails (default 5).
	Backoff      time.Duration
	MaxThrottled int
	// KeyPrefix prefixes the region in checkpoint keys (default
	// "lookup-events:").
	KeyPrefix string
	// Clock decides windows, pauses and the token buckets (default real).
	Clock clock.Clock
	// Logger receives failures (default slog.Default()).
	Logger *slog.Logger
}

// Stats count what a region's poll did.
type Stats struct {
	Windows   int // windows read and checkpointed
	Pages     int // LookupEvents calls answered
	Events    int // events handed to the sink
	Repeats   int // events of the overlap already handed over, dropped
	Bad       int // CloudTrailEvent strings that are not records, skipped
	Throttled int // ThrottlingException answers, retried
}

// Source polls the event history of several regions. Run it once.
type Source struct {
	clients map[string]API
	regions []string
	cps     Checkpoints
	sink    Sink
	o       Options
	log     *slog.Logger
	clock   clock.Clock

	mu     sync.Mutex // guards region states (one goroutine per region)
	states map[string]*regionState
}

type regionState struct {
	mu     sync.Mutex
	bucket bucket
	seen   map[string]time.Time // eventID -> eventTime, handed over in the overlap
}

// New returns a source polling each region of clients (region -> client
// signing for it).
func New(clients map[string]API, cps Checkpoints, sink Sink, o Options) (*Source, error) {
	if len(clients) == 0 {
		return nil, ErrNoRegions
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Overlap <= 0 {
		o.Overlap = DefaultOverlap
	}
	if o.Since <= 0 {
		o.Since = o.Overlap
	}
	o.Since = min(o.Since, History)
	if o.MaxWindow <= 0 {
		o.MaxWindow = DefaultMaxWindow
	}
	o.MaxWindow = max(o.MaxWindow, 2*o.Overlap)
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxThrottled <= 0 {
		o.MaxThrottled = DefaultMaxThrottled
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = "lookup-events:"
	}
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Source{clients: clients, cps: cps, sink: sink, o: o, clock: o.Clock, states: map[string]*regionState{},
		log: o.Logger.With("source", "lookup-events")}
	for r := range clients {
		s.regions = append(s.regions, r)
	}
	sort.Strings(s.regions)
	return s, nil
}

// Regions returns the regions polled, sorted.
func (s *Source) Regions() []string { return append([]string(nil), s.regions...) }

// Run polls every region every Interval, each in its own goroutine, until
// ctx ends; a failed poll is logged and retried at the next one. It
// returns ctx's error.
func (s *Source) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, r := range s.regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := s.log.With("region", r)
			for {
				if _, err := s.Poll(ctx, r); err != nil && ctx.Err() == nil {
					log.Warn("poll failed", "err", err)
				}
				t := s.clock.NewTimer(s.o.Interval)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C():
				}
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func (s *Source) state(region string) *regionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.states[region]
	if st == nil {
		st = &regionState{seen: map[string]time.Time{}, bucket: bucket{tokens: float64(s.o.Burst), at: s.clock.Now()}}
		s.states[region] = st
	}
	return st
}

// Poll reads region's history from its checkpoint (less Overlap) up to
// now, window by window, checkpointing each once the sink has taken it.
// Polls of one region must not run concurrently.
func (s *Source) Poll(ctx context.Context, region string) (Stats, error) {
	var st Stats
	api := s.clients[region]
	if api == nil {
		return st, fmt.Errorf("%w %s", ErrNoClient, region)
	}
	rs := s.state(region)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	key := s.o.KeyPrefix + region
	now := s.clock.Now()
	from := now.Add(-s.o.Since)
	v, ok, err := s.cps.Checkpoint(ctx, key)
	if err != nil {
		return st, fmt.Errorf("checkpoint: %w", err)
	}
	if ok {
		cp, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return st, fmt.Errorf("%w %q: %v", ErrBadCheckpoint, v, err)
		}
		from = cp.Add(-s.o.Overlap)
	}
	if oldest := now.Add(-History); from.Before(oldest) {
		from = oldest
	}
	for {
		end := now
		if end.Sub(from) > s.o.MaxWindow {
			end = from.Add(s.o.MaxWindow)
		}
		if err := s.window(ctx, api, rs, from, end, &st); err != nil {
			return st, fmt.Errorf("region %s: %w", region, err)
		}
		if err := s.cps.SetCheckpoint(ctx, key, end.UTC().Format(time.RFC3339Nano)); err != nil {
			return st, fmt.Errorf("set checkpoint: %w", err)
		}
		st.Windows++
		from = end.Add(-s.o.Overlap)
		for id, at := range rs.seen {
			if at.Before(from) {
				delete(rs.seen, id)
			}
		}
		if !end.Before(now) {
			return st, nil
		}
	}
}

func (s *Source) window(ctx context.Context, api API, rs *regionState, from, end time.Time, st *Stats) error {
	in := &cloudtrail.LookupEventsInput{StartTime: aws.Time(from), EndTime: aws.Time(end), MaxResults: aws.Int32(50)}
	throttled := 0
	for {
		if err := rs.bucket.wait(ctx, s.clock, s.o.Rate, float64(s.o.Burst)); err != nil {
			return err
		}
		out, err := api.LookupEvents(ctx, in)
		if isThrottle(err) && throttled < s.o.MaxThrottled {
			st.Throttled++
			if err := sleep(ctx, s.clock, s.o.Backoff<<throttled); err != nil {
				return err
			}
			throttled++
			continue
		}
		if err != nil {
			return fmt.Errorf("lookup events: %w", err)
		}
		throttled = 0
		st.Pages++
		evs := make([]*event.Event, 0, len(out.Events))
		for i, le := range out.Events {
			id := aws.ToString(le.EventId)
			if _, dup := rs.seen[id]; dup && id != "" {
				st.Repeats++
				continue
			}
			e, err := event.FromRecord([]byte(aws.ToString(le.CloudTrailEvent)))
			if err != nil {
				st.Bad++
				s.log.Warn("CloudTrailEvent is not a record", "id", id, "err", err)
				continue
			}
			e.Origin = event.Origin{Name: "lookup-events:" + e.Region, Index: i}
			evs = append(evs, e)
		}
		if len(evs) > 0 {
			if err := s.sink(ctx, evs); err != nil {
				return fmt.Errorf("%w: %w", ErrSink, err)
			}
			st.Events += len(evs)
		}
		for _, le := range out.Events {
			if id := aws.ToString(le.EventId); id != "" {
				rs.seen[id] = aws.ToTime(le.EventTime)
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return nil
		}
		in.NextToken = out.NextToken
	}
}

func isThrottle(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded":
		return true
	}
	return false
}

func sleep(ctx context.Context, c clock.Clock, d time.Duration) error {
	t := c.NewTimer(d)
	select {
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// bucket is a token bucket on the clock.
type bucket struct {
	tokens float64
	at     time.Time
}

// wait takes a token, waiting on c until one is there.
func (b *bucket) wait(ctx context.Context, c clock.Clock, rate, burst float64) error {
	for {
		now := c.Now()
		if now.After(b.at) {
			b.tokens = min(burst, b.tokens+now.Sub(b.at).Seconds()*rate)
			b.at = now
		}
		if b.tokens >= 1 {
			b.tokens--
			return nil
		}
		need := time.Duration((1 - b.tokens) / rate * float64(time.Second))
		need = (need + time.Millisecond - 1).Truncate(time.Millisecond) // whole ms, up
		if err := sleep(ctx, c, need); err != nil {
			return err
		}
	}
}
