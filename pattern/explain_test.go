package pattern

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// renderExplanation writes one line per row: conditions as
// "path leaf values ok|no", groups as "$or@path ok|no", branches as
// "#n ok|no", indented two spaces per depth; notes and replaced
// conditions are marked.
func renderExplanation(e *Explanation) string {
	var b strings.Builder
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "no"
	}
	fmt.Fprintf(&b, "%s\n", verdict(e.Matched))
	if e.Note != "" {
		fmt.Fprintf(&b, "note: %s\n", noteName(e.Note))
	}
	for _, r := range e.Rows() {
		b.WriteString(strings.Repeat("  ", r.Depth))
		switch {
		case r.Condition != nil:
			c := r.Condition
			fmt.Fprintf(&b, "%s %s [%s] %s", c.Path, c.Leaf, strings.Join(c.Values, " "), verdict(c.Matched))
			if c.Replaced {
				b.WriteString(" replaced")
			}
		case r.Group != nil:
			fmt.Fprintf(&b, "$or@%s %s", r.Group.Path, verdict(r.Group.Matched))
		default:
			fmt.Fprintf(&b, "#%d %s", r.Index, verdict(r.Branch.Matched))
			if r.Branch.Note != "" {
				fmt.Fprintf(&b, " note: %s", noteName(r.Branch.Note))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func noteName(n string) string {
	switch n {
	case NoteArrayConsistency:
		return "array consistency"
	case NoteAbsentInArray:
		return "absent in array"
	case NoteReplacedInOr:
		return "replaced in $or"
	}
	return "unknown note " + n
}

func TestExplain(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, pattern, event, want string
	}{
		{
			name:    "root sign-in matches",
			pattern: `{"detail-type":["AWS Console Sign In via CloudTrail"],"detail":{"userIdentity":{"type":["Root"]}}}`,
			event:   `{"detail-type":"AWS Console Sign In via CloudTrail","detail":{"userIdentity":{"type":"Root"}}}`,
			want: `ok
detail-type ["AWS Console Sign In via CloudTrail"] ["AWS Console Sign In via CloudTrail"] ok
detail.userIdentity.type ["Root"] ["Root"] ok
`,
		},
		{
			name:    "one value wrong, one field absent",
			pattern: `{"source":["aws.iam"],"detail":{"eventName":[{"prefix":"Create"},"AttachUserPolicy"],"errorCode":[{"exists":true}]}}`,
			event:   `{"source":"aws.iam","detail":{"eventName":"DeleteUser"}}`,
			want: `no
source ["aws.iam"] ["aws.iam"] ok
detail.eventName [{"prefix":"Create"},"AttachUserPolicy"] ["DeleteUser"] no
detail.errorCode [{"exists":true}] [] no
`,
		},
		{
			name:    "$or inside an object, one branch matches",
			pattern: `{"source":["aws.s3"],"detail":{"$or":[{"eventName":["PutBucketPolicy"]},{"errorCode":[{"exists":true}],"userIdentity.type":["Root"]}]}}`,
			event:   `{"source":"aws.s3","detail":{"eventName":"GetObject","errorCode":"AccessDenied","userIdentity":{"type":"Root"}}}`,
			want: `ok
source ["aws.s3"] ["aws.s3"] ok
$or@detail ok
  #1 no
    detail.eventName ["PutBucketPolicy"] ["GetObject"] no
  #2 ok
    detail.errorCode [{"exists":true}] ["AccessDenied"] ok
    detail.userIdentity.type ["Root"] ["Root"] ok
`,
		},
		{
			name:    "nested $or, no branch matches",
			pattern: `{"$or":[{"a":[1]},{"$or":[{"b":[{"numeric":[">",5]}]},{"c":["x"]}]}]}`,
			event:   `{"a":2,"b":5,"c":"y"}`,
			want: `no
$or@ no
  #1 no
    a [1] [2] no
  #2 no
    $or@ no
      #1 no
        b [{"numeric":[">",5]}] [5] no
      #2 no
        c ["x"] ["y"] no
`,
		},
		{
			name:    "array consistency",
			pattern: `{"e":{"f":["Anna"],"l":["Jones"]}}`,
			event:   `{"e":[{"f":"Anna","l":"Smith"},{"f":"Peter","l":"Jones"}]}`,
			want: `no
note: array consistency
e.f ["Anna"] ["Anna" "Peter"] ok
e.l ["Jones"] ["Smith" "Jones"] ok
`,
		},
		{
			name:    "array consistency inside a branch",
			pattern: `{"$or":[{"e":{"f":["Anna"],"l":["Jones"]}},{"z":["1"]}]}`,
			event:   `{"e":[{"f":"Anna","l":"Smith"},{"f":"Peter","l":"Jones"}]}`,
			want: `no
$or@ no
  #1 no note: array consistency
    e.f ["Anna"] ["Anna" "Peter"] ok
    e.l ["Jones"] ["Smith" "Jones"] ok
  #2 no
    z ["1"] [] no
`,
		},
		{
			name:    "exists:false judged in the matched element",
			pattern: `{"e":{"f":["Anna"],"x":[{"exists":false}]}}`,
			event:   `{"e":[{"f":"Anna"},{"x":1}]}`,
			want: `ok
note: absent in array
e.f ["Anna"] ["Anna"] ok
e.x [{"exists":false}] [1] no
`,
		},
		{
			name:    "duplicate keys: the last one wins",
			pattern: `{"a":["x"],"b":{"c":["1"]},"a":["y"],"b.c":["2"]}`,
			event:   `{"a":"y","b":{"c":"2"}}`,
			want: `ok
a ["x"] ["y"] no replaced
b.c ["1"] ["2"] no replaced
a ["y"] ["y"] ok
b.c ["2"] ["2"] ok
`,
		},
		{
			name:    "a field inside and outside $or",
			pattern: `{"$or":[{"a":["y"]},{"b":["z"]}],"a":["x"]}`,
			event:   `{"a":"x"}`,
			want: `ok
note: replaced in $or
a ["x"] ["x"] ok
$or@ no
  #1 no
    a ["y"] ["x"] no
  #2 no
    b ["z"] [] no
`,
		},
		{
			name:    "values as the matcher sees them",
			pattern: `{"a":{"b":[{"anything-but":["x"]}]},"n":[300],"s":["q\"\u0001é"],"o":[{"exists":false}],"z":[null]}`,
			event:   `{"a":[{"b":["x",[2.50]]},{"b":true}],"a.b":null,"n":3.0e2,"s":"q\"\u0001\u00e9","o":{"p":1},"z":[]}`,
			want: `no
a.b [{"anything-but":["x"]}] ["x" 2.50 true null] ok
n [300] [3.0e2] ok
s ["q\"\u0001é"] ["q\"\u0001é"] ok
o [{"exists":false}] [] ok
z [null] [] no
`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := MustParse(c.pattern)
			e, err := Explain(p, []byte(c.event))
			if err != nil {
				t.Fatal(err)
			}
			if got := renderExplanation(e); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
			checkExplanation(t, p, e, c.event)
		})
	}
}

func TestExplainInvalidEvent(t *testing.T) {
	t.Parallel()
	p := MustParse(`{"a":["x"]}`)
	for _, ev := range []string{``, `[]`, `"a"`, `{"a":"x"`, `{"a":"x"} x`, `{"a":tru}`} {
		_, want := Matches(p, []byte(ev))
		e, err := Explain(p, []byte(ev))
		if err == nil || want == nil || err.Error() != want.Error() || !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("event %q: Explain = %v, %v; Matches error %v", ev, e, err, want)
		}
	}
}

