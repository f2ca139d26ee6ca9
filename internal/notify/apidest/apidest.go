// Package apidest sends notifications as an EventBridge API destination
// does: the request EventBridge would send, with its connection's
// authorization (API key, Basic, OAuth client credentials) and
// parameters, judged by EventBridge's retry rules.
package apidest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify"
)

// Errors.
var (
	ErrEndpoint    = errors.New("api destination: invocation_endpoint is not an http(s) URL")
	ErrMethod      = errors.New("api destination: http_method must be one of POST, GET, HEAD, OPTIONS, PUT, PATCH, DELETE")
	ErrPathParams  = errors.New("api destination: path_parameter_values do not match the endpoint's * wildcards")
	ErrAuthType    = errors.New("api destination: connection authorization_type must be API_KEY, BASIC or OAUTH_CLIENT_CREDENTIALS")
	ErrAuthParams  = errors.New("api destination: connection authorization parameters missing")
	ErrRateLimited = errors.New("api destination: invocation rate limit reached")
	ErrToken       = errors.New("oauth token")
)

// Timeout is EventBridge's client execution timeout for an invocation.
const Timeout = 5 * time.Second

// refreshBefore is how long before expiry a token is renewed.
const refreshBefore = 60 * time.Second

// Notifier invokes one API destination.
type Notifier struct {
	name       string
	method     string
	endpoint   string
	header     http.Header // target, then connection, header parameters
	bodyParams map[string]string
	auth       config.Connection
	o          notify.Options
	client     *http.Client
	log        *slog.Logger
	timeout    time.Duration
	rate       float64

	mu     sync.Mutex // guards token, expiry
	token  string
	expiry time.Time // zero: no known expiry

	rmu    sync.Mutex // guards bucket, filled
	bucket float64
	filled time.Time
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for cfg.
func New(cfg *config.APIDestinationConfig, o notify.Options) (*Notifier, error) {
	method := strings.ToUpper(cfg.HTTPMethod)
	if method == "" {
		method = http.MethodPost
	}
	switch method {
	case "POST", "GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE":
	default:
		return nil, ErrMethod
	}
	var target config.HTTPParameters
	if cfg.HTTPParameters != nil {
		target = *cfg.HTTPParameters
	}
	var conn config.HTTPParameters
	if cfg.Connection.InvocationHTTPParameters != nil {
		conn = *cfg.Connection.InvocationHTTPParameters
	}
	endpoint, err := fillPath(cfg.InvocationEndpoint.Reveal(), target.PathParameterValues)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, ErrEndpoint
	}
	q := u.Query()
	for _, ps := range []map[string]config.Secret{target.QueryStringParameters, conn.QueryStringParameters} {
		for _, k := range slices.Sorted(maps.Keys(ps)) {
			q.Set(k, ps[k].Reveal()) // the connection's come last and win
		}
	}
	u.RawQuery = q.Encode()

	c := cfg.Connection
	switch c.AuthorizationType {
	case "API_KEY":
		if c.APIKeyName == "" || c.APIKeyValue == "" {
			return nil, fmt.Errorf("%w: api_key_name and api_key_value", ErrAuthParams)
		}
	case "BASIC":
		if c.Username == "" {
			return nil, fmt.Errorf("%w: username", ErrAuthParams)
		}
	case "OAUTH_CLIENT_CREDENTIALS":
		if c.OAuth == nil || c.OAuth.AuthorizationEndpoint == "" || c.OAuth.ClientID == "" {
			return nil, fmt.Errorf("%w: oauth authorization_endpoint and client_id", ErrAuthParams)
		}
		if au, err := url.Parse(c.OAuth.AuthorizationEndpoint); err != nil || au.Host == "" {
			return nil, fmt.Errorf("%w: oauth authorization_endpoint is not a URL", ErrAuthParams)
		}
	case "":
		// No connection: a plain invocation (native configurations).
	default:
		return nil, ErrAuthType
	}

	n := &Notifier{
		name:       cfg.Name,
		method:     method,
		endpoint:   u.String(),
		header:     http.Header{},
		bodyParams: map[string]string{},
		auth:       c,
		o:          o,
		log:        o.Log().With("receiver_type", "api_destination", "api_destination", cfg.Name),
		timeout:    Timeout,
		rate:       float64(cfg.InvocationRateLimitPerSecond),
	}
	for _, ps := range []map[string]config.Secret{target.HeaderParameters, conn.HeaderParameters} {
		for k, v := range ps {
			n.header.Set(k, v.Reveal())
		}
	}
	for _, ps := range []map[string]config.Secret{target.BodyParameters, conn.BodyParameters} {
		for k, v := range ps {
			n.bodyParams[k] = v.Reveal()
		}
	}
	// EventBridge does not follow redirects: a 3xx is an answer (not retried).
	client := *o.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	n.client = &client
	n.bucket = n.rate
	return n, nil
}

