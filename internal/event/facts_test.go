package event

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// docExamples reads the records of an AWS documentation examples file:
// JSON lines of {"source","section","event"}.
func docExamples(t *testing.T, name string) []json.RawMessage {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []json.RawMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct{ Event json.RawMessage }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l.Event)
	}
	return out
}

// fileEvents decodes all of one testdata file and fails on any error.
func fileEvents(t *testing.T, name string) []*Event {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, errs := decodeAll(t, f, name)
	if len(errs) > 0 {
		t.Fatalf("%s: %v", name, errs)
	}
	return evs
}

// switchRole is a SwitchRole sign-in in the shape AWS documents (target
// account side); no real one is in the shared data.
const switchRole = `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::222222222222:assumed-role/Admin/alice","accountId":"222222222222"},"eventTime":"2023-03-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"SwitchRole","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.10","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"SwitchRole":"Success"},"additionalEventData":{"SwitchFrom":"arn:aws:iam::111111111111:user/alice","RedirectTo":"https://console.aws.amazon.com/console/home"},"eventID":"0f0e0d0c-0000-4000-8000-000000000001","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"222222222222","eventCategory":"Management"}`

func TestFacts(t *testing.T) {
	ct := docExamples(t, "aws-cloudtrail-user-guide_examples.jsonl")
	iam := docExamples(t, "iam-user-guide_examples.jsonl")
	fromRaw := func(raw []byte) *Event {
		e, err := FromRecord(raw)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	otrf := fileEvents(t, "otrf_ec2_proxy_s3_exfiltration.jsonl")
	fed := fileEvents(t, "aws.persistence.sts-federation-token.json")
	var fedUser *Event
	for _, e := range fed {
		if e.Facts().PrincipalType == "FederatedUser" {
			fedUser = e
		}
	}
	if fedUser == nil {
		t.Fatal("no FederatedUser event in aws.persistence.sts-federation-token.json")
	}
	tests := []struct {
		name string
		e    *Event
		want Facts
	}{
		{"IAM user sign-in without MFA", fromRaw(ct[0]), Facts{EventName: "ConsoleLogin", EventSource: "signin.amazonaws.com", Principal: "anaya", PrincipalType: "IAMUser",
			PrincipalARN: "arn:aws:iam::111122223333:user/anaya", SourceIP: "192.0.2.0", MFA: "No", Outcome: "Success"}},
		{"IAM user sign-in with MFA", fromRaw(ct[1]), Facts{Principal: "anaya", PrincipalType: "IAMUser", MFA: "Yes", Outcome: "Success"}},
		{"IAM user sign-in failure", fromRaw(ct[2]), Facts{Principal: "anaya", PrincipalType: "IAMUser", MFA: "Yes", Outcome: "Failure", ErrorMessage: "Failed authentication"}},
		{"root sign-in without MFA", fromRaw(ct[5]), Facts{Principal: "root", PrincipalType: "Root", PrincipalARN: "arn:aws:iam::111122223333:root", MFA: "No", Outcome: "Success"}},
		{"root sign-in with MFA YES", fromRaw(ct[6]), Facts{Principal: "root", PrincipalType: "Root", MFA: "Yes", Outcome: "Success"}},
		{"root sign-in failure", fromRaw(ct[7]), Facts{Principal: "root", MFA: "No", Outcome: "Failure", ErrorMessage: "Failed authentication"}},
		{"root API call, session without MFA", fromRaw(ct[8]), Facts{EventName: "EnableMFADevice", Principal: "root", MFA: "No"}},
		{"service event", fromRaw(ct[17]), Facts{EventName: "RotateKey", Principal: "AWS Internal", SourceIP: "AWS Internal"}},
		{"error code", fromRaw(ct[15]), Facts{Principal: "Alice", PrincipalType: "IAMUser", ErrorCode: "TrailNotFoundException"}},
		{"switch role", fromRaw([]byte(switchRole)), Facts{EventName: "SwitchRole", Principal: "Admin/alice", PrincipalType: "AssumedRole",
			PrincipalARN: "arn:aws:sts::222222222222:assumed-role/Admin/alice", Outcome: "Success"}},
		{"assumed role chaining", fromRaw(iam[3]), Facts{Principal: "JohnDoe/JohnRole1", PrincipalType: "AssumedRole", MFA: "No"}},
		{"another account", fromRaw(iam[2]), Facts{PrincipalType: "AWSAccount", Principal: "account " + principalIDOf(t, iam[2])}},
		{"unknown user name", fromRaw(iam[6]), Facts{Principal: "HIDDEN_DUE_TO_SECURITY_REASONS", MFA: "No", Outcome: "Failure", ErrorMessage: "No username found in supplied account"}},
		{"logstash record with MFA session", otrf[0], Facts{EventName: "DescribeInstanceTypes", Principal: "pedro", PrincipalType: "IAMUser", AccessKeyID: "ASIA5FLZVX4OI4ZDQJOL",
			SourceIP: "1.2.3.4", UserAgent: "console.ec2.amazonaws.com", MFA: "Yes"}},
		{"federated user", fedUser, Facts{PrincipalType: "FederatedUser", Principal: fedName(fedUser), MFA: "No"}},
		{"AWS service", fileEvents(t, "333333333333_CloudTrail_us-east-1_20250306T0320Z_ZgdYr0lP8M9fWEH8.json.gz")[0],
			Facts{EventName: "Decrypt", EventSource: "kms.amazonaws.com", Principal: "cloudfront.amazonaws.com", PrincipalType: "AWSService", SourceIP: "cloudfront.amazonaws.com", UserAgent: "cloudfront.amazonaws.com"}},
		{"datadog export", fileEvents(t, "zmallen_aws.defense-evasion.cloudtrail-delete.json")[0],
			Facts{EventName: "DeleteTrail", SourceIP: "62.167.105.104", UserAgent: "stratus-red-team_40d78cfa-a3da-48c3-9936-71c75ce30eab", MFA: "Yes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.e.Facts()
			// Compare the fields the case names; zero fields are not checked.
			check := func(field, got, want string) {
				if want != "" && got != want {
					t.Errorf("%s = %q, want %q", field, got, want)
				}
			}
			w := tt.want
			check("EventName", got.EventName, w.EventName)
			check("EventSource", got.EventSource, w.EventSource)
			check("Principal", got.Principal, w.Principal)
			check("PrincipalType", got.PrincipalType, w.PrincipalType)
			check("PrincipalARN", got.PrincipalARN, w.PrincipalARN)
			check("AccessKeyID", got.AccessKeyID, w.AccessKeyID)
			check("SourceIP", got.SourceIP, w.SourceIP)
			check("UserAgent", got.UserAgent, w.UserAgent)
			check("ErrorCode", got.ErrorCode, w.ErrorCode)
			check("ErrorMessage", got.ErrorMessage, w.ErrorMessage)
			check("Outcome", got.Outcome, w.Outcome)
			if got.MFA != w.MFA {
				t.Errorf("MFA = %q, want %q", got.MFA, w.MFA)
			}
		})
	}
}

func principalIDOf(t *testing.T, rec json.RawMessage) string {
	var r struct{ UserIdentity struct{ PrincipalID string } }
	if err := json.Unmarshal(rec, &r); err != nil || r.UserIdentity.PrincipalID == "" {
		t.Fatalf("no principalId: %v", err)
	}
	return r.UserIdentity.PrincipalID
}

// fedName is the name after federated-user/ in the event's ARN.
func fedName(e *Event) string {
	var r struct{ UserIdentity struct{ ARN string } }
	_ = json.Unmarshal(e.Record, &r)
	const p = ":federated-user/"
	for i := 0; i+len(p) <= len(r.UserIdentity.ARN); i++ {
		if r.UserIdentity.ARN[i:i+len(p)] == p {
			return r.UserIdentity.ARN[i+len(p):]
		}
	}
	return "?"
}

func TestFactsOddTypes(t *testing.T) {
	// Fields of unexpected types do not hide the rest.
	e, err := FromRecord([]byte(`{"eventTime":"2020-01-01T00:00:00Z","eventName":"X","sourceIPAddress":42,"userIdentity":{"type":"IAMUser","userName":"bob","sessionContext":{"attributes":{"mfaAuthenticated":true}}},"additionalEventData":null,"responseElements":"oops"}`))
	if err != nil {
		t.Fatal(err)
	}
	f := e.Facts()
	if f.EventName != "X" || f.Principal != "bob" || f.MFA != "Yes" || f.SourceIP != "" {
		t.Errorf("got %+v", f)
	}
	noRecord := &Event{Source: "aws.ec2", EventName: ""}
	if f := noRecord.Facts(); f.EventSource != "aws.ec2" {
		t.Errorf("got %+v", f)
	}
}

func TestLookup(t *testing.T) {
	b := []byte(`{"a":{"b":[1,2],"c":{"d":"x\"y"},"c":{"d":"last"}},"e":null, "f" : { "g" : true } }`)
	cases := []struct {
		path []string
		want string
		ok   bool
	}{
		{[]string{"a", "b"}, `[1,2]`, true},
		{[]string{"a", "c", "d"}, `"last"`, true},
		{[]string{"e"}, `null`, true},
		{[]string{"f", "g"}, `true`, true},
		{[]string{"a", "b", "0"}, ``, false},
		{[]string{"x"}, ``, false},
		{[]string{"e", "x"}, ``, false},
		{nil, string(b), true},
	}
	for _, c := range cases {
		got, ok := Lookup(b, c.path...)
		if ok != c.ok || string(got) != c.want {
			t.Errorf("Lookup(%q) = %s, %v; want %s, %v", c.path, got, ok, c.want, c.ok)
		}
	}
}
