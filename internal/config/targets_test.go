package config

import (
	"os"
	"strings"
	"testing"
)

const targetsTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Stage: {Type: String, Default: prod}
Conditions:
  IsTest: !Equals [!Ref Stage, test]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      Subscription:
        - {Protocol: email, Endpoint: a@example.com}
        - {Protocol: https, Endpoint: "https://hooks.example.com/sns"}
        - {Protocol: sqs, Endpoint: "arn:aws:sqs:us-east-1:123456789012:q"}
  HTTPSub:
    Type: AWS::SNS::Subscription
    Properties: {TopicArn: !Ref Topic, Protocol: http, Endpoint: "http://127.0.0.1:9/x", RawMessageDelivery: true}
  TestOnly:
    Type: AWS::SNS::Topic
    Condition: IsTest
  Basic:
    Type: AWS::Events::Connection
    Properties:
      AuthorizationType: BASIC
      AuthParameters:
        BasicAuthParameters: {Username: u, Password: p}
        InvocationHttpParameters:
          HeaderParameters: [{Key: X-Team, Value: sec, IsValueSecret: false}]
  OAuth:
    Type: AWS::Events::Connection
    Properties:
      Name: oauth-conn
      AuthorizationType: OAUTH_CLIENT_CREDENTIALS
      AuthParameters:
        OAuthParameters:
          AuthorizationEndpoint: https://auth.example.com/token
          HttpMethod: POST
          ClientParameters: {ClientID: id, ClientSecret: cs}
          OAuthHttpParameters: {BodyParameters: [{Key: scope, Value: s}]}
  BasicDest:
    Type: AWS::Events::ApiDestination
    Properties: {ConnectionArn: !GetAtt Basic.Arn, HttpMethod: PUT, InvocationEndpoint: "https://api.example.com/*", InvocationRateLimitPerSecond: 10}
  OAuthDest:
    Type: AWS::Events::ApiDestination
    Properties: {ConnectionArn: !GetAtt OAuth.Arn, HttpMethod: POST, InvocationEndpoint: "https://api.example.com/o"}
  Fn:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: f}
  All:
    Type: AWS::Events::Rule
    Metadata:
      Trailwatch: {Severity: critical, Tags: [cis]}
    Properties:
      State: ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
      EventPattern: '{"source":["aws.iam"],"detail":{"eventName":[{"prefix":"Delete"}]}}'
      Targets:
        - {Id: topic, Arn: !Ref Topic, Input: '{"fixed":true}'}
        - Id: basic
          Arn: !GetAtt BasicDest.Arn
          InputPath: $.detail
          HttpParameters: {PathParameterValues: [v1], HeaderParameters: {X-Rule: all}}
        - {Id: oauth, Arn: !GetAtt OAuthDest.Arn}
        - {Id: lambda, Arn: !GetAtt Fn.Arn}
        - {Id: external, Arn: "arn:aws:sns:eu-west-1:210987654321:ops"}
        - {Id: queue, Arn: "arn:aws:sqs:us-east-1:123456789012:q"}
        - {Id: test, Arn: !If [IsTest, !Ref TestOnly, !Ref Topic]}
  Off:
    Type: AWS::Events::Rule
    Properties: {State: DISABLED, EventPattern: {source: [aws.s3]}}
  Timer:
    Type: AWS::Events::Rule
    Properties: {ScheduleExpression: rate(5 minutes)}
  Tagged:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [aws.kms]}
      Tags: [{Key: "trailwatch:severity", Value: low}, {Key: "trailwatch:tags", Value: "a, b"}]
  OnlyInTest:
    Type: AWS::Events::Rule
    Condition: IsTest
    Properties: {EventPattern: {source: [aws.ec2]}}
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  TopicArn:
    Value: !Ref Topic
  TestTopic:
    Condition: IsTest
    Value: !Ref TestOnly
