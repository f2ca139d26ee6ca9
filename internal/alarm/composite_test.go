package alarm

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseRule(t *testing.T) {
	for _, tc := range []struct {
		rule string
		want string // String() of the parsed rule
	}{
		{`ALARM(CPU)`, `ALARM("CPU")`},
		{`ALARM("CPU")`, `ALARM("CPU")`},
		{`ALARM( CPU high )`, `ALARM("CPU high")`},
		{`OK("a b")`, `OK("a b")`},
		{`INSUFFICIENT_DATA(x)`, `INSUFFICIENT_DATA("x")`},
		{`TRUE`, `TRUE`},
		{` FALSE `, `FALSE`},
		{`ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:CPU)`, `ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:CPU")`},
		{`ALARM(a) AND ALARM(b)`, `ALARM("a") AND ALARM("b")`},
		{`ALARM(a) OR ALARM(b) AND ALARM(c)`, `ALARM("a") OR ALARM("b") AND ALARM("c")`},
		{`(ALARM(a) OR ALARM(b)) AND ALARM(c)`, `(ALARM("a") OR ALARM("b")) AND ALARM("c")`},
		{`NOT ALARM(a) AND OK(b)`, `NOT ALARM("a") AND OK("b")`},
		{`NOT (ALARM(a) AND OK(b))`, `NOT (ALARM("a") AND OK("b"))`},
		{`NOT NOT TRUE`, `NOT NOT TRUE`},
		{`ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)`, `ALARM("CPUUtilizationTooHigh") AND NOT ALARM("DeploymentInProgress")`},
		{"ALARM(a)\nOR\tALARM(b)", `ALARM("a") OR ALARM("b")`},
		{`ALARM("a)b")`, `ALARM("a)b")`},
		{`((TRUE))`, `TRUE`},
	} {
		r, err := ParseRule(tc.rule)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tc.rule, err)
			continue
		}
		if got := r.String(); got != tc.want {
			t.Errorf("ParseRule(%q).String() = %q, want %q", tc.rule, got, tc.want)
		}
	}
}

func TestParseRuleErrors(t *testing.T) {
	for _, tc := range []struct {
		rule string
		pos  int
		msg  string
	}{
		{``, 1, "empty rule"},
		{`   `, 1, "empty rule"},
		{`ALARM(a) AND`, 13, "got end of rule"},
		{`AND ALARM(a)`, 1, "AND needs an expression before it"},
		{`ALARM a`, 7, "expected '(' after ALARM"},
		{`ALARM(a`, 7, "without its closing ')'"},
		{`ALARM("a`, 7, "unterminated quoted alarm name"},
		{`ALARM("a" b)`, 11, "expected ')' after the alarm name"},
		{`ALARM()`, 7, "empty alarm name"},
		{`ALARM("")`, 7, "empty alarm name"},
		{`alarm(a)`, 1, `"alarm" must be written in upper case`},
		{`ALARM(a) and ALARM(b)`, 10, `unexpected "and"`},
		{`(ALARM(a)`, 10, "expected ')'"},
		{`ALARM(a))`, 9, `unexpected ")"`},
		{`ALARM(a(b))`, 8, `unexpected '(' in an alarm name`},
		{`MAYBE(a)`, 1, `got "MAYBE"`},
		{`ALARM(a) ALARM(b)`, 10, `unexpected "ALARM"`},
		{strings.Repeat("(", 300) + "TRUE" + strings.Repeat(")", 300), 202, "nested more than"},
		{"ALARM(" + strings.Repeat("x", MaxRuleLength) + ")", MaxRuleLength + 1, "longer than"},
	} {
		_, err := ParseRule(tc.rule)
		var re *RuleError
		if !errors.As(err, &re) {
			t.Errorf("ParseRule(%.40q) = %v, want a *RuleError", tc.rule, err)
			continue
		}
		if re.Pos != tc.pos || !strings.Contains(re.Msg, tc.msg) {
			t.Errorf("ParseRule(%.40q): at %d %q, want at %d %q", tc.rule, re.Pos, re.Msg, tc.pos, tc.msg)
		}
	}
}

