package sqssrc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/event"
)

// collector is a sink that records the events it accepts.
type collector struct {
	mu      sync.Mutex
	keys    []string
	calls   int
	fail    error                                  // returned when set
	block   func(ctx context.Context, n int) error // called first when set
	changed chan struct{}
}

func newCollector() *collector { return &collector{changed: make(chan struct{})} }

func (c *collector) sink(ctx context.Context, evs []*event.Event) error {
	c.mu.Lock()
	c.calls++
	n := c.calls
	block := c.block
	c.mu.Unlock()
	var err error
	if block != nil {
		err = block(ctx, n)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() { close(c.changed); c.changed = make(chan struct{}) }()
	if err != nil {
		return err
	}
	if c.fail != nil {
		return c.fail
	}
	for _, e := range evs {
		c.keys = append(c.keys, e.Key())
	}
	return nil
}

func (c *collector) snapshot() (keys []string, calls int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.keys...), c.calls
}

// wait blocks until f holds of the collector's state.
func (c *collector) wait(ctx context.Context, t *testing.T, what string, f func(keys []string, calls int) bool) {
	t.Helper()
	for {
		c.mu.Lock()
		ch := c.changed
		ok := f(c.keys, c.calls)
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			keys, calls := c.snapshot()
			t.Fatalf("waiting for %s: %v (%d keys, %d calls)", what, ctx.Err(), len(keys), calls)
		}
	}
}

// run starts src and returns a stop function that waits for Run.
func run(t *testing.T, src *Source) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// logBuffer is a concurrency-safe log destination.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// ebEvent is an EventBridge event of a CloudTrail API call with eventID id.
func ebEvent(id string) string {
	return `{"version":"0","id":"` + id + `-env","detail-type":"AWS API Call via CloudTrail","source":"aws.iam",` +
		`"account":"111122223333","time":"2024-05-01T12:00:00Z","region":"us-east-1","resources":[],` +
		`"detail":{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","userName":"alice","accountId":"111122223333"},` +
		`"eventTime":"2024-05-01T12:00:00Z","eventSource":"iam.amazonaws.com","eventName":"DeletePolicy",` +
		`"awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","eventID":"` + id + `","eventType":"AwsApiCall",` +
		`"readOnly":false,"recipientAccountId":"111122223333"}}`
}

// snsEnvelope wraps msg as SNS delivers it to SQS without raw delivery.
func snsEnvelope(msg string) string {
	b, _ := json.Marshal(map[string]string{
		"Type": "Notification", "MessageId": "5e1f4f2c-1111-2222-3333-444455556666",
		"TopicArn": "arn:aws:sns:us-east-1:111122223333:cloudtrail", "Message": msg,
		"Timestamp": "2024-05-01T12:00:00.000Z", "SignatureVersion": "1",
	})
	return string(b)
}

// s3Notification is an S3 event notification of new objects.
func s3Notification(bucket string, keys ...string) string {
	var recs []string
	for _, k := range keys {
		recs = append(recs, `{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",`+
			`"eventTime":"2024-05-01T12:00:00.000Z","eventName":"ObjectCreated:Put",`+
			`"s3":{"s3SchemaVersion":"1.0","bucket":{"name":"`+bucket+`","arn":"arn:aws:s3:::`+bucket+`"},`+
			`"object":{"key":"`+k+`","size":1234}}}`)
	}
	return `{"Records":[` + strings.Join(recs, ",") + `]}`
}

const s3TestEvent = `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-05-01T12:00:00.000Z",` +
	`"Bucket":"trail-bucket","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}`

// exampleFile is a real CloudTrail log file from examples/cloudtrail and the
// eventIDs it holds.
func exampleFile(t *testing.T) (key string, body []byte, ids []string) {
	t.Helper()
	root := "../../../examples/cloudtrail"
	var path string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && path == "" && strings.HasSuffix(p, ".json.gz") {
			path = p
		}
		return nil
	})
	if path == "" {
		t.Skip("no examples/cloudtrail .json.gz")
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := event.NewDecoder(bytes.NewReader(body), path)
	defer d.Close()
	for {
		e, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("decode %s: %v", path, err)
		}
		ids = append(ids, e.Key())
	}
	rel, _ := filepath.Rel(root, path)
	return filepath.ToSlash(rel), body, ids
}

