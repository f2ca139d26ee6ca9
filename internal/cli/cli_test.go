package cli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// run runs the command line in-process and returns its exit code and output.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	clock := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	env := &Env{
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errb,
		Now:    func() time.Time { return clock },
	}
	code = Main(context.Background(), args, env)
	return code, out.String(), errb.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (run go test ./internal/cli -update to accept):\n%s", path, diffLines(string(want), got))
	}
}

// diffLines shows the first differing lines of two texts.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\nwant: " + wl + "\n got: " + gl
		}
	}
	return ""
}

const examples = "../../examples/cloudtrail"

func TestScanExamplesText(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "", "scan", "--workers", "2", examples)
	if code != ExitFound {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFound, errOut)
	}
	golden(t, "scan-examples.txt.golden", out)
	if !strings.Contains(errOut, "scanned 5 file(s)") {
		t.Errorf("summary line missing from stderr:\n%s", errOut)
	}
}

func TestScanExamplesJSON(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "", "scan", "--format", "json", examples)
	if code != ExitFound {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFound, errOut)
	}
	golden(t, "scan-examples.jsonl.golden", out)
	// Every line is an object with the contract's fields.
	required := []string{"rule", "severity", "event_id", "event_time", "account", "region", "event_name",
		"principal", "source_ip", "user_agent", "summary", "event"}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		for _, k := range required {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d: no %q field", n, k)
			}
		}
		var ev map[string]json.RawMessage
		if err := json.Unmarshal(m["event"], &ev); err != nil || ev["detail-type"] == nil || ev["detail"] == nil {
			t.Errorf("line %d: event is not an EventBridge event: %v", n, err)
		}
	}
	if n == 0 {
		t.Fatal("no alerts")
	}
}

// The same alerts come out whatever the number of workers and however the
// input arrives (files, stdin).
func TestScanDeterministic(t *testing.T) {
	t.Parallel()
	_, one, _ := run(t, "", "scan", "--format", "json", "--workers", "1", examples)
	_, four, _ := run(t, "", "scan", "--format", "json", "--workers", "4", examples)
	if one != four {
		t.Error("output differs between 1 and 4 workers")
	}
	files, _ := filepath.Glob(examples + "/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz")
	if len(files) != 5 {
		t.Fatalf("found %d example files", len(files))
	}
	// Concatenate the decompressed files on stdin: the same alerts, file "-".
	var stdin bytes.Buffer
	for _, f := range files {
		stdin.Write(gunzip(t, f))
		stdin.WriteByte('\n')
	}
	code, viaStdin, errOut := run(t, stdin.String(), "scan", "--format", "json", "-")
	if code != ExitFound {
		t.Fatalf("stdin: exit %d; %s", code, errOut)
	}
	if got, want := rulesAndIDs(t, viaStdin), rulesAndIDs(t, one); !reflect.DeepEqual(got, want) {
		t.Errorf("stdin gives %d alerts, files %d", len(got), len(want))
	}
}

func rulesAndIDs(t *testing.T, jsonl string) []string {
	t.Helper()
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var a struct {
			Rule    string `json:"rule"`
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.Rule+" "+a.EventID)
	}
	return ids
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestScanNothingMatches(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rules := filepath.Join(dir, "r.yaml")
	writeFile(t, rules, `
name: never
severity: low
pattern:
  detail:
    eventName: [NoSuchEventEver]
summary: never
tests:
  - name: yes
    expect: true
    event: {"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"NoSuchEventEver","eventType":"AwsApiCall","eventTime":"2024-01-01T00:00:00Z","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"e1"}
  - name: no
    expect: false
    event: {"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"ListUsers","eventType":"AwsApiCall","eventTime":"2024-01-01T00:00:00Z","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"e2"}
`)
	code, out, errOut := run(t, "", "scan", "--rules", rules, examples)
	if code != ExitOK || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
}

func TestScanBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A file with a bad record between two good ones: reported with file and
	// record index, the others still count.
	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, `{"Records":[`+rootLogin("a1")+`, {"eventVersion": oops}, `+rootLogin("a2")+`]}`)
	code, out, errOut := run(t, "", "scan", "--format", "json", bad)
	if code != ExitFound {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, bad) || !strings.Contains(errOut, "1") {
		t.Errorf("stderr does not name the file and record:\n%s", errOut)
	}
	if n := strings.Count(out, "\n"); n < 2 {
		t.Errorf("%d alerts, want the two good records' alerts:\n%s", n, out)
	}
	code, _, _ = run(t, "", "scan", "--strict", bad)
	if code != ExitFailure {
		t.Errorf("--strict: exit %d, want %d", code, ExitFailure)
	}
	// A missing path is an error.
	code, _, errOut = run(t, "", "scan", filepath.Join(dir, "nope.json"))
	if code != ExitFailure || !strings.Contains(errOut, "nope.json") {
		t.Errorf("missing file: exit %d, stderr %s", code, errOut)
	}
	// Bad flags.
	if code, _, _ := run(t, "", "scan", "--format", "xml", bad); code != ExitFailure {
		t.Errorf("bad format: exit %d", code)
	}
	if code, _, _ := run(t, "", "scan"); code != ExitFailure {
		t.Errorf("no path: exit %d", code)
	}
}

