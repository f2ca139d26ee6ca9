package apidest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/notifytest"
)

type A = notifytest.Answer

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func opts(clk *fakeClock) notify.Options {
	return notify.Options{HTTPClient: &http.Client{Timeout: 10 * time.Second}, Clock: clk.Now}
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2024, 3, 1, 10, 0, 6, 0, time.UTC)} }

// The seed-001 transformer's output for the sample event, as the route
// package renders it into Body.
const seed001Body = `{
  "blocks": [
    {
      "type": "section",
      "fields": [
        {"type": "mrkdwn", "text": "*eventName:* ConsoleLogin"},
        {"type": "mrkdwn", "text": "*eventID:* e7c3a6b1-1111-4222-8333-944445555666"},
        {"type": "mrkdwn", "text": "*account:* 111122223333"},
        {"type": "mrkdwn", "text": "*eventTime:* 2024-03-01T10:00:00Z"},
        {"type": "mrkdwn", "text": "*userIdentityType:* Root"},
        {"type": "mrkdwn", "text": "*userIdentityArn:* arn:aws:iam::111122223333:root"},
        {"type": "mrkdwn", "text": "*LoginTo:* https://console.aws.amazon.com/"},
        {"type": "mrkdwn", "text": "*SwitchFrom:* "},
        {"type": "mrkdwn", "text": "*SwitchTo:* "}
      ]
    }
  ]
}
`

