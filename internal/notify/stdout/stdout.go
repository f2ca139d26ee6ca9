// Package stdout prints one line per notification: text for people, or
// JSON (the alert object with count and reminder) for scripts.
package stdout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify"
)

// ErrFormat is an unknown output format.
var ErrFormat = errors.New("stdout: format must be text or json")

// Notifier writes to one writer.
type Notifier struct {
	json bool
	o    notify.Options
	mu   sync.Mutex // guards w: one whole line at a time
	w    io.Writer
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier writing to w.
func New(cfg *config.StdoutConfig, w io.Writer, o notify.Options) (*Notifier, error) {
	s := &Notifier{w: w, o: o}
	switch cfg.Format {
	case "", "text":
	case "json":
		s.json = true
	default:
		return nil, ErrFormat
	}
	return s, nil
}

// Notify writes n as one line. It never asks for a retry: a failed write
// to standard output will not get better.
func (s *Notifier) Notify(ctx context.Context, n *notify.Notification) (bool, error) {
	var line []byte
	var err error
	if s.json {
		line, err = s.jsonLine(n)
		if err != nil {
			return false, err
		}
	} else {
		line = []byte(s.textLine(n))
	}
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(line); err != nil {
		return false, fmt.Errorf("stdout write: %w", err)
	}
	return false, nil
}

// textLine: time, severity, rule, principal, source IP, summary (or the
// fixed body), reminder and count, and the ack link.
func (s *Notifier) textLine(n *notify.Notification) string {
	a := &n.Alert
	when := a.EventTime
	if when == "" {
		when = s.o.Now().UTC().Format(time.RFC3339)
	}
	var b strings.Builder
	b.WriteString(when)
	b.WriteString(" " + strings.ToUpper(field(a.Severity)))
	b.WriteString(" " + field(a.Rule))
	b.WriteString(" principal=" + field(a.Principal))
	b.WriteString(" source_ip=" + field(a.SourceIP))
	if n.Reminder > 0 {
		fmt.Fprintf(&b, " reminder=%d", n.Reminder)
	}
	if n.Count > 1 {
		fmt.Fprintf(&b, " count=%d", n.Count)
	}
	msg := a.Summary
	if n.Body != nil {
		msg = string(n.Body)
	}
	b.WriteString(" " + oneLine(msg))
	if n.AckURL != "" {
		b.WriteString(" ack=" + n.AckURL)
	}
	return b.String()
}

func field(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Join(strings.Fields(s), "_")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// jsonLine: the alert object plus count, reminder and ack_url, and the
// fixed body (as JSON when it is JSON, else as a string) under "body".
func (s *Notifier) jsonLine(n *notify.Notification) ([]byte, error) {
	b, err := notify.AlertJSON(n)
	if err != nil {
		return nil, fmt.Errorf("stdout: %w", err)
	}
	if n.Body != nil {
		var body []byte
		var c bytes.Buffer
		if json.Compact(&c, n.Body) == nil {
			body = c.Bytes()
		} else {
			body, _ = json.Marshal(string(n.Body))
		}
		b = append(b[:len(b)-1], `,"body":`...)
		b = append(b, body...)
		b = append(b, '}')
	}
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		return nil, fmt.Errorf("stdout: %w", err)
	}
	return c.Bytes(), nil
}
