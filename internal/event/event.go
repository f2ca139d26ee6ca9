// Package event is the one thing every source yields and everything downstream
// consumes: an Event in the EventBridge envelope, built from a CloudTrail
// record exactly as EventBridge builds it, keeping the raw record too.
package event

import "time"

// Detail types EventBridge gives CloudTrail-delivered events, by eventType.
const (
	DetailTypeAPICall      = "AWS API Call via CloudTrail"
	DetailTypeSignIn       = "AWS Console Sign In via CloudTrail" // as the seeds and most deployed rules spell it
	DetailTypeSignInNew    = "AWS Console Signin via CloudTrail"  // AWS's newer spelling; patterns using it match too
	DetailTypeConsole      = "AWS Console Action via CloudTrail"
	DetailTypeServiceEvent = "AWS Service Event via CloudTrail"
	DetailTypeInsight      = "AWS Insight via CloudTrail"
	DetailTypeNetwork      = "AWS Network Activity Event via CloudTrail"
)

// Event is one event in the EventBridge envelope.
//
// JSON is what event patterns see; Record is what CloudWatch Logs filter
// patterns see. For an event built from a CloudTrail record, Record is the
// record's bytes exactly as read, and JSON embeds it as "detail".
type Event struct {
	// Envelope fields.
	ID         string // envelope "id"
	DetailType string
	Source     string
	Account    string
	Region     string
	Time       time.Time
	Resources  []string

	// JSON is the whole EventBridge envelope as JSON text.
	JSON []byte
	// Record is the CloudTrail record (the envelope's "detail"), or nil when
	// the event did not come from CloudTrail.
	Record []byte

	// From the CloudTrail record, when there is one.
	EventID   string // CloudTrail eventID; the dedupe key (falls back to ID)
	EventName string
	EventType string // AwsApiCall, AwsConsoleSignIn, ...
	ReadOnly  bool   // a read-only management event (see ReadOnly rules in decode.go)

	// Origin says where the event was read.
	Origin Origin
}

// Origin locates an event in its input, for error messages and output.
type Origin struct {
	Name  string // file name, "-" for stdin, or a source-specific name
	Index int    // 0-based record index within Name
}

// Key is the event's identity for deduplication: the CloudTrail eventID,
// or the envelope id when the event carries no CloudTrail record.
func (e *Event) Key() string {
	if e.EventID != "" {
		return e.EventID
	}
	return e.ID
}