// Seed 001: an API destination to a Slack incoming webhook with an
// API_KEY connection named "dummy", as the template defines it.
func TestSeed001SlackThroughAPIDestination(t *testing.T) {
	t.Parallel()
	slack := notifytest.NewServer(t, A{Code: 200, Body: "ok"})
	d, err := New(&config.APIDestinationConfig{
		Name:               "notify-slack-signin-api-destination",
		InvocationEndpoint: config.Secret(slack.URL + "/services/T0/B0/XXXX"),
		HTTPMethod:         "POST",
		Connection: config.Connection{
			Name: "notify-slack-signin-connection", AuthorizationType: "API_KEY",
			APIKeyName: "dummy", APIKeyValue: "dummy",
		},
	}, opts(newClock()))
	if err != nil {
		t.Fatal(err)
	}
	nt := notifytest.Notification()
	nt.Body = []byte(seed001Body)
	if retry, err := d.Notify(context.Background(), nt); retry || err != nil {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	r := slack.Requests()[0]
	if r.Method != "POST" || r.URL != "/services/T0/B0/XXXX" || string(r.Body) != seed001Body {
		t.Errorf("%s %s\n%s", r.Method, r.URL, r.Body)
	}
	for k, want := range map[string]string{
		"Dummy":           "dummy",
		"User-Agent":      "Amazon/EventBridge/ApiDestinations",
		"Content-Type":    "application/json; charset=utf-8",
		"Range":           "bytes=0-1048575",
		"Accept-Encoding": "gzip,deflate",
		"Connection":      "close",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
}

func TestEventJSONWithoutTransformer(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t)
	d, err := New(&config.APIDestinationConfig{
		InvocationEndpoint: config.Secret(srv.URL + "/x"),
		HTTPMethod:         "PUT",
		Connection:         config.Connection{AuthorizationType: "BASIC", Username: "eb", Password: "pw"},
	}, opts(newClock()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Notify(context.Background(), notifytest.Notification()); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Method != "PUT" || string(r.Body) != notifytest.EventJSON {
		t.Errorf("%s %s", r.Method, r.Body)
	}
	if r.Header.Get("Authorization") != "Basic ZWI6cHc=" {
		t.Errorf("Authorization %q", r.Header.Get("Authorization"))
	}
}

func TestParametersConnectionWins(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t)
	d, err := New(&config.APIDestinationConfig{
		InvocationEndpoint: config.Secret(srv.URL + "/orgs/*/hooks/*?fixed=1"),
		HTTPMethod:         "POST",
		HTTPParameters: &config.HTTPParameters{
			PathParameterValues:   []string{"acme corp", "42"},
			HeaderParameters:      map[string]config.Secret{"X-Env": "target", "X-Target": "t"},
			QueryStringParameters: map[string]config.Secret{"env": "target", "t": "1"},
		},
		Connection: config.Connection{
			AuthorizationType: "API_KEY", APIKeyName: "x-api-key", APIKeyValue: "k",
			InvocationHTTPParameters: &config.HTTPParameters{
				HeaderParameters:      map[string]config.Secret{"X-Env": "connection"},
				QueryStringParameters: map[string]config.Secret{"env": "connection"},
				BodyParameters:        map[string]config.Secret{"source": "trailwatch"},
			},
		},
	}, opts(newClock()))
	if err != nil {
		t.Fatal(err)
	}
	nt := notifytest.Notification()
	nt.Body = []byte(`{"a":1}`)
	if _, err := d.Notify(context.Background(), nt); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	u, _ := url.Parse(r.URL)
	if u.EscapedPath() != "/orgs/acme%20corp/hooks/42" {
		t.Errorf("path %q", u.EscapedPath())
	}
	if q := u.Query(); q.Get("env") != "connection" || q.Get("t") != "1" || q.Get("fixed") != "1" {
		t.Errorf("query %v", q)
	}
	if r.Header.Get("X-Env") != "connection" || r.Header.Get("X-Target") != "t" || r.Header.Get("X-Api-Key") != "k" {
		t.Errorf("headers %v", r.Header)
	}
	if string(r.Body) != `{"a":1,"source":"trailwatch"}` {
		t.Errorf("body %s", r.Body)
	}
}

func TestRetryRules(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t,
		A{Code: 500},
		A{Code: 429, Header: map[string]string{"Retry-After": "3"}},
		A{Code: 503, Header: map[string]string{"Retry-After": "-1"}},
		A{Code: 400, Body: "bad"},
		A{Code: 302, Header: map[string]string{"Location": "/elsewhere"}},
		A{Code: 200},
	)
	d, err := New(&config.APIDestinationConfig{InvocationEndpoint: config.Secret(srv.URL), HTTPMethod: "POST"}, opts(newClock()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, c := range []struct {
		retry bool
		after time.Duration
		hasRA bool
	}{
		{retry: true},
		{retry: true, after: 3 * time.Second, hasRA: true},
		{retry: false, after: -time.Second, hasRA: true},
		{retry: false},
		{retry: false},
	} {
		retry, err := d.Notify(ctx, notifytest.Notification())
		after, hasRA := notify.RetryAfter(err)
		if err == nil || retry != c.retry || after != c.after || hasRA != c.hasRA {
			t.Errorf("answer %d: retry=%v err=%v after=%v,%v; want retry=%v after=%v,%v", i, retry, err, after, hasRA, c.retry, c.after, c.hasRA)
		}
	}
	if retry, err := d.Notify(ctx, notifytest.Notification()); retry || err != nil {
		t.Errorf("200: retry=%v err=%v", retry, err)
	}
	if n := len(srv.Requests()); n != 6 {
		t.Errorf("%d requests, want 6 (a redirect is not followed)", n)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewServer(t)
	clk := newClock()
	d, err := New(&config.APIDestinationConfig{InvocationEndpoint: config.Secret(srv.URL), HTTPMethod: "POST", InvocationRateLimitPerSecond: 2}, opts(clk))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if _, err := d.Notify(ctx, notifytest.Notification()); err != nil {
			t.Fatal(err)
		}
	}
	retry, err := d.Notify(ctx, notifytest.Notification())
	if after, _ := notify.RetryAfter(err); !retry || !errors.Is(err, ErrRateLimited) || after != 500*time.Millisecond {
		t.Fatalf("over the rate: retry=%v err=%v after=%v", retry, err, after)
	}
	clk.Add(500 * time.Millisecond)
	if _, err := d.Notify(ctx, notifytest.Notification()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// oauthServer is an authorization server and an API on 127.0.0.1: it
// hands out tokens t1, t2, ... and the API accepts only the tokens not
// revoked.
type oauthServer struct {
	mu      sync.Mutex
	fetches []*http.Request
	forms   []url.Values
	revoked map[string]bool
	calls   []string // Authorization headers the API saw
}

func (o *oauthServer) handler(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch r.URL.Path {
	case "/token":
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		o.fetches = append(o.fetches, r)
		o.forms = append(o.forms, form)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"t%d","token_type":"Bearer","expires_in":3600}`, len(o.fetches))
	case "/api":
		auth := r.Header.Get("Authorization")
		o.calls = append(o.calls, auth)
		if o.revoked[strings.TrimPrefix(auth, "Bearer ")] {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		http.NotFound(w, r)
	}
}

func TestOAuthFetchCacheRefresh(t *testing.T) {
	t.Parallel()
	o := &oauthServer{revoked: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(o.handler))
	t.Cleanup(srv.Close)
	clk := newClock()
	d, err := New(&config.APIDestinationConfig{
		InvocationEndpoint: config.Secret(srv.URL + "/api"),
		HTTPMethod:         "POST",
		Connection: config.Connection{
			AuthorizationType: "OAUTH_CLIENT_CREDENTIALS",
			OAuth: &config.OAuthParameters{
				AuthorizationEndpoint: srv.URL + "/token",
				HTTPMethod:            "POST",
				ClientID:              "client-1",
				ClientSecret:          "s3cret",
				OAuthHTTPParameters: &config.HTTPParameters{
					BodyParameters:        map[string]config.Secret{"scope": "alerts:write"},
					HeaderParameters:      map[string]config.Secret{"X-Tenant": "acme"},
					QueryStringParameters: map[string]config.Secret{"audience": "api"},
				},
			},
		},
	}, opts(clk))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	notifyOK := func(step string) {
		t.Helper()
		if retry, err := d.Notify(ctx, notifytest.Notification()); retry || err != nil {
			t.Fatalf("%s: retry=%v err=%v", step, retry, err)
		}
	}
	notifyOK("first")  // fetches t1
	notifyOK("cached") // t1 again
	clk.Add(time.Hour - 30*time.Second)
	notifyOK("about to expire") // fetches t2
	o.mu.Lock()
	o.revoked["t2"] = true
	o.mu.Unlock()
	notifyOK("revoked") // 401 with t2, fetches t3, sends again

	o.mu.Lock()
	defer o.mu.Unlock()
	if got, want := strings.Join(o.calls, ","), "Bearer t1,Bearer t1,Bearer t2,Bearer t2,Bearer t3"; got != want {
		t.Errorf("API saw %s\nwant      %s", got, want)
	}
	if len(o.fetches) != 3 {
		t.Fatalf("%d token fetches, want 3", len(o.fetches))
	}
	r := o.fetches[0]
	if id, secret, ok := r.BasicAuth(); !ok || id != "client-1" || secret != "s3cret" {
		t.Errorf("client credentials %q %q %v", id, secret, ok)
	}
	if r.Method != "POST" || r.Header.Get("X-Tenant") != "acme" || r.URL.Query().Get("audience") != "api" ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("token request %s %s %v", r.Method, r.URL, r.Header)
	}
	if f := o.forms[0]; f.Get("grant_type") != "client_credentials" || f.Get("scope") != "alerts:write" {
		t.Errorf("token form %v", f)
	}
}

func TestOAuthTokenEndpointFailure(t *testing.T) {
	t.Parallel()
	tokens := notifytest.NewServer(t, A{Code: 503}, A{Code: 401, Body: `{"error":"invalid_client"}`})
	api := notifytest.NewServer(t)
	d, err := New(&config.APIDestinationConfig{
		InvocationEndpoint: config.Secret(api.URL),
		Connection: config.Connection{AuthorizationType: "OAUTH_CLIENT_CREDENTIALS", OAuth: &config.OAuthParameters{
			AuthorizationEndpoint: tokens.URL, ClientID: "c", ClientSecret: "TOPSECRET",
		}},
	}, opts(newClock()))
	if err != nil {
		t.Fatal(err)
	}
	retry, err := d.Notify(context.Background(), notifytest.Notification())
	if !retry || !errors.Is(err, ErrToken) {
		t.Errorf("503 from the token endpoint: retry=%v err=%v", retry, err)
	}
	retry, err = d.Notify(context.Background(), notifytest.Notification())
	if retry || !errors.Is(err, ErrToken) || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("invalid_client: retry=%v err=%v", retry, err)
	}
	if len(api.Requests()) != 0 {
		t.Error("invoked without a token")
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cfg  config.APIDestinationConfig
		want error
	}{
		{config.APIDestinationConfig{InvocationEndpoint: "https://h/x", HTTPMethod: "TRACE"}, ErrMethod},
		{config.APIDestinationConfig{InvocationEndpoint: "h/x"}, ErrEndpoint},
		{config.APIDestinationConfig{InvocationEndpoint: "https://h/*/x"}, ErrPathParams},
		{config.APIDestinationConfig{InvocationEndpoint: "https://h/x", Connection: config.Connection{AuthorizationType: "DIGEST"}}, ErrAuthType},
		{config.APIDestinationConfig{InvocationEndpoint: "https://h/x", Connection: config.Connection{AuthorizationType: "API_KEY", APIKeyName: "k"}}, ErrAuthParams},
		{config.APIDestinationConfig{InvocationEndpoint: "https://h/x", Connection: config.Connection{AuthorizationType: "OAUTH_CLIENT_CREDENTIALS"}}, ErrAuthParams},
	} {
		if _, err := New(&c.cfg, notify.Options{}); !errors.Is(err, c.want) {
			t.Errorf("%+v: err %v, want %v", c.cfg, err, c.want)
		}
	}
}

func TestOAuthConcurrentDeliveriesShareOneFetch(t *testing.T) {
	t.Parallel()
	o := &oauthServer{revoked: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(o.handler))
	t.Cleanup(srv.Close)
	d, err := New(&config.APIDestinationConfig{
		InvocationEndpoint: config.Secret(srv.URL + "/api"),
		Connection: config.Connection{AuthorizationType: "OAUTH_CLIENT_CREDENTIALS", OAuth: &config.OAuthParameters{
			AuthorizationEndpoint: srv.URL + "/token", HTTPMethod: "GET", ClientID: "c", ClientSecret: "s",
		}},
	}, opts(newClock()))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := d.Notify(context.Background(), notifytest.Notification()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.fetches) != 1 || len(o.calls) != 8 {
		t.Fatalf("%d fetches, %d calls; want 1 and 8", len(o.fetches), len(o.calls))
	}
	// GET: the grant type travels in the query string.
	if r := o.fetches[0]; r.Method != "GET" || r.URL.Query().Get("grant_type") != "client_credentials" {
		t.Errorf("token request %s %s", r.Method, r.URL)
	}
}