func TestRuleEval(t *testing.T) {
	states := map[string]State{"a": Alarming, "b": OK, "c": InsufficientData, "d": Alarming}
	look := func(ref string) (State, bool) { s, ok := states[RefName(ref)]; return s, ok }
	for _, tc := range []struct {
		rule string
		want bool
	}{
		{`TRUE`, true},
		{`FALSE`, false},
		{`ALARM(a)`, true},
		{`OK(a)`, false},
		{`OK(b)`, true},
		{`INSUFFICIENT_DATA(c)`, true},
		{`ALARM(missing)`, false},
		{`NOT ALARM(missing)`, true},
		{`ALARM(a) AND ALARM(d)`, true},
		{`ALARM(a) AND ALARM(b)`, false},
		{`ALARM(b) OR ALARM(a)`, true},
		// AND binds tighter than OR: TRUE OR (FALSE AND FALSE).
		{`TRUE OR FALSE AND FALSE`, true},
		{`(TRUE OR FALSE) AND FALSE`, false},
		// NOT binds tighter than AND: (NOT FALSE) AND TRUE.
		{`NOT FALSE AND TRUE`, true},
		{`NOT (FALSE OR TRUE)`, false},
		{`ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:a)`, true},
		{`ALARM("a") AND NOT ALARM("b") AND (OK(b) OR INSUFFICIENT_DATA(b))`, true},
	} {
		r, err := ParseRule(tc.rule)
		if err != nil {
			t.Fatalf("ParseRule(%q): %v", tc.rule, err)
		}
		if got := r.Eval(look); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.rule, got, tc.want)
		}
	}
}

func TestRuleNames(t *testing.T) {
	r, err := ParseRule(`ALARM(a) OR OK("b") AND NOT ALARM(arn:aws:cloudwatch:us-east-1:1:alarm:a) OR ALARM(c)`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(r.Refs(), ","), "a,b,arn:aws:cloudwatch:us-east-1:1:alarm:a,c"; got != want {
		t.Errorf("Refs = %s, want %s", got, want)
	}
	if got, want := strings.Join(r.Names(), ","), "a,b,c"; got != want {
		t.Errorf("Names = %s, want %s", got, want)
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{`ALARM(a) AND NOT (OK("b c") OR TRUE)`, `INSUFFICIENT_DATA(x)`, `((`, `ALARM("`, `NOT`, `FALSE OR`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			var re *RuleError
			if !errors.As(err, &re) || re.Pos < 1 || re.Pos > len([]rune(s))+1 {
				t.Fatalf("ParseRule(%q): bad error %v", s, err)
			}
			return
		}
		again, err := ParseRule(r.String())
		if err != nil {
			t.Fatalf("ParseRule(%q).String() = %q does not parse: %v", s, r.String(), err)
		}
		if again.String() != r.String() {
			t.Fatalf("round trip of %q: %q then %q", s, r.String(), again.String())
		}
		states := []State{OK, Alarming, InsufficientData}
		for i := range 3 {
			look := func(ref string) (State, bool) { return states[(len(ref)+i)%3], true }
			if r.Eval(look) != again.Eval(look) {
				t.Fatalf("%q and %q evaluate differently", s, r.String())
			}
		}
	})
}

func TestCompositeValidate(t *testing.T) {
	for _, tc := range []struct {
		c    CompositeConfig
		want string
	}{
		{CompositeConfig{Name: "c", Rule: "ALARM(a)"}, ""},
		{CompositeConfig{Name: "", Rule: "ALARM(a)"}, "AlarmName must have length"},
		{CompositeConfig{Name: "c", Rule: "ALARM(a"}, "alarm rule: at position 7"},
		{CompositeConfig{Name: "c", Rule: "ALARM(c)"}, "references the composite alarm itself"},
		{CompositeConfig{Name: "c", Rule: "TRUE", AlarmActions: []string{"1", "2", "3", "4", "5", "6"}}, "less than or equal to 5"},
	} {
		err := tc.c.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.c, err, tc.want)
		}
	}
	var b strings.Builder
	for i := range MaxChildren + 1 {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("ALARM(a" + string(rune('0'+i%10)) + string(rune('a'+i/10)) + ")")
	}
	c := CompositeConfig{Name: "c", Rule: b.String()}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "at most 100") {
		t.Errorf("101 children: %v", err)
	}
}

