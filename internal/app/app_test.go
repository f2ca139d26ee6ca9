package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
)

const seeds = "../../../shared/seeds/"

// rootLogin is a root console sign-in as CloudTrail records it; eventID
// varies so tests can send several.
func rootLogin(id string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","accessKeyId":""},` +
		`"eventTime":"2024-03-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1",` +
		`"sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0 (Macintosh)","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},` +
		`"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"},` +
		`"eventID":"` + id + `","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`
}

// envelope wraps a record as EventBridge delivers it to an API destination.
func envelope(rec string) string {
	return `{"version":"0","id":"0d1e5a6c-0000-4000-8000-000000000001","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","account":"111122223333","time":"2024-03-01T10:00:00Z","region":"us-east-1","resources":[],"detail":` + rec + `}`
}

// start runs an App on a free loopback port until the test ends.
func start(t *testing.T, o Options) *App {
	t.Helper()
	o.Listen = "127.0.0.1:0"
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.MinBackoff == 0 {
		o.MinBackoff, o.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	}
	if o.PollInterval == 0 {
		o.PollInterval = 50 * time.Millisecond
	}
	a, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		a.Close()
	})
	return a
}

func post(t *testing.T, a *App, body string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+a.Addr()+"/events", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// wait returns the next value from c, or fails the test after a generous
// deadline (the work is asynchronous; nothing here waits for time to pass).
func wait[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// mailSink is a real SMTP server on loopback that hands over each message.
type mailSink struct{ msgs chan []byte }

func (m *mailSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

type mailSession struct{ m *mailSink }

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err == nil {
		s.m.msgs <- b
	}
	return err
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

func startSMTP(t *testing.T) (*url.URL, chan []byte) {
	t.Helper()
	sink := &mailSink{msgs: make(chan []byte, 16)}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &url.URL{Scheme: "smtp", Host: ln.Addr().String()}, sink.msgs
}

// Seed 000, unchanged: root console sign-in -> EventBridge rule -> SNS
// topic -> email subscription. The mail carries the event JSON, as SNS
// sends it.
func TestSeed000RootSignInEmail(t *testing.T) {
	t.Parallel()
	smtpURL, msgs := startSMTP(t)
	a := start(t, Options{
		Templates: []string{seeds + "seed000-root-signin.yaml"},
		Params:    map[string]string{"EmailAddress": "security@example.com"},
		SMTP:      smtpURL,
		MailFrom:  "trailwatch@example.com",
	})
	code, body := post(t, a, envelope(rootLogin("seed0-1")), nil)
	if code != http.StatusOK {
		t.Fatalf("POST /events: %d %s", code, body)
	}
	raw := wait(t, msgs, "the email")
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if to := m.Header.Get("To"); !strings.Contains(to, "security@example.com") {
		t.Errorf("To: %q", to)
	}
	b, _ := io.ReadAll(m.Body)
	if !bytes.Contains(b, []byte("seed0-1")) || !bytes.Contains(b, []byte("ConsoleLogin")) {
		t.Errorf("mail body lacks the event:\n%s", b)
	}
	// An IAM user's sign-in matches nothing in seed 000.
	iam := strings.Replace(rootLogin("seed0-2"), `"type":"Root"`, `"type":"IAMUser","userName":"alice"`, 1)
	if code, body := post(t, a, envelope(iam), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	rows, err := a.Store().Alerts(context.Background(), store.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Alert.EventID != "seed0-1" {
		t.Errorf("%d alerts, want the root sign-in's only", len(rows))
	}
}

// Seed 001, unchanged: sign-in -> rule with an input transformer -> API
// destination (API key connection) -> a Slack incoming webhook.
func TestSeed001SlackAPIDestination(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	// API destinations must be HTTPS, as in AWS: a TLS server on loopback
	// whose certificate the app's HTTP client trusts.
	slack := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
		io.WriteString(w, "ok")
	}))
	t.Cleanup(slack.Close)
	a := start(t, Options{
		Templates:  []string{seeds + "seed001-notify.yaml"},
		Params:     map[string]string{"SlackIncomingWebhookUrl": slack.URL + "/services/T000/B000/XXXX"},
		HTTPClient: slack.Client(),
	})
	if code, body := post(t, a, envelope(rootLogin("seed1-1")), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	r := wait(t, got, "the Slack request")
	b := <-bodies
	if r.URL.Path != "/services/T000/B000/XXXX" || r.Header.Get("dummy") != "dummy" {
		t.Errorf("request %s with API key header %q", r.URL.Path, r.Header.Get("dummy"))
	}
	var msg struct {
		Blocks []struct {
			Fields []struct{ Text string } `json:"fields"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, b)
	}
	var texts []string
	for _, bl := range msg.Blocks {
		for _, f := range bl.Fields {
			texts = append(texts, f.Text)
		}
	}
	joined := strings.Join(texts, "\n")
	for _, want := range []string{"*eventName:* ConsoleLogin", "*eventID:* seed1-1", "*account:* 111122223333", "*userIdentityType:* Root", "*SwitchTo:* "} {
		if !strings.Contains(joined, want) {
			t.Errorf("Slack fields lack %q:\n%s", want, joined)
		}
	}
}

// Without configuration, serve runs the built-in packs and prints alerts.
func TestDefaultsPrintToStdout(t *testing.T) {
	t.Parallel()
	out := &syncBuffer{}
	a := start(t, Options{Stdout: out})
	code, body := post(t, a, `{"Records":[`+rootLogin("d-1")+`]}`, nil)
	if code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	for i := 0; ; i++ {
		if strings.Contains(out.String(), "root-console-signin") {
			break
		}
		if i > 400 {
			t.Fatalf("no alert on stdout: %q", out.String())
		}
		a.outbox.Kick()
		time.Sleep(25 * time.Millisecond) // polling an asynchronous writer, not waiting for time
	}
	// The same event again (another source) alerts once.
	if code, body := post(t, a, envelope(rootLogin("d-1")), nil); code != http.StatusOK || !strings.Contains(body, `"duplicates":1`) {
		t.Errorf("second delivery: %d %s", code, body)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A receiver that fails (500, then 429 with Retry-After) and then recovers
// gets the alert; it is acknowledged with the API and listed as acked.
func TestRetryThenAck(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	delivered := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		switch n {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			b, _ := io.ReadAll(r.Body)
			delivered <- b
		}
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	cfgFile := dir + "/trailwatch.yaml"
	writeFile(t, cfgFile, `
builtin_rules: true
receivers:
  - name: hook
    webhook: {url: "`+hook.URL+`"}
routes:
  - rules: [root-console-signin]
    receivers: [hook]
`)
	a := start(t, Options{ConfigFiles: []string{cfgFile}, IngestAPIKeys: map[string]string{"X-Api-Key": "k1"}, AdminToken: "admin"})
	if code, _ := post(t, a, envelope(rootLogin("r-1")), nil); code != http.StatusUnauthorized {
		t.Errorf("no API key: %d, want 401", code)
	}
	if code, body := post(t, a, envelope(rootLogin("r-1")), http.Header{"X-Api-Key": {"k1"}}); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	b := wait(t, delivered, "the webhook delivery")
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil || got["rule"] != "root-console-signin" || got["event_id"] != "r-1" {
		t.Errorf("webhook body %s (%v)", b, err)
	}
	ctx := context.Background()
	rows, err := a.Store().Alerts(ctx, store.AlertFilter{Rule: "root-console-signin"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d alerts, %v", len(rows), err)
	}
	req, _ := http.NewRequest("POST", "http://"+a.Addr()+"/alerts/"+rows[0].ID+"/ack", strings.NewReader(`{"by":"alice"}`))
	req.Header.Set("Authorization", "Bearer admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ack: %d", resp.StatusCode)
	}
	row, err := a.Store().Alert(ctx, rows[0].ID)
	if err != nil || row.State != store.StateAcked || row.AckedBy != "alice" {
		t.Errorf("after ack: %+v %v", row.State, err)
	}
}

func TestRefusesOpenIngestOffLoopback(t *testing.T) {
	t.Parallel()
	_, err := New(context.Background(), Options{Listen: "0.0.0.0:0", DataDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "--insecure-ingest") {
		t.Errorf("err = %v", err)
	}
	_, err = New(context.Background(), Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), ConfigFiles: []string{"nope.yaml"}})
	if err == nil {
		t.Error("a missing config file is not an error")
	}
	// An email receiver without --smtp fails at start, not at first alert.
	_, err = New(context.Background(), Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
		Templates: []string{seeds + "seed000-root-signin.yaml"}, Params: map[string]string{"EmailAddress": "a@example.com"}})
	if err == nil || !strings.Contains(err.Error(), "--smtp") {
		t.Errorf("email without --smtp: %v", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Error("unexpected")
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := writeFileErr(path, s); err != nil {
		t.Fatal(err)
	}
}

func writeFileErr(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

// Reminders: an alert nobody acknowledges is sent again every remind_every,
// at most remind_max times; acknowledging it stops them. Time is a fake
// clock, moved by the test.
func TestRemindersUntilAck(t *testing.T) {
	t.Parallel()
	type msg struct {
		AlertID  string `json:"alert_id"`
		EventID  string `json:"event_id"`
		Reminder int    `json:"reminder"`
	}
	got := make(chan msg, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m msg
		json.NewDecoder(r.Body).Decode(&m)
		got <- m
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	writeFile(t, dir+"/c.yaml", `
receivers:
  - name: hook
    webhook:
      url: "`+hook.URL+`"
      template: '{"alert_id": "{{.alert_id}}", "event_id": "{{.event_id}}", "reminder": {{.reminder}}}'
    remind_every: 10m
    remind_max: 2
routes:
  - rules: [root-console-signin]
    receivers: [hook]
`)
	fake := clock.NewFake(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	a := start(t, Options{ConfigFiles: []string{dir + "/c.yaml"}, Clock: fake})
	if code, body := post(t, a, envelope(rootLogin("rem-1")), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	first := wait(t, got, "the first notification")
	if first.Reminder != 0 || first.EventID != "rem-1" {
		t.Fatalf("first: %+v", first)
	}
	// Move time only once the outbox has recorded each delivery: moving it
	// while a delivery is in flight would expire its lease and send it
	// twice (at-least-once, but not what this test is about).
	waitDelivered(t, a, first.AlertID, 1)
	for n := 1; n <= 2; n++ {
		advanceUntil(t, fake, got, 10*time.Minute, func(m msg) bool { return m.Reminder == n })
		waitDelivered(t, a, first.AlertID, n+1)
	}
	// remind_max reached: no third reminder however long we wait.
	fake.Advance(time.Hour)
	select {
	case m := <-got:
		t.Fatalf("unexpected notification after remind_max: %+v", m)
	case <-time.After(200 * time.Millisecond):
	}

	// A second alert, acknowledged after its first notification: no reminder.
	if code, body := post(t, a, envelope(rootLogin("rem-2")), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	second := wait(t, got, "the second alert's notification")
	waitDelivered(t, a, second.AlertID, 1)
	if err := a.Store().Ack(context.Background(), second.AlertID, "alice"); err != nil {
		t.Fatal(err)
	}
	fake.Advance(time.Hour)
	select {
	case m := <-got:
		t.Fatalf("reminder after ack: %+v", m)
	case <-time.After(200 * time.Millisecond):
	}
}

// waitDelivered waits until n of the alert's deliveries are done.
func waitDelivered(t *testing.T, a *App, alertID string, n int) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		row, err := a.Store().Alert(context.Background(), alertID)
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, d := range row.Deliveries {
			if d.State == store.DeliveryDone {
				done++
			}
		}
		if done >= n {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling the outbox's progress
	}
	t.Fatalf("alert %s: fewer than %d deliveries done", alertID, n)
}

// advanceUntil moves the fake clock by step, then keeps nudging it a second
// at a time (timers may be re-armed by the goroutines it wakes) until a
// notification satisfying ok arrives.
func advanceUntil[T any](t *testing.T, fake *clock.Fake, c <-chan T, step time.Duration, ok func(T) bool) {
	t.Helper()
	fake.Advance(step)
	for i := 0; i < 2000; i++ {
		select {
		case v := <-c:
			if ok(v) {
				return
			}
			t.Fatalf("unexpected notification %+v", v)
		case <-time.After(10 * time.Millisecond):
			fake.Advance(time.Second)
		}
	}
	t.Fatal("no notification")
}

// loginAt is an IAM user's console sign-in at t.
func loginAt(id string, t time.Time) string {
	rec := strings.Replace(rootLogin(id), `"type":"Root"`, `"type":"IAMUser","userName":"alice","arn":"arn:aws:iam::111122223333:user/alice"`, 1)
	return strings.Replace(rec, `"eventTime":"2024-03-01T10:00:00Z"`, `"eventTime":"`+t.UTC().Format(time.RFC3339)+`"`, 1)
}

// Seed 002, unchanged: ConsoleLogin metric filter -> 10 s alarm -> SNS
// email, with EventBridge Scheduler switching the alarm's actions off in
// business hours (09:00-18:00 JST on weekdays) and on again after. The
// alarm mail tells who signed in, from where.
func TestSeed002ConsoleLoginAlarm(t *testing.T) {
	t.Parallel()
	a, fake, msgs, jst := startSeed002(t)
	if code, body := post(t, a, loginAt("login-1", fake.Now()), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	b := mailBody(t, advanceUntilMail(t, fake, msgs))
	for _, want := range []string{`"AlarmName":"ConsoleLogin"`, `"NewStateValue":"ALARM"`, `"principal":"alice"`, `"sourceIPAddress":"198.51.100.7"`, "login-1"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("alarm mail lacks %s:\n%s", want, b)
		}
	}
	// Back to OK (notBreaching), with no OK action: no mail. (Move time on
	// only once the mail's delivery is recorded, or its lease would end
	// and it would be sent again: at-least-once.)
	waitAllDelivered(t, a)
	fake.Advance(10 * time.Minute)
	waitAlarm(t, a, fake, "ConsoleLogin", "OK")

	// 10:00 JST: the 09:00 schedule has disabled the actions. A sign-in
	// still moves the alarm to ALARM, but nobody is mailed.
	fake.Set(time.Date(2026, 11, 23, 10, 0, 0, 0, jst))
	waitActions(t, a, fake, "ConsoleLogin", false)
	waitAlarm(t, a, fake, "ConsoleLogin", "OK")
	if code, body := post(t, a, loginAt("login-2", fake.Now()), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	waitAlarm(t, a, fake, "ConsoleLogin", "ALARM")
	select {
	case raw := <-msgs:
		t.Fatalf("mail during business hours:\n%s", raw)
	case <-time.After(300 * time.Millisecond):
	}

	// 19:00 JST: actions on again; the next sign-in mails.
	fake.Set(time.Date(2026, 11, 23, 19, 0, 0, 0, jst))
	waitActions(t, a, fake, "ConsoleLogin", true)
	waitAlarm(t, a, fake, "ConsoleLogin", "OK")
	if code, body := post(t, a, loginAt("login-3", fake.Now()), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	if b := mailBody(t, advanceUntilMail(t, fake, msgs)); !bytes.Contains(b, []byte("login-3")) {
		t.Errorf("evening alarm mail lacks the event:\n%s", b)
	}
}

// startSeed002 serves seed 002 unchanged, mailing a real SMTP server on
// loopback (its messages come on the channel), on a fake clock at Monday
// 07:00 in Tokyo, before business hours.
func startSeed002(t *testing.T) (*App, *clock.Fake, <-chan []byte, *time.Location) {
	t.Helper()
	smtpURL, msgs := startSMTP(t)
	jst, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	fake := clock.NewFake(time.Date(2026, 11, 23, 7, 0, 0, 0, jst))
	a := start(t, Options{
		Templates: []string{seeds + "seed002-console-login-alarm.yaml"},
		Params:    map[string]string{"EmailAddress": "sec@example.com"},
		SMTP:      smtpURL,
		MailFrom:  "trailwatch@example.com",
		Clock:     fake,
	})
	return a, fake, msgs, jst
}

// mailBody is a single-part message's decoded body.
func mailBody(t *testing.T, raw []byte) []byte {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// advanceUntilMail moves the fake clock 10 s at a time until a mail comes.
func advanceUntilMail(t *testing.T, fake *clock.Fake, msgs <-chan []byte) []byte {
	t.Helper()
	for i := 0; i < 300; i++ {
		fake.Advance(10 * time.Second)
		select {
		case raw := <-msgs:
			return raw
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("no mail")
	return nil
}

// waitAllDelivered waits until no delivery of any alert is still queued.
func waitAllDelivered(t *testing.T, a *App) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		rows, err := a.Store().Alerts(context.Background(), store.AlertFilter{})
		if err != nil {
			t.Fatal(err)
		}
		busy := false
		for _, r := range rows {
			for _, d := range r.Deliveries {
				if d.State == store.DeliveryPending || d.State == store.DeliveryRunning {
					busy = true
				}
			}
		}
		if !busy {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling the outbox's progress
	}
	t.Fatal("deliveries still queued")
}

// waitActions waits until the alarm's actions are enabled or disabled.
func waitActions(t *testing.T, a *App, fake *clock.Fake, name string, want bool) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if a.AlarmActionsEnabled(name) == want {
			return
		}
		fake.Advance(time.Second)
		time.Sleep(10 * time.Millisecond) // polling the alarm loop's progress
	}
	t.Fatalf("alarm %s: actions enabled is not %v", name, want)
}

// waitAlarm nudges the fake clock until the alarm is in state want.
func waitAlarm(t *testing.T, a *App, fake *clock.Fake, name, want string) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if string(a.AlarmStates()[name]) == want {
			return
		}
		fake.Advance(10 * time.Second)
		time.Sleep(10 * time.Millisecond) // polling the alarm loop's progress
	}
	t.Fatalf("alarm %s is %s, want %s", name, a.AlarmStates()[name], want)
}

// Seed 004, unchanged: the CIS IAM policy change metric filter (16 API
// calls) -> alarm (Maximum > 0 over 5 minutes, missing data not breaching)
// -> SNS email naming the event behind it.
func TestSeed004IAMPolicyAlarm(t *testing.T) {
	t.Parallel()
	smtpURL, msgs := startSMTP(t)
	fake := clock.NewFake(time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC))
	a := start(t, Options{
		Templates: []string{seeds + "seed004-iam-policy-alarm.yaml"},
		Params:    map[string]string{"EmailAddress": "sec@example.com"},
		SMTP:      smtpURL,
		MailFrom:  "trailwatch@example.com",
		Clock:     fake,
	})
	del := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"mallory","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333"},` +
		`"eventTime":"` + fake.Now().Format(time.RFC3339) + `","eventSource":"iam.amazonaws.com","eventName":"DeletePolicy","awsRegion":"us-east-1",` +
		`"sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.15","requestParameters":{"policyArn":"arn:aws:iam::111122223333:policy/guard"},"responseElements":null,` +
		`"eventID":"del-1","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
	// A read-only call first: it matches no filter; the policy deletion does.
	list := strings.NewReplacer(`"DeletePolicy"`, `"ListPolicies"`, `"del-1"`, `"list-1"`).Replace(del)
	if code, body := post(t, a, `{"Records":[`+list+`,`+del+`]}`, nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	b := mailBody(t, advanceUntilMail(t, fake, msgs))
	for _, want := range []string{`"NewStateValue":"ALARM"`, `"eventName":"DeletePolicy"`, `"principal":"mallory"`, `"sourceIPAddress":"203.0.113.9"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("alarm mail lacks %s:\n%s", want, b)
		}
	}
	if bytes.Contains(b, []byte("list-1")) {
		t.Errorf("the read-only call is named as behind the alarm:\n%s", b)
	}
}

// A route's mute window (business hours) holds its alerts and sends them
// when the window closes.
func TestMuteWindowDefers(t *testing.T) {
	t.Parallel()
	got := make(chan string, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			EventID string `json:"event_id"`
		}
		json.NewDecoder(r.Body).Decode(&m)
		got <- m.EventID
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	writeFile(t, dir+"/c.yaml", `
receivers:
  - name: hook
    webhook: {url: "`+hook.URL+`"}
routes:
  - name: office
    rules: [root-console-signin]
    receivers: [hook]
    mute_window: {days: MON-FRI, from: "09:00", to: "18:00", time_zone: Asia/Tokyo}
`)
	jst, _ := time.LoadLocation("Asia/Tokyo")
	fake := clock.NewFake(time.Date(2026, 11, 23, 17, 0, 0, 0, jst)) // Monday 17:00, inside
	a := start(t, Options{ConfigFiles: []string{dir + "/c.yaml"}, Clock: fake})
	if code, body := post(t, a, envelope(rootLogin("mw-1")), nil); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	select {
	case id := <-got:
		t.Fatalf("sent inside the mute window: %s", id)
	case <-time.After(300 * time.Millisecond):
	}
	fake.Set(time.Date(2026, 11, 23, 18, 0, 1, 0, jst))
	advanceUntil(t, fake, got, time.Second, func(id string) bool { return id == "mw-1" })
}
