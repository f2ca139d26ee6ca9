// Package s3poll keeps reading new CloudTrail log files from an S3 bucket:
// every Interval it lists the bucket (s3src's listing, with its account,
// region and time filters), hands each object newer than its checkpoint to
// the sink in key order, and saves the checkpoint once the sink returned
// for the whole object (the sink returns once the events are durable).
//
// CloudTrail keys sort by delivery time within a region folder
// (.../AWSLogs/[o-org/]account/CloudTrail/region/), so there is one
// checkpoint per region folder: the last key fully ingested there. A
// failure (a broken file, a failing sink) stops that folder for the round
// and the next round starts again at its checkpoint: delivery is
// at-least-once, and the store's eventID makes a replay harmless. A prefix
// outside the CloudTrail layout has one checkpoint for all of it.
package s3poll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/source/s3src"
)

// Defaults.
const (
	DefaultInterval    = time.Minute
	DefaultSince       = time.Hour
	DefaultConcurrency = 4
	DefaultBatchSize   = 1000
)

// Sink takes a batch of an object's events; it returns nil once they are
// durable (serve passes app.Ingest).
type Sink func(ctx context.Context, evs []*event.Event) error

// Checkpoints is where the poller keeps how far it has read; store.Store
// is one.
type Checkpoints interface {
	Checkpoint(ctx context.Context, key string) (value string, ok bool, err error)
	SetCheckpoint(ctx context.Context, key, value string) error
}

// Options configure a Poller. The zero value of each field means its
// default.
type Options struct {
	Bucket   string // required
	Prefix   string // as s3src.Options.Prefix
	Accounts []string
	Regions  []string
	// Interval is the pause between the end of a round and the next
	// (default 1m).
	Interval time.Duration
	// Since is how far back a region folder without a checkpoint is read
	// on its first round (default 1h), by the delivery time in file names.
	Since time.Duration
	// Concurrency is the number of region folders read at once (default
	// 4), and the listing's requests in flight.
	Concurrency int
	// BatchSize bounds the events of one sink call (default 1000); an
	// object takes several calls before its checkpoint is saved.
	BatchSize int
	Clock     clock.Clock  // default real
	Logger    *slog.Logger // default slog.Default()
	// Registerer, when set, receives the poller's metrics.
	Registerer prometheus.Registerer
}

// Poller polls one bucket and prefix. Run it once, or call Poll.
type Poller struct {
	c    s3src.Client
	cp   Checkpoints
	sink Sink
	o    Options
	log  *slog.Logger

	objects *prometheus.CounterVec
	events  prometheus.Counter
	rounds  prometheus.Counter
}

// Object results counted in trailwatch_source_s3_objects_total.
const (
	ResultIngested = "ingested"
	ResultFailed   = "failed"
)

// New returns a poller listing and reading with c, keeping checkpoints in
// cp and handing events to sink.
func New(c s3src.Client, cp Checkpoints, sink Sink, o Options) *Poller {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Since <= 0 {
		o.Since = DefaultSince
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	p := &Poller{c: c, cp: cp, sink: sink, o: o,
		log: o.Logger.With("source", "s3", "bucket", o.Bucket, "prefix", o.Prefix),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_source_s3_objects_total",
			Help: "S3 log files polled, by result (ingested, failed).",
		}, []string{"result"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_source_s3_events_total",
			Help: "Events from polled S3 log files accepted by the sink.",
		}),
		rounds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_source_s3_polls_total",
			Help: "Polling rounds of the S3 source.",
		}),
	}
	for _, r := range []string{ResultIngested, ResultFailed} {
		p.objects.WithLabelValues(r)
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{p.objects, p.events, p.rounds} {
			if err := o.Registerer.Register(c); err != nil {
				p.log.Warn("s3 source metrics", "err", err)
			}
		}
	}
	return p
}

// Round says what one Poll did.
type Round struct {
	Listed   int // objects the listing kept
	Ingested int // objects whose events all reached the sink (checkpointed)
	Failed   int // objects that failed (retried next round)
	Events   int // events the sink accepted
}

