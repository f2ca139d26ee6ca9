package web

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// SNS message types.
const (
	snsSubscriptionConfirmation = "SubscriptionConfirmation"
	snsNotification             = "Notification"
	snsUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// snsMessage is the JSON body of an SNS HTTP(S) delivery.
type snsMessage struct {
	Type             string  `json:"Type"`
	MessageID        string  `json:"MessageId"`
	Token            string  `json:"Token,omitempty"`
	TopicArn         string  `json:"TopicArn"`
	Subject          *string `json:"Subject,omitempty"`
	Message          string  `json:"Message"`
	SubscribeURL     string  `json:"SubscribeURL,omitempty"`
	UnsubscribeURL   string  `json:"UnsubscribeURL,omitempty"`
	Timestamp        string  `json:"Timestamp"`
	SignatureVersion string  `json:"SignatureVersion"`
	Signature        string  `json:"Signature"`
	SigningCertURL   string  `json:"SigningCertURL"`
}

// looksSNS reports whether a body without the x-amz-sns-message-type
// header may be an SNS message, cheaply: an object naming SigningCertURL.
func looksSNS(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && bytes.Contains(b, []byte(`"SigningCertURL"`)) && bytes.Contains(b, []byte(`"Type"`))
}

// parseSNS decodes and checks the shape of an SNS message: a known Type,
// every field its signature covers, a known SignatureVersion and a
// base64 Signature.
func parseSNS(body []byte) (*snsMessage, error) {
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSNSMessage, err)
	}
	var need []string
	switch m.Type {
	case snsNotification:
		need = []string{m.MessageID, m.TopicArn, m.Timestamp}
	case snsSubscriptionConfirmation, snsUnsubscribeConfirmation:
		need = []string{m.MessageID, m.TopicArn, m.Timestamp, m.Token, m.SubscribeURL}
	default:
		return nil, fmt.Errorf("%w: unknown type %q", ErrSNSMessage, truncate(m.Type, 40))
	}
	for _, v := range append(need, m.Signature, m.SigningCertURL) {
		if v == "" {
			return nil, fmt.Errorf("%w: %s without MessageId, TopicArn, Timestamp, Signature, SigningCertURL (or Token, SubscribeURL)", ErrSNSMessage, m.Type)
		}
	}
	if m.SignatureVersion != "1" && m.SignatureVersion != "2" {
		return nil, fmt.Errorf("%w: unknown SignatureVersion %q", ErrSNSMessage, truncate(m.SignatureVersion, 10))
	}
	if _, err := base64.StdEncoding.DecodeString(m.Signature); err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrSNSMessage, err)
	}
	return &m, nil
}

