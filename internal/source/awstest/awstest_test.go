package awstest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type fakeNow struct{ t time.Time }

func (f *fakeNow) Now() time.Time { return f.t }

func logsClient(t *testing.T, l *Logs) *cloudwatchlogs.Client {
	return cloudwatchlogs.NewFromConfig(Config(Start(t, l), Region))
}

func TestLogsFilterThroughSDK(t *testing.T) {
	t.Parallel()
	clk := &fakeNow{t0}
	l := NewLogs(clk.Now)
	l.PageSize = 3
	l.EmptyPages = 1
	for i := range 10 {
		stream := "a"
		if i%2 == 1 {
			stream = "b"
		}
		// put in reverse time order: the server sorts by timestamp
		l.Put("trail", LogEvent{Stream: stream, Timestamp: t0.Add(-time.Duration(10-i) * time.Minute).Add(-time.Duration(i) * time.Second), Message: fmt.Sprintf(`{"n":%d,"eventName":"E%d"}`, i, i%3)})
	}
	c := logsClient(t, l)
	ctx := context.Background()
	var got []int64
	var pages int
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String("trail"),
		StartTime:    aws.Int64(t0.Add(-8 * time.Minute).Add(-2 * time.Second).UnixMilli()), // inclusive: event 2
		EndTime:      aws.Int64(t0.Add(-2 * time.Minute).Add(-8 * time.Second).UnixMilli()), // inclusive: event 8
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if pages == 1 && len(out.Events) != 0 {
			t.Errorf("first page has %d events, want 0 (EmptyPages)", len(out.Events))
		}
		for _, e := range out.Events {
			got = append(got, *e.Timestamp)
			if *e.IngestionTime != t0.UnixMilli() || *e.EventId == "" || *e.LogStreamName == "" {
				t.Errorf("event fields: %+v", e)
			}
		}
	}
	if len(got) != 7 || pages != 4 {
		t.Fatalf("got %d events in %d pages, want 7 in 4", len(got), pages)
	}
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			t.Errorf("events out of timestamp order: %v", got)
		}
	}

	// stream names and filter pattern are honoured
	out, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String("trail"), LogStreamNames: []string{"b"}, FilterPattern: aws.String(`{ $.eventName = "E0" }`), Limit: aws.Int32(100),
	})
	if err != nil {
		t.Fatal(err)
	}
	for out.NextToken != nil && len(out.Events) == 0 {
		out, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("trail"), NextToken: out.NextToken})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out.Events) != 2 { // i = 3, 9
		t.Errorf("stream b, E0: %d events, want 2", len(out.Events))
	}
}

func TestLogsErrorsThroughSDK(t *testing.T) {
	t.Parallel()
	clk := &fakeNow{t0}
	l := NewLogs(clk.Now)
	l.CreateGroup("g")
	c := logsClient(t, l)
	ctx := context.Background()
	_, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("missing")})
	var nf *cwltypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("missing group: %v, want ResourceNotFoundException", err)
	}
	l.Fail("ThrottlingException")
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g")})
	var th *cwltypes.ThrottlingException
	if !errors.As(err, &th) {
		t.Errorf("throttled: %v, want ThrottlingException", err)
	}
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), NextToken: aws.String("bogus")})
	var ip *cwltypes.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Errorf("bad token: %v, want InvalidParameterException", err)
	}
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), LogStreamNames: []string{"a"}, LogStreamNamePrefix: aws.String("a")})
	if !errors.As(err, &ip) {
		t.Errorf("names and prefix: %v, want InvalidParameterException", err)
	}
	// eventual consistency
	l.SearchDelay = 5 * time.Second
	l.Put("g", LogEvent{Stream: "s", Timestamp: t0, Message: "x"})
	out, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g")})
	if err != nil || len(out.Events) != 0 {
		t.Errorf("before SearchDelay: %v %v, want no events", out, err)
	}
	clk.t = t0.Add(5 * time.Second)
	out, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g")})
	if err != nil || len(out.Events) != 1 {
		t.Errorf("after SearchDelay: %v %v, want 1 event", out, err)
	}
	calls := l.Calls()
	if len(calls) != 6 || calls[0].Target != "FilterLogEvents" || calls[0].Region != Region || calls[1].Error != "ThrottlingException" {
		t.Errorf("calls: %+v", calls)
	}
}

