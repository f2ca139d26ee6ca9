// Package notifytest holds a realistic notification for receivers' tests:
// a root console sign-in without MFA, as EventBridge delivers it.
package notifytest

import (
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify"
)

// EventJSON is the EventBridge event of the sample alert.
const EventJSON = `{"version":"0","id":"6f6e1c2a-0000-4000-8000-000000000001","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","account":"111122223333","time":"2024-03-01T10:00:00Z","region":"us-east-1","resources":[],"detail":{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","accessKeyId":""},"eventTime":"2024-03-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0 (Macintosh)","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/","MobileVersion":"No","MFAUsed":"No"},"eventID":"e7c3a6b1-1111-4222-8333-944445555666","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}}`

// Queued is when the sample notification was queued.
var Queued = time.Date(2024, 3, 1, 10, 0, 5, 0, time.UTC)

// Notification returns a fresh sample notification (callers may change it).
func Notification() *notify.Notification {
	return &notify.Notification{
		ID:       "d-42",
		Key:      "a-7:slack-ops:0",
		AlertID:  "a-7",
		Receiver: "ops",
		Alert: alert.Alert{
			Rule:          "root-signin",
			Severity:      "critical",
			Tags:          []string{"cis-1.4-1.7"},
			EventID:       "e7c3a6b1-1111-4222-8333-944445555666",
			EventTime:     "2024-03-01T10:00:00Z",
			Account:       "111122223333",
			Region:        "us-east-1",
			EventSource:   "signin.amazonaws.com",
			EventName:     "ConsoleLogin",
			Principal:     "root",
			PrincipalType: "Root",
			PrincipalARN:  "arn:aws:iam::111122223333:root",
			SourceIP:      "198.51.100.7",
			UserAgent:     "Mozilla/5.0 (Macintosh)",
			MFA:           "No",
			Outcome:       "Success",
			Summary:       "root signed in from 198.51.100.7 without MFA",
			Event:         []byte(EventJSON),
		},
		Count:   1,
		AckURL:  "https://trailwatch.example.com/alerts/a-7/ack?sig=abc",
		RuleARN: "arn:aws:events:us-east-1:111122223333:rule/root-signin",
		Queued:  Queued,
	}
}

// Clock returns a clock that always says t.
func Clock(t time.Time) func() time.Time { return func() time.Time { return t } }
