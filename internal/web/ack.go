package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxAlertID bounds an alert id in a path; maxAckBody an ack request body.
const (
	maxAlertID = 256
	maxAckBody = 64 << 10
	maxAckBy   = 200
)

// ackSig is the signature of an acknowledgement link for alertID.
func ackSig(key []byte, alertID string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("trailwatch ack link\x00"))
	mac.Write([]byte(alertID))
	return mac.Sum(nil)
}

// SignAckURL returns a link that acknowledges alertID:
// base + "/ack/<id>?sig=<hmac>". GET shows a confirmation page; its button
// POSTs the same URL, so a mail client's link scanner that prefetches it
// does not acknowledge.
func SignAckURL(base string, key []byte, alertID string) string {
	return strings.TrimRight(base, "/") + "/ack/" + url.PathEscape(alertID) +
		"?sig=" + base64.RawURLEncoding.EncodeToString(ackSig(key, alertID))
}

// checkAckSig reports whether sig signs alertID, in constant time.
func (s *Server) checkAckSig(alertID, sig string) bool {
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, ackSig(s.ackKey, alertID))
}

// validAlertID rejects ids no store would hand out.
func validAlertID(id string) bool {
	return id != "" && len(id) <= maxAlertID && utf8.ValidString(id) && !strings.ContainsAny(id, "\x00\r\n")
}

// handlePostAlertAck acknowledges an alert: POST /alerts/{id}/ack with the
// admin bearer token (or, without one, ingest credentials) and an
// optional body {"by": "name"}.
func (s *Server) handlePostAlertAck(w http.ResponseWriter, r *http.Request) {
	if !s.adminOK(r) {
		if s.hasAdmin {
			w.Header().Set("WWW-Authenticate", `Bearer realm="trailwatch"`)
			writeError(w, http.StatusUnauthorized, "unauthorized: missing or wrong admin token", nil)
			return
		}
		s.challenge(w)
		return
	}
	if s.acker == nil {
		writeError(w, http.StatusNotImplemented, "acknowledgement not configured", nil)
		return
	}
	id := r.PathValue("id")
	if !validAlertID(id) {
		writeError(w, http.StatusBadRequest, "bad alert id", nil)
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAckBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body too large", nil)
		return
	}
	var req struct {
		By string `json:"by"`
	}
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := json.Unmarshal(b, &req); err != nil {
			writeError(w, http.StatusBadRequest, "body: want {\"by\": \"name\"}: "+err.Error(), nil)
			return
		}
	}
	by := strings.TrimSpace(req.By)
	if by == "" {
		by = "api"
	}
	if len(by) > maxAckBy || strings.ContainsAny(by, "\x00\r\n") {
		writeError(w, http.StatusBadRequest, "body: bad \"by\"", nil)
		return
	}
	if err := s.acker.Ack(r.Context(), id, by); err != nil {
		if errors.Is(err, ErrNotFound) {
			writeError(w, http.StatusNotFound, "no alert "+truncate(id, 80), nil)
			return
		}
		s.log.Error("ack: store", "alert_id", id, "err", err)
		writeError(w, http.StatusServiceUnavailable, "acknowledgement not stored, retry later", nil)
		return
	}
	s.log.Info("alert acknowledged", "alert_id", id, "by", by)
	writeJSON(w, http.StatusOK, map[string]string{"id": id, "state": "acked"})
}

// adminOK reports whether r may acknowledge through the API.
func (s *Server) adminOK(r *http.Request) bool {
	if s.hasAdmin {
		tok, ok := bearer(r)
		return ok && equalHash(hashSecret(tok), s.admin)
	}
	return s.ingestAuthOK(r)
}

var ackPage = template.Must(template.New("ack").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>{{.Title}} · Trailwatch</title>
<style>body{font-family:system-ui,sans-serif;max-width:34em;margin:3em auto;padding:0 1em;color:#222}
code{background:#eee;padding:.1em .3em}button{font-size:1.1em;padding:.5em 1.2em;cursor:pointer}</style>
</head><body><h1>{{.Title}}</h1>
<p>{{.Text}}{{if .ID}} <code>{{.ID}}</code>{{end}}</p>
{{if .Form}}<form method="post"><button type="submit">Acknowledge</button></form>
<p><small>Acknowledging stops reminders for this alert.</small></p>{{end}}
</body></html>
`))

type ackPageData struct {
	Title, Text, ID string
	Form            bool
}

// writeAckPage writes an acknowledgement page. Links carry their secret in
// the URL: no caching, no referrer, no framing.
func writeAckPage(w http.ResponseWriter, code int, d ackPageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(code)
	_ = ackPage.Execute(w, d)
}

// ackLink checks a signed link's id and signature, answering when they are
// not right.
func (s *Server) ackLink(w http.ResponseWriter, r *http.Request) (string, bool) {
	if len(s.ackKey) == 0 {
		writeAckPage(w, http.StatusNotFound, ackPageData{Title: "Not found", Text: "Acknowledgement links are not enabled."})
		return "", false
	}
	id := r.PathValue("id")
	if !validAlertID(id) || !s.checkAckSig(id, r.URL.Query().Get("sig")) {
		writeAckPage(w, http.StatusForbidden, ackPageData{Title: "Invalid link", Text: "This acknowledgement link is not valid: it may have been altered or cut short."})
		return "", false
	}
	return id, true
}

// handleGetAckLink shows the confirmation page of a signed link; it never
// acknowledges (mail scanners prefetch links).
func (s *Server) handleGetAckLink(w http.ResponseWriter, r *http.Request) {
	id, ok := s.ackLink(w, r)
	if !ok {
		return
	}
	writeAckPage(w, http.StatusOK, ackPageData{Title: "Acknowledge alert", Text: "Acknowledge alert", ID: id, Form: true})
}

// handlePostAckLink acknowledges the alert of a signed link, by "link".
func (s *Server) handlePostAckLink(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxAckBody))
	id, ok := s.ackLink(w, r)
	if !ok {
		return
	}
	if s.acker == nil {
		writeAckPage(w, http.StatusNotImplemented, ackPageData{Title: "Not available", Text: "Acknowledgement is not configured."})
		return
	}
	if err := s.acker.Ack(r.Context(), id, "link"); err != nil {
		if errors.Is(err, ErrNotFound) {
			writeAckPage(w, http.StatusNotFound, ackPageData{Title: "Unknown alert", Text: "There is no alert", ID: id})
			return
		}
		s.log.Error("ack link: store", "alert_id", id, "err", err)
		writeAckPage(w, http.StatusServiceUnavailable, ackPageData{Title: "Try again", Text: "The acknowledgement could not be stored; try again in a moment.", ID: id})
		return
	}
	s.log.Info("alert acknowledged", "alert_id", id, "by", "link")
	writeAckPage(w, http.StatusOK, ackPageData{Title: "Acknowledged", Text: "Acknowledged alert", ID: id})
}