// fillPath replaces the *s of the endpoint's path, in order, by values.
func fillPath(endpoint string, values []string) (string, error) {
	scheme, rest, ok := strings.Cut(endpoint, "://")
	if !ok {
		return "", ErrEndpoint
	}
	host, path, _ := strings.Cut(rest, "/")
	query := ""
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path, query = path[:i], path[i:]
	}
	if strings.Count(path, "*") != len(values) {
		return "", ErrPathParams
	}
	for _, v := range values {
		path = strings.Replace(path, "*", url.PathEscape(v), 1)
	}
	out := scheme + "://" + host
	if path != "" || strings.Contains(rest, "/") {
		out += "/" + path
	}
	return out + query, nil
}

// Notify sends n as EventBridge would invoke the API destination: 2xx
// delivered; 429 and 5xx retried honouring Retry-After (a negative value
// stops retrying); 1xx, 3xx and other 4xx fail for good. With OAuth, a 401
// or 407 renews the token and the request is sent once more with it.
func (d *Notifier) Notify(ctx context.Context, n *notify.Notification) (bool, error) {
	if wait, ok := d.take(); !ok {
		return true, &notify.RetryAfterError{After: wait, Err: ErrRateLimited}
	}
	body, err := notify.Message(n)
	if err != nil {
		return false, fmt.Errorf("api destination body: %w", err)
	}
	body = d.addBodyParams(body)

	resp, fresh, retry, err := d.send(ctx, body)
	if err != nil {
		return retry, err
	}
	if d.auth.AuthorizationType == "OAUTH_CLIENT_CREDENTIALS" &&
		(resp.Code == http.StatusUnauthorized || resp.Code == http.StatusProxyAuthRequired) {
		d.invalidate()
		if !fresh {
			d.log.InfoContext(ctx, "oauth token refused, renewing it", "status", resp.Code)
			resp, _, retry, err = d.send(ctx, body)
			if err != nil {
				return retry, err
			}
		}
	}
	if retry, err := notify.Classify(resp, d.o.Now()); err != nil {
		return retry, fmt.Errorf("api destination invoke: %w", err)
	}
	d.log.DebugContext(ctx, "api destination delivered", "receiver", n.Receiver, "id", n.ID)
	return false, nil
}

// send makes one invocation; fresh says the OAuth token was fetched for it.
func (d *Notifier) send(ctx context.Context, body []byte) (resp *notify.Response, fresh, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	var rd io.Reader
	if d.method != http.MethodGet && d.method != http.MethodHead {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, d.method, d.endpoint, rd)
	if err != nil {
		return nil, false, false, fmt.Errorf("api destination request: %w", notify.StripURL(err))
	}
	h := req.Header
	h.Set("User-Agent", "Amazon/EventBridge/ApiDestinations")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Range", "bytes=0-1048575")
	h.Set("Accept-Encoding", "gzip,deflate")
	req.Close = true // Connection: close
	for k, v := range d.header {
		h[k] = v
	}
	switch d.auth.AuthorizationType {
	case "API_KEY":
		h.Set(d.auth.APIKeyName, d.auth.APIKeyValue.Reveal())
	case "BASIC":
		req.SetBasicAuth(d.auth.Username, d.auth.Password.Reveal())
	case "OAUTH_CLIENT_CREDENTIALS":
		tok, f, retry, err := d.accessToken(ctx)
		if err != nil {
			return nil, false, retry, fmt.Errorf("api destination: %w", err)
		}
		fresh = f
		h.Set("Authorization", "Bearer "+tok)
	}
	resp, err = notify.Do(d.client, req)
	if err != nil {
		return nil, fresh, true, fmt.Errorf("api destination invoke: %w", err)
	}
	return resp, fresh, false, nil
}