func counterValue(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := result == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					match = true
				}
			}
			if match {
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

func TestSDKAgainstGoaws(t *testing.T) {
	s := newSQSServer(t)
	dlq := s.createQueue(t, "sdk-check-dlq", nil)
	_ = dlq
	q := s.createQueue(t, "sdk-check", map[string]string{
		"RedrivePolicy": `{"maxReceiveCount":"3","deadLetterTargetArn":"arn:aws:sqs:us-east-1:` + testAccount + `:sdk-check-dlq"}`,
	})
	s.send(t, q, "hello")
	out, err := s.Client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(q), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "hello" {
		t.Fatalf("got %+v", out.Messages)
	}
	m := out.Messages[0]
	t.Logf("attributes %v", m.Attributes)
	if _, err := s.Client.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(q), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 60}); err != nil {
		t.Fatalf("change visibility: %v", err)
	}
	if _, err := s.Client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	vis, inflight := s.messages(t, q)
	if vis != "0" || inflight != "0" {
		t.Fatalf("after delete: %s visible, %s in flight", vis, inflight)
	}
}

// newSource is a source on queue with fast defaults for tests.
func newSource(s *sqsServer, s3c S3API, c *collector, queue string, o Options) (*Source, *prometheus.Registry, *logBuffer) {
	reg := prometheus.NewRegistry()
	logs := &logBuffer{}
	o.QueueURL = queue
	if o.Pollers == 0 {
		o.Pollers = 2
	}
	if o.WaitTime == 0 {
		o.WaitTime = time.Second
	}
	if o.Clock == nil {
		o.Clock = clock.NewFake(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	}
	o.Logger = logs.logger()
	o.Registerer = reg
	var s3api S3API
	if s3c != nil {
		s3api = s3c
	}
	return New(s.Client, s3api, c.sink, o), reg, logs
}

func TestEventBridgeMessage(t *testing.T) {
	ctx := testCtx(t)
	s := newSQSServer(t)
	q := s.createQueue(t, "eventbridge", nil)
	c := newCollector()
	src, reg, _ := newSource(s, nil, c, q, Options{})
	s.send(t, q, ebEvent("11111111-aaaa-bbbb-cccc-000000000001"))
	s.send(t, q, snsEnvelope(ebEvent("11111111-aaaa-bbbb-cccc-000000000002")))
	stop := run(t, src)
	c.wait(ctx, t, "two events", func(keys []string, _ int) bool { return len(keys) == 2 })
	s.waitCalls(ctx, t, 2, action("DeleteMessage"))
	keys, _ := c.snapshot()
	want := map[string]bool{"11111111-aaaa-bbbb-cccc-000000000001": true, "11111111-aaaa-bbbb-cccc-000000000002": true}
	for _, k := range keys {
		if !want[k] {
			t.Errorf("unexpected key %q", k)
		}
		delete(want, k)
	}
	if len(want) != 0 {
		t.Errorf("missing %v", want)
	}
	stop()
	if all, inflight := s.messages(t, q); all != "0" || inflight != "0" {
		t.Errorf("queue: %s messages, %s in flight; want none", all, inflight)
	}
	if got := counterValue(t, reg, "trailwatch_source_sqs_messages_total", ResultDeleted); got != 2 {
		t.Errorf("deleted messages = %v, want 2", got)
	}
	if got := counterValue(t, reg, "trailwatch_source_sqs_events_total", ""); got != 2 {
		t.Errorf("events = %v, want 2", got)
	}
}

func TestS3Notifications(t *testing.T) {
	key, body, ids := exampleFile(t)
	const bucket = "trail-bucket"
	digest := "AWSLogs/218007301253/CloudTrail-Digest/us-east-1/2023/07/10/218007301253_CloudTrail-Digest_us-east-1_trail_us-east-1_20230710T1215Z.json.gz"
	cases := []struct {
		name string
		body string
	}{
		{"s3 notification", s3Notification(bucket, key, digest)},
		{"s3 notification via sns", snsEnvelope(s3Notification(bucket, key))},
		{"s3 notification via sns, raw delivery", s3Notification(bucket, key)},
		{"cloudtrail sns message", snsEnvelope(`{"s3Bucket":"` + bucket + `","s3ObjectKey":["` + key + `"]}`)},
	}
	s3c := newS3Server(t)
	putObject(t, s3c, bucket, key, body)
	// The digest is not a log file; fetching it would fail the message.
	putObject(t, s3c, bucket, digest, []byte("not a log file"))
	s := newSQSServer(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			q := s.createQueue(t, fmt.Sprintf("s3-notification-%d", i), nil)
			c := newCollector()
			src, reg, _ := newSource(s, s3c, c, q, Options{BatchSize: 7})
			before := s.count(action("DeleteMessage"))
			s.send(t, q, tc.body)
			stop := run(t, src)
			s.waitCalls(ctx, t, before+1, action("DeleteMessage"))
			stop()
			keys, calls := c.snapshot()
			if strings.Join(keys, ",") != strings.Join(ids, ",") {
				t.Errorf("sink got %d events, want the file's %d in order", len(keys), len(ids))
			}
			if want := (len(ids) + 6) / 7; calls != want {
				t.Errorf("sink calls = %d, want %d (batches of 7)", calls, want)
			}
			if got := counterValue(t, reg, "trailwatch_source_sqs_objects_total", ""); got != 1 {
				t.Errorf("objects fetched = %v, want 1", got)
			}
		})
	}
}

