// Package cwlsrc is the CloudWatch Logs source: it polls the log group a
// trail delivers to with FilterLogEvents, from a checkpoint, and hands the
// CloudTrail records (one per log event message) to a sink as Events.
//
// Each poll reads the window [checkpoint - Overlap, now] (in slices of at
// most MaxWindow), page by page, handing each page's events to the sink;
// the checkpoint moves to the window's end only after the sink returned nil
// for every page of it, so a failure or a crash re-reads the window.
//
// Why the overlap: FilterLogEvents searches by the log event's timestamp,
// which the writer sets, while an event becomes searchable only once it is
// ingested and indexed (eventually consistent). An event stamped before the
// last window's end but searchable only after that poll would be skipped
// by a reader that starts exactly at its checkpoint. Re-reading Overlap
// (default 5 minutes, the usual CloudTrail-to-CloudWatch-Logs delivery
// delay) behind the checkpoint catches those late events. The events seen
// again are dropped here while the process lives (by log event id) and by
// the store's eventID dedup across restarts. Events whose ingestion lagged
// their timestamp by more than the overlap are counted in Stats.Late and
// logged: they were caught only because a poll happened to come late, and
// say the overlap should grow.
package cwlsrc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/event"
)

// API is the part of *cloudwatchlogs.Client the source uses.
type API interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

var _ API = (*cloudwatchlogs.Client)(nil)

// Checkpoints saves how far the source has read (the store implements it).
type Checkpoints interface {
	Checkpoint(ctx context.Context, key string) (string, bool, error)
	SetCheckpoint(ctx context.Context, key, value string) error
}

// Sink takes a page's events; it returns nil once they are durable (serve
// passes app.Ingest). The checkpoint moves only after that.
type Sink func(ctx context.Context, evs []*event.Event) error

// Errors a poll can fail with; test them with errors.Is.
var (
	ErrNoLogGroup    = errors.New("cloudwatch logs source: no log group")
	ErrBadCheckpoint = errors.New("bad checkpoint")
	ErrSink          = errors.New("sink")
)

// Defaults.
const (
	DefaultInterval  = time.Minute
	DefaultOverlap   = 5 * time.Minute
	DefaultMaxWindow = time.Hour
)

// Options configure a Source; the zero value of a field means its default.
type Options struct {
	// LogGroup is the trail's log group (required).
	LogGroup string
	// LogStreamNames, when set, restrict the search to these streams.
	LogStreamNames []string
	// FilterPattern, when set, is passed to FilterLogEvents.
	FilterPattern string
	// Interval is the pause between polls (default 1m).
	Interval time.Duration
	// Overlap is how far behind the checkpoint each poll starts (default
	// 5m; see the package comment).
	Overlap time.Duration
	// Since is how far back the first poll reads when there is no
	// checkpoint (default Overlap).
	Since time.Duration
	// MaxWindow bounds the time one window spans (default 1h, at least
	// twice Overlap): after an outage the source catches up window by
	// window, checkpointing each.
	MaxWindow time.Duration
	// Key is the checkpoint key (default "cloudwatch-logs:" + LogGroup).
	Key string
	// Clock decides the windows and the pauses (default the real clock).
	Clock clock.Clock
	// Logger receives failures (default slog.Default()).
	Logger *slog.Logger
}

// Stats count what a poll did.
type Stats struct {
	Windows int // windows read and checkpointed
	Pages   int // FilterLogEvents calls answered
	Events  int // events handed to the sink
	Repeats int // events of the overlap already handed over, dropped
	Bad     int // messages that are not CloudTrail records, skipped
	Late    int // events ingested more than Overlap after their timestamp
}

// Source polls one log group. Run it once; Poll is for tests and one-shot
// reads, never concurrently with Run.
type Source struct {
	api   API
	cps   Checkpoints
	sink  Sink
	o     Options
	log   *slog.Logger
	clock clock.Clock

	seen map[string]int64 // log event id -> timestamp (ms), events handed over in the overlap
}

