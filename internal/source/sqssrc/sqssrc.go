// Package sqssrc is the SQS source: it long-polls a queue whose messages are
// EventBridge events (a rule with an SQS target) or notifications of new
// CloudTrail log files in S3 (S3 event notifications, or CloudTrail's own
// SNS message), directly or inside an SNS envelope. Log files are fetched
// with the S3 client and streamed through event.Decoder.
//
// A message is deleted only after the sink has returned nil for all its
// events (the sink returns once they are durable); a message that fails is
// left on the queue, so SQS redelivers it and, after the queue's
// maxReceiveCount, its redrive policy moves it to the dead-letter queue.
// While a message is processed its visibility timeout is extended, so a big
// log file is not handed to a second node halfway through.
package sqssrc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/event"
)

// SQSAPI is the part of *sqs.Client the source uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// S3API is the part of *s3.Client the source uses.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var (
	_ SQSAPI = (*sqs.Client)(nil)
	_ S3API  = (*s3.Client)(nil)
)

// Sink takes the events of a message; it returns nil once they are durable
// (serve passes app.Ingest). The message is deleted only after that.
type Sink func(ctx context.Context, evs []*event.Event) error

// Errors a message can fail with; test them with errors.Is.
var (
	ErrNoS3Client  = errors.New("s3 notification but no s3 client")
	ErrBadMessage  = errors.New("bad message")
	ErrNoEvents    = errors.New("message holds no events")
	ErrObjectRead  = errors.New("s3 object read")
	errSinkFailure = errors.New("sink")
)

// Defaults.
const (
	DefaultPollers           = 2
	DefaultVisibilityTimeout = 2 * time.Minute
	DefaultWaitTime          = 20 * time.Second
	DefaultMaxMessages       = 10
	DefaultBatchSize         = 1000
	DefaultErrorBackoff      = 5 * time.Second
)

// Options configure a Source. The zero value of each field means its
// default.
type Options struct {
	// QueueURL is the queue to poll (required).
	QueueURL string
	// Pollers is the number of concurrent receive loops (default 2).
	Pollers int
	// VisibilityTimeout is the lease a received message holds; it is asked
	// for on receive and extended every half of it while the message is
	// processed (default 2m; whole seconds, at most 12h).
	VisibilityTimeout time.Duration
	// RetryDelay is how long a failed message stays invisible before SQS
	// redelivers it. Zero leaves the message as received (it reappears when
	// its visibility timeout ends); a negative value makes it visible at once.
	RetryDelay time.Duration
	// WaitTime is the long-polling wait (default 20s, SQS's maximum).
	WaitTime time.Duration
	// MaxMessages is the receive batch size (default 10, SQS's maximum).
	MaxMessages int
	// BatchSize bounds the events handed to the sink in one call (default
	// 1000); a big log file takes several calls before its message is
	// deleted.
	BatchSize int
	// ErrorBackoff is the pause after a failed ReceiveMessage (default 5s).
	ErrorBackoff time.Duration
	// Clock drives visibility extension and back-off (default the real clock).
	Clock clock.Clock
	// Logger receives failures (default slog.Default()).
	Logger *slog.Logger
	// Registerer, when set, receives the source's metrics.
	Registerer prometheus.Registerer
}

// Source polls one queue. Run it once.
type Source struct {
	sqs   SQSAPI
	s3    S3API
	sink  Sink
	o     Options
	log   *slog.Logger
	clock clock.Clock

	messages *prometheus.CounterVec
	events   prometheus.Counter
	objects  prometheus.Counter
	extends  prometheus.Counter
}

// Message results counted in trailwatch_source_sqs_messages_total.
const (
	ResultDeleted   = "deleted"    // processed and deleted
	ResultTestEvent = "test_event" // S3's s3:TestEvent, deleted without effect
	ResultFailed    = "failed"     // left for redelivery
)

// New returns a source reading o.QueueURL with sqsClient, fetching log files
// with s3Client (nil when the queue carries only EventBridge events) and
// handing events to sink.
func New(sqsClient SQSAPI, s3Client S3API, sink Sink, o Options) *Source {
	if o.Pollers <= 0 {
		o.Pollers = DefaultPollers
	}
	if o.VisibilityTimeout <= 0 {
		o.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if o.VisibilityTimeout < time.Second {
		o.VisibilityTimeout = time.Second
	}
	if o.VisibilityTimeout > 12*time.Hour {
		o.VisibilityTimeout = 12 * time.Hour
	}
	if o.WaitTime <= 0 {
		o.WaitTime = DefaultWaitTime
	}
	if o.MaxMessages <= 0 || o.MaxMessages > 10 {
		o.MaxMessages = DefaultMaxMessages
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.ErrorBackoff <= 0 {
		o.ErrorBackoff = DefaultErrorBackoff
	}
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Source{
		sqs: sqsClient, s3: s3Client, sink: sink, o: o, clock: o.Clock,
		log: o.Logger.With("source", "sqs", "queue", o.QueueURL),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_source_sqs_messages_total",
			Help: "SQS messages handled, by result (deleted, test_event, failed).",
		}, []string{"result"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_source_sqs_events_total",
			Help: "Events from SQS messages accepted by the sink.",
		}),
		objects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_source_sqs_objects_total",
			Help: "S3 log files fetched for SQS notifications.",
		}),
		extends: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_source_sqs_visibility_extensions_total",
			Help: "ChangeMessageVisibility calls extending a message being processed.",
		}),
	}
	for _, r := range []string{ResultDeleted, ResultTestEvent, ResultFailed} {
		s.messages.WithLabelValues(r)
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{s.messages, s.events, s.objects, s.extends} {
			if err := o.Registerer.Register(c); err != nil {
				s.log.Warn("sqs source metrics", "err", err)
			}
		}
	}
	return s
}

