package pattern

import (
	"errors"
	"reflect"
	"testing"
)

type opCase struct {
	pattern, event string
	want           bool
}

// checkCases runs each case through Matches and through one Matcher
// holding all the cases' patterns.
func checkCases(t *testing.T, cases []opCase) {
	t.Helper()
	b := NewBuilder()
	for i, c := range cases {
		p, err := Parse([]byte(c.pattern))
		if err != nil {
			t.Fatalf("#%d: Parse(%s): %v", i, c.pattern, err)
		}
		b.Add(i, p)
		got, err := Matches(p, []byte(c.event))
		if err != nil {
			t.Fatalf("#%d: Matches(%s): %v", i, c.event, err)
		}
		if got != c.want {
			t.Errorf("#%d: pattern %s, event %s: got %v, want %v", i, c.pattern, c.event, got, c.want)
		}
	}
	m := b.Build()
	for i, c := range cases {
		ids, err := m.Match([]byte(c.event), nil)
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, id := range ids {
			got = got || id == i
		}
		if got != c.want {
			t.Errorf("#%d: combined: pattern %s, event %s: got %v, want %v", i, c.pattern, c.event, got, c.want)
		}
	}
}

func TestExact(t *testing.T) {
	checkCases(t, []opCase{
		{`{"a":["x"]}`, `{"a":"x"}`, true},
		{`{"a":["x"]}`, `{"a":"X"}`, false},
		{`{"a":["x","y"]}`, `{"a":"y"}`, true},
		{`{"a":["x"]}`, `{"b":"x"}`, false},
		{`{"a":[""]}`, `{"a":""}`, true},
		{`{"a":[""]}`, `{"a":null}`, false},
		{`{"a":[null]}`, `{"a":null}`, true},
		{`{"a":[null]}`, `{}`, false},
		{`{"a":[true]}`, `{"a":true}`, true},
		{`{"a":[true]}`, `{"a":"true"}`, false},
		{`{"a":[false]}`, `{"a":true}`, false},
		{`{"a":[300]}`, `{"a":300}`, true},
		{`{"a":[300]}`, `{"a":300.0}`, true},
		{`{"a":[300]}`, `{"a":3e2}`, true},
		{`{"a":[300]}`, `{"a":"300"}`, false},
		{`{"a":["300"]}`, `{"a":300}`, false},
		{`{"a":[9007199254740993]}`, `{"a":9007199254740993}`, true},
		{`{"a":[9007199254740993]}`, `{"a":9007199254740992}`, false},
		{`{"a":[0.1]}`, `{"a":0.10000000000000001}`, false},
		{`{"a":["é"]}`, `{"a":"\u00e9"}`, true},
		{`{"a":["10.0.0.1"]}`, `{"a":"10.0.0.1"}`, true},
		{`{"a":["2001:db8::1"]}`, `{"a":"2001:0DB8:0:0:0:0:0:1"}`, true},
		{`{"a":[{"exactly":"x"}]}`, `{"a":"x"}`, true},
		{`{"a":{"b":["x"]}}`, `{"a":{"b":"x"}}`, true},
		{`{"a":{"b":["x"]}}`, `{"a.b":"x"}`, true},
		{`{"a.b":["x"]}`, `{"a":{"b":"x"}}`, true},
		{`{"a":["x"]}`, `{"a":{"b":"x"}}`, false},
		{`{"a":["x"],"a":["y"]}`, `{"a":"y"}`, true},
		{`{"a":["x"],"a":["y"]}`, `{"a":"x"}`, false},
	})
}

func TestPrefixSuffix(t *testing.T) {
	checkCases(t, []opCase{
		{`{"a":[{"prefix":"us-"}]}`, `{"a":"us-east-1"}`, true},
		{`{"a":[{"prefix":"us-"}]}`, `{"a":"eu-west-1"}`, false},
		{`{"a":[{"prefix":""}]}`, `{"a":""}`, true},
		{`{"a":[{"prefix":""}]}`, `{"a":5}`, false},
		{`{"a":[{"prefix":"1"}]}`, `{"a":123}`, false},
		{`{"a":[{"suffix":".png"}]}`, `{"a":"x.png"}`, true},
		{`{"a":[{"suffix":".png"}]}`, `{"a":"x.PNG"}`, false},
		{`{"a":[{"prefix":{"equals-ignore-case":"EventB"}}]}`, `{"a":"eventbridge"}`, true},
		{`{"a":[{"prefix":{"equals-ignore-case":"EventB"}}]}`, `{"a":"event"}`, false},
		{`{"a":[{"suffix":{"equals-ignore-case":".PNG"}}]}`, `{"a":"x.png"}`, true},
		{`{"a":[{"suffix":{"equals-ignore-case":".PNG"}}]}`, `{"a":"x.jpg"}`, false},
		{`{"a":[{"prefix":{"equals-ignore-case":"ÉC"}}]}`, `{"a":"école"}`, true},
	})
}

