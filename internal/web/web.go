// Package web is the HTTP side of `trailwatch serve`: event ingest as
// EventBridge API destinations and SNS HTTP(S) subscriptions deliver it,
// alert acknowledgement (authenticated API and signed links), health and
// Prometheus metrics.
//
// A POST /events request is answered 2xx only after the Sink returned,
// that is after the alerts of its events are durably stored; a request is
// ingested whole or not at all, so a sender's retry is clean.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trailwatch/trailwatch/internal/event"
)

// Errors of the package; test them with errors.Is.
var (
	// ErrNotFound is what an Acker returns (wrapped or not) for an alert
	// it does not know: the request is answered 404.
	ErrNotFound = errors.New("alert not found")
	// ErrBadOptions says New was given options it cannot run with.
	ErrBadOptions = errors.New("bad web options")

	// SNS message problems (the request is answered 400 or 403).
	ErrSNSMessage   = errors.New("malformed sns message")
	ErrSNSTopic     = errors.New("sns topic not allowed")
	ErrSNSURL       = errors.New("sns url not allowed")
	ErrSNSCert      = errors.New("bad sns signing certificate")
	ErrSNSSignature = errors.New("bad sns signature")
	// ErrSNSFetch says a signing certificate or SubscribeURL could not be
	// fetched; the request is answered 503 so that SNS retries.
	ErrSNSFetch = errors.New("sns fetch failed")
)

// Sink takes decoded events and returns once their alerts are durably
// stored; the HTTP response is 2xx only then.
type Sink interface {
	Ingest(ctx context.Context, evs []*event.Event) (IngestResult, error)
}

// IngestResult says what a Sink did with a batch of events.
type IngestResult struct {
	Events     int `json:"events"`     // events taken
	Duplicates int `json:"duplicates"` // events already seen (same eventID), not alerted again
	Alerts     int `json:"alerts"`     // alerts recorded
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, evs []*event.Event) (IngestResult, error)

// Ingest calls f.
func (f SinkFunc) Ingest(ctx context.Context, evs []*event.Event) (IngestResult, error) {
	return f(ctx, evs)
}

// Acker acknowledges alerts. Ack returns an error that errors.Is
// ErrNotFound for an unknown alert id.
type Acker interface {
	Ack(ctx context.Context, alertID, by string) error
}

// AckerFunc adapts a function to Acker.
type AckerFunc func(ctx context.Context, alertID, by string) error

// Ack calls f.
func (f AckerFunc) Ack(ctx context.Context, alertID, by string) error { return f(ctx, alertID, by) }

// DefaultMaxBodyBytes bounds a request body, compressed and decompressed.
const DefaultMaxBodyBytes = 10 << 20

// DefaultCertHostPattern is the host an SNS signing certificate (and a
// SubscribeURL) must be fetched from.
const DefaultCertHostPattern = `^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`

