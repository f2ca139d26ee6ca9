package filterpattern

import (
	"errors"
	"maps"
	"testing"
)

// Cases from specs.md §1 (AWS's "Filter pattern syntax" pages, 2021, 2023
// and current revisions); cells the doc does not state are derived from
// its rules.

func check(t *testing.T, pattern string, msgs []string, want []bool) {
	t.Helper()
	p, err := Parse(pattern)
	if err != nil {
		t.Fatalf("Parse(%q): %v", pattern, err)
	}
	for i, m := range msgs {
		_, got := p.Match([]byte(m))
		if got != want[i] {
			t.Errorf("%s vs %q: got %v, want %v", pattern, m, got, want[i])
		}
		if p.Matches([]byte(m)) != got {
			t.Errorf("%s vs %q: Matches disagrees with Match", pattern, m)
		}
	}
}

func TestTermTable(t *testing.T) {
	t.Parallel()
	lines := []string{
		"[ERROR 400] BAD REQUEST",
		"[ERROR 401] UNAUTHORIZED REQUEST",
		"[ERROR 419] MISSING ARGUMENTS",
		"[ERROR 420] INVALID ARGUMENTS",
		"[ERROR 500] INTERNAL SERVER ERROR",
	}
	for _, c := range []struct {
		pattern string
		want    []bool
	}{
		{`ERROR`, []bool{true, true, true, true, true}},
		{`ERROR ARGUMENTS`, []bool{false, false, true, true, false}},
		{`?ERROR ?ARGUMENTS`, []bool{true, true, true, true, true}},
		{`"INTERNAL SERVER ERROR"`, []bool{false, false, false, false, true}},
		{`ERROR -ARGUMENTS`, []bool{true, true, false, false, true}},
		{`%AUTHORIZED%`, []bool{false, true, false, false, false}},
		{`?ERROR ?ARGUMENTS REQUEST`, []bool{true, true, false, false, false}},
		{``, []bool{true, true, true, true, true}},
		{`""`, []bool{true, true, true, true, true}},
		{`" "`, []bool{true, true, true, true, true}},
		{`error`, []bool{false, false, false, false, false}}, // case-sensitive
	} {
		t.Run(c.pattern, func(t *testing.T) {
			t.Parallel()
			check(t, c.pattern, lines, c.want)
		})
	}
}

func TestTerm2021(t *testing.T) {
	t.Parallel()
	lines := []string{"ERROR WARN message", "ERROR message", "WARN message"}
	check(t, `ERROR`, lines, []bool{true, true, false})
	check(t, `?ERROR ?WARN`, lines, []bool{true, true, true})
	check(t, `ERROR WARN`, lines, []bool{true, false, false})
	check(t, `ERROR -WARN`, lines, []bool{false, true, false})

	check(t, `ERROR`, []string{"[ERROR] A fatal exception has occurred", "Exiting with ERRORCODE: -1"}, []bool{true, true})
	check(t, `"ERROR" "Exception"`, []string{"[ERROR] Caught IllegalArgumentException", "[ERROR] Unhandled Exception", "[ERROR] Out of memory"}, []bool{true, true, false})
	check(t, `"Failed to process the request"`, []string{"[WARN] Failed to process the request", "[ERROR] Unable to continue: Failed to process the request", "[WARN] Failed to process"}, []bool{true, true, false})
	check(t, `"ERROR" - "Exiting"`, []string{"Exiting with ERRORCODE: -1", "[ERROR] A fatal exception has occurred"}, []bool{false, true})
	check(t, `%AUTHORIZED%`, []string{"[SUCCESS 200] AUTHORIZED REQUEST"}, []bool{true})
	// TestMetricFilter example from the AWS CLI docs.
	check(t, `ERROR`, []string{"[ERROR] 400 BAD REQUEST", "[ERROR] 400 BAD REQUEST", "[INFO] 200 OK"}, []bool{true, true, false})
}

