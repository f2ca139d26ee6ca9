package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// token asks srv's token endpoint for a token.
func token(t *testing.T, method, u string, body string, hdr map[string]string) (int, string) {
	t.Helper()
	code, _, resp := do(t, method, u, strings.NewReader(body), hdr)
	if code != http.StatusOK {
		return code, resp
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(resp), &tr); err != nil {
		t.Fatal(err)
	}
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.AccessToken == "" {
		t.Fatalf("token response %s", resp)
	}
	return code, tr.AccessToken
}

func basicHeader(u, p string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(u, p)
	return r.Header.Get("Authorization")
}

func TestOAuthClientCredentials(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: testNow}
	clients := map[string]string{"eventbridge": "client-secret"}
	srv, sink := newServer(t, Options{OAuthClients: clients, Now: clock.Now})
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	// As EventBridge: Basic client credentials, grant_type in the body.
	code, tok := token(t, http.MethodPost, srv.URL+"/oauth/token", "grant_type=client_credentials",
		map[string]string{"Content-Type": form["Content-Type"], "Authorization": basicHeader("eventbridge", "client-secret")})
	if code != http.StatusOK {
		t.Fatalf("token: status %d; %s", code, tok)
	}
	bearerHdr := map[string]string{"Authorization": "Bearer " + tok}
	if code, _, resp := post(t, srv.URL+"/events", ebEvent("o1"), bearerHdr); code != http.StatusOK {
		t.Fatalf("events with token: status %d; %s", code, resp)
	}

	// Parameters in the query (GET) or the form body.
	q := url.Values{"client_id": {"eventbridge"}, "client_secret": {"client-secret"}}.Encode()
	if code, resp := token(t, http.MethodGet, srv.URL+"/oauth/token?"+q, "", nil); code != http.StatusOK {
		t.Errorf("GET token: status %d; %s", code, resp)
	}
	if code, resp := token(t, http.MethodPut, srv.URL+"/oauth/token", q+"&grant_type=client_credentials", form); code != http.StatusOK {
		t.Errorf("PUT token: status %d; %s", code, resp)
	}

	// Refusals.
	for name, c := range map[string]struct {
		method, body string
		hdr          map[string]string
		want         int
	}{
		"wrong secret":     {"POST", "grant_type=client_credentials", map[string]string{"Content-Type": form["Content-Type"], "Authorization": basicHeader("eventbridge", "nope")}, 401},
		"unknown client":   {"POST", "client_id=x&client_secret=client-secret", form, 401},
		"no credentials":   {"POST", "", nil, 401},
		"other grant type": {"POST", "grant_type=password&" + q, form, 400},
		"delete":           {"DELETE", "", nil, 405},
	} {
		if code, _, _ := do(t, c.method, srv.URL+"/oauth/token", strings.NewReader(c.body), c.hdr); code != c.want {
			t.Errorf("%s: status %d, want %d", name, code, c.want)
		}
	}

	// Tokens that do not authenticate.
	other, _ := newServer(t, Options{OAuthClients: map[string]string{"eventbridge": "rotated"}, Now: clock.Now})
	code, otherTok := token(t, http.MethodPost, other.URL+"/oauth/token", "client_id=eventbridge&client_secret=rotated", form)
	if code != http.StatusOK {
		t.Fatalf("other server's token: status %d; %s", code, otherTok)
	}
	for name, bad := range map[string]string{
		"tampered":              tok[:len(tok)-2] + "AA",
		"from a rotated secret": otherTok,
		"not ours":              "abc",
	} {
		if code, h, _ := post(t, srv.URL+"/events", ebEvent("bad"), map[string]string{"Authorization": "Bearer " + bad}); code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s token: status %d, WWW-Authenticate %q; want 401 with a Bearer challenge", name, code, h.Get("WWW-Authenticate"))
		}
	}
	if code, _, _ := post(t, srv.URL+"/events", ebEvent("o2"), nil); code != http.StatusUnauthorized {
		t.Errorf("no token: status %d, want 401", code)
	}

	// Expiry, by the injected clock.
	clock.Add(59 * time.Minute)
	if code, _, _ := post(t, srv.URL+"/events", ebEvent("o3"), bearerHdr); code != http.StatusOK {
		t.Errorf("token after 59 minutes: status %d, want 200", code)
	}
	clock.Add(time.Minute)
	if code, _, _ := post(t, srv.URL+"/events", ebEvent("o4"), bearerHdr); code != http.StatusUnauthorized {
		t.Errorf("token after an hour: status %d, want 401", code)
	}
	got := sink.ids()
	if len(got) != 2 || got[0][0] != "o1" || got[1][0] != "o3" {
		t.Errorf("ingested %v, want [[o1] [o3]]", got)
	}
}
