package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// createBucket is the CloudWatch Events documentation's sample record.
const createBucket = `{"eventVersion":"1.03","userIdentity":{"type":"Root","principalId":"123456789012","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012","sessionContext":{"attributes":{"mfaAuthenticated":"false","creationDate":"2016-02-20T01:05:59Z"}}},"eventTime":"2016-02-20T01:09:13Z","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","awsRegion":"us-east-1","sourceIPAddress":"100.100.100.100","userAgent":"[S3Console/0.4]","requestParameters":{"bucketName":"bucket-test-iad"},"responseElements":null,"requestID":"9D767BCC3B4E7487","eventID":"24ba271e-d595-4e66-a7fd-9c16cbf8abae","eventType":"AwsApiCall"}`

func TestFromRecordJSON(t *testing.T) {
	e, err := FromRecord([]byte(" \n" + createBucket + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":"0","id":"fbd8f21a-8893-5e95-8efa-35bff7fa5db8","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"123456789012","time":"2016-02-20T01:09:13Z","region":"us-east-1","resources":[],"detail":` + createBucket + `}`
	if string(e.JSON) != want {
		t.Errorf("JSON:\n got %s\nwant %s", e.JSON, want)
	}
	if string(e.Record) != createBucket {
		t.Errorf("Record = %s", e.Record)
	}
	// Record is the detail inside JSON, not a copy.
	at := len(e.JSON) - 1 - len(e.Record)
	if &e.JSON[at] != &e.Record[0] {
		t.Error("Record does not alias JSON")
	}
	if cap(e.Record) != len(e.Record) {
		t.Error("appending to Record would overwrite JSON")
	}
	var m map[string]any
	if err := json.Unmarshal(e.JSON, &m); err != nil {
		t.Fatal(err)
	}
	if e.Key() != "24ba271e-d595-4e66-a7fd-9c16cbf8abae" || e.EventName != "CreateBucket" || e.EventType != "AwsApiCall" || e.ReadOnly {
		t.Errorf("got %+v", e)
	}
	again, _ := FromRecord([]byte(createBucket))
	if again.ID != e.ID {
		t.Errorf("id not reproducible: %s, %s", again.ID, e.ID)
	}
}

func TestFromRecord(t *testing.T) {
	tests := []struct {
		name                                      string
		rec                                       string
		detailType, source, account, region, time string
		readOnly                                  bool
	}{
		{"api call", createBucket, DetailTypeAPICall, "aws.s3", "123456789012", "us-east-1", "2016-02-20T01:09:13Z", false},
		{"sign-in", `{"eventVersion":"1.05","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2022-11-10T16:24:34Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"deb1e1f9-c99b-4612-8e9f-21f93b5e79c0","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`,
			DetailTypeSignIn, "aws.signin", "111122223333", "us-east-1", "2022-11-10T16:24:34Z", false},
		{"sign-in spelt Signin", `{"eventTime":"2015-03-31T22:20:42Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-2","eventID":"a","eventType":"AwsConsoleSignin","recipientAccountId":"123456789012"}`,
			DetailTypeSignIn, "aws.signin", "123456789012", "us-east-2", "2015-03-31T22:20:42Z", false},
		{"service event, account from userIdentity", `{"eventVersion":"1.05","userIdentity":{"accountId":"123456789012","invokedBy":"AWS Internal"},"eventTime":"2019-06-02T00:06:08Z","eventSource":"kms.amazonaws.com","eventName":"RotateKey","awsRegion":"us-east-2","sourceIPAddress":"AWS Internal","eventID":"b","readOnly":false,"eventType":"AwsServiceEvent"}`,
			DetailTypeServiceEvent, "aws.kms", "123456789012", "us-east-2", "2019-06-02T00:06:08Z", false},
		{"console action", `{"eventTime":"2021-01-01T00:00:00Z","eventSource":"health.amazonaws.com","eventName":"DescribeEventAggregates","awsRegion":"eu-west-1","eventID":"c","eventType":"AwsConsoleAction","recipientAccountId":"1"}`,
			DetailTypeConsole, "aws.health", "1", "eu-west-1", "2021-01-01T00:00:00Z", true},
		{"insight, no eventSource", `{"eventVersion":"1.07","eventTime":"2019-10-17T10:05:00Z","awsRegion":"us-east-1","eventID":"d","eventType":"AwsCloudTrailInsight","recipientAccountId":"123456789012","sharedEventID":"12345678-1234-1234-1234-123456789012","insightDetails":{"state":"Start","eventSource":"ssm.amazonaws.com","eventName":"UpdateInstanceAssociationStatus","insightType":"ApiCallRateInsight"},"eventCategory":"Insight"}`,
			DetailTypeInsight, "aws.cloudtrail", "123456789012", "us-east-1", "2019-10-17T10:05:00Z", false},
		{"network activity", `{"eventTime":"2024-08-01T12:00:00Z","eventSource":"kms.amazonaws.com","eventName":"ListKeys","awsRegion":"us-east-1","eventID":"e","eventType":"AwsVpceEvent","recipientAccountId":"1","readOnly":true,"eventCategory":"NetworkActivity"}`,
			DetailTypeNetwork, "aws.kms", "1", "us-east-1", "2024-08-01T12:00:00Z", true},
		{"no eventType", `{"eventTime":"2014-03-06T21:22:54Z","eventSource":"ec2.amazonaws.com","eventName":"StartInstances","awsRegion":"us-east-2","eventID":"f","recipientAccountId":"1"}`,
			DetailTypeAPICall, "aws.ec2", "1", "us-east-2", "2014-03-06T21:22:54Z", false},
		{"space-separated nanosecond time", `{"eventTime":"2025-01-20 15:59:33.000000000","eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity","awsRegion":"eu-west-2r","eventID":"g","eventType":"AwsApiCall","recipientAccountId":"1"}`,
			DetailTypeAPICall, "aws.sts", "1", "eu-west-2r", "2025-01-20T15:59:33Z", true},
		{"logstash @timestamp", `{"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstanceTypes","awsRegion":"us-east-1","@timestamp":"2020-09-14T00:44:23.000Z","eventID":"h","recipientAccountId":"123456789123"}`,
			DetailTypeAPICall, "aws.ec2", "123456789123", "us-east-1", "2020-09-14T00:44:23Z", true},
		{"offset and fraction to UTC", `{"eventTime":"2020-09-14T02:44:23.999+02:00","eventSource":"sts.amazonaws.com","eventName":"GetSessionToken","eventID":"i"}`,
			DetailTypeAPICall, "aws.sts", "", "", "2020-09-14T00:44:23Z", false},
		{"GetFederationToken is not read-only", `{"eventTime":"2020-09-14T00:44:23Z","eventSource":"sts.amazonaws.com","eventName":"GetFederationToken","eventID":"j"}`,
			DetailTypeAPICall, "aws.sts", "", "", "2020-09-14T00:44:23Z", false},
		{"readOnly false wins over the name", `{"eventTime":"2020-09-14T00:44:23Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","readOnly":false,"eventID":"k"}`,
			DetailTypeAPICall, "aws.s3", "", "", "2020-09-14T00:44:23Z", false},
		{"escaped strings, service outside amazonaws.com", `{"eventTime":"2020-09-14T00:44:23Z","eventSource":"example\u002ecom","awsRegion":"us-\"east\"-1","eventID":"l","readOnly":"true"}`,
			DetailTypeAPICall, "aws.example.com", "", `us-"east"-1`, "2020-09-14T00:44:23Z", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := FromRecord([]byte(tt.rec))
			if err != nil {
				t.Fatal(err)
			}
			if e.DetailType != tt.detailType || e.Source != tt.source || e.Account != tt.account || e.Region != tt.region || e.ReadOnly != tt.readOnly {
				t.Errorf("got %q %q %q %q readOnly %v, want %q %q %q %q %v", e.DetailType, e.Source, e.Account, e.Region, e.ReadOnly, tt.detailType, tt.source, tt.account, tt.region, tt.readOnly)
			}
			if got := e.Time.Format(time.RFC3339); got != tt.time || e.Time.Location() != time.UTC {
				t.Errorf("time %s, want %s UTC", got, tt.time)
			}
			var env struct {
				Version, ID, DetailType, Source, Account, Time, Region string
				Resources                                              []string
				Detail                                                 json.RawMessage
			}
			dec := json.NewDecoder(bytes.NewReader(bytes.ReplaceAll(e.JSON, []byte(`"detail-type"`), []byte(`"detailtype"`))))
			if err := dec.Decode(&env); err != nil {
				t.Fatalf("JSON %s: %v", e.JSON, err)
			}
			if env.Version != "0" || env.ID != e.ID || env.DetailType != tt.detailType || env.Source != tt.source || env.Account != tt.account ||
				env.Region != tt.region || env.Time != tt.time || env.Resources == nil || len(env.Resources) != 0 || string(env.Detail) != tt.rec {
				t.Errorf("envelope %s", e.JSON)
			}
			if len(e.ID) != 36 || e.ID[14] != '5' {
				t.Errorf("id %q is not a version 5 UUID", e.ID)
			}
		})
	}
}

func TestFromRecordErrors(t *testing.T) {
	tests := []struct {
		rec  string
		want error
	}{
		{``, ErrTruncated},
		{`[]`, ErrNotObject},
		{`42`, ErrNotObject},
		{`"x"`, ErrNotObject},
		{`{"eventTime":"2020-09-14T00:44:23Z"`, ErrTruncated},
		{`{"eventTime":"2020-09-14T00:44:23Z",}`, ErrSyntax},
		{`{"eventTime":"2020-09-14T00:44:23Z"} {}`, ErrTrailingData},
		{`{"eventTime":"2020-09-14T00:44:23Z","a":[1,2,]}`, ErrSyntax},
		{`{"eventTime":"2020-09-14T00:44:23Z","a":"\x"}`, ErrSyntax},
		{`{"eventTime":"2020-09-14T00:44:23Z","a":01}`, ErrSyntax},
		{`{"eventTime":"2020-09-14T00:44:23Z","a":tru}`, ErrSyntax},
		{"{\"eventTime\":\"2020-09-14T00:44:23Z\",\"a\":\"\n\"}", ErrSyntax},
		{`{"eventTime":null}`, ErrNotRecord},
		{`{"eventTime":"ThisIsAWrongEventTime"}`, ErrNotRecord},
		{`{"eventTime":"2021-02-30T00:00:00Z"}`, ErrNotRecord},
		{`{"a":1}`, ErrNotRecord},
	}
	for _, tt := range tests {
		_, err := FromRecord([]byte(tt.rec))
		if !errors.Is(err, tt.want) {
			t.Errorf("FromRecord(%q) = %v, want %v", tt.rec, err, tt.want)
		}
	}
}

func TestFromEnvelope(t *testing.T) {
	rec, err := FromRecord([]byte(createBucket))
	if err != nil {
		t.Fatal(err)
	}
	e, err := FromEnvelope(rec.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != rec.ID || e.DetailType != rec.DetailType || e.Source != "aws.s3" || e.Account != "123456789012" || e.Region != "us-east-1" ||
		!e.Time.Equal(rec.Time) || e.EventID != rec.EventID || e.EventName != "CreateBucket" || e.EventType != "AwsApiCall" {
		t.Errorf("got %+v", e)
	}
	if string(e.Record) != createBucket || string(e.JSON) != string(rec.JSON) || &e.JSON[0] == &rec.JSON[0] {
		t.Errorf("Record %s / JSON not a copy", e.Record)
	}

	// The EventBridge documentation's sign-in sample, and an event that is
	// not from CloudTrail.
	signIn := `{"version":"0","id":"6f87d04b-9f74-4f04-a780-7acf4b0a9b38","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","account":"123456789012","time":"2016-01-05T18:21:27Z","region":"us-east-1","resources":[],"detail":{"eventVersion":"1.02","userIdentity":{"type":"Root","principalId":"123456789012","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012"},"eventTime":"2016-01-05T18:21:27Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"0.0.0.0","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true","MobileVersion":"No","MFAUsed":"No"},"eventID":"324731c0-64b3-4421-b552-dfc3c27df4f6","eventType":"AwsConsoleSignIn"}}`
	e, err = FromEnvelope([]byte(signIn))
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "6f87d04b-9f74-4f04-a780-7acf4b0a9b38" || e.Key() != "324731c0-64b3-4421-b552-dfc3c27df4f6" || e.DetailType != DetailTypeSignIn || e.EventName != "ConsoleLogin" || e.Time.Format(time.RFC3339) != "2016-01-05T18:21:27Z" {
		t.Errorf("got %+v", e)
	}
	ec2 := `{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],"detail":{"instance-id":"i-abcd1111","state":"pending"}}`
	e, err = FromEnvelope([]byte(ec2))
	if err != nil {
		t.Fatal(err)
	}
	if e.Record != nil || e.Key() != "7bf73129-1428-4cd3-a780-95db273d1602" || len(e.Resources) != 1 || e.Resources[0] != "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111" {
		t.Errorf("got %+v", e)
	}
	for _, bad := range []string{createBucket, `[]`} {
		if _, err := FromEnvelope([]byte(bad)); err == nil {
			t.Errorf("FromEnvelope(%.40s) = nil error", bad)
		}
	}
}

// A record whose time is missing or unreadable is still an event (zero
// Time, the envelope's time as the record has it), so its rules still run.
func TestFromRecordWithoutTime(t *testing.T) {
	for rec, wantTime := range map[string]string{
		`{"eventName":"x","eventID":"a"}`:                   `"time":""`,
		`{"eventName":"x","eventTime":"redacted"}`:          `"time":"redacted"`,
		`{"eventName":"x","eventTime":null,"eventID":"b"}`:  `"time":""`,
		`{"eventName":"x","eventTime":"2021-02-30T00:00Z"}`: `"time":"2021-02-30T00:00Z"`,
	} {
		e, err := FromRecord([]byte(rec))
		if err != nil {
			t.Errorf("FromRecord(%s): %v", rec, err)
			continue
		}
		if !e.Time.IsZero() || e.EventName != "x" || !strings.Contains(string(e.JSON), wantTime) || !json.Valid(e.JSON) {
			t.Errorf("FromRecord(%s) = time %v, JSON %s", rec, e.Time, e.JSON)
		}
	}
	e, err := FromEnvelope([]byte(`{"detail-type":"x","source":"s","detail":{}}`))
	if err != nil || !e.Time.IsZero() || e.Source != "s" {
		t.Errorf("FromEnvelope without time = %+v, %v", e, err)
	}
}