func record(id, name string, at time.Time) []byte {
	return fmt.Appendf(nil, `{"eventVersion":"1.08","eventID":%q,"eventName":%q,"eventSource":"iam.amazonaws.com","eventTime":%q,"eventType":"AwsApiCall","readOnly":false,"awsRegion":"us-east-1","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","userName":"alice","accessKeyId":"AKIA1"}}`,
		id, name, at.UTC().Format(time.RFC3339))
}

func TestTrailLookupThroughSDK(t *testing.T) {
	t.Parallel()
	clk := &fakeNow{t0}
	tr := NewTrail(clk.Now)
	for i := range 120 {
		if err := tr.Put("eu-west-1", record(fmt.Sprintf("id-%03d", i), "CreateUser", t0.Add(-time.Duration(120-i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Put("us-east-1", record("other", "CreateUser", t0.Add(-time.Second))); err != nil {
		t.Fatal(err)
	}
	c := cloudtrail.NewFromConfig(Config(Start(t, tr), "eu-west-1"))
	ctx := context.Background()
	in := &cloudtrail.LookupEventsInput{StartTime: aws.Time(t0.Add(-100 * time.Second)), EndTime: aws.Time(t0.Add(-10 * time.Second))}
	var ids []string
	var sizes []int
	var token *string
	for {
		in.NextToken = token
		out, err := c.LookupEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(out.Events))
		for _, e := range out.Events {
			ids = append(ids, *e.EventId)
			if e.CloudTrailEvent == nil || *e.EventName != "CreateUser" || *e.Username != "alice" || *e.ReadOnly != "false" || e.EventTime == nil {
				t.Errorf("event fields: %+v", e)
			}
		}
		clk.t = clk.t.Add(500 * time.Millisecond) // stay within 2 requests/s
		if token = out.NextToken; token == nil {
			break
		}
	}
	// 100 s back to 10 s back, inclusive: ids 20..110, newest first
	if len(ids) != 91 || ids[0] != "id-110" || ids[90] != "id-020" || fmt.Sprint(sizes) != "[50 41]" {
		t.Errorf("got %d ids (%s..%s) in pages %v", len(ids), ids[0], ids[len(ids)-1], sizes)
	}

	// 2 requests/s per region: the third at the same instant is throttled.
	// LookupEvents does not model ThrottlingException: the SDK gives a
	// generic smithy.APIError with its code (its retryer knows the code).
	var th smithy.APIError
	for i := range 3 {
		_, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1)})
		if i < 2 && err != nil {
			t.Fatal(err)
		}
		if i == 2 && (!errors.As(err, &th) || th.ErrorCode() != "ThrottlingException") {
			t.Errorf("third request: %v, want ThrottlingException", err)
		}
	}
	// another region has its own bucket and history
	us := cloudtrail.NewFromConfig(Config(Start(t, tr), "us-east-1"))
	out, err := us.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	if err != nil || len(out.Events) != 1 || *out.Events[0].EventId != "other" {
		t.Errorf("us-east-1: %v %v", out, err)
	}
	out, err = us.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventId, AttributeValue: aws.String("nope")}}})
	if err != nil || len(out.Events) != 0 {
		t.Errorf("attribute: %v %v", out, err)
	}
	clk.t = clk.t.Add(time.Second)
	_, err = c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(-time.Second))})
	var tr2 *cttypes.InvalidTimeRangeException
	if !errors.As(err, &tr2) {
		t.Errorf("bad range: %v", err)
	}
	_, err = c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{NextToken: aws.String("bogus")})
	var nt *cttypes.InvalidNextTokenException
	if !errors.As(err, &nt) {
		t.Errorf("bad token: %v", err)
	}
}