// Run polls until ctx ends, then returns nil once every poller has
// stopped. A message being processed when ctx ends is not deleted unless
// its sink call already succeeded; SQS redelivers it.
func (s *Source) Run(ctx context.Context) error {
	if s.o.QueueURL == "" {
		return errors.New("sqs source: no queue url")
	}
	var wg sync.WaitGroup
	for i := range s.o.Pollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.poll(ctx, s.log.With("poller", i))
		}()
	}
	wg.Wait()
	return nil
}

func (s *Source) poll(ctx context.Context, log *slog.Logger) {
	for ctx.Err() == nil {
		out, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(s.o.QueueURL),
			MaxNumberOfMessages:         int32(s.o.MaxMessages),
			WaitTimeSeconds:             int32(s.o.WaitTime / time.Second),
			VisibilityTimeout:           s.visibilitySeconds(),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("sqs receive", "err", err)
			t := s.clock.NewTimer(s.o.ErrorBackoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C():
			}
			continue
		}
		s.handleBatch(ctx, log, out.Messages)
	}
}

func (s *Source) visibilitySeconds() int32 {
	return int32(s.o.VisibilityTimeout / time.Second)
}

// handleBatch processes a received batch in order while one goroutine
// keeps the visibility of the messages not yet finished extended.
func (s *Source) handleBatch(ctx context.Context, log *slog.Logger, msgs []types.Message) {
	if len(msgs) == 0 {
		return
	}
	l := &lease{pending: make(map[string]string, len(msgs))}
	for _, m := range msgs {
		l.pending[aws.ToString(m.MessageId)] = aws.ToString(m.ReceiptHandle)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.extend(ctx, log, l, stop)
	}()
	defer func() {
		close(stop)
		<-done
	}()
	for _, m := range msgs {
		if ctx.Err() != nil {
			return // the rest are left to redelivery
		}
		s.handle(ctx, log, m)
		l.finish(aws.ToString(m.MessageId))
	}
}

// lease is the set of received messages not finished yet.
type lease struct {
	mu      sync.Mutex
	pending map[string]string // message id -> receipt handle
}

func (l *lease) finish(id string) {
	l.mu.Lock()
	delete(l.pending, id)
	l.mu.Unlock()
}

func (l *lease) handles() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]string, len(l.pending))
	for k, v := range l.pending {
		out[k] = v
	}
	return out
}

// extend renews the visibility of the pending messages every half
// visibility timeout until stop is closed.
func (s *Source) extend(ctx context.Context, log *slog.Logger, l *lease, stop <-chan struct{}) {
	every := s.o.VisibilityTimeout / 2
	for {
		t := s.clock.NewTimer(every)
		select {
		case <-stop:
			t.Stop()
			return
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		for id, rh := range l.handles() {
			_, err := s.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
				QueueUrl:          aws.String(s.o.QueueURL),
				ReceiptHandle:     aws.String(rh),
				VisibilityTimeout: s.visibilitySeconds(),
			})
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("sqs extend visibility", "message_id", id, "err", err)
				}
				continue
			}
			s.extends.Inc()
		}
	}
}

// handle processes one message: decode, sink, delete; or log and leave it.
func (s *Source) handle(ctx context.Context, log *slog.Logger, m types.Message) {
	id := aws.ToString(m.MessageId)
	n, test, err := s.process(ctx, "sqs:"+id, aws.ToString(m.Body))
	if err != nil {
		s.fail(ctx, log, m, err)
		return
	}
	// The events are durable: delete even if ctx ended meanwhile, so a
	// stop does not cause a redelivery.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := s.sqs.DeleteMessage(dctx, &sqs.DeleteMessageInput{
		QueueUrl:      aws.String(s.o.QueueURL),
		ReceiptHandle: m.ReceiptHandle,
	}); err != nil {
		// The events are stored; the redelivery is idempotent (eventID).
		s.messages.WithLabelValues(ResultFailed).Inc()
		log.Warn("sqs delete", "message_id", id, "receive_count", receiveCount(m), "err", err)
		return
	}
	if test {
		s.messages.WithLabelValues(ResultTestEvent).Inc()
		return
	}
	s.messages.WithLabelValues(ResultDeleted).Inc()
	log.Debug("sqs message done", "message_id", id, "events", n)
}

