package rule

import (
	"bufio"
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/trailwatch/trailwatch/internal/event"
)

// pantherRules maps a panther-analysis rule to the built-in rule that
// detects the same thing.
var pantherRules = map[string]string{
	"AWS.Console.RootLogin":               "root-console-signin",
	"AWS.Console.RootLoginFailed":         "root-console-signin-failure",
	"AWS.Console.LoginWithoutMFA":         "console-signin-without-mfa",
	"AWS.IAM.PolicyModified":              "iam-policy-change",
	"AWS.CloudTrail.Stopped":              "cloudtrail-config-change",
	"AWS.CloudTrail.Created":              "cloudtrail-config-change",
	"AWS.EC2.SecurityGroupModified":       "security-group-change",
	"AWS.EC2.NetworkACLModified":          "nacl-change",
	"AWS.EC2.GatewayModified":             "network-gateway-change",
	"AWS.EC2.RouteTableModified":          "route-table-change",
	"AWS.EC2.VPCModified":                 "vpc-change",
	"AWS.KMS.CustomerManagedKeyLoss":      "kms-key-disabled-or-deleted",
	"AWS.S3.BucketPolicyModified":         "s3-bucket-policy-change",
	"AWS.ConfigService.DisabledDeleted":   "config-change",
	"AWS.CloudTrail.UnauthorizedAPICall":  "unauthorized-api-call",
	"AWS.CloudTrail.RootAccessKeyCreated": "root-access-key-created",
	"AWS.Root.Activity":                   "root-account-usage",
	"AWS.CloudTrail.AttemptToLeaveOrg":    "organizations-change",
}

// pantherDifferences are the labelled events on which our rule and
// Panther's disagree on purpose: Panther rule, test name -> reason.
var pantherDifferences = map[[2]string]string{
	{"AWS.CloudTrail.Created", "Error Creating CloudTrail"}:                     errorsCount,
	{"AWS.CloudTrail.Stopped", "Error Stopping CloudTrail"}:                     errorsCount,
	{"AWS.ConfigService.DisabledDeleted", "Error Deleting Config Recorder"}:     errorsCount,
	{"AWS.EC2.GatewayModified", "Error Modifying Network Gateway"}:              errorsCount,
	{"AWS.EC2.NetworkACLModified", "Error Modifying Network ACL"}:               errorsCount,
	{"AWS.EC2.RouteTableModified", "Error Modifying Route Table"}:               errorsCount,
	{"AWS.EC2.SecurityGroupModified", "Error Mofidying Security Group"}:         errorsCount,
	{"AWS.EC2.VPCModified", "Error Modifying VPC"}:                              errorsCount,
	{"AWS.IAM.PolicyModified", "IAM Policy Change Error"}:                       errorsCount,
	{"AWS.KMS.CustomerManagedKeyLoss", "KMS Disable Key Error"}:                 errorsCount,
	{"AWS.S3.BucketPolicyModified", "S3 Bucket Policy Modified Error Response"}: errorsCount,
	{"AWS.ConfigService.DisabledDeleted", "Config Recorder Delivery Channel Created"}: "CIS 4.9 / CloudWatch.9 lists PutDeliveryChannel " +
		"(a changed delivery channel can redirect or drop Config data); Panther alerts only on disabling and deleting",
	{"AWS.Console.LoginWithoutMFA", "No MFA Login - Root User"}: "CIS 4.2 / CloudWatch.3 is about IAM users (userIdentity.type IAMUser); " +
		"a root sign-in is root-console-signin (critical), with or without MFA",
	{"AWS.Console.LoginWithoutMFA", "No MFA Login - New User"}: "Panther suppresses users created within the last day through its " +
		"key-value store; a stateless event pattern cannot, and a new user signing in without MFA is still worth an alert",
	{"AWS.Root.Activity", "Root Activity - CreateServiceLinkedRole"}: "CIS 4.3 / CloudWatch.1 counts every root action not invoked by a " +
		"service; Panther excludes CreateServiceLinkedRole as benign",
	{"AWS.Root.Activity", "Root Read-Only Enumeration"}: "CIS 4.3 / CloudWatch.1 counts read-only root calls too (the metric filter sees " +
		"every record; include_read_only: true); Panther ignores read-only root calls",
	{"AWS.Root.Activity", "Root User Failed Activity"}: "a failed root sign-in step (ExternalIdPDirectoryLogin Failure): CIS 4.3 / " +
		"CloudWatch.1 counts it, and an attempt on the root user is worth an alert; Panther ignores failed root activity",
	{"AWS.CloudTrail.UnauthorizedAPICall", "Unauthorized API Call from Within AWS (FQDN)"}: "CIS 4.1 / CloudWatch.2 counts every " +
		"*UnauthorizedOperation/AccessDenied* error; Panther drops those whose sourceIPAddress is an AWS service name",
}

// errorsCount is the reason for the most common difference.
const errorsCount = "CIS metric filters (and so our CIS rules) count failed calls too: an attempt to weaken logging or " +
	"the network is worth an alert even when it fails; Panther ignores events with an errorCode"

type pantherCase struct {
	Rule     string          `json:"rule"`
	Expected bool            `json:"expected"`
	TestName string          `json:"test_name"`
	Event    json.RawMessage `json:"event"`
}

// TestPantherAgreement checks the built-in rules against panther-analysis's
// labelled unit-test events for the same detections: each verdict must
// agree with Panther's expected value, except the documented differences.
func TestPantherAgreement(t *testing.T) {
	t.Parallel()
	rs, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Rule{}
	for _, r := range rs {
		byName[r.Name] = r
	}
	f, err := os.Open("testdata/panther_labeled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var total, agree, documented int
	used := map[[2]string]bool{}
	perRule := map[string][2]int{}
	for sc.Scan() {
		var c pantherCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		name, ok := pantherRules[c.Rule]
		if !ok {
			continue
		}
		r := byName[name]
		if r == nil {
			t.Fatalf("no built-in rule %s", name)
		}
		// Some of Panther's events have no eventTime, or "redacted": they
		// are events all the same.
		ev, err := event.FromRecord(c.Event)
		if err != nil {
			t.Errorf("%s %q: %v", c.Rule, c.TestName, err)
			continue
		}
		got, err := r.Matches(ev)
		if err != nil {
			t.Errorf("%s %q: %v", c.Rule, c.TestName, err)
			continue
		}
		total++
		pr := perRule[c.Rule]
		pr[1]++
		key := [2]string{c.Rule, c.TestName}
		reason, isDoc := pantherDifferences[key]
		switch {
		case got == c.Expected && isDoc:
			t.Errorf("%s %q: documented difference no longer differs (%s)", c.Rule, c.TestName, reason)
			agree++
			pr[0]++
		case got == c.Expected:
			agree++
			pr[0]++
		case isDoc:
			documented++
			used[key] = true
		default:
			t.Errorf("%s %q: Panther expects %t, %s gives %t", c.Rule, c.TestName, c.Expected, name, got)
		}
		perRule[c.Rule] = pr
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for k := range pantherDifferences {
		if !used[k] {
			t.Errorf("documented difference %v not seen", k)
		}
	}
	var names []string
	for n := range perRule {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("%-40s %-30s %d/%d", n, pantherRules[n], perRule[n][0], perRule[n][1])
	}
	t.Logf("agreement with panther-analysis: %d/%d events agree, %d documented differences", agree, total, documented)
}