func TestEqualsIgnoreCase(t *testing.T) {
	checkCases(t, []opCase{
		{`{"a":[{"equals-ignore-case":"alice"}]}`, `{"a":"ALICE"}`, true},
		{`{"a":[{"equals-ignore-case":"alice"}]}`, `{"a":"alicia"}`, false},
		{`{"a":[{"equals-ignore-case":"123"}]}`, `{"a":123}`, false},
		{`{"a":[{"equals-ignore-case":"ÉCOLE"}]}`, `{"a":"école"}`, true},
		{`{"a":[{"equals-ignore-case":"straße"}]}`, `{"a":"STRASSE"}`, true},
		{`{"a":[{"equals-ignore-case":"STRASSE"}]}`, `{"a":"straße"}`, false},
		{`{"a":[{"equals-ignore-case":"k"}]}`, `{"a":"\u212a"}`, false},
		{`{"a":[{"equals-ignore-case":"I"}]}`, `{"a":"ı"}`, false},
	})
}

func TestWildcard(t *testing.T) {
	checkCases(t, []opCase{
		{`{"a":[{"wildcard":"dir/*.png"}]}`, `{"a":"dir/x.png"}`, true},
		{`{"a":[{"wildcard":"dir/*.png"}]}`, `{"a":"dir/x.jpg"}`, false},
		{`{"a":[{"wildcard":"a*b*c"}]}`, `{"a":"abc"}`, true},
		{`{"a":[{"wildcard":"a*b*c"}]}`, `{"a":"axxbyyc"}`, true},
		{`{"a":[{"wildcard":"a*b*c"}]}`, `{"a":"axxbyy"}`, false},
		{`{"a":[{"wildcard":"*"}]}`, `{"a":""}`, true},
		{`{"a":[{"wildcard":"*"}]}`, `{"a":1}`, false},
		{`{"a":[{"wildcard":""}]}`, `{"a":""}`, true},
		{`{"a":[{"wildcard":""}]}`, `{"a":"x"}`, false},
		{`{"a":[{"wildcard":"a\\*b"}]}`, `{"a":"a*b"}`, true},
		{`{"a":[{"wildcard":"a\\*b"}]}`, `{"a":"axb"}`, false},
		{`{"a":[{"wildcard":"a\\\\b"}]}`, `{"a":"a\\b"}`, true},
		{`{"a":[{"wildcard":"A*"}]}`, `{"a":"abc"}`, false},
		{`{"a":[{"wildcard":"arn:aws:iam::*:user/*"}]}`, `{"a":"arn:aws:iam::123456789012:user/bob"}`, true},
		{`{"a":[{"wildcard":"*ab"}]}`, `{"a":"aab"}`, true},
		{`{"a":[{"wildcard":"*aab*"}]}`, `{"a":"aaab"}`, true},
	})
}

