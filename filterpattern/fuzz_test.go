package filterpattern

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
)

func patternSeeds(f *testing.F) []string {
	seeds := []string{
		``, `""`, `" "`, `ERROR`, `ERROR -ARGUMENTS`, `?ERROR ?WARN`, `"ERROR" - "Exiting"`, `%AUTHORIZED%`,
		`%^[hc]at%`, `%a{,3}%`, `%\[.\]%`, `%\x3A%`, `%something!%`, `%(a)%`,
		`{ $.eventType = "UpdateTrail" }`, `{ $.sourceIPAddress != 123.123.* }`, `{ $.arrayKey[*] = %val.{2}% }`,
		`{ $.* = %111\.111\.111\.1[0-9]{1,2}% }`, `{ $.['cluster.name'] = "c" }`, `{ $.SomeObject IS NULL }`,
		`{ $.a NOT EXISTS }`, `{ $.f IS TRUE || $.f IS FALSE }`, `{ ($.a = 1 || $.b > 2) && $.c[0][1] <= -1e3 }`,
		`{ $.errorMessage = Failed authentication }`, `{ $.a = "x }`, `{ $.a IS NOT NULL }`,
		`[ip, user, ..., status = 4*, bytes > 1000]`, `[..., request=*.html*, status_code=4*,]`,
		`[w1=ERROR || w1=WARNING, w2]`, `[w1!=ERROR && w1!=WARNING, w2]`, `[a, (b = 1 || b = 2) && b != 3]`,
		`[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]`, `[...,...,x]`,
	}
	if data, err := os.ReadFile("testdata/cis_filters.json"); err == nil {
		var cs []cisControl
		if json.Unmarshal(data, &cs) == nil {
			for _, c := range cs {
				seeds = append(seeds, c.Pattern)
				for _, a := range c.Alternates {
					seeds = append(seeds, a.Pattern)
				}
			}
		}
	}
	return seeds
}

// FuzzParse checks that Parse never panics, reports *Error with an offset
// inside the pattern, and that a valid pattern parses again from String.
func FuzzParse(f *testing.F) {
	for _, s := range patternSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse(src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if pe.Offset < 0 || pe.Offset > len(src) {
				t.Fatalf("offset %d outside pattern of %d bytes", pe.Offset, len(src))
			}
			return
		}
		q, err := Parse(p.String())
		if err != nil || q.Kind() != p.Kind() {
			t.Fatalf("re-parse of %q: %v", src, err)
		}
		NewSet(p, q)
	})
}

// FuzzMatch checks that matching never panics, that Match, Matches and a
// Set agree, and that a JSON pattern never matches a message that is not
// one JSON object.
func FuzzMatch(f *testing.F) {
	msgs := []string{
		eventA, eventB, apacheLine, "[ERROR 401] UNAUTHORIZED REQUEST", "", `{}`, `{"a":[1,{"b":null}]}`,
		`{"a":"\u00e9\"x"}`, `{"a":1`, `[1,2]`, `{"a":1}{"b":2}`,
		rec(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"}`),
	}
	seeds := patternSeeds(f)
	for i, s := range seeds {
		f.Add(s, msgs[i%len(msgs)])
	}
	f.Fuzz(func(t *testing.T, src, msg string) {
		p, err := Parse(src)
		if err != nil {
			return
		}
		m, ok := p.Match([]byte(msg))
		if ok != p.Matches([]byte(msg)) {
			t.Fatalf("Match and Matches disagree")
		}
		if got := NewSet(p).Match([]byte(msg), nil); (len(got) == 1) != ok {
			t.Fatalf("Set disagrees: %v vs %v", got, ok)
		}
		if !ok {
			return
		}
		if p.Kind() == JSON {
			var obj map[string]any
			if json.Unmarshal([]byte(msg), &obj) != nil {
				t.Fatalf("JSON pattern matched a non-object message %q", msg)
			}
		}
		for k := range m.Values() {
			if _, ok := m.Field(k); !ok {
				t.Fatalf("Values key %s not found by Field", k)
			}
		}
		MetricValue("$.a", m)
		MetricValue("$1", m)
	})
}
