package filterpattern

import (
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"strconv"
	"strings"
	"testing"
)

// renderExplanation writes an explanation one item a line, for tests.
func renderExplanation(e *Explanation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %v\n", e.Kind, e.Matched)
	if e.Note != "" {
		fmt.Fprintf(&b, "note: %s\n", e.Note)
	}
	for _, c := range e.JSON {
		b.WriteString(strings.Repeat("  ", c.Depth))
		if c.Op != "" {
			fmt.Fprintf(&b, "%s %v\n", c.Op, c.Matched)
			continue
		}
		fmt.Fprintf(&b, "%s|%s|%s [%s] %v\n", c.Selector, c.Operator, c.Operand, strings.Join(c.Values, " "), c.Matched)
	}
	for _, f := range e.Fields {
		if !f.Placed {
			fmt.Fprintf(&b, "%q unplaced\n", f.Slot)
			continue
		}
		fmt.Fprintf(&b, "%q $%d %q %v\n", f.Slot, f.Position, f.Value, f.Matched)
	}
	for _, c := range e.Terms {
		fmt.Fprintf(&b, "%s present=%v %v", c.Term, c.Present, c.Matched)
		if c.Ignored {
			b.WriteString(" ignored")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestExplain(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pattern, message, want string
	}{
		{
			`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") }`,
			`{"eventName":"ConsoleLogin","userIdentity":{"type":"IAMUser"},"additionalEventData":{"MFAUsed":"Yes"}}`,
			`JSON false
&& false
  $.eventName|=|"ConsoleLogin" ["ConsoleLogin"] true
  $.additionalEventData.MFAUsed|!=|"Yes" ["Yes"] false
  $.userIdentity.type|=|"IAMUser" ["IAMUser"] true
`,
		},
		{
			// && binds tighter than ||; absent, null, object, wildcard values.
			`{ $.a = 1 && $.b != x || $.c IS NULL || $.o NOT EXISTS || $.l[*] > 2.5 || $.e = %^ab% }`,
			`{"a":1,"c":{"d":null},"o":null,"l":[1,2],"e":"x\"ab"}`,
			`JSON false
|| false
  && false
    $.a|=|1 [1] true
    $.b|!=|x [] false
  $.c|IS|NULL [{"d":null}] false
  $.o|NOT EXISTS| [null] false
  $.l[*]|>|2.5 [1 2] false
  $.e|=|%^ab% ["x\"ab"] false
`,
		},
		{
			`{ $.a = 1 }`,
			`a=1`,
			`JSON false
note: ` + NoteNotJSONObject + `
$.a|=|1 [] false
`,
		},
		{
			`[ip, user, ..., status_code = 4*, bytes > 2000]`,
			apacheLine,
			`space-delimited false
"ip" $1 "127.0.0.1" true
"user" $2 "Prod" true
"..." $3 "frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\"" true
"status_code = 4*" $6 "404" true
"bytes > 2000" $7 "1534" false
`,
		},
		{
			`[w1=ERROR || w1=WARNING, w2]`,
			"ERROR 09/25/2014 12:00:02 Failed to process request",
			`space-delimited true
"w1=ERROR || w1=WARNING" $1 "ERROR" true
"w2" $2 "09/25/2014 12:00:02 Failed to process request" true
`,
		},
		{
			`[a, b, , ..., c = x]`,
			`1 "2 3"`,
			`space-delimited false
note: The message has too few fields: 2, the pattern needs at least 4.
"a" $1 "1" true
"b" $2 "2 3" true
"" unplaced
"..." unplaced
"c = x" unplaced
`,
		},
		{
			`[..., a = 1, ..., b = 2, ...]`,
			`2 1 0`,
			`space-delimited false
note: ` + NoteEllipses + `
"..." unplaced
"a = 1" unplaced
"..." unplaced
"b = 2" unplaced
"..." unplaced
`,
		},
		{
			`[..., a = 1, ..., b = 2, ...]`,
			`0 1 0 2`,
			`space-delimited true
"..." $1 "0" true
"a = 1" $2 "1" true
"..." $3 "0" true
"b = 2" $4 "2" true
"..." $0 "" true
`,
		},
		{
			`ERROR - "Exiting" ?x %AUTH%`,
			`[ERROR 401] UNAUTHORIZED`,
			`term true
note: ` + NoteIgnoredTerms + `
ERROR present=true true
- "Exiting" present=false true
?x present=false false ignored
%AUTH% present=true true
`,
		},
		{
			`?ERROR ?WARN`,
			`WARN message`,
			`term true
note: ` + NoteAnyOptional + `
?ERROR present=false false
?WARN present=true true
`,
		},
		{
			`" "`,
			`anything`,
			`term true
note: ` + NoteMatchesAll + `
`,
		},
	} {
		t.Run(c.pattern, func(t *testing.T) {
			t.Parallel()
			p := MustParse(c.pattern)
			e := p.Explain([]byte(c.message))
			if got := renderExplanation(e); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
			checkExplanation(t, p, e, []byte(c.message))
		})
	}
}

// checkExplanation checks an explanation against Match and against
// itself: the items add up to the verdict, and each item, written as a
// pattern of its own, gets the verdict the item states.
func checkExplanation(t *testing.T, p *Pattern, e *Explanation, msg []byte) {
	t.Helper()
	_, want := p.Match(msg)
	if e.Matched != want || e.Kind != p.Kind() {
		t.Fatalf("%s vs %q: Explanation %v %v, Match %v %v", p, msg, e.Kind, e.Matched, p.Kind(), want)
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s vs %q: %s\n%s", p, msg, fmt.Sprintf(format, args...), renderExplanation(e))
	}
	switch p.Kind() {
	case JSON:
		if len(e.JSON) == 0 || len(e.Fields)+len(e.Terms) > 0 {
			fail("wrong items")
			return
		}
		if e.Note == NoteNotJSONObject {
			for _, c := range e.JSON {
				if c.Matched || len(c.Values) > 0 {
					fail("an item holds on a message that is not JSON")
				}
			}
			return
		}
		if e.Note != "" {
			fail("unexpected note")
		}
		if got, end := checkJSON(t, fail, e.JSON, 0, msg); got != e.Matched || end != len(e.JSON) {
			fail("items say %v (%d of %d read)", got, end, len(e.JSON))
		}
	case SpaceDelimited:
		checkFields(fail, p, e, msg)
	default:
		checkTerms(fail, p, e, msg)
	}
}

// checkJSON checks the item at i and its operands; it returns the item's
// verdict and the index after it.
func checkJSON(t *testing.T, fail func(string, ...any), items []JSONCheck, i int, msg []byte) (bool, int) {
	c := items[i]
	if c.Op == "" {
		text := "{ " + c.Selector + " " + c.Operator + " " + c.Operand + " }"
		alone, err := Parse(text)
		if err != nil {
			fail("comparison %s: %v", text, err)
			return c.Matched, i + 1
		}
		if alone.Matches(msg) != c.Matched {
			fail("comparison %s alone gives %v", text, !c.Matched)
		}
		return c.Matched, i + 1
	}
	j := i + 1
	got := c.Op == "&&"
	n := 0
	for j < len(items) && items[j].Depth > c.Depth {
		if items[j].Depth != c.Depth+1 {
			fail("item %d at depth %d under depth %d", j, items[j].Depth, c.Depth)
		}
		var v bool
		v, j = checkJSON(t, fail, items, j, msg)
		if c.Op == "&&" {
			got = got && v
		} else {
			got = got || v
		}
		n++
	}
	if n < 2 {
		fail("group %s with %d operands", c.Op, n)
	}
	if got != c.Matched {
		fail("group %s at %d: operands say %v", c.Op, i, got)
	}
	return c.Matched, j
}

func checkFields(fail func(string, ...any), p *Pattern, e *Explanation, msg []byte) {
	dp := p.delim
	if len(e.Fields) != len(dp.slots) || len(e.JSON)+len(e.Terms) > 0 {
		fail("%d fields for %d slots", len(e.Fields), len(dp.slots))
		return
	}
	toks := tokenize(msg)
	fixed := len(dp.slots) - dp.ellipses
	all := true
	pos := 0
	for i, f := range e.Fields {
		sl := dp.slots[i]
		if sl.ellipsis != (f.Slot == "...") || (sl.name != "" && !strings.Contains(f.Slot, sl.name)) {
			fail("slot %d written %q", i, f.Slot)
		}
		all = all && f.Placed && f.Matched
		if !f.Placed {
			if f.Matched || f.Position != 0 || f.Value != "" {
				fail("unplaced slot %d with a verdict or value", i)
			}
			continue
		}
		if f.Position == 0 {
			if !sl.ellipsis {
				fail("slot %d placed nowhere", i)
			}
			continue
		}
		if f.Position <= pos || f.Position > len(toks) {
			fail("slot %d at position %d after %d", i, f.Position, pos)
		}
		pos = f.Position
		if !sl.ellipsis && f.Value != toks[f.Position-1].v && !strings.HasPrefix(string(msg[toks[f.Position-1].start:]), f.Value) {
			fail("slot %d: value %q is not the line's from field %d", i, f.Value, f.Position)
		}
		if sl.expr != nil && sl.expr.eval(f.Value) != f.Matched {
			fail("slot %d: verdict %v on %q", i, f.Matched, f.Value)
		}
	}
	if e.Matched && !all {
		fail("matches, but a slot is unplaced or fails")
	}
	if dp.ellipses <= 1 && all != e.Matched {
		fail("slots say %v", all)
	}
	switch {
	case len(toks) < fixed:
		if e.Note != fmt.Sprintf(NoteTooFewFields, len(toks), fixed) || e.Matched {
			fail("too few fields, note %q", e.Note)
		}
	case e.Note == NoteEllipses:
		if e.Matched || dp.ellipses < 2 {
			fail("ellipses note")
		}
	case e.Note != "":
		fail("unexpected note")
	}
}

func checkTerms(fail func(string, ...any), p *Pattern, e *Explanation, msg []byte) {
	tp := p.term
	if len(e.Terms) != len(tp.include)+len(tp.exclude)+len(tp.optional) || len(e.JSON)+len(e.Fields) > 0 {
		fail("%d terms", len(e.Terms))
		return
	}
	all, anyOptional, optional, other := true, false, 0, 0
	for _, c := range e.Terms {
		// A leading "" (dropped by the parser) keeps a term that starts
		// with [ or { a term pattern.
		alone, err := Parse(`"" ` + c.Term)
		if err != nil {
			fail("term %q: %v", c.Term, err)
			continue
		}
		// Alone, a term is never ignored: the pattern is that term's part.
		if alone.Matches(msg) != c.Matched {
			fail("term %q alone gives %v", c.Term, !c.Matched)
		}
		if c.Matched != (c.Present != strings.HasPrefix(c.Term, "-")) {
			fail("term %q: present %v, matched %v", c.Term, c.Present, c.Matched)
		}
		if strings.HasPrefix(c.Term, "?") {
			optional++
			anyOptional = anyOptional || c.Present
			continue
		}
		other++
		all = all && c.Matched
	}
	var got bool
	switch {
	case other > 0:
		got = all
	case optional > 0:
		got = anyOptional
	default:
		got = true
	}
	if got != e.Matched {
		fail("terms say %v", got)
	}
	for _, c := range e.Terms {
		if c.Ignored != (other > 0 && strings.HasPrefix(c.Term, "?")) {
			fail("term %q ignored %v", c.Term, c.Ignored)
		}
	}
}

// testLiterals returns every string literal of the package's other test
// files: the patterns and messages its tests use.
func testLiterals(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	fset := gotoken.NewFileSet()
	for _, name := range []string{"spec_test.go", "cis_test.go", "fuzz_test.go", "example_test.go"} {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == gotoken.STRING {
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
				}
				if !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
			}
			return true
		})
	}
	return out
}

