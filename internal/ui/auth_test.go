package ui_test

import (
	"bytes"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
	"github.com/trailwatch/trailwatch/internal/ui"
)

func hash(t *testing.T, pw string) []byte {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var sessionKey = bytes.Repeat([]byte("k"), 32)

// login posts the login form and reports the response's status.
func (f *fixture) login(t *testing.T, form url.Values) int {
	t.Helper()
	_, body := f.get(t, "/ui/login")
	form.Set("csrf", csrfOf(t, body))
	resp, _ := f.post(t, "/ui/login", form)
	return resp.StatusCode
}

func (f *fixture) sessionCookie(t *testing.T) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(f.srv.URL)
	for _, c := range f.c.Jar.Cookies(u) {
		if c.Name == ui.SessionCookie {
			return c
		}
	}
	return nil
}

func TestPasswordLogin(t *testing.T) {
	clk := clock.NewFake(t0)
	f := newFixtureWith(t, clk, ui.Options{Users: map[string][]byte{"alice": hash(t, "correct horse")}, AdminToken: "tok", SessionKey: sessionKey})

	_, body := f.get(t, "/ui/login")
	for _, want := range []string{`name="user"`, `name="password"`, "the admin token"} {
		if !strings.Contains(body, want) {
			t.Errorf("login form lacks %s", want)
		}
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want int
	}{
		{"wrong password", url.Values{"user": {"alice"}, "password": {"battery staple"}}, http.StatusUnauthorized},
		{"unknown user", url.Values{"user": {"mallory"}, "password": {"correct horse"}}, http.StatusUnauthorized},
		{"password as token", url.Values{"password": {"correct horse"}}, http.StatusUnauthorized},
		{"token as alice's password", url.Values{"user": {"alice"}, "password": {"tok"}}, http.StatusUnauthorized},
		{"empty", url.Values{}, http.StatusUnauthorized},
	} {
		if got := f.login(t, tc.form); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
		if f.sessionCookie(t) != nil {
			t.Fatalf("%s: a session was opened", tc.name)
		}
	}
	if got := f.login(t, url.Values{"user": {"alice"}, "password": {"correct horse"}}); got != http.StatusSeeOther {
		t.Fatalf("alice's login: %d", got)
	}
	// The acknowledgement names who clicked.
	id := f.ids["ev-root"]
	_, body = f.get(t, "/alerts/"+id)
	if resp, _ := f.post(t, "/ui/alerts/"+id+"/ack", url.Values{"csrf": {csrfOf(t, body)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("ack: %d", resp.StatusCode)
	}
	a, err := f.st.Alert(t.Context(), id)
	if err != nil || a.State != store.StateAcked || a.AckedBy != "alice (web ui)" {
		t.Fatalf("acked: %v %q %v", a.State, a.AckedBy, err)
	}
	// Logging out ends the session in this browser.
	_, body = f.get(t, "/ui/logout")
	if !strings.Contains(body, `id="user">alice<`) {
		t.Errorf("logout page does not name alice")
	}
	if resp, _ := f.post(t, "/ui/logout", url.Values{"csrf": {csrfOf(t, body)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := f.get(t, "/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout: %d, want a redirect to the login", resp.StatusCode)
	}
	// The admin token logs in as admin.
	if got := f.login(t, url.Values{"password": {"tok"}}); got != http.StatusSeeOther {
		t.Fatalf("token login: %d", got)
	}
	id = f.ids["ev-key"]
	_, body = f.get(t, "/alerts/"+id)
	f.post(t, "/ui/alerts/"+id+"/ack", url.Values{"csrf": {csrfOf(t, body)}})
	if a, _ := f.st.Alert(t.Context(), id); a.AckedBy != "admin (web ui)" {
		t.Fatalf("acked by %q", a.AckedBy)
	}
}

// TestSessionLifetime: a session survives a restart with the same key (and
// is refused under another), lasts SessionTTL unused, is renewed by use in
// its second half, and ends when the user's password changes.
func TestSessionLifetime(t *testing.T) {
	clk := clock.NewFake(t0)
	users := map[string][]byte{"alice": hash(t, "pw1")}
	f := newFixtureWith(t, clk, ui.Options{Users: users, SessionKey: sessionKey})
	if got := f.login(t, url.Values{"user": {"alice"}, "password": {"pw1"}}); got != http.StatusSeeOther {
		t.Fatalf("login: %d", got)
	}
	cookie := f.sessionCookie(t)
	if cookie == nil {
		t.Fatal("no session")
	}
	// Another process (or node) with the same key and users: still logged in.
	restarted := newFixtureWith(t, clk, ui.Options{Users: users, SessionKey: sessionKey})
	other := newFixtureWith(t, clk, ui.Options{Users: users, SessionKey: bytes.Repeat([]byte("x"), 32)})
	changed := newFixtureWith(t, clk, ui.Options{Users: map[string][]byte{"alice": hash(t, "pw2")}, SessionKey: sessionKey})
	for _, tc := range []struct {
		name string
		f    *fixture
		want int
	}{
		{"restarted", restarted, http.StatusOK},
		{"another key", other, http.StatusSeeOther},
		{"password changed", changed, http.StatusSeeOther},
	} {
		if got := getWith(t, tc.f, cookie, "/"); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}

	// Unused for less than the TTL: still valid; used in the second half:
	// renewed for another TTL from then.
	clk.Advance(ui.SessionTTL - time.Minute)
	resp, _ := f.get(t, "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("before expiry: %d", resp.StatusCode)
	}
	renewed := f.sessionCookie(t)
	if renewed.Value == cookie.Value {
		t.Fatal("not renewed in the second half")
	}
	clk.Advance(ui.SessionTTL - time.Minute)
	if resp, _ := f.get(t, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("renewed session: %d", resp.StatusCode)
	}
	// The first cookie has expired by now.
	if got := getWith(t, restarted, cookie, "/"); got != http.StatusSeeOther {
		t.Fatalf("expired session: %d", got)
	}
	// Unused for the whole TTL: the login again.
	clk.Advance(ui.SessionTTL)
	if resp, _ := f.get(t, "/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the TTL: %d", resp.StatusCode)
	}
}

// getWith GETs path from f's server with only the given cookie.
func getWith(t *testing.T, f *fixture, c *http.Cookie, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestBadUsers(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for name, o := range map[string]ui.Options{
		"not bcrypt":  {Users: map[string][]byte{"alice": []byte("{SHA}abc")}},
		"colon":       {Users: map[string][]byte{"a:b": hash(t, "x")}},
		"empty name":  {Users: map[string][]byte{"": hash(t, "x")}},
		"short key":   {SessionKey: []byte("short")},
		"admin taken": {AdminToken: "t", Users: map[string][]byte{"admin": hash(t, "x")}},
	} {
		o.Store = st
		if _, err := ui.New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSecureCookie: behind a TLS-terminating proxy (SecureCookie), the
// session cookie is Secure though the request came over plain HTTP.
func TestSecureCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		f := newFixtureWith(t, clock.NewFake(t0), ui.Options{AdminToken: "tok", SecureCookie: secure})
		_, body := f.get(t, "/ui/login")
		resp, _ := f.post(t, "/ui/login", url.Values{"csrf": {csrfOf(t, body)}, "password": {"tok"}})
		var c *http.Cookie
		for _, k := range resp.Cookies() {
			if k.Name == ui.SessionCookie {
				c = k
			}
		}
		if c == nil || c.Secure != secure {
			t.Errorf("SecureCookie %v: cookie %+v", secure, c)
		}
	}
}

// TestLoginThrottle: after MaxFailedLogins failures from one address, its
// logins are refused, the right password too, until the window has moved
// past the oldest failure; a success forgets the failures.
func TestLoginThrottle(t *testing.T) {
	clk := clock.NewFake(t0)
	f := newFixtureWith(t, clk, ui.Options{Users: map[string][]byte{"alice": hash(t, "pw")}})
	good := url.Values{"user": {"alice"}, "password": {"pw"}}
	bad := url.Values{"user": {"alice"}, "password": {"guess"}}
	// Nine failures, then a success: forgotten.
	for range ui.MaxFailedLogins - 1 {
		if got := f.login(t, bad); got != http.StatusUnauthorized {
			t.Fatalf("bad login: %d", got)
		}
	}
	if got := f.login(t, good); got != http.StatusSeeOther {
		t.Fatalf("good login after %d failures: %d", ui.MaxFailedLogins-1, got)
	}
	for i := range ui.MaxFailedLogins {
		clk.Advance(time.Second)
		if got := f.login(t, bad); got != http.StatusUnauthorized {
			t.Fatalf("bad login %d: %d", i, got)
		}
	}
	_, body := f.get(t, "/ui/login")
	resp, page := f.post(t, "/ui/login", url.Values{"csrf": {csrfOf(t, body)}, "user": {"alice"}, "password": {"pw"}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(page, "too many failed logins") {
		t.Fatalf("throttled login: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The first of the ten failures leaves the window: one try is allowed.
	clk.Advance(ui.FailedLoginWindow - ui.MaxFailedLogins*time.Second + time.Second)
	if got := f.login(t, good); got != http.StatusSeeOther {
		t.Fatalf("login once the window moved: %d", got)
	}
}
