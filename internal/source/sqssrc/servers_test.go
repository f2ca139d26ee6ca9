package sqssrc

// Real servers on 127.0.0.1 for the tests, reached through the AWS SDK for
// Go v2 with endpoint overrides and static credentials:
//
//   - SQS: goaws's router (github.com/Admiral-Piett/goaws/app/router). It
//     speaks only SQS's query protocol (form posts, XML answers), which the
//     SDK still implements: the client is given smithy-go's awsquery
//     protocol instead of its default JSON one. goaws keeps its queues in
//     package globals, so each test uses its own queue names.
//   - S3: gofakes3 with the s3mem backend, path-style addressing.
//
// What goaws lacks, and how the tests live with it:
//   - ApproximateReceiveCount is always 1 (NumberOfReceives is never
//     incremented); the tests count redeliveries at the sink.
//   - A message whose visibility timeout runs out becomes visible again only
//     through goaws's PeriodicTasks ticker (real time, not started by
//     router.New); ChangeMessageVisibility(0) releases at once. So the
//     failure tests set RetryDelay < 0 (release at once) rather than wait.
//   - Redrive works, but only on a release: a message moves to the DLQ when
//     its release count exceeds maxReceiveCount (one delivery more than SQS).
//   - ReceiveMessage's VisibilityTimeout parameter is ignored (the queue's
//     applies), ChangeMessageVisibilityBatch is missing, and a visibility
//     extension cannot be read back: the tests observe the requests the
//     server is sent.
//   - ApproximateNumberOfMessages counts in-flight messages as well.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/Admiral-Piett/goaws/app"
	"github.com/Admiral-Piett/goaws/app/router"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/schemas"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/sirupsen/logrus"
)

const (
	testRegion  = "us-east-1"
	testAccount = "100010001000"
)

var goawsOnce sync.Once

// call is one request the SQS server was sent.
type call struct {
	Action     string
	Visibility string // VisibilityTimeout, for ChangeMessageVisibility
	Handle     string // ReceiptHandle
	Queue      string // QueueUrl
}

// sqsServer is goaws behind a recorder of the actions it is sent.
type sqsServer struct {
	URL    string
	Client *sqs.Client

	mu      sync.Mutex
	calls   []call
	changed chan struct{}
}

func newSQSServer(t testing.TB) *sqsServer {
	t.Helper()
	goawsOnce.Do(func() {
		logrus.SetOutput(io.Discard)
		app.CurrentEnvironment.Region = testRegion
		app.CurrentEnvironment.AccountID = testAccount
		app.CurrentEnvironment.Host = "127.0.0.1"
		app.CurrentEnvironment.QueueAttributeDefaults.VisibilityTimeout = 30
	})
	s := &sqsServer{changed: make(chan struct{})}
	h := router.New()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseForm(); err == nil {
			s.record(call{Action: r.Form.Get("Action"), Visibility: r.Form.Get("VisibilityTimeout"), Handle: r.Form.Get("ReceiptHandle"), Queue: r.Form.Get("QueueUrl")})
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.Client = sqs.New(sqs.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}, func(o *sqs.Options) { o.Protocol = awsquery.New(schemas.AmazonSQS) })
	return s
}

func (s *sqsServer) record(c call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	close(s.changed)
	s.changed = make(chan struct{})
}

// count returns how many calls match f.
func (s *sqsServer) count(f func(call) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if f(c) {
			n++
		}
	}
	return n
}

// waitCalls blocks until n calls match f, without sleeping.
func (s *sqsServer) waitCalls(ctx context.Context, t testing.TB, n int, f func(call) bool) {
	t.Helper()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if s.count(f) >= n {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("waiting for %d calls: %v", n, ctx.Err())
		}
	}
}

func action(a string) func(call) bool { return func(c call) bool { return c.Action == a } }

// createQueue creates a queue (with attributes) through the SDK and
// returns its URL.
func (s *sqsServer) createQueue(t testing.TB, name string, attrs map[string]string) string {
	t.Helper()
	out, err := s.Client.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	u := aws.ToString(out.QueueUrl)
	t.Cleanup(func() {
		s.Client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
	})
	return u
}

func (s *sqsServer) send(t testing.TB, queue, body string) string {
	t.Helper()
	out, err := s.Client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	return aws.ToString(out.MessageId)
}

// messages returns the queue's message counts: all of them, and those in
// flight. (goaws's ApproximateNumberOfMessages counts the messages in flight
// too; SQS's counts only the visible ones.)
func (s *sqsServer) messages(t testing.TB, queue string) (all, inFlight string) {
	t.Helper()
	out, err := s.Client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queue),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	return out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"]
}

// newS3Server starts gofakes3 and returns a path-style client for it.
func newS3Server(t testing.TB) *s3.Client {
	t.Helper()
	f := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	srv := httptest.NewServer(f.Server())
	t.Cleanup(srv.Close)
	return s3.New(s3.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
}

func putObject(t testing.TB, c *s3.Client, bucket, key string, body []byte) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil &&
		!strings.Contains(err.Error(), "BucketAlready") {
		t.Fatalf("create bucket: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}
