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
	_ = errors.New
	_ = fmt.Sprint
	_ = clock.Real
}
