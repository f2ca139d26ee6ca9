package transform

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/trailwatch/trailwatch/internal/event"
)

// switchRole is a SwitchRole sign-in in the shape AWS documents for the
// target account side (no real one is in the shared data).
const switchRole = `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::222222222222:assumed-role/Admin/alice","accountId":"222222222222"},"eventTime":"2023-03-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"SwitchRole","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.10","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"SwitchRole":"Success"},"additionalEventData":{"SwitchFrom":"arn:aws:iam::111111111111:user/alice","RedirectTo":"https://console.aws.amazon.com/console/home"},"eventID":"0f0e0d0c-0000-4000-8000-000000000001","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"222222222222","eventCategory":"Management"}`

// seedTransformer reads the input transformer of seed 001's template as
// CloudFormation would: YAML with short-form tags elsewhere in the file.
func seedTransformer(t testing.TB) (map[string]string, string) {
	t.Helper()
	b, err := os.ReadFile("testdata/seed001-notify.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources struct {
			SigninEventRule struct {
				Properties struct {
					Targets []struct {
						InputTransformer struct {
							InputPathsMap map[string]string `yaml:"InputPathsMap"`
							InputTemplate string            `yaml:"InputTemplate"`
						} `yaml:"InputTransformer"`
					} `yaml:"Targets"`
				} `yaml:"Properties"`
			} `yaml:"SigninEventRule"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	it := doc.Resources.SigninEventRule.Properties.Targets[0].InputTransformer
	if len(it.InputPathsMap) != 9 || !strings.Contains(it.InputTemplate, "<SwitchTo>") {
		t.Fatalf("seed template not read: %+v", it)
	}
	return it.InputPathsMap, it.InputTemplate
}

func consoleLogin(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/aws.initial-access.console-login-without-mfa.json")
	if err != nil {
		t.Fatal(err)
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		e, err := event.FromRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if e.EventName == "ConsoleLogin" {
			return e.JSON
		}
	}
	t.Fatal("no ConsoleLogin")
	return nil
}

func TestSeed001Slack(t *testing.T) {
	t.Parallel()
	pathsMap, template := seedTransformer(t)
	in, err := NewInput(nil, "", pathsMap, template, true)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := event.FromRecord([]byte(switchRole))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		event []byte
		want  []string // the fields' texts, in order
	}{
		{"console login", consoleLogin(t), []string{
			"*eventName:* ConsoleLogin",
			"*eventID:* 865d9377-9c6b-4fd7-8aad-725e95f6a140",
			"*account:* 562283505220",
			"*eventTime:* 2024-08-02T08:53:24Z",
			"*userIdentityType:* IAMUser",
			"*userIdentityArn:* arn:aws:iam::562283505220:user/stratus-red-team-nmfalu-jfzdtsvchl",
			"*LoginTo:* https://console.aws.amazon.com/console/home",
			"*SwitchFrom:* ",
			"*SwitchTo:* ",
		}},
		{"switch role", sr.JSON, []string{
			"*eventName:* SwitchRole",
			"*eventID:* 0f0e0d0c-0000-4000-8000-000000000001",
			"*account:* 222222222222",
			"*eventTime:* 2023-03-01T10:00:00Z",
			"*userIdentityType:* AssumedRole",
			"*userIdentityArn:* arn:aws:sts::222222222222:assumed-role/Admin/alice",
			"*LoginTo:* ",
			"*SwitchFrom:* arn:aws:iam::111111111111:user/alice",
			"*SwitchTo:* ",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, err := in.Render(tt.event, Vars{RuleARN: "arn:aws:events:us-east-1:222222222222:rule/SigninEventRule", RuleName: "SigninEventRule"})
			if err != nil {
				t.Fatal(err)
			}
			var msg struct {
				Blocks []struct {
					Type   string `json:"type"`
					Fields []struct {
						Type string `json:"type"`
						Text string `json:"text"`
					} `json:"fields"`
				} `json:"blocks"`
			}
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&msg); err != nil {
				t.Fatalf("not Slack Block Kit JSON: %v\n%s", err, body)
			}
			if len(msg.Blocks) != 1 || msg.Blocks[0].Type != "section" {
				t.Fatalf("blocks: %+v", msg.Blocks)
			}
			var got []string
			for _, f := range msg.Blocks[0].Fields {
				if f.Type != "mrkdwn" {
					t.Errorf("field type %q", f.Type)
				}
				got = append(got, f.Text)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("fields\n got %q\nwant %q", got, tt.want)
			}
			// The template's layout is kept: only placeholders change.
			if !strings.HasPrefix(string(body), "{\n  \"blocks\": [\n") {
				t.Fatalf("layout changed:\n%s", body)
			}
		})
	}
}
