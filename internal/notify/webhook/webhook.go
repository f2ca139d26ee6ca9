// Package webhook sends notifications as HTTP requests: the alert as JSON,
// a Go template, or the body a route fixed; optionally wrapped as an SNS
// HTTP(S) subscription delivers it.
package webhook

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"text/template"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify"
)

// Errors.
var (
	ErrNoURL      = errors.New("webhook: url is required")
	ErrBadURL     = errors.New("webhook: url is not an http(s) URL")
	ErrAuth       = errors.New("webhook: at most one of basic_auth and bearer_token")
	ErrBody       = errors.New("webhook: at most one of template and input_transformer")
	ErrTopicARN   = errors.New("webhook: sns_envelope.topic_arn is not an SNS topic ARN")
	ErrSigVersion = errors.New("webhook: SNS signature version must be 1 or 2")
)

// Notifier sends requests to one URL.
type Notifier struct {
	url     string
	method  string
	headers http.Header
	basic   *config.BasicAuth
	bearer  string
	tmpl    *template.Template
	sns     *config.SNSEnvelope
	region  string
	signer  *SNSSigner
	o       notify.Options
	client  *http.Client
	log     *slog.Logger
}

var _ notify.Notifier = (*Notifier)(nil)

// SNSSigner signs SNS-style deliveries as SNS does, so that an endpoint
// that verifies signatures (Trailwatch's own ingest with a test
// certificate) accepts them.
type SNSSigner struct {
	Key     *rsa.PrivateKey
	CertURL string // SigningCertURL
	Version int    // 1: SHA1withRSA, 2: SHA256withRSA
}

// New returns a Notifier for cfg. cfg.InputTransformer is rendered
// upstream (into Notification.Body); here it is only checked against
// Template.
func New(cfg *config.WebhookConfig, o notify.Options) (*Notifier, error) {
	u := cfg.URL.Reveal()
	if u == "" {
		return nil, ErrNoURL
	}
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return nil, ErrBadURL
	}
	if cfg.BasicAuth != nil && cfg.BearerToken != "" {
		return nil, ErrAuth
	}
	if cfg.Template != "" && cfg.InputTransformer != nil {
		return nil, ErrBody
	}
	w := &Notifier{
		url:     u,
		method:  strings.ToUpper(cfg.Method),
		headers: http.Header{},
		basic:   cfg.BasicAuth,
		bearer:  cfg.BearerToken.Reveal(),
		sns:     cfg.SNSEnvelope,
		o:       o,
		client:  o.Client(),
		log:     o.Log().With("receiver_type", "webhook"),
	}
	if w.method == "" {
		w.method = http.MethodPost
	}
	for k, v := range cfg.Headers {
		w.headers.Set(k, v.Reveal())
	}
	if cfg.Template != "" {
		if w.tmpl, err = notify.ParseTemplate("webhook template", cfg.Template); err != nil {
			return nil, fmt.Errorf("webhook: %w", err)
		}
	}
	if w.sns != nil {
		parts := strings.Split(w.sns.TopicARN, ":")
		if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[3] == "" {
			return nil, ErrTopicARN
		}
		w.region = parts[3]
	}
	return w, nil
}

// SetSNSSigner makes SNS-style deliveries signed (call before use).
func (w *Notifier) SetSNSSigner(s *SNSSigner) error {
	if s != nil && s.Version != 1 && s.Version != 2 {
		return ErrSigVersion
	}
	w.signer = s
	return nil
}

