// Package sns publishes notifications to an Amazon SNS topic with the AWS
// SDK for Go v2, as an EventBridge SNS target does: the message is the
// body a route fixed, or the EventBridge event.
package sns

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify"
)

// Errors.
var (
	ErrTopicARN = errors.New("sns: topic_arn is not an SNS topic ARN")
)

// Notifier publishes to one topic.
type Notifier struct {
	client  *awssns.Client
	topic   string
	fifo    bool
	subject *template.Template
	o       notify.Options
	log     *slog.Logger
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for cfg. Credentials come from the SDK's default
// chain (environment, shared files, SSO, IMDS, ...); the region from
// cfg.Region or the topic ARN; cfg.Endpoint overrides the endpoint. load
// adds SDK load options (tests pass static credentials). The SDK's own
// retries are off: the outbox retries.
func New(ctx context.Context, cfg *config.SNSConfig, o notify.Options, load ...func(*awsconfig.LoadOptions) error) (*Notifier, error) {
	parts := strings.Split(cfg.TopicARN, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[3] == "" || parts[5] == "" {
		return nil, ErrTopicARN
	}
	region := cfg.Region
	if region == "" {
		region = parts[3]
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(region),
		awsconfig.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	opts = append(opts, load...)
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("sns aws config: %w", err)
	}
	n := &Notifier{
		topic: cfg.TopicARN,
		fifo:  strings.HasSuffix(parts[5], ".fifo"),
		o:     o,
		log:   o.Log().With("receiver_type", "sns", "topic", cfg.TopicARN),
	}
	n.client = awssns.NewFromConfig(ac, func(so *awssns.Options) {
		if cfg.Endpoint != "" {
			so.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		if o.HTTPClient != nil {
			// Here, not as a load option: the SDK refuses a plain
			// *http.Client when AWS_CA_BUNDLE is set.
			so.HTTPClient = o.HTTPClient
		}
	})
	if cfg.Subject != "" {
		if n.subject, err = notify.ParseTemplate("sns subject", cfg.Subject); err != nil {
			return nil, fmt.Errorf("sns: %w", err)
		}
	}
	return n, nil
}

// Notify publishes n. Throttling, 5xx answers and failures without an
// answer are retried; other API errors (no such topic, not authorised,
// bad parameter) are not.
func (s *Notifier) Notify(ctx context.Context, n *notify.Notification) (bool, error) {
	msg, err := notify.Message(n)
	if err != nil {
		return false, fmt.Errorf("sns message: %w", err)
	}
	if len(msg) > MaxMessage && n.Body == nil {
		// The event is too large for SNS: the alert without it (who, what,
		// when, where, the ack link) still tells the story.
		short := *n
		short.Alert.Event = nil
		if msg, err = notify.AlertJSON(&short); err != nil {
			return false, fmt.Errorf("sns message: %w", err)
		}
		s.log.WarnContext(ctx, "sns: event too large for a message: sent the alert without it", "receiver", n.Receiver, "id", n.ID, "event_bytes", len(n.Alert.Event))
	}
	if len(msg) > MaxMessage {
		// SNS would refuse it every time: not worth 24 hours of retries.
		return false, fmt.Errorf("sns message: %d bytes, over SNS's limit of %d", len(msg), MaxMessage)
	}
	in := &awssns.PublishInput{
		TopicArn: aws.String(s.topic),
		Message:  aws.String(string(msg)),
	}
	if s.subject != nil {
		b, err := notify.Render(s.subject, n, s.o.ConsoleBase)
		if err != nil {
			return false, fmt.Errorf("sns subject: %w", err)
		}
		if sub := Subject(string(b)); sub != "" {
			in.Subject = aws.String(sub)
		}
	}
	if s.fifo {
		group := n.Alert.Rule
		if group == "" {
			group = "trailwatch"
		}
		in.MessageGroupId = aws.String(dedupID(group))
		in.MessageDeduplicationId = aws.String(dedupID(n.Key))
	}
	out, err := s.client.Publish(ctx, in)
	if err != nil {
		return Retryable(err), fmt.Errorf("sns publish: %w", err)
	}
	s.log.DebugContext(ctx, "sns published", "receiver", n.Receiver, "id", n.ID, "message_id", aws.ToString(out.MessageId))
	return false, nil
}

// MaxMessage is the largest message SNS publishes (256 KiB).
const MaxMessage = 256 << 10

// Retryable says whether a Publish error may succeed later.
func Retryable(err error) bool {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		if c := re.HTTPStatusCode(); c >= 500 || c == http.StatusTooManyRequests {
			return true
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
			return true
		}
		if _, ok := retry.DefaultRetryableErrorCodes[code]; ok {
			return true
		}
		switch code {
		case "Throttled", "KMSThrottling", "KMSThrottlingException", "InternalError", "InternalErrorException", "ServiceUnavailable":
			return true
		}
		return false
	}
	// No answer: a connection failure, a timeout, credentials not yet
	// available.
	return true
}

// Subject makes s a valid SNS subject: printable ASCII on one line, under
// 100 characters.
func Subject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
	if len(s) > 99 {
		s = s[:98] + "~"
	}
	return s
}

// dedupID makes a FIFO MessageDeduplicationId or MessageGroupId: up to 128
// alphanumeric or punctuation characters; other keys are hashed.
func dedupID(key string) string {
	ok := key != "" && len(key) <= 128 && utf8.ValidString(key)
	for _, r := range key {
		if r <= 0x20 || r > 0x7e {
			ok = false
			break
		}
	}
	if ok {
		return key
	}
	h := sha256.Sum256([]byte(key))
	return fmt.Sprintf("%x", h)
}
