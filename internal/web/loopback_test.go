package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestLoopbackOnly: a server nothing authenticates answers only requests
// addressed to a loopback name, on every route (the UI's too), so a page
// of another site pointed at 127.0.0.1 (DNS rebinding) can neither read
// alerts nor post events; without LoopbackOnly any Host is served.
func TestLoopbackOnly(t *testing.T) {
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ui page")) })
	only, _ := newServer(t, Options{LoopbackOnly: true, PublicHost: "trailwatch.example.com", UI: ui})
	any, _ := newServer(t, Options{UI: ui})
	send := func(base, method, path, host string) int {
		t.Helper()
		var body *strings.Reader
		if method == http.MethodPost {
			body = strings.NewReader(`{"Records":[]}`)
		} else {
			body = strings.NewReader("")
		}
		req, _ := http.NewRequest(method, base+path, body)
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for host, ok := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "LOCALHOST": true, "[::1]:8080": true,
		"127.1.2.3": true, "app.localhost:1": true, "localhost.": true,
		"trailwatch.example.com": true, "TRAILWATCH.example.com": true, "trailwatch.example.com:8443": false,
		"evil.example:8080": false, "192.168.1.10:8080": false, "localhost.evil.example": false, "[::2]:80": false,
	} {
		for _, rt := range []struct{ method, path string }{{"GET", "/"}, {"GET", "/healthz"}, {"POST", "/events"}} {
			got := send(only.URL, rt.method, rt.path, host)
			if ok && got == http.StatusMisdirectedRequest || !ok && got != http.StatusMisdirectedRequest {
				t.Errorf("LoopbackOnly, Host %q, %s %s: %d", host, rt.method, rt.path, got)
			}
			if got := send(any.URL, rt.method, rt.path, host); got == http.StatusMisdirectedRequest {
				t.Errorf("without LoopbackOnly, Host %q, %s %s: %d", host, rt.method, rt.path, got)
			}
		}
	}
}
