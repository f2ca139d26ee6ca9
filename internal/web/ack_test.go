package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSignAckURL(t *testing.T) {
	t.Parallel()
	key := []byte("k")
	u := SignAckURL("https://tw.example.com/base/", key, "alert 1/2")
	if !strings.HasPrefix(u, "https://tw.example.com/base/ack/alert%201%2F2?sig=") {
		t.Errorf("url %q", u)
	}
	if u2 := SignAckURL("https://tw.example.com/base", key, "alert 1/2"); u2 != u {
		t.Errorf("trailing slash changes the url: %q vs %q", u2, u)
	}
	if u3 := SignAckURL("https://tw.example.com/base", []byte("other"), "alert 1/2"); u3 == u {
		t.Error("the key does not change the signature")
	}
	if u4 := SignAckURL("https://tw.example.com/base", key, "alert 1/3"); u4[strings.Index(u4, "sig="):] == u[strings.Index(u, "sig="):] {
		t.Error("the id does not change the signature")
	}
}

func TestAckAPI(t *testing.T) {
	t.Parallel()
	newAcker := func() *recAcker { return &recAcker{known: map[string]bool{"a1": true}} }
	tests := []struct {
		name  string
		opts  Options
		path  string
		hdr   map[string]string
		body  string
		err   error
		want  int
		acked string
	}{
		{"admin token", Options{AdminToken: "adm"}, "/alerts/a1/ack", map[string]string{"Authorization": "Bearer adm"}, `{"by":"alice"}`, nil, 200, "a1 alice"},
		{"admin token, no body", Options{AdminToken: "adm"}, "/alerts/a1/ack", map[string]string{"Authorization": "bearer adm"}, "", nil, 200, "a1 api"},
		{"wrong admin token", Options{AdminToken: "adm"}, "/alerts/a1/ack", map[string]string{"Authorization": "Bearer adm2"}, "", nil, 401, ""},
		{"no admin token", Options{AdminToken: "adm"}, "/alerts/a1/ack", nil, "", nil, 401, ""},
		{"ingest key when an admin token is set", Options{AdminToken: "adm", APIKeys: map[string]string{"x-api-key": "k"}}, "/alerts/a1/ack", map[string]string{"X-Api-Key": "k"}, "", nil, 401, ""},
		{"ingest key without an admin token", Options{APIKeys: map[string]string{"x-api-key": "k"}}, "/alerts/a1/ack", map[string]string{"X-Api-Key": "k"}, `{"by":"bob"}`, nil, 200, "a1 bob"},
		{"wrong ingest key", Options{APIKeys: map[string]string{"x-api-key": "k"}}, "/alerts/a1/ack", map[string]string{"X-Api-Key": "j"}, "", nil, 401, ""},
		{"unknown alert", Options{AdminToken: "adm"}, "/alerts/zz/ack", map[string]string{"Authorization": "Bearer adm"}, "", nil, 404, ""},
		{"bad body", Options{AdminToken: "adm"}, "/alerts/a1/ack", map[string]string{"Authorization": "Bearer adm"}, `{"by":`, nil, 400, ""},
		{"store failure", Options{AdminToken: "adm"}, "/alerts/a1/ack", map[string]string{"Authorization": "Bearer adm"}, "", errors.New("disk full"), 503, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAcker()
			a.err = tt.err
			o := tt.opts
			o.Acker = a
			srv, _ := newServer(t, o)
			code, h, body := post(t, srv.URL+tt.path, tt.body, tt.hdr)
			if code != tt.want {
				t.Fatalf("status %d, want %d; %s", code, tt.want, body)
			}
			if code == 200 && body != `{"id":"a1","state":"acked"}`+"\n" {
				t.Errorf("body %s", body)
			}
			if code == 401 && h.Get("WWW-Authenticate") == "" && o.AdminToken != "" {
				t.Error("no WWW-Authenticate")
			}
			got := strings.Join(a.got(), ";")
			if got != tt.acked {
				t.Errorf("acked %q, want %q", got, tt.acked)
			}
		})
	}
}

func TestAckLinks(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	acker := &recAcker{known: map[string]bool{"alert-7": true}}
	srv, _ := newServer(t, Options{Acker: acker, AckKey: key, AdminToken: "adm"})
	link := SignAckURL(srv.URL, key, "alert-7")

	// GET shows a page with a POST button and acknowledges nothing.
	code, h, body := do(t, http.MethodGet, link, nil, nil)
	if code != http.StatusOK {
		t.Fatalf("GET: status %d; %s", code, body)
	}
	if !strings.Contains(body, `<form method="post">`) || !strings.Contains(body, "alert-7") {
		t.Errorf("GET page lacks the form or the id:\n%s", body)
	}
	if h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("GET headers %v", h)
	}
	if got := acker.got(); len(got) != 0 {
		t.Fatalf("GET acknowledged: %v", got)
	}

	// The form posts to the page's own URL.
	code, _, body = do(t, http.MethodPost, link, strings.NewReader(""), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if code != http.StatusOK || !strings.Contains(body, "Acknowledged") {
		t.Fatalf("POST: status %d; %s", code, body)
	}
	if got := strings.Join(acker.got(), ";"); got != "alert-7 link" {
		t.Errorf("acked %q", got)
	}

	u, _ := url.Parse(link)
	sig := u.Query().Get("sig")
	tampered := []string{
		srv.URL + "/ack/alert-8?sig=" + sig,                   // another id
		srv.URL + "/ack/alert-7?sig=" + sig[:len(sig)-1],      // cut short
		srv.URL + "/ack/alert-7?sig=" + flip(sig),             // altered
		srv.URL + "/ack/alert-7",                              // none
		SignAckURL(srv.URL, []byte("another key"), "alert-7"), // another key
	}
	for _, l := range tampered {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			if code, _, _ := do(t, m, l, nil, nil); code != http.StatusForbidden {
				t.Errorf("%s %s: status %d, want 403", m, l, code)
			}
		}
	}
	if got := acker.got(); len(got) != 1 {
		t.Errorf("tampered links acknowledged: %v", got)
	}

	// A valid signature for an alert the store does not know.
	unknown := SignAckURL(srv.URL, key, "alert-9")
	if code, _, _ := do(t, http.MethodPost, unknown, nil, nil); code != http.StatusNotFound {
		t.Errorf("unknown alert: status %d, want 404", code)
	}
}

// flip changes the first character of a base64url string.
func flip(s string) string {
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}

func TestAckLinksDisabledWithoutKey(t *testing.T) {
	t.Parallel()
	acker := &recAcker{known: map[string]bool{"a": true}}
	srv, _ := newServer(t, Options{Acker: acker})
	link := SignAckURL(srv.URL, nil, "a")
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if code, _, _ := do(t, m, link, nil, nil); code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", m, code)
		}
	}
	if len(acker.got()) != 0 {
		t.Error("acknowledged without a key")
	}
}