func TestAnythingBut(t *testing.T) {
	checkCases(t, []opCase{
		{`{"a":[{"anything-but":"x"}]}`, `{"a":"y"}`, true},
		{`{"a":[{"anything-but":"x"}]}`, `{"a":"x"}`, false},
		{`{"a":[{"anything-but":"x"}]}`, `{}`, false},
		{`{"a":[{"anything-but":"x"}]}`, `{"a":null}`, true},
		{`{"a":[{"anything-but":"x"}]}`, `{"a":5}`, true},
		{`{"a":[{"anything-but":"x"}]}`, `{"a":["x","y"]}`, true},
		{`{"a":[{"anything-but":"x"}]}`, `{"a":["x"]}`, false},
		{`{"a":[{"anything-but":["x","y"]}]}`, `{"a":"y"}`, false},
		{`{"a":[{"anything-but":[100,200]}]}`, `{"a":100.0}`, false},
		{`{"a":[{"anything-but":[100,200]}]}`, `{"a":"100"}`, true},
		{`{"a":[{"anything-but":5}]}`, `{"a":"x"}`, true},
		{`{"a":[{"anything-but":{"prefix":"init"}}]}`, `{"a":"initial"}`, false},
		{`{"a":[{"anything-but":{"prefix":"init"}}]}`, `{"a":12}`, true},
		{`{"a":[{"anything-but":{"prefix":["a","b"]}}]}`, `{"a":"bee"}`, false},
		{`{"a":[{"anything-but":{"suffix":[".png",".jpg"]}}]}`, `{"a":"x.JPG"}`, true},
		{`{"a":[{"anything-but":{"suffix":".txt"}}]}`, `{"a":"f.txt"}`, false},
		{`{"a":[{"anything-but":{"equals-ignore-case":["X","Y"]}}]}`, `{"a":"x"}`, false},
		{`{"a":[{"anything-but":{"equals-ignore-case":"x"}}]}`, `{"a":5}`, true},
		{`{"a":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"a":"/usr/lib/x"}`, false},
		{`{"a":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"a":"/usr/bin/x"}`, true},
		{`{"a":[{"anything-but":{"wildcard":"*"}}]}`, `{"a":123}`, true},
	})
}

func TestNumeric(t *testing.T) {
	checkCases(t, []opCase{
		{`{"a":[{"numeric":[">",0,"<=",5]}]}`, `{"a":5}`, true},
		{`{"a":[{"numeric":[">",0,"<=",5]}]}`, `{"a":0}`, false},
		{`{"a":[{"numeric":[">",0,"<=",5]}]}`, `{"a":5.0001}`, false},
		{`{"a":[{"numeric":["<",10]}]}`, `{"a":-1e300}`, true},
		{`{"a":[{"numeric":["=",3.018e2]}]}`, `{"a":301.8}`, true},
		{`{"a":[{"numeric":[">",1e300]}]}`, `{"a":1e301}`, true},
		{`{"a":[{"numeric":[">",0]}]}`, `{"a":"5"}`, false},
		{`{"a":[{"numeric":[">",0]}]}`, `{"a":null}`, false},
		{`{"a":[{"numeric":[">=",-10.5,"<",0]}]}`, `{"a":-10.5}`, true},
		{`{"a":[{"numeric":[">",-10.5,"<",0]}]}`, `{"a":-10.5}`, false},
		{`{"a":[{"numeric":[">",5]}]}`, `{"a":[1,2,9]}`, true},
		{`{"a":[{"numeric":["=",0.1]}]}`, `{"a":0.10000000000000001}`, false},
		{`{"a":[{"numeric":[">",10]},5]}`, `{"a":5}`, true},
	})
}

func TestCIDR(t *testing.T) {
	checkCases(t, []opCase{
		{`{"a":[{"cidr":"10.0.0.0/24"}]}`, `{"a":"10.0.0.255"}`, true},
		{`{"a":[{"cidr":"10.0.0.0/24"}]}`, `{"a":"10.0.1.0"}`, false},
		{`{"a":[{"cidr":"10.0.0.0/24"}]}`, `{"a":"10.0.0.256"}`, false},
		{`{"a":[{"cidr":"10.0.0.0/8"}]}`, `{"a":"ec2.amazonaws.com"}`, false},
		{`{"a":[{"cidr":"10.0.0.0/8"}]}`, `{"a":10}`, false},
		{`{"a":[{"cidr":"220.160.153.171/31"}]}`, `{"a":"220.160.153.170"}`, true},
		{`{"a":[{"cidr":"2001:db8:1234:1a00::/64"}]}`, `{"a":"2001:0db8:1234:1a00:0000:0000:0000:0001"}`, true},
		{`{"a":[{"cidr":"2001:db8:1234:1a00::/64"}]}`, `{"a":"2001:db8:1234:1a01::"}`, false},
	})
}

