// Package awstest holds minimal, faithful servers of the AWS APIs that no Go
// module or Debian package serves locally, for tests that reach them through
// the AWS SDK for Go v2 on 127.0.0.1: CloudWatch Logs FilterLogEvents (Logs)
// and CloudTrail LookupEvents (Trail). Both speak AWS JSON 1.1: POST / with
// an X-Amz-Target header and Content-Type application/x-amz-json-1.1;
// errors are an HTTP 400 with {"__type": "...", "message": "..."}.
//
// Time is injected (Now), so tests never read the wall clock. Signatures
// are not checked; the region a request was signed for is read from its
// Authorization header's credential scope.
package awstest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region Config signs for unless told otherwise.
const Region = "us-east-1"

// Config returns an SDK configuration for a test server at url: static
// credentials, the given region, no retries (a throttling error reaches
// the caller at once instead of the SDK sleeping in real time), and url as
// every service's endpoint.
func Config(url, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(url),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// Start serves h on 127.0.0.1 until the test ends and returns its URL.
func Start(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Call is one request a server was sent.
type Call struct {
	Target string    // the operation, e.g. "FilterLogEvents"
	Region string    // from the credential scope
	At     time.Time // the server's Now when it arrived
	Body   []byte
	Error  string // the __type answered, "" on success
}

// calls records requests and queues injected errors; embedded by servers.
type calls struct {
	mu     sync.Mutex
	log    []Call
	faults []string // __type answered to the next requests, in order
}

// Fail makes the next len(types) requests answer these error types (e.g.
// "ThrottlingException") with HTTP 400, one each; "" lets that request be
// answered normally.
func (c *calls) Fail(types ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = append(c.faults, types...)
}

// Calls returns the requests received so far.
func (c *calls) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.log...)
}

// errorType is an AWS error to answer with.
type errorType struct {
	typ, msg string
	status   int
}

func (e *errorType) Error() string { return e.typ + ": " + e.msg }

func awsError(typ, msg string) *errorType {
	return &errorType{typ: typ, msg: msg, status: http.StatusBadRequest}
}

// serveJSON11 decodes a JSON 1.1 request for one of ops (target suffix ->
// handler) and writes its answer or error.
func serveJSON11(w http.ResponseWriter, r *http.Request, c *calls, now func() time.Time, prefixes []string, ops map[string]func(region string, body []byte) (any, error)) {
	write := func(status int, v any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-RequestId", "00000000-0000-0000-0000-000000000000")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(e *errorType) {
		write(e.status, map[string]string{"__type": e.typ, "message": e.msg})
	}
	body, err := readAll(r)
	target, known := r.Header.Get("X-Amz-Target"), false
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(target, p); ok {
			target, known = rest, true
			break
		}
	}
	call := Call{Target: target, Region: signedRegion(r), At: now(), Body: body}
	record := func(errType string) {
		call.Error = errType
		c.mu.Lock()
		c.log = append(c.log, call)
		c.mu.Unlock()
	}
	if err != nil {
		record("SerializationException")
		fail(awsError("SerializationException", err.Error()))
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		record("UnknownOperationException")
		fail(&errorType{typ: "UnknownOperationException", msg: r.Method + " " + r.URL.Path, status: http.StatusNotFound})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		record("SerializationException")
		fail(awsError("SerializationException", "content type "+ct))
		return
	}
	op, ok := ops[call.Target]
	if !ok || !known {
		record("UnknownOperationException")
		fail(awsError("UnknownOperationException", "target "+r.Header.Get("X-Amz-Target")))
		return
	}
	c.mu.Lock()
	var fault string
	if len(c.faults) > 0 {
		fault, c.faults = c.faults[0], c.faults[1:]
	}
	c.mu.Unlock()
	if fault != "" {
		record(fault)
		fail(awsError(fault, "injected"))
		return
	}
	out, err := op(call.Region, body)
	if err != nil {
		e, ok := err.(*errorType)
		if !ok {
			e = &errorType{typ: "InternalFailure", msg: err.Error(), status: http.StatusInternalServerError}
		}
		record(e.typ)
		fail(e)
		return
	}
	record("")
	write(http.StatusOK, out)
}

func readAll(r *http.Request) ([]byte, error) { return io.ReadAll(r.Body) }

// signedRegion reads the region from "AWS4-HMAC-SHA256 Credential=AKID/
// date/region/service/aws4_request, ...".
func signedRegion(r *http.Request) string {
	a := r.Header.Get("Authorization")
	i := strings.Index(a, "Credential=")
	if i < 0 {
		return ""
	}
	scope := a[i+len("Credential="):]
	if j := strings.IndexAny(scope, ", "); j >= 0 {
		scope = scope[:j]
	}
	parts := strings.Split(scope, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[2]
}

// Checkpoints is an in-memory checkpoint store for tests, with the method
// set of the store's checkpoints.
type Checkpoints struct {
	mu   sync.Mutex
	m    map[string]string
	sets int
	// FailSet, when set, is returned by SetCheckpoint instead of saving.
	FailSet error
}

// Checkpoint returns the value saved under key.
func (c *Checkpoints) Checkpoint(_ context.Context, key string) (string, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok, nil
}

// SetCheckpoint saves value under key.
func (c *Checkpoints) SetCheckpoint(_ context.Context, key, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.FailSet != nil {
		return c.FailSet
	}
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[key] = value
	c.sets++
	return nil
}

// Sets returns how many times SetCheckpoint saved a value.
func (c *Checkpoints) Sets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sets
}
