package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/rule"
)

// DigestItem is one held alert as a digest lists it (under "alerts" in
// the digest alert's event).
type DigestItem struct {
	AlertID   string `json:"alert_id"`
	Rule      string `json:"rule"`
	Severity  string `json:"severity"`
	EventID   string `json:"event_id"`
	EventTime string `json:"event_time,omitempty"`
	Principal string `json:"principal,omitempty"`
	SourceIP  string `json:"source_ip,omitempty"`
	Summary   string `json:"summary"`
	Count     int    `json:"count"`
}

// Digest builds the one notification that stands for ns, the
// notifications a route's mute window held for one receiver, sent together
// when the window closed. Its alert is a summary: Summary names the count,
// the rules (with how many alerts each, in order of first appearance) and
// the span of the events' times ("3 alerts held during the mute window:
// root-console-signin (2), iam-policy-change (1), events from
// 2026-11-23T08:00:00Z to 2026-11-23T08:30:00Z"); Rule the rules, comma
// separated; Severity the highest; the who and where facts only when every
// alert shares them; no EventID; Event {"digest": key, "alerts":
// [DigestItem...]}. Count is len(ns). The first notification gives the
// ids and the idempotency key (its Key + "-digest"); the digest has no
// AckURL (acknowledging stays per alert).
//
// Body is nil when every body is nil, so receivers render their default
// message for the summary alert. Otherwise it holds each notification's
// Message (its body, else its event): a JSON array when all are JSON,
// else one per line.
//
// Digest returns nil for no notifications and ns[0] itself for one.
func Digest(ns []*Notification) *Notification {
	switch len(ns) {
	case 0:
		return nil
	case 1:
		return ns[0]
	}
	first := ns[0]
	d := &Notification{
		ID:       first.ID,
		Key:      first.Key + "-digest",
		AlertID:  first.AlertID,
		Receiver: first.Receiver,
		Count:    len(ns),
		RuleARN:  first.RuleARN,
		Digest:   first.Digest,
		Held:     true,
		Queued:   first.Queued,
	}
	var (
		rules      []string
		perRule    = map[string]int{}
		items      = make([]DigestItem, 0, len(ns))
		top        = -1
		from, till time.Time
	)
	d.Alert = alert.Alert{Severity: first.Alert.Severity}
	for _, n := range ns {
		x := &n.Alert
		if perRule[x.Rule] == 0 {
			rules = append(rules, x.Rule)
		}
		perRule[x.Rule]++
		if r, err := rule.ParseSeverity(x.Severity); err == nil && int(r) > top {
			top, d.Alert.Severity = int(r), x.Severity
		}
		for _, tag := range x.Tags {
			if !slices.Contains(d.Alert.Tags, tag) {
				d.Alert.Tags = append(d.Alert.Tags, tag)
			}
		}
		if t, err := time.Parse(time.RFC3339Nano, x.EventTime); err == nil {
			if from.IsZero() || t.Before(from) {
				from = t
			}
			if t.After(till) {
				till = t
			}
		}
		items = append(items, DigestItem{
			AlertID: n.AlertID, Rule: x.Rule, Severity: x.Severity, EventID: x.EventID, EventTime: x.EventTime,
			Principal: x.Principal, SourceIP: x.SourceIP, Summary: x.Summary, Count: max(n.Count, 1),
		})
	}
	// The facts every alert shares.
	for _, f := range []func(*alert.Alert) *string{
		func(a *alert.Alert) *string { return &a.Account },
		func(a *alert.Alert) *string { return &a.Region },
		func(a *alert.Alert) *string { return &a.EventSource },
		func(a *alert.Alert) *string { return &a.EventName },
		func(a *alert.Alert) *string { return &a.Principal },
		func(a *alert.Alert) *string { return &a.PrincipalType },
		func(a *alert.Alert) *string { return &a.PrincipalARN },
		func(a *alert.Alert) *string { return &a.SourceIP },
		func(a *alert.Alert) *string { return &a.UserAgent },
		func(a *alert.Alert) *string { return &a.MFA },
		func(a *alert.Alert) *string { return &a.Outcome },
	} {
		v := *f(&first.Alert)
		if !slices.ContainsFunc(ns, func(n *Notification) bool { return *f(&n.Alert) != v }) {
			*f(&d.Alert) = v
		}
	}
	d.Alert.Rule = strings.Join(rules, ", ")
	if !from.IsZero() {
		d.Alert.EventTime = from.UTC().Format(time.RFC3339)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%d alerts held during the mute window: ", len(ns))
	for i, r := range rules {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%d)", r, perRule[r])
	}
	switch {
	case from.IsZero():
	case from.Equal(till):
		fmt.Fprintf(&b, ", events at %s", from.UTC().Format(time.RFC3339))
	default:
		fmt.Fprintf(&b, ", events from %s to %s", from.UTC().Format(time.RFC3339), till.UTC().Format(time.RFC3339))
	}
	d.Alert.Summary = b.String()

	ev, _ := json.Marshal(struct {
		Digest string       `json:"digest"`
		Alerts []DigestItem `json:"alerts"`
	}{first.Digest, items})
	d.Alert.Event = ev

	if slices.ContainsFunc(ns, func(n *Notification) bool { return n.Body != nil }) {
		d.Body = digestBody(ns)
	}
	return d
}

// digestBody joins the messages of ns: a JSON array when each is JSON,
// else one a line.
func digestBody(ns []*Notification) []byte {
	msgs := make([][]byte, 0, len(ns))
	allJSON := true
	for _, n := range ns {
		m, err := Message(n)
		if err != nil {
			m = []byte(n.Alert.Summary)
		}
		msgs = append(msgs, m)
		allJSON = allJSON && json.Valid(m)
	}
	if !allJSON {
		return bytes.Join(msgs, []byte("\n"))
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, m := range msgs {
		if i > 0 {
			b.WriteByte(',')
		}
		json.Compact(&b, m)
	}
	b.WriteByte(']')
	return b.Bytes()
}
