package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// oauthTokenTTL is how long an access token from /oauth/token lasts.
const oauthTokenTTL = time.Hour

// oauthClient is one client of the token endpoint, hashed.
type oauthClient struct {
	id, secret [32]byte
}

// oauth issues and checks bearer tokens for EventBridge connections of
// type OAUTH_CLIENT_CREDENTIALS: EventBridge exchanges a client id and
// secret at the AuthorizationEndpoint (/oauth/token) for an access token
// and sends it as "Authorization: Bearer <token>", fetching a new one on a
// 401 or when it is about to expire.
//
// Tokens are stateless (expiry and an HMAC): any node with the same
// clients accepts them, and changing a secret revokes them.
type oauth struct {
	clients []oauthClient
	key     []byte
	now     func() time.Time
}

func newOAuth(clients map[string]string, now func() time.Time) *oauth {
	if len(clients) == 0 {
		return nil
	}
	o := &oauth{now: now}
	ids := make([]string, 0, len(clients))
	for id := range clients {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	h := sha256.New()
	h.Write([]byte("trailwatch oauth token key\x00"))
	for _, id := range ids {
		o.clients = append(o.clients, oauthClient{id: hashSecret(id), secret: hashSecret(clients[id])})
		h.Write([]byte(id + "\x00" + clients[id] + "\x00"))
	}
	o.key = h.Sum(nil)
	return o
}

// issue returns a token valid until now+ttl.
func (o *oauth) issue(exp time.Time) string {
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], uint64(exp.Unix()))
	return "tw1." + base64.RawURLEncoding.EncodeToString(p[:]) + "." + base64.RawURLEncoding.EncodeToString(o.mac(p[:]))
}

func (o *oauth) mac(p []byte) []byte {
	m := hmac.New(sha256.New, o.key)
	m.Write(p)
	return m.Sum(nil)
}

// valid reports whether tok is a token this server issued that has not
// expired.
func (o *oauth) valid(tok string) bool {
	rest, ok := strings.CutPrefix(tok, "tw1.")
	if !ok {
		return false
	}
	ps, ms, ok := strings.Cut(rest, ".")
	if !ok {
		return false
	}
	p, err1 := base64.RawURLEncoding.DecodeString(ps)
	m, err2 := base64.RawURLEncoding.DecodeString(ms)
	if err1 != nil || err2 != nil || len(p) != 8 || !hmac.Equal(m, o.mac(p)) {
		return false
	}
	exp := int64(binary.BigEndian.Uint64(p))
	return o.now().Unix() < exp
}

// client reports whether id and secret name a configured client.
func (o *oauth) client(id, secret string) bool {
	hi, hs := hashSecret(id), hashSecret(secret)
	ok := 0
	for _, c := range o.clients {
		ok |= subtle.ConstantTimeCompare(hi[:], c.id[:]) & subtle.ConstantTimeCompare(hs[:], c.secret[:])
	}
	return ok == 1
}

// handleOAuthToken is the OAuth 2.0 client-credentials token endpoint
// (RFC 6749 §4.4) for EventBridge OAUTH_CLIENT_CREDENTIALS connections.
// The client authenticates with HTTP Basic (client_id:client_secret) or
// with client_id and client_secret parameters (query or form body, as a
// connection's OAuthHttpParameters send them); EventBridge's HttpMethod
// may be GET, POST or PUT.
func (s *Server) handleOAuthToken(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut:
	default:
		w.Header().Set("Allow", "GET, POST, PUT")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed", nil)
		return
	}
	if s.oauth == nil {
		writeError(w, http.StatusNotFound, "oauth not configured", nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAckBody)
	params := r.URL.Query()
	if r.Method != http.MethodGet && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return
		}
		params = r.Form
	}
	if gt := params.Get("grant_type"); gt != "" && gt != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		// RFC 6749 §2.3.1: form-encoded before Basic encoding.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = params.Get("client_id"), params.Get("client_secret")
	}
	if !s.oauth.client(id, secret) {
		s.m.rejected.WithLabelValues("auth").Inc()
		w.Header().Set("WWW-Authenticate", `Basic realm="trailwatch"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": s.oauth.issue(s.now().Add(oauthTokenTTL)),
		"token_type":   "Bearer",
		"expires_in":   int(oauthTokenTTL / time.Second),
	})
}