// New returns a source reading o.LogGroup with api.
func New(api API, cps Checkpoints, sink Sink, o Options) (*Source, error) {
	if o.LogGroup == "" {
		return nil, ErrNoLogGroup
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
	if o.MaxWindow <= 0 {
		o.MaxWindow = DefaultMaxWindow
	}
	o.MaxWindow = max(o.MaxWindow, 2*o.Overlap)
	if o.Key == "" {
		o.Key = "cloudwatch-logs:" + o.LogGroup
	}
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Source{
		api: api, cps: cps, sink: sink, o: o, clock: o.Clock,
		log:  o.Logger.With("source", "cloudwatch-logs", "log_group", o.LogGroup),
		seen: map[string]int64{},
	}, nil
}

// Run polls every Interval until ctx ends; a failed poll is logged and
// retried at the next one. It returns ctx's error.
func (s *Source) Run(ctx context.Context) error {
	for {
		st, err := s.Poll(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			s.log.Warn("poll failed", "err", err)
		} else if st.Late > 0 {
			s.log.Warn("events ingested later than the overlap; raise it", "late", st.Late, "overlap", s.o.Overlap)
		}
		t := s.clock.NewTimer(s.o.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}

// Poll reads from the checkpoint (less Overlap) up to now, window by
// window, checkpointing each window once the sink has taken all of it.
func (s *Source) Poll(ctx context.Context) (Stats, error) {
	var st Stats
	now := s.clock.Now().Truncate(time.Millisecond)
	from := now.Add(-s.o.Since)
	v, ok, err := s.cps.Checkpoint(ctx, s.o.Key)
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
	for {
		end := now
		if end.Sub(from) > s.o.MaxWindow {
			end = from.Add(s.o.MaxWindow)
		}
		if err := s.window(ctx, from, end, &st); err != nil {
			return st, err
		}
		if err := s.cps.SetCheckpoint(ctx, s.o.Key, end.UTC().Format(time.RFC3339Nano)); err != nil {
			return st, fmt.Errorf("set checkpoint: %w", err)
		}
		st.Windows++
		from = end.Add(-s.o.Overlap)
		for id, ts := range s.seen {
			if ts < from.UnixMilli() {
				delete(s.seen, id)
			}
		}
		if !end.Before(now) {
			return st, nil
		}
	}
}

// window reads [from, end] (inclusive, milliseconds) page by page.
func (s *Source) window(ctx context.Context, from, end time.Time, st *Stats) error {
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(s.o.LogGroup),
		StartTime:    aws.Int64(from.UnixMilli()),
		EndTime:      aws.Int64(end.UnixMilli()),
	}
	if len(s.o.LogStreamNames) > 0 {
		in.LogStreamNames = s.o.LogStreamNames
	}
	if s.o.FilterPattern != "" {
		in.FilterPattern = aws.String(s.o.FilterPattern)
	}
	for {
		out, err := s.api.FilterLogEvents(ctx, in)
		if err != nil {
			return fmt.Errorf("filter log events: %w", err)
		}
		st.Pages++
		evs := make([]*event.Event, 0, len(out.Events))
		type mark struct {
			id string
			ts int64
		}
		marks := make([]mark, 0, len(out.Events))
		for i, le := range out.Events {
			id, ts := aws.ToString(le.EventId), aws.ToInt64(le.Timestamp)
			if _, dup := s.seen[id]; dup && id != "" {
				st.Repeats++
				continue
			}
			if lag := time.Duration(aws.ToInt64(le.IngestionTime)-ts) * time.Millisecond; le.IngestionTime != nil && lag > s.o.Overlap {
				st.Late++
			}
			e, err := event.FromRecord([]byte(aws.ToString(le.Message)))
			if err != nil {
				st.Bad++
				s.log.Warn("log event is not a CloudTrail record", "stream", aws.ToString(le.LogStreamName), "id", id, "err", err)
				continue
			}
			e.Origin = event.Origin{Name: s.o.LogGroup + "/" + aws.ToString(le.LogStreamName), Index: i}
			evs = append(evs, e)
			marks = append(marks, mark{id, ts})
		}
		if len(evs) > 0 {
			if err := s.sink(ctx, evs); err != nil {
				return fmt.Errorf("%w: %w", ErrSink, err)
			}
			st.Events += len(evs)
		}
		for _, m := range marks {
			if m.id != "" {
				s.seen[m.id] = m.ts
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return nil
		}
		in.NextToken = out.NextToken
	}
}