func TestExists(t *testing.T) {
	checkCases(t, []opCase{
		{`{"a":[{"exists":true}]}`, `{"a":"x"}`, true},
		{`{"a":[{"exists":true}]}`, `{"a":null}`, true},
		{`{"a":[{"exists":true}]}`, `{"a":[]}`, false},
		{`{"a":[{"exists":true}]}`, `{"a":{"b":1}}`, false},
		{`{"a":[{"exists":true}]}`, `{}`, false},
		{`{"a":[{"exists":false}]}`, `{}`, true},
		{`{"a":[{"exists":false}]}`, `{"a":null}`, false},
		{`{"a":[{"exists":false}]}`, `{"a":[]}`, true},
		{`{"a":[{"exists":false}]}`, `{"a":{"b":1}}`, true},
		{`{"a":[{"exists":false},"x"]}`, `{"a":"x"}`, true},
		{`{"a":[{"exists":false},"x"]}`, `{"a":"y"}`, false},
		{`{"a":[{"exists":false},"x"]}`, `{}`, true},
		{`{"e":{"f":["Anna"],"x":[{"exists":false}]}}`, `{"e":[{"f":"Anna"},{"x":1}]}`, true},
		{`{"e":{"f":["Anna"],"x":[{"exists":false}]}}`, `{"e":[{"f":"Anna","x":1}]}`, false},
	})
}

func TestOrAndArrays(t *testing.T) {
	checkCases(t, []opCase{
		{`{"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"b":"y"}`, true},
		{`{"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"b":"x"}`, false},
		{`{"c":["z"],"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"a":"x","c":"z"}`, true},
		{`{"c":["z"],"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"a":"x"}`, false},
		{`{"d":{"$or":[{"a":["x"]},{"$or":[{"b":["y"]},{"c":["z"]}]}]}}`, `{"d":{"c":"z"}}`, true},
		{`{"$or":[{"a":["x"]},{"b":["y"]}],"$or":[{"c":["1"]},{"d":["2"]}]}`, `{"a":"x","d":"2"}`, true},
		{`{"$or":[{"a":["x"]},{"b":["y"]}],"$or":[{"c":["1"]},{"d":["2"]}]}`, `{"a":"x"}`, false},
		{`{"a":["x"]}`, `{"a":[["y"],["x"]]}`, true},
		{`{"a":{"b":["x"]}}`, `{"a":[{"b":"y"},{"b":"x"}]}`, true},
		{`{"e":{"f":["Anna"],"l":["Jones"]}}`, `{"e":[{"f":"Anna","l":"Smith"},{"f":"Peter","l":"Jones"}]}`, false},
		{`{"e":{"f":["Anna"],"l":["Jones"]}}`, `{"e":[{"f":"Peter","l":"Smith"},{"f":"Anna","l":"Jones"}]}`, true},
		{`{"e":{"f":["Anna"]},"g":["1"]}`, `{"e":[{"f":"Anna"}],"g":["0","1"]}`, true},
	})
}