var t0 = time.Date(2023, 8, 4, 12, 54, 40, 0, time.UTC)

// compositeSet returns a set with metric alarms a and b (Sum >= 1 over one
// 10-second period, missing data not breaching) and the given composites.
func compositeSet(t *testing.T, composites ...CompositeConfig) *Set {
	t.Helper()
	s := NewSet(NewSeries(0))
	for _, n := range []string{"a", "b"} {
		if err := s.Put(Config{Name: n, Namespace: "NS", Metric: n, Statistic: "Sum", Period: 10 * time.Second,
			EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: GreaterThanOrEqualToThreshold,
			TreatMissingData: TreatNotBreaching, ActionsEnabled: true}, t0); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range composites {
		if err := s.PutComposite(c, t0); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestCompositeSetEvaluation(t *testing.T) {
	both := CompositeConfig{Name: "both", Rule: "ALARM(a) AND ALARM(b)", ActionsEnabled: true, AlarmActions: []string{"page"}, OKActions: []string{"ok"}}
	either := CompositeConfig{Name: "either", Rule: `ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:a") OR ALARM(b)`, ActionsEnabled: true}
	outer := CompositeConfig{Name: "outer", Rule: "ALARM(both) AND NOT ALARM(quiet)", ActionsEnabled: true, AlarmActions: []string{"outer"}}
	quiet := CompositeConfig{Name: "quiet", Rule: "FALSE", ActionsEnabled: true}
	s := compositeSet(t, both, either, quiet, outer)
	type step struct {
		at   time.Duration // after t0
		data []string      // metrics with a datapoint of 1 in the period ending at the step
		want []string      // "alarm:from>to" in order
	}
	steps := []step{
		// Initial: metric alarms a, b go OK (notBreaching); composites are
		// evaluated once at creation, before.
		{10 * time.Second, nil, []string{"both:INSUFFICIENT_DATA>OK", "either:INSUFFICIENT_DATA>OK", "quiet:INSUFFICIENT_DATA>OK", "outer:INSUFFICIENT_DATA>OK", "a:INSUFFICIENT_DATA>OK", "b:INSUFFICIENT_DATA>OK"}},
		{20 * time.Second, []string{"a"}, []string{"a:OK>ALARM", "either:OK>ALARM"}},
		{30 * time.Second, []string{"a", "b"}, []string{"b:OK>ALARM", "both:OK>ALARM", "outer:OK>ALARM"}},
		{40 * time.Second, []string{"a", "b"}, nil},
		// a's datapoint at +35 s stays in its evaluation range (3 periods)
		// until +70 s.
		{50 * time.Second, []string{"b"}, nil},
		{60 * time.Second, []string{"b"}, nil},
		{70 * time.Second, []string{"b"}, []string{"a:ALARM>OK", "both:ALARM>OK", "outer:ALARM>OK"}},
		{80 * time.Second, nil, nil},
		{90 * time.Second, nil, nil},
		{100 * time.Second, nil, []string{"b:ALARM>OK", "either:ALARM>OK"}},
	}
	for _, st := range steps {
		now := t0.Add(st.at)
		for _, m := range st.data {
			if err := s.Series().AddAt(now, Datapoint{Namespace: "NS", Metric: m, Time: now.Add(-5 * time.Second), Value: 1}); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for _, tr := range s.Tick(now) {
			got = append(got, tr.Alarm+":"+string(tr.From)+">"+string(tr.To))
		}
		if strings.Join(got, " ") != strings.Join(st.want, " ") {
			t.Errorf("at +%v: %v, want %v", st.at, got, st.want)
		}
	}
}

func TestPutCompositeErrors(t *testing.T) {
	s := compositeSet(t, CompositeConfig{Name: "x", Rule: "ALARM(a)"}, CompositeConfig{Name: "y", Rule: "ALARM(x) OR ALARM(b)"})
	for _, tc := range []struct {
		c    CompositeConfig
		want string
	}{
		{CompositeConfig{Name: "z", Rule: "ALARM(nope)"}, `references alarm "nope", which does not exist`},
		{CompositeConfig{Name: "x", Rule: "ALARM(y)"}, "cycle: x -> y -> x"},
		{CompositeConfig{Name: "a", Rule: "ALARM(b)"}, "a metric alarm has that name"},
	} {
		if err := s.PutComposite(tc.c, t0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PutComposite(%+v) = %v, want %q", tc.c, err, tc.want)
		}
	}
	// The failed update left x as it was.
	if c, _ := s.CompositeConfig("x"); c.Rule != "ALARM(a)" {
		t.Errorf("x's rule became %q", c.Rule)
	}
	if err := s.Put(Config{Name: "y"}, t0); err == nil || !strings.Contains(err.Error(), "a composite alarm has that name") {
		t.Errorf("Put over a composite: %v", err)
	}
}

func TestCompositeMessages(t *testing.T) {
	s := compositeSet(t, CompositeConfig{Name: "both", Description: "a & b", Rule: "ALARM(a) AND ALARM(b)", ActionsEnabled: true,
		AlarmActions: []string{"arn:aws:sns:eu-west-1:111122223333:page"}})
	s.SetIdentity("eu-west-1", "111122223333")
	s.Tick(t0.Add(10 * time.Second))
	now := t0.Add(20 * time.Second)
	for _, m := range []string{"a", "b"} {
		if err := s.Series().AddAt(now, Datapoint{Namespace: "NS", Metric: m, Time: now.Add(-time.Second), Value: 2}); err != nil {
			t.Fatal(err)
		}
	}
	trs := s.Tick(now)
	if len(trs) != 3 || trs[2].Alarm != "both" {
		t.Fatalf("transitions %+v", trs)
	}
	tr := trs[2]
	wantReason := "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a transitioned to ALARM at Friday 04 August, 2023 12:55:00 UTC, " +
		"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:b transitioned to ALARM at Friday 04 August, 2023 12:55:00 UTC"
	if tr.Reason != wantReason {
		t.Errorf("reason %q\nwant   %q", tr.Reason, wantReason)
	}
	wantData := `{"triggeringAlarms":[{"arn":"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a","state":{"value":"ALARM","timestamp":"2023-08-04T12:55:00.000+0000"}},` +
		`{"arn":"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:b","state":{"value":"ALARM","timestamp":"2023-08-04T12:55:00.000+0000"}}]}`
	if string(tr.ReasonData) != wantData {
		t.Errorf("reason data %s\nwant        %s", tr.ReasonData, wantData)
	}
	if strings.Join(tr.Actions, ",") != "arn:aws:sns:eu-west-1:111122223333:page" {
		t.Errorf("actions %v", tr.Actions)
	}
	c, _ := s.CompositeConfig("both")
	msg := CompositeNotification(c, tr, "eu-west-1", "111122223333")
	wantMsg := `{"AlarmName":"both","AlarmDescription":"a & b","AWSAccountId":"111122223333","NewStateValue":"ALARM","NewStateReason":"` + wantReason +
		`","StateChangeTime":"2023-08-04T12:55:00.000+0000","Region":"EU (Ireland)","AlarmArn":"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:both",` +
		`"OldStateValue":"OK","OKActions":[],"AlarmActions":["arn:aws:sns:eu-west-1:111122223333:page"],"InsufficientDataActions":[],` +
		`"AlarmRule":"ALARM(a) AND ALARM(b)","TriggeringChildren":[{"Arn":"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a","State":{"Value":"ALARM","Timestamp":"2023-08-04T12:55:00.000+0000"}},` +
		`{"Arn":"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:b","State":{"Value":"ALARM","Timestamp":"2023-08-04T12:55:00.000+0000"}}]}`
	if string(msg) != wantMsg {
		t.Errorf("notification\n%s\nwant\n%s", msg, wantMsg)
	}
	var ev struct {
		DetailType string   `json:"detail-type"`
		Resources  []string `json:"resources"`
		Detail     struct {
			AlarmName string `json:"alarmName"`
			State     struct {
				Value, Reason, ReasonData string
			} `json:"state"`
			PreviousState struct{ Value string } `json:"previousState"`
			Configuration struct {
				AlarmRule string `json:"alarmRule"`
			} `json:"configuration"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(CompositeStateChangeEvent(c, tr, TransitionSuppression{}, "eu-west-1", "111122223333", "id-1"), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.DetailType != "CloudWatch Alarm State Change" || ev.Resources[0] != "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:both" ||
		ev.Detail.State.Value != "ALARM" || ev.Detail.PreviousState.Value != "OK" || ev.Detail.State.ReasonData != wantData ||
		ev.Detail.Configuration.AlarmRule != "ALARM(a) AND ALARM(b)" {
		t.Errorf("event %+v", ev)
	}
	if got := Subject(tr, "eu-west-1"); got != `ALARM: "both" in EU (Ireland)` {
		t.Errorf("subject %q", got)
	}
}

func TestCompositeRestoreAndActions(t *testing.T) {
	c := CompositeConfig{Name: "both", Rule: "ALARM(a) AND ALARM(b)", ActionsEnabled: true, AlarmActions: []string{"page"}, OKActions: []string{"ok"}}
	s := NewSet(NewSeries(0))
	for _, n := range []string{"a", "b"} {
		cfg := Config{Name: n, Namespace: "NS", Metric: n, Statistic: "Sum", Period: time.Minute, EvaluationPeriods: 1, Threshold: 1,
			ComparisonOperator: GreaterThanOrEqualToThreshold, TreatMissingData: TreatIgnore, ActionsEnabled: true}
		if err := s.Restore(cfg, Snapshot{State: Alarming, Updated: t0, ActionsEnabled: true}, t0); err != nil {
			t.Fatal(err)
		}
	}
	// Restored in ALARM with both children in ALARM: no transition.
	if err := s.RestoreComposite(c, Snapshot{State: Alarming, Updated: t0, ActionsEnabled: true}, t0); err != nil {
		t.Fatal(err)
	}
	if trs := s.Tick(t0.Add(time.Minute)); len(trs) != 0 {
		t.Errorf("after restore: %+v", trs)
	}
	// a goes OK (SetAlarmState; with ignore, no data keeps it there); the
	// composite's rule is updated, which evaluates it again, and its
	// actions disabled: the transition comes without actions.
	if _, _, err := s.SetState(t0.Add(70*time.Second), "a", OK, "test", nil); err != nil {
		t.Fatal(err)
	}
	c2 := c
	c2.Rule = "ALARM(a) AND OK(b)"
	if err := s.PutComposite(c2, t0.Add(80*time.Second)); err != nil {
		t.Fatal(err)
	}
	if unknown, _ := s.SetActionsEnabled(false, "both"); len(unknown) != 0 {
		t.Fatalf("unknown %v", unknown)
	}
	trs := s.Tick(t0.Add(80 * time.Second))
	if len(trs) != 0 {
		// a is OK, b ALARM: ALARM(a) AND OK(b) is false: ALARM -> OK,
		// a named as the alarm that changed last.
		tr := trs[0]
		if len(tr.Triggering) != 1 || !strings.HasSuffix(tr.Triggering[0].ARN, ":alarm:a") {
			t.Errorf("triggering %+v, want a", tr.Triggering)
		}
		if tr.Alarm != "both" || tr.To != OK || len(tr.Actions) != 0 {
			t.Errorf("got %+v, want both ALARM -> OK without actions", tr)
		}
	} else {
		t.Error("no re-evaluation after PutComposite")
	}
	if sn, _ := s.Snapshot("both"); sn.State != OK || sn.ActionsEnabled {
		t.Errorf("snapshot %+v", sn)
	}
}
