package notify

import (
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Options are what every receiver is given besides its own configuration.
type Options struct {
	// HTTPClient sends HTTP requests; nil: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Clock tells the time (message dates, token expiry, Retry-After
	// dates); nil: time.Now.
	Clock func() time.Time
	// Logger receives delivery logs; nil: discard.
	Logger *slog.Logger
	// TimeZone is the zone times are shown in beside UTC, for receivers
	// without a time zone of their own; nil: UTC only.
	TimeZone *time.Location
	// ConsoleBase replaces "https://<region>.console.aws.amazon.com" in
	// links to the event in the CloudTrail console (another partition, a
	// sign-in portal); "{region}" in it is replaced by the event's region.
	// "": the AWS console.
	ConsoleBase string
}

// Now returns the time from the clock.
func (o *Options) Now() time.Time {
	if o.Clock != nil {
		return o.Clock()
	}
	return time.Now()
}

// Client returns the HTTP client to use.
func (o *Options) Client() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return defaultClient
}

// defaultClient is immutable after package initialisation.
var defaultClient = &http.Client{Timeout: 30 * time.Second}

// Log returns the logger to use.
func (o *Options) Log() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