func TestInvalidPatterns(t *testing.T) {
	cases := []struct{ pattern, path, msg string }{
		{`[]`, "", "Filter is not an object"},
		{`{}`, "", "Empty objects are not allowed"},
		{`{"a":1}`, "a", `"a" must be an object or an array`},
		{`{"a":{"b":"x"}}`, "a.b", `"b" must be an object or an array`},
		{`{"a":[]}`, "a", "Empty arrays are not allowed"},
		{`{"a":{}}`, "a", "Empty objects are not allowed"},
		{`{"a":[[1]]}`, "a", "Match value must be String, number, true, false, or null"},
		{`{"a":[{"x":1}]}`, "a", "Unrecognized match type x"},
		{`{"a":[{"NUMERIC":["=",5]}]}`, "a", "Unrecognized match type NUMERIC"},
		{`{"a":[{"regex":"x"}]}`, "a", "Unrecognized match type regex"},
		{`{"a":[{}]}`, "a", "Match expression name not found"},
		{`{"a":[{"prefix":1}]}`, "a", "prefix match pattern must be a string"},
		{`{"a":[{"prefix":"x","y":1}]}`, "a", "Only one key allowed in match expression"},
		{`{"a":[{"suffix":["x"]}]}`, "a", "suffix match pattern must be a string"},
		{`{"a":[{"equals-ignore-case":["x"]}]}`, "a", "equals-ignore-case match pattern must be a string"},
		{`{"a":[{"wildcard":"a**b"}]}`, "a", "Consecutive wildcard characters at pos 2"},
		{`{"a":[{"wildcard":"a\\b"}]}`, "a", "Invalid escape character at pos 2"},
		{`{"a":[{"wildcard":"*:*:*:*:*:event-bus/*"}]}`, "a", msgTooComplex},
		{`{"a":[{"numeric":10}]}`, "a", "Value of numeric must be an array."},
		{`{"a":[{"numeric":["<",10,">",0]}]}`, "a", "Too many elements in numeric expression"},
		{`{"a":[{"numeric":[">",0,">",0]}]}`, "a", "Bad numeric range operator: >"},
		{`{"a":[{"numeric":[">",0,"<"]}]}`, "a", "Value of < must be numeric"},
		{`{"a":[{"numeric":["=","5"]}]}`, "a", "Value of equals must be numeric"},
		{`{"a":[{"numeric":["~",5]}]}`, "a", "Unrecognized numeric range operator: ~"},
		{`{"a":[{"cidr":"bad"}]}`, "a", "Malformed CIDR, one '/' required"},
		{`{"a":[{"cidr":"10.1.2.3/32"}]}`, "a", "IPv4 mask bits must be < 32"},
		{`{"a":[{"cidr":"xx.11.xx/8"}]}`, "a", "Nonstandard IP address: xx.11.xx"},
		{`{"a":[{"exists":"yes"}]}`, "a", "exists match pattern must be either true or false."},
		{`{"a":[{"anything-but":null}]}`, "a", "Value of anything-but must be an array or single string/number value."},
		{`{"a":[{"anything-but":["x",null]}]}`, "a", "Inside anything but list, start|null|boolean is not supported."},
		{`{"a":[{"anything-but":["x",1]}]}`, "a", "Inside anything but list, either all values are number or string, mixed type is not supported"},
		{`{"a":[{"anything-but":{"prefix":""}}]}`, "a", "Null prefix/suffix not allowed"},
		{`{"a":[{"anything-but":{"regex":"x"}}]}`, "a", "Unsupported anything-but pattern: regex"},
		{`{"a":[{"anything-but":{"prefix":{"equals-ignore-case":"x"}}}]}`, "a", "Value of anything-but must be an array or single string/number value."},
		{`{"a":[{"numeric":[">",9007199254740993]}]}`, "a", "Number 9007199254740993 can't be represented exactly as a 64-bit float"},
		{`{"a":[{"numeric":["<",1e400]}]}`, "a", "Number 1e400 can't be represented exactly as a 64-bit float"},
		{`{"a":[{"anything-but":[0.10000000000000001]}]}`, "a", "Number 0.10000000000000001 can't be represented exactly as a 64-bit float"},
		{`{"$or":[{"a":["x"]}]}`, "", "There must have at least 2 Objects in $or relationship."},
		{`{"$or":{"a":["x"]}}`, "", "It must be an Array followed with $or."},
		{`{"$or":[{"a":["x"]},["b"]]}`, "", "Only JSON object is allowed in array of $or relationship."},
		{`{"$or":[{"prefix":["x"]},{"b":["y"]}]}`, "prefix", "prefix is Ruler reserved fieldName which cannot be used inside $or."},
		{`{"a":["x"`, "", ""},
		{`{"a":["x"]} x`, "", ""},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.pattern))
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%s): error %v, want *Error", c.pattern, err)
			continue
		}
		if c.msg != "" && (pe.Path != c.path || pe.Msg != c.msg) {
			t.Errorf("Parse(%s): got (%q, %q), want (%q, %q)", c.pattern, pe.Path, pe.Msg, c.path, c.msg)
		}
	}
}

func TestOrLimit(t *testing.T) {
	or := `{"$or":[{"a":["1"]},{"b":["1"]},{"c":["1"]},{"d":["1"]},{"e":["1"]},{"f":["1"]},{"g":["1"]},{"h":["1"]},{"i":["1"]},{"j":["1"]}]}`
	ok := `{"x":` + or + `,"y":` + or + `,"z":` + or + `}`
	p, err := Parse([]byte(ok))
	if err != nil {
		t.Fatalf("1000 combinations: %v", err)
	}
	if p.Branches() != 1000 {
		t.Fatalf("branches = %d, want 1000", p.Branches())
	}
	if _, err := Parse([]byte(`{"w":` + or + `,"x":` + or + `,"y":` + or + `,"z":` + or + `}`)); err == nil {
		t.Fatal("10000 combinations accepted")
	}
}