// Options configure a Server. Sink is required; the rest have defaults.
type Options struct {
	Sink   Sink
	Acker  Acker // nil: the acknowledgement routes answer 501
	Logger *slog.Logger
	Now    func() time.Time

	// Registry is served on GET /metrics; the server registers its
	// trailwatch_http_* and trailwatch_ingest_* metrics on it. nil: a
	// registry of its own.
	Registry *prometheus.Registry

	// APIKeys maps a header name to its value (--ingest-api-key
	// NAME=VALUE), as an EventBridge API_KEY connection sends it; any one
	// matching authenticates.
	APIKeys map[string]string
	// BasicUsers maps a user to a password (HTTP Basic, as an EventBridge
	// BASIC connection or an SNS endpoint URL with user:password@ sends it).
	// With none of APIKeys, BasicUsers and OAuthClients, ingest is open: the caller
	// decides whether that is allowed (loopback, --insecure-ingest).
	BasicUsers map[string]string
	// OAuthClients maps an OAuth client id to its secret. With any, GET,
	// POST or PUT /oauth/token issues bearer tokens (client credentials
	// grant, valid one hour) that authenticate ingest, as an EventBridge
	// OAUTH_CLIENT_CREDENTIALS connection whose AuthorizationEndpoint is
	// that URL sends them.
	OAuthClients map[string]string

	// AdminToken is the bearer token for POST /alerts/{id}/ack. "": the
	// ingest credentials authenticate it instead.
	AdminToken string
	// AckKey is the HMAC key of signed acknowledgement links (SignAckURL).
	// Empty: the /ack/{id} routes answer 404.
	AckKey []byte

	// MaxBodyBytes bounds a request body, and again its decompressed
	// size. 0: DefaultMaxBodyBytes.
	MaxBodyBytes int64

	SNS SNSOptions

	// UI, when set, serves every path no API route takes (the web UI,
	// package ui); nil: those paths answer 404.
	UI http.Handler

	// LoopbackOnly answers only requests addressed to a loopback name
	// (see LoopbackHost) or to PublicHost, others with 421: for a server
	// nothing authenticates, on a loopback address, so that another site
	// whose name an attacker points at 127.0.0.1 (DNS rebinding) can
	// neither read it nor act on it.
	LoopbackOnly bool
	// PublicHost is the host (and port, if any) of the public URL the
	// server's links use (--public-url), answered with LoopbackOnly too.
	PublicHost string
}

// LoopbackHost reports whether a Host header names this machine's
// loopback: localhost (and *.localhost), 127.0.0.0/8 or ::1, any port.
func LoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(host, "]"), "["), ".")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SNSOptions configure how SNS HTTP(S) messages are checked.
type SNSOptions struct {
	// TopicARNs are the topics whose messages are accepted; empty: any.
	TopicARNs []string
	// CertHostPattern is the regular expression the host of a
	// SigningCertURL or SubscribeURL must match (https only).
	// "": DefaultCertHostPattern.
	CertHostPattern string
	// HTTPClient fetches signing certificates and SubscribeURLs; nil: a
	// client with a 10 s timeout. Redirects are never followed.
	HTTPClient *http.Client
	// CertPEM, when set, is the only signing certificate: SigningCertURL
	// is still checked against CertHostPattern but never fetched. For tests
	// and for self-hosted SNS-compatible senders.
	CertPEM []byte
}

// Server serves the HTTP API. It is safe for concurrent use.
type Server struct {
	sink     Sink
	acker    Acker
	log      *slog.Logger
	now      func() time.Time
	reg      *prometheus.Registry
	auth     authenticator
	oauth    *oauth   // nil: no OAuth clients
	admin    [32]byte // sha256 of AdminToken
	hasAdmin bool
	ackKey   []byte
	maxBody  int64
	sns      *snsVerifier
	m        metrics
	mux      *http.ServeMux
	ui       http.Handler
	// loopbackOnly, publicHost: see Options.
	loopbackOnly bool
	publicHost   string
}

