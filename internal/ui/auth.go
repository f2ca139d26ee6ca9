package ui

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Sessions are stateless: the cookie holds who logged in, until when, and
// a tag of the credential used, signed with the session key. A restart
// (or another node) with the same key accepts it; changing the admin token
// or a user's password ends the sessions opened with the old one.

// SessionTTL is how long a session lasts without use; using the UI in its
// second half renews it.
const SessionTTL = 12 * time.Hour

// adminUser is the session user of a login with the admin token.
const adminUser = "admin"

// auth is what the Server checks logins and sessions against.
type auth struct {
	key    []byte // signs sessions and CSRF tokens
	admin  [32]byte
	hasTok bool
	users  map[string][]byte // name -> bcrypt hash
	open   bool
	secure bool // Secure cookies whatever the request
}

// dummyHash is compared against for unknown users, so that a login takes
// as long whether the user exists or not.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("trailwatch"), bcrypt.MinCost)

func (s *Server) setAuth(o Options) error {
	a := auth{open: o.Open, users: map[string][]byte{}, secure: o.SecureCookie}
	if o.AdminToken != "" {
		a.admin, a.hasTok = sha256.Sum256([]byte(o.AdminToken)), true
	}
	for name, h := range o.Users {
		if name == "" || strings.ContainsAny(name, "|:") {
			return fmt.Errorf("%w: user name %q (empty, or holds | or :)", ErrBadOptions, name)
		}
		if name == adminUser && a.hasTok {
			return fmt.Errorf("%w: user name %s is the admin token's (its logins are acknowledged as %s)", ErrBadOptions, adminUser, adminUser)
		}
		if _, err := bcrypt.Cost(h); err != nil {
			return fmt.Errorf("%w: user %s: not a bcrypt hash: %v", ErrBadOptions, name, err)
		}
		a.users[name] = h
	}
	switch {
	case len(o.SessionKey) >= 16:
		a.key = o.SessionKey
	case len(o.SessionKey) > 0:
		return fmt.Errorf("%w: session key shorter than 16 bytes", ErrBadOptions)
	default:
		a.key = make([]byte, 32)
		if _, err := rand.Read(a.key); err != nil {
			return fmt.Errorf("ui key: %w", err)
		}
	}
	s.auth = a
	s.throttle = newThrottle()
	return nil
}

// canLogIn reports whether any credential is configured.
func (a *auth) canLogIn() bool { return a.hasTok || len(a.users) > 0 }

func (s *Server) mac(parts ...string) string {
	m := hmac.New(sha256.New, s.auth.key)
	for _, p := range parts {
		fmt.Fprintf(m, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// credTag names the credential a session was opened with (not the
// credential itself): when it changes, the session ends.
func (s *Server) credTag(user string) string {
	var src []byte
	if user == adminUser && s.auth.hasTok {
		src = s.auth.admin[:]
	} else if h, ok := s.auth.users[user]; ok {
		src = h
	} else {
		return ""
	}
	return s.mac("cred", string(src))[:16]
}

// session is a verified session cookie.
type session struct {
	User    string
	Expires time.Time
	raw     string
}

// newSession is the cookie value of a session of user from now.
func (s *Server) newSession(user string, now time.Time) string {
	payload := strings.Join([]string{"v1", user, strconv.FormatInt(now.Add(SessionTTL).Unix(), 10), s.credTag(user)}, "|")
	enc := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return enc + "." + s.mac("session", enc)
}

// readSession verifies r's session cookie: signature, expiry, and that
// the credential it was opened with is still the user's.
func (s *Server) readSession(r *http.Request) (session, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return session{}, false
	}
	enc, sig, ok := strings.Cut(c.Value, ".")
	if !ok || subtle.ConstantTimeCompare([]byte(sig), []byte(s.mac("session", enc))) != 1 {
		return session{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return session{}, false
	}
	f := strings.Split(string(b), "|")
	if len(f) != 4 || f[0] != "v1" {
		return session{}, false
	}
	exp, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || !s.now().Before(time.Unix(exp, 0)) {
		return session{}, false
	}
	if tag := s.credTag(f[1]); tag == "" || tag != f[3] {
		return session{}, false
	}
	return session{User: f[1], Expires: time.Unix(exp, 0), raw: c.Value}, true
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.auth.secure || r.TLS != nil})
}

// csrfToken is the token of r's session (or of no session: the login form,
// and every form of an open UI without a session).
func (s *Server) csrfToken(r *http.Request) string {
	se, ok := r.Context().Value(sessionKey{}).(session)
	if !ok {
		se, _ = s.readSession(r)
	}
	return s.mac("csrf", se.raw)
}

func (s *Server) csrfOK(r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrfToken(r))) == 1
}