// stringToSign is the canonical text SNS signs: "name\nvalue\n" for each
// signed field present, in byte order of the names.
func stringToSign(m *snsMessage) []byte {
	var b bytes.Buffer
	add := func(name, value string) {
		b.WriteString(name)
		b.WriteByte('\n')
		b.WriteString(value)
		b.WriteByte('\n')
	}
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == snsNotification {
		if m.Subject != nil {
			add("Subject", *m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != snsNotification {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.Bytes()
}

// maxCerts bounds the certificate cache; maxCertBytes a certificate
// download.
const (
	maxCerts     = 64
	maxCertBytes = 64 << 10
)

// snsVerifier checks SNS messages: topic, signing certificate URL,
// certificate and signature; and confirms subscriptions.
type snsVerifier struct {
	topics map[string]bool // empty: any
	host   *regexp.Regexp
	client *http.Client
	fixed  *x509.Certificate
	now    func() time.Time

	mu    sync.Mutex
	certs map[string]*x509.Certificate // by URL
}

func newSNSVerifier(o SNSOptions, host *regexp.Regexp, now func() time.Time) (*snsVerifier, error) {
	v := &snsVerifier{host: host, now: now, certs: make(map[string]*x509.Certificate)}
	if len(o.TopicARNs) > 0 {
		v.topics = make(map[string]bool, len(o.TopicARNs))
		for _, t := range o.TopicARNs {
			v.topics[t] = true
		}
	}
	c := o.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	v.client = &cc
	if len(o.CertPEM) > 0 {
		cert, err := parseCertPEM(o.CertPEM)
		if err != nil {
			return nil, fmt.Errorf("%w: sns cert: %w", ErrBadOptions, err)
		}
		v.fixed = cert
	}
	return v, nil
}

// checkURL accepts only https URLs on a host matching the pattern (no
// user info, no port other than 443 unless the pattern's host has one in
// tests: the port is not part of the match).
func (v *snsVerifier) checkURL(raw string, pemPath bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSNSURL, err)
	}
	if u.Scheme != "https" || u.User != nil || u.Host == "" || !v.host.MatchString(u.Hostname()) {
		return nil, fmt.Errorf("%w: %s", ErrSNSURL, truncate(u.Redacted(), 200))
	}
	if pemPath && !strings.HasSuffix(u.Path, ".pem") {
		return nil, fmt.Errorf("%w: certificate path %q does not end in .pem", ErrSNSURL, truncate(u.Path, 100))
	}
	return u, nil
}

// verify checks m's topic and signature.
func (v *snsVerifier) verify(ctx context.Context, m *snsMessage) error {
	if v.topics != nil && !v.topics[m.TopicArn] {
		return fmt.Errorf("%w: %s", ErrSNSTopic, truncate(m.TopicArn, 200))
	}
	u, err := v.checkURL(m.SigningCertURL, true)
	if err != nil {
		return err
	}
	cert := v.fixed
	if cert == nil {
		if cert, err = v.cert(ctx, u.String()); err != nil {
			return err
		}
	}
	now := v.now()
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return fmt.Errorf("%w: not valid at %s (valid %s to %s)", ErrSNSCert, now.UTC().Format(time.RFC3339),
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: not an rsa key", ErrSNSCert)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSNSSignature, err)
	}
	text := stringToSign(m)
	var h crypto.Hash
	var sum []byte
	switch m.SignatureVersion {
	case "1":
		s := sha1.Sum(text)
		h, sum = crypto.SHA1, s[:]
	case "2":
		s := sha256.Sum256(text)
		h, sum = crypto.SHA256, s[:]
	default:
		return fmt.Errorf("%w: unknown version", ErrSNSSignature)
	}
	if err := rsa.VerifyPKCS1v15(pub, h, sum, sig); err != nil {
		return fmt.Errorf("%w: %w", ErrSNSSignature, err)
	}
	return nil
}

// cert returns the certificate at url, from the cache or fetched.
func (v *snsVerifier) cert(ctx context.Context, url string) (*x509.Certificate, error) {
	v.mu.Lock()
	c := v.certs[url]
	v.mu.Unlock()
	if c != nil {
		return c, nil
	}
	body, err := v.get(ctx, url, maxCertBytes)
	if err != nil {
		return nil, err
	}
	c, err = parseCertPEM(body)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	if len(v.certs) >= maxCerts {
		clear(v.certs)
	}
	v.certs[url] = c
	v.mu.Unlock()
	return c, nil
}

// confirm confirms a subscription by GETting its SubscribeURL.
func (v *snsVerifier) confirm(ctx context.Context, m *snsMessage) error {
	u, err := v.checkURL(m.SubscribeURL, false)
	if err != nil {
		return err
	}
	_, err = v.get(ctx, u.String(), 64<<10)
	return err
}

// get fetches url, which must answer 200, reading at most limit bytes.
// Errors never include the URL's query (a SubscribeURL holds the token).
func (v *snsVerifier) get(ctx context.Context, rawURL string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSNSFetch, err)
	}
	where := req.URL.Host + req.URL.Path
	resp, err := v.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrSNSFetch, where, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrSNSFetch, where, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: status %d", ErrSNSFetch, where, resp.StatusCode)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: %s: more than %d bytes", ErrSNSFetch, where, limit)
	}
	return body, nil
}

// parseCertPEM reads the first certificate of a PEM text.
func parseCertPEM(b []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%w: no pem certificate", ErrSNSCert)
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSNSCert, err)
		}
		return c, nil
	}
}

// s3Notification is what SNS carries when S3 (or CloudTrail itself)
// announces a new log file.
type s3Notification struct {
	Records []struct {
		EventSource string          `json:"eventSource"`
		S3          json.RawMessage `json:"s3"`
	} `json:"Records"`
	Event       string          `json:"Event"`       // "s3:TestEvent"
	S3Bucket    string          `json:"s3Bucket"`    // CloudTrail's own SNS notification
	S3ObjectKey json.RawMessage `json:"s3ObjectKey"` // idem
}

// isS3Notification reports whether msg announces an S3 object (an S3
// event notification, S3's test event, or CloudTrail's "new log file"
// message) rather than carrying events.
func isS3Notification(msg []byte) bool {
	if !bytes.Contains(msg, []byte("s3")) {
		return false
	}
	var n s3Notification
	if json.Unmarshal(msg, &n) != nil {
		return false
	}
	if n.Event == "s3:TestEvent" || n.S3Bucket != "" && len(n.S3ObjectKey) > 0 {
		return true
	}
	return len(n.Records) > 0 && n.Records[0].EventSource == "aws:s3" && len(n.Records[0].S3) > 0
}

// truncate shortens s for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
