package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/store"
)

// listed is what the alerts list should hold of an alert the suite
// recorded: the model Alerts is checked against.
type listed struct {
	id, rule, severity, account, state string
	seen                               time.Time
}

// match is AlertFilter's meaning, for the model.
func (a listed) match(f store.AlertFilter) bool {
	switch {
	case f.State == "" && a.state == store.StatePending,
		f.State != "" && a.state != f.State,
		f.Rule != "" && a.rule != f.Rule,
		f.Severity != "" && !strings.EqualFold(a.severity, f.Severity),
		f.Account != "" && a.account != f.Account,
		!f.Since.IsZero() && a.seen.Before(f.Since):
		return false
	}
	c := f.After
	return c.IsZero() || a.seen.Before(c.FirstSeen) || a.seen.Equal(c.FirstSeen) && a.id > c.ID
}

// listOrder is the alerts list's order: first seen, latest first, then id.
func listOrder(a, b listed) int {
	if c := b.seen.Compare(a.seen); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// want is the model's answer to f: ids in the list's order.
func want(model []listed, f store.AlertFilter) []string {
	var out []listed
	for _, a := range model {
		if a.match(f) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, listOrder)
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	ids := make([]string, len(out))
	for i, a := range out {
		ids[i] = a.id
	}
	return ids
}

func ids(as []store.AlertRow) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

// recordModel records n alerts, group by group (the clock a minute on
// between groups: the alerts of a group share a first_seen), of rules,
// severities and accounts that vary apart, with one delivery each; every
// seventh is a folding alert below its threshold (pending). Then it gives
// the others their states: every fifth from the second notified (its
// delivery completed), from the third acknowledged, from the fourth
// dead-lettered, the others new (their deliveries retried later).
func recordModel(t *testing.T, clk *clock.Fake, s store.Store, groups []int) []listed {
	t.Helper()
	rules := []string{"root", "iam", "s3"}
	// "Medium": a severity stored capitalised matches any case too.
	sevs := []string{"high", "low", "critical", "Medium"}
	accounts := []string{"111122223333", "444455556666", ""}
	var (
		model []listed
		batch []store.Seen
	)
	n := 0
	for _, size := range groups {
		batch = batch[:0]
		for range size {
			ev := fmt.Sprintf("e%d", n)
			a := listed{rule: rules[n%3], severity: sevs[n%4], account: accounts[n/2%3], seen: clk.Now(), state: store.StateNew}
			h := hit(a.rule, ev, "slack")
			h.Alert.Severity, h.Alert.Account = a.severity, a.account
			a.id = store.AlertID(a.rule, ev, time.Time{}, false)
			if n%7 == 6 {
				h.DedupPeriod, h.Threshold = time.Hour, 3
				a.id, a.state = store.AlertID(a.rule, ev, clk.Now(), true), store.StatePending
			}
			switch n % 5 {
			case 1:
				a.state = store.StateNotified
			case 2:
				a.state = store.StateAcked
			case 3:
				a.state = store.StateDeadLettered
			}
			if h.DedupPeriod > 0 {
				a.state = store.StatePending
			}
			model = append(model, a)
			batch = append(batch, seen(ev, h))
			n++
		}
		record(t, s, batch...)
		clk.Advance(time.Minute)
	}
	states := map[string]string{}
	for _, a := range model {
		states[a.id] = a.state
		if a.state == store.StateAcked {
			if err := s.Ack(ctxT(t), a.id, "alice"); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range claim(t, s, "w", len(model), time.Minute) {
		var err error
		switch states[d.AlertID] {
		case store.StateNotified:
			err = s.Complete(ctxT(t), d.ID, d.Token)
		case store.StateDeadLettered:
			err = s.DeadLetter(ctxT(t), d.ID, d.Token, "gone")
		default:
			err = s.Retry(ctxT(t), d.ID, d.Token, clk.Now().Add(time.Hour), "503")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return model
}

// Each filter, and filters together, select what the model does, in the
// list's order.
func testAlertFilters(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	model := recordModel(t, clk, s, []int{4, 6, 1, 9, 5, 7, 8})
	// A cursor inside the fourth group, at one of its alerts.
	var mid store.AlertCursor
	for _, a := range model {
		if a.seen.Equal(Epoch.Add(3*time.Minute)) && (mid.ID == "" || a.id < mid.ID) {
			mid = store.AlertCursor{FirstSeen: a.seen, ID: a.id}
		}
	}
	for _, tc := range []struct {
		name string
		f    store.AlertFilter
		none bool // the model lists nothing (else it must list something)
	}{
		{name: "none", f: store.AlertFilter{}},
		{name: "state new", f: store.AlertFilter{State: store.StateNew}},
		{name: "state notified", f: store.AlertFilter{State: store.StateNotified}},
		{name: "state acked", f: store.AlertFilter{State: store.StateAcked}},
		{name: "state dead-lettered", f: store.AlertFilter{State: store.StateDeadLettered}},
		{name: "state pending", f: store.AlertFilter{State: store.StatePending}},
		{name: "rule", f: store.AlertFilter{Rule: "iam"}},
		{name: "severity", f: store.AlertFilter{Severity: "critical"}},
		{name: "severity in capitals", f: store.AlertFilter{Severity: "HIGH"}},
		{name: "severity stored capitalised", f: store.AlertFilter{Severity: "medium"}},
		{name: "unknown severity", f: store.AlertFilter{Severity: "urgent"}, none: true},
		{name: "account", f: store.AlertFilter{Account: "444455556666"}},
		{name: "an account's prefix", f: store.AlertFilter{Account: "4444"}, none: true},
		{name: "rule and severity", f: store.AlertFilter{Rule: "root", Severity: "low"}},
		{name: "severity and account", f: store.AlertFilter{Severity: "high", Account: "111122223333"}},
		{name: "state, rule and account", f: store.AlertFilter{State: store.StateNew, Rule: "s3", Account: "444455556666"}},
		{name: "pending of an account", f: store.AlertFilter{State: store.StatePending, Account: "111122223333"}},
		{name: "everything", f: store.AlertFilter{State: store.StateNew, Rule: "iam", Severity: "LOW", Account: "111122223333"}},
		{name: "since and account", f: store.AlertFilter{Since: Epoch.Add(4 * time.Minute), Account: "111122223333"}},
		{name: "limit and severity", f: store.AlertFilter{Severity: "low", Limit: 3}},
		{name: "after", f: store.AlertFilter{After: mid}},
		{name: "after a time alone", f: store.AlertFilter{After: store.AlertCursor{FirstSeen: Epoch.Add(3 * time.Minute)}}},
		{name: "after, rule and account", f: store.AlertFilter{Rule: "root", Account: "444455556666", After: mid}},
		{name: "after, state and limit", f: store.AlertFilter{State: store.StateAcked, After: mid, Limit: 2}},
		{name: "after the oldest", f: store.AlertFilter{After: store.AlertCursor{FirstSeen: Epoch, ID: "~"}}, none: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := want(model, tc.f)
			if (len(w) == 0) != tc.none {
				t.Fatalf("the model lists %d alerts: a case that cannot fail", len(w))
			}
			got := alerts(t, s, tc.f)
			if g := ids(got); !slices.Equal(g, w) {
				t.Fatalf("Alerts(%+v) =\n%v\nwant\n%v", tc.f, g, w)
			}
			// The rows are those alerts, as recorded.
			for _, r := range got {
				i := slices.IndexFunc(model, func(a listed) bool { return a.id == r.ID })
				a := model[i]
				if r.Rule != a.rule || r.Severity != a.severity || r.Alert.Account != a.account || r.State != a.state || !r.FirstSeen.Equal(a.seen) {
					t.Errorf("row %s: rule %q severity %q account %q state %q first seen %v; want %+v",
						r.ID, r.Rule, r.Severity, r.Alert.Account, r.State, r.FirstSeen, a)
				}
			}
		})
	}
	if _, err := s.Alerts(ctxT(t), store.AlertFilter{After: store.AlertCursor{ID: model[0].id}}); err == nil {
		t.Error("a cursor with an id and no time accepted")
	}
}

// Pages of 7, each after the last row of the one before (its cursor
// through text, as a URL carries it), list every alert once, in order,
// alerts sharing a first_seen too; alerts recorded meanwhile are not in
// them. So do pages with a filter.
func testAlertPaging(t *testing.T, clk *clock.Fake, open func() store.Store) {
	s := open()
	model := recordModel(t, clk, s, []int{1, 9, 7, 14, 3, 21, 7, 1, 30, 8})
	for _, tc := range []struct {
		name string
		f    store.AlertFilter
	}{
		{"all", store.AlertFilter{}},
		{"account", store.AlertFilter{Account: "111122223333"}},
		{"state and severity", store.AlertFilter{State: store.StateNew, Severity: "high"}},
		{"pending", store.AlertFilter{State: store.StatePending}},
		{"rule since", store.AlertFilter{Rule: "iam", Since: Epoch.Add(2 * time.Minute)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			w := want(model, f)
			if len(w) <= 7 {
				t.Fatalf("the model lists %d alerts: one page", len(w))
			}
			all := ids(alerts(t, s, f))
			if !slices.Equal(all, w) {
				t.Fatalf("the whole list =\n%v\nwant\n%v", all, w)
			}
			var paged []string
			f.Limit = 7
			for page := 0; ; page++ {
				if page > len(w) {
					t.Fatalf("%d pages for %d alerts", page, len(w))
				}
				got := alerts(t, s, f)
				if len(got) == 0 {
					break
				}
				if rest := len(w) - len(paged); len(got) != min(7, rest) {
					t.Fatalf("page %d has %d alerts, want %d", page, len(got), min(7, rest))
				}
				paged = append(paged, ids(got)...)
				// An alert recorded between two pages is newer: not in
				// the pages after (the model has it for the next lists).
				ev := fmt.Sprintf("meanwhile-%d", len(model))
				h := hit("iam", ev, "slack")
				h.Alert.Severity, h.Alert.Account = "high", "111122223333"
				record(t, s, seen(ev, h))
				model = append(model, listed{id: store.AlertID("iam", ev, time.Time{}, false), rule: "iam", severity: "high",
					account: "111122223333", state: store.StateNew, seen: clk.Now()})
				c, err := store.ParseAlertCursor(got[len(got)-1].Cursor().String())
				if err != nil {
					t.Fatal(err)
				}
				if c != got[len(got)-1].Cursor() {
					t.Fatalf("cursor %v through text = %v", got[len(got)-1].Cursor(), c)
				}
				f.After = c
			}
			if !slices.Equal(paged, w) {
				t.Errorf("pages of 7 =\n%v\nwant\n%v", paged, w)
			}
		})
		clk.Advance(time.Second)
	}
}