func TestRegexTable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		re       string
		yes, not []string
	}{
		{`%^[hc]at%`, []string{"hat is", "cat"}, []string{"a hat", "bat"}},
		{`%[hc]at$%`, []string{"the hat", "cat"}, []string{"hats"}},
		{`%colou?r%`, []string{"color", "colour"}, []string{"colr"}},
		{`%[abc]%`, []string{"a", "xxc"}, []string{"xyz"}},
		{`%[a-z]%`, []string{"Q q"}, []string{"QQ"}},
		{`%[abcx-z]%`, []string{"y"}, []string{"w"}},
		{`%a{3,5}%`, []string{"aaa", "baaaaab"}, []string{"aa"}},
		{`%^a{,2}b%`, []string{"b", "aab"}, []string{"aaab"}},
		{`%gra|ey%`, []string{"gray", "grey", "gra", "ey"}, []string{"gry"}},
		{`%^starting|^initializing|^shutting down%`, []string{"starting x", "initializing y", "shutting down"}, []string{"skipping initializing z"}},
		{`%\[.\]%`, []string{"[a]", "[7]", "[@]", "[]]", "[ ]"}, []string{"[]", "[ab]"}},
		{`%10\.10\.0\.1%`, []string{"ip 10.10.0.1"}, []string{"10010,051"}},
		{`%10.10.0.1%`, []string{"10010,051"}, nil},
		{`%ab*c%`, []string{"ac", "abc", "abbbc"}, []string{"ab"}},
		{`%ab[0-9]*%`, []string{"ab", "ab0", "ab129"}, []string{"a b"}},
		{`%ab+c%`, []string{"abc", "abbc", "abbbc"}, []string{"ac"}},
		{`%.at%`, []string{"hat", "cat", "bat", "4at", "#at", " at"}, []string{"at"}},
		{`%\d%`, []string{"a1"}, []string{"ab"}},
		{`%[0-9]%`, []string{"a1"}, []string{"ab"}},
		{`%\D%`, []string{"1a"}, []string{"12"}},
		{`%[^0-9]%`, []string{"1a"}, []string{"12"}},
		{`%\s%`, []string{"a b", "a\tb", "a\nb"}, []string{"a\rb", "ab"}},
		{`%\S%`, []string{" a "}, []string{" \t"}},
		{`%\w%`, []string{"_"}, []string{"- !"}},
		{`%\W%`, []string{"a-b"}, []string{"a_b9"}},
		{`%\x3A%`, []string{"a:b"}, []string{"ab"}},
		{`%\x28%`, []string{"f(x"}, []string{"fx"}},
		{`%AUTHORIZED%`, []string{"[ERROR 401] UNAUTHORIZED REQUEST", "[SUCCESS 200] AUTHORIZED REQUEST"}, []string{"[ERROR 400] BAD REQUEST"}},
		{`%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%`, []string{"from 192.168.0.1"}, []string{"from 192.168.0"}},
		{`%[Ee]rror|[Ff]ail%`, []string{"error", "Fail"}, []string{"ERROR"}},
	} {
		t.Run(c.re, func(t *testing.T) {
			t.Parallel()
			var msgs []string
			var want []bool
			for _, m := range c.yes {
				msgs, want = append(msgs, m), append(want, true)
			}
			for _, m := range c.not {
				msgs, want = append(msgs, m), append(want, false)
			}
			check(t, c.re, msgs, want)
		})
	}
}

const eventA = `{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"cluster.name":"c","ThisFlag":true}`

const eventB = `{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}`