func TestS3TestEventDeleted(t *testing.T) {
	ctx := testCtx(t)
	s := newSQSServer(t)
	q := s.createQueue(t, "test-event", nil)
	c := newCollector()
	src, reg, _ := newSource(s, nil, c, q, Options{})
	s.send(t, q, s3TestEvent)
	stop := run(t, src)
	s.waitCalls(ctx, t, 1, action("DeleteMessage"))
	stop() // the counters are final once Run returns
	if _, calls := c.snapshot(); calls != 0 {
		t.Errorf("sink called %d times for a test event", calls)
	}
	if got := counterValue(t, reg, "trailwatch_source_sqs_messages_total", ResultTestEvent); got != 1 {
		t.Errorf("test events = %v, want 1", got)
	}
}

func TestSameEventTwice(t *testing.T) {
	ctx := testCtx(t)
	s := newSQSServer(t)
	q := s.createQueue(t, "same-event", nil)
	c := newCollector()
	src, _, _ := newSource(s, nil, c, q, Options{})
	const id = "22222222-aaaa-bbbb-cccc-000000000001"
	s.send(t, q, ebEvent(id))
	s.send(t, q, snsEnvelope(ebEvent(id)))
	run(t, src)
	c.wait(ctx, t, "two deliveries", func(keys []string, _ int) bool { return len(keys) == 2 })
	keys, _ := c.snapshot()
	if keys[0] != id || keys[1] != id {
		t.Errorf("keys = %v, want %s twice (dedup is the store's job)", keys, id)
	}
}