// New checks o and builds a Server.
func New(o Options) (*Server, error) {
	if o.Sink == nil {
		return nil, fmt.Errorf("%w: no sink", ErrBadOptions)
	}
	s := &Server{
		sink:    o.Sink,
		acker:   o.Acker,
		log:     o.Logger,
		now:     o.Now,
		reg:     o.Registry,
		ackKey:  o.AckKey,
		maxBody: o.MaxBodyBytes,
		ui:      o.UI,

		loopbackOnly: o.LoopbackOnly,
		publicHost:   o.PublicHost,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	for name, v := range o.APIKeys {
		if http.CanonicalHeaderKey(name) == "" || v == "" {
			return nil, fmt.Errorf("%w: api key header %q: empty name or value", ErrBadOptions, name)
		}
		switch http.CanonicalHeaderKey(name) {
		case "Authorization", "Content-Type", "Content-Encoding", "Content-Length", "Host":
			return nil, fmt.Errorf("%w: api key header %q: reserved header", ErrBadOptions, name)
		}
	}
	for u, p := range o.BasicUsers {
		if u == "" || p == "" {
			return nil, fmt.Errorf("%w: basic user %q: empty user or password", ErrBadOptions, u)
		}
	}
	for id, sec := range o.OAuthClients {
		if id == "" || sec == "" {
			return nil, fmt.Errorf("%w: oauth client %q: empty id or secret", ErrBadOptions, id)
		}
	}
	s.auth = newAuthenticator(o.APIKeys, o.BasicUsers)
	s.oauth = newOAuth(o.OAuthClients, s.now)
	if o.AdminToken != "" {
		s.admin, s.hasAdmin = hashSecret(o.AdminToken), true
	}
	pat := o.SNS.CertHostPattern
	if pat == "" {
		pat = DefaultCertHostPattern
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, fmt.Errorf("%w: sns cert host pattern: %w", ErrBadOptions, err)
	}
	s.sns, err = newSNSVerifier(o.SNS, re, s.now)
	if err != nil {
		return nil, err
	}
	if err := s.m.register(s.reg); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) routes() {
	mux := http.NewServeMux()
	s.handle(mux, "POST /events", "events", s.handlePostEvents)
	s.handle(mux, "GET /healthz", "healthz", s.handleHealthz)
	s.handle(mux, "/oauth/token", "oauth_token", s.handleOAuthToken)
	s.handle(mux, "POST /alerts/{id}/ack", "alerts_ack", s.handlePostAlertAck)
	s.handle(mux, "GET /ack/{id}", "ack_link", s.handleGetAckLink)
	s.handle(mux, "POST /ack/{id}", "ack_link", s.handlePostAckLink)
	metricsHandler := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)})
	s.handle(mux, "GET /metrics", "metrics", metricsHandler.ServeHTTP)
	if s.ui != nil {
		s.handle(mux, "/", "ui", s.ui.ServeHTTP)
	}
	s.mux = mux
}

// handle registers h under pattern, counted and timed as route.
func (s *Server) handle(mux *http.ServeMux, pattern, route string, h http.HandlerFunc) {
	mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		if s.loopbackOnly && !LoopbackHost(r.Host) && (s.publicHost == "" || !strings.EqualFold(r.Host, s.publicHost)) {
			http.Error(sw, "nothing authenticates this server, so it answers only on loopback: use http://127.0.0.1 or http://localhost, or configure ingest credentials", http.StatusMisdirectedRequest)
		} else {
			h(sw, r)
		}
		s.m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		s.m.duration.WithLabelValues(route).Observe(s.now().Sub(start).Seconds())
	}))
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// metrics are the server's own Prometheus metrics.
type metrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	events     prometheus.Counter
	duplicates prometheus.Counter
	alerts     prometheus.Counter
	rejected   *prometheus.CounterVec
	sns        *prometheus.CounterVec
}

func (m *metrics) register(reg prometheus.Registerer) error {
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_http_requests_total",
		Help: "HTTP requests answered, by route and status code.",
	}, []string{"route", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "trailwatch_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route"})
	m.events = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trailwatch_ingest_events_total",
		Help: "Events ingested over HTTP and stored.",
	})
	m.duplicates = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trailwatch_ingest_duplicates_total",
		Help: "Events ingested over HTTP that were already seen (same eventID).",
	})
	m.alerts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trailwatch_ingest_alerts_total",
		Help: "Alerts recorded for events ingested over HTTP.",
	})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_ingest_rejected_requests_total",
		Help: "POST /events requests refused, by reason (auth, too_large, bad_body, bad_record, sns_signature, sns_topic, sns_fetch, sink).",
	}, []string{"reason"})
	m.sns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_ingest_sns_messages_total",
		Help: "SNS messages received with a valid signature, by type.",
	}, []string{"type"})
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.events, m.duplicates, m.alerts, m.rejected, m.sns} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("web metrics: %w", err)
		}
	}
	return nil
}