// TestExplainExamples explains every pattern the package's tests use
// (every string literal that parses, the CIS filters and their variants)
// against every message they use (every string literal, the CIS test
// records).
func TestExplainExamples(t *testing.T) {
	t.Parallel()
	lits := testLiterals(t)
	msgs := append([]string(nil), lits...)
	var pats []*Pattern
	kinds := map[Kind]int{}
	for _, s := range lits {
		if p, err := Parse(s); err == nil {
			pats = append(pats, p)
		}
	}
	for _, c := range loadCIS(t) {
		pats = append(pats, MustParse(c.Pattern))
		for _, a := range c.Alternates {
			pats = append(pats, MustParse(a.Pattern))
		}
		yes, no := cisRecords(c)
		msgs = append(append(msgs, yes...), no...)
	}
	for _, r := range cisSpecial {
		msgs = append(append(msgs, r.yes...), r.no...)
	}
	matched := 0
	for _, p := range pats {
		kinds[p.Kind()]++
		for _, m := range msgs {
			e := p.Explain([]byte(m))
			checkExplanation(t, p, e, []byte(m))
			if e.Matched {
				matched++
			}
		}
	}
	if kinds[JSON] < 100 || kinds[SpaceDelimited] < 20 || kinds[Term] < 100 || matched == 0 {
		t.Errorf("too few examples: %v patterns, %d matches", kinds, matched)
	}
	t.Logf("%d patterns (%v) × %d messages, %d matches", len(pats), kinds, len(msgs), matched)
}