// addBodyParams adds body parameters to a JSON object body as top-level
// string fields (existing fields are replaced); other bodies are sent as
// they are.
func (d *Notifier) addBodyParams(body []byte) []byte {
	if len(d.bodyParams) == 0 {
		return body
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil || obj == nil {
		d.log.Debug("body parameters not added: the body is not a JSON object")
		return body
	}
	for k, v := range d.bodyParams {
		b, _ := json.Marshal(v)
		obj[k] = b
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return body
	}
	return out
}

// take takes one invocation from the rate limit's bucket, or says how long
// until one is available.
func (d *Notifier) take() (time.Duration, bool) {
	if d.rate <= 0 {
		return 0, true
	}
	d.rmu.Lock()
	defer d.rmu.Unlock()
	now := d.o.Now()
	if !d.filled.IsZero() {
		d.bucket = min(d.rate, d.bucket+now.Sub(d.filled).Seconds()*d.rate)
	}
	d.filled = now
	if d.bucket >= 1 {
		d.bucket--
		return 0, true
	}
	return time.Duration((1 - d.bucket) / d.rate * float64(time.Second)), false
}

func (d *Notifier) invalidate() {
	d.mu.Lock()
	d.token, d.expiry = "", time.Time{}
	d.mu.Unlock()
}

// accessToken returns a cached token, or fetches one when there is none
// or it expires within a minute. The lock is held while fetching, so
// concurrent deliveries share one fetch.
func (d *Notifier) accessToken(ctx context.Context) (tok string, fresh, retry bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Now()
	if d.token != "" && (d.expiry.IsZero() || now.Before(d.expiry.Add(-refreshBefore))) {
		return d.token, false, false, nil
	}
	tok, ttl, retry, err := d.fetchToken(ctx)
	if err != nil {
		return "", false, retry, err
	}
	d.token, d.expiry = tok, time.Time{}
	if ttl > 0 {
		d.expiry = now.Add(ttl)
	}
	return tok, true, false, nil
}

// fetchToken exchanges the client ID and secret for an access token:
// client credentials in a Basic Authorization header (RFC 6749 2.3.1), the
// OAuth HTTP parameters as headers, query string and a form body
// (grant_type=client_credentials unless given).
func (d *Notifier) fetchToken(ctx context.Context) (string, time.Duration, bool, error) {
	oa := d.auth.OAuth
	method := strings.ToUpper(oa.HTTPMethod)
	if method == "" {
		method = http.MethodPost
	}
	var p config.HTTPParameters
	if oa.OAuthHTTPParameters != nil {
		p = *oa.OAuthHTTPParameters
	}
	u, err := url.Parse(oa.AuthorizationEndpoint)
	if err != nil {
		return "", 0, false, fmt.Errorf("%w: endpoint: %w", ErrToken, notify.StripURL(err))
	}
	q := u.Query()
	for k, v := range p.QueryStringParameters {
		q.Set(k, v.Reveal())
	}
	form := url.Values{}
	for k, v := range p.BodyParameters {
		form.Set(k, v.Reveal())
	}
	if form.Get("grant_type") == "" {
		form.Set("grant_type", "client_credentials")
	}
	var rd io.Reader
	if method == http.MethodGet {
		for k, vs := range form {
			if q.Get(k) == "" {
				q[k] = vs
			}
		}
	} else {
		rd = strings.NewReader(form.Encode())
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return "", 0, false, fmt.Errorf("%w: request: %w", ErrToken, notify.StripURL(err))
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Amazon/EventBridge/ApiDestinations")
	for k, v := range p.HeaderParameters {
		req.Header.Set(k, v.Reveal())
	}
	req.SetBasicAuth(url.QueryEscape(oa.ClientID), url.QueryEscape(oa.ClientSecret.Reveal()))
	resp, err := notify.Do(d.client, req)
	if err != nil {
		return "", 0, true, fmt.Errorf("%w: %w", ErrToken, err)
	}
	if retry, err := notify.Classify(resp, d.o.Now()); err != nil {
		return "", 0, retry, fmt.Errorf("%w: %w", ErrToken, err)
	}
	var tr struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(resp.Body, &tr); err != nil || tr.AccessToken == "" {
		return "", 0, false, fmt.Errorf("%w: the answer holds no access_token", ErrToken)
	}
	var ttl time.Duration
	if s := strings.Trim(string(tr.ExpiresIn), `"`); s != "" && s != "null" {
		if secs, err := strconv.ParseFloat(s, 64); err == nil && secs > 0 {
			ttl = time.Duration(secs * float64(time.Second))
		}
	}
	return tr.AccessToken, ttl, false, nil
}
