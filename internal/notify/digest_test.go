package notify_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify"
)

func held(id, rule, severity, eventID, eventTime string) *notify.Notification {
	return &notify.Notification{
		ID: id, Key: id, AlertID: "a-" + id, Receiver: "hook", Count: 1, Digest: "office|hook|2026-11-23T09:00:00Z",
		Alert: alert.Alert{
			Rule: rule, Severity: severity, EventID: eventID, EventTime: eventTime, Account: "111122223333",
			Region: "us-east-1", Principal: "root-" + eventID, Summary: rule + " happened", Tags: []string{"cis", rule},
		},
	}
}

func TestDigest(t *testing.T) {
	t.Parallel()
	ns := []*notify.Notification{
		held("d1", "root-console-signin", "high", "e1", "2026-11-23T08:10:00Z"),
		held("d2", "iam-policy-change", "critical", "e2", "2026-11-23T08:30:00Z"),
		held("d3", "root-console-signin", "high", "e3", "2026-11-23T08:00:00Z"),
	}
	d := notify.Digest(ns)
	wantSummary := "3 alerts held during the mute window: root-console-signin (2), iam-policy-change (1), " +
		"events from 2026-11-23T08:00:00Z to 2026-11-23T08:30:00Z"
	if d.Alert.Summary != wantSummary {
		t.Errorf("Summary = %q\nwant      %q", d.Alert.Summary, wantSummary)
	}
	if d.Count != 3 || d.Alert.Severity != "critical" || d.Key != "d1-digest" || d.ID != "d1" || d.AlertID != "a-d1" ||
		d.Receiver != "hook" || d.Body != nil || d.AckURL != "" || d.Digest != ns[0].Digest {
		t.Errorf("digest = %+v", d)
	}
	if d.Alert.Rule != "root-console-signin, iam-policy-change" || d.Alert.EventID != "" || d.Alert.EventTime != "2026-11-23T08:00:00Z" {
		t.Errorf("alert = %+v", d.Alert)
	}
	// Shared facts stay, differing ones go.
	if d.Alert.Account != "111122223333" || d.Alert.Region != "us-east-1" || d.Alert.Principal != "" {
		t.Errorf("facts: account %q region %q principal %q", d.Alert.Account, d.Alert.Region, d.Alert.Principal)
	}
	if !slices.Equal(d.Alert.Tags, []string{"cis", "root-console-signin", "iam-policy-change"}) {
		t.Errorf("Tags = %v", d.Alert.Tags)
	}
	var ev struct {
		Digest string              `json:"digest"`
		Alerts []notify.DigestItem `json:"alerts"`
	}
	if err := json.Unmarshal(d.Alert.Event, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Digest != ns[0].Digest || len(ev.Alerts) != 3 || ev.Alerts[1].EventID != "e2" || ev.Alerts[1].AlertID != "a-d2" {
		t.Errorf("event = %+v", ev)
	}
	// The inputs are untouched.
	if ns[0].Alert.Summary != "root-console-signin happened" || ns[0].Key != "d1" {
		t.Errorf("input changed: %+v", ns[0])
	}
	if got := notify.Title(d); got != "[CRITICAL] root-console-signin, iam-policy-change: "+wantSummary+" (3 alerts)" {
		t.Errorf("Title = %q", got)
	}
}

func TestDigestBodies(t *testing.T) {
	t.Parallel()
	a, b := held("d1", "r", "low", "e1", ""), held("d2", "r", "low", "e2", "")
	if d := notify.Digest([]*notify.Notification{a}); d != a {
		t.Errorf("Digest of one = %+v, want it unchanged", d)
	}
	if notify.Digest(nil) != nil {
		t.Error("Digest(nil) != nil")
	}
	a.Body, b.Body = []byte(`{"n": 1}`), []byte(`{"n":2}`)
	if d := notify.Digest([]*notify.Notification{a, b}); string(d.Body) != `[{"n":1},{"n":2}]` {
		t.Errorf("JSON bodies: %s", d.Body)
	}
	b.Body = []byte("plain")
	if d := notify.Digest([]*notify.Notification{a, b}); string(d.Body) != "{\"n\": 1}\nplain" {
		t.Errorf("text bodies: %q", d.Body)
	}
	if d := notify.Digest([]*notify.Notification{held("x", "r", "low", "e1", ""), held("y", "r", "low", "e2", "")}); d.Alert.Summary != "2 alerts held during the mute window: r (2)" {
		t.Errorf("no event times: %q", d.Alert.Summary)
	}
}
