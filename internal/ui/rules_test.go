package ui_test

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/ui"
)

const teamRules = `rules:
  - name: team-key-created
    description: An access key was created.
    severity: high
    tags: [iam, team]
    pattern:
      detail:
        eventName: [CreateAccessKey]
    summary: "{{.principal}} created an access key"
    dedup: {key: "{{.principal}}", period: 1h, threshold: 2}
    remind_every: 30m
    remind_max: 3
    tests:
      - name: creates a key
        expect: true
        event: {"eventVersion": "1.08", "eventTime": "2026-03-01T11:00:00Z", "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey", "awsRegion": "us-east-1", "eventID": "t1", "recipientAccountId": "123456789012", "userIdentity": {"type": "IAMUser", "userName": "alice"}}
  - name: team-broken
    description: A trail was deleted.
    pattern:
      detail:
        eventName: [DeleteTrail]
    tests:
      - name: deletes a trail
        expect: true
        event: {"eventVersion": "1.08", "eventTime": "2026-03-01T11:00:00Z", "eventSource": "cloudtrail.amazonaws.com", "eventName": "DeleteTrail", "awsRegion": "us-east-1", "eventID": "t2", "recipientAccountId": "123456789012"}
      - name: wrongly expects stopping to match
        expect: true
        event: {"eventVersion": "1.08", "eventTime": "2026-03-01T11:00:00Z", "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "awsRegion": "us-east-1", "eventID": "t3", "recipientAccountId": "123456789012"}
  - name: team-untested
    pattern:
      detail:
        eventName: [PutBucketPolicy]
`

const cfnTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Resources:
  OnRule:
    Type: AWS::Events::Rule
    Properties:
      Name: stack-trail-stopped
      EventPattern:
        source: [aws.cloudtrail]
        detail:
          eventName: [StopLogging]
  Off:
    Type: AWS::Events::Rule
    Properties:
      State: DISABLED
      EventPattern:
        source: [aws.s3]
`

// recordAt records an alert of ruleName first seen at the store's clock
// time at.
func recordAt(t *testing.T, clk *clock.Fake, st store.Store, ruleName, id string, at time.Time) {
	t.Helper()
	clk.Set(at)
	ev, _ := json.Marshal(map[string]any{"eventID": id})
	_, err := st.Record(t.Context(), []store.Seen{{EventKey: id, EventTime: at, Hits: []store.Hit{{
		Rule: ruleName, DedupKey: id, Threshold: 1,
		Alert: alert.Alert{Rule: ruleName, Severity: "high", EventID: id, Principal: "alice", Summary: "summary of " + id, Event: ev},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
}

// rulesFixture serves the built-in packs, a rule file of the team's (one
// rule with a failing inline test) and a template (one rule, one DISABLED),
// with team-broken muted and alerts of team-key-created 2 h, 30 h and 10
// days old.
func rulesFixture(t *testing.T) (*fixture, string) {
	t.Helper()
	dir := t.TempDir()
	tpl := filepath.Join(dir, "stack.yaml")
	if err := os.WriteFile(tpl, []byte(cfnTemplate), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(nil, []string{tpl}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := rule.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	team, err := rule.Parse([]byte(teamRules), "team/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules := append(append(builtin, team...), cfg.Rules...)
	clk := clock.NewFake(t0.Add(-10 * 24 * time.Hour)) // a fake clock never goes back
	f := serveWith(t, clk, ui.Options{
		Rules:         rules,
		Muted:         func(name string) bool { return name == "team-broken" },
		DisabledRules: ui.DisabledRules(cfg.Skipped),
	}, func(st store.Store) {
		recordAt(t, clk, st, "team-key-created", "k-10d", t0.Add(-10*24*time.Hour))
		recordAt(t, clk, st, "team-key-created", "k-30h", t0.Add(-30*time.Hour))
		recordAt(t, clk, st, "team-key-created", "k-2h", t0.Add(-2*time.Hour))
		recordAt(t, clk, st, "stack-trail-stopped", "s-1h", t0.Add(-time.Hour))
		clk.Set(t0)
	})
	return f, tpl
}

// ruleRows splits the rules page into its rows, by rule name.
func ruleRows(body string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(body, `data-rule="`)[1:] {
		name, rest, _ := strings.Cut(part, `"`)
		row, _, _ := strings.Cut(rest, "</tr>")
		out[name] = row
	}
	return out
}

