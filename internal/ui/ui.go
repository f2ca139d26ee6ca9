// Package ui is the web UI of `trailwatch serve`: server-rendered pages
// (html/template, assets embedded in the binary, no build step) for the
// people on call: the alerts list (alerts.go), an alert's story with its
// deliveries and an acknowledge button, the alarms with their graphs,
// history and schedule windows (alarms.go), the rules by pack with their
// tests and recent matches (rules.go), and a playground that explains
// which part of a pattern did not match (playground.go). Parts of a page
// marked data-live refresh in place (static/app.js).
//
// Every page carries security headers (a Content-Security-Policy without
// inline scripts or styles, X-Frame-Options DENY, Referrer-Policy
// no-referrer, X-Content-Type-Options nosniff); every form that changes
// something carries a CSRF token (an HMAC of the session under the session
// key). Unless the server is Open, pages need a session, given by a login
// form that takes the admin token or a user's password (a signed
// HttpOnly, SameSite=Strict cookie; see auth.go).
package ui

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ErrBadOptions says New was given options it cannot run with.
var ErrBadOptions = errors.New("bad ui options")

// Options configure a Server. Store is required.
type Options struct {
	Store store.Store
	Rules []*rule.Rule
	// AdminToken is what the login form takes. "" with Open false: no one
	// can log in (the pages say so).
	AdminToken string
	// Open serves the pages without a login: for a server listening on
	// loopback with no credentials configured.
	Open bool
	// Users are the people who may log in with a password: name -> bcrypt
	// hash (an htpasswd file's bcrypt lines).
	Users map[string][]byte
	// SessionKey signs sessions and CSRF tokens; one kept across restarts
	// (and shared by the nodes) keeps people logged in. nil: a random key
	// per process.
	SessionKey []byte
	// SecureCookie marks the session cookie Secure even on plain HTTP
	// requests: for a server behind a TLS-terminating proxy (serve sets it
	// when --public-url is https).
	SecureCookie bool
	Now          func() time.Time
	Logger       *slog.Logger

	// Alarms and Schedules are the configured alarms and schedules, for
	// the alarms pages (their states are read from the store).
	Alarms    []*config.Alarm
	Schedules []*config.Schedule
	// CompositeAlarms are the configured composite alarms.
	CompositeAlarms []*config.CompositeAlarm
	// Muted reports whether a mute schedule mutes a rule now (nil: none
	// does).
	Muted func(rule string) bool
	// DisabledRules are the rules the configuration holds but does not
	// run (see DisabledRules).
	DisabledRules []DisabledRule
}

// Server serves the UI. It is safe for concurrent use.
type Server struct {
	st       store.Store
	rules    []*rule.Rule
	now      func() time.Time
	log      *slog.Logger
	auth     auth
	throttle *throttle // failed logins
	pages    map[string]*template.Template
	mux      *http.ServeMux

	alarms     map[string]*alarmDef     // by name
	composites map[string]*compositeDef // by name
	alarmNames []string                 // sorted, metric and composite
	schedules  []*schedDef
	ruleInfo   map[string]*ruleInfo // by name
	muted      func(rule string) bool
	disabled   []DisabledRule
}

// SessionCookie is the name of the session cookie.
const SessionCookie = "trailwatch_session"

// maxListed bounds the alerts list.
const maxListed = 500

// New checks o and builds a Server.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, fmt.Errorf("%w: no store", ErrBadOptions)
	}
	s := &Server{st: o.Store, rules: o.Rules, now: o.Now, log: o.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.setAuth(o); err != nil {
		return nil, err
	}
	if err := s.setAlarms(o); err != nil {
		return nil, err
	}
	s.setRules(o)
	funcs := template.FuncMap{"fmtTime": fmtTime, "short": short, "ruleHref": ruleHref}
	s.pages = map[string]*template.Template{}
	for _, p := range []string{"alerts", "alert", "rules", "rule", "alarms", "alarm", "composite", "playground", "login", "logout", "error"} {
		t, err := template.New(p).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/alarmtail.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("ui template %s: %w", p, err)
		}
		s.pages[p] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /ui/login", s.handleLoginPage)
	mux.HandleFunc("POST /ui/login", s.handleLogin)
	mux.HandleFunc("GET /ui/logout", s.authed(s.handleLogoutPage))
	mux.HandleFunc("POST /ui/logout", s.authed(s.handleLogout))
	mux.HandleFunc("GET /{$}", s.authed(s.handleAlerts))
	mux.HandleFunc("GET /alerts/{id}", s.authed(s.handleAlert))
	mux.HandleFunc("POST /ui/alerts/{id}/ack", s.authed(s.handleAck))
	mux.HandleFunc("GET /rules", s.authed(s.handleRules))
	mux.HandleFunc("GET /rules/{name}", s.authed(s.handleRule))
	mux.HandleFunc("GET /alarms", s.authed(s.handleAlarms))
	mux.HandleFunc("GET /alarms/{name}", s.authed(s.handleAlarm))
	mux.HandleFunc("GET /playground", s.authed(s.handlePlayground))
	s.mux = mux
	return s, nil
}

// Handler returns the UI's routes, to mount at "/" (behind the API's more
// specific routes).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		s.mux.ServeHTTP(w, r)
	})
}

// Register mounts the UI at "/" on mux.
func (s *Server) Register(mux *http.ServeMux) { mux.Handle("/", s.Handler()) }

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

// ruleHref is the page of an alert's rule: the alarm's page for an alarm
// state change ("alarm:NAME").
func ruleHref(rule string) string {
	if name, ok := strings.CutPrefix(rule, "alarm:"); ok {
		return alarmHref(name)
	}
	return "/rules/" + url.PathEscape(rule)
}

// maxShown is how much of a long value a page shows.
const maxShown = 300

// short cuts a long value for display, saying how much it left out.
func short(s string) string {
	if len(s) <= maxShown {
		return s
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", s[:cut], len(s)-cut)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

type page struct {
	Title string
	CSRF  string
	// Bare leaves the navigation out (the login page).
	Bare bool
}

func (s *Server) render(w http.ResponseWriter, code int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, name+".html", data); err != nil {
		s.log.Error("ui: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) errorPage(w http.ResponseWriter, code int, msg string) {
	s.render(w, code, "error", struct {
		page
		Msg string
	}{page{Title: http.StatusText(code)}, msg})
}
