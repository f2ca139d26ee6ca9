package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/rule"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func loadTemplateText(t *testing.T, text string, params map[string]string) (*Config, error) {
	t.Helper()
	p := writeFile(t, t.TempDir(), "stack.yaml", text)
	return Load(nil, []string{p}, params, nil)
}

const rootSignIn = `{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012"},"eventTime":"2024-05-01T00:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No","LoginTo":"https://console.aws.amazon.com/"},"eventID":"11111111-2222-3333-4444-555555555555","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"123456789012"}`

func mustMatch(t *testing.T, r *rule.Rule, rec string, want bool) {
	t.Helper()
	ev, err := event.FromRecord([]byte(rec))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Matches(ev)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("rule %s on %s: match %v, want %v", r.Name, ev.DetailType, got, want)
	}
}

func receiverByName(cfg *Config, name string) *Receiver {
	for _, r := range cfg.Receivers {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// The seeds' templates (copied from ../shared/seeds, the project's own
// seed documents) load unchanged.
func TestSeed000RootSignIn(t *testing.T) {
	t.Parallel()
	cfg, err := Load(nil, []string{"testdata/seeds/seed000-root-signin.yaml"}, map[string]string{"EmailAddress": "you@example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != 1 || len(cfg.Routes) != 1 || len(cfg.Receivers) != 1 || len(cfg.Skipped) != 0 {
		t.Fatalf("rules %d routes %d receivers %d skipped %q", len(cfg.Rules), len(cfg.Routes), len(cfg.Receivers), cfg.Skipped)
	}
	r := cfg.Rules[0]
	if r.Name != "seed000-root-signin-RootActivityRule" || r.Severity != rule.SeverityMedium || r.IncludeReadOnly {
		t.Errorf("rule %s %s %v", r.Name, r.Severity, r.IncludeReadOnly)
	}
	if r.Description != "Events rule for monitoring root AWS Console Sign In activity" {
		t.Errorf("description %q", r.Description)
	}
	mustMatch(t, r, rootSignIn, true)
	mustMatch(t, r, strings.Replace(rootSignIn, `"type":"Root"`, `"type":"IAMUser"`, 1), false)
	rc := cfg.Receivers[0]
	if rc.Email == nil || !rc.Email.Raw || len(rc.Email.To) != 1 || rc.Email.To[0] != "you@example.com" {
		t.Errorf("receiver %+v %+v", rc, rc.Email)
	}
	rt := cfg.Routes[0]
	if len(rt.Receivers) != 1 || rt.Receivers[0] != rc.Name || len(rt.Rules) != 1 || rt.Rules[0] != r.Name {
		t.Errorf("route %+v", rt)
	}
	if rt.RuleARN != "arn:aws:events:us-east-1:123456789012:rule/seed000-root-signin-RootActivityRule" {
		t.Errorf("rule ARN %s", rt.RuleARN)
	}
	if rt.Input != nil || rt.InputPath != "" || rt.InputTransformer != nil {
		t.Errorf("route body %+v", rt)
	}
	if got := cfg.Topics["arn:aws:sns:us-east-1:123456789012:ROOT-AWS-Console-Sign-In-via-CloudTrail"]; len(got) != 1 || got[0] != rc.Name {
		t.Errorf("topics %v", cfg.Topics)
	}
}

func TestSeed000BadEmail(t *testing.T) {
	t.Parallel()
	_, err := Load(nil, []string{"testdata/seeds/seed000-root-signin.yaml"}, map[string]string{"EmailAddress": "not an address"}, nil)
	want := "testdata/seeds/seed000-root-signin.yaml:12:5: Parameters.EmailAddress: value does not match AllowedPattern (Email address required.)"
	if err == nil || !strings.HasPrefix(err.Error(), want+"\n") {
		t.Errorf("got %v\nwant %s", err, want)
	}
	_, err = Load(nil, []string{"testdata/seeds/seed000-root-signin.yaml"}, nil, nil)
	if !errors.Is(err, ErrMissingParameter) || !strings.Contains(err.Error(), "seed000-root-signin.yaml:12:5: Parameters.EmailAddress: no value given") {
		t.Errorf("got %v", err)
	}
}

func TestSeed001Notify(t *testing.T) {
	t.Parallel()
	url := "https://hooks.slack.com/services/T000/B000/XXXX"
	cfg, err := Load(nil, []string{"testdata/seeds/seed001-notify.yaml"}, map[string]string{"SlackIncomingWebhookUrl": url, "AWS::Region": "ap-northeast-1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != 1 || len(cfg.Routes) != 1 || len(cfg.Receivers) != 1 || len(cfg.Skipped) != 0 {
		t.Fatalf("rules %d routes %d receivers %d skipped %q", len(cfg.Rules), len(cfg.Routes), len(cfg.Receivers), cfg.Skipped)
	}
	r := cfg.Rules[0]
	if r.Name != "SigninEventRule" {
		t.Errorf("rule name %s", r.Name)
	}
	mustMatch(t, r, rootSignIn, true)
	rc := cfg.Receivers[0]
	a := rc.APIDestination
	if a == nil || a.InvocationEndpoint.Reveal() != url || a.HTTPMethod != "POST" || a.Name != "notify-slack-signin-api-destination" {
		t.Fatalf("receiver %+v", rc)
	}
	c := a.Connection
	if c.Name != "notify-slack-signin-connection" || c.AuthorizationType != "API_KEY" || c.APIKeyName != "dummy" || c.APIKeyValue.Reveal() != "dummy" {
		t.Errorf("connection %+v", c)
	}
	rt := cfg.Routes[0]
	if rt.RuleARN != "arn:aws:events:ap-northeast-1:123456789012:rule/SigninEventRule" || len(rt.Receivers) != 1 || rt.Receivers[0] != rc.Name {
		t.Errorf("route %+v", rt)
	}
	it := rt.InputTransformer
	if it == nil || len(it.InputPathsMap) != 9 || it.InputPathsMap["SwitchTo"] != "$.detail.additionalEventData.SwitchTo" {
		t.Fatalf("transformer %+v", it)
	}
	if !strings.HasPrefix(it.InputTemplate, "{\n  \"blocks\": [\n") || !strings.HasSuffix(it.InputTemplate, "}\n") ||
		!strings.Contains(it.InputTemplate, `"text": "*SwitchTo:* <SwitchTo>"`) {
		t.Errorf("template %q", it.InputTemplate)
	}
}

// intrinsicTemplate evaluates expr as a rule's Description.
const intrinsicTemplate = `
Parameters:
  Env: {Type: String, Default: prod, AllowedValues: [prod, dev]}
  Names: {Type: CommaDelimitedList, Default: "a,b,c"}
  Count: {Type: Number, Default: 3}
Mappings:
  Regions:
    us-east-1: {Short: use1}
    eu-west-1: {Short: euw1}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: {"Fn::Equals": [{"Ref": Env}, dev]}
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Equals [a, a]]
  Either: !Or [!Condition IsDev, !Condition NotProd]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties: {TopicName: alerts}
  Role:
    Type: AWS::IAM::Role
    Properties: {RoleName: my-role}
  Fn:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: fn}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      Name: r
      EventPattern: {source: [aws.signin]}
      Description: %s
`

func TestIntrinsics(t *testing.T) {
	t.Parallel()
	cases := []struct {
		expr, want string
	}{
		{`!Ref Env`, "prod"},
		{`{"Ref": "AWS::Region"}`, "eu-west-1"},
		{`!Ref AWS::AccountId`, "111122223333"},
		{`!Ref AWS::StackName`, "mystack"},
		{`!Ref AWS::Partition`, "aws"},
		{`!Ref AWS::URLSuffix`, "amazonaws.com"},
		{`!Ref Topic`, "arn:aws:sns:eu-west-1:111122223333:alerts"},
		{`!Ref Rule`, "r"},
		{`!Ref Count`, "3"},
		{`!GetAtt Topic.TopicName`, "alerts"},
		{`!GetAtt [Topic, TopicArn]`, "arn:aws:sns:eu-west-1:111122223333:alerts"},
		{`{"Fn::GetAtt": ["Rule", "Arn"]}`, "arn:aws:events:eu-west-1:111122223333:rule/r"},
		{`!GetAtt Role.Arn`, "arn:aws:iam::111122223333:role/my-role"},
		{`!GetAtt Fn.Arn`, "arn:aws:lambda:eu-west-1:111122223333:function:fn"},
		{`!Sub "${AWS::StackName}-${Env}-${Topic.TopicName}-${!Literal}"`, "mystack-prod-alerts-${Literal}"},
		{`!Sub ["${A}/${B}", {A: !Ref Env, B: x}]`, "prod/x"},
		{`{"Fn::Sub": "in ${AWS::Region}"}`, "in eu-west-1"},
		{`!Join ["-", [a, !Ref Env, c]]`, "a-prod-c"},
		{`!Join [",", !Ref Names]`, "a,b,c"},
		{`!Join ["", [x, !Ref AWS::NoValue, y]]`, "xy"},
		{`!Select [1, !Ref Names]`, "b"},
		{`!Select ["2", [p, q, r]]`, "r"},
		{`!Join ["+", !Split ["/", "a/b/c"]]`, "a+b+c"},
		{`!Select [0, !Split [":", !Ref Topic]]`, "arn"},
		{`!If [IsProd, yes, no]`, "yes"},
		{`!If [IsDev, yes, no]`, "no"},
		{`!If [Both, both, no]`, "both"},
		{`!If [Either, either, neither]`, "neither"},
		{`{"Fn::If": ["NotProd", "a", {"Fn::Join": ["", ["b", "c"]]}]}`, "bc"},
		{`!FindInMap [Regions, !Ref AWS::Region, Short]`, "euw1"},
		{`!Base64 abc`, "YWJj"},
		{`!Select [2, !GetAZs ""]`, "eu-west-1c"},
	}
	params := map[string]string{"AWS::Region": "eu-west-1", "AWS::AccountId": "111122223333", "AWS::StackName": "mystack"}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadTemplateText(t, fmt.Sprintf(intrinsicTemplate, c.expr), params)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			for _, r := range cfg.Rules {
				if r.Name == "r" {
					got = r.Description
				}
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestIntrinsicErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		expr, want string
	}{
		{`!Ref Nope`, `stack.yaml:31:20: Resources.Rule.Properties: Ref: no parameter or resource named "Nope"`},
		{`!GetAtt Nope.Arn`, `Fn::GetAtt: no resource named "Nope"`},
		{`!GetAtt Topic.Nope`, `Fn::GetAtt: Topic (AWS::SNS::Topic) has no attribute Nope`},
		{`!GetAtt Topic`, `Fn::GetAtt: want [LogicalID, Attribute] or LogicalID.Attribute`},
		{`!Sub "${Nope}"`, `Ref: no parameter or resource named "Nope"`},
		{`!Sub "${Names}"`, `Fn::Sub: ${Names} is not a string`},
		{`!Join ["-"]`, `Fn::Join: want [delimiter, [values]]`},
		{`!Select [5, [a]]`, `Fn::Select: index "5" out of range (1 values)`},
		{`!Split [",", [a]]`, `want a string`},
		{`!If [Nope, a, b]`, `Fn::If: no condition named "Nope"`},
		{`!FindInMap [Regions, nowhere, Short]`, `Fn::FindInMap: no Mappings entry Regions.nowhere`},
		{`!ImportValue x`, `Fn::ImportValue is not supported`},
		{`!Bogus x`, `unknown tag !Bogus`},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			t.Parallel()
			_, err := loadTemplateText(t, fmt.Sprintf(intrinsicTemplate, c.expr), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant %s", err, c.want)
			}
		})
	}
}

const paramTemplate = `Parameters:
  P:
%s
Resources:
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [aws.signin]}
      Description: !Join [",", [!Join ["|", !Split ["|", !Join ["|", [x]]]]]]
`

func TestParameters(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, def string
		value     *string
		wantErr   string // "" for no error
	}{
		{"default", "    Type: String\n    Default: d", nil, ""},
		{"missing", "    Type: String", nil, "stack.yaml:3:5: Parameters.P: no value given (--parameter P=VALUE) and no Default"},
		{"missing type", "    Default: x", nil, "stack.yaml:3:5: Parameters.P.Type: missing"},
		{"unknown type", "    Type: Strin\n    Default: x", nil, `Parameters.P.Type: unknown parameter type "Strin"`},
		{"unknown attribute", "    Type: String\n    Defualt: x", ptr("v"), "stack.yaml:4:14: Parameters.P.Defualt: unknown parameter attribute"},
		{"allowed values ok", "    Type: String\n    AllowedValues: [a, b]", ptr("b"), ""},
		{"allowed values bad", "    Type: String\n    AllowedValues: [a, b]", ptr("c"), "Parameters.P: value is not one of AllowedValues"},
		{"pattern ok", "    Type: String\n    AllowedPattern: '[a-z]+'", ptr("abc"), ""},
		{"pattern is whole", "    Type: String\n    AllowedPattern: '[a-z]+'", ptr("abc1"), "Parameters.P: value does not match AllowedPattern"},
		{"java pattern", "    Type: String\n    AllowedPattern: '\\p{Lower}++\\h\\u0041'", ptr("ab A"), ""},
		{"bad pattern", "    Type: String\n    AllowedPattern: '(?=a)a'", ptr("a"), "Parameters.P.AllowedPattern: AllowedPattern: look-around groups are not supported"},
		{"constraint description", "    Type: String\n    AllowedPattern: x\n    ConstraintDescription: must be x", ptr("y"), "value does not match AllowedPattern (must be x)"},
		{"number ok", "    Type: Number\n    MinValue: 1\n    MaxValue: 10", ptr("2.5"), ""},
		{"number bad", "    Type: Number", ptr("two"), "Parameters.P: value is not a number"},
		{"number too big", "    Type: Number\n    MaxValue: 10", ptr("11"), "value is greater than MaxValue 10"},
		{"min length", "    Type: String\n    MinLength: 3", ptr("ab"), "value is shorter than MinLength 3"},
		{"max length", "    Type: String\n    MaxLength: 1", ptr("ab"), "value is longer than MaxLength 1"},
		{"list each value", "    Type: CommaDelimitedList\n    AllowedValues: [a, b]", ptr("a,b,c"), "value is not one of AllowedValues"},
		{"list ok", "    Type: CommaDelimitedList\n    AllowedValues: [a, b]", ptr("a, b"), ""},
		{"aws type", "    Type: AWS::EC2::VPC::Id", ptr("vpc-1"), ""},
		{"ssm type", "    Type: AWS::SSM::Parameter::Value<String>", ptr("/x"), "SSM parameter types are not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			params := map[string]string{}
			if c.value != nil {
				params["P"] = *c.value
			}
			_, err := loadTemplateText(t, fmt.Sprintf(paramTemplate, c.def), params)
			if c.wantErr == "" {
				if err != nil {
					t.Errorf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("got %v\nwant %s", err, c.wantErr)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestNoEchoNeverShown(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-Value"
	text := `Parameters:
  Key: {Type: String, NoEcho: true, AllowedPattern: "[a-z]+"}
Resources:
  Conn:
    Type: AWS::Events::Connection
    Properties:
      AuthorizationType: API_KEY
      AuthParameters: {ApiKeyAuthParameters: {ApiKeyName: x-api-key, ApiKeyValue: !Ref Key}}
  Dest:
    Type: AWS::Events::ApiDestination
    Properties: {ConnectionArn: !GetAtt Conn.Arn, HttpMethod: POST, InvocationEndpoint: "https://example.com/hook"}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [aws.signin]}
      State: !Sub "${Key}"
      Targets: [{Id: t, Arn: !GetAtt Dest.Arn}]
`
	_, err := loadTemplateText(t, text, map[string]string{"Key": secret})
	if err == nil {
		t.Fatal("want errors")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("secret in error: %v", err)
	}
	if !strings.Contains(err.Error(), "Parameters.Key: value does not match AllowedPattern") {
		t.Errorf("got %v", err)
	}
	// A good value: the secret is kept, and hidden in every print.
	text = strings.Replace(text, `State: !Sub "${Key}"`, "State: ENABLED", 1)
	cfg, err := loadTemplateText(t, text, map[string]string{"Key": "abc"})
	if err != nil {
		t.Fatal(err)
	}
	rc := cfg.Receivers[0]
	if rc.APIDestination.Connection.APIKeyValue.Reveal() != "abc" {
		t.Errorf("key %q", rc.APIDestination.Connection.APIKeyValue.Reveal())
	}
	for _, s := range []string{fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), fmt.Sprintf("%v %+v %#v", *rc, *rc.APIDestination, rc.APIDestination.Connection)} {
		if strings.Contains(s, "abc") {
			t.Errorf("secret printed: %s", s)
		}
	}
}
