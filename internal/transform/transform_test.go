package transform

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

const ec2 = `{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111","arn:aws:ec2:us-east-1:123456789012:instance/i-abcd2222"],"detail":{"instance-id":"i-0123456789","state":"RUNNING","n":42,"f":1.5e3,"ok":false,"nil":null,"quote":"say \"hi\"","nl":"a\nb","uni":"caf\u00e9 ☕","items":[{"id":"a","v":1},{"id":"b"},{"v":3}],"nested":{"a":{"b":["x",{"c":"d"}]}},"esc\"key":"E","dup":"first","dup":"second","sl/ash":"S"}}`

func render(t *testing.T, pathsMap map[string]string, template string, v Vars) string {
	t.Helper()
	tr, err := New(pathsMap, template)
	if err != nil {
		t.Fatalf("New(%q): %v", template, err)
	}
	out, err := tr.Render([]byte(ec2), v)
	if err != nil {
		t.Fatalf("Render(%q): %v", template, err)
	}
	return string(out)
}

func TestRender(t *testing.T) {
	t.Parallel()
	m := map[string]string{
		"id": "$.detail.instance-id", "n": "$.detail.n", "f": "$.detail.f", "ok": "$.detail.ok", "nil": "$.detail.nil",
		"quote": "$.detail.quote", "nl": "$.detail.nl", "uni": "$.detail.uni", "items": "$.detail.items",
		"nested": "$.detail.nested", "missing": "$.detail.nope", "r1": "$.resources[1]", "r9": "$.resources[9]",
		"ids": "$.detail.items[*].id", "vals": "$.detail.nested.*", "dt": "$.detail-type", "all": "$",
		"dup": "$.detail.dup", "slash": "$.detail.sl/ash", "deep": "$.detail.nested.a.b[1].c", "none": "$.detail.items[*].nope",
	}
	v := Vars{RuleARN: "arn:aws:events:us-east-1:123456789012:rule/bus/r", RuleName: "r", IngestionTime: time.Date(2015, 11, 11, 21, 30, 0, 5e8, time.FixedZone("x", 3600))}
	tests := []struct{ name, template, want string }{
		{"string template keeps its quotes", `"<id> is <dt>"`, `"i-0123456789 is EC2 Instance State-change Notification"`},
		{"plain text", `<id> and <id> and <id>`, `i-0123456789 and i-0123456789 and i-0123456789`},
		{"typed values in text", `<n> <f> <ok> <nil>`, `42 1.5e3 false null`},
		{"string unescaped in text", `<quote>|<nl>|<uni>`, "say \"hi\"|a\nb|café ☕"},
		{"array and object in text", `<items> <nested>`, `[{id:a,v:1},{id:b},{v:3}] {a:{b:[x,{c:d}]}}`},
		{"missing in text", `x[<missing>]`, `x[]`},
		{"missing in json", `[<missing>]`, `[""]`},
		{"index and missing index", `<r1>,<r9>.`, `arn:aws:ec2:us-east-1:123456789012:instance/i-abcd2222,.`},
		{"wildcards", `<ids> <vals> <none>`, `[a,b] [{b:[x,{c:d}]}] []`},
		{"last duplicate wins, slash in name", `<dup> <slash> <deep>`, `second S d`},
		{"predefined in text", `<aws.events.rule-name> <aws.events.rule-arn> <aws.events.event.ingestion-time>`, `r arn:aws:events:us-east-1:123456789012:rule/bus/r 2015-11-11T20:30:00Z`},
		{"newlines kept", "\"a <id>\"\n\"b <n>\"\n", "\"a i-0123456789\"\n\"b 42\"\n"},
		{"not a placeholder across lines", "a <b\nc> d", "a <b\nc> d"},
		{"lone angle bracket", `1 < 2 and 3 ≥ 2`, `1 < 2 and 3 ≥ 2`},
		{"json values", `{"s":<id>,"n":<n>,"f":<f>,"b":<ok>,"z":<nil>,"a":<items>,"o":<nested>,"m":<missing>}`,
			`{"s":"i-0123456789","n":42,"f":1.5e3,"b":false,"z":null,"a":[{"id":"a","v":1},{"id":"b"},{"v":3}],"o":{"a":{"b":["x",{"c":"d"}]}},"m":""}`},
		{"json escaped string value kept escaped", `{"q":<quote>,"nl":<nl>}`, `{"q":"say \"hi\"","nl":"a\nb"}`},
		{"json array template", `[<id>, "<n> items", <ids>]`, `["i-0123456789", "42 items", ["a","b"]]`},
		{"json in-string", ` { "t": "<id> at <aws.events.event.ingestion-time>", "x": "\"<n>\"" }`, ` { "t": "i-0123456789 at 2015-11-11T20:30:00Z", "x": "\"42\"" }`},
		{"json predefined", `{"arn":<aws.events.rule-arn>,"name":<aws.events.rule-name>,"t":<aws.events.event.ingestion-time>}`,
			`{"arn":"arn:aws:events:us-east-1:123456789012:rule/bus/r","name":"r","t":"2015-11-11T20:30:00Z"}`},
		{"escaped quote before placeholder", `{"a":"x\"<id>\""}`, `{"a":"x\"i-0123456789\""}`},
		{"angle brackets on two lines", "{\"a\":\"1 < 2\",\n\"b\": \"3 > 2\"}", "{\"a\":\"1 < 2\",\n\"b\": \"3 > 2\"}"},
		{"event without detail", `{"e":<aws.events.event>}`,
			`{"e":{"id":"7bf73129-1428-4cd3-a780-95db273d1602","account":"123456789012","detailType":"EC2 Instance State-change Notification","time":"2015-11-11T20:30:00Z","source":"aws.ec2","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111","arn:aws:ec2:us-east-1:123456789012:instance/i-abcd2222"],"version":"0"}}`},
		{"whole event", `{"e":<aws.events.event.json>}`, `{"e":` + ec2 + `}`},
		{"whole event by path", `{"e":<all>}`, `{"e":` + ec2 + `}`},
		{"whole event in text", `<aws.events.event.json>`, ec2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := render(t, m, tt.template, v); got != tt.want {
				t.Fatalf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestIngestionTimeDefaultsToEventTime(t *testing.T) {
	t.Parallel()
	got := render(t, nil, `{"t":<aws.events.event.ingestion-time>,"e":<aws.events.event>}`, Vars{})
	want := `{"t":"2015-11-11T21:29:54Z","e":{"id":"7bf73129-1428-4cd3-a780-95db273d1602","account":"123456789012","detailType":"EC2 Instance State-change Notification","time":"2015-11-11T21:29:54Z","source":"aws.ec2","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111","arn:aws:ec2:us-east-1:123456789012:instance/i-abcd2222"],"version":"0"}}`
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}

func TestRenderNotDelivered(t *testing.T) {
	t.Parallel()
	m := map[string]string{"quote": "$.detail.quote", "nl": "$.detail.nl", "items": "$.detail.items", "id": "$.detail.instance-id"}
	for _, template := range []string{
		`{"a":"<quote>"}`, // AWS does not escape values
		`{"a":"<nl>"}`,
		`{"a":"<items>"}`,
		`{"a":"x <aws.events.event>"}`,
		`{"a":<id> <id>}`,
		`{"a":1`,
	} {
		tr, err := New(m, template)
		if err != nil {
			t.Fatalf("New(%q): %v", template, err)
		}
		out, err := tr.Render([]byte(ec2), Vars{})
		if !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("Render(%q) = %q, %v; want ErrInvalidJSON", template, out, err)
		}
	}
}

func TestRenderBadEvent(t *testing.T) {
	t.Parallel()
	tr, err := New(map[string]string{"a": "$.a"}, `"<a>"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{``, `{`, `[1]`, `"x"`, `{"a":1}{}`} {
		if out, err := tr.Render([]byte(ev), Vars{}); !errors.Is(err, ErrEvent) {
			t.Errorf("Render(%q) = %q, %v; want ErrEvent", ev, out, err)
		}
	}
}

func TestNewInvalid(t *testing.T) {
	t.Parallel()
	many := map[string]string{}
	for i := range 101 {
		many[fmt.Sprintf("v%d", i)] = "$.a"
	}
	exactly := map[string]string{}
	for i := range 100 {
		exactly[fmt.Sprintf("v%d", i)] = "$.a"
	}
	if _, err := New(exactly, `"<v99>"`); err != nil {
		t.Fatalf("100 variables: %v", err)
	}
	keyErr := "1 validation error detected: Value at 'targets.1.member.inputTransformer.inputPathsMap' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [A-Za-z0-9\\_\\-]+]"
	tests := []struct {
		name     string
		m        map[string]string
		template string
		reason   string // in Error()
		aws      string // AWSMessage("T1"); "" to skip
	}{
		{"undefined placeholder", map[string]string{"a": "$.a"}, `"<a> <notdefinedkey>"`, "invalid placeholder notdefinedkey",
			"InputTemplate for target T1 contains invalid placeholder notdefinedkey."},
		{"no map, undefined placeholder", nil, `"<x>"`, "invalid placeholder x", "InputTemplate for target T1 contains invalid placeholder x."},
		{"angle brackets on one line", nil, `"1 < 2 and 3 > 2"`, "invalid placeholder  2 and 3 ", ""},
		{"slack link", nil, `{"text": "<https://console.aws.amazon.com|open>"}`, "invalid placeholder https://console.aws.amazon.com|open", ""},
		{"empty placeholder", nil, `"a <> b"`, "invalid placeholder ", "InputTemplate for target T1 contains invalid placeholder ."},
		{"prefix of predefined", nil, `"<aws.events>"`, "invalid placeholder aws.events", ""},
		{"case matters", map[string]string{"a": "$.a"}, `"<A>"`, "invalid placeholder A", ""},
		{"101 variables", many, `"x"`, "101 variables", "1 validation error detected: Value at 'targets.1.member.inputTransformer.inputPathsMap' failed to satisfy constraint: Member must have length less than or equal to 100"},
		{"reserved key", map[string]string{"aws.events.rule-arn": "$.a"}, `"x"`, "is a predefined variable", keyErr},
		{"AWS. key", map[string]string{"AWS.x": "$.a"}, `"x"`, "want 1 to 256", keyErr},
		{"empty key", map[string]string{"": "$.a"}, `"x"`, "want 1 to 256", keyErr},
		{"long key", map[string]string{strings.Repeat("k", 257): "$.a"}, `"x"`, "want 1 to 256", keyErr},
		{"space in key", map[string]string{"a b": "$.a"}, `"x"`, "want 1 to 256", keyErr},
		{"path with space", map[string]string{"a": "$.detail.Limit Amount"}, `"<a>"`, `json path "$.detail.Limit Amount"`, ""},
		{"path without $", map[string]string{"a": "detail.a"}, `"<a>"`, "does not start with $", ""},
		{"path empty name", map[string]string{"a": "$..a"}, `"<a>"`, "empty name", ""},
		{"path bad index", map[string]string{"a": "$.a[-1]"}, `"<a>"`, "bad array index", ""},
		{"path unclosed", map[string]string{"a": "$.a[0"}, `"<a>"`, "unclosed", ""},
		{"path too long", map[string]string{"a": "$." + strings.Repeat("a", 255)}, `"<a>"`, "longer than 256", ""},
		{"empty template", nil, ``, "0 characters", ""},
		{"long template", nil, strings.Repeat("x", 8193), "8193 characters", ""},
		{"placeholder as key", map[string]string{"k": "$.a"}, `{<k>: 1}`, "as an object key", ""},
		{"placeholder as second key", map[string]string{"k": "$.a"}, `{"a": 1, <k>: 1}`, "as an object key", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, err := New(tt.m, tt.template)
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("New = %v, %v; want a ValidationError", tr, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q lacks %q", err, tt.reason)
			}
			if tt.aws != "" && ve.AWSMessage("T1") != tt.aws {
				t.Errorf("AWS message\n got %q\nwant %q", ve.AWSMessage("T1"), tt.aws)
			}
		})
	}
}

func TestNewValid(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		m        map[string]string
		template string
	}{
		{nil, `"<aws.events.rule-arn> <aws.events.rule-name> <aws.events.event.ingestion-time>"`},
		{nil, `{"e": <aws.events.event>, "j": <aws.events.event.json>}`},
		{map[string]string{"k": "$.a"}, `[<k>, {"x": <k>}]`},      // value positions
		{map[string]string{"k": "$.a"}, `{"<k>": 1}`},             // inside a key string: text
		{map[string]string{"k": "$.a", "unused": "$.b"}, `"<k>"`}, // unused variables are fine
		{map[string]string{"a-b_C9": "$.detail-type", "w": "$.resources[*]"}, `"<a-b_C9> <w>"`},
		{map[string]string{"k": "$"}, "\n\t { \"a\" :\n <k> }"},
	} {
		if _, err := New(tt.m, tt.template); err != nil {
			t.Errorf("New(%v, %q): %v", tt.m, tt.template, err)
		}
	}
}

func TestJSONTemplateKind(t *testing.T) {
	t.Parallel()
	for template, want := range map[string]bool{
		`{"a":1}`: true, " \n[1]": true, `"{[/x"`: false, `x {`: false, `<aws.events.event.json>`: false,
	} {
		tr, err := New(nil, template)
		if err != nil {
			t.Fatal(err)
		}
		if tr.JSON() != want || tr.Template() != template {
			t.Errorf("%q: JSON() = %v, want %v", template, tr.JSON(), want)
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	doc := []byte(ec2)
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"$", ec2, true},
		{"$.detail.instance-id", `"i-0123456789"`, true},
		{"$.resources[0]", `"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"`, true},
		{"$.resources[2]", ``, false},
		{"$.detail-type", `"EC2 Instance State-change Notification"`, true},
		{"$.detail.n", `42`, true},
		{"$.detail.nil", `null`, true},
		{"$.detail.items[1]", `{"id":"b"}`, true},
		{"$.detail.items[*].v", `[1,3]`, true},
		{"$.detail.items.*.id", `["a","b"]`, true},
		{"$.detail.nope", ``, false},
		{"$.detail.instance-id.x", ``, false},
		{"$.detail[0]", ``, false},
		{"$.resources.x", ``, false},
		{"$.detail.dup", `"second"`, true},
	}
	for _, tt := range tests {
		got, ok, err := Lookup(doc, tt.path)
		if err != nil || ok != tt.ok || string(got) != tt.want {
			t.Errorf("Lookup(%s) = %s, %v, %v; want %s, %v", tt.path, got, ok, err, tt.want, tt.ok)
		}
	}
	if _, _, err := Lookup(doc, "detail"); err == nil {
		t.Error("bad path: no error")
	}
	if _, _, err := Lookup([]byte(`{"a":`), "$.a"); err == nil {
		t.Error("bad doc: no error")
	}
	if got, ok, err := Lookup([]byte(` [1, {"a" : "b"}] `), "$[1].a"); err != nil || !ok || string(got) != `"b"` {
		t.Errorf("array document: %s %v %v", got, ok, err)
	}
}

func TestInput(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	ev := []byte("  " + ec2 + "\n")
	tests := []struct {
		name     string
		constant *string
		path     string
		m        map[string]string
		template string
		hasT     bool
		want     string
		err      error
	}{
		{name: "event itself", want: ec2},
		{name: "constant", constant: str(`{"msg": "root signed in"}`), want: `{"msg": "root signed in"}`},
		{name: "constant string", constant: str(`"hello"`), want: `"hello"`},
		{name: "path object", path: "$.detail.nested", want: `{"a":{"b":["x",{"c":"d"}]}}`},
		{name: "path string keeps quotes", path: "$.detail.instance-id", want: `"i-0123456789"`},
		{name: "path missing", path: "$.detail.nope", err: ErrNoValue},
		{name: "transformer", m: map[string]string{"i": "$.detail.instance-id"}, template: `"<i>"`, hasT: true, want: `"i-0123456789"`},
	}
	for _, tt := range tests {
		in, err := NewInput(tt.constant, tt.path, tt.m, tt.template, tt.hasT)
		if err != nil {
			t.Fatalf("%s: NewInput: %v", tt.name, err)
		}
		got, err := in.Render(ev, Vars{})
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: got %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
	// An Input built by hand renders as well.
	if got, err := (&Input{Path: "$.detail.n"}).Render(ev, Vars{}); err != nil || string(got) != "42" {
		t.Errorf("hand-built input: %s, %v", got, err)
	}
}

func TestNewInputInvalid(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	only := "Only one of Input, InputPath, or InputTransformer must be provided for target T."
	tests := []struct {
		name     string
		constant *string
		path     string
		template string
		hasT     bool
		aws      string
	}{
		{"path and transformer", nil, "$.detail", `"x"`, true, only},
		{"constant and path", str(`{}`), "$.detail", "", false, only},
		{"constant and transformer", str(`{}`), "", `"x"`, true, only},
		{"all three", str(`{}`), "$", `"x"`, true, only},
		{"constant not json", str(`hello`), "", "", false, ""},
		{"constant too long", str(`"` + strings.Repeat("x", 8191) + `"`), "", "", false, ""},
		{"bad path", nil, "$.a b", "", false, ""},
		{"bad transformer", nil, "", `"<x>"`, true, "InputTemplate for target T contains invalid placeholder x."},
	}
	for _, tt := range tests {
		_, err := NewInput(tt.constant, tt.path, nil, tt.template, tt.hasT)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want a ValidationError", tt.name, err)
			continue
		}
		if tt.aws != "" && ve.AWSMessage("T") != tt.aws {
			t.Errorf("%s: AWS message %q, want %q", tt.name, ve.AWSMessage("T"), tt.aws)
		}
		if e := err.Error(); e != strings.ToLower(e[:1])+e[1:] || strings.HasSuffix(e, ".") {
			t.Errorf("%s: error %q: want lower case, no trailing period", tt.name, e)
		}
	}
}

// A Transformer is shared by every delivery of a route.
func TestConcurrentRender(t *testing.T) {
	t.Parallel()
	tr, err := New(map[string]string{"i": "$.detail.instance-id", "s": "$.detail.state"}, `{"i":<i>,"t":"<s> <aws.events.rule-name>"}`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprint("rule", g)
			for range 200 {
				out, err := tr.Render([]byte(ec2), Vars{RuleName: name})
				if err != nil || string(out) != `{"i":"i-0123456789","t":"RUNNING `+name+`"}` {
					t.Errorf("got %s, %v", out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