func rootLogin(id string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","accessKeyId":""},` +
		`"eventTime":"2024-03-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1",` +
		`"sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},` +
		`"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"},` +
		`"eventID":"` + id + `","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScanDedupesAcrossFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.json"), `{"Records":[`+rootLogin("same")+`]}`)
	writeFile(t, filepath.Join(dir, "b.json"), `{"Records":[`+rootLogin("same")+`]}`)
	_, out, errOut := run(t, "", "scan", "--format", "json", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	seen := map[string]int{}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		seen[m["rule"].(string)]++
	}
	for r, n := range seen {
		if n != 1 {
			t.Errorf("rule %s alerted %d times for one eventID", r, n)
		}
	}
	if !strings.Contains(errOut, "duplicate") {
		t.Errorf("summary does not mention duplicates: %s", errOut)
	}
}

func TestPatternTest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pfile := filepath.Join(dir, "p.json")
	writeFile(t, pfile, `{"detail-type":["AWS Console Sign In via CloudTrail"],"detail":{"userIdentity":{"type":["Root"]}}}`)
	efile := filepath.Join(dir, "e.json")
	writeFile(t, efile, rootLogin("x"))
	cases := []struct {
		name    string
		args    []string
		code    int
		out     string
		errWant string
	}{
		{"record from files", []string{"--pattern", "@" + pfile, "--event", "@" + efile}, ExitOK, "true\n", ""},
		{"newer sign-in spelling", []string{"--pattern", `{"detail-type":["AWS Console Signin via CloudTrail"]}`, "--event", "@" + efile}, ExitOK, "true\n", ""},
		{"envelope inline", []string{"--pattern", `{"source":["aws.ec2"]}`, "--event", `{"source":"aws.ec2","detail-type":"x","detail":{}}`}, ExitOK, "true\n", ""},
		{"no match", []string{"--pattern", `{"source":["aws.s3"]}`, "--event", `{"source":"aws.ec2","detail-type":"x"}`}, ExitFound, "false\n", ""},
		{"numeric", []string{"--pattern", `{"detail":{"n":[{"numeric":[">",0,"<=",5]}]}}`, "--event", `{"detail-type":"x","detail":{"n":5}}`}, ExitOK, "true\n", ""},
		{"invalid pattern", []string{"--pattern", `{"source":"aws.ec2"}`, "--event", `{"source":"aws.ec2"}`}, ExitFailure, "", "source"},
		{"invalid event", []string{"--pattern", `{"source":["aws.ec2"]}`, "--event", `{"source":`}, ExitFailure, "", "event"},
		{"missing file", []string{"--pattern", "@" + filepath.Join(dir, "nope"), "--event", "{}"}, ExitFailure, "", "nope"},
		{"missing flag", []string{"--pattern", "{}"}, ExitFailure, "", "required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"pattern", "test"}, c.args...)...)
			if code != c.code || out != c.out || !strings.Contains(errOut, c.errWant) {
				t.Errorf("exit %d stdout %q stderr %q; want exit %d stdout %q stderr containing %q", code, out, errOut, c.code, c.out, c.errWant)
			}
		})
	}
	// @- reads stdin.
	code, out, _ := run(t, rootLogin("y"), "pattern", "test", "--pattern", "@"+pfile, "--event", "@-")
	if code != ExitOK || out != "true\n" {
		t.Errorf("stdin event: exit %d out %q", code, out)
	}
}

func TestTestCommand(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "", "test")
	if code != ExitOK {
		t.Fatalf("built-in packs: exit %d\n%s\n%s", code, out, errOut)
	}
	last := lastLine(out)
	if !strings.HasSuffix(last, " passed, 0 failed") {
		t.Errorf("last line %q", last)
	}

	dir := t.TempDir()
	failing := filepath.Join(dir, "failing.yaml")
	writeFile(t, failing, `
rules:
  - name: wrong-expectation
    severity: high
    pattern:
      detail:
        eventName: [ConsoleLogin]
    summary: x
    tests:
      - name: says no but matches
        expect: false
        event: `+rootLogin("t1")+`
      - name: says yes and matches
        expect: true
        event: `+rootLogin("t2")+`
`)
	code, out, _ = run(t, "", "test", "--no-builtin", failing)
	if code != ExitFound {
		t.Errorf("failing test: exit %d\n%s", code, out)
	}
	if got := lastLine(out); got != "1 passed, 1 failed" {
		t.Errorf("last line %q", got)
	}
	if !strings.Contains(out, "says no but matches") {
		t.Errorf("failure not named:\n%s", out)
	}

	broken := filepath.Join(dir, "broken.yaml")
	writeFile(t, broken, "name: x\nseverity: high\npattern:\n  detail: oops\nsummary: x\n")
	code, _, errOut = run(t, "", "test", broken)
	if code != ExitFailure || !strings.Contains(errOut, "broken.yaml:") {
		t.Errorf("broken rule: exit %d stderr %q", code, errOut)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestRulesAndVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "", "rules")
	if code != ExitOK || !strings.HasPrefix(out, "RULE") || strings.Count(out, "\n") < 10 {
		t.Errorf("rules: exit %d\n%s", code, out)
	}
	if code, out, _ := run(t, "", "version"); code != ExitOK || !strings.HasPrefix(out, "trailwatch ") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, _, _ := run(t, "", "nope"); code != ExitFailure {
		t.Errorf("unknown command: exit %d", code)
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := fs.String("format", "", "")
	pos, err := parseFlags(fs, []string{"a", "--format", "json", "-", "b", "--", "--format"})
	if err != nil {
		t.Fatal(err)
	}
	if *f != "json" || !reflect.DeepEqual(pos, []string{"a", "-", "b", "--format"}) {
		t.Errorf("format %q positional %q", *f, pos)
	}
}

func TestAppendCompact(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"{\n  \"a\" : [ 1, 2 ],\r\n\t\"b\": \"x y\\\" \\\\\",\n \"c\": {\"d\": \" \\n \"} }",
		`{}`, ` [ ] `, `"just a string with spaces"`,
	} {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(in)); err != nil {
			t.Fatal(err)
		}
		if got := appendCompact(nil, []byte(in)); string(got) != want.String() {
			t.Errorf("appendCompact(%q) = %q, want %q", in, got, want.String())
		}
	}
}

func TestScanProgress(t *testing.T) {
	t.Parallel()
	code, _, errOut := run(t, "", "scan", "--progress", "always", "--format", "json", examples)
	if code != ExitFound {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errOut, "files 0/5") || !strings.Contains(errOut, "events/s") || !strings.Contains(errOut, "\r\033[K") {
		t.Errorf("no progress line on stderr:\n%q", errOut)
	}
	// Without a terminal, auto shows none.
	_, _, errOut = run(t, "", "scan", "--format", "json", examples)
	if strings.Contains(errOut, "events/s") {
		t.Errorf("progress shown without a terminal:\n%q", errOut)
	}
}

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"cron(0 9 ? * MON-FRI *)", "--tz", "Asia/Tokyo", "--from", "2026-11-19T23:00:00Z", "-n", "3"}, ExitOK,
			"2026-11-20T09:00:00+09:00\n2026-11-23T09:00:00+09:00\n2026-11-24T09:00:00+09:00\n"},
		// Spring forward in New York: 02:30 does not exist on 8 March 2026,
		// and Scheduler skips that day's invocation.
		{[]string{"cron(30 2 * * ? *)", "--tz", "America/New_York", "--from", "2026-03-07T12:00:00Z", "-n", "2"}, ExitOK,
			"2026-03-09T02:30:00-04:00\n2026-03-10T02:30:00-04:00\n"},
		{[]string{"at(2026-12-01T10:00:00)", "--from", "2026-11-23T00:00:00Z"}, ExitOK, "2026-12-01T10:00:00Z\n"},
		{[]string{"cron(0 9 * * MON *)"}, ExitFailure, ""},
		{[]string{"rate(5 minutes)", "--tz", "Mars/Olympus"}, ExitFailure, ""},
	}
	for _, c := range cases {
		code, out, errOut := run(t, "", append([]string{"schedule", "next"}, c.args...)...)
		if code != c.code || (c.out != "" && out != c.out) {
			t.Errorf("%q: exit %d, out %q, err %q", c.args, code, out, errOut)
		}
	}
}

func TestFilterTest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lines := filepath.Join(dir, "events.jsonl")
	iam := strings.Replace(rootLogin("f2"), `"type":"Root"`, `"type":"IAMUser","userName":"bob"`, 1)
	writeFile(t, lines, rootLogin("f1")+"\n\n"+iam+"\n")
	records := filepath.Join(dir, "trail.json")
	writeFile(t, records, `{"Records":[`+rootLogin("f1")+`,`+iam+`]}`)
	cis3 := `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`

	for _, file := range []string{lines, records} {
		code, out, errOut := run(t, "", "filter", "test", "--pattern", cis3, "--events", file)
		if code != ExitOK || !strings.HasPrefix(out, "2: ") || strings.Count(out, "\n") != 1 {
			t.Errorf("%s: exit %d out %q err %q", file, code, out, errOut)
		}
	}
	// Space-delimited: extracted values, and TestMetricFilter's JSON.
	access := filepath.Join(dir, "access.log")
	writeFile(t, access, "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 404 2326\n127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] \"GET /x HTTP/1.0\" 200 10\n")
	code, out, _ := run(t, "", "filter", "test", "--pattern", `[ip, user, username, timestamp, request, status_code = 4*, bytes]`, "--events", access, "--format", "json")
	var resp struct {
		Matches []struct {
			EventNumber     int               `json:"eventNumber"`
			ExtractedValues map[string]string `json:"extractedValues"`
		} `json:"matches"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil || code != ExitOK || len(resp.Matches) != 1 ||
		resp.Matches[0].EventNumber != 1 || resp.Matches[0].ExtractedValues["$status_code"] != "404" {
		t.Errorf("space-delimited: exit %d %s (%v)", code, out, err)
	}
	if code, out, _ := run(t, "", "filter", "test", "--pattern", `{ $.eventName = DeleteTrail }`, "--events", lines); code != ExitFound || out != "" {
		t.Errorf("no match: exit %d out %q", code, out)
	}
	if code, _, errOut := run(t, "", "filter", "test", "--pattern", `{ $.eventName = `, "--events", lines); code != ExitFailure || !strings.Contains(errOut, "invalid pattern") {
		t.Errorf("invalid pattern: exit %d %q", code, errOut)
	}
}