func TestRulesPage(t *testing.T) {
	f, tpl := rulesFixture(t)
	resp, body := f.get(t, "/rules")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /rules: %d %s", resp.StatusCode, body)
	}
	// Packs: the built-in ones first, then the files, each by name.
	var heads []string
	for _, part := range strings.Split(body, "<h2>")[1:] {
		h, _, _ := strings.Cut(part, "</h2>")
		heads = append(heads, h)
	}
	wantHeads := []string{"Built-in pack cis", "Built-in pack iam", "Built-in pack signin", tpl, "team/rules.yaml"}
	if !reflect.DeepEqual(heads, wantHeads) {
		t.Errorf("packs %q, want %q", heads, wantHeads)
	}
	rows := ruleRows(body)
	builtin, _ := rule.Builtin()
	if len(rows) != len(builtin)+3+1+1 {
		t.Errorf("%d rows, want %d", len(rows), len(builtin)+5)
	}
	for _, r := range builtin {
		row := rows[r.Name]
		want := fmt.Sprintf(`<span class="tests-passed">%d/%d</span>`, len(r.Tests), len(r.Tests))
		if len(r.Tests) == 0 || !strings.Contains(row, want) || !strings.Contains(row, "status-enabled") {
			t.Errorf("built-in %s: want %s, enabled: %s", r.Name, want, row)
		}
	}
	for _, c := range []struct {
		name string
		want []string
	}{
		{"team-key-created", []string{`href="/rules/team-key-created"`, `class="status status-enabled">enabled`, `<span class="tests-passed">1/1</span>`,
			`<td class="day"><a href="/?rule=team-key-created">1</a>`, `<td class="week"><a href="/?rule=team-key-created">2</a>`,
			`<td class="last"><a href="/?rule=team-key-created">2026-03-01 10:00:00Z</a>`, "iam, team", "An access key was created."}},
		{"team-broken", []string{`class="status status-muted">muted`, `<span class="tests-failed">1/2</span>`, `<td class="day"><a href="/?rule=team-broken">0</a>`, `<td class="last">—</td>`}},
		{"team-untested", []string{"no tests"}},
		{"stack-trail-stopped", []string{`class="status status-enabled">enabled`, "no tests", `<td class="day"><a href="/?rule=stack-trail-stopped">1</a>`}},
		{"Off", []string{`class="status status-disabled">disabled`, "State is DISABLED: not run"}},
	} {
		row, ok := rows[c.name]
		if !ok {
			t.Errorf("no row for %s", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(row, w) {
				t.Errorf("%s row lacks %q: %s", c.name, w, row)
			}
		}
	}
	// The DISABLED rule is listed in its template's pack.
	tplPack := body[strings.Index(body, "<h2>"+tpl+"</h2>"):]
	tplPack, _, _ = strings.Cut(tplPack, "</section>")
	if !strings.Contains(tplPack, `data-rule="Off"`) || !strings.Contains(tplPack, `data-rule="stack-trail-stopped"`) {
		t.Errorf("template pack: %s", tplPack)
	}
}