// TestFailuresGoToDLQ: a message that fails is never deleted; it is
// redelivered and the queue's redrive policy moves it to the DLQ.
func TestFailuresGoToDLQ(t *testing.T) {
	cases := []struct {
		name     string
		body     string
		sinkErr  error
		wantSink bool // whether the sink is reached
		wantLog  string
	}{
		{"sink error", ebEvent("33333333-aaaa-bbbb-cccc-000000000001"), errors.New("store down"), true, "store down"},
		{"bad json", `{"detail-type": "AWS API Call via CloudTrail", "detail": {`, nil, false, "bad message"},
		{"not an event", `{"hello":"world"}`, nil, false, "bad message"},
		{"missing object", s3Notification("trail-bucket", "AWSLogs/1/CloudTrail/us-east-1/2024/05/01/missing.json.gz"), nil, false, "NoSuchKey"},
		{"truncated log file", s3Notification("trail-bucket", "truncated.json.gz"), nil, false, "unexpected EOF"},
	}
	s := newSQSServer(t)
	s3c := newS3Server(t)
	_, logFile, _ := exampleFile(t)
	putObject(t, s3c, "trail-bucket", "truncated.json.gz", logFile[:len(logFile)/2])
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			dlqName := fmt.Sprintf("fail-%d-dlq", i)
			dlq := s.createQueue(t, dlqName, nil)
			q := s.createQueue(t, fmt.Sprintf("fail-%d", i), map[string]string{
				"RedrivePolicy": `{"maxReceiveCount":"2","deadLetterTargetArn":"arn:aws:sqs:us-east-1:` + testAccount + `:` + dlqName + `"}`,
			})
			c := newCollector()
			c.fail = tc.sinkErr
			src, reg, logs := newSource(s, s3c, c, q, Options{RetryDelay: -1, Pollers: 1})
			id := s.send(t, q, tc.body)
			run(t, src)
			// The DLQ receives the message, with its body intact.
			var got string
			for got == "" {
				out, err := s.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq), WaitTimeSeconds: 2})
				if err != nil {
					t.Fatalf("receive from dlq: %v", err)
				}
				if len(out.Messages) > 0 {
					got = aws.ToString(out.Messages[0].Body)
				}
			}
			if got != tc.body {
				t.Errorf("dlq body = %q, want the message", got)
			}
			if n := s.count(func(c call) bool { return c.Action == "DeleteMessage" && c.Queue == q }); n != 0 {
				t.Errorf("%d deletes of a failing message", n)
			}
			_, calls := c.snapshot()
			if tc.wantSink && calls < 2 {
				t.Errorf("sink called %d times, want at least maxReceiveCount (2)", calls)
			}
			if !tc.wantSink && calls != 0 {
				t.Errorf("sink called %d times", calls)
			}
			if f := counterValue(t, reg, "trailwatch_source_sqs_messages_total", ResultFailed); f < 2 {
				t.Errorf("failed messages = %v, want at least 2", f)
			}
			if d := counterValue(t, reg, "trailwatch_source_sqs_messages_total", ResultDeleted); d != 0 {
				t.Errorf("deleted messages = %v, want 0", d)
			}
			l := logs.String()
			for _, want := range []string{"message_id=" + id, "receive_count=", tc.wantLog} {
				if !strings.Contains(l, want) {
					t.Errorf("log lacks %q:\n%s", want, l)
				}
			}
		})
	}
}