// Run polls until ctx ends: a round at once, then one Interval after each
// round ends. A failed round is logged and the next one tries again.
func (p *Poller) Run(ctx context.Context) error {
	if p.o.Bucket == "" {
		return errors.New("s3 source: no bucket")
	}
	for ctx.Err() == nil {
		r, err := p.Poll(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Error("s3 poll", "err", err, "ingested", r.Ingested, "failed", r.Failed)
		} else if r.Ingested > 0 {
			p.log.Info("s3 poll", "ingested", r.Ingested, "events", r.Events)
		}
		t := p.o.Clock.NewTimer(p.o.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C():
		}
	}
	return nil
}

// CheckpointKey is the checkpoint under which a folder's progress is kept.
func CheckpointKey(bucket, folder string) string { return "s3://" + bucket + "/" + folder }

// Folder is the folder whose checkpoint covers key: its region folder in
// the CloudTrail layout, else prefix.
func Folder(key, prefix string) string {
	dir := key[:strings.LastIndexByte(key, '/')+1]
	if lf, ok := s3src.ParseName(key); ok {
		if i := strings.LastIndex(dir, "/CloudTrail/"+lf.Region+"/"); i >= 0 {
			return dir[:i+len("/CloudTrail/"+lf.Region+"/")]
		}
	}
	return prefix
}

// group is one folder's objects to read, in key order.
type group struct {
	folder string
	objs   []s3src.Object
}

// Poll runs one round: list, then read each folder's new objects in key
// order (folders concurrently), saving each folder's checkpoint after each
// object. It returns the first error met (the others are logged).
func (p *Poller) Poll(ctx context.Context) (Round, error) {
	p.rounds.Inc()
	now := p.o.Clock.Now()
	first := now.Add(-p.o.Since)
	// Checkpoints already saved reach back further than Since: list from
	// the oldest one's delivery day. The folders are not known before the
	// listing, so the checkpoints are read as their folders appear.
	since, err := p.listSince(ctx, first)
	if err != nil {
		return Round{}, err
	}
	objs, _, err := s3src.List(ctx, p.c, s3src.Options{
		Bucket: p.o.Bucket, Prefix: p.o.Prefix, Accounts: p.o.Accounts, Regions: p.o.Regions,
		Since: since, Concurrency: p.o.Concurrency,
	})
	if err != nil {
		return Round{}, fmt.Errorf("s3 poll: list: %w", err)
	}
	byFolder := map[string]*group{}
	var groups []*group
	for _, ob := range objs {
		f := Folder(ob.Key, p.o.Prefix)
		g := byFolder[f]
		if g == nil {
			g = &group{folder: f}
			byFolder[f] = g
			groups = append(groups, g)
		}
		g.objs = append(g.objs, ob)
	}
	var (
		mu    sync.Mutex
		round Round
		errs  []error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, p.o.Concurrency)
	)
	for _, g := range groups {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := p.folder(ctx, g, first)
			mu.Lock()
			defer mu.Unlock()
			round.Listed += r.Listed
			round.Ingested += r.Ingested
			round.Failed += r.Failed
			round.Events += r.Events
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if err := p.rememberFolders(ctx, groups); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		for _, e := range errs[1:] {
			p.log.Error("s3 poll", "err", e)
		}
		return round, errs[0]
	}
	return round, nil
}

// folder reads one folder's objects after its checkpoint.
func (p *Poller) folder(ctx context.Context, g *group, first time.Time) (Round, error) {
	key := CheckpointKey(p.o.Bucket, g.folder)
	last, ok, err := p.cp.Checkpoint(ctx, key)
	if err != nil {
		return Round{}, fmt.Errorf("s3 poll: %w", err)
	}
	var r Round
	for _, ob := range g.objs {
		if ok && ob.Key <= last {
			continue
		}
		if !ok && !fresh(ob, first) {
			continue
		}
		r.Listed++
		n, err := p.object(ctx, ob)
		r.Events += n
		if err != nil {
			r.Failed++
			p.objects.WithLabelValues(ResultFailed).Inc()
			return r, fmt.Errorf("s3 poll: %s: %w", ob.URL(), err)
		}
		if err := p.cp.SetCheckpoint(ctx, key, ob.Key); err != nil {
			r.Failed++
			return r, fmt.Errorf("s3 poll: %s: %w", ob.URL(), err)
		}
		r.Ingested++
		p.objects.WithLabelValues(ResultIngested).Inc()
	}
	return r, nil
}

