package filterpattern

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

type cisControl struct {
	ID         string `json:"id"`
	Pattern    string `json:"pattern"`
	Alternates []struct {
		Pattern string `json:"pattern"`
		Source  string `json:"source"`
	} `json:"alternate_patterns"`
}

func loadCIS(tb testing.TB) []cisControl {
	tb.Helper()
	data, err := os.ReadFile("testdata/cis_filters.json")
	if err != nil {
		tb.Fatal(err)
	}
	var cs []cisControl
	if err := json.Unmarshal(data, &cs); err != nil {
		tb.Fatal(err)
	}
	if len(cs) != 15 {
		tb.Fatalf("%d CIS controls, want 15", len(cs))
	}
	return cs
}

// rec builds a minimal CloudTrail record.
func rec(fields string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012","userName":"alice"},"eventTime":"2024-05-01T12:00:00Z","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0","requestParameters":null,"responseElements":null,"requestID":"r-1","eventID":"e-1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012"` + fields + `}`
}

func api(source, name string) string {
	return rec(fmt.Sprintf(`,"eventSource":%q,"eventName":%q`, source, name))
}

// Hand-written records for the controls that are not lists of eventNames
// (specs.md §2, "Minimal CloudTrail test records per control").
var cisSpecial = map[string]struct{ yes, no []string }{
	"CloudWatch.1": {
		yes: []string{
			`{"userIdentity":{"type":"Root","principalId":"123456789012","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012"},"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventType":"AwsApiCall"}`,
		},
		no: []string{
			`{"userIdentity":{"type":"Root","invokedBy":"support.amazonaws.com"},"eventName":"ListBuckets","eventType":"AwsApiCall"}`,
			`{"userIdentity":{"type":"Root"},"eventName":"ListBuckets","eventType":"AwsServiceEvent"}`,
			api("s3.amazonaws.com", "ListBuckets"),
		},
	},
	"CloudWatch.2": {
		yes: []string{
			rec(`,"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","errorCode":"Client.UnauthorizedOperation","errorMessage":"You are not authorized"`),
			rec(`,"eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"AccessDenied","errorMessage":"Access Denied"`),
			rec(`,"eventSource":"iam.amazonaws.com","eventName":"ListUsers","errorCode":"AccessDeniedException"`),
		},
		no: []string{
			rec(`,"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","errorCode":"Client.InvalidParameterValue"`),
			rec(`,"eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"NoSuchKey"`),
		},
	},
	"CloudWatch.3": {
		yes: []string{
			rec(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/","MobileVersion":"No","MFAUsed":"No"}`),
		},
		no: []string{
			rec(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MobileVersion":"No","MFAUsed":"Yes"}`),
			`{"userIdentity":{"type":"Root"},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"}}`,
			rec(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"}`),
		},
	},
	"CloudWatch.6": {
		yes: []string{
			rec(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"}`),
		},
		no: []string{
			rec(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","errorMessage":"No username found in supplied account","responseElements":{"ConsoleLogin":"Failure"}`),
			rec(`,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"}`),
		},
	},
}

var (
	reEventName   = regexp.MustCompile(`\$\.eventName\s*=\s*"?([A-Za-z]+)"?`)
	reEventSource = regexp.MustCompile(`\$\.eventSource\s*=\s*"?([a-z0-9.]+)"?`)
)

// cisRecords returns records that must and must not match a control's
// published pattern.
func cisRecords(c cisControl) (yes, no []string) {
	if s, ok := cisSpecial[c.ID]; ok {
		return s.yes, s.no
	}
	source := "ec2.amazonaws.com"
	gated := false
	if m := reEventSource.FindStringSubmatch(c.Pattern); m != nil {
		source, gated = m[1], true
	}
	for _, m := range reEventName.FindAllStringSubmatch(c.Pattern, -1) {
		yes = append(yes, api(source, m[1]))
		no = append(no, api(source, m[1]+"X"), api(source, "Get"+m[1]))
		if gated {
			no = append(no, api("sts.amazonaws.com", m[1]))
		}
	}
	no = append(no, api(source, "DescribeInstances"), `{"eventName":"`+strings.ToLower(yes[0][strings.Index(yes[0], `"eventName":"`)+13:][:4])+`"}`)
	return yes, no
}

func TestCIS(t *testing.T) {
	t.Parallel()
	for _, c := range loadCIS(t) {
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(c.Pattern)
			if err != nil {
				t.Fatalf("published pattern: %v", err)
			}
			if p.Kind() != JSON {
				t.Fatalf("kind %v", p.Kind())
			}
			yes, no := cisRecords(c)
			if len(yes) == 0 || len(no) == 0 {
				t.Fatal("no test records")
			}
			for _, r := range yes {
				if !p.Matches([]byte(r)) {
					t.Errorf("does not match %s", r)
				}
			}
			for _, r := range no {
				if p.Matches([]byte(r)) {
					t.Errorf("matches near miss %s", r)
				}
			}
			// Every variant parses and matches the control's records.
			for _, a := range c.Alternates {
				q, err := Parse(a.Pattern)
				if err != nil {
					t.Errorf("variant %s (%s): %v", a.Pattern, a.Source, err)
					continue
				}
				for _, r := range yes {
					if !q.Matches([]byte(r)) {
						t.Errorf("variant %s does not match %s", a.Pattern, r)
					}
				}
			}
		})
	}
}

// TestCISDefects pins down how the defective variants behave (cis_filters.json notes).
func TestCISDefects(t *testing.T) {
	t.Parallel()
	// CIS 1.4 4.1: ORed != clauses match nearly every event.
	p := MustParse(`{ ($.errorCode = *UnauthorizedOperation) || ($.errorCode = AccessDenied*) || ($.sourceIPAddress!=delivery.logs.amazonaws.com) || ($.eventName!=HeadBucket) }`)
	if !p.Matches([]byte(api("ec2.amazonaws.com", "DescribeInstances"))) {
		t.Error("CIS 1.4 4.1 text should match an ordinary call")
	}
	// CIS 5.0 4.1: A || (B && C && D).
	p = MustParse(`{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) && ($.sourceIPAddress!=delivery.logs.amazonaws.com) && ($.eventName!=HeadBucket) }`)
	if !p.Matches([]byte(rec(`,"eventName":"HeadBucket","errorCode":"Client.UnauthorizedOperation"`))) {
		t.Error("CIS 5.0 4.1: first clause alone should match")
	}
	if p.Matches([]byte(rec(`,"eventName":"HeadBucket","errorCode":"AccessDenied"`))) {
		t.Error("CIS 5.0 4.1: AccessDenied on HeadBucket should not match")
	}
	// CIS 3.0 4.13: only CreateRoute is gated by eventSource.
	p = MustParse(`{($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable)}`)
	if !p.Matches([]byte(api("other.amazonaws.com", "CreateRouteTable"))) || p.Matches([]byte(api("other.amazonaws.com", "CreateRoute"))) {
		t.Error("CIS 3.0 4.13 precedence")
	}
}

const realDir = "../../shared/data/cloudtrail/real"

// loadRealRecords reads every CloudTrail record under shared/data (S3 log
// files, JSON arrays, single records, JSON lines; gzip or not) as the
// compact JSON a CloudTrail log group holds.
func loadRealRecords(tb testing.TB) [][]byte {
	tb.Helper()
	if _, err := os.Stat(realDir); err != nil {
		tb.Skipf("no CloudTrail data: %v", err)
	}
	var paths []string
	filepath.WalkDir(realDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".md") && !strings.HasSuffix(p, ".tsv") {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	var out [][]byte
	add := func(raw json.RawMessage) {
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil && bytes.Contains(raw, []byte(`"eventName"`)) {
			out = append(out, buf.Bytes())
		}
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		var r io.Reader = f
		if strings.HasSuffix(p, ".gz") {
			if r, err = gzip.NewReader(f); err != nil {
				f.Close()
				continue
			}
		}
		dec := json.NewDecoder(r)
		for {
			var v json.RawMessage
			if dec.Decode(&v) != nil {
				break
			}
			v = bytes.TrimSpace(v)
			switch {
			case len(v) > 0 && v[0] == '[':
				var list []json.RawMessage
				if json.Unmarshal(v, &list) == nil {
					for _, e := range list {
						add(e)
					}
				}
			case bytes.Contains(v, []byte(`"Records"`)):
				var file struct{ Records []json.RawMessage }
				if json.Unmarshal(v, &file) == nil && file.Records != nil {
					for _, e := range file.Records {
						add(e)
					}
				} else {
					add(v)
				}
			default:
				add(v)
			}
		}
		f.Close()
	}
	if len(out) == 0 {
		tb.Skip("no CloudTrail records")
	}
	return out
}

// TestCISRealRecords runs the 15 published patterns over the real records
// and checks them against an independent evaluation with encoding/json.
func TestCISRealRecords(t *testing.T) {
	t.Parallel()
	records := loadRealRecords(t)
	ctrls := loadCIS(t)
	total := 0
	for _, c := range ctrls {
		p := MustParse(c.Pattern)
		n := 0
		for _, r := range records {
			got := p.Matches(r)
			if want := refCIS(t, c.ID, r); got != want {
				t.Errorf("%s: got %v, reference %v for %s", c.ID, got, want, r)
			}
			if got {
				n++
			}
		}
		total += n
		t.Logf("%-14s %4d of %d records", c.ID, n, len(records))
	}
	if total == 0 {
		t.Error("no real record matched any CIS pattern")
	}
}

// refCIS is a reference evaluation of the CIS controls over a decoded record.
func refCIS(t *testing.T, id string, raw []byte) bool {
	var r map[string]any
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	get := func(path ...string) (string, bool) {
		var v any = r
		for _, k := range path {
			m, ok := v.(map[string]any)
			if !ok {
				return "", false
			}
			if v, ok = m[k]; !ok {
				return "", false
			}
		}
		s, ok := v.(string)
		return s, ok
	}
	eq := func(want string, path ...string) bool { s, ok := get(path...); return ok && s == want }
	name, _ := get("eventName")
	in := func(names ...string) bool {
		for _, n := range names {
			if name == n {
				return true
			}
		}
		return false
	}
	src, _ := get("eventSource")
	switch id {
	case "CloudWatch.1":
		_, invoked := func() (any, bool) {
			u, _ := r["userIdentity"].(map[string]any)
			v, ok := u["invokedBy"]
			return v, ok
		}()
		et, ok := get("eventType")
		return eq("Root", "userIdentity", "type") && !invoked && ok && et != "AwsServiceEvent"
	case "CloudWatch.2":
		ec, _ := get("errorCode")
		return strings.HasSuffix(ec, "UnauthorizedOperation") || strings.HasPrefix(ec, "AccessDenied")
	case "CloudWatch.3":
		mfa, ok := get("additionalEventData", "MFAUsed")
		return name == "ConsoleLogin" && ok && mfa != "Yes" && eq("IAMUser", "userIdentity", "type") && eq("Success", "responseElements", "ConsoleLogin")
	case "CloudWatch.4":
		return in("DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy")
	case "CloudWatch.5":
		return in("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging")
	case "CloudWatch.6":
		return name == "ConsoleLogin" && eq("Failed authentication", "errorMessage")
	case "CloudWatch.7":
		return src == "kms.amazonaws.com" && in("DisableKey", "ScheduleKeyDeletion")
	case "CloudWatch.8":
		return src == "s3.amazonaws.com" && in("PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication")
	case "CloudWatch.9":
		return src == "config.amazonaws.com" && in("StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder")
	case "CloudWatch.10":
		return in("AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup")
	case "CloudWatch.11":
		return in("CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation")
	case "CloudWatch.12":
		return in("CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway")
	case "CloudWatch.13":
		return in("CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable")
	case "CloudWatch.14":
		return in("CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink")
	}
	return src == "organizations.amazonaws.com" && in("AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount", "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit")
}

// BenchmarkCIS runs the 14 Security Hub CIS filters (CloudWatch.1-14) over
// the real CloudTrail records, each record tested against every filter.
func BenchmarkCIS(b *testing.B) {
	records := loadRealRecords(b)
	var ps []*Pattern
	for _, c := range loadCIS(b) {
		if strings.HasPrefix(c.ID, "CloudWatch.") {
			ps = append(ps, MustParse(c.Pattern))
		}
	}
	size := 0
	for _, r := range records {
		size += len(r)
	}
	b.SetBytes(int64(size / len(records)))
	b.ReportAllocs()
	b.ResetTimer()
	matches := 0
	for i := 0; i < b.N; i++ {
		r := records[i%len(records)]
		for _, p := range ps {
			if p.Matches(r) {
				matches++
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	_ = matches
}

// BenchmarkCISStdlib is the baseline: unmarshal each record once with
// encoding/json, as a naive implementation would.
func BenchmarkCISStdlib(b *testing.B) {
	records := loadRealRecords(b)
	size := 0
	for _, r := range records {
		size += len(r)
	}
	b.SetBytes(int64(size / len(records)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var v map[string]any
		json.Unmarshal(records[i%len(records)], &v)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkCISSet runs the same 14 filters as one Set: one scan per record.
func BenchmarkCISSet(b *testing.B) {
	records := loadRealRecords(b)
	var ps []*Pattern
	for _, c := range loadCIS(b) {
		if strings.HasPrefix(c.ID, "CloudWatch.") {
			ps = append(ps, MustParse(c.Pattern))
		}
	}
	set := NewSet(ps...)
	size := 0
	for _, r := range records {
		size += len(r)
	}
	b.SetBytes(int64(size / len(records)))
	b.ReportAllocs()
	b.ResetTimer()
	var dst []int
	for i := 0; i < b.N; i++ {
		dst = set.Match(records[i%len(records)], dst[:0])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// TestSetAgrees checks that a Set reports exactly what each pattern does.
func TestSetAgrees(t *testing.T) {
	t.Parallel()
	records := loadRealRecords(t)
	var ps []*Pattern
	for _, c := range loadCIS(t) {
		ps = append(ps, MustParse(c.Pattern))
		for _, a := range c.Alternates {
			ps = append(ps, MustParse(a.Pattern))
		}
	}
	ps = append(ps, MustParse(`ConsoleLogin`), MustParse(`{ $.userIdentity.* = %^AIDA% }`), MustParse(``), MustParse(`[a, ...]`))
	set := NewSet(ps...)
	var dst []int
	for _, r := range records {
		dst = set.Match(r, dst[:0])
		var want []int
		for i, p := range ps {
			if p.Matches(r) {
				want = append(want, i)
			}
		}
		if fmt.Sprint(dst) != fmt.Sprint(want) {
			t.Fatalf("set %v, patterns %v for %s", dst, want, r)
		}
	}
}
