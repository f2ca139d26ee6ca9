package ui_test

import (
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/ui"
)

// TestAlertAttempts: the alert page lists every attempt of each delivery,
// with its outcome, error and next attempt.
func TestAlertAttempts(t *testing.T) {
	clk := clock.NewFake(t0)
	f := newFixtureWith(t, clk, ui.Options{Open: true})
	ctx := t.Context()
	claim := func() (id, token string) {
		t.Helper()
		ds, err := f.st.Claim(ctx, "test", 10, time.Minute)
		if err != nil || len(ds) == 0 {
			t.Fatalf("claim: %v %v", ds, err)
		}
		for _, d := range ds {
			if d.AlertID == f.ids["ev-root"] {
				return d.ID, d.Token
			}
		}
		t.Fatalf("no delivery of ev-root claimed: %+v", ds)
		return "", ""
	}
	id, tok := claim()
	if err := f.st.Retry(ctx, id, tok, t0.Add(30*time.Second), "HTTP 500 from <receiver>"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Second)
	id, tok = claim()
	if err := f.st.Complete(ctx, id, tok); err != nil {
		t.Fatal(err)
	}
	_, body := f.get(t, "/alerts/"+f.ids["ev-root"])
	re := regexp.MustCompile(`<li class="attempt attempt-(\S+)" value="(\d)">([^<]*)</li>`)
	var got []string
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		got = append(got, m[1]+" #"+m[2]+" "+html.UnescapeString(m[3]))
	}
	want := []string{
		"retry #1 2026-03-01 12:00:00Z: retry: HTTP 500 from <receiver>; next attempt at 2026-03-01 12:00:30Z",
		"delivered #2 2026-03-01 12:00:30Z: delivered",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("attempts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