type sessionKey struct{}

// userOf is who is using the UI: the session's user, or "" on an open UI
// without a session.
func userOf(r *http.Request) string {
	se, _ := r.Context().Value(sessionKey{}).(session)
	return se.User
}

// authed lets a visitor with a session (or any visitor, when the UI is
// open) through, renewing a session in its second half; others go to the
// login form.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		se, ok := s.readSession(r)
		if ok {
			// Renewed on pages only: a form posts the CSRF token of the
			// session it was made for.
			if now := s.now(); r.Method == http.MethodGet && se.Expires.Sub(now) < SessionTTL/2 {
				se.raw = s.newSession(se.User, now)
				se.Expires = now.Add(SessionTTL)
				s.setSessionCookie(w, r, se.raw, int(SessionTTL/time.Second))
			}
			h(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, se)))
			return
		}
		if s.auth.open {
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
	Next, Err, User string
	Users, Token    bool // what the form asks for
}

func (s *Server) loginForm(r *http.Request, next, user, msg string) loginData {
	d := loginData{page: page{Title: "Log in", CSRF: s.csrfToken(r), Bare: true}, Next: next, User: user, Err: msg,
		Users: len(s.auth.users) > 0, Token: s.auth.hasTok}
	if !s.auth.canLogIn() && !s.auth.open {
		d.Err = "No credentials are configured (--admin-token or --ui-users): the web UI cannot be used."
	}
	return d
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "login", s.loginForm(r, safeNext(r.URL.Query().Get("next")), "", ""))
}

// checkLogin returns the session user of a login: a user's name and
// password, or no name and the admin token.
func (s *Server) checkLogin(user, secret string) (string, bool) {
	if user == "" {
		tok := sha256.Sum256([]byte(secret))
		if s.auth.hasTok && subtle.ConstantTimeCompare(tok[:], s.auth.admin[:]) == 1 {
			return adminUser, true
		}
		return "", false
	}
	h, ok := s.auth.users[user]
	if !ok {
		h = dummyHash
	}
	if bcrypt.CompareHashAndPassword(h, []byte(secret)) != nil || !ok {
		return "", false
	}
	return user, true
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !s.csrfOK(r) {
		s.errorPage(w, http.StatusForbidden, "bad or missing CSRF token; reload the form")
		return
	}
	next := safeNext(r.PostFormValue("next"))
	name := strings.TrimSpace(r.PostFormValue("user"))
	secret := r.PostFormValue("password")
	if secret == "" {
		secret = r.PostFormValue("token")
	}
	c, now := client(r.RemoteAddr), s.now()
	if no, wait := s.throttle.blocked(c, now); no {
		s.log.Warn("ui: login refused: too many failures", "user", name, "remote", r.RemoteAddr)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
		s.render(w, http.StatusTooManyRequests, "login", s.loginForm(r, next, name,
			fmt.Sprintf("too many failed logins from %s: try again in %s", c, wait.Round(time.Second))))
		return
	}
	s.throttle.hashing <- struct{}{}
	user, ok := s.checkLogin(name, secret)
	<-s.throttle.hashing
	if !ok {
		s.throttle.fail(c, now)
		s.log.Warn("ui: failed login", "user", name, "remote", r.RemoteAddr)
		msg := "wrong token"
		if name != "" {
			msg = "wrong user name or password"
		}
		s.render(w, http.StatusUnauthorized, "login", s.loginForm(r, next, name, msg))
		return
	}
	s.throttle.succeed(c)
	s.log.Info("ui: login", "user", user, "remote", r.RemoteAddr)
	s.setSessionCookie(w, r, s.newSession(user, s.now()), int(SessionTTL/time.Second))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) handleLogoutPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "logout", struct {
		page
		User string
	}{page{Title: "Log out", CSRF: s.csrfToken(r)}, userOf(r)})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !s.csrfOK(r) {
		s.errorPage(w, http.StatusForbidden, "bad or missing CSRF token; reload the page")
		return
	}
	s.setSessionCookie(w, r, "", -1)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}
