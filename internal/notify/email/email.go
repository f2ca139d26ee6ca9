// Package email sends notifications by SMTP: a multipart text and HTML
// message that tells the whole story, or, raw, the message an SNS email
// subscription delivers.
package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify"
)

// Errors.
var (
	ErrNoServer   = errors.New("email: no SMTP server (--smtp)")
	ErrScheme     = errors.New("email: SMTP URL scheme must be smtp or smtps")
	ErrNoFrom     = errors.New("email: no sender (from, or --mail-from)")
	ErrNoTo       = errors.New("email: no recipients (to)")
	ErrAddress    = errors.New("email: bad address")
	ErrAuthMech   = errors.New("email: the server offers neither AUTH PLAIN nor LOGIN")
	ErrCleartext  = errors.New("email: refusing to send a password over an unencrypted connection")
	ErrRecipients = errors.New("email: every recipient was refused")
)

// SNSSubject is the subject SNS gives email notifications published
// without one (as EventBridge publishes).
const SNSSubject = "AWS Notification Message"

// Server is the SMTP server mail goes through (serve's --smtp and
// --mail-from).
type Server struct {
	// URL is smtp://user:pass@host:port (STARTTLS when the server offers
	// it; default port 25) or smtps://user:pass@host:port (implicit TLS;
	// default port 465). With a user, AUTH PLAIN or LOGIN.
	URL *url.URL
	// From is the default sender address.
	From string
	// TLSConfig verifies the server; nil: the system roots.
	TLSConfig *tls.Config
}

// Notifier sends mail to the configured recipients.
type Notifier struct {
	raw      bool
	subject  *template.Template
	from     *mail.Address
	to       []*mail.Address
	tz       *time.Location
	addr     string // host:port
	host     string
	implicit bool
	user     string
	pass     string
	hasUser  bool
	tls      *tls.Config
	o        notify.Options
	log      *slog.Logger
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for cfg sending through srv.
func New(cfg *config.EmailConfig, srv Server, o notify.Options) (*Notifier, error) {
	if srv.URL == nil || srv.URL.Host == "" {
		return nil, ErrNoServer
	}
	e := &Notifier{raw: cfg.Raw, o: o}
	switch srv.URL.Scheme {
	case "smtp":
	case "smtps":
		e.implicit = true
	default:
		return nil, ErrScheme
	}
	e.host = srv.URL.Hostname()
	port := srv.URL.Port()
	if port == "" {
		port = "25"
		if e.implicit {
			port = "465"
		}
	}
	e.addr = net.JoinHostPort(e.host, port)
	if u := srv.URL.User; u != nil && u.Username() != "" {
		e.hasUser = true
		e.user = u.Username()
		e.pass, _ = u.Password()
	}
	if srv.TLSConfig != nil {
		e.tls = srv.TLSConfig.Clone()
	} else {
		e.tls = &tls.Config{}
	}
	if e.tls.ServerName == "" {
		e.tls.ServerName = e.host
	}

	from := cfg.From
	if from == "" {
		from = srv.From
	}
	if from == "" {
		return nil, ErrNoFrom
	}
	var err error
	if e.from, err = mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("%w: from %q: %w", ErrAddress, from, err)
	}
	if len(cfg.To) == 0 {
		return nil, ErrNoTo
	}
	for _, t := range cfg.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("%w: to %q: %w", ErrAddress, t, err)
		}
		e.to = append(e.to, a)
	}
	if cfg.Subject != "" {
		if e.subject, err = notify.ParseTemplate("email subject", cfg.Subject); err != nil {
			return nil, fmt.Errorf("email: %w", err)
		}
	}
	if e.tz, err = notify.LoadZone(cfg.TimeZone, o.TimeZone); err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	e.log = o.Log().With("receiver_type", "email", "smtp", e.addr)
	return e, nil
}

