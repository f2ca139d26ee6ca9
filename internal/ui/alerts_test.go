package ui_test

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
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
	// The reminder policy, and when the next reminder is due; none after
	// the acknowledgement.
	if w := `<span class="policy">oncall-slack: every 1 hour, at most 3; next due 2026-03-01 13:00:30Z</span>`; !strings.Contains(body, w) {
		t.Errorf("page lacks %s", w)
	}
	if err := f.st.Ack(ctx, f.ids["ev-root"], "alice"); err != nil {
		t.Fatal(err)
	}
	_, body = f.get(t, "/alerts/"+f.ids["ev-root"])
	if w := `<span class="policy">oncall-slack: every 1 hour, at most 3; stopped by the acknowledgement</span>`; !strings.Contains(body, w) {
		t.Errorf("acked page lacks %s", w)
	}
}

// TestAlertsPaging: the list shows the newest 500 and links to older ones,
// keeping the filter; following the links lists every alert once.
func TestAlertsPaging(t *testing.T) {
	clk := clock.NewFake(t0)
	f := newFixtureWith(t, clk, ui.Options{Open: true})
	var batch []store.Seen
	for i := range 1103 {
		sev := "low"
		if i%2 == 0 {
			sev = "high"
		}
		id := fmt.Sprintf("page-%04d", i)
		batch = append(batch, store.Seen{EventKey: id, EventTime: t0, Hits: []store.Hit{{
			Rule: "paged", DedupKey: id, Threshold: 1,
			Alert: alert.Alert{Rule: "paged", Severity: sev, EventID: id, Account: "333333333333", Summary: "summary of " + id},
		}}})
		if i%100 == 99 {
			clk.Advance(time.Second) // alerts share first_seen in groups of 100
		}
	}
	if _, err := f.st.Record(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	linkRe := regexp.MustCompile(`<a class="alert-link" href="/alerts/([a-z0-9]+)">`)
	olderRe := regexp.MustCompile(`<a href="([^"]+)" id="older">`)
	walk := func(start string) (ids []string, pages int) {
		t.Helper()
		next := start
		for next != "" {
			resp, body := f.get(t, next)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", next, resp.StatusCode)
			}
			pages++
			for _, m := range linkRe.FindAllStringSubmatch(body, -1) {
				ids = append(ids, m[1])
			}
			next = ""
			if m := olderRe.FindStringSubmatch(body); m != nil {
				next = html.UnescapeString(m[1])
			}
			if pages > 1 && !strings.Contains(body, `id="newest"`) {
				t.Errorf("page %d has no link to the newest", pages)
			}
		}
		return ids, pages
	}
	for _, c := range []struct {
		start       string
		want, pages int
	}{
		{"/?rule=paged", 1103, 3},
		{"/?rule=paged&severity=high", 552, 2},
		{"/?account=333333333333&severity=low", 551, 2},
		{"/", 1105, 3}, // and the fixture's two
	} {
		ids, pages := walk(c.start)
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("%s: %s listed twice", c.start, id)
			}
			seen[id] = true
		}
		if len(ids) != c.want || pages != c.pages {
			t.Errorf("%s: %d alerts on %d pages, want %d on %d", c.start, len(ids), pages, c.want, c.pages)
		}
	}
	if resp, _ := f.get(t, "/?after=nonsense"); resp.StatusCode != 400 {
		t.Errorf("a bad cursor: %d", resp.StatusCode)
	}
}
