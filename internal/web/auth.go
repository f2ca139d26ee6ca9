package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sort"
	"strings"
)

// hashSecret returns the SHA-256 of a secret, so that comparisons are
// constant-time and do not leak its length.
func hashSecret(v string) [32]byte { return sha256.Sum256([]byte(v)) }

// equalHash compares two hashed secrets in constant time.
func equalHash(a, b [32]byte) bool { return subtle.ConstantTimeCompare(a[:], b[:]) == 1 }

type apiKey struct {
	header string // canonical header name
	value  [32]byte
}

type basicUser struct {
	user, pass [32]byte
}

// authenticator checks ingest credentials as EventBridge connections send
// them: an API key header, or HTTP Basic.
type authenticator struct {
	keys  []apiKey
	users []basicUser
}

func newAuthenticator(keys, users map[string]string) authenticator {
	var a authenticator
	for name, v := range keys {
		a.keys = append(a.keys, apiKey{header: http.CanonicalHeaderKey(name), value: hashSecret(v)})
	}
	sort.Slice(a.keys, func(i, j int) bool { return a.keys[i].header < a.keys[j].header })
	for u, p := range users {
		a.users = append(a.users, basicUser{user: hashSecret(u), pass: hashSecret(p)})
	}
	return a
}

// open reports whether no ingest credentials are configured.
func (a *authenticator) open() bool { return len(a.keys) == 0 && len(a.users) == 0 }

// check reports whether r carries a valid credential. Every configured
// credential is compared, in constant time, whichever matches.
func (a *authenticator) check(r *http.Request) bool {
	ok := 0
	for _, k := range a.keys {
		vs := r.Header.Values(k.header)
		if len(vs) != 1 {
			continue
		}
		h := hashSecret(vs[0])
		ok |= subtle.ConstantTimeCompare(h[:], k.value[:])
	}
	if len(a.users) > 0 {
		if u, p, has := r.BasicAuth(); has {
			hu, hp := hashSecret(u), hashSecret(p)
			for _, bu := range a.users {
				ok |= subtle.ConstantTimeCompare(hu[:], bu.user[:]) & subtle.ConstantTimeCompare(hp[:], bu.pass[:])
			}
		}
	}
	return ok == 1
}

// ingestAuthOK reports whether r carries ingest credentials (an API key,
// Basic, or an OAuth bearer token from /oauth/token), or none are
// configured.
func (s *Server) ingestAuthOK(r *http.Request) bool {
	if s.oauth == nil && s.auth.open() {
		return true
	}
	ok := s.auth.check(r)
	if s.oauth != nil {
		if tok, has := bearer(r); has && s.oauth.valid(tok) {
			ok = true
		}
	}
	return ok
}

// challenge writes a 401, with a Basic challenge when Basic users exist
// (an SNS endpoint URL with user:password@ sends them only when asked) and
// a Bearer one with OAuth clients (EventBridge fetches a new token on 401).
func (s *Server) challenge(w http.ResponseWriter) {
	if len(s.auth.users) > 0 {
		w.Header().Add("WWW-Authenticate", `Basic realm="trailwatch", charset="UTF-8"`)
	}
	if s.oauth != nil {
		w.Header().Add("WWW-Authenticate", `Bearer realm="trailwatch"`)
	}
	writeError(w, http.StatusUnauthorized, "unauthorized: missing or wrong credentials", nil)
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(h[len(prefix):]), true
}