// Notify sends n. Temporary failures (a 4xx reply, a connection or TLS
// failure) are retried; permanent ones (5xx) are not. A recipient refused
// for good is left out (and logged) while the others get the message; a
// recipient refused for now makes the whole delivery wait and retry, so
// that nobody gets it twice.
func (e *Notifier) Notify(ctx context.Context, n *notify.Notification) (bool, error) {
	msg, err := e.Message(n)
	if err != nil {
		return false, err
	}
	return e.send(ctx, msg)
}

func (e *Notifier) send(ctx context.Context, msg []byte) (retry bool, err error) {
	conn, err := e.dial(ctx)
	if err != nil {
		return true, fmt.Errorf("email smtp: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(2 * time.Minute))
	}

	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		return classify("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(helloName(e.from.Address)); err != nil {
		return classify("ehlo", err)
	}
	if !e.implicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(e.tls); err != nil {
				return classify("starttls", err)
			}
		}
	}
	if e.hasUser {
		ok, mechs := c.Extension("AUTH")
		if !ok {
			return false, ErrAuthMech
		}
		_, tlsOn := c.TLSConnectionState()
		if !tlsOn && !isLoopback(e.host) {
			return false, ErrCleartext
		}
		var a smtp.Auth
		switch ms := strings.Fields(strings.ToUpper(mechs)); {
		case slices.Contains(ms, "PLAIN"):
			a = &plainAuth{user: e.user, pass: e.pass}
		case slices.Contains(ms, "LOGIN"):
			a = &loginAuth{user: e.user, pass: e.pass}
		default:
			return false, ErrAuthMech
		}
		if err := c.Auth(a); err != nil {
			return classify("auth", err)
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return classify("mail from", err)
	}
	accepted := 0
	var refused []string
	for _, to := range e.to {
		err := c.Rcpt(to.Address)
		if err == nil {
			accepted++
			continue
		}
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			refused = append(refused, fmt.Sprintf("%s: %d %s", to.Address, te.Code, te.Msg))
			continue
		}
		c.Reset()
		return classify("rcpt to "+to.Address, err)
	}
	if accepted == 0 {
		c.Reset()
		return false, fmt.Errorf("%w: %s", ErrRecipients, strings.Join(refused, "; "))
	}
	w, err := c.Data()
	if err != nil {
		return classify("data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return classify("data", err)
	}
	if err := w.Close(); err != nil {
		return classify("data", err)
	}
	if len(refused) > 0 {
		e.log.WarnContext(ctx, "email recipients refused; sent to the others", "refused", strings.Join(refused, "; "))
	}
	c.Quit()
	return false, nil
}

func (e *Notifier) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{Timeout: 30 * time.Second}
	if e.implicit {
		td := &tls.Dialer{NetDialer: d, Config: e.tls}
		return td.DialContext(ctx, "tcp", e.addr)
	}
	return d.DialContext(ctx, "tcp", e.addr)
}

// classify: SMTP 4xx replies and failures without a reply (connection,
// TLS, timeout) retry; 5xx replies do not.
func classify(step string, err error) (bool, error) {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code < 500, fmt.Errorf("email smtp %s: %d %s", step, te.Code, te.Msg)
	}
	return true, fmt.Errorf("email smtp %s: %w", step, err)
}

func helloName(from string) string {
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		return d
	}
	return "localhost"
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// plainAuth is AUTH PLAIN (RFC 4616); the caller has checked that the
// connection is encrypted or local.
type plainAuth struct{ user, pass string }

func (a *plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a *plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge")
	}
	return nil, nil
}

// loginAuth is AUTH LOGIN: the user name, then the password, each asked for.
type loginAuth struct {
	user, pass string
	step       int
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.pass), nil
	}
	return nil, errors.New("unexpected server challenge")
}

