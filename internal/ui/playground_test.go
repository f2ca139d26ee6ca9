package ui_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/clock"
	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/internal/ui"
)

// rootSignIn is a root console sign-in as CloudTrail records it.
const rootSignIn = `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},` +
	`"eventTime":"2024-03-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1",` +
	`"sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},` +
	`"additionalEventData":{"MFAUsed":"No"},"eventID":"pg-1","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333"}`

// rows returns the explanation table's rows as "class|cell|cell|..." with
// tags stripped, so tests can say which line failed.
func rows(t *testing.T, body, id string) []string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no #%s in %s", id, body)
	}
	table := body[i:]
	table = table[:strings.Index(table, "</table>")]
	trRe := regexp.MustCompile(`(?s)<tr class="([^"]*)">(.*?)</tr>`)
	tagRe := regexp.MustCompile(`<[^>]+>`)
	var out []string
	for _, m := range trRe.FindAllStringSubmatch(table, -1) {
		cells := strings.Split(m[2], "</td>")
		line := m[1]
		for _, c := range cells[:len(cells)-1] {
			line += "|" + html.UnescapeString(strings.TrimSpace(tagRe.ReplaceAllString(c, "")))
		}
		out = append(out, line)
	}
	return out
}

func TestPlaygroundExplains(t *testing.T) {
	rules, err := rule.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, clock.NewFake(t0), ui.Options{Open: true, Rules: rules})
	pat := `{"source":["aws.signin"],"detail":{"userIdentity":{"type":["IAMUser"]},"$or":[{"sourceIPAddress":[{"cidr":"10.0.0.0/8"}]},{"additionalEventData":{"MFAUsed":["Yes"]}}]}}`
	_, body := f.get(t, "/playground?"+url.Values{"pattern": {pat}, "event": {rootSignIn}}.Encode())
	if !strings.Contains(body, "matches: false") {
		t.Fatalf("want no match: %s", body)
	}
	got := rows(t, body, "explain")
	want := []string{
		`depth-0 cond ok|source|["aws.signin"]|"aws.signin"|matches`,
		`depth-0 cond failed|detail.userIdentity.type|["IAMUser"]|"Root"|does not match`,
		`depth-0 group|$or in detail: at least one branch must match|no branch matches`,
		`depth-1 branch|branch 1|does not match`,
		`depth-2 cond failed|detail.sourceIPAddress|[{"cidr":"10.0.0.0/8"}]|"198.51.100.7"|does not match`,
		`depth-1 branch|branch 2|does not match`,
		`depth-2 cond failed|detail.additionalEventData.MFAUsed|["Yes"]|"No"|does not match`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("explanation:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The record was tested in its EventBridge envelope, and the built-in
	// rules it matches are named.
	for _, w := range []string{`id="wrapped"`, "AWS Console Sign In via CloudTrail", `href="/rules/root-console-signin"`} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %s", w)
		}
	}

	// An absent field, and a matching pattern.
	_, body = f.get(t, "/playground?"+url.Values{"pattern": {`{"detail":{"errorCode":["AccessDenied"],"eventName":["ConsoleLogin"]}}`}, "event": {rootSignIn}}.Encode())
	got = rows(t, body, "explain")
	if len(got) != 2 || got[0] != `depth-0 cond failed|detail.errorCode|["AccessDenied"]|absent|does not match` || !strings.HasPrefix(got[1], "depth-0 cond ok|detail.eventName") {
		t.Errorf("absent field: %q", got)
	}
	_, body = f.get(t, "/playground?"+url.Values{"pattern": {`{"detail":{"eventName":["ConsoleLogin"]}}`}, "event": {rootSignIn}}.Encode())
	if !strings.Contains(body, "matches: true") || strings.Contains(body, `cond failed`) {
		t.Errorf("matching pattern: %s", body)
	}
	// Array consistency: each condition holds, the whole does not.
	ev := `{"detail":{"items":[{"a":"1","b":"x"},{"a":"2","b":"y"}]}}`
	_, body = f.get(t, "/playground?"+url.Values{"pattern": {`{"detail":{"items":{"a":["1"],"b":["y"]}}}`}, "event": {ev}}.Encode())
	if !strings.Contains(body, "matches: false") || !strings.Contains(body, `id="explain-note"`) || strings.Contains(body, "cond failed") {
		t.Errorf("array consistency: %s", body)
	}
	// Hostile input is escaped; long values are cut.
	long := strings.Repeat("A", 5000)
	_, body = f.get(t, "/playground?"+url.Values{"pattern": {`{"detail":{"x":["<script>alert(1)</script>"]}}`}, "event": {`{"detail":{"x":"` + long + `"}}`}}.Encode())
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "more bytes)") {
		t.Errorf("escaping or cutting: %s", body)
	}
	// Errors name the part.
	for _, c := range []struct{ pat, ev, want string }{
		{`{"detail":`, `{}`, "pattern: "},
		{`{"detail":{"x":["1"]}}`, `[1,2]`, "event: "},
		{`{"detail":{"x":[{"numeric":["<"]}]}}`, `{}`, "pattern: "},
	} {
		_, body := f.get(t, "/playground?"+url.Values{"pattern": {c.pat}, "event": {c.ev}}.Encode())
		if !strings.Contains(body, `<p id="event-result" class="error">`+c.want) {
			t.Errorf("%s / %s: want %q in %s", c.pat, c.ev, c.want, body)
		}
	}
}

func TestPlaygroundExplainsFilters(t *testing.T) {
	f := newFixture(t, true, "")
	for _, c := range []struct {
		name, filter, message string
		want                  []string
	}{
		{"json", `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") }`, rootSignIn, []string{
			`depth-0 group|all of (&&)|false`,
			`depth-1 cond ok|$.eventName|= "ConsoleLogin"|"ConsoleLogin"|true`,
			`depth-1 cond ok|$.additionalEventData.MFAUsed|!= "Yes"|"No"|true`,
			`depth-1 cond failed|$.userIdentity.type|= "IAMUser"|"Root"|false`,
		}},
		{"space-delimited", `[ip, user, status=404]`, `10.0.0.1 bob 200`, []string{
			`cond ok|ip|1|10.0.0.1|true`,
			`cond ok|user|2|bob|true`,
			`cond failed|status=404|3|200|false`,
		}},
		{"terms", `ERROR -Exiting`, `ERROR Exiting now`, []string{
			`cond ok|ERROR|present|true`,
			`cond failed|-Exiting|present|false`,
		}},
	} {
		_, body := f.get(t, "/playground?"+url.Values{"filter": {c.filter}, "message": {c.message}}.Encode())
		if !strings.Contains(body, "matches: false") {
			t.Errorf("%s: want no match", c.name)
		}
		got := rows(t, body, "filter-explain")
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n%s\nwant:\n%s", c.name, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}
