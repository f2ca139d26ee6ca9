package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

func (s *Server) mac(parts ...string) string {
	m := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		fmt.Fprintf(m, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// csrfToken is the token of r's session (or of the process, when open
// without a session).
func (s *Server) csrfToken(r *http.Request) string {
	sess := ""
	if c, err := r.Cookie(SessionCookie); err == nil {
		sess = c.Value
	}
	return s.mac("csrf", sess)
}

func (s *Server) csrfOK(r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrfToken(r))) == 1
}

func (s *Server) sessionValue() string { return s.mac("session") }

func (s *Server) loggedIn(r *http.Request) bool {
	if s.open {
		return true
	}
	c, err := r.Cookie(SessionCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(s.sessionValue())) == 1
}

// authed sends a visitor without a session to the login form.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.loggedIn(r) {
			h(w, r)
			return
		}
		if r.Method != http.MethodGet {
			s.errorPage(w, http.StatusUnauthorized, "log in first")
			return
		}
		http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	}
}

// safeNext keeps a redirect target on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

type loginData struct {
	page
	Next, Err string
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	d := loginData{page: page{Title: "Log in", CSRF: s.csrfToken(r)}, Next: safeNext(r.URL.Query().Get("next"))}
	if !s.hasTok && !s.open {
		d.Err = "No admin token is configured (--admin-token): the web UI cannot be used."
	}
	s.render(w, http.StatusOK, "login", d)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !s.csrfOK(r) {
		s.errorPage(w, http.StatusForbidden, "bad or missing CSRF token; reload the form")
		return
	}
	next := safeNext(r.PostFormValue("next"))
	tok := sha256.Sum256([]byte(r.PostFormValue("token")))
	if !s.hasTok || subtle.ConstantTimeCompare(tok[:], s.admin[:]) != 1 {
		s.log.Warn("ui: failed login", "remote", r.RemoteAddr)
		s.render(w, http.StatusUnauthorized, "login", loginData{page: page{Title: "Log in", CSRF: s.csrfToken(r)}, Next: next, Err: "wrong token"})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: s.sessionValue(), Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, next, http.StatusSeeOther)
}
