package email

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/notify/notifytest"
)

// TestRemindersThread: a reminder replies to the alert's first
// notification (In-Reply-To and References name its Message-ID) under its
// subject, so mail clients show them as one thread; a custom subject is
// kept; a notification without a thread (queued before threads existed)
// has no reply headers.
func TestRemindersThread(t *testing.T) {
	parse := func(b []byte, err error) *mail.Message {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	e := newNotifier(t, &config.EmailConfig{To: []string{"secops@example.com"}}, "smtp://127.0.0.1:25", nil)
	first := notifytest.Notification()
	first.Thread = first.Key
	m0 := parse(e.Message(first))
	rem := notifytest.Notification()
	rem.Key, rem.Reminder, rem.Thread = "r-2", 2, first.Key
	m2 := parse(e.Message(rem))

	id0 := m0.Header.Get("Message-ID")
	if m0.Header.Get("In-Reply-To") != "" || m0.Header.Get("References") != "" {
		t.Errorf("the first notification replies to something")
	}
	if id2 := m2.Header.Get("Message-ID"); id2 == id0 || id2 == "" {
		t.Errorf("reminder Message-ID %q (first %q)", id2, id0)
	}
	if m2.Header.Get("In-Reply-To") != id0 || m2.Header.Get("References") != id0 {
		t.Errorf("reminder In-Reply-To %q References %q, want %q", m2.Header.Get("In-Reply-To"), m2.Header.Get("References"), id0)
	}
	s0, s2 := m0.Header.Get("Subject"), m2.Header.Get("Subject")
	if s2 != "Re: "+s0 {
		t.Errorf("reminder subject %q, want Re: %q", s2, s0)
	}
	var body bytes.Buffer
	body.ReadFrom(m2.Body)
	if !strings.Contains(body.String(), "Reminder 2") {
		t.Errorf("reminder body does not say which reminder")
	}

	old := notifytest.Notification()
	old.Key, old.Reminder = "r-1", 1
	mo := parse(e.Message(old))
	if mo.Header.Get("In-Reply-To") != "" || !strings.HasPrefix(mo.Header.Get("Subject"), "Reminder 1: ") {
		t.Errorf("threadless reminder: In-Reply-To %q subject %q", mo.Header.Get("In-Reply-To"), mo.Header.Get("Subject"))
	}

	custom := newNotifier(t, &config.EmailConfig{To: []string{"secops@example.com"}, Subject: "{{.principal}} signed in"}, "smtp://127.0.0.1:25", nil)
	mc := parse(custom.Message(rem))
	if mc.Header.Get("Subject") != "root signed in" || mc.Header.Get("In-Reply-To") != id0 {
		t.Errorf("custom subject reminder: %q %q", mc.Header.Get("Subject"), mc.Header.Get("In-Reply-To"))
	}
}