func TestRulePage(t *testing.T) {
	f, _ := rulesFixture(t)
	resp, body := f.get(t, "/rules/team-broken")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /rules/team-broken: %d", resp.StatusCode)
	}
	for _, want := range []string{
		"A trail was deleted.", `<dd id="status" class="status-muted">muted`, `<dd id="pack">team/rules.yaml</dd>`, `<dd id="source">team/rules.yaml:`,
		`<p id="test-summary" class="tests-failed">1 of 2 passed</p>`,
		`<tr class="test passed"><td>deletes a trail</td><td>match</td><td>passed</td><td></td>`,
		`<tr class="test failed"><td>wrongly expects stopping to match</td><td>match</td><td>FAILED</td><td>expected match=true, got false</td>`,
		"<pre id=\"pattern\">{\n  &#34;detail&#34;: {\n    &#34;eventName&#34;: [\n      &#34;DeleteTrail&#34;\n    ]\n  }\n}</pre>",
		"none: every matching event is its own alert", "No alerts.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("team-broken page lacks %q", want)
		}
	}

	// The failing test opens in the playground, which says which part did
	// not match.
	m := regexp.MustCompile(`<tr class="test failed">.*?<a class="try" href="([^"]+)">explain</a>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no playground link on the failing test")
	}
	_, pg := f.get(t, html.UnescapeString(m[1]))
	if !strings.Contains(pg, "matches: false") || !strings.Contains(pg, `<tr class="depth-0 cond failed"><td class="path">detail.eventName</td>`) {
		t.Errorf("the failing test's playground: %s", pg)
	}
	if !strings.Contains(body, `id="try-pattern" href="/playground?pattern=`) {
		t.Errorf("no playground link for the pattern")
	}

	_, body = f.get(t, "/rules/team-key-created")
	for _, want := range []string{
		`<dd id="status" class="status-enabled">enabled`, "1 of 1 passed", "iam, team", `class="sev-high">high`,
		"events with the same key ({{.principal}}) within 1 hour fold into one alert, which fires at 2 event(s)",
		"every 30 minutes, at most 3",
		`<a href="/?rule=team-key-created">1 alert(s) in the last 24 h, 2 in the last 7 days</a>; last match 2026-03-01 10:00:00Z`,
		"summary of k-2h", "summary of k-30h", "summary of k-10d",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("team-key-created page lacks %q", want)
		}
	}
	if strings.Index(body, "summary of k-2h") > strings.Index(body, "summary of k-30h") {
		t.Errorf("recent alerts not newest first")
	}
	for _, id := range []string{"k-2h", "k-10d"} {
		rows, err := f.st.Alerts(t.Context(), store.AlertFilter{Rule: "team-key-created"})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range rows {
			if a.Alert.EventID == id {
				found = strings.Contains(body, `href="/alerts/`+a.ID+`"`)
			}
		}
		if !found {
			t.Errorf("no link to the alert of %s", id)
		}
	}

	_, body = f.get(t, "/rules/root-console-signin")
	if !strings.Contains(body, `<dd id="pack">built-in pack signin</dd>`) || !strings.Contains(body, `<dd id="source">rules/signin.yaml:`) {
		t.Errorf("built-in rule page: pack or source missing")
	}
	assertStrict(t, f, "/rules", "/rules/team-broken", "/rules/root-console-signin")
	for _, p := range []string{"/rules/nosuchrule", "/rules/Off"} {
		if resp, _ := f.get(t, p); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
}

func TestDisabledRules(t *testing.T) {
	for _, c := range []struct {
		name    string
		skipped []string
		want    []ui.DisabledRule
	}{
		{"none", nil, nil},
		{"other skips ignored", []string{
			"stack.yaml: Fn (AWS::Lambda::Function): resource type not supported, skipped",
			"stack.yaml: Timer (AWS::Events::Rule): a scheduled rule without targets does nothing, skipped",
		}, nil},
		{"disabled rules", []string{
			"dir/stack.yaml: Off (AWS::Events::Rule): State is DISABLED, not run",
			"C:\\odd: name.yaml: Other (AWS::Events::Rule): State is DISABLED, not run",
		}, []ui.DisabledRule{
			{Name: "Off", File: "dir/stack.yaml", Reason: "State is DISABLED"},
			{Name: "Other", File: "C:\\odd: name.yaml", Reason: "State is DISABLED"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ui.DisabledRules(c.skipped); !reflect.DeepEqual(got, c.want) {
				t.Errorf("DisabledRules = %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestRulesPageUnloadedPacks: built-in packs a configuration did not load
// are listed as disabled, to be turned on.
func TestRulesPageUnloadedPacks(t *testing.T) {
	team, err := rule.Parse([]byte(teamRules), "team/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, clock.NewFake(t0), ui.Options{Open: true, Rules: team})
	_, body := f.get(t, "/rules")
	for _, want := range []string{
		"<h2>Built-in pack signin</h2>", "<h2>Built-in pack cis</h2>", "<h2>Built-in pack iam</h2>",
		`<tr class="rule-row disabled" data-rule="root-console-signin"><td>root-console-signin</td><td></td><td class="status status-disabled">disabled</td><td colspan="5">built-in pack not loaded`,
		`<a class="rule-link" href="/rules/team-key-created">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("rules page lacks %s", want)
		}
	}
	// With the packs loaded, none of their rules is listed as disabled.
	builtin, err := rule.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	f = newFixtureWith(t, clock.NewFake(t0), ui.Options{Open: true, Rules: append(builtin, team...)})
	if _, body := f.get(t, "/rules"); strings.Contains(body, "built-in pack not loaded") {
		t.Error("loaded packs listed as not loaded")
	}
}
