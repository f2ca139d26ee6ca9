package alert

import (
	"encoding/json"
	"testing"

	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/rule"
)

const ruleYAML = `
name: root-signin
severity: critical
tags: [cis-1.4-1.7]
pattern:
  detail:
    userIdentity:
      type: [Root]
summary: "root from {{.source_ip}} MFA {{.mfa}} to {{.detail.additionalEventData.LoginTo}}"
`

const record = `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","accessKeyId":""},"eventTime":"2024-03-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/","MobileVersion":"No","MFAUsed":"No"},"eventID":"e-1","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`

func TestNew(t *testing.T) {
	rules, err := rule.Parse([]byte(ruleYAML), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := event.FromRecord([]byte(record))
	if err != nil {
		t.Fatal(err)
	}
	ev.Origin = event.Origin{Name: "f.json", Index: 3}
	a := New(rules[0], ev)
	want := Alert{
		Rule: "root-signin", Severity: "critical", Tags: []string{"cis-1.4-1.7"},
		EventID: "e-1", EventTime: "2024-03-01T10:00:00Z", Account: "111122223333", Region: "us-east-1",
		EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin",
		Principal: "root", PrincipalType: "Root", PrincipalARN: "arn:aws:iam::111122223333:root",
		SourceIP: "198.51.100.7", UserAgent: "Mozilla/5.0", MFA: "No", Outcome: "Success",
		Summary: "root from 198.51.100.7 MFA No to https://console.aws.amazon.com/",
		File:    "f.json", Record: 3,
	}
	got := a
	got.Event = nil
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("got  %s\nwant %s", gj, wj)
	}
	if string(a.Event) != string(ev.JSON) {
		t.Error("the alert does not carry the EventBridge event")
	}
}
