package app

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	goaws "github.com/Admiral-Piett/goaws/app"
	"github.com/Admiral-Piett/goaws/app/router"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/schemas"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"github.com/sirupsen/logrus"

	"github.com/trailwatch/trailwatch/internal/source/s3src/s3srctest"
	"github.com/trailwatch/trailwatch/internal/store"
)

var goawsOnce sync.Once

// serve polls an SQS queue (goaws, an SQS-compatible server on loopback)
// carrying an S3 notification of a new CloudTrail log file (in gofakes3):
// the file's alerts are recorded and the message deleted.
func TestServePollsSQS(t *testing.T) {
	t.Parallel()
	goawsOnce.Do(func() {
		logrus.SetOutput(io.Discard)
		goaws.CurrentEnvironment.Region = "us-east-1"
		goaws.CurrentEnvironment.AccountID = "100010001000"
		goaws.CurrentEnvironment.Host = "127.0.0.1"
	})
	srv := httptest.NewServer(router.New())
	t.Cleanup(srv.Close)
	sqsClient := sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}, func(o *sqs.Options) { o.Protocol = awsquery.New(schemas.AmazonSQS) })
	ctx := context.Background()
	q, err := sqsClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("trailwatch-app-test")})
	if err != nil {
		t.Fatal(err)
	}

	s3srv := s3srctest.Start(t)
	s3srv.CreateBucket(t, "trail")
	const key = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1230Z_ZtUNbBkwAu98FPZb.json.gz"
	body, err := os.ReadFile("../../examples/cloudtrail/" + key)
	if err != nil {
		t.Fatal(err)
	}
	s3srv.Put(t, "trail", key, body)
	note := `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"trail"},"object":{"key":"` + key + `","size":` + itoa(len(body)) + `}}}]}`
	if _, err := sqsClient.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(note)}); err != nil {
		t.Fatal(err)
	}

	a := start(t, Options{SQSQueues: []string{*q.QueueUrl}, SQSClient: sqsClient, S3Client: s3srv.Client(), Stdout: io.Discard})
	for i := 0; ; i++ {
		rows, err := a.Store().Alerts(ctx, store.AlertFilter{Rule: "access-key-created"})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 2 {
			break
		}
		if i > 1000 {
			t.Fatalf("%d access-key-created alerts from the queued log file, want 2", len(rows))
		}
		time.Sleep(10 * time.Millisecond) // polling the source's progress
	}
	// The message is gone once its alerts are stored.
	for i := 0; ; i++ {
		attrs, err := sqsClient.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages"}})
		if err != nil {
			t.Fatal(err)
		}
		if attrs.Attributes["ApproximateNumberOfMessages"] == "0" {
			break
		}
		if i > 1000 {
			t.Fatalf("message not deleted: %v", attrs.Attributes)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