// Notify sends n. Plain webhooks: 2xx delivered, 429 and 5xx retried
// (honouring Retry-After), other answers fail for good. SNS-style: as SNS
// judges an HTTP endpoint, any 2xx-4xx is delivered; 5xx and timeouts
// are retried.
func (w *Notifier) Notify(ctx context.Context, n *notify.Notification) (bool, error) {
	body, err := w.body(n)
	if err != nil {
		return false, fmt.Errorf("webhook body: %w", err)
	}
	var ctype string
	if w.sns != nil {
		body, err = w.envelope(n, body)
		if err != nil {
			return false, fmt.Errorf("webhook sns envelope: %w", err)
		}
		ctype = "text/plain; charset=UTF-8"
	} else if json.Valid(body) {
		ctype = "application/json"
	} else {
		ctype = "text/plain; charset=utf-8"
	}
	var rd io.Reader
	if w.method != http.MethodGet && w.method != http.MethodHead {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, w.method, w.url, rd)
	if err != nil {
		return false, fmt.Errorf("webhook request: %w", notify.StripURL(err))
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if w.sns != nil {
		w.snsHeaders(req.Header, n)
	} else {
		req.Header.Set("Idempotency-Key", n.Key)
		req.Header.Set("User-Agent", "Trailwatch")
	}
	for k, v := range w.headers {
		req.Header[k] = v
	}
	switch {
	case w.basic != nil:
		req.SetBasicAuth(w.basic.Username, w.basic.Password.Reveal())
	case w.bearer != "":
		req.Header.Set("Authorization", "Bearer "+w.bearer)
	}
	resp, err := notify.Do(w.client, req)
	if err != nil {
		return true, fmt.Errorf("webhook send: %w", err)
	}
	if w.sns != nil {
		if resp.Code >= 500 || resp.Code < 200 {
			return true, fmt.Errorf("webhook send: %w", &notify.StatusError{Code: resp.Code, Body: notify.Snippet(resp.Body)})
		}
		return false, nil
	}
	if retry, err := notify.Classify(resp, w.o.Now()); err != nil {
		return retry, fmt.Errorf("webhook send: %w", err)
	}
	w.log.DebugContext(ctx, "webhook delivered", "receiver", n.Receiver, "id", n.ID)
	return false, nil
}

// body is the fixed body, else the rendered template, else (plain) the
// alert as JSON or (SNS-style) the event JSON, as SNS carries an
// EventBridge event without a transformer.
func (w *Notifier) body(n *notify.Notification) ([]byte, error) {
	switch {
	case n.Body != nil:
		return n.Body, nil
	case w.tmpl != nil:
		return notify.Render(w.tmpl, n, w.o.ConsoleBase)
	case w.sns != nil:
		return notify.EventJSON(n)
	}
	return notify.AlertJSON(n)
}

// messageID is stable for a delivery (the same on every attempt, as SNS
// keeps a MessageId across retries): a UUID made from the key.
func messageID(key string) string { return uuidFrom("message:" + key) }

func uuidFrom(s string) string {
	h := sha256.Sum256([]byte(s))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func (w *Notifier) subscriptionARN(n *notify.Notification) string {
	return w.sns.TopicARN + ":" + uuidFrom("subscription:"+w.sns.TopicARN+":"+n.Receiver)
}

func (w *Notifier) snsHeaders(h http.Header, n *notify.Notification) {
	h.Set("x-amz-sns-message-type", "Notification")
	h.Set("x-amz-sns-message-id", messageID(n.Key))
	h.Set("x-amz-sns-topic-arn", w.sns.TopicARN)
	h.Set("x-amz-sns-subscription-arn", w.subscriptionARN(n))
	h.Set("User-Agent", "Amazon Simple Notification Service Agent")
	if w.sns.RawMessageDelivery {
		h.Set("x-amz-sns-rawdelivery", "true")
	}
}

// Envelope is an SNS Notification document as an HTTP(S) subscription
// receives it.
type Envelope struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	TopicARN         string `json:"TopicArn"`
	Subject          string `json:"Subject,omitempty"`
	Message          string `json:"Message"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
	UnsubscribeURL   string `json:"UnsubscribeURL"`
}

func (w *Notifier) envelope(n *notify.Notification, msg []byte) ([]byte, error) {
	if w.sns.RawMessageDelivery {
		return msg, nil
	}
	ts := n.Queued
	if ts.IsZero() {
		ts = w.o.Now()
	}
	e := Envelope{
		Type:             "Notification",
		MessageID:        messageID(n.Key),
		TopicARN:         w.sns.TopicARN,
		Message:          string(msg),
		Timestamp:        ts.UTC().Format("2006-01-02T15:04:05.000Z"),
		SignatureVersion: "1",
		UnsubscribeURL: "https://sns." + w.region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" +
			url.QueryEscape(w.subscriptionARN(n)),
	}
	if w.signer != nil {
		sig, err := w.signer.sign(&e)
		if err != nil {
			return nil, err
		}
		e.Signature = sig
	}
	return json.MarshalIndent(&e, "", "  ")
}

// StringToSign is what SNS signs for a Notification.
func StringToSign(e *Envelope) string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", e.Message)
	add("MessageId", e.MessageID)
	if e.Subject != "" {
		add("Subject", e.Subject)
	}
	add("Timestamp", e.Timestamp)
	add("TopicArn", e.TopicARN)
	add("Type", e.Type)
	return b.String()
}

func (s *SNSSigner) sign(e *Envelope) (string, error) {
	e.SignatureVersion = fmt.Sprint(s.Version)
	e.SigningCertURL = s.CertURL
	msg := []byte(StringToSign(e))
	var (
		digest []byte
		hash   crypto.Hash
	)
	if s.Version == 2 {
		d := sha256.Sum256(msg)
		digest, hash = d[:], crypto.SHA256
	} else {
		d := sha1.Sum(msg)
		digest, hash = d[:], crypto.SHA1
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.Key, hash, digest)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}
