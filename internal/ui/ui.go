// Package ui is the web UI of `trailwatch serve`: server-rendered pages
// (html/template, assets embedded in the binary, no build step) for the
// people on call: the alerts list, an alert's story with its deliveries
// and an acknowledge button, the rules, and a pattern playground.
//
// Every page carries security headers (a Content-Security-Policy without
// inline scripts, X-Frame-Options DENY, Referrer-Policy no-referrer,
// X-Content-Type-Options nosniff); every form that changes something
// carries a CSRF token (an HMAC under a per-process random key). Unless the
// server is Open, pages need a session, given by a login form that takes
// the admin token (an HttpOnly, SameSite=Strict cookie).
package ui

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/filterpattern"
	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/pattern"
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
	Open   bool
	Now    func() time.Time
	Logger *slog.Logger
}

// Server serves the UI. It is safe for concurrent use.
type Server struct {
	st     store.Store
	rules  []*rule.Rule
	admin  [32]byte
	hasTok bool
	open   bool
	now    func() time.Time
	log    *slog.Logger
	key    []byte // per-process HMAC key: sessions and CSRF tokens
	pages  map[string]*template.Template
	mux    *http.ServeMux
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
	s := &Server{st: o.Store, rules: o.Rules, open: o.Open, now: o.Now, log: o.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if o.AdminToken != "" {
		s.admin, s.hasTok = sha256.Sum256([]byte(o.AdminToken)), true
	}
	s.key = make([]byte, 32)
	if _, err := rand.Read(s.key); err != nil {
		return nil, fmt.Errorf("ui key: %w", err)
	}
	funcs := template.FuncMap{"fmtTime": fmtTime}
	s.pages = map[string]*template.Template{}
	for _, p := range []string{"alerts", "alert", "rules", "playground", "login", "error"} {
		t, err := template.New(p).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
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
	mux.HandleFunc("GET /{$}", s.authed(s.handleAlerts))
	mux.HandleFunc("GET /alerts/{id}", s.authed(s.handleAlert))
	mux.HandleFunc("POST /ui/alerts/{id}/ack", s.authed(s.handleAck))
	mux.HandleFunc("GET /rules", s.authed(s.handleRules))
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

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

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

type page struct {
	Title string
	CSRF  string
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

type alertsFilter struct{ State, Rule, Severity, Account string }

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := alertsFilter{State: q.Get("state"), Rule: q.Get("rule"), Severity: q.Get("severity"), Account: q.Get("account")}
	states := []string{store.StateNew, store.StateNotified, store.StateAcked, store.StateDeadLettered, store.StatePending}
	if f.State != "" && !slices.Contains(states, f.State) {
		s.errorPage(w, http.StatusBadRequest, "unknown state "+f.State)
		return
	}
	sf := store.AlertFilter{State: f.State, Rule: f.Rule}
	if f.Severity == "" && f.Account == "" {
		sf.Limit = maxListed
	}
	rows, err := s.st.Alerts(r.Context(), sf)
	if err != nil {
		s.log.Error("ui: alerts", "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	out := rows[:0]
	for _, a := range rows {
		if f.Severity != "" && !strings.EqualFold(a.Severity, f.Severity) {
			continue
		}
		if f.Account != "" && a.Alert.Account != f.Account {
			continue
		}
		out = append(out, a)
		if len(out) == maxListed {
			break
		}
	}
	s.render(w, http.StatusOK, "alerts", struct {
		page
		F      alertsFilter
		States []string
		Alerts []store.AlertRow
	}{page{Title: "Alerts"}, f, states, out})
}

func (s *Server) handleAlert(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, err := s.st.Alert(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, http.StatusNotFound, "no alert "+id)
		return
	}
	if err != nil {
		s.log.Error("ui: alert", "alert_id", id, "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "the store did not answer; retry later")
		return
	}
	ev := string(a.Alert.Event)
	var buf bytes.Buffer
	if json.Indent(&buf, a.Alert.Event, "", "  ") == nil {
		ev = buf.String()
	}
	title := a.Alert.Summary
	if title == "" {
		title = a.Rule
	}
	s.render(w, http.StatusOK, "alert", struct {
		page
		A     store.AlertRow
		Event string
	}{page{Title: title, CSRF: s.csrfToken(r)}, a, ev})
}

func (s *Server) handleAck(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !s.csrfOK(r) {
		s.errorPage(w, http.StatusForbidden, "bad or missing CSRF token; reload the page")
		return
	}
	id := r.PathValue("id")
	by := "web ui"
	if !s.open {
		by = "web ui (admin)"
	}
	err := s.st.Ack(r.Context(), id, by)
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, http.StatusNotFound, "no alert "+id)
		return
	}
	if err != nil {
		s.log.Error("ui: ack", "alert_id", id, "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, "acknowledgement not stored; retry later")
		return
	}
	s.log.Info("alert acknowledged", "alert_id", id, "by", by)
	http.Redirect(w, r, "/alerts/"+url.PathEscape(id), http.StatusSeeOther)
}

func (s *Server) handleRules(w http.ResponseWriter, r *http.Request) {
	rules := slices.Clone(s.rules)
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Name < rules[j].Name })
	s.render(w, http.StatusOK, "rules", struct {
		page
		Rules []*rule.Rule
	}{page{Title: "Rules"}, rules})
}

type kv struct{ K, V string }

type playgroundData struct {
	page
	Pattern, Event, EventErr string
	EventTested, EventMatch  bool

	Filter, Message, FilterErr string
	FilterTested, FilterMatch  bool
	Values                     []kv
}

// maxPlayground bounds what the playground tests.
const maxPlayground = 256 << 10

func (s *Server) handlePlayground(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := playgroundData{page: page{Title: "Playground"}, Pattern: q.Get("pattern"), Event: q.Get("event"), Filter: q.Get("filter"), Message: q.Get("message")}
	switch {
	case d.Pattern == "" && d.Event == "":
	case len(d.Pattern) > maxPlayground || len(d.Event) > maxPlayground:
		d.EventErr = "too large"
	default:
		d.EventMatch, d.EventErr = testEventPattern(d.Pattern, d.Event)
		d.EventTested = d.EventErr == ""
	}
	if q.Has("filter") || d.Message != "" {
		if len(d.Filter) > maxPlayground || len(d.Message) > maxPlayground {
			d.FilterErr = "too large"
		} else if p, err := filterpattern.Parse(d.Filter); err != nil {
			d.FilterErr = "filter pattern: " + err.Error()
		} else {
			d.FilterTested = true
			var m filterpattern.Match
			m, d.FilterMatch = p.Match([]byte(d.Message))
			if d.FilterMatch {
				for k, v := range m.Values() {
					d.Values = append(d.Values, kv{k, v})
				}
				sort.Slice(d.Values, func(i, j int) bool { return d.Values[i].K < d.Values[j].K })
			}
		}
	}
	s.render(w, http.StatusOK, "playground", d)
}

func testEventPattern(pat, ev string) (bool, string) {
	p, err := rule.ParsePattern([]byte(pat))
	if err != nil {
		return false, "pattern: " + err.Error()
	}
	ok, err := pattern.Matches(p, []byte(ev))
	if err != nil {
		return false, "event: " + err.Error()
	}
	return ok, ""
}
