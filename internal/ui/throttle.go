package ui

import (
	"net"
	"sync"
	"time"
)

// Failed logins are throttled per client address: after MaxFailedLogins
// failures within FailedLoginWindow, that address's logins are refused
// (429, even with the right credentials, or guessing would go on) until
// the oldest failure leaves the window. bcrypt comparisons run at most
// two at a time, so a flood of logins cannot take every core.
const (
	MaxFailedLogins   = 10
	FailedLoginWindow = 5 * time.Minute
	maxTrackedClients = 10000
)

type throttle struct {
	mu       sync.Mutex
	failures map[string][]time.Time // client -> failure times, oldest first
	hashing  chan struct{}          // a slot per concurrent bcrypt comparison
}

func newThrottle() *throttle {
	return &throttle{failures: map[string][]time.Time{}, hashing: make(chan struct{}, 2)}
}

// client is the address a request came from, without its port.
func client(remoteAddr string) string {
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return h
	}
	return remoteAddr
}

// recent drops the failures older than the window and returns the rest.
func (t *throttle) recent(c string, now time.Time) []time.Time {
	fs := t.failures[c]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= FailedLoginWindow {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.failures, c)
	} else {
		t.failures[c] = fs
	}
	return fs
}

// blocked reports whether c may not try now, and when it may again.
func (t *throttle) blocked(c string, now time.Time) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.recent(c, now)
	if len(fs) < MaxFailedLogins {
		return false, 0
	}
	return true, fs[len(fs)-MaxFailedLogins].Add(FailedLoginWindow).Sub(now)
}

// fail records a failed login of c.
func (t *throttle) fail(c string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.failures[c]; !ok && len(t.failures) >= maxTrackedClients {
		// Bound the memory: forget the clients whose failures are all old.
		for k := range t.failures {
			t.recent(k, now)
		}
		if len(t.failures) >= maxTrackedClients {
			return
		}
	}
	fs := t.recent(c, now)
	if len(fs) >= MaxFailedLogins {
		fs = fs[1:]
	}
	t.failures[c] = append(fs, now)
}

// succeed forgets c's failures.
func (t *throttle) succeed(c string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, c)
}
