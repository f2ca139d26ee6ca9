package ui_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
	"github.com/trailwatch/trailwatch/internal/ui"
	"github.com/trailwatch/trailwatch/internal/web"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	st  store.Store
	srv *httptest.Server
	c   *http.Client
	ids map[string]string // event id -> alert id
}

func newFixture(t *testing.T, open bool, token string) *fixture {
	t.Helper()
	return newFixtureWith(t, clock.NewFake(t0), ui.Options{AdminToken: token, Open: open})
}

// newFixtureWith serves a UI made with o (its Store and Now set here) over
// a store holding two alerts.
func newFixtureWith(t *testing.T, clk *clock.Fake, o ui.Options) *fixture {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{Clock: clk, Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, ids: map[string]string{}}
	f.record(t, "ev-root", "root-login", "critical", "111111111111", "root signed in")
	f.record(t, "ev-key", "access-key-created", "medium", "222222222222", "alice created an access key")
	o.Store, o.Now = st, clk.Now
	u, err := ui.New(o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	u.Register(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	jar, _ := cookiejar.New(nil)
	f.c = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return f
}

func (f *fixture) record(t *testing.T, eventID, ruleName, sev, account, summary string) {
	t.Helper()
	ev, _ := json.Marshal(map[string]any{"eventID": eventID, "eventName": "ConsoleLogin", "recipientAccountId": account})
	_, err := f.st.Record(context.Background(), []store.Seen{{EventKey: eventID, EventTime: t0, Hits: []store.Hit{{
		Rule: ruleName, DedupKey: eventID, Threshold: 1,
		Deliveries: []store.Delivery{{Receiver: "oncall-slack", RemindEvery: time.Hour, RemindMax: 3}},
		Alert: alert.Alert{Rule: ruleName, Severity: sev, EventID: eventID, Account: account, Region: "eu-west-1",
			EventName: "ConsoleLogin", Principal: "alice", SourceIP: "203.0.113.7", Summary: summary, Event: ev},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.st.Alerts(context.Background(), store.AlertFilter{Rule: ruleName})
	if err != nil || len(rows) != 1 {
		t.Fatalf("alerts of %s: %v %v", ruleName, rows, err)
	}
	f.ids[eventID] = rows[0].ID
}

func (f *fixture) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := f.c.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f *fixture) post(t *testing.T, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := f.c.PostForm(f.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token in %s", body)
	}
	return m[1]
}

func TestListAndFilters(t *testing.T) {
	f := newFixture(t, true, "")
	resp, body := f.get(t, "/")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{"root signed in", "alice created an access key", "/alerts/" + f.ids["ev-root"], `<p class="note" id="count" data-live>2 alert(s).</p>`} {
		if !strings.Contains(body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	// Newest first: recorded second, listed first.
	if strings.Index(body, "alice created") > strings.Index(body, "root signed in") {
		t.Errorf("list not newest first")
	}
	for _, c := range []struct{ q, in, out string }{
		{"rule=root-login", "root signed in", "alice created"},
		{"severity=medium", "alice created", "root signed in"},
		{"account=111111111111", "root signed in", "alice created"},
		{"state=acked", "No alerts.", "root signed in"},
		{"state=new&rule=access-key-created", "alice created", "root signed in"},
	} {
		_, body := f.get(t, "/?"+c.q)
		if !strings.Contains(body, c.in) || strings.Contains(body, c.out) {
			t.Errorf("?%s: want %q and not %q in the list", c.q, c.in, c.out)
		}
	}
	// The form keeps the filter chosen.
	_, body = f.get(t, "/?severity=medium&state=new")
	for _, want := range []string{"<option selected>medium</option>", "<option selected>new</option>", "<option>critical</option>"} {
		if !strings.Contains(body, want) {
			t.Errorf("filter form lacks %s", want)
		}
	}
	if resp, _ := f.get(t, "/?state=bogus"); resp.StatusCode != 400 {
		t.Errorf("?state=bogus: %d", resp.StatusCode)
	}
}

func TestDetailAndAck(t *testing.T) {
	f := newFixture(t, true, "")
	id := f.ids["ev-root"]
	resp, body := f.get(t, "/alerts/"+id)
	if resp.StatusCode != 200 {
		t.Fatalf("detail: %d", resp.StatusCode)
	}
	for _, want := range []string{"root signed in", "alice", "203.0.113.7", "111111111111", "eu-west-1", "ConsoleLogin", "oncall-slack", "pending", `&#34;eventID&#34;: &#34;ev-root&#34;`, "Acknowledge", `<a id="rule" href="/rules/root-login">root-login</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	tok := csrfOf(t, body)
	if resp, _ := f.post(t, "/ui/alerts/"+id+"/ack", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("ack without token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := f.post(t, "/ui/alerts/"+id+"/ack", url.Values{"csrf": {"00" + tok[2:]}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("ack with a wrong token: %d, want 403", resp.StatusCode)
	}
	if a, _ := f.st.Alert(t.Context(), id); a.State == store.StateAcked {
		t.Fatal("acked without a token")
	}
	resp, _ = f.post(t, "/ui/alerts/"+id+"/ack", url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("ack: %d", resp.StatusCode)
	}
	a, err := f.st.Alert(t.Context(), id)
	if err != nil || a.State != store.StateAcked || a.AckedBy != "web ui" {
		t.Fatalf("after ack: %+v %v", a.State, err)
	}
	_, body = f.get(t, "/alerts/"+id)
	if !strings.Contains(body, "acked by web ui") || strings.Contains(body, `id="ack"`) {
		t.Errorf("detail after ack does not show it")
	}
	if resp, _ := f.get(t, "/alerts/nosuchalert"); resp.StatusCode != 404 {
		t.Errorf("unknown alert: %d", resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, true, "")
	for _, p := range []string{"/", "/alerts/" + f.ids["ev-root"], "/rules", "/playground", "/ui/login", "/ui/static/app.js"} {
		resp, body := f.get(t, p)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", p, h)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("%s: inline script", p)
		}
	}
}

func TestLoginRequired(t *testing.T) {
	f := newFixture(t, false, "s3cret")
	resp, _ := f.get(t, "/")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/login") {
		t.Fatalf("GET / without session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := f.post(t, "/ui/alerts/"+f.ids["ev-root"]+"/ack", url.Values{}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("ack without session: %d", resp.StatusCode)
	}
	_, body := f.get(t, "/ui/login?next=/rules")
	tok := csrfOf(t, body)
	if resp, _ := f.post(t, "/ui/login", url.Values{"csrf": {tok}, "token": {"wrong"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
	if resp, _ := f.post(t, "/ui/login", url.Values{"token": {"s3cret"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without csrf: %d", resp.StatusCode)
	}
	resp, _ = f.post(t, "/ui/login", url.Values{"csrf": {tok}, "token": {"s3cret"}, "next": {"//evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == ui.SessionCookie {
			c = k
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie %+v", c)
	}
	resp, body = f.get(t, "/")
	if resp.StatusCode != 200 || !strings.Contains(body, "root signed in") {
		t.Fatalf("GET / with session: %d", resp.StatusCode)
	}
	_, body = f.get(t, "/alerts/"+f.ids["ev-root"])
	resp, _ = f.post(t, "/ui/alerts/"+f.ids["ev-root"]+"/ack", url.Values{"csrf": {csrfOf(t, body)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("ack with session: %d", resp.StatusCode)
	}
}

func TestPlayground(t *testing.T) {
	f := newFixture(t, true, "")
	pat := `{"detail":{"eventName":["ConsoleLogin"]}}`
	for _, c := range []struct {
		ev, want string
	}{
		{`{"detail":{"eventName":"ConsoleLogin"}}`, "matches: true"},
		{`{"detail":{"eventName":"CreateUser"}}`, "matches: false"},
	} {
		_, body := f.get(t, "/playground?"+url.Values{"pattern": {pat}, "event": {c.ev}}.Encode())
		if !strings.Contains(body, c.want) {
			t.Errorf("event %s: want %q in %s", c.ev, c.want, body)
		}
	}
	_, body := f.get(t, "/playground?"+url.Values{"pattern": {`{"detail":`}, "event": {`{}`}}.Encode())
	if !strings.Contains(body, "pattern: ") {
		t.Errorf("bad pattern not reported")
	}
	_, body = f.get(t, "/playground?"+url.Values{"filter": {"[ip, user, status=404]"}, "message": {"10.0.0.1 bob 404"}}.Encode())
	if !strings.Contains(body, "matches: true") || !strings.Contains(body, "10.0.0.1") || !strings.Contains(body, "$ip") {
		t.Errorf("filter pattern: %s", body)
	}
	_, body = f.get(t, "/playground?"+url.Values{"filter": {"[ip, user, status=404]"}, "message": {"10.0.0.1 bob 200"}}.Encode())
	if !strings.Contains(body, "matches: false") {
		t.Errorf("filter pattern mismatch: %s", body)
	}
}

func TestMountedBehindAPI(t *testing.T) {
	f := newFixture(t, true, "")
	u, err := ui.New(ui.Options{Store: f.st, Open: true})
	if err != nil {
		t.Fatal(err)
	}
	w, err := web.New(web.Options{Sink: web.SinkFunc(func(context.Context, []*event.Event) (web.IngestResult, error) {
		return web.IngestResult{}, nil
	}), AdminToken: "adm", UI: u.Handler()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	defer srv.Close()
	for path, want := range map[string]int{"/healthz": 200, "/": 200, "/rules": 200, "/alerts/" + f.ids["ev-root"]: 200} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	// The API's acknowledgement keeps its own authentication.
	resp, err := http.Post(srv.URL+"/alerts/"+f.ids["ev-root"]+"/ack", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API ack without token: %d", resp.StatusCode)
	}
}
