// Package slack posts notifications to a Slack incoming webhook: a Block
// Kit message that tells the whole story, or the body a route fixed.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify"
)

// Errors.
var (
	ErrNoURL  = errors.New("slack: webhook_url is required")
	ErrBadURL = errors.New("slack: webhook_url is not an http(s) URL")
)

// Notifier posts to one incoming webhook.
type Notifier struct {
	url    string
	tz     *time.Location
	o      notify.Options
	client *http.Client
	log    *slog.Logger
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for cfg.
func New(cfg *config.SlackConfig, o notify.Options) (*Notifier, error) {
	u := cfg.WebhookURL.Reveal()
	if u == "" {
		return nil, ErrNoURL
	}
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return nil, ErrBadURL // never quote the URL: it is the secret
	}
	tz, err := notify.LoadZone(cfg.TimeZone, o.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	return &Notifier{url: u, tz: tz, o: o, client: o.Client(), log: o.Log().With("receiver_type", "slack")}, nil
}

// Notify posts n. Slack answers 200 "ok"; 429 (with Retry-After) and 5xx
// are retried; other answers (invalid_payload, no_service, ...) are not.
func (s *Notifier) Notify(ctx context.Context, n *notify.Notification) (bool, error) {
	body := n.Body
	if body == nil {
		var err error
		body, err = json.Marshal(Message(n, s.tz, s.o.ConsoleBase))
		if err != nil {
			return false, fmt.Errorf("slack message: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("slack request: %w", notify.StripURL(err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := notify.Do(s.client, req)
	if err != nil {
		return true, fmt.Errorf("slack post: %w", err)
	}
	retry, err := notify.Classify(resp, s.o.Now())
	if err != nil {
		return retry, fmt.Errorf("slack post: %w", err)
	}
	s.log.DebugContext(ctx, "slack delivered", "receiver", n.Receiver, "id", n.ID)
	return false, nil
}

// Payload is an incoming webhook message.
type Payload struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

// Block is a Block Kit layout block (header, section, actions, context).
type Block struct {
	Type      string    `json:"type"`
	Text      *Text     `json:"text,omitempty"`
	Fields    []Text    `json:"fields,omitempty"`
	Elements  []Element `json:"elements,omitempty"`
	BlockID   string    `json:"block_id,omitempty"`
	Accessory *Element  `json:"accessory,omitempty"`
}

// Text is a Block Kit text object.
type Text struct {
	Type  string `json:"type"` // plain_text or mrkdwn
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// Element is a button or a context text.
type Element struct {
	Type     string `json:"type"`
	Text     any    `json:"text,omitempty"` // *Text for buttons, string for context mrkdwn
	URL      string `json:"url,omitempty"`
	Style    string `json:"style,omitempty"`
	ActionID string `json:"action_id,omitempty"`
}

// Block Kit limits.
const (
	maxHeader     = 150
	maxField      = 2000
	maxSection    = 3000
	maxButtonText = 75
	maxURL        = 3000
)

var severityEmoji = map[string]string{
	"CRITICAL": ":rotating_light:",
	"HIGH":     ":red_circle:",
	"MEDIUM":   ":large_orange_circle:",
	"LOW":      ":large_yellow_circle:",
	"INFO":     ":information_source:",
}

// Message builds the default Block Kit message for n: a header (severity,
// rule, summary; reminder and event count), the summary, who / what /
// when / where fields, buttons to the CloudTrail console and the ack link,
// and a context line.
func Message(n *notify.Notification, tz *time.Location, consoleBase string) *Payload {
	s := notify.NewStory(n, tz, consoleBase)
	p := &Payload{Text: s.Title}
	p.Blocks = append(p.Blocks, Block{
		Type: "header",
		Text: &Text{Type: "plain_text", Text: truncate(s.Title, maxHeader), Emoji: true},
	})
	if s.Summary != "" {
		lead := s.Summary
		if e, ok := severityEmoji[s.Severity]; ok {
			lead = e + " " + escape(lead)
		} else {
			lead = escape(lead)
		}
		p.Blocks = append(p.Blocks, Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: truncate(lead, maxSection)}})
	}
	var fields []Text
	for _, g := range []struct {
		name  string
		facts []notify.Fact
	}{{"Who", s.Who}, {"What", s.What}, {"When", s.When}, {"Where", s.Where}} {
		if len(g.facts) == 0 {
			continue
		}
		var b strings.Builder
		b.WriteString("*" + g.name + "*")
		for _, f := range g.facts {
			b.WriteString("\n" + f.Label + ": " + code(f.Label, f.Value))
		}
		fields = append(fields, Text{Type: "mrkdwn", Text: truncate(b.String(), maxField)})
	}
	if len(fields) > 0 {
		p.Blocks = append(p.Blocks, Block{Type: "section", Fields: fields})
	}
	var buttons []Element
	if s.ConsoleURL != "" && len(s.ConsoleURL) <= maxURL {
		buttons = append(buttons, Element{
			Type: "button", Text: &Text{Type: "plain_text", Text: "Open in CloudTrail"},
			URL: s.ConsoleURL, ActionID: "cloudtrail",
		})
	}
	if s.AckURL != "" && len(s.AckURL) <= maxURL {
		buttons = append(buttons, Element{
			Type: "button", Text: &Text{Type: "plain_text", Text: "Acknowledge"},
			URL: s.AckURL, Style: "primary", ActionID: "ack",
		})
	}
	if len(buttons) > 0 {
		p.Blocks = append(p.Blocks, Block{Type: "actions", Elements: buttons})
	}
	ctxText := "Trailwatch · rule `" + escape(s.Rule) + "`"
	if n.Alert.EventID != "" {
		ctxText += " · event `" + escape(n.Alert.EventID) + "`"
	}
	if s.Reminder > 0 {
		ctxText += fmt.Sprintf(" · reminder %d, not yet acknowledged", s.Reminder)
	}
	p.Blocks = append(p.Blocks, Block{Type: "context", Elements: []Element{{Type: "mrkdwn", Text: truncate(ctxText, maxSection)}}})
	return p
}

// code shows identifiers (ARNs, IPs, IDs) as code; prose as text.
func code(label, v string) string {
	switch label {
	case "ARN", "Source IP", "Event ID", "Account", "Region", "Event":
		if !strings.Contains(v, "`") {
			return "`" + escape(v) + "`"
		}
	}
	return escape(v)
}

// escape escapes Slack mrkdwn's control characters.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate cuts s to at most n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
