package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/event"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2025, 3, 6, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// recSink records what it is given, as the store would take it.
type recSink struct {
	mu    sync.Mutex
	calls [][]*event.Event
	err   error
}

func (s *recSink) Ingest(ctx context.Context, evs []*event.Event) (IngestResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return IngestResult{}, s.err
	}
	s.calls = append(s.calls, evs)
	return IngestResult{Events: len(evs), Alerts: 1}, nil
}

// ids returns the event ids of every call, in order.
func (s *recSink) ids() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]string
	for _, c := range s.calls {
		var ids []string
		for _, e := range c {
			ids = append(ids, e.Key())
		}
		out = append(out, ids)
	}
	return out
}

// recAcker knows some alerts and records acknowledgements.
type recAcker struct {
	mu    sync.Mutex
	known map[string]bool
	acks  []string // "id by"
	err   error
}

func (a *recAcker) Ack(ctx context.Context, id, by string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	if !a.known[id] {
		return fmt.Errorf("store ack %s: %w", id, ErrNotFound)
	}
	a.acks = append(a.acks, id+" "+by)
	return nil
}

func (a *recAcker) got() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.acks...)
}

// newServer starts a server on 127.0.0.1 with o (Sink, Now and Registry
// filled in when unset).
func newServer(t testing.TB, o Options) (*httptest.Server, *recSink) {
	t.Helper()
	sink, _ := o.Sink.(*recSink)
	if o.Sink == nil {
		sink = &recSink{}
		o.Sink = sink
	}
	if o.Now == nil {
		o.Now = fixedNow
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, sink
}

// do sends a request and returns the status, headers and body.
func do(t testing.TB, method, url string, body io.Reader, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func post(t testing.TB, url, body string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	return do(t, http.MethodPost, url, strings.NewReader(body), hdr)
}

// ebEvent is an EventBridge event as an API destination sends it.
func ebEvent(id string) string {
	return `{"version":"0","id":"` + id + `","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"123456789012","time":"2025-03-06T02:30:00Z","region":"us-east-1","resources":[],"detail":` + record(id) + `}`
}

// record is a CloudTrail record.
func record(id string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"Root","accountId":"123456789012"},"eventTime":"2025-03-06T02:30:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","eventID":"` + id + `","eventType":"AwsApiCall","recipientAccountId":"123456789012"}`
}

func gz(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPostEventsForms(t *testing.T) {
	t.Parallel()
	trail := `{"Records":[` + record("r1") + `,` + record("r2") + `,` + record("r3") + `]}`
	tests := []struct {
		name string
		body string
		hdr  map[string]string
		want []string
	}{
		{"one event", ebEvent("e1"), map[string]string{"Content-Type": "application/json; charset=utf-8"}, []string{"e1"}},
		{"array of events", "[" + ebEvent("e1") + "," + ebEvent("e2") + "]", nil, []string{"e1", "e2"}},
		{"json lines", ebEvent("e1") + "\n" + record("r9") + "\n" + ebEvent("e2") + "\n", nil, []string{"e1", "r9", "e2"}},
		{"cloudtrail file", trail, nil, []string{"r1", "r2", "r3"}},
		{"cloudtrail file, content-encoding gzip", gz(t, trail), map[string]string{"Content-Encoding": "gzip"}, []string{"r1", "r2", "r3"}},
		{"cloudtrail file, gzip bytes", gz(t, trail), nil, []string{"r1", "r2", "r3"}},
		{"empty records", `{"Records":[]}`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, sink := newServer(t, Options{})
			code, _, body := post(t, srv.URL+"/events", tt.body, tt.hdr)
			if code != http.StatusOK {
				t.Fatalf("status %d, body %s", code, body)
			}
			var res IngestResult
			if err := json.Unmarshal([]byte(body), &res); err != nil {
				t.Fatal(err)
			}
			if res.Events != len(tt.want) {
				t.Errorf("response events %d, want %d (%s)", res.Events, len(tt.want), body)
			}
			var got []string
			calls := sink.ids()
			if len(calls) > 1 {
				t.Errorf("sink called %d times, want one batch", len(calls))
			}
			for _, c := range calls {
				got = append(got, c...)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("ingested %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPostEventsBadRecordIngestsNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		record int // -1: no record index
	}{
		{"not an object in an array", "[" + ebEvent("e1") + ",42," + ebEvent("e3") + "]", 1},
		{"not a record", `{"Records":[` + record("r1") + `,` + record("r2") + `,{"foo":1}]}`, 2},
		{"broken json line", ebEvent("e1") + "\n{\"version\":\n" + ebEvent("e3") + "\n", 1},
		{"truncated", "[" + ebEvent("e1") + "," + ebEvent("e2")[:50], 1},
		{"empty", "  \n", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, sink := newServer(t, Options{})
			code, _, body := post(t, srv.URL+"/events", tt.body, nil)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", code, body)
			}
			var resp struct {
				Error  string `json:"error"`
				Record *int   `json:"record"`
			}
			if err := json.Unmarshal([]byte(body), &resp); err != nil {
				t.Fatal(err)
			}
			if tt.record >= 0 && (resp.Record == nil || *resp.Record != tt.record) {
				t.Errorf("record %v, want %d (%s)", resp.Record, tt.record, body)
			}
			if resp.Error == "" {
				t.Error("no error message")
			}
			if n := len(sink.ids()); n != 0 {
				t.Errorf("sink called %d times, want none", n)
			}
		})
	}
}

func TestPostEventsLimits(t *testing.T) {
	t.Parallel()
	srv, sink := newServer(t, Options{MaxBodyBytes: 2048})
	big := `{"Records":[` + strings.Repeat(record("r1")+",", 10) + record("r2") + `]}`
	if len(big) <= 2048 {
		t.Fatal("test body not over the limit")
	}
	t.Run("over limit", func(t *testing.T) {
		code, _, body := post(t, srv.URL+"/events", big, nil)
		if code != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413; %s", code, body)
		}
	})
	t.Run("over limit, chunked", func(t *testing.T) {
		// An io.Reader that is not a strings.Reader: no Content-Length.
		code, _, body := do(t, http.MethodPost, srv.URL+"/events", io.MultiReader(strings.NewReader(big)), nil)
		if code != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413; %s", code, body)
		}
	})
	t.Run("decompressed over limit", func(t *testing.T) {
		z := gz(t, big)
		if len(z) > 2048 {
			t.Fatalf("compressed test body %d bytes, not under the limit", len(z))
		}
		code, _, body := post(t, srv.URL+"/events", z, map[string]string{"Content-Encoding": "gzip"})
		if code != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413; %s", code, body)
		}
	})
	t.Run("under limit", func(t *testing.T) {
		code, _, body := post(t, srv.URL+"/events", ebEvent("ok"), nil)
		if code != http.StatusOK {
			t.Errorf("status %d, want 200; %s", code, body)
		}
	})
	t.Run("unknown encoding", func(t *testing.T) {
		code, _, _ := post(t, srv.URL+"/events", ebEvent("x"), map[string]string{"Content-Encoding": "br"})
		if code != http.StatusUnsupportedMediaType {
			t.Errorf("status %d, want 415", code)
		}
	})
	t.Run("gzip header, plain body", func(t *testing.T) {
		code, _, _ := post(t, srv.URL+"/events", ebEvent("x"), map[string]string{"Content-Encoding": "gzip"})
		if code != http.StatusBadRequest {
			t.Errorf("status %d, want 400", code)
		}
	})
	if got := sink.ids(); len(got) != 1 || got[0][0] != "ok" {
		t.Errorf("sink got %v, want only [[ok]]", got)
	}
}

func TestMethodsAndHealth(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, Options{APIKeys: map[string]string{"x-api-key": "k"}})
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/events", http.StatusMethodNotAllowed},
		{"PUT", "/events", http.StatusMethodNotAllowed},
		{"POST", "/healthz", http.StatusMethodNotAllowed},
		{"GET", "/alerts/a1/ack", http.StatusMethodNotAllowed},
		{"GET", "/nope", http.StatusNotFound},
		{"GET", "/healthz", http.StatusOK},
	}
	for _, tt := range tests {
		code, _, body := do(t, tt.method, srv.URL+tt.path, nil, nil)
		if code != tt.want {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, code, tt.want)
		}
		if tt.path == "/healthz" && code == http.StatusOK && body != "ok\n" {
			t.Errorf("healthz body %q", body)
		}
	}
}

func TestPostEventsAuth(t *testing.T) {
	t.Parallel()
	srv, sink := newServer(t, Options{
		APIKeys:    map[string]string{"x-api-key": "key-1", "X-Other-Key": "key-2"},
		BasicUsers: map[string]string{"eventbridge": "s3cret"},
	})
	basic := func(u, p string) map[string]string {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(u, p)
		return map[string]string{"Authorization": r.Header.Get("Authorization")}
	}
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"none", nil, http.StatusUnauthorized},
		{"api key", map[string]string{"X-Api-Key": "key-1"}, http.StatusOK},
		{"api key, header name in other case", map[string]string{"x-other-key": "key-2"}, http.StatusOK},
		{"api key of the other header", map[string]string{"X-Api-Key": "key-2"}, http.StatusUnauthorized},
		{"wrong api key", map[string]string{"X-Api-Key": "key-1x"}, http.StatusUnauthorized},
		{"empty api key", map[string]string{"X-Api-Key": ""}, http.StatusUnauthorized},
		{"basic", basic("eventbridge", "s3cret"), http.StatusOK},
		{"basic, wrong password", basic("eventbridge", "s3cre"), http.StatusUnauthorized},
		{"basic, wrong user", basic("eventbridgE", "s3cret"), http.StatusUnauthorized},
		{"basic, api key as password", basic("eventbridge", "key-1"), http.StatusUnauthorized},
		{"bearer", map[string]string{"Authorization": "Bearer key-1"}, http.StatusUnauthorized},
	}
	ok := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, h, body := post(t, srv.URL+"/events", ebEvent("a"), tt.hdr)
			if code != tt.want {
				t.Fatalf("status %d, want %d; %s", code, tt.want, body)
			}
			if code == http.StatusUnauthorized && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("WWW-Authenticate %q, want a Basic challenge", h.Get("WWW-Authenticate"))
			}
		})
		if tt.want == http.StatusOK {
			ok++
		}
	}
	if n := len(sink.ids()); n != ok {
		t.Errorf("sink called %d times, want %d", n, ok)
	}
	t.Run("duplicate api key header", func(t *testing.T) {
		req, _ := http.NewRequest("POST", srv.URL+"/events", strings.NewReader(ebEvent("d")))
		req.Header.Add("X-Api-Key", "nope")
		req.Header.Add("X-Api-Key", "key-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
	})
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	sink := &recSink{}
	for name, o := range map[string]Options{
		"no sink":          {},
		"empty key value":  {Sink: sink, APIKeys: map[string]string{"x-api-key": ""}},
		"reserved header":  {Sink: sink, APIKeys: map[string]string{"authorization": "x"}},
		"empty password":   {Sink: sink, BasicUsers: map[string]string{"u": ""}},
		"bad host pattern": {Sink: sink, SNS: SNSOptions{CertHostPattern: "("}},
		"bad cert pem":     {Sink: sink, SNS: SNSOptions{CertPEM: []byte("not pem")}},
	} {
		if _, err := New(o); !errors.Is(err, ErrBadOptions) {
			t.Errorf("%s: err %v, want ErrBadOptions", name, err)
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Options{Sink: sink, Registry: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Sink: sink, Registry: reg}); err == nil {
		t.Error("second server on one registry: no error")
	}
}

func TestPostEventsSinkError(t *testing.T) {
	t.Parallel()
	sink := &recSink{err: errors.New("database is locked")}
	srv, _ := newServer(t, Options{Sink: sink})
	code, h, body := post(t, srv.URL+"/events", ebEvent("e1"), nil)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503; %s", code, body)
	}
	if h.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if strings.Contains(body, "database") {
		t.Errorf("internal error leaked to the client: %s", body)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, Options{APIKeys: map[string]string{"x-api-key": "k"}})
	post(t, srv.URL+"/events", "["+ebEvent("a")+","+ebEvent("b")+"]", map[string]string{"x-api-key": "k"})
	post(t, srv.URL+"/events", ebEvent("c"), map[string]string{"x-api-key": "k"})
	post(t, srv.URL+"/events", ebEvent("d"), nil)
	code, _, body := do(t, "GET", srv.URL+"/metrics", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		"trailwatch_ingest_events_total 3\n",
		"trailwatch_ingest_alerts_total 2\n",
		`trailwatch_http_requests_total{code="200",route="events"} 2` + "\n",
		`trailwatch_http_requests_total{code="401",route="events"} 1` + "\n",
		`trailwatch_ingest_rejected_requests_total{reason="auth"} 1` + "\n",
		`trailwatch_http_request_duration_seconds_count{route="events"} 3` + "\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, `x-api-key`) || strings.Contains(body, `"k"`) {
		t.Error("metrics mention the api key")
	}
}
