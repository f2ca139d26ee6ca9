package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/notifytest"
)

// received is one message the test server accepted.
type received struct {
	from string
	to   []string
	data []byte
	tls  bool
	user string
}

// mailServer is a real SMTP server (go-smtp) on 127.0.0.1.
type mailServer struct {
	addr  string
	mechs []string // AUTH mechanisms offered; none: no AUTH
	users map[string]string
	// rcpt and data replies by recipient address (nil: accept).
	rcpt map[string]*smtp.SMTPError
	data *smtp.SMTPError

	mu   sync.Mutex
	msgs []received
}

type session struct {
	s    *mailServer
	conn *smtp.Conn
	cur  received
}

func (s *mailServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c}, nil
}

func (ss *session) AuthMechanisms() []string { return ss.s.mechs }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if want, ok := ss.s.users[user]; !ok || want != pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		ss.cur.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnsupported
}

// loginServer is the server side of AUTH LOGIN.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(l.user, string(resp))
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(ss.s.mechs) > 0 && ss.cur.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.cur.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if e := ss.s.rcpt[to]; e != nil {
		return e
	}
	ss.cur.to = append(ss.cur.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if ss.s.data != nil {
		return ss.s.data
	}
	_, ss.cur.tls = ss.conn.TLSConnectionState()
	ss.cur.data = b
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, ss.cur)
	ss.s.mu.Unlock()
	user := ss.cur.user
	ss.cur = received{user: user}
	return nil
}

func (ss *session) Reset() {
	ss.cur = received{user: ss.cur.user}
}

func (ss *session) Logout() error { return nil }