func TestFieldsAndString(t *testing.T) {
	src := `{"source":["aws.iam"],"detail":{"$or":[{"eventName":["A"]},{"errorCode":[{"exists":true}]}]},"detail.eventName":["B"]}`
	p := MustParse(src)
	if p.String() != src {
		t.Errorf("String() = %q", p.String())
	}
	want := []string{"detail.errorCode", "detail.eventName", "source"}
	if got := p.Fields(); !reflect.DeepEqual(got, want) {
		t.Errorf("Fields() = %q, want %q", got, want)
	}
}

func TestMatcherIDs(t *testing.T) {
	b := NewBuilder()
	b.Add(7, MustParse(`{"a":["x"]}`))
	b.Add(3, MustParse(`{"a":[{"prefix":"x"}]}`))
	b.Add(7, MustParse(`{"b":["y"]}`)) // ORed with the first
	b.Add(5, MustParse(`{"a":["z"]}`))
	m := b.Build()
	if m.Len() != 3 {
		t.Errorf("Len() = %d, want 3", m.Len())
	}
	got, err := m.Match([]byte(`{"a":"x","b":"y"}`), []int{42})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{42, 3, 7}; !reflect.DeepEqual(got, want) {
		t.Errorf("Match = %v, want %v", got, want)
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{"a":}`, `{"a":"x"`, `{"a":"x"} {}`, `{"a":[1,]}`, `{"a":tru}`, `{"a":01}`, "{\"a\":\"\x01\"}"} {
		if _, err := m.Match([]byte(bad), nil); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("Match(%q): err = %v, want ErrInvalidEvent", bad, err)
		}
	}
}

func TestMatchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	b := NewBuilder()
	b.Add(1, MustParse(`{"detail":{"eventName":["CreateUser"],"userIdentity":{"arn":[{"wildcard":"arn:aws:iam::*:user/*"}]}}}`))
	b.Add(2, MustParse(`{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/8"}],"errorCode":[{"exists":false}]}}`))
	m := b.Build()
	ev := []byte(`{"detail":{"eventName":"CreateUser","sourceIPAddress":"10.1.2.3","userIdentity":{"arn":"arn:aws:iam::1:user/bob"},"resources":[{"ARN":"x\u0041"}]}}`)
	dst := make([]int, 0, 4)
	m.Match(ev, dst) // warm the pool
	allocs := testing.AllocsPerRun(100, func() { dst, _ = m.Match(ev, dst[:0]) })
	if allocs > 0 {
		t.Errorf("Match allocates %.1f times per call", allocs)
	}
	if len(dst) != 2 {
		t.Errorf("Match = %v, want [1 2]", dst)
	}
}

func TestConcurrentMatch(t *testing.T) {
	b := NewBuilder()
	b.Add(1, MustParse(`{"e":{"f":["Anna"],"l":["Jones"]}}`))
	b.Add(2, MustParse(`{"e":{"f":[{"prefix":"P"}]}}`))
	m := b.Build()
	events := []string{
		`{"e":[{"f":"Anna","l":"Smith"},{"f":"Peter","l":"Jones"}]}`,
		`{"e":[{"f":"Anna","l":"Jones"}]}`,
		`{"e":{"f":"Paul"}}`,
	}
	want := [][]int{{2}, {1}, {2}}
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- true }()
			for i := 0; i < 200; i++ {
				k := (i + g) % len(events)
				got, err := m.Match([]byte(events[k]), nil)
				if err != nil || !reflect.DeepEqual(got, want[k]) {
					t.Errorf("event %d: got %v, %v; want %v", k, got, err, want[k])
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

func TestManyWildcards(t *testing.T) {
	var cases []opCase
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
		p := `{"a":[{"wildcard":"arn:aws:*/` + name + `"}]}`
		cases = append(cases,
			opCase{p, `{"a":"arn:aws:iam::1:user/` + name + `"}`, true},
			opCase{p, `{"a":"arn:aws:iam::1:user/x` + name + `x"}`, false},
			opCase{p, `{"a":"arn:aws:iam::1:user/` + name + `/x"}`, false})
	}
	checkCases(t, cases)
}