// TestExplainRealRecords explains the 15 CIS filters over the real
// CloudTrail records.
func TestExplainRealRecords(t *testing.T) {
	t.Parallel()
	records := loadRealRecords(t)
	matched := 0
	for _, c := range loadCIS(t) {
		p := MustParse(c.Pattern)
		for _, r := range records {
			e := p.Explain(r)
			checkExplanation(t, p, e, r)
			if e.Matched {
				matched++
			}
		}
	}
	if matched == 0 {
		t.Error("no record matched")
	}
	t.Logf("%d records, %d matches", len(records), matched)
}

// FuzzExplain checks that Explain never panics and that its explanation
// agrees with Match and with itself.
func FuzzExplain(f *testing.F) {
	msgs := []string{eventA, eventB, apacheLine, "[ERROR 401] UNAUTHORIZED REQUEST", "", `{}`, `a b "c d" [e f] g`}
	for i, s := range patternSeeds(f) {
		f.Add(s, msgs[i%len(msgs)])
	}
	f.Fuzz(func(t *testing.T, src, msg string) {
		p, err := Parse(src)
		if err != nil {
			return
		}
		checkExplanation(t, p, p.Explain([]byte(msg)), []byte(msg))
	})
}

func ExamplePattern_Explain() {
	p := MustParse(`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") || $.userIdentity.type = Root }`)
	e := p.Explain([]byte(`{"eventName":"ConsoleLogin","userIdentity":{"type":"IAMUser"},"additionalEventData":{"MFAUsed":"Yes"}}`))
	fmt.Println("matched:", e.Matched)
	for _, c := range e.JSON {
		indent := strings.Repeat("  ", c.Depth)
		if c.Op != "" {
			fmt.Printf("%s%s (%v)\n", indent, c.Op, c.Matched)
			continue
		}
		fmt.Printf("%s%s %s %s: message has %v, %v\n", indent, c.Selector, c.Operator, c.Operand, c.Values, c.Matched)
	}
	// Output:
	// matched: false
	// || (false)
	//   && (false)
	//     $.eventName = "ConsoleLogin": message has ["ConsoleLogin"], true
	//     $.additionalEventData.MFAUsed != "Yes": message has ["Yes"], false
	//   $.userIdentity.type = Root: message has ["IAMUser"], false
}

func ExamplePattern_Explain_spaceDelimited() {
	p := MustParse(`[ip, user, ..., status_code = 4*, bytes > 2000]`)
	e := p.Explain([]byte(`127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`))
	fmt.Println("matched:", e.Matched)
	for _, f := range e.Fields {
		fmt.Printf("%-16s $%d %-48q %v\n", f.Slot, f.Position, f.Value, f.Matched)
	}
	// Output:
	// matched: false
	// ip               $1 "127.0.0.1"                                      true
	// user             $2 "Prod"                                           true
	// ...              $3 "frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\"" true
	// status_code = 4* $6 "404"                                            true
	// bytes > 2000     $7 "1534"                                           false
}
