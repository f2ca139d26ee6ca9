package notifytest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Answer is one scripted HTTP answer.
type Answer struct {
	Code   int
	Header map[string]string
	Body   string
}

// Request is one request a Server received.
type Request struct {
	Method string
	URL    string // path and query
	Header http.Header
	Body   []byte
}

// Server is a real HTTP server on 127.0.0.1 that answers with scripted
// answers in turn (the last one repeating) and records the requests.
type Server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []Request
	ans  []Answer
}

// NewServer starts a Server, closed when the test ends.
func NewServer(t testing.TB, ans ...Answer) *Server {
	if len(ans) == 0 {
		ans = []Answer{{Code: 200}}
	}
	s := &Server{ans: ans}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		i := min(len(s.reqs), len(s.ans)-1)
		s.reqs = append(s.reqs, Request{r.Method, r.URL.RequestURI(), r.Header.Clone(), b})
		a := s.ans[i]
		s.mu.Unlock()
		for k, v := range a.Header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.Code)
		io.WriteString(w, a.Body)
	}))
	t.Cleanup(s.Close)
	return s
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}
