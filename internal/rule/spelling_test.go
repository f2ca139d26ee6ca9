package rule

import (
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/event"
)

func envelopeWith(t *testing.T, detailType string) *event.Event {
	t.Helper()
	b := `{"version":"0","id":"6f87d04b-9f74-4f04-a780-7acf4b0a9b38","detail-type":"` + detailType + `","source":"aws.signin","account":"123456789012","time":"2023-07-10T12:23:15Z","region":"us-east-1","resources":[],"detail":` + rootRecord + `}`
	ev, err := event.FromEnvelope([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestSignInSpelling(t *testing.T) {
	t.Parallel()
	oldEv := envelopeWith(t, spellingOld)
	newEv := envelopeWith(t, spellingNew)
	apiEv := envelopeWith(t, event.DetailTypeAPICall)
	tests := []struct {
		leaf            string
		old, new_, anyx bool // want: matches old spelling, new spelling, API call
	}{
		{`["AWS Console Sign In via CloudTrail"]`, true, true, false},
		{`["AWS Console Signin via CloudTrail"]`, true, true, false},
		{`[{"equals-ignore-case":"aws console signin via cloudtrail"}]`, true, true, false},
		{`[{"prefix":"AWS Console Sign In"}]`, true, true, false},
		{`[{"prefix":"AWS Console Signin"}]`, true, true, false},
		{`[{"prefix":"AWS Console Sign"}]`, true, true, false},
		{`[{"prefix":{"equals-ignore-case":"aws console signin"}}]`, true, true, false},
		{`[{"suffix":"Sign In via CloudTrail"}]`, true, true, false},
		{`[{"wildcard":"AWS Console Signin *"}]`, true, true, false},
		{`[{"anything-but":"AWS Console Signin via CloudTrail"}]`, false, false, true},
		{`[{"anything-but":["AWS Console Sign In via CloudTrail","AWS API Call via CloudTrail"]}]`, false, false, false},
		{`[{"anything-but":{"prefix":"AWS Console Signin"}}]`, false, false, true},
		{`[{"anything-but":{"suffix":["Sign In via CloudTrail"]}}]`, false, false, true},
		{`[{"anything-but":{"equals-ignore-case":"AWS CONSOLE SIGN IN VIA CLOUDTRAIL"}}]`, false, false, true},
		{`[{"anything-but":{"wildcard":"AWS Console Sign In*"}}]`, false, false, true},
		{`[{"prefix":"AWS API"}]`, false, false, true},
	}
	for _, tc := range tests {
		for _, where := range []string{"top", "$or"} {
			src := `{"detail-type":` + tc.leaf + `}`
			if where == "$or" {
				src = `{"$or":[{"detail-type":` + tc.leaf + `},{"source":["aws.nothing"]}]}`
			}
			yml := "name: a\npattern: '" + strings.ReplaceAll(src, "'", "''") + "'\n"
			rs, err := Parse([]byte(yml), "x.yaml")
			if err != nil {
				t.Errorf("%s %s: %v", where, tc.leaf, err)
				continue
			}
			for _, c := range []struct {
				ev   *event.Event
				want bool
				name string
			}{{oldEv, tc.old, "old"}, {newEv, tc.new_, "new"}, {apiEv, tc.anyx, "api"}} {
				got, err := rs[0].Matches(c.ev)
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("%s %s on %s spelling: got %t, want %t (compiled %s)", where, tc.leaf, c.name, got, c.want, rs[0].Pattern)
				}
			}
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"a*c", "abc", true}, {"a*c", "ac", true}, {"a*c", "acb", false}, {"*", "", true},
		{"a\\*c", "a*c", true}, {"a\\*c", "abc", false}, {"*b*", "abc", true}, {"a*b*c", "abc", true},
		{"ab*b", "ab", false}, {"", "", true}, {"", "x", false},
	} {
		if got := wildcardMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %t, want %t", tc.p, tc.s, got, tc.want)
		}
	}
}
