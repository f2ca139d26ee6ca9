package web

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// snsFixture plays SNS: a signing key, its self-signed certificate served
// over TLS on 127.0.0.1, and the SubscribeURL endpoint.
type snsFixture struct {
	key     *rsa.PrivateKey
	certPEM []byte
	srv     *httptest.Server

	mu       sync.Mutex
	fetches  map[string]int // certificate GETs by path
	confirms []string       // Token of each SubscribeURL GET
}

func newSNSFixture(t testing.TB) *snsFixture {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sns.us-east-1.amazonaws.com"},
		NotBefore:    testNow.Add(-time.Hour),
		NotAfter:     testNow.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	f := &snsFixture{
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		fetches: make(map[string]int),
	}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case r.URL.Path == "/broken.pem":
			http.Error(w, "no", http.StatusInternalServerError)
		case strings.HasSuffix(r.URL.Path, ".pem"):
			f.fetches[r.URL.Path]++
			w.Write(f.certPEM)
		case r.URL.Path == "/" && r.URL.Query().Get("Action") == "ConfirmSubscription" && r.Method == http.MethodGet:
			f.confirms = append(f.confirms, r.URL.Query().Get("Token"))
			w.Header().Set("Content-Type", "text/xml")
			w.Write([]byte(`<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:us-east-1:123456789012:alerts:1</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *snsFixture) fetchCount(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fetches[path]
}

func (f *snsFixture) confirmed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.confirms...)
}

// options are server options that trust the fixture's host.
func (f *snsFixture) options() Options {
	return Options{SNS: SNSOptions{CertHostPattern: `^127\.0\.0\.1$`, HTTPClient: f.srv.Client()}}
}

const testTopic = "arn:aws:sns:us-east-1:123456789012:alerts"

// notification is an SNS Notification before signing.
func (f *snsFixture) notification(id, message string) map[string]string {
	return map[string]string{
		"Type":           "Notification",
		"MessageId":      id,
		"TopicArn":       testTopic,
		"Message":        message,
		"Timestamp":      "2025-03-06T11:59:58.123Z",
		"SigningCertURL": f.srv.URL + "/SimpleNotificationService-" + id + ".pem",
		"UnsubscribeURL": f.srv.URL + "/?Action=Unsubscribe&SubscriptionArn=" + testTopic + ":1",
	}
}

// confirmation is a SubscriptionConfirmation (or, with typ, an
// UnsubscribeConfirmation) before signing.
func (f *snsFixture) confirmation(typ, id, token string) map[string]string {
	return map[string]string{
		"Type":           typ,
		"MessageId":      id,
		"Token":          token,
		"TopicArn":       testTopic,
		"Message":        "You have chosen to subscribe to the topic " + testTopic + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		"SubscribeURL":   f.srv.URL + "/?Action=ConfirmSubscription&TopicArn=" + testTopic + "&Token=" + token,
		"Timestamp":      "2025-03-06T11:59:58.123Z",
		"SigningCertURL": f.srv.URL + "/SimpleNotificationService-" + id + ".pem",
	}
}

// sign signs m as SNS does (written from the SNS developer guide, not
// from the code under test) and returns the JSON body, pretty-printed as
// SNS sends it.
func (f *snsFixture) sign(t testing.TB, m map[string]string, version string) string {
	t.Helper()
	names := []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	if m["Type"] == "Notification" {
		names = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	}
	sort.Strings(names)
	var text strings.Builder
	for _, n := range names {
		if v, ok := m[n]; ok {
			text.WriteString(n + "\n" + v + "\n")
		}
	}
	var sig []byte
	var err error
	switch version {
	case "1":
		h := sha1.Sum([]byte(text.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA1, h[:])
	case "2":
		h := sha256.Sum256([]byte(text.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA256, h[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	out["SignatureVersion"] = version
	out["Signature"] = base64.StdEncoding.EncodeToString(sig)
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// snsHeaders are the headers SNS sends with a message of type typ.
func snsHeaders(typ, id string) map[string]string {
	return map[string]string{
		"Content-Type":               "text/plain; charset=UTF-8",
		"User-Agent":                 "Amazon Simple Notification Service Agent",
		"x-amz-sns-message-type":     typ,
		"x-amz-sns-message-id":       id,
		"x-amz-sns-topic-arn":        testTopic,
		"x-amz-sns-subscription-arn": testTopic + ":1",
	}
}

// edit re-encodes a signed body after changing it.
func edit(t testing.TB, body string, change func(map[string]string)) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStringToSignDocExample(t *testing.T) {
	t.Parallel()
	subject := "My subject"
	m := &snsMessage{
		Type:      "Notification",
		MessageID: "4d4dc071-ddbf-465d-bba8-08f81c89da64",
		TopicArn:  "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P",
		Subject:   &subject,
		Message:   "My Test Message",
		Timestamp: "2019-01-31T04:37:04.321Z",
	}
	want := "Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\nSubject\nMy subject\nTimestamp\n2019-01-31T04:37:04.321Z\nTopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\nType\nNotification\n"
	if got := string(stringToSign(m)); got != want {
		t.Errorf("string to sign\n got %q\nwant %q", got, want)
	}
}

func TestSNSSubscriptionConfirmation(t *testing.T) {
	t.Parallel()
	f := newSNSFixture(t)
	for _, version := range []string{"1", "2"} {
		t.Run("v"+version, func(t *testing.T) {
			t.Parallel()
			srv, sink := newServer(t, f.options())
			token := "token-v" + version
			body := f.sign(t, f.confirmation("SubscriptionConfirmation", "conf-v"+version, token), version)
			code, _, resp := post(t, srv.URL+"/events", body, snsHeaders("SubscriptionConfirmation", "conf-v"+version))
			if code != http.StatusOK {
				t.Fatalf("status %d; %s", code, resp)
			}
			found := false
			for _, c := range f.confirmed() {
				found = found || c == token
			}
			if !found {
				t.Errorf("SubscribeURL not fetched for %s (confirms %v)", token, f.confirmed())
			}
			if n := len(sink.ids()); n != 0 {
				t.Errorf("sink called %d times", n)
			}
		})
	}
}

func TestSNSNotification(t *testing.T) {
	t.Parallel()
	f := newSNSFixture(t)
	subject := func(m map[string]string) map[string]string { m["Subject"] = "Root sign-in"; return m }
	tests := []struct {
		name    string
		msg     map[string]string
		version string
		headers bool
		want    []string
	}{
		{"v1 eventbridge event", f.notification("n1", ebEvent("e1")), "1", true, []string{"e1"}},
		{"v2 eventbridge event", f.notification("n2", ebEvent("e2")), "2", true, []string{"e2"}},
		{"v1 with subject", subject(f.notification("n3", ebEvent("e3"))), "1", true, []string{"e3"}},
		{"v2 with subject, no headers", subject(f.notification("n4", ebEvent("e4"))), "2", false, []string{"e4"}},
		{"cloudtrail records", f.notification("n5", `{"Records":[`+record("r1")+`,`+record("r2")+`]}`), "2", true, []string{"r1", "r2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, sink := newServer(t, f.options())
			var hdr map[string]string
			if tt.headers {
				hdr = snsHeaders("Notification", tt.msg["MessageId"])
			}
			code, _, resp := post(t, srv.URL+"/events", f.sign(t, tt.msg, tt.version), hdr)
			if code != http.StatusOK {
				t.Fatalf("status %d; %s", code, resp)
			}
			got := sink.ids()
			if len(got) != 1 || strings.Join(got[0], ",") != strings.Join(tt.want, ",") {
				t.Errorf("ingested %v, want [%v]", got, tt.want)
			}
		})
	}
}

func TestSNSCertificateCached(t *testing.T) {
	t.Parallel()
	f := newSNSFixture(t)
	srv, sink := newServer(t, f.options())
	for i, id := range []string{"c1", "c2", "c3"} {
		m := f.notification(id, ebEvent(id))
		m["SigningCertURL"] = f.srv.URL + "/cached.pem"
		code, _, resp := post(t, srv.URL+"/events", f.sign(t, m, "2"), snsHeaders("Notification", id))
		if code != http.StatusOK {
			t.Fatalf("message %d: status %d; %s", i, code, resp)
		}
	}
	if n := f.fetchCount("/cached.pem"); n != 1 {
		t.Errorf("certificate fetched %d times, want 1", n)
	}
	if n := len(sink.ids()); n != 3 {
		t.Errorf("sink called %d times, want 3", n)
	}
}

func TestSNSRefused(t *testing.T) {
	t.Parallel()
	f := newSNSFixture(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	port := f.srv.URL[strings.LastIndexByte(f.srv.URL, ':'):]
	tests := []struct {
		name  string
		body  func(t *testing.T) string
		opts  func(o *Options)
		want  int
		fetch string // a certificate path that must not have been fetched
	}{
		{"tampered message", func(t *testing.T) string {
			return edit(t, f.sign(t, f.notification("t1", ebEvent("e1")), "2"), func(m map[string]string) { m["Message"] = ebEvent("evil") })
		}, nil, http.StatusForbidden, ""},
		{"subject added", func(t *testing.T) string {
			return edit(t, f.sign(t, f.notification("t2", ebEvent("e1")), "1"), func(m map[string]string) { m["Subject"] = "x" })
		}, nil, http.StatusForbidden, ""},
		{"v1 signature labelled v2", func(t *testing.T) string {
			return edit(t, f.sign(t, f.notification("t3", ebEvent("e1")), "1"), func(m map[string]string) { m["SignatureVersion"] = "2" })
		}, nil, http.StatusForbidden, ""},
		{"signed by another key", func(t *testing.T) string {
			g := &snsFixture{key: other}
			return g.sign(t, f.notification("t4", ebEvent("e1")), "2")
		}, nil, http.StatusForbidden, ""},
		{"cert url on a host not allowed", func(t *testing.T) string {
			m := f.notification("t5", ebEvent("e1"))
			m["SigningCertURL"] = "https://localhost" + port + "/t5.pem"
			return f.sign(t, m, "2")
		}, nil, http.StatusForbidden, "/t5.pem"},
		{"cert url on the default pattern's host", func(t *testing.T) string {
			return f.sign(t, f.notification("t6", ebEvent("e1")), "2")
		}, func(o *Options) { o.SNS.CertHostPattern = "" }, http.StatusForbidden, "/SimpleNotificationService-t6.pem"},
		{"cert url over http", func(t *testing.T) string {
			m := f.notification("t7", ebEvent("e1"))
			m["SigningCertURL"] = strings.Replace(m["SigningCertURL"], "https://", "http://", 1)
			return f.sign(t, m, "2")
		}, nil, http.StatusForbidden, "/SimpleNotificationService-t7.pem"},
		{"cert url not a .pem", func(t *testing.T) string {
			m := f.notification("t8", ebEvent("e1"))
			m["SigningCertURL"] = f.srv.URL + "/t8.pem/../t8"
			return f.sign(t, m, "2")
		}, nil, http.StatusForbidden, ""},
		{"topic not allowed", func(t *testing.T) string {
			return f.sign(t, f.notification("t9", ebEvent("e1")), "2")
		}, func(o *Options) { o.SNS.TopicARNs = []string{testTopic + "-other"} }, http.StatusForbidden, "/SimpleNotificationService-t9.pem"},
		{"certificate expired", func(t *testing.T) string {
			return f.sign(t, f.notification("t10", ebEvent("e1")), "2")
		}, func(o *Options) { o.Now = func() time.Time { return testNow.Add(48 * time.Hour) } }, http.StatusForbidden, ""},
		{"certificate server fails", func(t *testing.T) string {
			m := f.notification("t11", ebEvent("e1"))
			m["SigningCertURL"] = f.srv.URL + "/broken.pem"
			return f.sign(t, m, "2")
		}, nil, http.StatusServiceUnavailable, ""},
		{"unknown type", func(t *testing.T) string {
			m := f.notification("t12", ebEvent("e1"))
			m["Type"] = "Gossip"
			return f.sign(t, m, "2")
		}, nil, http.StatusBadRequest, ""},
		{"bad record in the message", func(t *testing.T) string {
			return f.sign(t, f.notification("t13", `[`+ebEvent("e1")+`,{"x":1}]`), "2")
		}, nil, http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := f.options()
			if tt.opts != nil {
				tt.opts(&o)
			}
			srv, sink := newServer(t, o)
			code, _, resp := post(t, srv.URL+"/events", tt.body(t), snsHeaders("Notification", "x"))
			if code != tt.want {
				t.Fatalf("status %d, want %d; %s", code, tt.want, resp)
			}
			if n := len(sink.ids()); n != 0 {
				t.Errorf("sink called %d times", n)
			}
			if tt.fetch != "" && f.fetchCount(tt.fetch) != 0 {
				t.Errorf("%s fetched", tt.fetch)
			}
		})
	}
}

func TestSNSConfirmationRefused(t *testing.T) {
	t.Parallel()
	f := newSNSFixture(t)
	t.Run("subscribe url on a host not allowed", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t, f.options())
		m := f.confirmation("SubscriptionConfirmation", "cr1", "tok-cr1")
		m["SubscribeURL"] = strings.Replace(m["SubscribeURL"], "127.0.0.1", "localhost", 1)
		code, _, resp := post(t, srv.URL+"/events", f.sign(t, m, "1"), snsHeaders("SubscriptionConfirmation", "cr1"))
		if code != http.StatusForbidden {
			t.Fatalf("status %d, want 403; %s", code, resp)
		}
	})
	t.Run("topic not allowed", func(t *testing.T) {
		t.Parallel()
		o := f.options()
		o.SNS.TopicARNs = []string{"arn:aws:sns:us-east-1:123456789012:other"}
		srv, _ := newServer(t, o)
		m := f.confirmation("SubscriptionConfirmation", "cr2", "tok-cr2")
		code, _, resp := post(t, srv.URL+"/events", f.sign(t, m, "2"), snsHeaders("SubscriptionConfirmation", "cr2"))
		if code != http.StatusForbidden {
			t.Fatalf("status %d, want 403; %s", code, resp)
		}
	})
	t.Run("tampered token", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t, f.options())
		body := edit(t, f.sign(t, f.confirmation("SubscriptionConfirmation", "cr3", "tok-cr3"), "2"), func(m map[string]string) {
			m["SubscribeURL"] = strings.Replace(m["SubscribeURL"], "tok-cr3", "tok-cr3-evil", 1)
		})
		code, _, resp := post(t, srv.URL+"/events", body, snsHeaders("SubscriptionConfirmation", "cr3"))
		if code != http.StatusForbidden {
			t.Fatalf("status %d, want 403; %s", code, resp)
		}
	})
	t.Run("header type differs from body", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t, f.options())
		body := f.sign(t, f.confirmation("SubscriptionConfirmation", "cr4", "tok-cr4"), "2")
		code, _, resp := post(t, srv.URL+"/events", body, snsHeaders("Notification", "cr4"))
		if code != http.StatusBadRequest {
			t.Fatalf("status %d, want 400; %s", code, resp)
		}
	})
	t.Run("unsubscribe confirmation is not confirmed", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t, f.options())
		body := f.sign(t, f.confirmation("UnsubscribeConfirmation", "cr5", "tok-cr5"), "2")
		code, _, resp := post(t, srv.URL+"/events", body, snsHeaders("UnsubscribeConfirmation", "cr5"))
		if code != http.StatusOK {
			t.Fatalf("status %d, want 200; %s", code, resp)
		}
	})
	// After every subtest: no refused or unsubscribe message confirmed.
	t.Cleanup(func() {
		for _, c := range f.confirmed() {
			t.Errorf("subscription confirmed with token %q", c)
		}
	})
}

func TestSNSFixedCertificate(t *testing.T) {
	t.Parallel()
	f := newSNSFixture(t)
	o := f.options()
	o.SNS.CertPEM = f.certPEM
	srv, sink := newServer(t, o)
	m := f.notification("fx1", ebEvent("e1"))
	code, _, resp := post(t, srv.URL+"/events", f.sign(t, m, "1"), snsHeaders("Notification", "fx1"))
	if code != http.StatusOK {
		t.Fatalf("status %d; %s", code, resp)
	}
	if n := f.fetchCount("/SimpleNotificationService-fx1.pem"); n != 0 {
		t.Errorf("certificate fetched %d times with a fixed certificate", n)
	}
	if len(sink.ids()) != 1 {
		t.Error("event not ingested")
	}
	// The URL is still checked.
	m = f.notification("fx2", ebEvent("e2"))
	m["SigningCertURL"] = "https://sns.evil.example/x.pem"
	if code, _, _ := post(t, srv.URL+"/events", f.sign(t, m, "1"), snsHeaders("Notification", "fx2")); code != http.StatusForbidden {
		t.Errorf("cert url on a bad host with a fixed certificate: status %d, want 403", code)
	}
}

func TestSNSS3Notification(t *testing.T) {
	t.Parallel()
	f := newSNSFixture(t)
	srv, sink := newServer(t, f.options())
	for i, msg := range []string{
		`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"trail"},"object":{"key":"AWSLogs/123456789012/CloudTrail/us-east-1/2025/03/06/x.json.gz"}}}]}`,
		`{"s3Bucket":"trail","s3ObjectKey":["AWSLogs/123456789012/CloudTrail/us-east-1/2025/03/06/x.json.gz"]}`,
		`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2025-03-06T11:00:00.000Z","Bucket":"trail"}`,
	} {
		id := "s3-" + string(rune('a'+i))
		code, _, resp := post(t, srv.URL+"/events", f.sign(t, f.notification(id, msg), "2"), snsHeaders("Notification", id))
		if code != http.StatusAccepted {
			t.Errorf("message %d: status %d, want 202; %s", i, code, resp)
		}
	}
	if n := len(sink.ids()); n != 0 {
		t.Errorf("sink called %d times", n)
	}
}

func TestSNSRawDelivery(t *testing.T) {
	t.Parallel()
	srv, sink := newServer(t, Options{BasicUsers: map[string]string{"sns": "pw"}})
	hdr := map[string]string{"x-amz-sns-rawdelivery": "true", "x-amz-sns-message-type": "Notification"}
	if code, h, _ := post(t, srv.URL+"/events", ebEvent("raw1"), hdr); code != http.StatusUnauthorized || h.Get("WWW-Authenticate") == "" {
		t.Fatalf("without credentials: status %d, want 401 with a challenge", code)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/events", strings.NewReader(ebEvent("raw1")))
	req.SetBasicAuth("sns", "pw")
	hdr["Authorization"] = req.Header.Get("Authorization")
	if code, _, resp := post(t, srv.URL+"/events", ebEvent("raw1"), hdr); code != http.StatusOK {
		t.Fatalf("status %d; %s", code, resp)
	}
	if got := sink.ids(); len(got) != 1 || got[0][0] != "raw1" {
		t.Errorf("ingested %v", got)
	}
}