// TestVisibilityExtended: while the sink blocks, the message's visibility
// is extended every half visibility timeout of the (fake) clock; it is
// deleted once the sink returns.
func TestVisibilityExtended(t *testing.T) {
	ctx := testCtx(t)
	s := newSQSServer(t)
	q := s.createQueue(t, "extend", nil)
	fake := clock.NewFake(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	entered := make(chan struct{})
	release := make(chan struct{})
	c := newCollector()
	c.block = func(ctx context.Context, n int) error {
		close(entered)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	src, reg, _ := newSource(s, nil, c, q, Options{Pollers: 1, VisibilityTimeout: 60 * time.Second, Clock: fake})
	s.send(t, q, ebEvent("44444444-aaaa-bbbb-cccc-000000000001"))
	stop := run(t, src)
	<-entered
	extend := func(cl call) bool { return cl.Action == "ChangeMessageVisibility" && cl.Visibility == "60" }
	for i := 1; i <= 3; i++ {
		if err := fake.WaitTimers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if n := s.count(extend); n != i-1 {
			t.Fatalf("before advancing: %d extensions, want %d", n, i-1)
		}
		fake.Advance(30 * time.Second)
		s.waitCalls(ctx, t, i, extend)
	}
	// The next timer is set once the third extension has been answered.
	if err := fake.WaitTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if n := s.count(action("DeleteMessage")); n != 0 {
		t.Fatalf("deleted while the sink blocks")
	}
	if all, inflight := s.messages(t, q); all != "1" || inflight != "1" {
		t.Errorf("while processing: %s messages, %s in flight; want 1, 1", all, inflight)
	}
	close(release)
	s.waitCalls(ctx, t, 1, action("DeleteMessage"))
	stop()
	if got := counterValue(t, reg, "trailwatch_source_sqs_visibility_extensions_total", ""); got != 3 {
		t.Errorf("extensions = %v, want 3", got)
	}
}

// TestStopLeavesMessage: a stop while the sink works leaves the message for
// redelivery (not deleted), and Run returns.
func TestStopLeavesMessage(t *testing.T) {
	s := newSQSServer(t)
	q := s.createQueue(t, "stop", nil)
	entered := make(chan struct{})
	c := newCollector()
	c.block = func(ctx context.Context, n int) error {
		close(entered)
		<-ctx.Done()
		return ctx.Err()
	}
	src, reg, _ := newSource(s, nil, c, q, Options{Pollers: 3})
	s.send(t, q, ebEvent("55555555-aaaa-bbbb-cccc-000000000001"))
	stop := run(t, src)
	<-entered
	stop()
	if n := s.count(action("DeleteMessage")); n != 0 {
		t.Errorf("%d deletes after a stop mid-message", n)
	}
	if all, inflight := s.messages(t, q); all != "1" || inflight != "1" {
		t.Errorf("after stop: %s messages, %s in flight; want the message in flight (redelivered later)", all, inflight)
	}
	if got := counterValue(t, reg, "trailwatch_source_sqs_messages_total", ResultFailed); got != 1 {
		t.Errorf("failed = %v, want 1", got)
	}
}

// TestReceiveErrorBacksOff: a failing ReceiveMessage (no such queue) is
// logged and retried after ErrorBackoff on the injected clock.
func TestReceiveErrorBacksOff(t *testing.T) {
	ctx := testCtx(t)
	s := newSQSServer(t)
	fake := clock.NewFake(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	c := newCollector()
	q := s.URL + "/" + testAccount + "/no-such-queue"
	src, _, logs := newSource(s, nil, c, q, Options{Pollers: 1, Clock: fake, ErrorBackoff: 10 * time.Second})
	run(t, src)
	receive := func(cl call) bool { return cl.Action == "ReceiveMessage" && cl.Queue == q }
	for i := 1; i <= 3; i++ {
		if err := fake.WaitTimers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if n := s.count(receive); n != i {
			t.Fatalf("%d receives before back-off %d", n, i)
		}
		fake.Advance(10 * time.Second)
		s.waitCalls(ctx, t, i+1, receive)
	}
	if !strings.Contains(logs.String(), "sqs receive") {
		t.Errorf("receive errors not logged:\n%s", logs.String())
	}
}

// BenchmarkEventBridgeMessages: EventBridge messages through goaws, the
// SDK and the source to a sink that accepts at once.
func BenchmarkEventBridgeMessages(b *testing.B) {
	s := newSQSServer(b)
	q := s.createQueue(b, fmt.Sprintf("bench-eventbridge-%d", b.N), nil)
	c := newCollector()
	src, _, _ := newSource(s, nil, c, q, Options{Pollers: 4})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	defer func() { cancel(); <-done }()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String(ebEvent(fmt.Sprintf("bench-%d", i)))}); err != nil {
			b.Fatal(err)
		}
	}
	for {
		c.mu.Lock()
		n, ch := len(c.keys), c.changed
		c.mu.Unlock()
		if n >= b.N {
			break
		}
		<-ch
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkS3LogFiles: notifications of real CloudTrail .json.gz files
// fetched from gofakes3 and decoded; events/s and objects/s.
func BenchmarkS3LogFiles(b *testing.B) {
	root := "../../../examples/cloudtrail"
	var files [][]byte
	var keys []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".json.gz") {
			body, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			files = append(files, body)
			keys = append(keys, filepath.ToSlash(rel))
		}
		return nil
	})
	if len(files) == 0 {
		b.Skip("no examples")
	}
	s3c := newS3Server(b)
	for i, k := range keys {
		putObject(b, s3c, "bench-bucket", k, files[i])
	}
	s := newSQSServer(b)
	q := s.createQueue(b, fmt.Sprintf("bench-s3-%d", b.N), nil)
	c := newCollector()
	src, _, _ := newSource(s, s3c, c, q, Options{Pollers: 4})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	defer func() { cancel(); <-done }()
	var bytesIn int64
	b.ResetTimer()
	for i := range b.N {
		k := i % len(keys)
		bytesIn += int64(len(files[k]))
		if _, err := s.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String(s3Notification("bench-bucket", keys[k]))}); err != nil {
			b.Fatal(err)
		}
	}
	for s.count(action("DeleteMessage")) < b.N {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if s.count(action("DeleteMessage")) >= b.N {
			break
		}
		<-ch
	}
	c.mu.Lock()
	events := len(c.keys)
	c.mu.Unlock()
	b.SetBytes(bytesIn / int64(b.N))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// TestBadRecordSkipped: a record the decoder rejects is skipped; the rest