// checkExplanation checks an explanation against the real matcher and
// against itself: Matched is Matches' verdict; a note is given exactly
// when a branch's verdict is not what its lines show, and names a reason
// the lines hold; the conditions name exactly the pattern's fields.
func checkExplanation(t *testing.T, p *Pattern, e *Explanation, event string) {
	t.Helper()
	want, err := Matches(p, []byte(event))
	if err != nil {
		t.Fatalf("Matches: %v", err)
	}
	if e.Matched != want {
		t.Errorf("pattern %s event %s: Matched %v, Matches %v", p, event, e.Matched, want)
	}
	checkBranch(t, &e.Branch, p, event)
	paths := map[string]bool{}
	pathsUnder(&e.Branch, paths)
	var got []string
	for k := range paths {
		got = append(got, k)
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(p.Fields()) {
		t.Errorf("pattern %s: conditions on %v, Fields %v", p, got, p.Fields())
	}
	rows, n := e.Rows(), countRows(&e.Branch)
	if len(rows) != n {
		t.Errorf("pattern %s: %d rows, want %d", p, len(rows), n)
	}
}

func countRows(b *Branch) int {
	n := len(b.Conditions) + len(b.Groups)
	for _, g := range b.Groups {
		n += len(g.Branches)
		for i := range g.Branches {
			n += countRows(&g.Branches[i])
		}
	}
	return n
}

func checkBranch(t *testing.T, b *Branch, p *Pattern, event string) {
	t.Helper()
	shown := true
	for _, c := range b.Conditions {
		if !c.Replaced && !c.Matched {
			shown = false
		}
	}
	for _, g := range b.Groups {
		any := false
		for i := range g.Branches {
			checkBranch(t, &g.Branches[i], p, event)
			any = any || g.Branches[i].Matched
		}
		if g.Matched != any {
			t.Errorf("pattern %s event %s: group at %q Matched %v, branches say %v", p, event, g.Path, g.Matched, any)
		}
		shown = shown && g.Matched
	}
	switch {
	case shown == b.Matched && b.Note != "":
		t.Errorf("pattern %s event %s: note %q on a branch whose lines agree with it", p, event, b.Note)
	case shown != b.Matched && b.Note == "":
		t.Errorf("pattern %s event %s: no note, lines say %v, verdict %v", p, event, shown, b.Matched)
	case b.Note == NoteArrayConsistency && !shown:
		t.Errorf("pattern %s event %s: array-consistency note, but a line fails", p, event)
	case b.Note == NoteAbsentInArray && !strings.Contains(leavesUnder(b), `{"exists":false}`):
		t.Errorf("pattern %s event %s: absent-in-array note without exists:false", p, event)
	case b.Note == NoteReplacedInOr && !replacedAcrossOr(b):
		t.Errorf("pattern %s event %s: replaced-in-$or note without such a field", p, event)
	}
}

func leavesUnder(b *Branch) string {
	var s strings.Builder
	for _, c := range b.Conditions {
		s.WriteString(c.Leaf)
	}
	for _, g := range b.Groups {
		for i := range g.Branches {
			s.WriteString(leavesUnder(&g.Branches[i]))
		}
	}
	return s.String()
}

// TestExplainConformance explains every valid case of the conformance
// data: the verdict is Matches' and the explanation is consistent.
func TestExplainConformance(t *testing.T) {
	t.Parallel()
	notes := map[string]int{}
	n := 0
	for _, name := range []string{
		"eventbridge_aws_validated_cases.jsonl", "eventruler_cases.jsonl",
		"eventruler_edge_probes.jsonl", "eventruler_invalid_patterns.jsonl",
	} {
		for i, c := range loadCases(t, name) {
			p, err := Parse([]byte(c.Pattern))
			if err != nil {
				continue
			}
			e, err := Explain(p, []byte(c.Event))
			_, merr := Matches(p, []byte(c.Event))
			if (err == nil) != (merr == nil) {
				t.Errorf("%s #%d: Explain error %v, Matches error %v", name, i, err, merr)
				continue
			}
			if err != nil {
				continue
			}
			if c.Match != nil && e.Matched != *c.Match {
				t.Errorf("%s #%d: Matched %v, want %v", name, i, e.Matched, *c.Match)
			}
			checkExplanation(t, p, e, c.Event)
			n++
			walkNotes(&e.Branch, notes)
		}
	}
	if n != 684 { // every case with a valid pattern
		t.Errorf("%d cases explained, want 684", n)
	}
	for _, note := range []string{NoteArrayConsistency, NoteAbsentInArray} {
		if notes[note] == 0 {
			t.Errorf("no case gave the note %q", noteName(note))
		}
	}
	t.Logf("%d cases explained; notes: %d array consistency, %d absent in array, %d replaced in $or",
		n, notes[NoteArrayConsistency], notes[NoteAbsentInArray], notes[NoteReplacedInOr])
}

func walkNotes(b *Branch, notes map[string]int) {
	if b.Note != "" {
		notes[b.Note]++
	}
	for _, g := range b.Groups {
		for i := range g.Branches {
			walkNotes(&g.Branches[i], notes)
		}
	}
}

// FuzzExplain checks that Explain never panics, fails exactly when
// Matches does, and gives a consistent explanation with Matches' verdict.
func FuzzExplain(f *testing.F) {
	addSeeds(f, func(c conformanceCase) []any { return []any{c.Pattern, c.Event} })
	f.Fuzz(func(t *testing.T, pat, event string) {
		p, err := Parse([]byte(pat))
		if err != nil {
			return
		}
		e, err := Explain(p, []byte(event))
		_, merr := Matches(p, []byte(event))
		if (err == nil) != (merr == nil) || (err != nil && err.Error() != merr.Error()) {
			t.Fatalf("Explain error %v, Matches error %v", err, merr)
		}
		if err == nil {
			checkExplanation(t, p, e, event)
		}
	})
}

func ExampleExplain() {
	p := MustParse(`{
		"detail-type": ["AWS Console Sign In via CloudTrail"],
		"detail": {
			"userIdentity": {"type": ["Root"]},
			"$or": [
				{"additionalEventData": {"MFAUsed": [{"anything-but": "Yes"}]}},
				{"responseElements": {"ConsoleLogin": ["Failure"]}}
			]
		}
	}`)
	event := []byte(`{"detail-type":"AWS Console Sign In via CloudTrail","detail":{"userIdentity":{"type":"Root"},` +
		`"additionalEventData":{"MFAUsed":"Yes"},"responseElements":{"ConsoleLogin":"Success"}}}`)
	e, err := Explain(p, event)
	if err != nil {
		panic(err)
	}
	fmt.Println("matched:", e.Matched)
	for _, r := range e.Rows() {
		indent := strings.Repeat("  ", r.Depth)
		switch {
		case r.Condition != nil:
			c := r.Condition
			fmt.Printf("%s%s %s: event has %v, %v\n", indent, c.Path, c.Leaf, c.Values, c.Matched)
		case r.Group != nil:
			fmt.Printf("%sany of (%v):\n", indent, r.Group.Matched)
		default:
			fmt.Printf("%sbranch %d (%v):\n", indent, r.Index, r.Branch.Matched)
		}
	}
	// Output:
	// matched: false
	// detail-type ["AWS Console Sign In via CloudTrail"]: event has ["AWS Console Sign In via CloudTrail"], true
	// detail.userIdentity.type ["Root"]: event has ["Root"], true
	// any of (false):
	//   branch 1 (false):
	//     detail.additionalEventData.MFAUsed [{"anything-but":"Yes"}]: event has ["Yes"], false
	//   branch 2 (false):
	//     detail.responseElements.ConsoleLogin ["Failure"]: event has ["Success"], false
}