func TestJSONEventA(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pattern string
		want    bool
	}{
		{`{ $.eventType = "UpdateTrail" }`, true},
		{`{ $.eventType = UpdateTrail }`, true},
		{`{ $.sourceIPAddress != 123.123.* }`, true},
		{`{ $.sourceIPAddress = 111.111.* }`, true},
		{`{ $.arrayKey[0] = "value" }`, true},
		{`{ $.arrayKey[1] = "value" }`, false},
		{`{ $.objectList[1].id = 2 }`, true},
		{`{ $.objectList[1].id = 1 }`, false},
		{`{ $.eventType = %Trail% }`, true},
		{`{ $.eventType = %^Trail% }`, false},
		{`{ $.arrayKey[*] = %val.{2}% }`, true},
		{`{ $.* = %111\.111\.111\.1[0-9]{1,2}% }`, true},
		{`{ $.['cluster.name'] = "c" }`, true},
		{`{ $.SomeObject IS NULL }`, true},
		{`{ $.eventType IS NULL }`, false},
		{`{ $.SomeOtherObject NOT EXISTS }`, true},
		{`{ $.eventType NOT EXISTS }`, false},
		{`{ $.SomeObject NOT EXISTS }`, false},
		{`{ $.ThisFlag IS TRUE }`, true},
		{`{ $.ThisFlag IS FALSE }`, false},
		{`{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }`, true},
		{`{ $.arrayKey = "value" }`, false},
		{`{ $.arrayKey != "value" }`, false},
		{`{ $.objectList = * }`, false},
		{`{ $.missing != "x" }`, false},
		{`{ $.eventType = *Trail }`, true},
		{`{ $.eventType = Update* }`, true},
		{`{ $.eventType = *dateTr* }`, true},
		{`{ $.eventType = Up*Trail }`, false},
	} {
		t.Run(c.pattern, func(t *testing.T) {
			t.Parallel()
			check(t, c.pattern, []string{eventA}, []bool{c.want})
		})
	}
}

