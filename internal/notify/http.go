package notify

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors receivers share.
var (
	// ErrStatus is an HTTP answer that is not a success.
	ErrStatus = errors.New("unexpected status")
	// ErrTemplate is a message template that failed to render.
	ErrTemplate = errors.New("template")
)

// StatusError is an HTTP answer that is not a success, with the start of
// its body (receivers like Slack explain themselves there).
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("status %d", e.Code)
	}
	return fmt.Sprintf("status %d: %s", e.Code, e.Body)
}

// Is makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Is(target error) bool { return target == ErrStatus }

// maxErrorBody is how much of a failed answer's body an error quotes.
const maxErrorBody = 256

// Response is an HTTP answer read whole (up to a limit).
type Response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// Do sends req with c and reads the answer (at most 64 KiB of it). The
// error never contains the request URL, which may hold a secret (a Slack
// webhook path, a query string key): a *url.Error is reduced to its cause.
func Do(c *http.Client, req *http.Request) (*Response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, StripURL(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, StripURL(err)
	}
	return &Response{Code: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// StripURL removes the URL from a *url.Error, keeping its operation and
// cause, so that an error can be logged without revealing a secret URL.
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &strippedURLError{op: ue.Op, err: ue.Err}
	}
	return err
}

type strippedURLError struct {
	op  string
	err error
}

func (e *strippedURLError) Error() string { return strings.ToLower(e.op) + ": " + e.err.Error() }
func (e *strippedURLError) Unwrap() error { return e.err }

// Classify says what an HTTP answer means for a receiver with the usual
// policy (Slack, webhooks, API destinations): 2xx delivered; 429 and 5xx
// retry, honouring Retry-After (a negative value stops retrying, as
// EventBridge does); anything else fails for good.
func Classify(r *Response, now time.Time) (retry bool, err error) {
	if r.Code >= 200 && r.Code < 300 {
		return false, nil
	}
	se := &StatusError{Code: r.Code, Body: Snippet(r.Body)}
	if r.Code != http.StatusTooManyRequests && r.Code < 500 {
		return false, se
	}
	if after, ok := ParseRetryAfter(r.Header.Get("Retry-After"), now); ok {
		return after >= 0, &RetryAfterError{After: after, Err: se}
	}
	return true, se
}

// ParseRetryAfter reads a Retry-After header: delay seconds (negative
// allowed: EventBridge stops retrying then) or an HTTP date (a past date
// is a wait of 0).
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		const limit = int64(365 * 24 * time.Hour / time.Second)
		s = min(max(s, -limit), limit)
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// Snippet returns the start of a body as one line of text, for errors.
func Snippet(b []byte) string {
	if len(b) > maxErrorBody {
		b = b[:maxErrorBody]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	return s
}