// of the file reaches the sink and the message is deleted.
func TestBadRecordSkipped(t *testing.T) {
	ctx := testCtx(t)
	rec := func(id string) string {
		return `{"eventVersion":"1.09","eventTime":"2024-05-01T12:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers",` +
			`"awsRegion":"us-east-1","eventID":"` + id + `","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
	}
	file := `{"Records":[` + rec("77777777-0000-0000-0000-000000000001") + `,42,` + rec("77777777-0000-0000-0000-000000000002") + `]}`
	s3c := newS3Server(t)
	putObject(t, s3c, "trail-bucket", "AWSLogs/1/CloudTrail/us-east-1/2024/05/01/bad-record.json", []byte(file))
	s := newSQSServer(t)
	q := s.createQueue(t, "bad-record", nil)
	c := newCollector()
	src, _, logs := newSource(s, s3c, c, q, Options{})
	s.send(t, q, s3Notification("trail-bucket", "AWSLogs/1/CloudTrail/us-east-1/2024/05/01/bad-record.json"))
	stop := run(t, src)
	s.waitCalls(ctx, t, 1, action("DeleteMessage"))
	stop()
	keys, _ := c.snapshot()
	if got := strings.Join(keys, ","); got != "77777777-0000-0000-0000-000000000001,77777777-0000-0000-0000-000000000002" {
		t.Errorf("keys = %s", got)
	}
	if !strings.Contains(logs.String(), "bad record skipped") {
		t.Errorf("bad record not logged:\n%s", logs.String())
	}
}

// TestS3NotificationWithoutS3Client: without an S3 client a notification
// fails (and is left for redelivery) rather than being dropped.
func TestS3NotificationWithoutS3Client(t *testing.T) {
	ctx := testCtx(t)
	s := newSQSServer(t)
	q := s.createQueue(t, "no-s3-client", nil)
	c := newCollector()
	src, _, logs := newSource(s, nil, c, q, Options{RetryDelay: -1, Pollers: 1})
	s.send(t, q, s3Notification("b", "k.json.gz"))
	stop := run(t, src)
	s.waitCalls(ctx, t, 1, func(cl call) bool {
		return cl.Action == "ChangeMessageVisibility" && cl.Queue == q && cl.Visibility == "0"
	})
	stop()
	if n := s.count(func(cl call) bool { return cl.Action == "DeleteMessage" && cl.Queue == q }); n != 0 {
		t.Errorf("%d deletes", n)
	}
	if !strings.Contains(logs.String(), ErrNoS3Client.Error()) {
		t.Errorf("log lacks %q:\n%s", ErrNoS3Client, logs.String())
	}
}
