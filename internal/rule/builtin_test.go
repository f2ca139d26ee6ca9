package rule

import (
	"strings"
	"testing"
)

func TestBuiltin(t *testing.T) {
	t.Parallel()
	rs, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 20 {
		t.Fatalf("Builtin: %d rules, want at least 20", len(rs))
	}
	if _, err := NewSet(rs); err != nil {
		t.Fatalf("NewSet(Builtin): %v", err)
	}
	passed := 0
	for _, res := range RunTests(rs) {
		if !res.Passed() {
			t.Error(res)
			continue
		}
		passed++
	}
	t.Logf("%d rules, %d inline tests passed", len(rs), passed)
	for _, r := range rs {
		var pos, neg int
		for _, tc := range r.Tests {
			if tc.Expect {
				pos++
			} else {
				neg++
			}
		}
		if pos == 0 || neg == 0 {
			t.Errorf("%s: %s: %d positive and %d negative tests, want at least one of each", r.Source, r.Name, pos, neg)
		}
		if r.Description == "" {
			t.Errorf("%s: %s: no description", r.Source, r.Name)
		}
		if !strings.HasPrefix(r.Source, "rules/") {
			t.Errorf("%s: source should name the embedded pack", r.Source)
		}
		// Every summary renders on every test event without a template
		// error and without "<no value>".
		for _, tc := range r.Tests {
			s, err := r.renderSummary(tc.Event, nil)
			if err != nil {
				t.Errorf("%s: summary on %q: %v", r.Name, tc.Name, err)
			}
			if strings.Contains(s, "<no value>") {
				t.Errorf("%s: summary on %q: %q", r.Name, tc.Name, s)
			}
		}
	}
}

// The CIS tags name every Security Hub CloudWatch control and CIS 4.15.
func TestBuiltinCoversCIS(t *testing.T) {
	t.Parallel()
	rs, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cis-1.4-4.15"}
	for i := 1; i <= 14; i++ {
		want = append(want, "securityhub-cloudwatch."+itoa(i))
	}
	for _, tag := range want {
		n := 0
		for _, r := range rs {
			if r.HasTag(tag) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("tag %s on %d rules, want 1", tag, n)
		}
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return string(rune('0'+i/10)) + string(rune('0'+i%10))
}
