package web

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSecretsNotLogged drives every logging path with secrets about and
// checks that none reaches the log or a response.
func TestSecretsNotLogged(t *testing.T) {
	t.Parallel()
	f := newSNSFixture(t)
	var logs syncBuffer
	o := f.options()
	o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.APIKeys = map[string]string{"x-api-key": "SECRET-apikey"}
	o.BasicUsers = map[string]string{"sns": "SECRET-basic"}
	o.AdminToken = "SECRET-admin"
	o.AckKey = []byte("SECRET-ackkey")
	o.Acker = &recAcker{known: map[string]bool{"a1": true}, err: errors.New("disk full")}
	o.Sink = &recSink{err: errors.New("database is locked")}
	srv, _ := newServer(t, o)
	auth := map[string]string{"Authorization": basicHeader("sns", "SECRET-basic")}
	var responses []string
	keep := func(_ int, h http.Header, body string) {
		responses = append(responses, body, h.Get("WWW-Authenticate"))
	}

	keep(post(t, srv.URL+"/events", ebEvent("e1"), map[string]string{"x-api-key": "SECRET-wrongkey"}))
	keep(post(t, srv.URL+"/events", ebEvent("e1"), map[string]string{"x-api-key": "SECRET-apikey"}))
	// A confirmation whose SubscribeURL fails: the token is in its query.
	m := f.confirmation("SubscriptionConfirmation", "s1", "SECRET-token")
	m["SubscribeURL"] = f.srv.URL + "/missing?Token=SECRET-token"
	hdr := snsHeaders("SubscriptionConfirmation", "s1")
	hdr["Authorization"] = auth["Authorization"]
	keep(post(t, srv.URL+"/events", f.sign(t, m, "2"), hdr))
	// A refused confirmation (tampered).
	keep(post(t, srv.URL+"/events", edit(t, f.sign(t, f.confirmation("SubscriptionConfirmation", "s2", "SECRET-token2"), "2"),
		func(m map[string]string) { m["Message"] = "x" }), hdr))
	keep(post(t, srv.URL+"/alerts/a1/ack", "", map[string]string{"Authorization": "Bearer SECRET-admin"}))
	keep(post(t, srv.URL+"/alerts/a1/ack", "", map[string]string{"Authorization": "Bearer SECRET-wrongadmin"}))
	keep(post(t, SignAckURL(srv.URL, o.AckKey, "a1"), "", nil))

	if logs.String() == "" {
		t.Fatal("nothing logged: the test proves nothing")
	}
	for _, where := range append([]string{logs.String()}, responses...) {
		if strings.Contains(where, "SECRET") {
			t.Errorf("a secret leaked:\n%s", where)
		}
	}
}