func (s *Source) fail(ctx context.Context, log *slog.Logger, m types.Message, err error) {
	s.messages.WithLabelValues(ResultFailed).Inc()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		log.Info("sqs message left for redelivery on stop", "message_id", aws.ToString(m.MessageId))
		return
	}
	log.Error("sqs message failed; left for redelivery", "message_id", aws.ToString(m.MessageId),
		"receive_count", receiveCount(m), "err", err)
	if s.o.RetryDelay == 0 {
		return
	}
	secs := int32(0)
	if s.o.RetryDelay > 0 {
		secs = int32(min(s.o.RetryDelay, 12*time.Hour) / time.Second)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := s.sqs.ChangeMessageVisibility(rctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(s.o.QueueURL),
		ReceiptHandle:     m.ReceiptHandle,
		VisibilityTimeout: secs,
	}); err != nil {
		log.Warn("sqs retry delay", "message_id", aws.ToString(m.MessageId), "err", err)
	}
}

// receiveCount is the message's ApproximateReceiveCount, 0 when absent.
func receiveCount(m types.Message) int {
	n, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	return n
}

// process decodes a message body and hands its events to the sink. It
// returns the events accepted and whether the message was an S3 test event.
// name is the input name events from the body itself carry.
func (s *Source) process(ctx context.Context, name, body string) (n int, test bool, err error) {
	p, err := parseBody([]byte(body))
	if err != nil {
		return 0, false, err
	}
	switch {
	case p.test:
		return 0, true, nil
	case p.objects != nil:
		if s.s3 == nil {
			return 0, false, ErrNoS3Client
		}
		for _, o := range p.objects {
			if event.IsDigest(o.key) {
				continue
			}
			k, err := s.object(ctx, o)
			n += k
			if err != nil {
				return n, false, err
			}
		}
		return n, false, nil
	default:
		d := event.NewDecoder(readerOf(p.events), name)
		defer d.Close()
		b := newBatcher(s, ctx)
		for {
			e, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return b.n, false, fmt.Errorf("%w: %w", ErrBadMessage, err)
			}
			if err := b.add(e); err != nil {
				return b.n, false, err
			}
		}
		if err := b.flush(); err != nil {
			return b.n, false, err
		}
		if b.n == 0 {
			return 0, false, ErrNoEvents
		}
		return b.n, false, nil
	}
}

// object fetches one log file and sinks its events in batches. Bad
// records are logged and skipped (a redelivery would not mend them); a
// failed read or a broken file fails the message.
func (s *Source) object(ctx context.Context, o s3Object) (int, error) {
	name := "s3://" + o.bucket + "/" + o.key
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key)})
	if err != nil {
		return 0, fmt.Errorf("get %s: %w", name, err)
	}
	defer out.Body.Close()
	s.objects.Inc()
	r := &errReader{r: out.Body}
	d := event.NewDecoder(r, name)
	defer d.Close()
	b := newBatcher(s, ctx)
	bad := 0
	for {
		e, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if r.err != nil {
				return b.n, fmt.Errorf("%w: %s: %w", ErrObjectRead, name, r.err)
			}
			if !event.OneRecord(err) {
				return b.n, fmt.Errorf("%w: %w", ErrObjectRead, err)
			}
			bad++
			if bad <= 3 {
				s.log.Warn("sqs source: bad record skipped", "err", err)
			}
			continue
		}
		if err := b.add(e); err != nil {
			return b.n, err
		}
	}
	if bad > 3 {
		s.log.Warn("sqs source: bad records skipped", "object", name, "count", bad)
	}
	if r.err != nil {
		return b.n, fmt.Errorf("%w: %s: %w", ErrObjectRead, name, r.err)
	}
	return b.n, b.flush()
}

// errReader remembers the first error other than io.EOF of its reader, so a
// broken download is told from a bad record.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// batcher hands events to the sink BatchSize at a time.
type batcher struct {
	s   *Source
	ctx context.Context
	evs []*event.Event
	n   int
}

func newBatcher(s *Source, ctx context.Context) *batcher {
	return &batcher{s: s, ctx: ctx}
}

func (b *batcher) add(e *event.Event) error {
	b.evs = append(b.evs, e)
	if len(b.evs) >= b.s.o.BatchSize {
		return b.flush()
	}
	return nil
}

func (b *batcher) flush() error {
	if len(b.evs) == 0 {
		return nil
	}
	if err := b.s.sink(b.ctx, b.evs); err != nil {
		return fmt.Errorf("%w: %w", errSinkFailure, err)
	}
	b.n += len(b.evs)
	b.s.events.Add(float64(len(b.evs)))
	b.evs = nil
	return nil
}
