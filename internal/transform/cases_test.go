package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// itCase is one row of testdata/input_transformer_cases.json.
type itCase struct {
	Name          string            `json:"name"`
	EventRef      string            `json:"event_ref"`
	Event         json.RawMessage   `json:"event"`
	PathsMap      map[string]string `json:"input_paths_map"`
	Template      *string           `json:"input_template"`
	InputPath     string            `json:"input_path"`
	Expected      *string           `json:"expected_output"`
	ExpectedJSON  json.RawMessage   `json:"expected_output_json"`
	Compare       string            `json:"compare"`
	RuleARN       string            `json:"rule_arn"`
	RuleName      string            `json:"rule_name"`
	DocQuirk      bool              `json:"doc_quirk"`
	AWSValidated  bool              `json:"aws_validated"`
	ExpectedError *struct {
		Code, Message string
	} `json:"expected_error"`
}

type itFile struct {
	Events map[string]json.RawMessage `json:"events"`
	Cases  []itCase                   `json:"cases"`
}

func loadCases(t testing.TB) itFile {
	t.Helper()
	b, err := os.ReadFile("testdata/input_transformer_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var f itFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// ingestion is the ingestion time the cases render with; the LocalStack
// snapshots mask it as <ingestion-time>, and so does the test.
var ingestion = time.Date(2024, 5, 21, 10, 11, 12, 0, time.UTC)

// quirkFixed is the output the case file recommends for the doc row whose
// verbatim output is not JSON (a documentation quirk): an unquoted string
// placeholder gives a quoted JSON string, as in every other row.
const quirkFixed = `{"timestamp" : "2015-11-11T21:29:54Z", "message": "instance \"i-0123456789\" is in RUNNING"}`

func TestCases(t *testing.T) {
	t.Parallel()
	f := loadCases(t)
	if len(f.Cases) != 41 {
		t.Fatalf("%d cases, want 41", len(f.Cases))
	}
	validated := 0
	for _, c := range f.Cases {
		if c.AWSValidated {
			validated++
		}
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			event := []byte(c.Event)
			if c.EventRef != "" {
				event = f.Events[c.EventRef]
			}
			if len(event) == 0 {
				t.Fatal("no event")
			}
			v := Vars{RuleARN: "arn:aws:events:us-east-2:123456789012:rule/example", RuleName: "example", IngestionTime: ingestion}
			if c.RuleARN != "" {
				v.RuleARN, v.RuleName = c.RuleARN, c.RuleName
			}
			template := ""
			if c.Template != nil {
				template = *c.Template
			}
			in, err := NewInput(nil, c.InputPath, c.PathsMap, template, c.Template != nil)
			if c.Compare == "error" {
				var ve *ValidationError
				if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("NewInput: err = %v, want a ValidationError", err)
				}
				if got := ve.AWSMessage("<TargetId>"); got != c.ExpectedError.Message {
					t.Fatalf("AWS message\n got %q\nwant %q", got, c.ExpectedError.Message)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewInput: %v", err)
			}
			got, err := in.Render(event, v)
			if c.Compare == "not_delivered" {
				if !errors.Is(err, ErrInvalidJSON) {
					t.Fatalf("Render = %q, %v; want ErrInvalidJSON (not delivered)", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			got = bytes.ReplaceAll(got, []byte(ingestion.Format(time.RFC3339)), []byte("<ingestion-time>"))
			want := *c.Expected
			compare := c.Compare
			switch {
			case c.DocQuirk:
				want, compare = quirkFixed, "json"
			case c.ExpectedJSON != nil:
				want = string(c.ExpectedJSON)
			}
			switch compare {
			case "", "exact":
				if string(got) != want {
					t.Fatalf("\n got %s\nwant %s", got, want)
				}
			case "json":
				if !sameJSON(t, got, []byte(want)) {
					t.Fatalf("\n got %s\nwant %s (as JSON)", got, want)
				}
			default:
				t.Fatalf("unknown compare %q", compare)
			}
		})
	}
	if validated < 27 {
		t.Errorf("%d AWS-validated cases, want at least 27", validated)
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("want is not JSON: %v: %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

// The doc's CloudWatch Logs row, verbatim, is not JSON; the rendering is.
func TestDocQuirkIsNotWhatWeSend(t *testing.T) {
	t.Parallel()
	f := loadCases(t)
	for _, c := range f.Cases {
		if !c.DocQuirk {
			continue
		}
		if json.Valid([]byte(*c.Expected)) {
			t.Fatalf("%s: the doc output is valid JSON; drop the quirk handling", c.Name)
		}
		tr, err := New(c.PathsMap, *c.Template)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tr.Render(f.Events[c.EventRef], Vars{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(got), `"timestamp" : "2015-11-11T21:29:54Z"`) {
			t.Fatalf("got %s", got)
		}
	}
}
