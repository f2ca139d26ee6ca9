package pattern

import (
	"testing"
)

func addSeeds(f *testing.F, fields func(c conformanceCase) []any) {
	for _, name := range []string{
		"eventbridge_aws_validated_cases.jsonl", "eventruler_cases.jsonl",
		"eventruler_edge_probes.jsonl", "eventruler_invalid_patterns.jsonl",
	} {
		for _, c := range loadCases(f, name) {
			f.Add(fields(c)...)
		}
	}
}

// FuzzParse checks that the pattern parser never panics and that a valid
// pattern parses again from its own text to the same fields.
func FuzzParse(f *testing.F) {
	addSeeds(f, func(c conformanceCase) []any { return []any{c.Pattern} })
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse([]byte(src))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		q, err := Parse([]byte(p.String()))
		if err != nil {
			t.Fatalf("re-parse of a valid pattern: %v", err)
		}
		if len(p.Fields()) != len(q.Fields()) || p.Branches() != q.Branches() {
			t.Fatalf("re-parse differs")
		}
		b := NewBuilder()
		b.Add(1, p)
		b.Build()
	})
}

// FuzzMatch checks that matching never panics on arbitrary event bytes
// and that a multi-pattern Matcher agrees with one-pattern Matches.
func FuzzMatch(f *testing.F) {
	addSeeds(f, func(c conformanceCase) []any { return []any{c.Pattern, c.Event} })
	others := []*Pattern{
		MustParse(`{"a":[{"exists":false}],"b":[{"prefix":"x"}]}`),
		MustParse(`{"a":{"b":[{"anything-but":"x"}]},"c":[{"numeric":[">",1]}]}`),
		MustParse(`{"$or":[{"a":[{"wildcard":"*x*"}]},{"detail":{"state":[{"exists":true}]}}]}`),
		MustParse(`{"e":{"f":["Anna"],"l":[{"suffix":"s"}]}}`),
	}
	f.Fuzz(func(t *testing.T, pat, event string) {
		p, err := Parse([]byte(pat))
		if err != nil {
			p = others[len(pat)%len(others)]
		}
		single, err1 := Matches(p, []byte(event))
		b := NewBuilder()
		b.Add(0, p)
		for i, o := range others {
			b.Add(i+1, o)
		}
		m := b.Build()
		ids, err2 := m.Match([]byte(event), nil)
		b.allEager = true
		idsEager, _ := b.Build().Match([]byte(event), nil)
		if len(ids) != len(idsEager) {
			t.Fatalf("anchor-indexed matcher %v, all-indexed matcher %v", ids, idsEager)
		}
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("errors disagree: %v vs %v", err1, err2)
		}
		if err1 != nil {
			return
		}
		multi := len(ids) > 0 && ids[0] == 0
		if single != multi {
			t.Fatalf("Matches = %v, Matcher = %v for pattern %s event %s", single, multi, p, event)
		}
		for i, o := range others {
			want, _ := Matches(o, []byte(event))
			got := false
			for _, id := range ids {
				got = got || id == i+1
			}
			if got != want {
				t.Fatalf("pattern %s: Matcher %v, Matches %v for event %s", o, got, want, event)
			}
		}
	})
}
