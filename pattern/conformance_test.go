package pattern

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// conformanceCase is one line of the testdata/*.jsonl files.
type conformanceCase struct {
	Pattern  string `json:"pattern"`
	Event    string `json:"event"`
	Match    *bool  `json:"match"`
	Expected string `json:"expected"`
	AWSError string `json:"aws_error"`
	Error    string `json:"error"`
	Source   string `json:"source"`
	Note     string `json:"note"`
}

// wantError returns the expected rejection message, or "" for a valid pattern.
func (c *conformanceCase) wantError() (string, bool) {
	if c.Error != "" {
		return c.Error, true
	}
	if c.Expected == "exception" {
		return strings.TrimPrefix(c.AWSError, "Event pattern is not valid. Reason: "), true
	}
	return "", false
}

func loadCases(t testing.TB, name string) []conformanceCase {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []conformanceCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c conformanceCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func runConformance(t *testing.T, name string, wantCount int) {
	cases := loadCases(t, name)
	if len(cases) != wantCount {
		t.Fatalf("%s: %d cases, want %d", name, len(cases), wantCount)
	}
	b := NewBuilder()
	parsed := make([]*Pattern, len(cases))
	pass := 0
	for i, c := range cases {
		p, err := Parse([]byte(c.Pattern))
		if msg, isErr := c.wantError(); isErr {
			if err == nil {
				t.Errorf("%s #%d (%s): pattern %s accepted, want error %q", name, i, c.Source, c.Pattern, msg)
				continue
			}
			pe, ok := err.(*Error)
			if !ok {
				t.Errorf("%s #%d: error %T is not *Error", name, i, err)
				continue
			}
			if msg != "" && pe.Msg != msg {
				t.Errorf("%s #%d (%s): pattern %s: error %q, want %q", name, i, c.Source, c.Pattern, pe.Msg, msg)
				continue
			}
			pass++
			continue
		}
		if err != nil {
			t.Errorf("%s #%d (%s): pattern %s: %v", name, i, c.Source, c.Pattern, err)
			continue
		}
		parsed[i] = p
		b.Add(i, p)
		got, err := Matches(p, []byte(c.Event))
		if err != nil {
			t.Errorf("%s #%d: event %s: %v", name, i, c.Event, err)
			continue
		}
		if c.Match == nil {
			t.Errorf("%s #%d: no expectation", name, i)
			continue
		}
		if got != *c.Match {
			t.Errorf("%s #%d (%s %s): pattern %s event %s: got %v, want %v", name, i, c.Source, c.Note, c.Pattern, c.Event, got, *c.Match)
			continue
		}
		pass++
	}
	// The same cases through one Matcher holding every valid pattern, with
	// only anchors indexed (the default) and with every condition indexed.
	m := b.Build()
	b.allEager = true
	eager := b.Build()
	for i, c := range cases {
		if parsed[i] != nil && c.Match != nil {
			ids, _ := eager.Match([]byte(c.Event), nil)
			got := false
			for _, id := range ids {
				got = got || id == i
			}
			if got != *c.Match {
				t.Errorf("%s #%d: all-eager matcher: got %v, want %v (pattern %s)", name, i, got, *c.Match, c.Pattern)
			}
		}
		if parsed[i] == nil || c.Match == nil {
			continue
		}
		ids, err := m.Match([]byte(c.Event), nil)
		if err != nil {
			t.Errorf("%s #%d: combined: %v", name, i, err)
			continue
		}
		got := false
		for _, id := range ids {
			if id == i {
				got = true
			}
		}
		if got != *c.Match {
			t.Errorf("%s #%d: combined matcher: got %v, want %v (pattern %s)", name, i, got, *c.Match, c.Pattern)
		}
		// every id reported must agree with the one-pattern check
		for _, id := range ids {
			ok, _ := Matches(parsed[id], []byte(c.Event))
			if !ok {
				t.Errorf("%s: combined matcher reports pattern #%d for event of #%d, Matches says no", name, id, i)
			}
		}
	}
	t.Logf("%s: %d/%d", name, pass, len(cases))
}

func TestConformanceAWS(t *testing.T) {
	runConformance(t, "eventbridge_aws_validated_cases.jsonl", 156)
}
func TestConformanceEventRuler(t *testing.T) {
	runConformance(t, "eventruler_cases.jsonl", 469)
}
func TestConformanceEdgeProbes(t *testing.T) {
	runConformance(t, "eventruler_edge_probes.jsonl", 108)
}
func TestConformanceInvalid(t *testing.T) {
	runConformance(t, "eventruler_invalid_patterns.jsonl", 50)
}