func TestJSONEventB(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pattern string
		want    bool
	}{
		{`{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, true},
		{`{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }`, true},
		{`{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }`, false},
		{`{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`, false},
		{`{ $.coordinates[0][1] = 1 }`, true},
		{`{ $.coordinates[2][0] >= 7 }`, true},
		{`{ $.users[1].id > 2.5 }`, true},
		{`{ $.users[*].id = 3 }`, true},
	} {
		t.Run(c.pattern, func(t *testing.T) {
			t.Parallel()
			check(t, c.pattern, []string{eventB}, []bool{c.want})
		})
	}
}

func TestJSON2021(t *testing.T) {
	t.Parallel()
	evs := []string{`{"foo": "bar"}`, `{"foo": "baz"}`}
	check(t, `{$.foo = bar}`, evs, []bool{true, false})
	check(t, `{$.foo = baz }`, evs, []bool{false, true})
	check(t, `{$.foo = bar || $.foo = baz }`, evs, []bool{true, true})
	users := []string{`{"users": [1, 2, 3]}`}
	check(t, `{$.users = 1}`, users, []bool{false})
	check(t, `{$.users != 1}`, users, []bool{false})
	// Strings: '*' only leading or trailing.
	names := []string{`{"e":"PutEvent"}`, `{"e":"GetEvent"}`, `{"e":"EventId"}`, `{"e":"EventName"}`, `{"e":"Ev*ent"}`, `{"e":"Evxent"}`}
	check(t, `{ $.e = *Event }`, names, []bool{true, true, false, false, false, false})
	check(t, `{ $.e = Event* }`, names, []bool{false, false, true, true, false, false})
	check(t, `{ $.e = Ev*ent }`, names, []bool{false, false, false, false, true, false})
}

func TestJSONNumbers(t *testing.T) {
	t.Parallel()
	ev := []string{
		`{"latency": 500, "numbers": [0.005, 20000], "processes": [{},{},{},{},{"averageRuntime": 55.5}], "errorCode": 400, "number": [1000, 0.001], "bandwidth": 80, "refreshRate": 60, "responseTime": 5}`,
		`{"latency": "fast", "errorCode": 500}`,
	}
	for _, c := range []struct {
		pattern string
		want    []bool
	}{
		{`{ $.latency >= 500 }`, []bool{true, false}},
		{`{ $.latency > +1000 }`, []bool{false, false}},
		{`{ $.latency < 1e3 }`, []bool{true, false}},
		{`{ $.numbers[0] < 10e-3 }`, []bool{true, false}},
		{`{ $.numbers[1] < 10e3 }`, []bool{false, false}},
		{`{ $.numbers[1] <= 2e4 }`, []bool{true, false}},
		{`{ $.processes[4].averageRuntime <= 55.5 }`, []bool{true, false}},
		{`{ $.errorCode = 400 }`, []bool{true, false}},
		{`{ $.errorCode != 500 }`, []bool{true, false}},
		{`{ $.number[0] = 1e+3 }`, []bool{true, false}},
		{`{ $.number[1] != 1e-3 }`, []bool{false, false}},
		{`{ $.bandwidth > 75 }`, []bool{true, false}},
		{`{ $.refreshRate >= 60 }`, []bool{true, false}},
		{`{ $.responseTime <= 5 }`, []bool{true, false}},
		{`{ $.latency = * }`, []bool{true, true}},
		{`{ $.errorCode = 4* }`, []bool{true, false}},
		{`{ $.errorCode = "400" }`, []bool{true, false}},
	} {
		t.Run(c.pattern, func(t *testing.T) {
			t.Parallel()
			check(t, c.pattern, ev, c.want)
		})
	}
}

func TestJSONMissingField(t *testing.T) {
	t.Parallel()
	// DataBiosphere/azul#5884: recorded with the console's "Test pattern".
	check(t, `{($.errorCode = "AccessDenied") && ($.userIdentity.invokedBy != "cloudfront.amazonaws.com")}`,
		[]string{`{"errorCode":"AccessDenied","userIdentity":{"accountId":"anonymous"}}`,
			`{"errorCode":"AccessDenied","userIdentity":{"invokedBy":"s3.amazonaws.com"}}`},
		[]bool{false, true})
}

func TestJSONNotJSON(t *testing.T) {
	t.Parallel()
	check(t, `{ $.a = * }`, []string{`a=1`, `{"a":1`, `{"a":1}}`, `[{"a":1}]`, `{"a":1} `, ` {"a":"\u00e9"}`, `{"a":"x\q"}`},
		[]bool{false, false, false, false, true, true, false})
	check(t, `{ $.k = "é" }`, []string{`{"k":"\u00e9"}`, `{"\u006b":"é"}`}, []bool{true, true})
}

const apacheLine = `127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`

func TestDelimited(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pattern string
		want    map[string]string // nil: no match
	}{
		{`[ip, server, username, timestamp, request, status_code, bytes > 1000]`, map[string]string{
			"$bytes": "1534", "$status_code": "404", "$request": "GET /index.html HTTP/1.0",
			"$timestamp": "10/Oct/2000:13:25:15 -0700", "$username": "frank", "$server": "Prod", "$ip": "127.0.0.1"}},
		{`[ip, server, username, timestamp, request, status_code, bytes > 2000]`, nil},
		{`[..., request=*.html*, status_code=4*,]`, map[string]string{
			"$status_code": "404", "$request": "GET /index.html HTTP/1.0", "$7": "1534",
			"$4": "10/Oct/2000:13:25:15 -0700", "$3": "frank", "$2": "Prod", "$1": "127.0.0.1"}},
		{`[..., status_code, bytes]`, map[string]string{"$1": "127.0.0.1", "$2": "Prod", "$3": "frank",
			"$4": "10/Oct/2000:13:25:15 -0700", "$5": "GET /index.html HTTP/1.0", "$status_code": "404", "$bytes": "1534"}},
		{`[ip, user, ..., status_code, bytes]`, map[string]string{"$ip": "127.0.0.1", "$user": "Prod", "$3": "frank",
			"$4": "10/Oct/2000:13:25:15 -0700", "$5": "GET /index.html HTTP/1.0", "$status_code": "404", "$bytes": "1534"}},
		{`[ip, user, ...]`, map[string]string{"$ip": "127.0.0.1", "$user": "Prod", "$3": "frank",
			"$4": "10/Oct/2000:13:25:15 -0700", "$5": "GET /index.html HTTP/1.0", "$6": "404", "$7": "1534"}},
		{`[..., request =*.html*, status_code = 4*, bytes]`, map[string]string{"$1": "127.0.0.1", "$2": "Prod", "$3": "frank",
			"$4": "10/Oct/2000:13:25:15 -0700", "$request": "GET /index.html HTTP/1.0", "$status_code": "404", "$bytes": "1534"}},
		{`[ip=%127\.0\.0\.[1-9]%, ...]`, map[string]string{"$ip": "127.0.0.1", "$2": "Prod", "$3": "frank",
			"$4": "10/Oct/2000:13:25:15 -0700", "$5": "GET /index.html HTTP/1.0", "$6": "404", "$7": "1534"}},
		{`[ip=%^10\.%, ...]`, nil},
		{`[ip, user, username, timestamp, request, status_code = 404 || status_code = 410, bytes]`, map[string]string{
			"$bytes": "1534", "$status_code": "404", "$request": "GET /index.html HTTP/1.0",
			"$timestamp": "10/Oct/2000:13:25:15 -0700", "$username": "frank", "$user": "Prod", "$ip": "127.0.0.1"}},
		{`[ip, user, username, timestamp, request = *html*, status_code = 5*, bytes]`, nil},
		{`[ip, user, username, timestamp, request, status_code != 404, bytes]`, nil},
		{`[a, b, c, d, e, f, g, h]`, nil},
	} {
		t.Run(c.pattern, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(c.pattern)
			if err != nil {
				t.Fatal(err)
			}
			m, ok := p.Match([]byte(apacheLine))
			if ok != (c.want != nil) {
				t.Fatalf("match = %v, want %v", ok, c.want != nil)
			}
			if ok && !maps.Equal(m.Values(), c.want) {
				t.Errorf("values\n got %v\nwant %v", m.Values(), c.want)
			}
		})
	}
}

func TestDelimitedPositional(t *testing.T) {
	t.Parallel()
	lines := []string{
		"INFO 09/25/2014 12:00:00 GET /service/resource/67 1200",
		"INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310",
		"WARNING 09/25/2014 12:00:02 Invalid user request",
		"ERROR 09/25/2014 12:00:02 Failed to process request",
	}
	check(t, `[w1=ERROR, w2]`, lines, []bool{false, false, false, true})
	check(t, `[w1=ERROR || w1=WARNING, w2]`, lines, []bool{false, false, true, true})
	check(t, `[w1!=ERROR && w1!=WARNING, w2]`, lines, []bool{true, true, false, false})
	check(t, `[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]`, lines, []bool{true, false, false, false})
	check(t, `[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]`, lines, []bool{false, true, false, false})

	p := MustParse(`[w1=ERROR, w2]`)
	m, _ := p.Match([]byte(lines[3]))
	if v, _ := m.Field("$w2"); v != "09/25/2014 12:00:02 Failed to process request" {
		t.Errorf("$w2 = %q, want the rest of the line", v)
	}
	// 2021 doc: lines "ERROR message", "ERROR WARN message".
	check(t, `[w1=ERROR, w2]`, []string{"ERROR message", "WARN message", "ERROR"}, []bool{true, false, false})
}

func TestMetricValue(t *testing.T) {
	t.Parallel()
	jp := MustParse(`{ $.latency = * }`)
	m, ok := jp.Match([]byte(`{"latency": 50, "requestType": "GET", "s": "12.5", "x": "abc", "o": {}}`))
	if !ok {
		t.Fatal("no match")
	}
	for _, c := range []struct {
		expr string
		want float64
		err  bool
	}{
		{"1", 1, false},
		{"$.latency", 50, false},
		{"$.s", 12.5, false},
		{"$.x", 0, true},
		{"$.o", 0, true},
		{"$.nope", 0, true},
		{"one", 0, true},
		{"", 0, true},
	} {
		got, err := MetricValue(c.expr, m)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("MetricValue(%q) = %v, %v; want %v, err %v", c.expr, got, err, c.want, c.err)
		}
	}
	if v, ok := m.Field("$.requestType"); !ok || v != "GET" {
		t.Errorf("Field($.requestType) = %q, %v", v, ok)
	}
	if len(m.Values()) != 0 {
		t.Errorf("JSON Values not empty: %v", m.Values())
	}

	dp := MustParse(`[ip, id, user, timestamp, request, status_code, size]`)
	m, ok = dp.Match([]byte(apacheLine))
	if !ok {
		t.Fatal("no match")
	}
	for expr, want := range map[string]float64{"$size": 1534, "$7": 1534, "$status_code": 404, "$6": 404} {
		if got, err := MetricValue(expr, m); err != nil || got != want {
			t.Errorf("MetricValue(%q) = %v, %v; want %v", expr, got, err, want)
		}
	}
	if _, err := MetricValue("$request", m); err == nil {
		t.Error("non-numeric $request: no error")
	}
	if v, _ := m.Field("$ip"); v != "127.0.0.1" {
		t.Errorf("$ip = %q", v)
	}
}

func TestCheckMetricValue(t *testing.T) {
	t.Parallel()
	j, d, tp := MustParse(`{ $.a = 1 }`), MustParse(`[a, b]`), MustParse(`ERROR`)
	for _, c := range []struct {
		expr string
		p    *Pattern
		ok   bool
	}{
		{"1", tp, true}, {"$.a", tp, false}, {"$.bytes", j, true}, {"$bytes", j, false},
		{"$a", d, true}, {"$2", d, true}, {"$c", d, false}, {"x", j, false},
	} {
		if err := CheckMetricValue(c.expr, c.p); (err == nil) != c.ok {
			t.Errorf("CheckMetricValue(%q, %q) = %v", c.expr, c.p, err)
		}
	}
}

func TestInvalid(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pattern string
		offset  int
	}{
		{`%something!%`, 10},
		{`%(a)%`, 1},
		{`%abc`, 0},
		{`%%`, 1},
		{`%é%`, 1},
		{`{ $.a = 1`, 9},
		{`{ $.a = }`, 8},
		{`{ $.a }`, 6},
		{`{ a = 1 }`, 2},
		{`{ $.a IS NOT NULL }`, 9},
		{`{ $.a EXISTS }`, 6},
		{`{ $.a > abc }`, 8},
		{`{ $.a < "1" }`, 8},
		{`{ $.a >= %1% }`, 9},
		{`{ $.a = 1 } x`, 12},
		{`{ ($.a = 1 }`, 11},
		{`{ $.a = 1 && }`, 13},
		{`{ $.a[x] = 1 }`, 5},
		{`{ $. = 1 }`, 4},
		{`{ $.*.b[*] = 1 }`, 2},
		{`{ $.a[*] = 1 && $.b[*] = 1 && $.c[*] = 1 && $.d[*] = 1 }`, 44},
		{`{ $.a = %x% && $.b = %y% && $.c = %z% }`, 34},
		{`{ $.a = "x }`, 8},
		{`[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]`, 60},
		{`[]`, 1},
		{`[a, b`, 5},
		{`[a, a]`, 4},
		{`[a > x]`, 5},
		{`[a = 1] x`, 8},
		{`"unterminated`, 0},
		{`-`, 0},
		{`ERROR ?`, 6},
		{`%a%b`, 3},
	} {
		_, err := Parse(c.pattern)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want *Error", c.pattern, err)
			continue
		}
		if pe.Offset != c.offset {
			t.Errorf("Parse(%q): offset %d, want %d (%v)", c.pattern, pe.Offset, c.offset, err)
		}
	}
	long := make([]byte, MaxPatternLength+1)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := Parse(string(long)); err == nil {
		t.Error("over-long pattern accepted")
	}
}
