package config

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/filterpattern"
)

type cisControl struct {
	ID      string `json:"id"`
	Pattern string `json:"pattern"`
}

func loadCIS(t *testing.T) []cisControl {
	t.Helper()
	data, err := os.ReadFile("testdata/cis_filters.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs []cisControl
	if err := json.Unmarshal(data, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

// cisRecord builds a minimal CloudTrail record of an IAM user's API call.
func cisRecord(fields string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012","userName":"alice"},"eventTime":"2024-05-01T12:00:00Z","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0","eventID":"e-1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012"` + fields + `}`
}

// Records for the controls that are not lists of API calls (specs.md §2,
// "Minimal CloudTrail test records per control"), and their near misses.
var cisSpecial = map[string]struct{ yes, no []string }{
	"CloudWatch.1": {
		yes: []string{`{"userIdentity":{"type":"Root","arn":"arn:aws:iam::123456789012:root"},"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventType":"AwsApiCall"}`},
		no: []string{
			`{"userIdentity":{"type":"Root","invokedBy":"support.amazonaws.com"},"eventName":"ListBuckets","eventType":"AwsApiCall"}`,
			`{"userIdentity":{"type":"Root"},"eventName":"ListBuckets","eventType":"AwsServiceEvent"}`,
			cisRecord(`,"eventSource":"s3.amazonaws.com","eventName":"ListBuckets"`),
		},
	},
	"CloudWatch.2": {
		yes: []string{
			cisRecord(`,"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","errorCode":"Client.UnauthorizedOperation"`),
			cisRecord(`,"eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"AccessDenied"`),
			cisRecord(`,"eventSource":"iam.amazonaws.com","eventName":"ListUsers","errorCode":"AccessDeniedException"`),
		},
		no: []string{
			cisRecord(`,"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","errorCode":"InvalidParameterValue"`),
			cisRecord(`,"eventSource":"ec2.amazonaws.com","eventName":"RunInstances"`),
		},
	},
	"CloudWatch.3": {
		yes: []string{cisRecord(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"}`)},
		no: []string{
			cisRecord(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"Yes"}`),
			cisRecord(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"}`),
			`{"userIdentity":{"type":"Root"},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"}}`,
			cisRecord(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"}`),
		},
	},
	"CloudWatch.6": {
		yes: []string{cisRecord(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"}`)},
		no: []string{
			cisRecord(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","errorMessage":"No username found in supplied account","responseElements":{"ConsoleLogin":"Failure"}`),
			cisRecord(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"}`),
		},
	},
}

var (
	cisNameRE   = regexp.MustCompile(`\$\.eventName\s*=\s*"?([A-Za-z]+)"?`)
	cisSourceRE = regexp.MustCompile(`\$\.eventSource\s*=\s*"?([a-z0-9.]+)"?`)
)

// cisCases returns, for a control, records that must match and near
// misses that must not.
func cisCases(c cisControl) (yes, no []string) {
	if s, ok := cisSpecial[c.ID]; ok {
		return s.yes, s.no
	}
	source := "ec2.amazonaws.com"
	if m := cisSourceRE.FindStringSubmatch(c.Pattern); m != nil {
		source = m[1]
		// The right call from another service.
		name := cisNameRE.FindStringSubmatch(c.Pattern)[1]
		no = append(no, cisRecord(fmt.Sprintf(`,"eventSource":"ec2.amazonaws.com","eventName":%q`, name)))
	}
	for _, m := range cisNameRE.FindAllStringSubmatch(c.Pattern, -1) {
		yes = append(yes, cisRecord(fmt.Sprintf(`,"eventSource":%q,"eventName":%q`, source, m[1])))
		// A read-only neighbour of the call.
		no = append(no, cisRecord(fmt.Sprintf(`,"eventSource":%q,"eventName":%q`, source, "Describe"+m[1])))
	}
	return yes, no
}

func TestBuiltinMetricsCIS(t *testing.T) {
	t.Parallel()
	filters, alarms, err := BuiltinMetrics()
	if err != nil {
		t.Fatal(err)
	}
	cs := loadCIS(t)
	if len(filters) != len(cs) || len(alarms) != len(cs) || len(cs) != 15 {
		t.Fatalf("%d filters, %d alarms, %d controls", len(filters), len(alarms), len(cs))
	}
	for i, c := range cs {
		f, a := filters[i], alarms[i]
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			// Security Hub fails a control whose filter is not the
			// prescribed text: verbatim.
			if f.FilterPattern != c.Pattern {
				t.Errorf("filter %s pattern\n got %s\nwant %s", f.Name, f.FilterPattern, c.Pattern)
			}
			mt := f.Transformations[0]
			if len(f.Transformations) != 1 || mt.MetricNamespace != "CISBenchmark" || mt.MetricValue != "1" || mt.DefaultValue != nil || f.LogGroupName != "" {
				t.Errorf("filter %+v", f)
			}
			id := strings.TrimPrefix(c.ID, "CIS-1.4-")
			if !strings.HasPrefix(a.Name, "CIS-"+id+"-") || !strings.Contains(a.Description, id) {
				t.Errorf("alarm name %q, description %q", a.Name, a.Description)
			}
			want := Alarm{Name: a.Name, Description: a.Description, Namespace: "CISBenchmark", MetricName: mt.MetricName, Statistic: "Sum",
				Period: Duration(300 * time.Second), EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold",
				TreatMissingData: "notBreaching", ActionsEnabled: boolp(true), Source: a.Source}
			if !reflect.DeepEqual(*a, want) {
				t.Errorf("alarm\n got %+v\nwant %+v", *a, want)
			}
			p, err := filterpattern.Parse(f.FilterPattern)
			if err != nil {
				t.Fatal(err)
			}
			yes, no := cisCases(c)
			if len(yes) == 0 || len(no) == 0 {
				t.Fatal("no test records")
			}
			for _, r := range yes {
				if !p.Matches([]byte(r)) {
					t.Errorf("no match: %s", r)
				}
			}
			for _, r := range no {
				if p.Matches([]byte(r)) {
					t.Errorf("near miss matches: %s", r)
				}
			}
		})
	}
}

func TestBuiltinMetricsOption(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := writeFile(t, dir, "x.yaml", `builtin_rules: false
builtin_metrics: true
builtin_metrics_actions: [sec, 'arn:aws:sns:us-east-1:123456789012:console-login-alarm']
receivers: [{name: sec, stdout: {}}]
`)
	cfg, err := Load([]string{p}, []string{"testdata/seeds/seed002-console-login-alarm.yaml"}, map[string]string{"EmailAddress": seedEmail}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.MetricFilters) != 16 || len(cfg.Alarms) != 16 || len(cfg.Rules) != 0 {
		t.Fatalf("filters %d alarms %d rules %d", len(cfg.MetricFilters), len(cfg.Alarms), len(cfg.Rules))
	}
	for _, a := range cfg.Alarms {
		if strings.HasPrefix(a.Name, "CIS-") && (len(a.AlarmActions) != 2 || a.AlarmActions[0] != "sec") {
			t.Errorf("alarm %s actions %q", a.Name, a.AlarmActions)
		}
	}
	// Off by default.
	p2 := writeFile(t, dir, "y.yaml", "builtin_rules: false\n")
	cfg, err = Load([]string{p2}, nil, nil, nil)
	if err != nil || len(cfg.MetricFilters) != 0 || len(cfg.Alarms) != 0 {
		t.Errorf("default: %v, %d filters", err, len(cfg.MetricFilters))
	}
}
