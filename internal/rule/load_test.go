package rule

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/event"
)

const rootRecord = `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"123456789012","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012"},"eventTime":"2023-07-10T12:23:15Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.10","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"},"eventID":"70e5932e-9022-4b38-837e-ca10dad94eb7","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`

const oneRule = `name: root-console-signin
description: root signed in
severity: critical
tags: [cis-1.7]
pattern:
  detail-type: [AWS Console Sign In via CloudTrail]
  detail:
    userIdentity:
      type: [Root]
summary: "root from {{.source_ip}} MFA {{.mfa}}"
tests:
  - name: root
    expect: true
    event: ` + rootRecord + `
`

func TestParseShapes(t *testing.T) {
	t.Parallel()
	list := "rules:\n  - " + strings.ReplaceAll(oneRule, "\n", "\n    ") + "\n"
	bare := "- " + strings.ReplaceAll(oneRule, "\n", "\n  ") + "\n"
	for name, src := range map[string]string{"one rule": oneRule, "rules list": list, "bare list": bare} {
		rs, err := Parse([]byte(src), "x.yaml")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rs) != 1 {
			t.Fatalf("%s: %d rules, want 1", name, len(rs))
		}
		r := rs[0]
		if r.Name != "root-console-signin" || r.Severity != SeverityCritical || len(r.Tags) != 1 || len(r.Tests) != 1 {
			t.Errorf("%s: got %+v", name, r)
		}
		if !strings.HasPrefix(r.Source, "x.yaml:") {
			t.Errorf("%s: Source = %q", name, r.Source)
		}
		for _, res := range RunTests(rs) {
			if !res.Passed() {
				t.Errorf("%s: %v", name, res)
			}
		}
		if got, want := r.Summary(r.Tests[0].Event), "root from 192.0.2.10 MFA No"; got != want {
			t.Errorf("%s: Summary = %q, want %q", name, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // substrings of the error text
	}{
		{"unknown key", "name: a\npattern: {source: [aws.s3]}\nseverty: high\n", []string{"x.yaml:3:1: severty: unknown key"}},
		{"unknown test key", "name: a\npattern: {source: [aws.s3]}\ntests:\n  - expect: true\n    evnt: {}\n", []string{"x.yaml:5:5: tests[0].evnt: unknown key"}},
		{"missing name", "pattern: {source: [aws.s3]}\n", []string{"x.yaml:1:1: name: missing"}},
		{"missing pattern", "name: a\n", []string{"x.yaml:1:1: pattern: missing"}},
		{"bad name", "name: Root_Login\npattern: {source: [aws.s3]}\n", []string{"x.yaml:1:7: name:", "kebab-case"}},
		{"bad severity", "name: a\nseverity: urgent\npattern: {source: [aws.s3]}\n", []string{"x.yaml:2:11: severity: unknown severity \"urgent\""}},
		{"bad pattern", "name: a\npattern:\n  detail:\n    eventName: ConsoleLogin\n", []string{"x.yaml:2:1: pattern: detail.eventName"}},
		{"bad pattern in list", "rules:\n  - name: a\n    pattern:\n      detail:\n        eventName: []\n", []string{"x.yaml:3:5: rules[0].pattern: detail.eventName"}},
		{"bad JSON pattern", "name: a\npattern: '{\"source\": '\n", []string{"x.yaml:2:10: pattern: bad JSON"}},
		{"bad template", "name: a\npattern: {source: [aws.s3]}\nsummary: \"{{.x\"\n", []string{"x.yaml:3:10: summary:"}},
		{"unknown template function", "name: a\npattern: {source: [aws.s3]}\nsummary: \"{{nosuch .x}}\"\n", []string{"x.yaml:3:10: summary:", "nosuch"}},
		{"expect not bool", "name: a\npattern: {source: [aws.s3]}\ntests:\n  - expect: yes\n    event: {eventName: X}\n", []string{"x.yaml:4:13: tests[0].expect: want true or false"}},
		{"missing expect", "name: a\npattern: {source: [aws.s3]}\ntests:\n  - event: {eventName: X}\n", []string{"x.yaml:4:5: tests[0].expect: missing"}},
		{"event and event_file", "name: a\npattern: {source: [aws.s3]}\ntests:\n  - expect: true\n    event: {eventName: X}\n    event_file: a.json\n", []string{"tests[0].event_file: give event or event_file"}},
		{"duplicate key", "name: a\nname: b\npattern: {source: [aws.s3]}\n", []string{"x.yaml:2:1: name: duplicate key"}},
		{"duplicate pattern key", "name: a\npattern:\n  source: [aws.s3]\n  source: [aws.ec2]\n", []string{"x.yaml:4:3: pattern.source: duplicate key"}},
		{"yaml syntax", "name: a\n  pattern: [\n", []string{"x.yaml:"}},
		{"not a rule", "42\n", []string{"x.yaml:1:1: want a rule"}},
		{"pack with other key", "rules: []\nversion: 1\n", []string{"x.yaml:2:1: version: unknown key"}},
		{"two errors", "name: a\nseverity: x\npattern: {source: [aws.s3]}\nfoo: 1\n", []string{"severity: unknown severity", "x.yaml:4:1: foo: unknown key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.src), "x.yaml")
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNewSetDuplicateNames(t *testing.T) {
	t.Parallel()
	a, err := Parse([]byte("name: a\npattern: {source: [aws.s3]}\n"), "a.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse([]byte("# b\nname: a\npattern: {source: [aws.ec2]}\n"), "b.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewSet(append(a, b...))
	if err == nil || !strings.Contains(err.Error(), `b.yaml:2: duplicate rule name "a" (first defined at a.yaml:1)`) {
		t.Fatalf("NewSet error = %v", err)
	}
}

func TestLoadFilesDirAndEventFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", oneRule)
	write("sub/b.yml", "rules:\n  - name: b\n    pattern: {source: [aws.signin]}\n    tests:\n      - expect: true\n        event_file: testdata/root.json\n")
	write("sub/testdata/root.json", rootRecord)
	write("sub/notes.txt", "not a rule")
	write("bad/c.yaml", "name: c\n")
	rs, err := LoadFiles(filepath.Join(dir, "a.yaml"), filepath.Join(dir, "sub"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[1].Name != "b" || len(rs[1].Tests) != 1 {
		t.Fatalf("got %v", rs)
	}
	for _, res := range RunTests(rs) {
		if !res.Passed() {
			t.Error(res)
		}
	}
	_, err = LoadFiles(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "bad", "c.yaml")+":1:1: pattern: missing") {
		t.Fatalf("LoadFiles(dir) error = %v", err)
	}
}

// YAML scalars become the JSON types their YAML types say, in key order.
func TestPatternJSONKeepsTypesAndOrder(t *testing.T) {
	t.Parallel()
	src := `name: a
pattern:
  source: [aws.ec2]
  detail:
    count: [5, 3.5e2, {numeric: [">", 0]}]
    flag: [true]
    gone: [null]
    text: ["5", "true", "null", ""]
    when: [2016-02-20T01:09:13Z]
    hex: [0x10]
    any: [{exists: true}]
`
	rs, err := Parse([]byte(src), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"source":["aws.ec2"],"detail":{"count":[5,3.5e2,{"numeric":[">",0]}],"flag":[true],"gone":[null],"text":["5","true","null",""],"when":["2016-02-20T01:09:13Z"],"hex":[16],"any":[{"exists":true}]}}`
	if got := string(rs[0].PatternJSON); got != want {
		t.Errorf("PatternJSON =\n%s\nwant\n%s", got, want)
	}
}

func mustEvent(t *testing.T, rec string) *event.Event {
	t.Helper()
	ev, err := event.FromRecord([]byte(rec))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestSetMatchReadOnly(t *testing.T) {
	t.Parallel()
	src := `rules:
  - name: all-iam
    include_read_only: true
    pattern: {source: [aws.iam]}
  - name: iam-writes
    pattern: {source: [aws.iam]}
  - name: s3
    pattern: {source: [aws.s3]}
`
	rs, err := Parse([]byte(src), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSet(rs)
	if err != nil {
		t.Fatal(err)
	}
	names := func(ev *event.Event) string {
		got, err := s.Match(ev, nil)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, r := range got {
			n = append(n, r.Name)
		}
		return strings.Join(n, ",")
	}
	ro := mustEvent(t, `{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"ListUsers","readOnly":true,"eventType":"AwsApiCall","eventID":"1","awsRegion":"us-east-1","eventTime":"2023-07-10T12:00:00Z"}`)
	rw := mustEvent(t, `{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"CreateUser","readOnly":false,"eventType":"AwsApiCall","eventID":"2","awsRegion":"us-east-1","eventTime":"2023-07-10T12:00:00Z"}`)
	if got := names(ro); got != "all-iam" {
		t.Errorf("read-only event matched %q, want all-iam", got)
	}
	if got := names(rw); got != "all-iam,iam-writes" {
		t.Errorf("write event matched %q, want all-iam,iam-writes", got)
	}
}

func TestSummaryMissingValues(t *testing.T) {
	t.Parallel()
	src := `name: a
pattern: {source: [aws.signin]}
summary: '[{{.detail.nope.deeper}}][{{index . "detail-type"}}][{{index . "nope"}}][{{.detail.requestParameters}}][{{.principal_type}}][{{.account}}][{{with $d := .detail}}{{$d.userIdentity.arn}}{{end}}][{{if .detail.errorCode}}E{{else}}ok{{end}}][{{.time}}]'
`
	rs, err := Parse([]byte(src), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := rs[0].Summary(mustEvent(t, rootRecord))
	want := "[][AWS Console Sign In via CloudTrail][][][Root][123456789012][arn:aws:iam::123456789012:root][ok][2023-07-10T12:23:15Z]"
	if got != want {
		t.Errorf("Summary =\n%q\nwant\n%q", got, want)
	}
}

func TestDedupAndReminders(t *testing.T) {
	src := `
name: failed-logins
severity: high
pattern: {"detail": {"eventName": ["ConsoleLogin"]}}
dedup:
  key: "{{.principal}}@{{.source_ip}}"
  period: 1h
  threshold: 5
remind_every: 30m
remind_max: 3
`
	rs, err := Parse([]byte(src), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Dedup.Period != time.Hour || r.Dedup.Threshold != 5 || r.RemindEvery != 30*time.Minute || r.RemindMax != 3 {
		t.Errorf("got %+v remind %v/%d", r.Dedup, r.RemindEvery, r.RemindMax)
	}
	ev, err := event.FromRecord([]byte(`{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","sourceIPAddress":"198.51.100.1","userIdentity":{"type":"IAMUser","userName":"alice"},"eventID":"e1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.DedupKey(ev); got != "alice@198.51.100.1" {
		t.Errorf("DedupKey = %q", got)
	}
	// Without dedup, every event is its own alert.
	plain, err := Parse([]byte("name: x\npattern: {\"source\": [\"a\"]}\n"), "y.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := plain[0].DedupKey(ev); got != "e1" {
		t.Errorf("DedupKey without dedup = %q, want the eventID", got)
	}
	for _, bad := range []string{
		"dedup: {key: x}",
		"dedup: {period: 1h, threshold: 0}",
		"dedup: {period: soon}",
		"dedup: {period: 1h, colour: red}",
		"remind_every: -5m",
		"remind_max: many",
	} {
		_, err := Parse([]byte("name: x\npattern: {\"source\": [\"a\"]}\n"+bad+"\n"), "z.yaml")
		if err == nil || !strings.Contains(err.Error(), "z.yaml:") {
			t.Errorf("%s: err = %v, want a located error", bad, err)
		}
	}
}