`

func TestTemplateTargets(t *testing.T) {
	t.Parallel()
	cfg, err := loadTemplateText(t, targetsTemplate, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != 2 || cfg.Rules[0].Name != "All" || cfg.Rules[1].Name != "Tagged" {
		t.Fatalf("rules %v", cfg.Rules)
	}
	all := cfg.Rules[0]
	if !all.IncludeReadOnly || all.Severity.String() != "critical" || !all.HasTag("cis") {
		t.Errorf("rule All: %v %s %v", all.IncludeReadOnly, all.Severity, all.Tags)
	}
	if tg := cfg.Rules[1]; tg.Severity.String() != "low" || !tg.HasTag("a") || !tg.HasTag("b") {
		t.Errorf("rule Tagged: %s %v", tg.Severity, tg.Tags)
	}
	names := map[string]*Receiver{}
	for _, r := range cfg.Receivers {
		names[r.Name] = r
	}
	if r := names["stack/Topic/0"]; r == nil || r.Email == nil || !r.Email.Raw {
		t.Errorf("email subscription %+v", r)
	}
	if r := names["stack/Topic/1"]; r == nil || r.Webhook == nil || r.Webhook.URL.Reveal() != "https://hooks.example.com/sns" ||
		r.Webhook.SNSEnvelope.TopicARN != "arn:aws:sns:us-east-1:123456789012:stack-Topic" || r.Webhook.SNSEnvelope.RawMessageDelivery {
		t.Errorf("https subscription %+v", r)
	}
	if r := names["stack/HTTPSub"]; r == nil || r.Webhook == nil || !r.Webhook.SNSEnvelope.RawMessageDelivery {
		t.Errorf("subscription resource %+v", r)
	}
	if r := names["stack/BasicDest/All/basic"]; r == nil || r.APIDestination.Connection.AuthorizationType != "BASIC" ||
		r.APIDestination.Connection.Password.Reveal() != "p" || r.APIDestination.Connection.InvocationHTTPParameters.HeaderParameters["X-Team"].Reveal() != "sec" ||
		r.APIDestination.HTTPParameters.PathParameterValues[0] != "v1" || r.APIDestination.HTTPParameters.HeaderParameters["X-Rule"].Reveal() != "all" ||
		r.APIDestination.HTTPMethod != "PUT" || r.APIDestination.InvocationRateLimitPerSecond != 10 {
		t.Errorf("basic destination %+v", r)
	}
	if r := names["stack/OAuthDest"]; r == nil || r.APIDestination.Connection.OAuth == nil || r.APIDestination.Connection.OAuth.ClientSecret.Reveal() != "cs" ||
		r.APIDestination.Connection.OAuth.OAuthHTTPParameters.BodyParameters["scope"].Reveal() != "s" || r.APIDestination.Connection.Name != "oauth-conn" {
		t.Errorf("oauth destination %+v", r)
	}
	if r := names["stack/All/external"]; r == nil || r.SNS == nil || r.SNS.TopicARN != "arn:aws:sns:eu-west-1:210987654321:ops" || r.SNS.Region != "eu-west-1" {
		t.Errorf("external topic %+v", r)
	}
	routes := map[string]*Route{}
	for _, r := range cfg.Routes {
		routes[r.Name] = r
	}
	if len(routes) != 5 {
		t.Errorf("routes %d", len(routes))
	}
	if r := routes["stack/All/topic"]; r == nil || strings.Join(r.Receivers, ",") != "stack/Topic/0,stack/Topic/1,stack/HTTPSub" || *r.Input != `{"fixed":true}` {
		t.Errorf("topic route %+v", r)
	}
	if r := routes["stack/All/basic"]; r == nil || r.InputPath != "$.detail" {
		t.Errorf("basic route %+v", r)
	}
	if r := routes["stack/All/test"]; r == nil || len(r.Receivers) != 3 {
		t.Errorf("Fn::If route %+v", r)
	}
	wantSkipped := []string{
		"Topic.Properties.Subscription[2]: SNS subscription with protocol \"sqs\" is not supported",
		"Fn (AWS::Lambda::Function): resource type not supported",
		"Off (AWS::Events::Rule): State is DISABLED, not run",
		"Timer (AWS::Events::Rule): a scheduled rule without targets does nothing",
		"Queue (AWS::SQS::Queue): resource type not supported",
		"All target lambda: Fn (AWS::Lambda::Function) targets are not supported",
		"All target queue: sqs targets are not supported",
	}
	got := strings.Join(cfg.Skipped, "\n")
	for _, w := range wantSkipped {
		if !strings.Contains(got, w) {
			t.Errorf("skipped lacks %q:\n%s", w, got)
		}
	}
	if len(cfg.Skipped) != len(wantSkipped) {
		t.Errorf("skipped %d, want %d:\n%s", len(cfg.Skipped), len(wantSkipped), got)
	}
}

func TestTemplateErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, text, want string }{
		{"not a template", "- a\n", "stack.yaml:1:1: want a template"},
		{"no resources", "Parameters: {}\n", "stack.yaml:1:1: Resources: want at least one resource"},
		{"unknown section", "Resource: {}\nResources: {A: {Type: AWS::SNS::Topic}}\n", "stack.yaml:1:11: Resource: unknown template section"},
		{"unknown property", "Resources:\n  R:\n    Type: AWS::Events::Rule\n    Properties: {EventPatern: {}}\n", "stack.yaml:4:31: Resources.R.Properties.EventPatern: unknown property of AWS::Events::Rule"},
		{"missing pattern", "Resources:\n  R:\n    Type: AWS::Events::Rule\n    Properties: {State: ENABLED}\n", "Resources.R.Properties.EventPattern: missing"},
		{"bad pattern", "Resources:\n  R:\n    Type: AWS::Events::Rule\n    Properties: {EventPattern: {source: aws.s3}}\n", "stack.yaml:4:32: Resources.R.Properties.EventPattern: rule R: pattern:"},
		{"bad state", "Resources:\n  R:\n    Type: AWS::Events::Rule\n    Properties: {State: ON, EventPattern: {source: [x]}}\n", "stack.yaml:4:25: Resources.R.Properties.State: want ENABLED"},
		{"bad target", "Resources:\n  R:\n    Type: AWS::Events::Rule\n    Properties: {EventPattern: {source: [x]}, Targets: [{Arn: x, Id: a, Inptu: y}]}\n", "Resources.R.Properties.Targets[0].Inptu: unknown target property"},
		{"target transformer", "Resources:\n  T: {Type: AWS::SNS::Topic, Properties: {Subscription: [{Protocol: email, Endpoint: a@example.com}]}}\n  R:\n    Type: AWS::Events::Rule\n    Properties: {EventPattern: {source: [x]}, Targets: [{Arn: !Ref T, Id: a, InputTransformer: {InputPathsMap: {'a b': $.x}, InputTemplate: x}}]}\n",
			"stack.yaml:5:57: Resources.R.Properties.Targets[0]: input_transformer: target input: input_paths_map key"},
		{"missing type", "Resources:\n  R: {Properties: {}}\n", "stack.yaml:2:6: Resources.R.Type: missing"},
		{"bad depends", "Resources:\n  R: {Type: AWS::SNS::Topic, DependsOn: [Nope]}\n", `Resources.R.DependsOn: no resource named "Nope"`},
		{"condition cycle", "Conditions:\n  A: !Condition B\n  B: !Condition A\nResources:\n  R: {Type: AWS::SNS::Topic}\n", "condition A refers to itself"},
		{"ref to uncreated", "Conditions:\n  No: !Equals [a, b]\nResources:\n  T: {Type: AWS::SNS::Topic, Condition: No}\n  R:\n    Type: AWS::Events::Rule\n    Properties: {EventPattern: {source: [x]}, Targets: [{Arn: !Ref T, Id: a}]}\n",
			"Ref: resource T is not created (its condition is false)"},
		{"bad output", "Resources:\n  T: {Type: AWS::SNS::Topic}\nOutputs:\n  O: {Value: !Ref Nope}\n", `Outputs.O.Value: Ref: no parameter or resource named "Nope"`},
		{"duplicate rule names", "Resources:\n  A: {Type: AWS::Events::Rule, Properties: {Name: x, EventPattern: {source: [x]}}}\n  B: {Type: AWS::Events::Rule, Properties: {Name: x, EventPattern: {source: [y]}}}\n",
			`stack.yaml:3: rule "x": duplicate name`},
		{"json template", `{"Resources": {"R": {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["x"]}, "State": {"Fn::Sub": "${Nope}"}}}}}`,
			`stack.yaml:1:122: Resources.R.Properties: Ref: no parameter or resource named "Nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadTemplateText(t, c.text, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant %s", err, c.want)
			}
		})
	}
}

// FuzzLoadTemplate: reading any template never panics.
func FuzzLoadTemplate(f *testing.F) {
	for _, name := range []string{"seed000-root-signin.yaml", "seed001-notify.yaml", "seed002-console-login-alarm.yaml", "seed004-iam-policy-alarm.yaml"} {
		data, err := os.ReadFile("testdata/seeds/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(targetsTemplate))
	f.Add([]byte(intrinsicTemplate))
	f.Add([]byte(metricsTemplate))
	params := map[string]string{"EmailAddress": "you@example.com", "SlackIncomingWebhookUrl": "https://hooks.slack.com/x"}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := &errList{}
		res := loadTemplate(l, "fuzz.yaml", data, params)
		for _, it := range res.routes {
			if it.r == nil {
				t.Fatal("nil route")
			}
		}
		// The issue 4 checks never panic on what a template gives them.
		cfg := &Config{Topics: res.topics}
		checkMetrics(l, cfg, res.filters, res.alarms, res.schedules, map[string]bool{}, nil)
	})
}
