// Package notify is the seam between the durable outbox and the receivers
// that deliver alerts (Slack, email, webhooks, SNS, API destinations,
// stdout). Receivers say whether to retry; the outbox says when.
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
)

// Notification is one message to one receiver about one alert. The outbox
// stores it whole (as JSON) when the alert is recorded, so that a delivery
// needs nothing but itself and the receiver, even after a restart.
type Notification struct {
	// ID identifies the delivery (the outbox row).
	ID string `json:"id"`
	// Key is the idempotency key: the same for every attempt of this
	// delivery, different for each reminder. Receivers that can pass it on
	// (an Idempotency-Key header, an SNS MessageDeduplicationId) do.
	Key string `json:"key"`
	// AlertID is the alert's id, for acknowledgement.
	AlertID string `json:"alert_id"`
	// Receiver is the receiver's name in the configuration.
	Receiver string `json:"receiver"`
	// Alert is what the alert says (rule, who, what, where, when, event).
	Alert alert.Alert `json:"alert"`
	// Count is the number of matching events folded into the alert by
	// deduplication (1 without it).
	Count int `json:"count"`
	// Reminder is 0 for the first notification, n for the n-th reminder.
	Reminder int `json:"reminder"`
	// AckURL is a signed link that acknowledges the alert; "" when none.
	AckURL string `json:"ack_url,omitempty"`
	// Body, when not nil, is the exact body a route or target fixed (an
	// EventBridge Input, InputPath or InputTransformer rendered over the
	// event). Receivers send it as it is instead of their default message.
	Body []byte `json:"body,omitempty"`
	// RuleARN is the EventBridge-style ARN of the rule, for templates.
	RuleARN string `json:"rule_arn,omitempty"`
	// Digest, when not empty, is the key of the digest the notification
	// belongs to: deliveries deferred by a route's mute window, sent
	// together as one notification (see Digest) when the window closes.
	Digest string `json:"digest,omitempty"`
	// Held is set on the one notification a digest becomes: Count then
	// counts the alerts it holds, not events.
	Held bool `json:"held,omitempty"`
	// Thread is the Key of the alert's first notification to this
	// receiver, which its reminders carry too, so that receivers can thread
	// them (an email's In-Reply-To); "" when unknown.
	Thread string `json:"thread,omitempty"`
	// Queued is when the notification was queued.
	Queued time.Time `json:"queued"`
}

// Notifier delivers notifications to one receiver.
//
// Notify returns nil when the receiver took the message. Otherwise retry
// says whether trying again later may succeed (a timeout, HTTP 429 or 5xx)
// or not (HTTP 4xx, a bad address): the outbox retries the first with
// back-off and dead-letters the second at once. A Notifier never sleeps or
// loops to retry by itself.
type Notifier interface {
	Notify(ctx context.Context, n *Notification) (retry bool, err error)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, n *Notification) (bool, error)

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, n *Notification) (bool, error) { return f(ctx, n) }

// RetryAfterError is a retryable error with the wait the receiver asked for
// (an HTTP Retry-After header). A negative After means: stop retrying, as
// EventBridge API destinations do.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter returns the wait an error asks for, if it carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return ra.After, true
	}
	return 0, false
}