func (s *mailServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// start runs s with STARTTLS offered (starttls), implicit TLS (implicit)
// or neither.
func start(t *testing.T, s *mailServer, cert *tls.Certificate, starttls, implicit bool) {
	t.Helper()
	srv := smtp.NewServer(s)
	srv.Domain = "mx.test"
	srv.AllowInsecureAuth = !starttls && !implicit
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	var l net.Listener
	var err error
	if starttls || implicit {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	if implicit {
		l, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
		srv.TLSConfig = nil
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// testCert makes a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func testCert(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mx.test"},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

var sendTime = time.Date(2024, 3, 1, 10, 0, 6, 0, time.UTC)

func newNotifier(t *testing.T, cfg *config.EmailConfig, rawURL string, pool *x509.CertPool) *Notifier {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	srv := Server{URL: u, From: "Trailwatch <trailwatch@alerts.example.com>"}
	if pool != nil {
		srv.TLSConfig = &tls.Config{RootCAs: pool}
	}
	tz, _ := time.LoadLocation("Asia/Tokyo")
	e, err := New(cfg, srv, notify.Options{Clock: notifytest.Clock(sendTime), TimeZone: tz})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// parts parses a multipart/alternative message into its decoded parts by
// content type.
func parts(t *testing.T, m *mail.Message) map[string]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	out := map[string]string{}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Errorf("part encoding %q", p.Header.Get("Content-Transfer-Encoding"))
		}
		b, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out[ct] = string(b)
	}
	return out
}

func TestMultipartStory(t *testing.T) {
	t.Parallel()
	s := &mailServer{}
	start(t, s, nil, false, false)
	e := newNotifier(t, &config.EmailConfig{To: []string{"secops@example.com", "Ops Team <ops@example.com>"}}, "smtp://"+s.addr, nil)
	nt := notifytest.Notification()
	nt.Alert.Summary = "root signed in from 198.51.100.7 — 東京 <no MFA>"
	if retry, err := e.Notify(context.Background(), nt); retry || err != nil {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	msgs := s.received()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	r := msgs[0]
	if r.from != "trailwatch@alerts.example.com" || strings.Join(r.to, ",") != "secops@example.com,ops@example.com" || r.tls {
		t.Errorf("envelope %q %q tls=%v", r.from, r.to, r.tls)
	}
	m, err := mail.ReadMessage(bytes.NewReader(r.data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "[CRITICAL] root-signin: " + nt.Alert.Summary; subject != want {
		t.Errorf("subject %q, want %q", subject, want)
	}
	if raw := m.Header.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?") {
		t.Errorf("non-ASCII subject not encoded: %q", raw)
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(sendTime) {
		t.Errorf("Date %v %v", d, err)
	}
	if id := m.Header.Get("Message-ID"); !strings.HasPrefix(id, "<a-7.slack-ops.0.") || !strings.HasSuffix(id, "@alerts.example.com>") {
		t.Errorf("Message-ID %q", id)
	}
	if to, err := m.Header.AddressList("To"); err != nil || len(to) != 2 || to[1].Name != "Ops Team" {
		t.Errorf("To %v %v", to, err)
	}
	ps := parts(t, m)
	for ct, body := range ps {
		for _, want := range []string{
			"root (Root)", "arn:aws:iam::111122223333:root", "signin.amazonaws.com ConsoleLogin", "CRITICAL",
			"2024-03-01 10:00:00 UTC", "2024-03-01 19:00:00 JST (Asia/Tokyo)", "111122223333", "us-east-1",
			"198.51.100.7", "Mozilla/5.0 (Macintosh)", "MFA", "東京",
			"https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/e7c3a6b1-1111-4222-8333-944445555666",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s part lacks %q:\n%s", ct, want, body)
			}
		}
	}
	if !strings.Contains(ps["text/plain"], "https://trailwatch.example.com/alerts/a-7/ack?sig=abc") ||
		!strings.Contains(ps["text/html"], `href="https://trailwatch.example.com/alerts/a-7/ack?sig=abc"`) {
		t.Error("ack link missing")
	}
	if !strings.Contains(ps["text/html"], "&lt;no MFA&gt;") {
		t.Error("HTML part does not escape the summary")
	}
}

func TestSTARTTLSWithPlainAuth(t *testing.T) {
	t.Parallel()
	cert, pool := testCert(t)
	s := &mailServer{mechs: []string{sasl.Plain}, users: map[string]string{"alerts": "p@ss word"}}
	start(t, s, cert, true, false)
	e := newNotifier(t, &config.EmailConfig{To: []string{"secops@example.com"}, Subject: "{{.severity | upper}} {{.principal}} from {{.source_ip}}"},
		"smtp://alerts:p%40ss%20word@"+s.addr, pool)
	if retry, err := e.Notify(context.Background(), notifytest.Notification()); retry || err != nil {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	r := s.received()[0]
	if !r.tls || r.user != "alerts" {
		t.Errorf("tls=%v user=%q", r.tls, r.user)
	}
	m, _ := mail.ReadMessage(bytes.NewReader(r.data))
	if got := m.Header.Get("Subject"); got != "CRITICAL root from 198.51.100.7" {
		t.Errorf("subject %q", got)
	}

	// A wrong password is refused for good.
	bad := newNotifier(t, &config.EmailConfig{To: []string{"secops@example.com"}}, "smtp://alerts:nope@"+s.addr, pool)
	retry, err := bad.Notify(context.Background(), notifytest.Notification())
	if retry || err == nil || !strings.Contains(err.Error(), "535") || strings.Contains(err.Error(), "nope") {
		t.Errorf("bad password: retry=%v err=%v", retry, err)
	}
	// A certificate nobody trusts: no mail, retried later.
	untrusted := newNotifier(t, &config.EmailConfig{To: []string{"secops@example.com"}}, "smtp://alerts:p%40ss%20word@"+s.addr, x509.NewCertPool())
	if retry, err := untrusted.Notify(context.Background(), notifytest.Notification()); !retry || err == nil {
		t.Errorf("untrusted certificate: retry=%v err=%v", retry, err)
	}
	if n := len(s.received()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestImplicitTLSWithLoginAuthRaw(t *testing.T) {
	t.Parallel()
	cert, pool := testCert(t)
	s := &mailServer{mechs: []string{sasl.Login}, users: map[string]string{"u": "pw"}}
	start(t, s, cert, false, true)
	e := newNotifier(t, &config.EmailConfig{To: []string{"root-alerts@example.com"}, Raw: true, From: "sns@example.com"}, "smtps://u:pw@"+s.addr, pool)
	if retry, err := e.Notify(context.Background(), notifytest.Notification()); retry || err != nil {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	nt := notifytest.Notification()
	nt.Body = []byte(`"Root sign-in to 111122223333"`)
	nt.AckURL = ""
	if _, err := e.Notify(context.Background(), nt); err != nil {
		t.Fatal(err)
	}
	msgs := s.received()
	if len(msgs) != 2 || !msgs[0].tls || msgs[0].user != "u" || msgs[0].from != "sns@example.com" {
		t.Fatalf("%+v", msgs)
	}
	for i, want := range []string{
		notifytest.EventJSON + "\n\n--\nAcknowledge this alert (stops reminders): https://trailwatch.example.com/alerts/a-7/ack?sig=abc\n",
		`"Root sign-in to 111122223333"` + "\n",
	} {
		m, err := mail.ReadMessage(bytes.NewReader(msgs[i].data))
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get("Subject") != SNSSubject || m.Header.Get("Content-Type") != "text/plain; charset=UTF-8" {
			t.Errorf("headers %v", m.Header)
		}
		b, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
		if got := strings.ReplaceAll(string(b), "\r\n", "\n"); got != want {
			t.Errorf("body\n got %q\nwant %q", got, want)
		}
	}
}

func TestRejections(t *testing.T) {
	t.Parallel()
	s := &mailServer{rcpt: map[string]*smtp.SMTPError{
		"busy@example.com": {Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"},
		"gone@example.com": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"},
	}}
	start(t, s, nil, false, false)
	ctx := context.Background()

	e := newNotifier(t, &config.EmailConfig{To: []string{"ok@example.com", "busy@example.com"}}, "smtp://"+s.addr, nil)
	if retry, err := e.Notify(ctx, notifytest.Notification()); !retry || err == nil || !strings.Contains(err.Error(), "451") {
		t.Errorf("451: retry=%v err=%v", retry, err)
	}
	if n := len(s.received()); n != 0 {
		t.Fatalf("a temporary refusal still sent %d messages", n)
	}

	e = newNotifier(t, &config.EmailConfig{To: []string{"gone@example.com"}}, "smtp://"+s.addr, nil)
	if retry, err := e.Notify(ctx, notifytest.Notification()); retry || !errors.Is(err, ErrRecipients) || !strings.Contains(err.Error(), "550") {
		t.Errorf("550: retry=%v err=%v", retry, err)
	}

	e = newNotifier(t, &config.EmailConfig{To: []string{"gone@example.com", "ok@example.com"}}, "smtp://"+s.addr, nil)
	if retry, err := e.Notify(ctx, notifytest.Notification()); retry || err != nil {
		t.Errorf("one of two refused: retry=%v err=%v", retry, err)
	}
	if msgs := s.received(); len(msgs) != 1 || strings.Join(msgs[0].to, ",") != "ok@example.com" {
		t.Errorf("messages %+v", msgs)
	}
}

func TestDataRejections(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		code  int
		retry bool
	}{{451, true}, {554, false}} {
		s := &mailServer{data: &smtp.SMTPError{Code: c.code, EnhancedCode: smtp.EnhancedCode{c.code / 100, 0, 0}, Message: "no"}}
		start(t, s, nil, false, false)
		e := newNotifier(t, &config.EmailConfig{To: []string{"a@example.com"}}, "smtp://"+s.addr, nil)
		retry, err := e.Notify(context.Background(), notifytest.Notification())
		if retry != c.retry || err == nil {
			t.Errorf("DATA %d: retry=%v err=%v", c.code, retry, err)
		}
	}
}

func TestConnectionRefusedRetries(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	e := newNotifier(t, &config.EmailConfig{To: []string{"a@example.com"}}, "smtp://u:SECRET@"+addr, nil)
	retry, err := e.Notify(context.Background(), notifytest.Notification())
	if !retry || err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("retry=%v err=%v", retry, err)
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	u := func(s string) *url.URL { v, _ := url.Parse(s); return v }
	for _, c := range []struct {
		cfg  config.EmailConfig
		srv  Server
		want error
	}{
		{config.EmailConfig{To: []string{"a@b.c"}}, Server{From: "x@y.z"}, ErrNoServer},
		{config.EmailConfig{To: []string{"a@b.c"}}, Server{URL: u("http://h"), From: "x@y.z"}, ErrScheme},
		{config.EmailConfig{To: []string{"a@b.c"}}, Server{URL: u("smtp://h")}, ErrNoFrom},
		{config.EmailConfig{}, Server{URL: u("smtp://h"), From: "x@y.z"}, ErrNoTo},
		{config.EmailConfig{To: []string{"not an address"}}, Server{URL: u("smtp://h"), From: "x@y.z"}, ErrAddress},
		{config.EmailConfig{To: []string{"a@b.c"}, Subject: "{{"}, Server{URL: u("smtp://h"), From: "x@y.z"}, notify.ErrTemplate},
	} {
		if _, err := New(&c.cfg, c.srv, notify.Options{}); !errors.Is(err, c.want) {
			t.Errorf("%+v: err %v, want %v", c.cfg, err, c.want)
		}
	}
}

func TestMessageID(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"d-1.r-0":   "<d-1.r-0@ex.com>",
		"a-7:ops:0": "<a-7.ops.0.",
		"":          "<e3b0c44298fc@ex.com>",
	} {
		if got := messageID(key, "ex.com"); !strings.HasPrefix(got, want) {
			t.Errorf("%q: %q, want prefix %q", key, got, want)
		}
	}
	if messageID("a:b", "x") == messageID("a;b", "x") {
		t.Error("different keys, one Message-ID")
	}
}