// fresh reports whether an object of a folder without a checkpoint is
// within Since: by the delivery time of its name, else its LastModified.
func fresh(ob s3src.Object, first time.Time) bool {
	if lf, ok := s3src.ParseName(ob.Key); ok {
		return !lf.Delivered.Before(first.Truncate(time.Minute))
	}
	return !ob.LastModified.Before(first)
}

// The poller's own checkpoint lists the folders it has checkpoints for,
// with the oldest checkpoint's delivery time, so a round lists from there.
const foldersKey = "s3poll-folders"

func (p *Poller) indexKey() string { return CheckpointKey(p.o.Bucket, p.o.Prefix) + "#" + foldersKey }

// listSince is the Since of the round's listing: first, or earlier when a
// folder's checkpoint is older.
func (p *Poller) listSince(ctx context.Context, first time.Time) (time.Time, error) {
	v, ok, err := p.cp.Checkpoint(ctx, p.indexKey())
	if err != nil {
		return time.Time{}, fmt.Errorf("s3 poll: %w", err)
	}
	since := first
	if !ok || v == "" {
		return since, nil
	}
	for f := range strings.SplitSeq(v, "\n") {
		last, ok, err := p.cp.Checkpoint(ctx, CheckpointKey(p.o.Bucket, f))
		if err != nil {
			return time.Time{}, fmt.Errorf("s3 poll: %w", err)
		}
		if !ok {
			continue
		}
		if lf, ok := s3src.ParseName(last); ok {
			if d := lf.Delivered.Truncate(24 * time.Hour); d.Before(since) {
				since = d
			}
		} else {
			return time.Time{}, nil // outside the layout: list everything
		}
	}
	return since, nil
}

// rememberFolders adds the round's folders to the index of folders.
func (p *Poller) rememberFolders(ctx context.Context, groups []*group) error {
	if len(groups) == 0 {
		return nil
	}
	v, _, err := p.cp.Checkpoint(ctx, p.indexKey())
	if err != nil {
		return fmt.Errorf("s3 poll: %w", err)
	}
	var folders []string
	if v != "" {
		folders = strings.Split(v, "\n")
	}
	n := len(folders)
	for _, g := range groups {
		if !slices.Contains(folders, g.folder) {
			if _, ok, err := p.cp.Checkpoint(ctx, CheckpointKey(p.o.Bucket, g.folder)); err != nil || !ok {
				continue // nothing ingested there yet
			}
			folders = append(folders, g.folder)
		}
	}
	if len(folders) == n {
		return nil
	}
	slices.Sort(folders)
	if err := p.cp.SetCheckpoint(ctx, p.indexKey(), strings.Join(folders, "\n")); err != nil {
		return fmt.Errorf("s3 poll: %w", err)
	}
	return nil
}

// object reads one log file and sinks its events in batches. Bad records
// are logged and skipped (a retry would not mend them); a failed read or a
// broken file fails the object.
func (p *Poller) object(ctx context.Context, ob s3src.Object) (int, error) {
	body, err := s3src.Open(ctx, p.c, ob)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	r := &errReader{r: body}
	d := event.NewDecoder(r, ob.URL())
	defer d.Close()
	var (
		batch []*event.Event
		n     int
		bad   int
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := p.sink(ctx, batch); err != nil {
			return fmt.Errorf("sink: %w", err)
		}
		n += len(batch)
		p.events.Add(float64(len(batch)))
		batch = nil
		return nil
	}
	for {
		e, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if r.err != nil {
				return n, fmt.Errorf("read: %w", r.err)
			}
			if !event.OneRecord(err) {
				return n, err
			}
			bad++
			if bad <= 3 {
				p.log.Warn("s3 source: bad record skipped", "object", ob.URL(), "err", err)
			}
			continue
		}
		batch = append(batch, e)
		if len(batch) >= p.o.BatchSize {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if r.err != nil {
		return n, fmt.Errorf("read: %w", r.err)
	}
	return n, flush()
}

// errReader remembers the first error other than io.EOF of its reader, so
// a broken download is told from a bad record.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(b []byte) (int, error) {
	n, err := e.r.Read(b)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}