// Message renders the whole RFC 5322 message for n (CRLF line ends).
func (e *Notifier) Message(n *notify.Notification) ([]byte, error) {
	var subject string
	switch {
	case e.raw:
		subject = SNSSubject
	case e.subject != nil:
		b, err := notify.Render(e.subject, n, e.o.ConsoleBase)
		if err != nil {
			return nil, fmt.Errorf("email subject: %w", err)
		}
		subject = string(b)
	case n.Reminder > 0 && n.Thread != "":
		// A reminder replies to the first notification, under its
		// subject, so that mail clients thread them; its body says which
		// reminder it is.
		first := *n
		first.Reminder = 0
		subject = "Re: " + notify.Title(&first)
	default:
		subject = notify.Title(n)
	}
	subject = strings.Join(strings.Fields(subject), " ") // no header injection

	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", e.from.String())
	tos := make([]string, len(e.to))
	for i, t := range e.to {
		tos[i] = t.String()
	}
	h("To", strings.Join(tos, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", e.o.Now().Format(time.RFC1123Z))
	h("Message-ID", messageID(n.Key, helloName(e.from.Address)))
	if n.Reminder > 0 && n.Thread != "" {
		first := messageID(n.Thread, helloName(e.from.Address))
		h("In-Reply-To", first)
		h("References", first)
	}
	h("MIME-Version", "1.0")
	h("Auto-Submitted", "auto-generated")
	if n.AlertID != "" {
		h("X-Trailwatch-Alert-ID", headerSafe(n.AlertID))
	}
	if n.Alert.Severity != "" {
		h("X-Trailwatch-Severity", headerSafe(n.Alert.Severity))
	}

	if e.raw {
		body, err := notify.Message(n)
		if err != nil {
			return nil, fmt.Errorf("email body: %w", err)
		}
		text := string(body)
		if n.AckURL != "" {
			text += "\n\n--\nAcknowledge this alert (stops reminders): " + n.AckURL
		}
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		h("Content-Type", "text/plain; charset=UTF-8")
		h("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		writeQP(&b, text)
		return b.Bytes(), nil
	}

	s := notify.NewStory(n, e.tz, e.o.ConsoleBase)
	var text, html bytes.Buffer
	if err := textTmpl.Execute(&text, s); err != nil {
		return nil, fmt.Errorf("email text: %w", err)
	}
	if err := htmlTmpl.Execute(&html, s); err != nil {
		return nil, fmt.Errorf("email html: %w", err)
	}
	var parts bytes.Buffer
	mw := multipart.NewWriter(&parts)
	h("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	for _, p := range []struct {
		ctype string
		body  string
	}{{"text/plain; charset=utf-8", text.String()}, {"text/html; charset=utf-8", html.String()}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("email part: %w", err)
		}
		var qp bytes.Buffer
		writeQP(&qp, p.body)
		pw.Write(qp.Bytes())
	}
	mw.Close()
	b.Write(parts.Bytes())
	return b.Bytes(), nil
}

// writeQP writes s quoted-printable with CRLF line ends.
func writeQP(b *bytes.Buffer, s string) {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
	w := quotedprintable.NewWriter(b)
	w.Write([]byte(s))
	w.Close()
}

// messageID makes a Message-ID from the notification key, the same on
// every attempt of a delivery, so that a retried message is recognised.
func messageID(key, domain string) string {
	safe := strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)) {
			return r
		}
		return '.'
	}, key)
	if safe != key || safe == "" || strings.Contains(safe, "..") || strings.HasPrefix(safe, ".") || strings.HasSuffix(safe, ".") {
		h := sha256.Sum256([]byte(key))
		for strings.Contains(safe, "..") {
			safe = strings.ReplaceAll(safe, "..", ".")
		}
		safe = strings.Trim(safe, ".")
		if safe != "" {
			safe += "."
		}
		safe += fmt.Sprintf("%x", h[:6])
	}
	return "<" + safe + "@" + domain + ">"
}

func headerSafe(s string) string { return strings.Join(strings.Fields(s), " ") }
